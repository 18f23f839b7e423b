"""Finding the transition without phase labels: PCA (Wang 2016) over several lattice sizes, and learning by
confusion (van Nieuwenburg, Liu & Huber, Nature Physics 13, 435 (2017)), each with its errors.

PCA (:func:`pca_by_size`): the leading principal component of raw Ising configurations is close to the uniform
vector ``w1 = ±(1, ..., 1)/sqrt(N)``, so the projection ``p1 = w1 . s`` is ``±sqrt(N) m`` and
``<|p1|>/sqrt(N)`` against T reproduces the magnetisation curve ``<|m|>``. Per lattice size L, two curves of p1
locate the transition:

* its fluctuation ``chi_p(T, L) = (<p1^2> - <|p1|>^2) / T`` (= the finite-lattice susceptibility per spin
  ``N (<m^2> - <|m|>^2) / T`` when w1 is exactly uniform), whose peak is a pseudo-critical temperature
  ``T*(L) = T_c + a L^(-1/nu)`` (above T_c for this definition); the peak is located by a polynomial fitted
  by weighted least squares to the grid points around the highest one
  (:func:`physics.transition.crossing.local_peak`), never by the grid point itself;
* its Binder cumulant ``U_p(T, L) = 1 - <p1^4> / (3 <p1^2>^2)`` (2/3 deep in the ordered phase, 0 for Gaussian
  fluctuations), scale invariant at T_c: the curves of consecutive sizes cross close to T_c, with a shift that
  falls off faster than that of the peaks (:func:`physics.transition.crossing.local_crossing` on their
  difference).

Per-temperature error bars of the curves are jackknife standard errors over the configurations of that
temperature (independent samples: the sampler decorrelates them). Errors of the located peaks and crossings
come from independent replicas of the whole pipeline (fresh Monte Carlo data): :func:`pca_by_size` analyses
one replica, :func:`combine_pca_scans` turns the replicas into :class:`~physics.transition.estimate.TcEstimate`
s (SD / sqrt(n) over replicas). Each scan also carries a bootstrap error (configurations resampled within each
temperature, w1 held fixed), used when there is a single replica. The finite-size extrapolation of the peaks
is left to the caller.

Confusion (:func:`confusion_scan`): relabel the data with a guessed critical temperature T' (ordered iff
T < T') and train a classifier for each guess. The test accuracy against T' is 1 at both ends (one class
only), dips in between and rises to a peak where T' matches the transition, since only there do the labels
follow a change of the data: the W shape. Its outer arms are what a classifier gets from the class proportions
alone, ``max(p, 1 - p)`` with p the ordered fraction of the test set; subtracting that trivial accuracy leaves
the middle peak, located per training seed by a local fit. Every guess between two neighbouring temperatures of
the data gives the same labels, so guesses are resolved only down to the data's temperature grid: the scan
evaluates each distinct labelling once, placed at the midpoint of the interval of guesses that produce it, which
makes the estimate independent of where a grid of guesses happens to fall.

Caveat: the excess is ``min(p, 1 - p) - error(T')``, and ``min(p, 1 - p)`` is a tent with its top at the median
temperature of the test set. Where the classifier's error varies slowly with T' (a temperature range narrow
compared with the width of the transition at that L, e.g. 2.1 - 2.5 at L = 16 or 32 with a threshold on |m|)
the peak of the excess is that median, not a property of the data; a warning is logged when the estimate lies
within one temperature spacing of it. The method needs a range wide enough for the accuracy to dip on both
sides (the W).

Temperatures in units of J/k_B.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
from sklearn.decomposition import PCA

from physics.transition.crossing import bootstrap_group_means, local_crossing, local_peak
from physics.transition.estimate import TcEstimate

log = logging.getLogger(__name__)

#: significance (in standard errors) at which two Binder cumulants count as separated on either side of a crossing
BINDER_SIGNIFICANCE = 2.0


# ----------------------------------------------------------------------------------------------------------------
# PCA over several sizes
# ----------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SizePCA:
    """PCA of the configurations of one lattice size and the per-temperature curves of its first component.

    Parameters
    ----------
    L : int
        Linear lattice size (N = L*L spins).
    T : ndarray
        Shape (n_T,).
        Temperatures (J/k_B), increasing.
    counts : ndarray of int
        Shape (n_T,).
        Configurations per temperature.
    explained_variance_ratio : ndarray
        Shape (k,).
        Fraction of the variance along each of the first k principal components.
    components : ndarray
        Shape (k, N).
        The principal directions, unit rows (the sign of each is arbitrary).
    uniformity : float
        ``|cos|`` of the angle between w1 and the uniform vector (1: exactly uniform).
    projections : ndarray of float32
        Shape (n, min(k, 2)).
        p1 (and p2) of every configuration, for scatter plots.
    groups : ndarray of int
        Shape (n,).
        Index into ``T`` of every configuration.
    abs_p1 : ndarray
        Shape (n_T,). ``<|p1|> / sqrt(N)`` (the magnetisation curve when w1 is uniform).
    abs_p1_err : ndarray
        Shape (n_T,). Its standard error.
    chi : ndarray
        Shape (n_T,). ``chi_p = (<p1^2> - <|p1|>^2) / T`` (per spin, units of 1/(J/k_B)).
    chi_err : ndarray
        Shape (n_T,). Its jackknife standard error.
    binder : ndarray
        Shape (n_T,). ``U_p = 1 - <p1^4> / (3 <p1^2>^2)`` (dimensionless).
    binder_err : ndarray
        Shape (n_T,). Its jackknife standard error.
    """

    L: int
    T: np.ndarray
    counts: np.ndarray
    explained_variance_ratio: np.ndarray
    components: np.ndarray
    uniformity: float
    projections: np.ndarray
    groups: np.ndarray
    abs_p1: np.ndarray
    abs_p1_err: np.ndarray
    chi: np.ndarray
    chi_err: np.ndarray
    binder: np.ndarray
    binder_err: np.ndarray


@dataclass(frozen=True)
class PCAScan:
    """PCA of one replica's configurations, size by size, with the located peaks and Binder crossings.

    Parameters
    ----------
    sizes : tuple of int
        Lattice sizes, increasing.
    by_size : dict
        L -> :class:`SizePCA`, the curves of that size.
    peak_T : dict
        L -> float, peak of ``chi_p(T, L)`` (J/k_B); NaN when the highest point sits at the edge of the grid or
        the local fit has no maximum (``failures[L]`` says which).
    peak_T_err : dict
        L -> float, bootstrap standard deviation of the peak (configurations resampled within each temperature,
        w1 held fixed); NaN when fewer than two replicates had a peak or ``n_boot`` was 0.
    binder_crossings : dict
        (L_small, L_large) -> float, for consecutive sizes: where ``U_p`` of the two sizes cross (J/k_B); NaN
        when they do not cross in the grid (``failures[(L_small, L_large)]`` says why).
    binder_crossings_err : dict
        (L_small, L_large) -> float, bootstrap standard deviation of the crossing (as ``peak_T_err``).
    failures : dict
        L or (L_small, L_large) -> str, why that peak or crossing is NaN (only the missing ones).
    n_boot : int
        Bootstrap replicates behind the ``*_err`` entries.
    """

    sizes: tuple
    by_size: dict
    peak_T: dict
    peak_T_err: dict
    binder_crossings: dict
    binder_crossings_err: dict
    failures: dict = field(default_factory=dict)
    n_boot: int = 0

    @property
    def uniformity(self) -> dict:
        """L -> ``|cos(w1, uniform)|`` of that size."""
        return {L: size.uniformity for L, size in self.by_size.items()}

    @property
    def explained_variance_ratio(self) -> dict:
        """L -> explained variance ratios (k,) of that size."""
        return {L: size.explained_variance_ratio for L, size in self.by_size.items()}


def jackknife_curves(values: np.ndarray, groups: np.ndarray, n_groups: int, function) -> tuple[np.ndarray, ...]:
    """Per-group value and jackknife standard error of ``function(means)``, a function of group means.

    The leave-one-out means of a sample i of group g are ``(S_g - x_i) / (n_g - 1)``, computed in closed form.

    Parameters
    ----------
    values : ndarray
        Per-sample quantities, shape (n_series, n).
    groups : ndarray of int
        Group index of every sample, shape (n,), in [0, n_groups); every group needs at least 2 samples.
    n_groups : int
        Number of groups.
    function : callable
        ``function(means, group)`` maps means of shape (n_series, m), whose columns belong to the groups ``group``
        (m,), to curves of shape (n_curves, m).

    Returns
    -------
    curves : ndarray
        Shape (n_curves, n_groups).
    stderr : ndarray
        Jackknife standard errors, shape (n_curves, n_groups).
    """
    counts = np.bincount(groups, minlength=n_groups).astype(np.float64)
    sums = np.stack([np.bincount(groups, weights=row, minlength=n_groups) for row in values])  # (s, G)
    curves = function(sums / counts, np.arange(n_groups))
    leave_out = (sums[:, groups] - values) / (counts[groups] - 1.0)  # (s, n)
    thetas = function(leave_out, groups)  # (c, n)
    mean = np.stack([np.bincount(groups, weights=row, minlength=n_groups) for row in thetas]) / counts
    squares = np.stack([np.bincount(groups, weights=row, minlength=n_groups)
                        for row in (thetas - mean[:, groups]) ** 2])
    return curves, np.sqrt((counts - 1.0) / counts * squares)


def _p1_curves(means: np.ndarray, T: np.ndarray, n_spins: int) -> np.ndarray:
    """(<|p1|>/sqrt(N), chi_p, U_p) from the means of (|p1|, p1^2, p1^4); T broadcasts over the last axis."""
    a1, a2, a4 = means[0], means[1], means[2]
    return np.stack([a1 / math.sqrt(n_spins), (a2 - a1 ** 2) / T, 1.0 - a4 / (3.0 * a2 ** 2)])


def positive_errors(sigma: np.ndarray) -> np.ndarray:
    """Standard errors with zeros (a temperature whose samples all agree) raised to the smallest positive one.

    Parameters
    ----------
    sigma : ndarray
        Standard errors, >= 0.

    Returns
    -------
    ndarray
        Same shape; all 1 when none is positive.
    """
    positive = sigma[sigma > 0]
    return np.maximum(sigma, positive.min() if positive.size else 1.0)


def _peak(T, chi, chi_err, n_points: int, degree: int):
    return local_peak(T, chi, sigma=chi_err, n_points=min(n_points, T.size), degree=degree)


def binder_crossing(T, difference, sigma, n_points: int, degree: int) -> tuple[float, str]:
    """Where ``U_large - U_small`` falls through 0, with the fit restricted to where the cumulants separate.

    Deep in either phase both cumulants reach the same limit (2/3 or 0) and the sign of their difference is
    noise. The crossing is bracketed by the first temperature where the difference is significantly negative
    (below -:data:`BINDER_SIGNIFICANCE` sigma) and the last one before it where it is significantly positive; the
    local fit uses that bracket, widened symmetrically to ``n_points`` grid points.

    Parameters
    ----------
    T : ndarray
        Temperature grid (J/k_B), increasing, shape (n_T,).
    difference : ndarray
        ``U_large - U_small`` on the grid, shape (n_T,).
    sigma : ndarray
        Its standard errors, shape (n_T,), > 0.
    n_points : int
        Grid points of the local fit.
    degree : int
        Polynomial degree of the local fit.

    Returns
    -------
    temperature : float
        The crossing (J/k_B); NaN when there is none.
    reason : str
        Why there is no crossing; empty when there is one.
    """
    negative = np.flatnonzero(difference < -BINDER_SIGNIFICANCE * sigma)
    if negative.size == 0:
        return math.nan, (f"no crossing: the larger lattice's U_p never falls significantly "
                          f"({BINDER_SIGNIFICANCE:g} sigma) below the smaller one's in [{T[0]:g}, {T[-1]:g}]")
    end = int(negative[0])
    positive = np.flatnonzero(difference[:end] > BINDER_SIGNIFICANCE * sigma[:end])
    if positive.size == 0:
        return math.nan, (f"no crossing: the larger lattice's U_p is never significantly ({BINDER_SIGNIFICANCE:g} "
                          f"sigma) above the smaller one's below T = {T[end]:g}")
    start = int(positive[-1])
    while end - start + 1 < min(n_points, T.size):  # widen to n_points, alternately on each side
        if start > 0 and (end - start) % 2 == 0 or end == T.size - 1:
            start -= 1
        else:
            end += 1
    window = slice(start, end + 1)
    result = local_crossing(T[window], difference[window], 0.0, sigma=sigma[window],
                            n_points=end - start + 1, degree=min(degree, end - start))
    return result.temperature, result.reason


def _check_dataset(L, item) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not isinstance(L, (int, np.integer)) or L < 2:
        raise ValueError(f"The 'datasets' parameter must map lattice sizes (int >= 2) to data. Got key {L!r} instead.")
    try:
        X, T, groups = item
    except (TypeError, ValueError):
        raise ValueError(f"The 'datasets' parameter must map L to a tuple (X, T_grid, groups). "
                         f"Got {type(item).__name__} for L = {L} instead.") from None
    X, T, groups = np.asarray(X), np.asarray(T, dtype=np.float64), np.asarray(groups)
    if X.ndim != 2 or X.shape[1] != L * L:
        raise ValueError(f"The 'datasets' parameter must hold X of shape (n, L*L) = (n, {L * L}) for L = {L}. "
                         f"Got shape {X.shape} instead.")
    if T.ndim != 1 or T.size < 3 or np.any(np.diff(T) <= 0):
        raise ValueError(f"The 'datasets' parameter must hold a strictly increasing T_grid of at least 3 "
                         f"temperatures for L = {L}. Got {T.tolist()} instead.")
    if groups.shape != (X.shape[0],) or not np.issubdtype(groups.dtype, np.integer) or groups.min() < 0 \
            or groups.max() >= T.size:
        raise ValueError(f"The 'datasets' parameter must hold groups: integers in [0, {T.size}) of shape "
                         f"({X.shape[0]},) for L = {L}. Got dtype {groups.dtype} and shape {groups.shape} instead.")
    counts = np.bincount(groups, minlength=T.size)
    if counts.min() < 2:
        raise ValueError(f"The 'datasets' parameter must hold at least 2 configurations per temperature for a "
                         f"jackknife error. Got {int(counts.min())} at T = {T[np.argmin(counts)]:g} for L = {L} "
                         f"instead.")
    return X, T, groups


def pca_by_size(datasets: Mapping[int, tuple], seed: int, *, n_components: int = 10, n_boot: int = 200,
                peak_points: int = 5, peak_degree: int = 2, crossing_points: int = 8,
                crossing_degree: int = 3) -> PCAScan:
    """PCA of the configurations of every lattice size of one replica: peaks of ``chi_p`` and p1-Binder crossings.

    Parameters
    ----------
    datasets : mapping
        L -> ``(X, T_grid, groups)``: X, shape (n, L*L), the flattened spins ±1 as floats; T_grid, shape (n_T,),
        the temperatures (J/k_B), strictly increasing; groups, int shape (n,), index into T_grid of every
        configuration (at least 2 per temperature). Binder crossings are taken between consecutive sizes on the
        temperatures their grids share.
    seed : int
        Seeds the randomized SVD of the PCA and the bootstrap.
    n_components : int, default 10
        Principal components kept per size (their explained variance ratios are reported).
    n_boot : int, default 200
        Bootstrap replicates for ``peak_T_err`` and ``binder_crossings_err`` (0: none, errors NaN).
    peak_points : int, default 5
        Grid points around the highest point of ``chi_p`` that the peak's polynomial is fitted to. The peak is
        skewed (a longer tail above T*): on a grid of step 0.02 at L = 64, 7 or 9 points move it up by 0.002 -
        0.004 (several replica errors), while 5 points agree with a fit on a 0.005 grid.
    peak_degree : {2, 4}, default 2
        Degree of that polynomial (:func:`physics.transition.crossing.local_peak`).
    crossing_points : int, default 8
        Grid points the crossing's polynomial is fitted to (at least the bracket where the cumulants separate).
    crossing_degree : int, default 3
        Degree of that polynomial (:func:`physics.transition.crossing.local_crossing`).

    Returns
    -------
    PCAScan
        Curves with jackknife errors per size, ``peak_T`` per size and ``binder_crossings`` per pair of
        consecutive sizes, NaN (with the reason logged and kept in ``failures``) where there is none.

    Raises
    ------
    ValueError
        On malformed ``datasets``, fewer than 2 configurations at a temperature, or ``n_components`` larger
        than the configurations or spins of a size.
    """
    if not datasets:
        raise ValueError("The 'datasets' parameter must hold at least one lattice size. Got none instead.")
    if not (isinstance(n_boot, (int, np.integer)) and n_boot >= 0):
        raise ValueError(f"The 'n_boot' parameter must be an int >= 0. Got {n_boot!r} instead.")
    if peak_degree not in (2, 4) or not (isinstance(peak_points, (int, np.integer)) and peak_points > peak_degree):
        raise ValueError(f"The 'peak_degree' and 'peak_points' parameters must be 2 or 4 and an int > peak_degree. "
                         f"Got {peak_degree!r} and {peak_points!r} instead.")
    if not (isinstance(crossing_degree, (int, np.integer)) and crossing_degree >= 1
            and isinstance(crossing_points, (int, np.integer)) and crossing_points > crossing_degree):
        raise ValueError(f"The 'crossing_degree' and 'crossing_points' parameters must be an int >= 1 and an int > "
                         f"crossing_degree. Got {crossing_degree!r} and {crossing_points!r} instead.")
    rng = np.random.default_rng(seed)
    sizes = tuple(sorted(int(L) for L in datasets))
    by_size, peak_T, peak_err, failures, boot = {}, {}, {}, {}, {}
    for L in sizes:
        X, T, groups = _check_dataset(L, datasets[L])
        n_spins = L * L
        if not (isinstance(n_components, (int, np.integer)) and 1 <= n_components <= min(X.shape)):
            raise ValueError(f"The 'n_components' parameter must be an int in [1, {min(X.shape)}] for L = {L}. "
                             f"Got {n_components!r} instead.")
        pca = PCA(n_components=n_components, svd_solver="randomized", random_state=seed)
        projections = pca.fit_transform(X)
        p1 = projections[:, 0].astype(np.float64)
        series = np.stack([np.abs(p1), p1 ** 2, p1 ** 4])
        (abs_p1, chi, binder), errors = jackknife_curves(
            series, groups, T.size, lambda means, group: _p1_curves(means, T[group], n_spins))
        uniformity = float(abs(pca.components_[0].sum()) / math.sqrt(n_spins))
        curves = SizePCA(L=L, T=T, counts=np.bincount(groups, minlength=T.size), explained_variance_ratio=
                         pca.explained_variance_ratio_, components=pca.components_, uniformity=uniformity,
                         projections=projections[:, :2].astype(np.float32), groups=groups, abs_p1=abs_p1,
                         abs_p1_err=errors[0], chi=chi, chi_err=positive_errors(errors[1]), binder=binder,
                         binder_err=positive_errors(errors[2]))
        by_size[L] = curves
        peak = _peak(T, chi, curves.chi_err, peak_points, peak_degree)
        peak_T[L] = peak.temperature
        if not peak.ok:
            failures[L] = f"chi_p of L = {L}: {peak.reason}"
            log.warning("PCA: %s", failures[L])
        boot[L] = None
        if n_boot:
            moments = bootstrap_group_means(series, groups, T.size, n_boot, rng)  # (B, 3, n_T)
            boot[L] = _p1_curves(np.moveaxis(moments, 1, 0), T, n_spins)  # (3, B, n_T)
            replicate_peaks = np.array([_peak(T, row, curves.chi_err, peak_points, peak_degree).temperature
                                        for row in boot[L][1]])
            peak_err[L] = _spread(replicate_peaks, f"the chi_p peak of L = {L}")
        else:
            peak_err[L] = math.nan
        log.info("PCA L = %d: explained variance ratio %s, |cos(w1, uniform)| = %.4f, chi_p peak T = %.4f ± %.4f",
                 L, np.array2string(pca.explained_variance_ratio_[:3], precision=4), uniformity, peak_T[L],
                 peak_err[L])

    crossings, crossing_err = {}, {}
    for small, large in zip(sizes[:-1], sizes[1:]):
        a, b = by_size[small], by_size[large]
        shared, i, j = np.intersect1d(a.T, b.T, assume_unique=True, return_indices=True)
        pair = (small, large)
        if shared.size < 3:
            crossings[pair], crossing_err[pair] = math.nan, math.nan
            failures[pair] = f"U_p of L = {small}, {large}: fewer than 3 shared temperatures"
            log.warning("PCA: %s", failures[pair])
            continue
        sigma = np.hypot(a.binder_err[i], b.binder_err[j])
        crossings[pair], reason = binder_crossing(shared, b.binder[j] - a.binder[i], sigma, crossing_points,
                                                   crossing_degree)
        if reason:
            failures[pair] = f"U_p of L = {small}, {large}: {reason}"
            log.warning("PCA: %s", failures[pair])
        crossing_err[pair] = math.nan
        if n_boot:  # the two sizes' replicates are independent (different Monte Carlo data)
            replicate = np.array([binder_crossing(shared, row_b[j] - row_a[i], sigma, crossing_points,
                                                   crossing_degree)[0]
                                  for row_a, row_b in zip(boot[small][2], boot[large][2])])
            crossing_err[pair] = _spread(replicate, f"the U_p crossing of L = {small}, {large}")
        log.info("PCA: U_p of L = %d and %d cross at T = %.4f ± %.4f", small, large, crossings[pair],
                 crossing_err[pair])
    return PCAScan(sizes=sizes, by_size=by_size, peak_T=peak_T, peak_T_err=peak_err, binder_crossings=crossings,
                   binder_crossings_err=crossing_err, failures=failures, n_boot=int(n_boot))


def _spread(replicates: np.ndarray, what: str) -> float:
    """Standard deviation of the finite bootstrap replicates (NaN below two), logging how many failed."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size < replicates.size:
        log.info("PCA: %d of %d bootstrap replicates of %s have none; left out of its error",
                 replicates.size - finite.size, replicates.size, what)
    return float(finite.std(ddof=1)) if finite.size >= 2 else math.nan


