"""Locating a transition in per-temperature curves: crossings, peaks, and group means with their bootstrap.

The curves are means over samples grouped by temperature, e.g. a classifier's mean ordered-phase probability
``P(T)`` (crossing 1/2 at the network's estimate of T_c), a difference of Binder cumulants (crossing 0), or a
fluctuation that peaks near T_c. :func:`local_crossing` and :func:`local_peak` locate a crossing or a peak by a
low-order polynomial fitted to several grid points around it, which averages the noise of the points (linear
interpolation between the two points that bracket a crossing uses only those two, and a noisy curve can cross
several times); the fitted polynomial also gives the slope at the crossing, which finite-size scaling needs.
:func:`group_means` gives the per-temperature means of samples; :func:`bootstrap_group_means` their bootstrap
replicates, resampling the samples of each temperature with replacement (temperatures are independent Monte
Carlo runs, and the samples of one temperature are decorrelated by the sampler).

Conventions: temperatures ``T`` in units of J/k_B, sorted increasingly; ``groups`` maps every sample to the
index of its temperature in ``T``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def _check_groups(groups, n_groups: int, n_samples: int) -> np.ndarray:
    groups = np.asarray(groups)
    if groups.shape != (n_samples,) or not np.issubdtype(groups.dtype, np.integer):
        raise ValueError(f"The 'groups' parameter must be an integer array of shape ({n_samples},). "
                         f"Got dtype {groups.dtype} and shape {groups.shape} instead.")
    counts = np.bincount(groups, minlength=n_groups) if groups.size else np.zeros(n_groups, int)
    if groups.size and (groups.min() < 0 or groups.max() >= n_groups):
        raise ValueError(f"The 'groups' parameter must hold indices in [0, {n_groups}). "
                         f"Got values in [{groups.min()}, {groups.max()}] instead.")
    if np.any(counts == 0):
        raise ValueError(f"Every temperature needs at least one sample; temperature index "
                         f"{int(np.flatnonzero(counts == 0)[0])} has none.")
    return groups


def group_means(values, groups, n_groups: int) -> np.ndarray:
    """Mean of ``values`` over the samples of each group.

    Parameters
    ----------
    values : ndarray
        Shape (n,) or (n_series, n).
        The samples (one series per row).
    groups : int ndarray
        Shape (n,).
        The group of each sample, in [0, n_groups); every group must have a sample.
    n_groups : int
        The number of groups.

    Returns
    -------
    ndarray
        Shape (n_groups,) or (n_series, n_groups).
        The mean of each group.
    """
    values = np.asarray(values, dtype=np.float64)
    groups = _check_groups(groups, n_groups, values.shape[-1])
    counts = np.bincount(groups, minlength=n_groups)
    sums = np.stack([np.bincount(groups, weights=row, minlength=n_groups) for row in np.atleast_2d(values)])
    means = sums / counts
    return means[0] if values.ndim == 1 else means


def bootstrap_group_means(values, groups, n_groups: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap replicates of :func:`group_means`: the samples of each group resampled with replacement.

    Every series is resampled with the same draws, so functions of several series (a Binder cumulant from
    m² and m⁴, the mean over models of their outputs on the same samples) stay consistent.

    Parameters
    ----------
    values : array_like
        Per-sample values, shape (n_series, n) (or (n,): one series).
    groups : array_like of int
        Group index of every sample, shape (n,), in [0, n_groups).
    n_groups : int
        Number of groups.
    n_boot : int
        Number of bootstrap replicates, >= 1.
    rng : numpy.random.Generator
        Draws the resamples.

    Returns
    -------
    ndarray
        Shape (n_boot, n_series, n_groups).

    Raises
    ------
    ValueError
        If ``n_boot`` < 1 or ``groups`` does not fit.
    """
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    groups = _check_groups(groups, n_groups, values.shape[1])
    if n_boot < 1:
        raise ValueError(f"The 'n_boot' parameter must be an int >= 1. Got {n_boot!r} instead.")
    replicates = np.empty((n_boot, values.shape[0], n_groups))
    for g in range(n_groups):
        members = np.flatnonzero(groups == g)
        counts = rng.multinomial(members.size, np.full(members.size, 1.0 / members.size), size=n_boot)
        replicates[:, :, g] = counts @ values[:, members].T / members.size
    return replicates


