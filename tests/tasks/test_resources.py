"""physics.app.resources: the memory limit, the refusal naming key, estimate and limit, the baselines' growth."""
import math

import pytest

from physics.app import resources
from physics.app.resources import (MemoryLimit, baseline_bytes, check_memory, default_limit, driving_key,
                                   format_bytes, gb_limit, real)
from physics.app.schema import ConfigError


def test_default_limit_is_half_the_machine_or_the_environment(monkeypatch):
    monkeypatch.delenv(resources.LIMIT_VARIABLE, raising=False)
    total = resources.physical_memory()
    assert total is None or default_limit().n_bytes == pytest.approx(0.5 * total)
    monkeypatch.setattr(resources, "physical_memory", lambda: None)
    assert default_limit().n_bytes == resources.FALLBACK_BYTES
    monkeypatch.setenv(resources.LIMIT_VARIABLE, "2.5")
    assert default_limit() == MemoryLimit(2.5e9, "ML4PHYS_MEMORY_LIMIT_GB=2.5")
    for bad in ("lots", "0", "-1", "inf", "nan"):
        monkeypatch.setenv(resources.LIMIT_VARIABLE, bad)
        with pytest.raises(ConfigError, match="positive number of GB"):
            default_limit()


def test_check_memory_names_key_estimate_and_limit():
    check_memory("task.L", 1e9, "the run", gb_limit(4, "task.memory_limit_gb"))  # fits: nothing
    with pytest.raises(ConfigError) as info:
        check_memory("task.L", 5e9, "the run", gb_limit(4, "task.memory_limit_gb"), hint="Lower task.L.")
    assert info.value.key == "task.L"
    assert info.value.message == ("the run would need about 5 GB, more than the memory limit 4 GB "
                                  "(task.memory_limit_gb = 4). Lower task.L.")
    for estimate in (math.inf, math.nan):
        with pytest.raises(ConfigError):
            check_memory("task.L", estimate, "the run", MemoryLimit(1e9, "test"))


def test_helpers():
    assert format_bytes(4.5e8) == "450 MB" and format_bytes(1.4e14) == "1.4e+05 GB" and format_bytes(math.inf)
    assert real(10 ** 400) == math.inf and real(3) == 3.0
    assert driving_key({"a": 1.0, "b": 7.0, "c": 2.0}) == "b"


def test_kernel_methods_grow_quadratically_forests_and_the_rest_linearly():
    kernel = {"_target_": "sklearn.kernel_ridge.KernelRidge"}
    forest = {"_target_": "sklearn.ensemble.RandomForestRegressor", "n_estimators": 100, "min_samples_leaf": 2}
    ridge = {"_target_": "sklearn.linear_model.Ridge"}
    assert baseline_bytes("k", kernel, 2e4, 0, 10) / baseline_bytes("k", kernel, 1e4, 0, 10) == pytest.approx(4, 0.01)
    assert baseline_bytes("f", forest, 2e4, 0, 10) == pytest.approx(2 * baseline_bytes("f", forest, 1e4, 0, 10))
    assert baseline_bytes("f", forest, 1e4, 0, 10) > baseline_bytes("r", ridge, 1e4, 0, 10)
    assert baseline_bytes("r", ridge, 1e4, 0, 10) == 4 * 8 * 1e4 * 10