@dataclass(frozen=True)
class PCAEstimates:
    """The pseudo-critical temperatures of PCA combined over independent replicas.

    Parameters
    ----------
    peaks : dict
        L -> :class:`~physics.transition.estimate.TcEstimate` (kind ``"T*(L)"``, sizes ``(L,)``) of the
        ``chi_p`` peak; the input of a finite-size extrapolation.
    crossings : dict
        (L_small, L_large) -> TcEstimate (kind ``"T*(L)"``, sizes ``(L_small, L_large)``) of the p1-Binder
        crossing.
    """

    peaks: dict
    crossings: dict


def _combine(values: Sequence[float], bootstrap_errors: Sequence[float], reasons: Sequence[str], method: str,
             sizes: tuple, n_boot: int) -> TcEstimate:
    values, errors = np.asarray(values, dtype=np.float64), np.asarray(bootstrap_errors, dtype=np.float64)
    ok = np.isfinite(values)
    n, n_failed = int(ok.sum()), int((~ok).sum())
    fields = dict(kind="T*(L)", sizes=sizes, n_replicas=int(values.size), n_failed=n_failed,
                  extra={"replica_values": [float(v) for v in values]})
    if n == 0:
        return TcEstimate.none(method, failure="; ".join(sorted(set(r for r in reasons if r))) or "no value",
                               **fields)
    if n >= 2:
        return TcEstimate(method=method, value=float(values[ok].mean()),
                          stat=float(values[ok].std(ddof=1) / math.sqrt(n)),
                          stat_source=f"SD/sqrt(n) over n = {n} independent replicas of the whole pipeline "
                                      f"(fresh Monte Carlo data); systematic error not assessed",
                          dof=n - 1, **fields)
    return TcEstimate(method=method, value=float(values[ok][0]), stat=float(errors[ok][0]),
                      stat_source=f"bootstrap SD over the configurations of each temperature ({n_boot} replicates, "
                                  f"w1 held fixed) of the one replica with a value; systematic error not assessed",
                      **fields)