def _check_curve(T, y, sigma, n_points: int, degree: int, name: str = "y"):
    """Validated float arrays ``T`` (increasing), ``y`` and ``sigma`` (or None) for the local fits."""
    T, y = np.asarray(T, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if T.ndim != 1 or y.shape != T.shape or np.any(np.diff(T) <= 0) or not np.all(np.isfinite(T)):
        raise ValueError(f"The 'T' parameter must be a finite, strictly increasing 1-D array with one entry per "
                         f"point of '{name}'. Got T of shape {T.shape} and {name} of shape {y.shape} instead.")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"The '{name}' parameter must be finite. Got {int(np.sum(~np.isfinite(y)))} non-finite "
                         f"values instead.")
    if not (isinstance(degree, (int, np.integer)) and degree >= 1):
        raise ValueError(f"The 'degree' parameter must be an int >= 1. Got {degree!r} instead.")
    if not (isinstance(n_points, (int, np.integer)) and n_points >= degree + 1):
        raise ValueError(f"The 'n_points' parameter must be an int >= degree + 1 = {degree + 1}. "
                         f"Got {n_points!r} instead.")
    if T.size < degree + 1:
        raise ValueError(f"The 'T' parameter must hold at least degree + 1 = {degree + 1} points for a polynomial "
                         f"of degree {degree}. Got {T.size} instead.")
    if sigma is not None:
        sigma = np.broadcast_to(np.asarray(sigma, dtype=np.float64), T.shape)
        if not (np.all(np.isfinite(sigma)) and np.all(sigma > 0)):
            raise ValueError(f"The 'sigma' parameter must be finite and > 0 at every point. "
                             f"Got values in [{sigma.min()}, {sigma.max()}] instead.")
    return T, y, sigma


def _window(T: np.ndarray, centre: float, n_points: int) -> slice:
    """The ``n_points`` consecutive grid points nearest to ``centre`` (all of them when there are fewer)."""
    if T.size <= n_points:
        return slice(0, T.size)
    nearest = np.argsort(np.abs(T - centre), kind="stable")[:n_points]
    return slice(int(nearest.min()), int(nearest.max()) + 1)


def _fit(T, y, sigma, window: slice, degree: int) -> np.polynomial.Polynomial:
    weights = None if sigma is None else 1.0 / sigma[window]
    return np.polynomial.Polynomial.fit(T[window], y[window], degree, w=weights)


def _real_roots(polynomial: np.polynomial.Polynomial, low: float, high: float) -> np.ndarray:
    """Real roots of ``polynomial`` inside [low, high]."""
    roots = polynomial.roots()
    tolerance = 1e-7 * (high - low)
    real = roots.real[np.abs(roots.imag) <= tolerance]
    return real[(real >= low - tolerance) & (real <= high + tolerance)]


@dataclass(frozen=True)
class Crossing:
    """Where a curve crosses a level, from a local polynomial fit.

    Parameters
    ----------
    temperature : float
        The crossing (J/k_B); NaN when there is none.
    slope : float
        ``dy/dT`` of the fitted polynomial at the crossing (units of y per J/k_B); NaN when there is none.
    n_sign_changes : int
        How often the raw curve (the grid points themselves) changes sides of the level; more than one means noise
        (or a curve that is not monotonic) near the crossing.
    ok : bool
        Whether a crossing was found.
    reason : str
        Why not, when ``ok`` is False; empty otherwise.
    window : tuple of float
        First and last temperature of the grid points the polynomial was fitted to (NaN, NaN when none was).
    """

    temperature: float
    slope: float
    n_sign_changes: int
    ok: bool
    reason: str = ""
    window: tuple = (float("nan"), float("nan"))


