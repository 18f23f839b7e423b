"""Finite-size scaling: extrapolate pseudo-critical temperatures T*(L) to L -> infinity, and the exponent nu.

Near a continuous transition an RG-invariant observable (the mean network output on block-spin configurations,
a Binder cumulant) is a scaling function ``F((T - T_c) L^(1/nu))`` of one variable, up to corrections. So the
temperature ``T*(L)`` where it crosses a fixed level shifts as

    T*(L) = T_c + a L^(-1/nu) + b L^(-2) + ...

(the ``b`` term: the next correction, analytic for the 2D Ising model, where ``nu = 1`` exactly), and the slope
of the observable there grows as ``|dF/dT| ∝ L^(1/nu)``. :func:`nu_from_slopes` fits the second,
:func:`fit_shift` the first for a given ``nu`` (linear in ``T_c``, ``a``, ``b``), :func:`lmin_table` repeats it
dropping the smallest sizes, and :func:`extrapolate` does all of it per independent replica of the whole
pipeline (fresh Monte Carlo, fresh training), so that the statistical error of ``T_c`` is the spread of the
replicas: everything random, including the spread between trainings, is in it.

Conventions: sizes ``L`` are linear lattice sizes; temperatures in units of J/k_B; arrays of per-replica results
have shape (n_replicas, n_sizes) with NaN where a replica did not cross.
"""
from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import chi2 as chi2_distribution
from scipy.stats import t as student_t

from physics.transition.estimate import TcEstimate
from physics.transition.replicas import combine

log = logging.getLogger(__name__)

#: the method recorded for nu from the slopes
NU_METHOD = "slopes |d<f>/dT| at T*(L) ∝ L^(1/ν)"


def _as_sizes(L) -> np.ndarray:
    L = np.asarray(L, dtype=np.float64)
    if L.ndim != 1 or L.size == 0 or not np.all(np.isfinite(L)) or np.any(L <= 0):
        raise ValueError(f"The 'L' parameter must be a non-empty 1-D array of positive sizes. Got {L!r} instead.")
    return L


def _check_nu(nu) -> float:
    if nu is None or not (np.isscalar(nu) and np.isfinite(nu) and nu > 0):
        raise ValueError(f"The 'nu' parameter must be a finite float > 0. Got {nu!r} instead.")
    return float(nu)


def _weighted_lstsq(design: np.ndarray, y: np.ndarray, sigma: np.ndarray | None):
    """Least squares of ``y ≈ design @ params`` with weights ``1/sigma`` (``numpy.linalg.lstsq``).

    Returns params (p,), covariance (p, p), chi2 and dof. With ``sigma`` the covariance takes the errors as
    absolute (it holds for dof = 0 too); without, it is scaled by the residual variance, NaN when dof = 0, and
    "chi2" is the plain residual sum of squares.
    """
    n, p = design.shape
    weights = np.ones(n) if sigma is None else 1.0 / sigma
    a, b = design * weights[:, None], y * weights
    params, *_ = np.linalg.lstsq(a, b, rcond=None)
    covariance = np.linalg.inv(a.T @ a)
    residuals = b - a @ params
    chi2, dof = float(residuals @ residuals), n - p
    if sigma is None:
        covariance = covariance * (chi2 / dof if dof > 0 else math.nan)
    return params, covariance, chi2, dof


def _check_errors(stderr, n: int, name: str) -> np.ndarray | None:
    if stderr is None:
        return None
    stderr = np.broadcast_to(np.asarray(stderr, dtype=np.float64), (n,))
    if not (np.all(np.isfinite(stderr)) and np.all(stderr > 0)):
        raise ValueError(f"The '{name}' parameter must be finite and > 0 for every size. "
                         f"Got {stderr.tolist()} instead.")
    return stderr


