"""Every experiment preset runs (not only composes) with the debug settings."""
from __future__ import annotations

import json

import pytest

from physics.app.config import group_options
from physics.app.runner import run


@pytest.mark.parametrize("preset", sorted(group_options("experiment")))
def test_every_experiment_preset_runs_with_the_debug_settings(debug_config, tmp_path, preset):
    cfg = debug_config([f"experiment={preset}"])
    result = run(cfg, tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["task"] == cfg.task.name and metrics["objective"] == result.objective