def local_crossing(T, y, level: float = 0.5, *, sigma=None, n_points: int = 8, degree: int = 3) -> Crossing:
    """Where ``y(T)`` crosses ``level``, from a polynomial fitted to the grid points around the crossing.

    The sign changes of ``y - level`` between neighbouring grid points bracket the crossing; with noise there can
    be several, and the window is then centred on the middle of them (half-way between the first grid point of
    the first bracket and the last grid point of the last). A polynomial of ``degree`` is fitted by (weighted)
    least squares (:meth:`numpy.polynomial.Polynomial.fit`) to the ``n_points`` grid points nearest to that
    centre, and the crossing is its real root inside the window nearest to the centre. Its derivative there is
    the slope.

    Parameters
    ----------
    T : array_like
        Shape (n_T,).
        Temperatures (J/k_B), strictly increasing.
    y : array_like
        Shape (n_T,).
        The curve, finite at every temperature.
    level : float, default 0.5
        The level crossed (1/2 for a classifier's mean output).
    sigma : array_like or float or None, default None
        Shape (n_T,) if an array.
        Standard errors of ``y`` (> 0); the fit weighs each point by ``1 / sigma``. None: equal weights.
    n_points : int, default 8
        Grid points in the window (at least ``degree + 1``; all of them when the grid has fewer).
    degree : int, default 3
        Degree of the local polynomial (3: a cubic follows the inflection of a sigmoid at its crossing).

    Returns
    -------
    Crossing
        With ``ok=False`` and a NaN temperature and slope when the grid points never change sides of the level
        (``reason`` "no crossing: the curve stays above/below <level> over [Tmin, Tmax]") or when the fitted
        polynomial has no root inside its window.

    Raises
    ------
    ValueError
        On a ``T`` that is not strictly increasing, non-finite ``y``, a ``sigma`` that is not > 0, or ``n_points``
        and ``degree`` that do not fit each other or the grid.

    Notes
    -----
    The window should span about ±1.5 widths of the sigmoid. For a curve ``F((T - T*) L / w)`` the window spans
    ``n_points * step * L / w`` widths; wider, a cubic cannot follow the sigmoid's saturation and flattens the slope
    (8 points of a 0.02 grid at L = 64, w = 1.6: -8 %, which biases nu from the slopes upwards by ~0.07; a quintic:
    -1.5 %); narrower, the slope is noisy. See tests/transition/test_crossing.py.
    """
    T, y, sigma = _check_curve(T, y, sigma, n_points, degree)
    above = (y - level) > 0
    changes = np.flatnonzero(above[:-1] != above[1:])  # a change between i and i + 1
    n_changes = int(changes.size)
    if n_changes == 0:
        side = "above" if above[0] else "below"
        return Crossing(math.nan, math.nan, 0, False,
                        f"no crossing: the curve stays {side} {level:g} over [{T[0]:g}, {T[-1]:g}]")
    centre = 0.5 * (T[changes[0]] + T[changes[-1] + 1])
    window = _window(T, centre, n_points)
    low, high = float(T[window][0]), float(T[window][-1])
    polynomial = _fit(T, y, sigma, window, degree)
    roots = _real_roots(polynomial - level, low, high)
    if roots.size == 0:
        return Crossing(math.nan, math.nan, n_changes, False,
                        f"no crossing: the degree-{degree} fit over [{low:g}, {high:g}] has no root there",
                        (low, high))
    root = float(np.clip(roots[np.argmin(np.abs(roots - centre))], low, high))
    return Crossing(root, float(polynomial.deriv()(root)), n_changes, True, "", (low, high))


