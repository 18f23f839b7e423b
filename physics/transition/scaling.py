"""Finite-size scaling: extrapolate pseudo-critical temperatures T_c(L) to L -> infinity, Binder crossings.

Near a continuous transition a finite system's pseudo-critical temperature (a classifier's crossing, the
peak of a susceptibility) shifts as ``T_c(L) = T_c(inf) + a L^(-1/nu)`` to leading order; for the 2D Ising
model ``nu = 1`` exactly. The Binder cumulant ``U_4 = 1 - <m^4> / (3 <m^2>^2)`` is scale invariant at T_c,
so the curves ``U_4(T)`` of two sizes cross close to T_c (corrections fall off faster than the shift of
T_c(L)). Temperatures in units of J/k_B.
"""
from __future__ import annotations

import logging
import math

import numpy as np
from scipy.optimize import curve_fit
from scipy.stats import chi2 as chi2_distribution

from physics.transition.crossing import CrossingEstimate, bootstrap_group_means, crossings, group_means, summarize

log = logging.getLogger(__name__)


def _shift_model(L, tc_infinite, a, nu):
    return tc_infinite + a * np.power(L, -1.0 / nu)


def fit_pseudo_critical(L, tc, stderr, *, nu: float | None = 1.0) -> dict:
    """Weighted least-squares fit of ``T_c(L) = T_c(inf) + a L^(-1/nu)`` (``scipy.optimize.curve_fit``).

    Parameters
    ----------
    L : array_like (n,), linear sizes. tc : array_like (n,), pseudo-critical temperatures (J/k_B).
    stderr : array_like (n,), their standard errors (> 0).
    nu : float or None; a float fixes the exponent (2D Ising: 1), None fits it too.

    Returns
    -------
    dict with ``tc_infinite``, ``tc_infinite_stderr``, ``min_size`` (smallest L fitted), ``p_value`` (of the
    chi2 with ``dof`` degrees of freedom), ``a``, ``a_stderr``, ``nu``, ``nu_stderr`` (0 when
    fixed), ``nu_at_bound`` (the free nu stopped at a bound of [0.2, 5]: no scaling seen), ``chi2``, ``dof`` and
    ``scale_factor``. The parameter errors take the given standard errors as
    absolute and are multiplied by ``scale_factor = sqrt(chi2/dof)`` when that exceeds 1 (the Birge ratio,
    as the Particle Data Group does for inconsistent data), so scatter beyond the error bars widens them.
    """
    L = np.asarray(L, dtype=np.float64)
    tc, sigma = np.asarray(tc, dtype=np.float64), np.asarray(stderr, dtype=np.float64)
    n_params = 2 if nu is not None else 3
    if not (L.shape == tc.shape == sigma.shape and L.ndim == 1):
        raise ValueError(f"The 'L', 'tc' and 'stderr' parameters must be 1-D of equal length. "
                         f"Got shapes {L.shape}, {tc.shape} and {sigma.shape} instead.")
    if L.size <= n_params:
        raise ValueError(f"The 'L' parameter must hold more than {n_params} sizes to fit {n_params} parameters "
                         f"with an error estimate. Got {L.size} instead.")
    if not (np.all(np.isfinite(tc)) and np.all(np.isfinite(sigma)) and np.all(sigma > 0)):
        raise ValueError(f"The 'tc' and 'stderr' parameters must be finite with stderr > 0. "
                         f"Got tc={tc.tolist()} and stderr={sigma.tolist()} instead.")
    slope, intercept = np.polyfit(1.0 / L, tc, 1, w=1.0 / sigma)  # the nu = 1 line starts both fits
    if nu is not None:
        model = lambda size, tc_inf, a: _shift_model(size, tc_inf, a, nu)  # noqa: E731
        p0, bounds = (intercept, slope), (-np.inf, np.inf)
    else:
        model, p0 = _shift_model, (intercept, slope, 1.0)
        bounds = ([-np.inf, -np.inf, 0.2], [np.inf, np.inf, 5.0])  # nu beyond [0.2, 5] is no scaling fit
    params, covariance = curve_fit(model, L, tc, p0=p0, sigma=sigma, absolute_sigma=True, bounds=bounds,
                                   maxfev=20000)
    residuals = (tc - model(L, *params)) / sigma
    chi2, dof = float(residuals @ residuals), int(L.size - n_params)
    scale = max(1.0, math.sqrt(chi2 / dof))
    errors = np.sqrt(np.diag(covariance)) * scale
    return {"tc_infinite": float(params[0]), "tc_infinite_stderr": float(errors[0]), "min_size": int(L.min()),
            "p_value": float(chi2_distribution.sf(chi2, dof)),
            "a": float(params[1]), "a_stderr": float(errors[1]),
            "nu": float(nu if nu is not None else params[2]),
            "nu_stderr": 0.0 if nu is not None else float(errors[2]),
            "nu_at_bound": nu is None and not 0.2 + 1e-6 < params[2] < 5.0 - 1e-6,
            "chi2": chi2, "dof": dof, "scale_factor": scale}