def combine_pca_scans(scans: Sequence[PCAScan]) -> PCAEstimates:
    """Combine the :class:`PCAScan` of independent replicas into pseudo-critical temperatures with errors.

    Parameters
    ----------
    scans : sequence of PCAScan
        One per replica (fresh Monte Carlo data each), all over the same sizes.

    Returns
    -------
    PCAEstimates
        Per size the ``chi_p`` peak and per pair of consecutive sizes the p1-Binder crossing, each the mean over
        the replicas that have one ± SD/sqrt(n) (Student's t with n - 1 degrees of freedom); replicas without one
        are counted in ``n_failed``. With a single replica the error is that replica's bootstrap SD.

    Raises
    ------
    ValueError
        When ``scans`` is empty or the scans do not cover the same sizes.
    """
    scans = list(scans)
    if not scans:
        raise ValueError("The 'scans' parameter must hold at least one PCAScan. Got none instead.")
    sizes = scans[0].sizes
    if any(scan.sizes != sizes for scan in scans):
        raise ValueError(f"The 'scans' parameter must hold scans of the same sizes. "
                         f"Got {[scan.sizes for scan in scans]} instead.")
    n_boot = scans[0].n_boot
    peaks = {L: _combine([s.peak_T[L] for s in scans], [s.peak_T_err[L] for s in scans],
                         [s.failures.get(L, "") for s in scans],
                         "PCA: peak of the first component's fluctuation chi_p(T) (local fit)", (L,), n_boot)
             for L in sizes}
    pairs = list(scans[0].binder_crossings)
    crossings = {pair: _combine([s.binder_crossings[pair] for s in scans],
                                [s.binder_crossings_err[pair] for s in scans],
                                [s.failures.get(pair, "") for s in scans],
                                "PCA: crossing of the first component's Binder cumulant U_p(T) of two sizes "
                                "(local fit)", pair, n_boot)
                 for pair in pairs}
    for L, estimate in peaks.items():
        log.info("PCA chi_p peak, L = %d: %s", L, estimate.describe())
    for pair, estimate in crossings.items():
        log.info("PCA U_p crossing, L = %d, %d: %s", *pair, estimate.describe())
    return PCAEstimates(peaks=peaks, crossings=crossings)