def local_crossings(T, curves, level: float = 0.5, *, sigma=None, n_points: int = 8,
                    degree: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """:func:`local_crossing` of every row of ``curves``.

    Parameters
    ----------
    T : array_like
        Shape (n_T,).
        Temperatures (J/k_B), strictly increasing.
    curves : array_like
        Shape (n_curves, n_T) or (n_T,).
        One curve per row (e.g. per bootstrap replicate or per replica).
    level : float, default 0.5
        The level crossed.
    sigma : array_like or None, default None
        Shape (n_T,) or (n_curves, n_T).
        Standard errors of the points (> 0), shared by every curve or one row per curve; None: equal weights.
    n_points : int, default 8
        Grid points in each local window.
    degree : int, default 3
        Degree of the local polynomial.

    Returns
    -------
    temperatures : ndarray
        Shape (n_curves,).
        Crossing of each curve (J/k_B), NaN where a curve has none.
    slopes : ndarray
        Shape (n_curves,).
        ``dy/dT`` at each crossing, NaN where a curve has none.
    """
    rows = np.atleast_2d(np.asarray(curves, dtype=np.float64))
    if sigma is not None:
        sigma = np.broadcast_to(np.asarray(sigma, dtype=np.float64), rows.shape)
    results = [local_crossing(T, row, level, sigma=None if sigma is None else sigma[k], n_points=n_points,
                              degree=degree) for k, row in enumerate(rows)]
    return (np.array([r.temperature for r in results], dtype=np.float64),
            np.array([r.slope for r in results], dtype=np.float64))


@dataclass(frozen=True)
class Peak:
    """The maximum of a curve, from a local polynomial fit.

    Parameters
    ----------
    temperature : float
        Position of the maximum (J/k_B); NaN when there is none.
    height : float
        The fitted polynomial's value there (units of y); NaN when there is none.
    ok : bool
        Whether a maximum inside the grid was found.
    reason : str
        Why not, when ``ok`` is False; empty otherwise.
    window : tuple of float
        First and last temperature of the grid points fitted (NaN, NaN when none were).
    """

    temperature: float
    height: float
    ok: bool
    reason: str = ""
    window: tuple = (float("nan"), float("nan"))


def local_peak(T, y, *, sigma=None, n_points: int = 5, degree: int = 2) -> Peak:
    """Position of the maximum of ``y(T)`` (a fluctuation peak), by a polynomial fitted around the highest point.

    A parabola (``degree=2``) or a quartic (``degree=4``, for a skewed peak over more points) is fitted by
    (weighted) least squares (:meth:`numpy.polynomial.Polynomial.fit`) to the ``n_points`` grid points nearest to
    the highest one; the peak is the fit's highest local maximum inside that window.

    Parameters
    ----------
    T : array_like
        Shape (n_T,).
        Temperatures (J/k_B), strictly increasing.
    y : array_like
        Shape (n_T,).
        The curve, finite at every temperature.
    sigma : array_like or float or None, default None
        Shape (n_T,) if an array.
        Standard errors of ``y`` (> 0); the fit weighs each point by ``1 / sigma``. None: equal weights.
    n_points : int, default 5
        Grid points in the window (at least ``degree + 1``).
    degree : {2, 4}, default 2
        Degree of the local polynomial (even, so that it can have a single maximum).

    Returns
    -------
    Peak
        With ``ok=False`` (NaN temperature) when the highest grid point is the first or the last one (the peak is
        not bracketed by the grid) or when the fit has no maximum inside its window.

    Raises
    ------
    ValueError
        On a ``T`` that is not strictly increasing, non-finite ``y``, an odd ``degree``, or ``n_points`` that does
        not fit ``degree`` or the grid.
    """
    if degree not in (2, 4):
        raise ValueError(f"The 'degree' parameter must be 2 or 4. Got {degree!r} instead.")
    T, y, sigma = _check_curve(T, y, sigma, n_points, degree)
    top = int(np.argmax(y))
    if top in (0, T.size - 1):
        return Peak(math.nan, math.nan, False,
                    f"no peak: the highest point is at the edge of the grid (T = {T[top]:g})")
    window = _window(T, float(T[top]), n_points)
    low, high = float(T[window][0]), float(T[window][-1])
    polynomial = _fit(T, y, sigma, window, degree)
    stationary = _real_roots(polynomial.deriv(), low, high)
    maxima = stationary[polynomial.deriv(2)(stationary) < 0]
    if maxima.size == 0:
        return Peak(math.nan, math.nan, False,
                    f"no peak: the degree-{degree} fit over [{low:g}, {high:g}] has no maximum there", (low, high))
    best = float(np.clip(maxima[np.argmax(polynomial(maxima))], low, high))
    return Peak(best, float(polynomial(best)), True, "", (low, high))