def fit_shift(L, T_star, stderr=None, *, nu: float, correction: bool = False) -> dict:
    """Weighted least squares of ``T*(L) = T_c + a L^(-1/nu)`` (``+ b L^(-2)`` with ``correction``), nu given.

    For a given ``nu`` the model is linear in its parameters, so the fit is a linear least-squares problem
    (:func:`numpy.linalg.lstsq`) with a unique solution and no starting values.

    Parameters
    ----------
    L : array_like
        Shape (n,).
        Linear lattice sizes (> 0); a size may repeat (several estimates of it).
    T_star : array_like
        Shape (n,).
        Pseudo-critical temperatures (J/k_B), finite.
    stderr : array_like or None, default None
        Shape (n,).
        Their standard errors (J/k_B, > 0); the fit weighs each point by ``1 / stderr`` and takes them as
        absolute. None: equal weights, parameter errors from the residual scatter (NaN when dof = 0).
    nu : float
        The exponent (> 0; the 2D Ising model: 1).
    correction : bool, default False
        Whether to fit the next correction ``b L^(-2)`` too.

    Returns
    -------
    dict
        ``tc``, ``tc_err`` (J/k_B), ``a``, ``a_err``, ``b``, ``b_err`` (NaN without ``correction``), ``chi2``,
        ``dof`` (n - number of parameters), ``p_value`` (of chi2 with dof degrees of freedom; NaN when dof = 0
        or without ``stderr``), ``nu``, ``correction``, ``sizes`` (sorted distinct sizes), ``min_size``. With
        dof = 0 the curve interpolates the points exactly and the errors are those of ``stderr`` propagated.

    Raises
    ------
    ValueError
        On mismatched shapes, non-finite ``T_star``, a ``stderr`` that is not > 0, a ``nu`` that is not > 0, or
        fewer points than parameters.
    """
    L = _as_sizes(L)
    T_star = np.asarray(T_star, dtype=np.float64)
    if T_star.shape != L.shape or not np.all(np.isfinite(T_star)):
        raise ValueError(f"The 'T_star' parameter must be finite with one value per size (shape {L.shape}). "
                         f"Got {T_star.tolist()} instead.")
    nu = _check_nu(nu)
    sigma = _check_errors(stderr, L.size, "stderr")
    columns = [np.ones_like(L), L ** (-1.0 / nu)] + ([L ** -2.0] if correction else [])
    if L.size < len(columns):
        raise ValueError(f"The 'L' parameter must hold at least {len(columns)} points to fit {len(columns)} "
                         f"parameters. Got {L.size} instead.")
    params, covariance, chi2, dof = _weighted_lstsq(np.column_stack(columns), T_star, sigma)
    errors = np.sqrt(np.diag(covariance))
    return {"tc": float(params[0]), "tc_err": float(errors[0]), "a": float(params[1]), "a_err": float(errors[1]),
            "b": float(params[2]) if correction else math.nan, "b_err": float(errors[2]) if correction else math.nan,
            "chi2": chi2, "dof": int(dof),
            "p_value": float(chi2_distribution.sf(chi2, dof)) if dof > 0 and sigma is not None else math.nan,
            "nu": nu, "correction": bool(correction), "sizes": sorted({int(s) for s in L}), "min_size": int(L.min())}


def nu_from_slopes(L, slopes, slope_err=None) -> dict:
    """The exponent nu from the growth of the slopes at the crossings, ``|slope| = c L^(1/nu)``.

    A weighted straight-line fit of ``log|slope|`` against ``log L`` (:func:`numpy.linalg.lstsq`); the error of
    ``log|slope|`` is ``slope_err / |slope|`` to first order.

    Parameters
    ----------
    L : array_like
        Shape (n,).
        Linear lattice sizes (> 0), at least two distinct.
    slopes : array_like
        Shape (n,).
        ``d<f>/dT`` at each ``T*(L)`` (any sign: the modulus is used), finite and non-zero.
    slope_err : array_like or None, default None
        Shape (n,).
        Standard errors of the slopes (> 0); None: equal weights in ``log|slope|``, errors from the residual
        scatter (NaN when dof = 0).

    Returns
    -------
    dict
        ``inv_nu`` (the fitted 1/nu), ``inv_nu_err``, ``nu = 1 / inv_nu``, ``nu_err = inv_nu_err / inv_nu^2``
        (first order), ``amplitude`` (c), ``chi2``, ``dof``, ``p_value`` (NaN when dof = 0 or without
        ``slope_err``), ``sizes``, ``ok`` and ``reason``: ``ok`` is False, and ``nu``/``nu_err`` NaN, when the
        slopes do not grow with L (``inv_nu <= 0``: no scaling seen).

    Raises
    ------
    ValueError
        On mismatched shapes, zero or non-finite slopes, or fewer than two distinct sizes.
    """
    L = _as_sizes(L)
    slopes = np.abs(np.asarray(slopes, dtype=np.float64))
    if slopes.shape != L.shape or not (np.all(np.isfinite(slopes)) and np.all(slopes > 0)):
        raise ValueError(f"The 'slopes' parameter must be finite and non-zero with one value per size "
                         f"(shape {L.shape}). Got {slopes.tolist()} instead.")
    if np.unique(L).size < 2:
        raise ValueError(f"The 'L' parameter must hold at least 2 distinct sizes. Got {L.tolist()} instead.")
    sigma = _check_errors(slope_err, L.size, "slope_err")
    sigma_log = None if sigma is None else sigma / slopes
    design = np.column_stack([np.ones_like(L), np.log(L)])
    params, covariance, chi2, dof = _weighted_lstsq(design, np.log(slopes), sigma_log)
    inv_nu, inv_nu_err = float(params[1]), float(np.sqrt(covariance[1, 1]))
    ok = inv_nu > 0
    return {"inv_nu": inv_nu, "inv_nu_err": inv_nu_err, "nu": 1.0 / inv_nu if ok else math.nan,
            "nu_err": inv_nu_err / inv_nu ** 2 if ok else math.nan, "amplitude": float(np.exp(params[0])),
            "chi2": chi2, "dof": int(dof),
            "p_value": float(chi2_distribution.sf(chi2, dof)) if dof > 0 and sigma is not None else math.nan,
            "sizes": sorted({int(s) for s in L}), "ok": bool(ok),
            "reason": "" if ok else f"the slopes do not grow with L (fitted 1/ν = {inv_nu:.3g})"}


