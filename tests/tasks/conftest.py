"""Fixtures of the task tests: ``refused``, a config refused at validation fast and without allocating."""
from __future__ import annotations

import time
import tracemalloc

import pytest

from physics.app.schema import ConfigError

#: what validation may take and allocate (Hydra's composition included); a refused run must stay far below
SECONDS, PEAK_BYTES = 15.0, 64e6


@pytest.fixture
def refused(compose_config, monkeypatch):
    """``refused(overrides)`` -> the ConfigError of composing and validating ``overrides``, asserting that it
    came within SECONDS and that validation never allocated more than PEAK_BYTES (tracemalloc counts numpy's
    arrays), under a fixed default memory limit of 4 GB."""
    monkeypatch.setenv("ML4PHYS_MEMORY_LIMIT_GB", "4")

    def _refused(overrides):
        tracemalloc.start()
        start = time.perf_counter()
        try:
            with pytest.raises(ConfigError) as info:
                compose_config(list(overrides))
            seconds, peak = time.perf_counter() - start, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert seconds < SECONDS, f"refused after {seconds:.1f} s"
        assert peak < PEAK_BYTES, f"validation allocated {peak / 1e6:.0f} MB"
        return info.value
    return _refused
