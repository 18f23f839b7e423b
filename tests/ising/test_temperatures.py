"""The one temperature-grid builder of the engine, and the default grid expressed through it."""
import numpy as np
import pytest

from physics.ising.dataset import default_temperatures
from physics.ising.lattice import critical_temperature
from physics.ising.temperatures import temperature_grid, unique_temperatures


@pytest.mark.parametrize("lattice", ["square", "triangular"])
def test_default_temperatures_unchanged(lattice):
    """The 33 values the grid had before it was built by :func:`temperature_grid`, bit for bit."""
    before = np.concatenate([np.arange(1.0, 2.0, 0.125), np.linspace(2.0, 2.5, 17), np.arange(2.625, 3.5001, 0.125)])
    before = before * (critical_temperature(lattice) / critical_temperature("square"))
    grid = default_temperatures(lattice)
    assert grid.shape == (33,) and grid.dtype == np.float64
    np.testing.assert_array_equal(grid, before)


def test_coarse_and_dense_grids_share_points():
    grid = temperature_grid([1.0, 3.5], 0.1, dense_range=[1.9, 2.7], dense_step=0.05)
    assert np.all(np.diff(grid) > 0)
    assert grid[0] == 1.0 and grid[-1] == 3.5
    # 26 coarse points, 17 dense ones of which 9 coincide with coarse points
    assert grid.size == 26 + 17 - 9
    np.testing.assert_array_equal(grid, np.round(grid, 6))


def test_dense_range_clipped_to_the_range():
    grid = temperature_grid([2.0, 3.0], 0.5, dense_range=[1.0, 2.2], dense_step=0.1)
    np.testing.assert_allclose(grid, [2.0, 2.1, 2.2, 2.5, 3.0])


def test_without_dense_range():
    np.testing.assert_allclose(temperature_grid([2.8, 4.6], 0.2), 2.8 + 0.2 * np.arange(10))
    with pytest.raises(ValueError, match="dense_step"):
        temperature_grid([1.0, 2.0], 0.5, dense_range=[1.2, 1.8])


def test_unique_temperatures_rounds_and_sorts():
    np.testing.assert_array_equal(unique_temperatures([3.0, 1.0000000001, 1.0, 2.5]), [1.0, 2.5, 3.0])
