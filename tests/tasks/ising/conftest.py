"""Tiny runs of task=ising: the task's debug settings (``debug=tiny``: L = 8, few temperatures and samples, see
``DEBUG`` in physics/tasks/ising/config.py) sharing one Monte Carlo cache."""
import pytest


@pytest.fixture(scope="session")
def ising_cache(tmp_path_factory):
    """One data folder for every tiny run, so the Monte Carlo of a configuration runs once per session."""
    return tmp_path_factory.mktemp("ising_cache")


@pytest.fixture
def tiny(ising_cache):
    """``tiny(*overrides)`` -> the override list of a tiny ``task=ising`` run with the shared cache."""
    def _overrides(*extra):
        return ["debug=tiny", "task=ising", f"data_dir={ising_cache}", *extra]
    return _overrides