def lmin_table(L, T_star, stderr, *, nu: float) -> list[dict]:
    """:func:`fit_shift` (without correction) on the sizes ``>= L_min``, for every ``L_min`` leaving two sizes.

    Whether T_c drifts as the smallest sizes are dropped shows whether they are in the scaling regime.

    Parameters
    ----------
    L : array_like
        Shape (n,).
        Distinct linear lattice sizes (> 0).
    T_star : array_like
        Shape (n,).
        Pseudo-critical temperatures (J/k_B).
    stderr : array_like or None
        Shape (n,).
        Their standard errors (J/k_B, > 0), or None for equal weights.
    nu : float
        The exponent (> 0).

    Returns
    -------
    list of dict
        One row per ``L_min`` (increasing): ``L_min``, ``n_sizes`` and the keys of :func:`fit_shift`, plus
        ``exact_interpolation`` (True when dof = 0: two sizes, two parameters, no test of the form).
    """
    L = _as_sizes(L)
    T_star = np.asarray(T_star, dtype=np.float64)
    if T_star.shape != L.shape or np.unique(L).size != L.size:
        raise ValueError(f"The 'L' and 'T_star' parameters must be 1-D of equal length with distinct sizes. "
                         f"Got L={L.tolist()} and T_star of shape {T_star.shape} instead.")
    sigma = _check_errors(stderr, L.size, "stderr")
    order = np.argsort(L)
    rows = []
    for start in range(L.size - 1):
        keep = order[start:]
        fit = fit_shift(L[keep], T_star[keep], None if sigma is None else sigma[keep], nu=nu)
        rows.append({"L_min": int(L[order[start]]), "n_sizes": int(keep.size), **fit,
                     "exact_interpolation": fit["dof"] == 0})
    return rows


def pseudo_critical(L: int, T_star_replicas, method: str) -> TcEstimate:
    """The pseudo-critical temperature of one size from independent replicas: mean ± SD / sqrt(n).

    Parameters
    ----------
    L : int
        The linear lattice size.
    T_star_replicas : array_like
        Shape (n_replicas,).
        ``T*(L)`` of each replica (J/k_B), NaN where a replica's curve did not cross.
    method : str
        How each ``T*(L)`` was obtained, in words.

    Returns
    -------
    TcEstimate
        Of kind ``"T*(L)"`` (a finite-size temperature, never to be compared with T_c on its statistical error
        alone), from :func:`physics.transition.replicas.combine`; with no crossing in any replica, none with
        failure ``"no crossing in any of the <n> replicas"``.
    """
    return combine(np.ravel(np.asarray(T_star_replicas, dtype=np.float64)), method=method, kind="T*(L)",
                   sizes=(int(L),))


