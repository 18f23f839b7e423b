"""Tiny runs of task=dynamics (``debug=tiny``: 300 training windows of 4 steps, 2 x 2 forecasts of half a time unit,
one seed, 2 epochs; see ``DEBUG`` in physics/tasks/dynamics/config.py) sharing one trajectory cache."""
import pytest


@pytest.fixture(scope="session")
def dynamics_cache(tmp_path_factory):
    """One data folder for every tiny run of this task, so each trajectory is simulated once per session."""
    return tmp_path_factory.mktemp("dynamics_cache")


@pytest.fixture
def dynamics(dynamics_cache):
    """``dynamics(*overrides)`` -> the override list of a tiny ``task=dynamics`` run with the shared cache."""
    def _overrides(*extra):
        return ["debug=tiny", "task=dynamics", f"data_dir={dynamics_cache}", *extra]
    return _overrides
