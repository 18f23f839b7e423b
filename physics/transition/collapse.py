"""Data collapse of finite-size curves and its quality, after Houdayer & Hartmann.

Near a continuous transition a dimensionless observable of lattices of size L (the mean network output on
block-spin configurations, a Binder cumulant) follows one scaling function,

    y_L(T) = L^zeta F((T - T_c) L^(1/nu)),

with ``zeta = 0`` for a dimensionless quantity. Plotted against ``x = (T - T_c) L^(1/nu)``, the rescaled curves
``y L^(-zeta)`` of all sizes fall on one master curve at the right ``T_c`` and ``nu``, and only there.

The quality of a collapse is measured as by J. Houdayer and A. K. Hartmann, Phys. Rev. B 70, 014418 (2004)
(refining S. Kawashima and N. Ito, J. Phys. Soc. Jpn. 62, 435 (1993)): for every point ``(x_ij, y_ij ± dy_ij)`` of
size ``i``, the master curve is estimated at ``x_ij`` from the other sizes alone. Of each other size ``i'`` the two
points that enclose ``x_ij`` are taken; the weighted (weights ``1/dy^2``) least-squares line through all these
points gives the estimate ``Y_ij`` and its variance ``dY_ij^2`` at ``x_ij``. With one other size this is the linear
interpolation between its two points, with its variance. Then

    S = (1/N) sum_ij (y_ij - Y_ij)^2 / (dy_ij^2 + dY_ij^2),

summed over the N points at which the master curve is defined (enclosed by at least one other size). ``S`` is a
reduced chi^2: about 1 for a collapse within the errors, much larger otherwise.

Temperatures in units of J/k_B. ``curves`` map each linear size L to ``(T, y, dy)``: arrays of shape (n_T,) with
``T`` strictly increasing and ``dy > 0`` the standard errors of ``y``.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import numpy as np
from scipy.optimize import minimize, minimize_scalar

log = logging.getLogger(__name__)

#: exact 2D Ising values, for reporting the quality at them beside the fit
EXACT_2D_ISING = {"tc": 2.0 / math.log(1.0 + math.sqrt(2.0)), "nu": 1.0}


def _check_curves(curves) -> list[tuple[float, np.ndarray, np.ndarray, np.ndarray]]:
    if not isinstance(curves, Mapping) or len(curves) < 2:
        raise ValueError(f"The 'curves' parameter must map at least 2 sizes L to (T, y, dy). "
                         f"Got {type(curves).__name__} with {len(curves) if hasattr(curves, '__len__') else '?'} "
                         f"entries instead.")
    checked = []
    for L, curve in sorted(curves.items()):
        try:
            T, y, dy = (np.asarray(a, dtype=np.float64) for a in curve)
        except (TypeError, ValueError):
            raise ValueError(f"The 'curves' parameter must map each size to three arrays (T, y, dy). "
                             f"Got {type(curve).__name__} for L = {L} instead.") from None
        if not (np.isfinite(L) and L > 0):
            raise ValueError(f"The 'curves' parameter must have positive sizes as keys. Got {L!r} instead.")
        if T.ndim != 1 or T.size < 2 or y.shape != T.shape or dy.shape != T.shape or np.any(np.diff(T) <= 0):
            raise ValueError(f"The 'curves' parameter must hold, for L = {L}, strictly increasing T and y, dy of "
                             f"the same 1-D shape (at least 2 points). Got shapes {T.shape}, {y.shape}, {dy.shape} "
                             f"instead.")
        if not (np.all(np.isfinite(T)) and np.all(np.isfinite(y)) and np.all(np.isfinite(dy)) and np.all(dy > 0)):
            raise ValueError(f"The 'curves' parameter must hold finite T and y and finite dy > 0 for L = {L}. "
                             f"Got dy in [{dy.min()}, {dy.max()}] instead.")
        checked.append((float(L), T, y, dy))
    return checked


def _chi2(data, tc: float, nu: float, zeta: float, x_window, master: str = "paper",
          taper: bool = False) -> tuple[float, float]:
    """The sum of the Houdayer–Hartmann terms and their number N (see the module docstring, ``master`` and
    ``taper`` in :func:`quality`); with ``taper`` N is the sum of the points' weights, a float."""
    scaled = [((T - tc) * L ** (1.0 / nu), y * L ** -zeta, dy * L ** -zeta) for L, T, y, dy in data]
    total, count = 0.0, 0.0
    for i, (x, y, dy) in enumerate(scaled):
        # "paper": weighted sums over the enclosing points of the other sizes, in u = x_other - x (centred, so well
        # conditioned); "mean": the weighted mean of each other size's linear interpolation, weights u = tau / V
        # (V its variance, tau its taper), whose variance is sum(u^2 V) / sum(u)^2 (1 / sum(1 / V) untapered)
        K, Ku, Ky, Kuu, Kuy, KV = (np.zeros_like(x) for _ in range(6))
        cover = np.zeros_like(x)
        for j, (xo, yo, dyo) in enumerate(scaled):
            if j == i:
                continue
            inside = (x >= xo[0]) & (x <= xo[-1])
            right = np.clip(np.searchsorted(xo, x, side="right"), 1, xo.size - 1)
            if master == "mean":
                t = (x - xo[right - 1]) / (xo[right] - xo[right - 1])
                variance = ((1 - t) * dyo[right - 1]) ** 2 + (t * dyo[right]) ** 2
                tau = _taper(x, xo) if taper else np.ones_like(x)
                u = np.where(inside, tau / variance, 0.0)
                K += u
                Ky += u * np.where(inside, yo[right - 1] + t * (yo[right] - yo[right - 1]), 0.0)
                KV += u * u * np.where(inside, variance, 0.0)
                cover = np.maximum(cover, np.where(inside, tau, 0.0))
                continue
            for k in (right - 1, right):
                w = np.where(inside, dyo[k] ** -2.0, 0.0)
                u = xo[k] - x
                K += w
                Ku += w * u
                Ky += w * yo[k]
                Kuu += w * u * u
                Kuy += w * u * yo[k]
        defined = K > 0
        if x_window is not None:
            defined &= (x >= x_window[0]) & (x <= x_window[1])
        if not defined.any():
            continue
        K, Ku, Ky, Kuu, Kuy, KV = (a[defined] for a in (K, Ku, Ky, Kuu, Kuy, KV))
        if master == "mean":
            Y, dY2 = Ky / K, KV / K ** 2
        else:
            delta = K * Kuu - Ku ** 2
            Y, dY2 = (Kuu * Ky - Ku * Kuy) / delta, Kuu / delta
        weight = cover[defined] if taper else np.ones_like(Y)
        total += float(np.sum(weight * (y[defined] - Y) ** 2 / (dy[defined] ** 2 + dY2)))
        count += float(weight.sum()) if taper else int(defined.sum())
    return total, count


