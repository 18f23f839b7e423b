"""Tiny runs of task=ising_generative (``debug=tiny``: L = 4, three temperatures, 64 configurations each, RBMs of 2
and 8 hidden units, 3 epochs; see ``DEBUG`` in physics/tasks/ising_generative/config.py) sharing one Monte Carlo
cache."""
import pytest


@pytest.fixture(scope="session")
def generative_cache(tmp_path_factory):
    """One data folder for every tiny run of this task, so each Monte Carlo set is made once per session."""
    return tmp_path_factory.mktemp("generative_cache")


@pytest.fixture
def generative(generative_cache):
    """``generative(*overrides)`` -> the override list of a tiny ``task=ising_generative`` run with the shared
    cache."""
    def _overrides(*extra):
        return ["debug=tiny", "task=ising_generative", f"data_dir={generative_cache}", *extra]
    return _overrides