# ----------------------------------------------------------------------------------------------------------------
# learning by confusion
# ----------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConfusionResult:
    """A learning-by-confusion scan: accuracy against the guessed critical temperature, per training seed.

    Parameters
    ----------
    guesses : ndarray
        Shape (k,).
        The distinct labellings scanned, each at the midpoint of the interval of guesses T' that produce it
        (J/k_B), increasing; the first and last put every training sample in one class.
    accuracy : ndarray
        Shape (n_seeds, k).
        Test accuracy of the classifier trained on the labels of each guess (1 = ordered = T < T'), per seed.
    trivial : ndarray
        Shape (k,).
        Accuracy from the class proportions alone, ``max(p, 1 - p)`` with p the ordered fraction of the test set.
    one_class : ndarray of bool
        Shape (k,).
        Guesses whose training labels are all one class (not trained; the prediction is that class).
    coarse : ndarray of bool
        Shape (k,).
        Guesses reached by the coarse grid (the others come from the fine pass around the coarse peak).
    excess_mean : ndarray
        Shape (k,). Mean over seeds of ``accuracy - trivial``.
    excess_sd : ndarray
        Shape (k,). Standard deviation over seeds of ``accuracy - trivial``.
    seed_peaks : ndarray
        Shape (n_seeds,).
        Peak of each seed's excess accuracy (J/k_B), NaN when it has none.
    tc : TcEstimate
        Mean of the finite ``seed_peaks`` ± SD/sqrt(n), kind ``"T*(L)"`` (a pseudo-critical temperature of the
        data's size); ``extra`` holds the seed peaks, the number of labellings and the test set's median T.
    """

    guesses: np.ndarray
    accuracy: np.ndarray
    trivial: np.ndarray
    one_class: np.ndarray
    coarse: np.ndarray
    excess_mean: np.ndarray
    excess_sd: np.ndarray
    seed_peaks: np.ndarray
    tc: TcEstimate

    @property
    def tc_estimate(self) -> float:
        """The estimate's value (J/k_B), NaN when there is none."""
        return self.tc.value