def fit_scaling_regime(L, tc, stderr, *, nu: float | None = 1.0, p_min: float = 0.05, min_sizes: int = 4) -> dict:
    """:func:`fit_pseudo_critical` on the sizes inside the scaling regime.

    The form ``T_c + a L^(-1/nu)`` holds only for large enough L (corrections to scaling fall off as higher
    powers of 1/L). The smallest size is dropped while the fit is rejected by its chi2 (p-value below ``p_min``)
    and more than ``min_sizes`` sizes remain: the choice follows the goodness of fit only, never T_c itself.
    """
    L, tc, stderr = (np.asarray(a, dtype=np.float64) for a in (L, tc, stderr))
    order = np.argsort(L)
    L, tc, stderr = L[order], tc[order], stderr[order]
    start = 0
    while True:
        fit = fit_pseudo_critical(L[start:], tc[start:], stderr[start:], nu=nu)
        if fit["p_value"] >= p_min or L.size - start <= min_sizes:
            return fit
        log.info("scaling fit from L = %d rejected (chi2 = %.1f for %d dof, p = %.2g): dropping that size",
                 L[start], fit["chi2"], fit["dof"], fit["p_value"])
        start += 1


def binder_cumulant(magnetization, groups, n_groups: int) -> np.ndarray:
    """``U_4 = 1 - <m^4> / (3 <m^2>^2)`` per group, from per-sample magnetisations per spin, shape (n,).

    0 for a Gaussian (disordered) distribution of m, 2/3 for m = ±m0 (ordered). Returns (n_groups,).
    """
    m2 = np.asarray(magnetization, dtype=np.float64) ** 2
    moments = group_means(np.stack([m2, m2 ** 2]), groups, n_groups)
    return 1.0 - moments[1] / (3.0 * moments[0] ** 2)


def binder_bootstrap(magnetization, groups, n_groups: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap replicates of :func:`binder_cumulant` (samples resampled within each group): (n_boot, n_groups)."""
    m2 = np.asarray(magnetization, dtype=np.float64) ** 2
    moments = bootstrap_group_means(np.stack([m2, m2 ** 2]), groups, n_groups, n_boot, rng)
    return 1.0 - moments[:, 1] / (3.0 * moments[:, 0] ** 2)


def binder_crossing(T, small: tuple, large: tuple, significance: float = 2.0) -> CrossingEstimate:
    """Where the Binder cumulants of two sizes cross: ``U_large(T) - U_small(T)`` changes sign at T_c(L pair).

    T : ndarray (n_T,), the common temperature grid. small, large : ``(curve (n_T,), replicates (B, n_T))``
    of the smaller and the larger lattice; their replicates are independent (different Monte Carlo data).
    Below T_c the larger lattice is closer to 2/3, above it closer to 0, so the difference falls through 0.
    Deep in either phase the two cumulants agree within their errors and the sign of their difference is
    noise. So the crossing is the last sign change at or below the first temperature where the difference is
    significantly negative (below -``significance`` bootstrap standard deviations); each bootstrap replicate
    is searched up to one grid point further. NaN when the difference is never significantly negative.
    """
    (curve_small, boot_small), (curve_large, boot_large) = small, large
    difference, replicates = curve_large - curve_small, boot_large - boot_small
    negative = np.flatnonzero(difference < -significance * replicates.std(axis=0, ddof=1))
    if negative.size == 0 or negative[0] == 0:
        log.warning("the Binder cumulants never separate significantly; no crossing")
        return summarize(float("nan"), difference, replicates, np.full(replicates.shape[0], np.nan))
    end = negative[0] + 1
    return summarize(crossings(T[:end], difference[:end], 0.0, which="last"), difference, replicates,
                     crossings(T[:end + 1], replicates[:, :end + 1], 0.0, which="last"))


def scaled_temperature(T, L: int, tc: float, nu: float = 1.0) -> np.ndarray:
    """The scaling variable ``(T - T_c) L^(1/nu)`` of a data collapse."""
    return (np.asarray(T, dtype=np.float64) - tc) * float(L) ** (1.0 / nu)