def _taper(x: np.ndarray, xo: np.ndarray) -> np.ndarray:
    """Weight in [0, 1] of the curve with points ``xo`` at ``x``: 0 at either end of its range, rising linearly to 1
    across its first (last) interval, 1 in between; so a point entering or leaving the range counts continuously."""
    low = (x - xo[0]) / (xo[1] - xo[0])
    high = (xo[-1] - x) / (xo[-1] - xo[-2])
    return np.clip(np.minimum(low, high), 0.0, 1.0)


def _check_master(master: str, taper: bool = False) -> str:
    if master not in ("paper", "mean"):
        raise ValueError(f"The 'master' parameter must be 'paper' or 'mean'. Got {master!r} instead.")
    if taper and master != "mean":
        raise ValueError(f"The 'taper' parameter needs master='mean'. Got master={master!r} instead.")
    return master


def quality(curves: Mapping, tc: float, nu: float, *, zeta: float = 0.0, x_window=None,
            master: str = "paper", taper: bool = False) -> float:
    """The Houdayer–Hartmann quality S of the collapse at ``tc`` and ``nu`` (see the module docstring).

    Parameters
    ----------
    curves : mapping of int to (T, y, dy)
        Per linear size L: temperatures (J/k_B, strictly increasing), the observable and its standard errors
        (> 0), arrays of shape (n_T,) (n_T may differ between sizes).
    tc : float
        Critical temperature (J/k_B) of the scaling variable ``x = (T - tc) L^(1/nu)``.
    nu : float
        Correlation-length exponent (> 0).
    zeta : float, default 0
        The observable is rescaled as ``y L^(-zeta)`` (0 for a dimensionless quantity such as a mean network
        output or a Binder cumulant).
    x_window : tuple of float or None, default None
        Only points with ``x_window[0] <= x <= x_window[1]`` enter the sum; None: every point.
    master : {"paper", "mean"}, default "paper"
        How the master curve is estimated from the other sizes' enclosing points: "paper", the weighted
        least-squares line through all of them (Houdayer & Hartmann); "mean", the inverse-variance weighted mean
        of each other size's own linear interpolation. The two agree when one other size encloses the point. With
        two or more other sizes, the paper's line jumps whenever one size's enclosing pair changes, which makes S
        jagged in ``tc`` and ``nu`` (narrow spurious minima on fine grids); "mean" is continuous there.
    taper : bool, default False
        Only with ``master="mean"``. False: a point counts fully wherever another size encloses it, so S jumps
        whenever a point enters or leaves the range of another size as ``tc`` or ``nu`` change. On a uniform grid
        with sizes in ratios of 2 and ``nu`` near 1 many such events coincide on lines through (a grid
        temperature, nu = 1), and the fitted minimum is pulled onto them (measured on ``task=ising``: replica fits
        piled up at T_c = 2.2700-2.2715 with a gap at 2.269). True: each other size's interpolation is weighted by
        a taper that rises from 0 at either end of its range to 1 across its end interval, and each point's term
        by the largest such weight (N is then the sum of these weights), so S is continuous in ``tc`` and ``nu``.

    Returns
    -------
    float
        S: about 1 for a collapse within the errors, much larger otherwise; NaN when no point is enclosed by
        another size (the rescaled curves do not overlap).

    Raises
    ------
    ValueError
        On fewer than two sizes, malformed curves, or a ``nu`` that is not > 0.
    """
    if not (np.isfinite(nu) and nu > 0):
        raise ValueError(f"The 'nu' parameter must be a finite float > 0. Got {nu!r} instead.")
    master = _check_master(master, taper)
    total, count = _chi2(_check_curves(curves), float(tc), float(nu), float(zeta), x_window, master, taper)
    return total / count if count else math.nan