def _positive_float(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"The '{name}' parameter must be a finite float > 0. Got {value!r} instead.")
    return float(value)


def confusion_scan(T_train, T_test, train_and_score: Callable[[int, np.ndarray, np.ndarray], float], *,
                   coarse_step: float, fine_step: float | None = None, fine_halfwidth: float | None = None,
                   n_seeds: int = 5, n_points: int = 5, degree: int = 2, size: int | None = None,
                   score: str = "accuracy") -> ConfusionResult:
    """Learning by confusion: a coarse then a fine scan of guessed critical temperatures, several seeds each.

    Parameters
    ----------
    T_train : array_like
        Shape (n_train,).
        Temperature of every training configuration (J/k_B).
    T_test : array_like
        Shape (n_test,).
        Temperature of every test configuration (J/k_B).
    train_and_score : callable
        ``train_and_score(seed, y_train, y_test) -> accuracy``: trains a fresh classifier on the labels
        ``y_train`` (int64, 1 = ordered = T < T') with the given seed and returns its accuracy on ``y_test``.
        A seed is passed unchanged at every guess of one scan (common random numbers, so that the curve of one
        seed varies smoothly with the guess); seeds run from 0 to ``n_seeds - 1``.
    coarse_step : float
        Spacing of the uniform coarse grid of guesses from the lowest to the highest data temperature (J/k_B).
    fine_step : float or None, default None
        Spacing of the fine grid (J/k_B); None: the smallest spacing of the data temperatures (every labelling
        in the fine window).
    fine_halfwidth : float or None, default None
        The fine grid spans the coarse peak ± this (J/k_B); None: ``coarse_step``, widened to hold at least
        ``n_points`` data temperatures.
    n_seeds : int, default 5
        Independent classifiers per guess (at least 1; an error needs 2).
    n_points : int, default 5
        Guesses around each seed's highest excess that its peak's polynomial is fitted to.
    degree : {2, 4}, default 2
        Degree of that polynomial (:func:`physics.transition.crossing.local_peak`).
    size : int or None, default None
        Lattice size of the data, recorded in the estimate's ``sizes``.
    score : {"accuracy", "balanced_accuracy"}, default "accuracy"
        What ``train_and_score`` returns. "accuracy": the trivial baseline is the class proportion max(p, 1 - p),
        whose minimum at the test set's median temperature can pull the peak there (see the module docstring);
        "balanced_accuracy" (the mean of the two classes' recalls): the trivial baseline is 1/2 at every guess
        and for one-class labellings, so the excess peaks where the labels follow the data, wherever the median.

    Returns
    -------
    ConfusionResult
        The scan, its trivial baseline and the estimate: the mean over seeds of the peak of ``accuracy -
        trivial`` ± SD/sqrt(n) (``n_failed``: seeds without a peak).

    Raises
    ------
    ValueError
        On empty or non-finite temperatures, fewer than 3 distinct temperatures, or a step, width or count out of
        range.
    """
    T_train, T_test = (np.asarray(t, dtype=np.float64) for t in (T_train, T_test))
    for name, t in (("T_train", T_train), ("T_test", T_test)):
        if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)):
            raise ValueError(f"The '{name}' parameter must be a non-empty finite 1-D array. "
                             f"Got shape {t.shape} instead.")
    temperatures = np.unique(np.concatenate([T_train, T_test]))
    if temperatures.size < 3:
        raise ValueError(f"The 'T_train' and 'T_test' parameters must hold at least 3 distinct temperatures. "
                         f"Got {temperatures.tolist()} instead.")
    if score not in ("accuracy", "balanced_accuracy"):
        raise ValueError(f"The 'score' parameter must be 'accuracy' or 'balanced_accuracy'. Got {score!r} instead.")
    balanced = score == "balanced_accuracy"
    if not (isinstance(n_seeds, (int, np.integer)) and n_seeds >= 1):
        raise ValueError(f"The 'n_seeds' parameter must be an int >= 1. Got {n_seeds!r} instead.")
    coarse_step = _positive_float(coarse_step, "coarse_step")
    spacing = float(np.diff(temperatures).min())
    fine_step = spacing if fine_step is None else _positive_float(fine_step, "fine_step")
    if fine_halfwidth is None:
        fine_halfwidth = max(coarse_step, (n_points + 1) / 2 * float(np.median(np.diff(temperatures))))
    fine_halfwidth = _positive_float(fine_halfwidth, "fine_halfwidth")

    # labelling j: the j lowest data temperatures are ordered; j = 0 and j = n_temperatures are one class
    edges = np.concatenate([[2 * temperatures[0] - temperatures[1]], temperatures,
                            [2 * temperatures[-1] - temperatures[-2]]])
    position = 0.5 * (edges[:-1] + edges[1:])  # midpoint of the interval of guesses giving labelling j
    accuracy: dict[int, np.ndarray] = {}

    def evaluate(guesses: np.ndarray) -> list[int]:
        labellings = np.unique(np.searchsorted(temperatures, guesses, side="left"))
        for j in labellings:
            if j in accuracy:
                continue
            guess = float(temperatures[j]) if j < temperatures.size else math.inf  # ordered iff T < guess
            y_train, y_test = (T_train < guess).astype(np.int64), (T_test < guess).astype(np.int64)
            if np.unique(y_train).size < 2:
                accuracy[j] = np.full(n_seeds, 0.5 if balanced else float(np.mean(y_test == y_train[0])))
            else:
                accuracy[j] = np.array([float(train_and_score(s, y_train, y_test)) for s in range(n_seeds)])
            log.info("confusion: T' = %.4f -> test accuracy %.4f ± %.4f over %d seeds", position[j],
                     accuracy[j].mean(), accuracy[j].std(), n_seeds)
        return [int(j) for j in labellings]

    def trivial_of(j: int) -> float:
        if balanced:
            return 0.5
        ordered = float(np.mean(T_test < (temperatures[j] if j < temperatures.size else math.inf)))
        return max(ordered, 1.0 - ordered)

    n_coarse = int(round((temperatures[-1] - temperatures[0]) / coarse_step)) + 1
    # the uniform grid from the lowest to the highest data temperature, and every sample ordered (T' = inf)
    coarse = evaluate(np.append(np.linspace(temperatures[0], temperatures[-1], max(n_coarse, 2)), math.inf))
    coarse_excess = np.array([accuracy[j].mean() - trivial_of(j) for j in coarse])
    centre = float(position[coarse[int(np.argmax(coarse_excess))]])
    n_fine = int(math.floor(fine_halfwidth / fine_step))
    evaluate(centre + fine_step * np.arange(-n_fine, n_fine + 1))
    # complete every seed's fit window: all labellings within n_points // 2 of its highest excess (in labelling
    # index), so that the points fitted do not depend on where the coarse grid fell
    while True:
        done = np.array(sorted(accuracy))
        excess_so_far = np.stack([accuracy[j] for j in done], axis=1) - np.array([trivial_of(j) for j in done])
        tops = done[np.argmax(excess_so_far, axis=1)]
        wanted = {int(j) for top in tops for j in range(top - n_points // 2, top + n_points // 2 + 1)
                  if 0 <= j <= temperatures.size} - set(accuracy)
        if not wanted:
            break
        evaluate(position[sorted(wanted)])
    log.info("confusion: %d coarse guesses (step %.4g) gave %d distinct labellings; fine pass (step %.4g) around "
             "T' = %.4f and the fit windows: %d labellings in all", n_coarse, coarse_step, len(coarse), fine_step,
             centre, len(accuracy))

    order = np.array(sorted(accuracy))
    guesses = position[order]
    acc = np.stack([accuracy[j] for j in order], axis=1)  # (n_seeds, k)
    trivial = np.array([trivial_of(j) for j in order])
    one_class = np.array([np.unique((T_train < (temperatures[j] if j < temperatures.size else math.inf))).size < 2
                          for j in order])
    excess = acc - trivial
    seed_peaks, reasons = np.full(n_seeds, math.nan), []
    resolution = 0.5 / T_test.size  # less than one test sample above the baseline is not above it
    for s in range(n_seeds):
        if excess[s].max() < resolution:
            reasons.append(f"seed {s}: never above the trivial accuracy")
            continue
        peak = local_peak(guesses, excess[s], n_points=min(n_points, guesses.size), degree=degree)
        if peak.ok:
            seed_peaks[s] = peak.temperature
        else:
            reasons.append(f"seed {s}: {peak.reason}")
    for reason in reasons:
        log.warning("confusion: no peak for %s", reason)

    method = ("learning by confusion: peak of the balanced test accuracy above 1/2 (local fit)" if balanced else
              "learning by confusion: peak of the test accuracy above the class-proportion baseline (local fit)")
    ok = np.isfinite(seed_peaks)
    n = int(ok.sum())
    fields = dict(kind="T*(L)", sizes=() if size is None else (int(size),), n_replicas=int(n_seeds),
                  n_failed=int(n_seeds - n), extra={"seed_peaks": [float(p) for p in seed_peaks],
                                                    "n_labellings": int(order.size),
                                                    "test_median_T": float(np.median(T_test))})
    if n == 0:
        estimate = TcEstimate.none(method, failure="no peak of the excess accuracy: " + "; ".join(reasons), **fields)
    else:
        stat = float(seed_peaks[ok].std(ddof=1) / math.sqrt(n)) if n >= 2 else math.nan
        estimate = TcEstimate(method=method, value=float(seed_peaks[ok].mean()), stat=stat,
                              stat_source=f"SD/sqrt(n) over n = {n} training seeds on one Monte Carlo data set "
                                          f"(Monte Carlo noise and systematic error not assessed)",
                              dof=n - 1 if n >= 2 else None, **fields)
    log.info("confusion: %s", estimate.describe())
    median = float(np.median(T_test))
    if not balanced and estimate.ok and abs(estimate.value - median) < float(np.median(np.diff(temperatures))):
        log.warning("confusion: the estimate %.4f lies within one temperature spacing of the test set's median "
                    "temperature %.4f, where the trivial accuracy max(p, 1 - p) is lowest: it may follow the "
                    "baseline rather than the data (check that the accuracy itself peaks there)", estimate.value,
                    median)
    return ConfusionResult(guesses=guesses, accuracy=acc, trivial=trivial, one_class=one_class,
                           coarse=np.isin(order, coarse), excess_mean=excess.mean(axis=0),
                           excess_sd=excess.std(axis=0, ddof=1) if n_seeds > 1 else np.zeros(order.size),
                           seed_peaks=seed_peaks, tc=estimate)
