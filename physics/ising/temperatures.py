"""Temperature grids (units of J/k_B): the one builder used by the engine's default grid and by the tasks.

Values are rounded to 1e-6 and made unique, so that grids from different steps share points exactly (a point
of the coarse grid and the same point of the dense grid are one temperature, one Monte Carlo run, one cache
entry).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

#: decimals kept by :func:`unique_temperatures`
DECIMALS = 6


def unique_temperatures(values) -> np.ndarray:
    """Sorted unique temperatures, float64, rounded to 1e-6.

    Parameters
    ----------
    values : array_like of float
        Temperatures (J/k_B), any shape.

    Returns
    -------
    temperatures : ndarray of float64
        Shape (n,), increasing, rounded to :data:`DECIMALS` decimals.
    """
    return np.unique(np.round(np.asarray(values, dtype=np.float64), DECIMALS))


def uniform_grid(low: float, high: float, step: float) -> np.ndarray:
    """``low, low + step, ...`` up to ``high`` (included when it lies on the grid, within 1e-9 steps).

    Parameters
    ----------
    low : float
        First temperature (J/k_B).
    high : float
        Upper end (J/k_B); empty grid when below ``low``.
    step : float
        Grid spacing (J/k_B), > 0.

    Returns
    -------
    grid : ndarray of float64
        Shape (n,), increasing.
    """
    count = int(np.floor((high - low) / step + 1e-9)) + 1
    return low + step * np.arange(max(count, 0))


def temperature_grid(temperature_range: Sequence[float], step: float, dense_range: Sequence[float] | None = None,
                     dense_step: float | None = None) -> np.ndarray:
    """Sorted unique temperatures: a uniform grid over ``temperature_range = [low, high]`` with ``step``, joined
    with a finer one of ``dense_step`` over ``dense_range`` (clipped to the range; e.g. near T_c).

    Parameters
    ----------
    temperature_range : sequence of float
        ``[low, high]`` of the coarse grid (J/k_B).
    step : float
        Spacing of the coarse grid (J/k_B), > 0.
    dense_range : sequence of float or None
        ``[low, high]`` of the fine grid (J/k_B); None (default): no fine grid.
    dense_step : float or None
        Spacing of the fine grid (J/k_B), > 0; required with ``dense_range``.

    Returns
    -------
    temperatures : ndarray of float64
        Shape (n,), increasing, rounded to 1e-6 (:func:`unique_temperatures`).
    """
    low, high = temperature_range
    grids = [uniform_grid(low, high, step)]
    if dense_range is not None:
        if dense_step is None:
            raise ValueError("The 'dense_step' parameter is required with a 'dense_range'. Got None instead.")
        grids.append(uniform_grid(max(dense_range[0], low), min(dense_range[1], high), dense_step))
    return unique_temperatures(np.concatenate(grids))