@dataclass
class FSSResult:
    """The outcome of :func:`extrapolate`.

    Parameters
    ----------
    tc : TcEstimate
        ``T_c(inf)``: mean over the complete replicas of each one's extrapolation, ± SD / sqrt(n); ``sys`` the
        change of the extrapolated T_c of the replica means under the ``b L^-2`` correction.
    nu : dict
        ``value``: ``1 / mean(1/nu)`` over the replicas (or the fixed value); ``stat``: SD / sqrt(n) of their 1/nu
        propagated to nu (0 when fixed); ``dof`` (n - 1), ``n``; ``ci95_low``, ``ci95_high``: the Student's t
        interval of 1/nu, inverted (asymmetric); ``inv_nu``, ``inv_nu_stat``, ``fixed``, ``method``,
        ``stat_source``.
    table : list of dict
        :func:`lmin_table` of the replica-mean ``T*(L)`` weighted by their SD / sqrt(n) (every size that crossed;
        equal weights when a size has no spread, e.g. one replica), with the nu of ``nu``.
    pseudo : list of TcEstimate
        ``T*(L)`` of every size, from :func:`pseudo_critical`.
    sizes : tuple of int
        Every size given.
    T_star_mean : ndarray
        Shape (n_sizes,). Mean of ``T*(L)`` over the replicas that crossed at that size (J/k_B).
    T_star_err : ndarray
        Shape (n_sizes,). Its SD / sqrt(n) over the same replicas (J/k_B).
    slope_mean : ndarray
        Shape (n_sizes,). Mean of ``|d<f>/dT|`` at ``T*(L)`` over the same replicas (per J/k_B).
    slope_err : ndarray
        Shape (n_sizes,). Its SD / sqrt(n) over the same replicas (per J/k_B).
    L_min : int
        The smallest size in the extrapolation.
    tc_replicas : ndarray
        Shape (n_replicas,). Each replica's ``T_c``; NaN for a replica left out (a missing crossing, or slopes
        that do not grow with L).
    nu_replicas : ndarray
        Shape (n_replicas,). Each replica's ``nu``; NaN for a replica left out (as for ``tc_replicas``).
    """

    tc: TcEstimate
    nu: dict
    table: list
    pseudo: list
    sizes: tuple
    T_star_mean: np.ndarray
    T_star_err: np.ndarray
    slope_mean: np.ndarray
    slope_err: np.ndarray
    L_min: int
    tc_replicas: np.ndarray = field(default_factory=lambda: np.empty(0))
    nu_replicas: np.ndarray = field(default_factory=lambda: np.empty(0))

    def as_dict(self) -> dict:
        """JSON-friendly: ``tc`` and ``pseudo`` as :meth:`TcEstimate.as_dict`, arrays as lists."""
        return {"tc": self.tc.as_dict(), "nu": self.nu, "table": self.table,
                "pseudo": {int(L): p.as_dict() for L, p in zip(self.sizes, self.pseudo)},
                "sizes": list(self.sizes), "L_min": self.L_min,
                **{name: getattr(self, name).tolist() for name in
                   ("T_star_mean", "T_star_err", "slope_mean", "slope_err", "tc_replicas", "nu_replicas")}}


