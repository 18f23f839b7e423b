"""Locating a transition in per-temperature curves: crossings, peaks and bootstrap error bars.

The curves are means over samples grouped by temperature, e.g. a classifier's mean ordered-phase probability
``P(T)`` (crossing 1/2 at the network's estimate of T_c), a difference of Binder cumulants (crossing 0), or a
fluctuation that peaks near T_c. Error bars come from a bootstrap that resamples the samples of each
temperature with replacement (temperatures are independent Monte Carlo runs, and the samples of one
temperature are decorrelated by the sampler) and, when several models were trained, the models too.

Conventions: temperatures ``T`` in units of J/k_B, sorted increasingly; ``groups`` maps every sample to the
index of its temperature in ``T``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)


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

    values : ndarray, shape (n,) or (n_series, n). groups : int ndarray (n,) with values in [0, n_groups).
    Returns shape (n_groups,) or (n_series, n_groups).
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

    values : ndarray, shape (n_series, n). Returns ndarray (n_boot, n_series, n_groups).
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


def crossings(T, curves, level: float = 0.5, *, which: str = "mean") -> np.ndarray:
    """Temperature where each curve crosses ``level``, by linear interpolation between grid points.

    A noisy curve can cross several times near the transition; ``which`` picks the result: "mean" of its
    crossings, the "first" (lowest T) or the "last" (highest T). A curve that never crosses gives NaN.

    T : ndarray (n_T,), increasing. curves : ndarray (n_T,) or (n_curves, n_T). Returns float or (n_curves,).
    """
    T = np.asarray(T, dtype=np.float64)
    y = np.atleast_2d(np.asarray(curves, dtype=np.float64)) - level
    if T.ndim != 1 or y.shape[1] != T.size or T.size < 2 or np.any(np.diff(T) <= 0):
        raise ValueError(f"The 'T' parameter must be increasing with one entry per curve point. Got T of shape "
                         f"{T.shape} and curves of shape {np.shape(curves)} instead.")
    above = y > 0
    changes = above[:, :-1] != above[:, 1:]  # (n_curves, n_T - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        points = T[:-1] + y[:, :-1] * np.diff(T) / (y[:, :-1] - y[:, 1:])
    count = changes.sum(axis=1)
    rows = np.arange(y.shape[0])
    if which == "first":
        result = np.where(count > 0, points[rows, np.argmax(changes, axis=1)], np.nan)
    elif which == "last":
        result = np.where(count > 0, points[rows, changes.shape[1] - 1 - np.argmax(changes[:, ::-1], axis=1)], np.nan)
    elif which != "mean":
        raise ValueError(f"The 'which' parameter must be 'mean', 'first' or 'last'. Got {which!r} instead.")
    else:
        total = np.where(changes, points, 0.0).sum(axis=1)
        result = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return float(result[0]) if np.ndim(curves) == 1 else result


def parabolic_peak(x, y) -> float:
    """Position of the maximum of ``y(x)``, refined by the parabola through the highest point and its two
    neighbours (the grid point itself when the maximum is at an end or the three points are collinear)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    i = int(np.nanargmax(y))
    if i == 0 or i == x.size - 1:
        return float(x[i])
    (x0, x1, x2), (y0, y1, y2) = x[i - 1:i + 2], y[i - 1:i + 2]
    denominator = (x0 - x1) * (x0 - x2) * (x1 - x2)
    a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denominator
    b = (x2 ** 2 * (y0 - y1) + x1 ** 2 * (y2 - y0) + x0 ** 2 * (y1 - y2)) / denominator
    if a >= 0:
        return float(x1)
    return float(np.clip(-b / (2 * a), x0, x2))


@dataclass(frozen=True)
class CrossingEstimate:
    """A crossing temperature with its bootstrap spread.

    value : float, crossing of the full-data curve (J/k_B). stderr : float, standard deviation of the
    bootstrap replicates. ci_low, ci_high : float, central 95 % percentile interval. curve : ndarray
    (n_T,), the full-data curve. curve_stderr : ndarray (n_T,), bootstrap standard deviation per point.
    n_failed : int, replicates that never crossed (left out of the spread).
    """

    value: float
    stderr: float
    ci_low: float
    ci_high: float
    curve: np.ndarray
    curve_stderr: np.ndarray
    n_failed: int

    def as_dict(self) -> dict:
        return {"value": self.value, "stderr": self.stderr, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "bootstrap_failed": self.n_failed}


def summarize(value: float, curve: np.ndarray, replicates: np.ndarray, replicate_crossings: np.ndarray,
              label: str = "") -> CrossingEstimate:
    """A :class:`CrossingEstimate` from the full-data result and the bootstrap replicates (``label`` names the
    curve in the log)."""
    finite = replicate_crossings[np.isfinite(replicate_crossings)]
    failed = int(replicate_crossings.size - finite.size)
    if failed:
        log.warning("%s%d of %d bootstrap replicates never cross; they are left out of the error bar",
                    f"{label}: " if label else "", failed, replicate_crossings.size)
    if finite.size < 2:
        stderr = low = high = float("nan")
    else:
        stderr = float(finite.std(ddof=1))
        low, high = (float(q) for q in np.percentile(finite, [2.5, 97.5]))
    return CrossingEstimate(value=float(value), stderr=stderr, ci_low=low, ci_high=high, curve=curve,
                            curve_stderr=replicates.std(axis=0, ddof=1), n_failed=failed)


def probability_crossing(T, probabilities, groups, *, n_boot: int, rng: np.random.Generator,
                         resample_models: bool = True, level: float = 0.5, label: str = "") -> CrossingEstimate:
    """Where the mean ordered-phase probability crosses ``level``, with a two-level bootstrap error.

    probabilities : ndarray (n_models, n), P(ordered) of each model (e.g. networks trained from different
    seeds) on the same n samples. Each replicate resamples the samples of every temperature and, if
    ``resample_models``, draws the models with replacement, so the error bar holds both the sampling noise
    of the data and the spread between training runs.
    """
    P = np.atleast_2d(np.asarray(probabilities, dtype=np.float64))
    T = np.asarray(T, dtype=np.float64)
    curve = group_means(P, groups, T.size).mean(axis=0)
    per_model = bootstrap_group_means(P, groups, T.size, n_boot, rng)  # (B, n_models, n_T)
    n_models = P.shape[0]
    if resample_models and n_models > 1:
        weights = rng.multinomial(n_models, np.full(n_models, 1.0 / n_models), size=n_boot) / n_models
    else:
        weights = np.full((n_boot, n_models), 1.0 / n_models)
    replicates = np.einsum("bm,bmt->bt", weights, per_model)
    return summarize(crossings(T, curve, level), curve, replicates, crossings(T, replicates, level), label)