def fit_collapse(curves: Mapping, tc0: float, nu0: float, *, bounds=None, zeta: float = 0.0, x_window=None,
                 master: str = "paper", taper: bool = False, rise: float = 1.0, n_starts: int = 5) -> dict:
    """``T_c`` and ``nu`` of the best collapse: the minimum of the quality S, with errors from its width.

    S is minimised by Nelder–Mead (:func:`scipy.optimize.minimize`, in coordinates scaled to the bounds) from
    ``(tc0, nu0)`` and from further starts spread over the bounds; the lowest minimum is kept (S is not smooth:
    points enter and leave the overlap of the curves as the parameters change, so local minima occur).

    Errors follow Houdayer & Hartmann's prescription: S is a chi^2 per term, so ``N S`` (N the number of terms at
    the minimum) plays the role of chi^2, and a parameter's error is the half-width of the minimum where ``N S``
    has risen by 1 (``rise``) above ``N S_min``. Two refinements: the other parameter is re-minimised at each
    value (the profile of S) instead of being held at its optimum, which includes the T_c–nu correlation and is
    never narrower; and the width is read off a parabola fitted to the profile over the well up to
    ``N (S - S_min) = 9``, because S jumps by O(1/N) wherever a point enters or leaves the overlap of the curves
    or (``master="paper"``) an enclosing pair changes, so that the first crossing of ``S_min + 1/N`` would measure
    a jump, not the well.

    How good are these errors? On synthetic logistic curves (sizes 16/32/64, binomial noise, exact dy; see
    tests/transition/test_collapse.py) the actual scatter of the fitted values over repeats was 1.3-1.5 times the
    quoted error on a 0.01 grid and 1.5-1.8 times on a 0.02 grid (where linear interpolation of the L = 64
    curve also biases nu by ~ +0.012). Part of it is that every pair of sizes is compared twice (each size's
    points against the others' interpolation), so ``N S`` counts each comparison about twice: ``rise=2`` matched
    the scatter on the 0.01 grid. For errors that are calibrated by construction, fit each independent replica
    of the pipeline and combine the fits (:func:`physics.transition.replicas.combine`). With ``S_min`` well above
    1 the errors understate the uncertainty further (the scaling form, or the dy, are then wrong), so ``S_min``
    is returned to be judged.

    Parameters
    ----------
    curves : mapping of int to (T, y, dy)
        As for :func:`quality`.
    tc0 : float
        Starting critical temperature (J/k_B).
    nu0 : float
        Starting exponent (> 0).
    bounds : ((float, float), (float, float)) or None, default None
        ``((tc_low, tc_high), (nu_low, nu_high))``; None: T_c within the temperatures common to every curve and
        nu within [nu0 / 3, 3 nu0].
    zeta : float, default 0
        Rescaling exponent of the observable (fixed), as for :func:`quality`.
    x_window : tuple of float or None, default None
        As for :func:`quality`.
    master : {"paper", "mean"}, default "paper"
        As for :func:`quality`.
    taper : bool, default False
        As for :func:`quality` (True: S continuous in T_c and nu, no pull towards the grid).
    rise : float, default 1
        The rise of ``N S`` above its minimum that defines the errors (Houdayer & Hartmann: 1).
    n_starts : int, default 5
        Nelder–Mead starts: ``(tc0, nu0)`` and ``n_starts - 1`` points on a grid inside the bounds.

    Returns
    -------
    dict
        ``tc`` (J/k_B), ``nu``, ``S_min``, ``n_terms`` (N at the minimum), ``tc_err``, ``nu_err`` (half-widths
        where ``N (S - S_min) = rise``; NaN, with a warning, when the profile does not rise within the bounds or
        is not convex), ``tc_interval``, ``nu_interval`` (the fitted value ± its error), ``zeta``, ``master``,
        ``rise``, ``bounds`` and ``success`` (of the best Nelder–Mead run).

    Raises
    ------
    ValueError
        On malformed curves, bounds that do not contain the start, or ``n_starts < 1``.
    """
    data = _check_curves(curves)
    master = _check_master(master, taper)
    if bounds is None:
        common = (max(T[0] for _, T, _, _ in data), min(T[-1] for _, T, _, _ in data))
        bounds = (common, (nu0 / 3.0, 3.0 * nu0))
    (tc_low, tc_high), (nu_low, nu_high) = (tuple(float(b) for b in pair) for pair in bounds)
    if not (tc_low <= tc0 <= tc_high and 0 < nu_low <= nu0 <= nu_high):
        raise ValueError(f"The 'bounds' parameter must contain the start (tc0, nu0) = ({tc0}, {nu0}) with nu > 0. "
                         f"Got {bounds!r} instead.")
    if not (isinstance(rise, (int, float)) and rise > 0):
        raise ValueError(f"The 'rise' parameter must be a float > 0. Got {rise!r} instead.")
    if n_starts < 1:
        raise ValueError(f"The 'n_starts' parameter must be an int >= 1. Got {n_starts!r} instead.")
    low, width = np.array([tc_low, nu_low]), np.array([tc_high - tc_low, nu_high - nu_low])

    def chi2(tc, nu):
        return _chi2(data, tc, nu, zeta, x_window, master, taper)

    def objective(p):
        tc, nu = low + np.clip(p, 0.0, 1.0) * width
        total, count = chi2(tc, nu)
        return total / count if count else 1e300

    grid = [(a, b) for a in (0.25, 0.75) for b in (0.25, 0.75)] + [(0.5, 0.5), (0.1, 0.5), (0.9, 0.5)]
    starts = [(np.array([tc0, nu0]) - low) / width] + [np.array(g) for g in grid[:max(0, n_starts - 1)]]
    best = None
    for start in starts:
        simplex = np.array([start, start + [0.05, 0.0], start + [0.0, 0.05]])
        result = minimize(objective, start, method="Nelder-Mead", bounds=[(0.0, 1.0)] * 2,
                          options={"initial_simplex": np.clip(simplex, 0.0, 1.0), "xatol": 1e-7, "fatol": 1e-9,
                                   "maxiter": 4000})
        if best is None or result.fun < best.fun:
            best = result
    tc_hat, nu_hat = (float(v) for v in low + np.clip(best.x, 0.0, 1.0) * width)
    total, n_terms = chi2(tc_hat, nu_hat)
    s_min = total / n_terms if n_terms else math.nan
    if not math.isfinite(s_min):
        log.warning("no collapse: the rescaled curves do not overlap anywhere inside the bounds")
        return {"tc": math.nan, "nu": math.nan, "S_min": math.nan, "n_terms": 0, "tc_err": math.nan,
                "nu_err": math.nan, "tc_interval": (math.nan, math.nan), "nu_interval": (math.nan, math.nan),
                "zeta": zeta, "master": master, "rise": rise,
                "bounds": ((tc_low, tc_high), (nu_low, nu_high)), "success": False}

    def profile(index: int, value: float) -> float:
        """min over the other parameter of S, searched near its value at the minimum (S is not smooth, and a
        search over all the bounds can land in a distant local minimum above S_min)."""
        other = 1 - index
        centre = (tc_hat, nu_hat)[other]
        span = (max(low[other], centre - 0.25 * width[other]), min(low[other] + width[other],
                                                                     centre + 0.25 * width[other]))

        def at(q):
            point = np.empty(2)
            point[index], point[other] = value, q
            return objective((point - low) / width)

        found = minimize_scalar(at, method="bounded", bounds=span, options={"xatol": 1e-7 * width[other]})
        return min(float(found.fun), at(centre))

    tc_err, tc_interval = _width(lambda v: profile(0, v), tc_hat, (tc_low, tc_high), s_min, n_terms, rise)
    nu_err, nu_interval = _width(lambda v: profile(1, v), nu_hat, (nu_low, nu_high), s_min, n_terms, rise)
    if s_min > 2.0:
        log.warning("collapse quality S_min = %.2f is well above 1: the errors from the width of the minimum "
                    "understate the uncertainty", s_min)
    return {"tc": tc_hat, "nu": nu_hat, "S_min": s_min, "n_terms": float(n_terms) if taper else int(n_terms),
            "tc_err": tc_err, "nu_err": nu_err,
            "tc_interval": tc_interval, "nu_interval": nu_interval, "zeta": zeta, "master": master, "rise": rise,
            "bounds": ((tc_low, tc_high), (nu_low, nu_high)), "success": bool(best.success)}


