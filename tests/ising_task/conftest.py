"""Tiny configurations of the Ising tasks (L = 8, few temperatures and samples) sharing one Monte Carlo cache."""
import pytest

TINY = [
    "task.L=8", "task.temperature_range=[1.0,3.5]", "task.temperature_step=0.25", "task.dense_range=null",
    "task.n_per_temperature=40", "task.n_seeds=2", "task.n_bootstrap=50", "task.epochs=3", "task.n_jobs=1",
    "task.confusion.n_guesses=7", "task.confusion.n_per_temperature=20", "task.transfer.temperature_step=0.4",
    "task.transfer.n_per_temperature=20", "progress=false",
    "baseline.random_forest.n_estimators=10",
]


@pytest.fixture(scope="session")
def ising_cache(tmp_path_factory):
    """One data folder for every tiny run, so the Monte Carlo of a configuration runs once per session."""
    return tmp_path_factory.mktemp("ising_cache")


@pytest.fixture
def tiny(ising_cache):
    """``tiny(*overrides)`` -> the override list of a tiny ``task=ising`` run with the shared cache."""
    def _overrides(*extra):
        return ["task=ising", *TINY, f"data_dir={ising_cache}", *extra]
    return _overrides