def _mean_and_error(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column: mean and SD / sqrt(n) over the finite entries (NaN with fewer than 1 resp. 2)."""
    finite = np.isfinite(values)
    n = finite.sum(axis=0)
    filled = np.where(finite, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=0) / n
        variance = np.where(finite, (values - mean) ** 2, 0.0).sum(axis=0) / (n - 1)
        error = np.sqrt(variance / n)
    return np.where(n >= 1, mean, np.nan), np.where(n >= 2, error, np.nan)


def _nu_summary(inv_nu_replicas: np.ndarray, fixed: float | None) -> dict:
    """nu over the replicas, from the mean of their 1/nu: the slope fits give 1/nu linearly (unbiased when the
    log-slopes are), while the mean of their reciprocals nu would carry a bias of the order of their variance."""
    if fixed is not None:
        return {"value": fixed, "stat": 0.0, "dof": None, "n": 0, "ci95_low": fixed, "ci95_high": fixed,
                "inv_nu": 1.0 / fixed, "inv_nu_stat": 0.0, "fixed": True, "method": f"ν fixed at {fixed:g}",
                "stat_source": "fixed"}
    values = inv_nu_replicas[np.isfinite(inv_nu_replicas)]
    n = int(values.size)
    summary = {"value": math.nan, "stat": math.nan, "dof": None, "n": n, "ci95_low": math.nan,
               "ci95_high": math.nan, "inv_nu": math.nan, "inv_nu_stat": math.nan, "fixed": False,
               "method": NU_METHOD, "stat_source": "no statistical error can be given from fewer than two replicas"}
    if n == 0:
        return summary
    inv_nu = float(values.mean())
    summary.update(value=1.0 / inv_nu, inv_nu=inv_nu)
    if n >= 2:
        inv_stat = float(values.std(ddof=1) / math.sqrt(n))
        half = float(student_t.ppf(0.975, n - 1)) * inv_stat
        summary.update(stat=inv_stat / inv_nu ** 2, dof=n - 1, inv_nu_stat=inv_stat,
                       ci95_low=1.0 / (inv_nu + half), ci95_high=1.0 / (inv_nu - half) if inv_nu > half else math.inf,
                       stat_source=f"SD/sqrt(n) of 1/ν over n = {n} independent replicas of the whole pipeline, "
                                   f"propagated to ν = 1 / mean(1/ν) (the 95 % interval is the inverted one of 1/ν)")
    return summary


def extrapolate(L, T_star, slopes, *, L_min: int, method: str, nu: float | None = None) -> FSSResult:
    """T_c(inf) and nu from the crossings of independent replicas of the whole pipeline.

    For each replica that crossed at every size ``>= L_min``: nu from its slopes (:func:`nu_from_slopes`, unless
    ``nu`` is given), then its ``T_c`` from :func:`fit_shift` of its own ``T*(L)`` with that nu (equal weights:
    one value per size and replica). ``T_c(inf)`` is the mean over those replicas with SD / sqrt(n) (Student's t,
    n - 1 dof): the replicas are independent, so their spread holds every source of randomness, nu's included.
    The systematic error is the change of the extrapolated T_c when the next correction ``b L^-2`` is fitted
    too, on the replica-mean ``T*(L)`` (it needs three sizes ``>= L_min``; with two it is not assessed and the
    ``stat_source`` says so). That change holds the noise of the three-parameter fit (about 2.5 times the
    statistical error with sizes 16/32/64) as well as the bias it measures, so it is conservative when the
    correction is small: in tests/transition/test_calibration.py the 95 % intervals then cover 0.99 of the time,
    while the statistical interval alone covers 0.95; a correction much larger than the noise is under-covered.

    Parameters
    ----------
    L : array_like
        Shape (n_sizes,).
        Distinct linear lattice sizes (> 0).
    T_star : array_like
        Shape (n_replicas, n_sizes) or (n_sizes,).
        ``T*(L)`` of each replica (J/k_B), NaN where a replica did not cross; 1-D: one replica.
    slopes : array_like
        Same shape as ``T_star``.
        ``d<f>/dT`` at each crossing (per J/k_B; the modulus is used), NaN where there is none.
    L_min : int
        Smallest size used in the extrapolation.
    method : str
        How the crossings were obtained, in words; the estimates' ``method`` extends it.
    nu : float or None, default None
        A fixed exponent (2D Ising: 1), or None to take each replica's from its slopes.

    Returns
    -------
    FSSResult
        With ``tc`` none (failure "finite-size scaling needs at least 2 sizes ≥ L_min") when fewer than two sizes
        are ``>= L_min``, or ("no crossing in any of the <n> replicas") when no replica is complete; the per-size
        ``pseudo`` estimates and the ``table`` are there in every case.

    Raises
    ------
    ValueError
        On mismatched shapes, repeated sizes or a ``nu`` that is not > 0.
    """
    L = _as_sizes(L)
    if np.unique(L).size != L.size:
        raise ValueError(f"The 'L' parameter must hold distinct sizes. Got {L.tolist()} instead.")
    T_star = np.atleast_2d(np.asarray(T_star, dtype=np.float64))
    slopes = np.abs(np.atleast_2d(np.asarray(slopes, dtype=np.float64)))
    if T_star.shape[1] != L.size or slopes.shape != T_star.shape:
        raise ValueError(f"The 'T_star' and 'slopes' parameters must have shape (n_replicas, {L.size}). "
                         f"Got {T_star.shape} and {slopes.shape} instead.")
    if nu is not None:
        nu = _check_nu(nu)
    sizes = tuple(int(s) for s in L)
    n_replicas = T_star.shape[0]
    pseudo = [pseudo_critical(size, T_star[:, k], method) for k, size in enumerate(sizes)]
    T_mean, T_err = _mean_and_error(T_star)
    slope_mean, slope_err = _mean_and_error(np.where(np.isfinite(T_star), slopes, np.nan))
    keep = L >= L_min
    fit_method = f"{method}; T*(L) = T_c + a L^(-1/ν), sizes ≥ {L_min:g}; " + \
        (f"ν fixed at {nu:g}" if nu is not None else f"ν per replica from the {NU_METHOD}")

    crossed = np.isfinite(T_mean)
    nu_for_table = nu
    tc_replicas, nu_replicas = np.full(n_replicas, np.nan), np.full(n_replicas, np.nan)
    inv_nu_replicas = np.full(n_replicas, np.nan)
    if keep.sum() < 2:
        log.warning("finite-size scaling needs at least 2 sizes >= L_min = %g; got %s", L_min, sizes)
        tc = TcEstimate.none(fit_method, "T_c(inf)", "finite-size scaling needs at least 2 sizes ≥ L_min",
                             sizes=tuple(s for s, k in zip(sizes, keep) if k), n_replicas=n_replicas)
        nu_summary = _nu_summary(inv_nu_replicas, nu)
    else:
        L_k, T_k, s_k = L[keep], T_star[:, keep], slopes[:, keep]
        complete = np.all(np.isfinite(T_k), axis=1) & (np.all(np.isfinite(s_k) & (s_k > 0), axis=1)
                                                       if nu is None else True)
        n_bad_slopes = 0
        for r in np.flatnonzero(complete):
            nu_r = nu
            if nu is None:
                from_slopes = nu_from_slopes(L_k, s_k[r])
                if not from_slopes["ok"]:
                    log.warning("replica %d left out: %s", r, from_slopes["reason"])
                    n_bad_slopes += 1
                    continue
                nu_r = from_slopes["nu"]
            nu_replicas[r], inv_nu_replicas[r] = nu_r, 1.0 / nu_r
            tc_replicas[r] = fit_shift(L_k, T_k[r], nu=nu_r)["tc"]
        used = np.isfinite(tc_replicas)
        tc = combine(tc_replicas, method=fit_method, kind="T_c(inf)", sizes=tuple(int(s) for s in L_k),
                     extra={"L_min": int(L_k.min()), "n_left_out_slopes": n_bad_slopes})
        nu_summary = _nu_summary(inv_nu_replicas, nu)
        nu_for_table = nu if nu is not None else nu_summary["value"]
        tc = dataclasses.replace(tc, extra={**tc.extra, "nu": nu_summary["value"], "nu_stat": nu_summary["stat"]})
        if tc.ok:
            tc = _with_correction_sys(tc, L_k, T_k[used].mean(axis=0), nu_for_table)
    table = []
    if crossed.sum() >= 2 and nu_for_table is not None and np.isfinite(nu_for_table):
        usable = np.all(np.isfinite(T_err[crossed])) and np.all(T_err[crossed] > 0)
        errors = T_err[crossed] if usable else None  # one replica (or identical ones): equal weights
        table = lmin_table(L[crossed], T_mean[crossed], errors, nu=nu_for_table)
    return FSSResult(tc=tc, nu=nu_summary, table=table, pseudo=pseudo, sizes=sizes, T_star_mean=T_mean,
                     T_star_err=T_err, slope_mean=slope_mean, slope_err=slope_err,
                     L_min=int(L[keep].min()) if keep.any() else int(L_min),
                     tc_replicas=tc_replicas, nu_replicas=nu_replicas)


def _with_correction_sys(tc: TcEstimate, L: np.ndarray, T_mean: np.ndarray, nu: float) -> TcEstimate:
    """``tc`` with ``sys = |T_c(with b L^-2) - T_c|`` of the fits to the replica-mean ``T*(L)``."""
    if L.size < 3:
        return dataclasses.replace(tc, stat_source=tc.stat_source + "; no systematic error assessed (the b L^-2 "
                                                                    "correction needs at least 3 sizes)")
    plain = fit_shift(L, T_mean, nu=nu)["tc"]
    corrected = fit_shift(L, T_mean, nu=nu, correction=True)["tc"]
    return dataclasses.replace(
        tc, sys=abs(corrected - plain),
        sys_source=f"|T_c(with b/L² correction) − T_c| of the fits to the replica-mean T*(L) (ν = {nu:.4g})",
        extra={**tc.extra, "tc_corrected": corrected})