#: how far up the well of N (S - S_min) the parabola for the width is fitted (O(1) jumps of S average out)
WELL_DEPTH = 9.0


def _width(profile, centre: float, bounds: tuple, s_min: float, n_terms: int,
           rise_by: float) -> tuple[float, tuple]:
    """Half-width at ``N (S - S_min) = rise_by`` of the parabola fitted to the profile ``N (S(p) - S_min)`` over the
    well around ``centre``, up to where it reaches :data:`WELL_DEPTH` on either side (or the bounds).

    Returns ``(error, (centre - error, centre + error))``; NaN (and a warning) when the profile does not rise on
    both sides within the bounds or the fitted parabola is not convex.
    """
    scale = bounds[1] - bounds[0]

    def rise(p: float) -> float:
        return n_terms * (profile(p) - s_min)

    reach = []
    for edge in bounds:
        step = 1e-4 * scale * math.copysign(1.0, edge - centre)
        while True:
            point = centre + step
            if (point - edge) * math.copysign(1.0, step) >= 0:
                point = edge
            if rise(point) >= WELL_DEPTH or point == edge:
                reach.append(point)
                break
            step *= 2.0
    points = np.linspace(reach[0], reach[1], 21)
    values = np.array([rise(p) for p in points])
    if values.max() < 1.0 or reach[0] == reach[1]:
        log.warning("the collapse quality does not rise by 1/N within the bounds %s: no error from its width", bounds)
        return math.nan, (math.nan, math.nan)
    curvature = np.polynomial.Polynomial.fit(points - centre, values, 2).convert().coef
    if curvature.size < 3 or curvature[2] <= 0:
        log.warning("the profile of the collapse quality is not convex around its minimum: no error from its width")
        return math.nan, (math.nan, math.nan)
    error = float(math.sqrt(rise_by / curvature[2]))
    return error, (centre - error, centre + error)
