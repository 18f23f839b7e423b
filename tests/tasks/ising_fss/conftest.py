"""Tiny runs of task=ising_fss: the task's debug settings (``debug=tiny``: L = 4, 6, 8, 12, see ``DEBUG`` in
physics/tasks/ising_fss/config.py) with one Monte Carlo cache per session."""
import pytest


@pytest.fixture(scope="session")
def fss_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("ising_fss_cache")
