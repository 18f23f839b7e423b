"""Every size of task=ising a user controls is checked against a memory estimate at validation,
before any grid or array is built, and the error names the key that drives the estimate; non-finite
temperatures are refused naming their key (issue 16)."""
import math

import numpy as np
import pytest

from physics.ising.temperatures import temperature_grid
from physics.tasks.ising.config import grid_size_bound


LABELLED = "task.protocol=labelled"


@pytest.mark.parametrize("overrides, key", [
    ([LABELLED, "task.temperature_step=1e-9"], "task.temperature_step"),  # once 18.6 GiB inside validation
    ([LABELLED, "task.dense_step=1e-300"], "task.dense_step"),
    (["task.scan_step=1e-300"], "task.scan_step"),
    (["task.sizes=[16,32,64,262144]"], "task.sizes"),  # the largest size is checked
    ([LABELLED, "task.sizes=[100000]"], "task.sizes"),
    (["task.n_per_temperature=1000000000"], "task.n_per_temperature"),
    (["task.transfer.enabled=true", "task.transfer.scan_step=1e-4", "task.transfer.n_per_temperature=20000"],
     "task.transfer.scan_step"),
    (["task.confusion.enabled=true", "task.confusion.hidden=100000000"], "task.confusion.hidden"),
])
def test_huge_sizes_are_refused_naming_their_key(refused, overrides, key):
    error = refused(["task=ising", *overrides])
    assert error.key == key
    assert "GB" in error.message and "task.memory_limit_gb = 4" in error.message
    assert f"driven by {key} = " in error.message


def test_a_lattice_size_beyond_floats_is_refused(refused):
    assert refused(["task=ising", LABELLED, f"task.sizes=[{10 ** 400}]"]).key == "task.sizes"


def test_augmentation_is_named_only_when_it_drives_the_estimate(refused):
    error = refused(["task=ising", LABELLED, "task.augment=[translate]", "task.n_translations=100000000"])
    assert error.key == "task.n_translations"
    error = refused(["task=ising", LABELLED, "task.augment=[flip,dihedral]", "task.sizes=[100000]"])
    assert error.key == "task.sizes"


@pytest.mark.parametrize("override, key", [
    ("task.temperature_range=[1.0,inf]", "task.temperature_range"),  # once an OverflowError traceback
    ("task.dense_range=[-inf,2.7]", "task.dense_range"),
    ("task.critical_window=[2.0,nan]", "task.critical_window"),
    ("task.temperatures=[1.0,2.0,inf]", "task.temperatures"),
    ("task.transfer.scan_range=[3.5,inf]", "task.transfer.scan_range"),
    ("task.scan_range=[2.2,inf]", "task.scan_range"),
    ("task.sample_temperatures=[1.5,nan]", "task.sample_temperatures"),
])
def test_non_finite_temperatures_are_refused_naming_their_key(refused, override, key):
    error = refused(["task=ising", override])
    assert error.key == key and "(0, inf)" in error.message


def test_pca_components_beyond_the_data(refused):
    assert refused(["task=ising", "task.sizes=[8]", "task.pca.n_components=100"]).key == "task.pca.n_components"


@pytest.mark.parametrize("pair, step", [([1.0, 3.5], 0.1), ([1.9, 2.7], 0.05), ([2.0, 2.5], 0.025), ([0.25, 4.0], 0.25),
                                        ([2.8, 4.6], 0.2), ([1.0, 1.0000004], 1e-7), ([1.0, 2.0], 3.0)])
def test_grid_size_bound_is_an_upper_bound_of_the_grid(pair, step):
    bound = grid_size_bound(pair, step)
    assert temperature_grid(pair, step).size <= bound <= temperature_grid(pair, step).size + 1


def test_grid_size_bound_of_tiny_steps_builds_nothing():
    assert grid_size_bound([1.0, 3.5], 1e-9) == pytest.approx(2.5e6, rel=1e-6)  # the 1e-6 rounding bounds it
    assert grid_size_bound([1.0, 1e300], 1e-300) == math.floor((1e300 - 1.0) * 1e6) + 2.0  # no OverflowError
    assert grid_size_bound([3.0, 1.0], 0.1) == 0.0
    assert np.isfinite(grid_size_bound([1.0, 3.5], 5e-324))
