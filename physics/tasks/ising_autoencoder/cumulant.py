"""The Binder-like cumulant of a one-dimensional latent variable, its crossings between lattice sizes, and what
they say about T_c: the construction of PCA's ``U_p`` (:mod:`physics.transition.unsupervised`) for any per-
configuration variable z.

Per lattice size L and temperature T, with z one number per configuration,

    U_z(T, L) = 1 - <z^4> / (3 <z^2>^2)

(2/3 for two sharp peaks ±a, 0 for a Gaussian centred at 0); the moments are about z = 0, so z must be centred
by construction (the task uses the part of the code that is odd under the global spin flip, whose mean is 0 by
symmetry: :mod:`physics.tasks.ising_autoencoder.latent`). Where z is a scaling variable (the magnetisation, or
a monotonic function of it) the curves of different sizes cross at T_c up to corrections to scaling.

:func:`cumulant_scan` does for one replica what :func:`physics.transition.unsupervised.pca_by_size` does for p1:
the same jackknife errors per temperature, the same crossing rule (``binder_crossing``: the difference of two
consecutive sizes, bracketed where it is significantly positive and then negative, located by a local cubic fit)
and a bootstrap error per crossing (configurations resampled within each temperature, the trained encoder held
fixed). :func:`combine_scans` turns independent replicas into pseudo-critical temperatures T*(L_a, L_b) with
SD/sqrt(n) errors (Student's t), and :func:`tc_from_crossings` applies task=ising's PCA rule
(:func:`physics.tasks.ising.analysis.pca`): T_c(inf) is the crossing of the two largest sizes, its systematic
error the step from the previous pair's crossing divided by (L_max / L_previous)^2 - 1, a bound on the drift still
to go for crossings converging as L^-(1/nu + omega) with omega >= 1 -- the change when the smallest size is
dropped, carried to L = infinity.

Temperatures in units of J/k_B.
"""
from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from physics.transition.crossing import bootstrap_group_means
from physics.transition.estimate import TcEstimate
from physics.transition.replicas import combine
from physics.transition.unsupervised import binder_crossing, jackknife_curves, positive_errors

log = logging.getLogger(__name__)

#: grid points and degree of the local fit of a crossing (those of pca_by_size)
CROSSING_POINTS, CROSSING_DEGREE = 8, 3


def _binder_of_means(means: np.ndarray) -> np.ndarray:
    """U = 1 - <z^4> / (3 <z^2>^2) from the means of (z^2, z^4) (first axis); shape (1, ...)."""
    return (1.0 - means[1] / (3.0 * means[0] ** 2))[None]


def binder_curve(z, groups, n_T: int) -> tuple[np.ndarray, np.ndarray]:
    """U_z per temperature and its jackknife standard error (zeros raised to the smallest positive one).

    Parameters
    ----------
    z : array_like, shape (n,), one value per configuration (centred by construction).
    groups : int array, shape (n,), index into the temperature grid of every configuration (at least 2 each).
    n_T : int, the number of temperatures.

    Returns
    -------
    (U, U_err), two arrays of shape (n_T,).
    """
    z = np.asarray(z, dtype=np.float64)
    (U,), (error,) = jackknife_curves(np.stack([z ** 2, z ** 4]), groups, n_T,
                                       lambda means, group: _binder_of_means(means))
    return U, positive_errors(error)


@dataclass(frozen=True)
class CumulantScan:
    """One replica's cumulant curves of every size and the crossings of consecutive sizes.

    Parameters
    ----------
    sizes : tuple of int, increasing.
    T : ndarray (n_T,), the temperatures (J/k_B) shared by every size.
    binder, binder_err : dict, L -> (n_T,) U_z and its jackknife standard error.
    crossings : dict, (L_small, L_large) -> float, where U_z of the two sizes cross (J/k_B); NaN when they do not
        (``failures`` says why).
    crossings_err : dict, (L_small, L_large) -> float, bootstrap SD of the crossing (NaN with ``n_boot`` 0 or
        fewer than two replicates with a crossing).
    failures : dict, (L_small, L_large) -> str, for the missing crossings only.
    n_boot : int, the bootstrap replicates behind ``crossings_err``.
    """

    sizes: tuple
    T: np.ndarray
    binder: dict
    binder_err: dict
    crossings: dict
    crossings_err: dict
    failures: dict = field(default_factory=dict)
    n_boot: int = 0


def _check_latent(L, item) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        z, T, groups = item
    except (TypeError, ValueError):
        raise ValueError(f"The 'latents' parameter must map L to a tuple (z, T_grid, groups). "
                         f"Got {type(item).__name__} for L = {L} instead.") from None
    z, T, groups = np.asarray(z, dtype=np.float64), np.asarray(T, dtype=np.float64), np.asarray(groups)
    if z.ndim != 1 or not np.all(np.isfinite(z)):
        raise ValueError(f"The 'latents' parameter must hold a finite 1-D z for L = {L}. Got shape {z.shape} "
                         f"instead.")
    if T.ndim != 1 or T.size < 4 or np.any(np.diff(T) <= 0):
        raise ValueError(f"The 'latents' parameter must hold a strictly increasing T_grid of at least 4 temperatures "
                         f"for L = {L}. Got {T.tolist()} instead.")
    if groups.shape != z.shape or not np.issubdtype(groups.dtype, np.integer) or groups.min() < 0 \
            or groups.max() >= T.size:
        raise ValueError(f"The 'latents' parameter must hold groups: integers in [0, {T.size}) of shape {z.shape} "
                         f"for L = {L}. Got dtype {groups.dtype} and shape {groups.shape} instead.")
    counts = np.bincount(groups, minlength=T.size)
    if counts.min() < 2:
        raise ValueError(f"The 'latents' parameter must hold at least 2 configurations per temperature for a "
                         f"jackknife error. Got {int(counts.min())} at T = {T[np.argmin(counts)]:g} for L = {L}.")
    return z, T, groups


def _spread(replicates: np.ndarray) -> float:
    finite = replicates[np.isfinite(replicates)]
    return float(finite.std(ddof=1)) if finite.size >= 2 else math.nan


def _crossing(T, difference, sigma, n_points: int, degree: int) -> tuple[float, str]:
    """``binder_crossing`` of PCA's U_p, or NaN with the reason where the curves are not finite."""
    if not (np.all(np.isfinite(difference)) and np.all(np.isfinite(sigma))):
        return math.nan, ("no crossing: the cumulant is not finite at every temperature (a latent that is 0 for "
                          "every configuration of a temperature)")
    return binder_crossing(T, difference, sigma, n_points, degree)


def cumulant_scan(latents: Mapping[int, tuple], rng: np.random.Generator, *, n_boot: int = 200,
                  crossing_points: int = CROSSING_POINTS, crossing_degree: int = CROSSING_DEGREE,
                  what: str = "U_z") -> CumulantScan:
    """U_z of every size of one replica and the crossings of consecutive sizes.

    Parameters
    ----------
    latents : mapping, L -> ``(z, T_grid, groups)``: z (n,) one centred value per configuration; T_grid (n_T,) the
        temperatures (J/k_B), strictly increasing, the same for every size; groups (n,) int, index into T_grid of
        every configuration (at least 2 per temperature).
    rng : numpy Generator, the bootstrap's draws.
    n_boot : int >= 0, bootstrap replicates per size (0: no bootstrap error).
    crossing_points, crossing_degree : the local fit of a crossing (those of PCA's U_p by default).
    what : str, the name of the cumulant in the log and the failures.

    Returns
    -------
    CumulantScan, with NaN (and the reason in ``failures``) where two sizes do not cross.

    Raises
    ------
    ValueError on malformed ``latents``, fewer than 2 sizes, or sizes on different grids.
    """
    if len(latents) < 2:
        raise ValueError(f"The 'latents' parameter must hold at least 2 lattice sizes (a crossing needs two). "
                         f"Got {sorted(latents)} instead.")
    if not (isinstance(n_boot, (int, np.integer)) and n_boot >= 0):
        raise ValueError(f"The 'n_boot' parameter must be an int >= 0. Got {n_boot!r} instead.")
    sizes = tuple(sorted(int(L) for L in latents))
    checked = {L: _check_latent(L, latents[L]) for L in sizes}
    T = checked[sizes[0]][1]
    if any(not np.array_equal(item[1], T) for item in checked.values()):
        raise ValueError("The 'latents' parameter must hold the same T_grid for every size.")
    binder, binder_err, boot = {}, {}, {}
    for L in sizes:
        z, _, groups = checked[L]
        binder[L], binder_err[L] = binder_curve(z, groups, T.size)
        if n_boot:
            moments = bootstrap_group_means(np.stack([z ** 2, z ** 4]), groups, T.size, n_boot, rng)  # (B, 2, n_T)
            boot[L] = _binder_of_means(np.moveaxis(moments, 1, 0))[0]  # (B, n_T)
    crossings, crossings_err, failures = {}, {}, {}
    for small, large in zip(sizes[:-1], sizes[1:]):
        pair = (small, large)
        difference = binder[large] - binder[small]
        sigma = np.hypot(binder_err[small], binder_err[large])
        crossings[pair], reason = _crossing(T, difference, sigma, crossing_points, crossing_degree)
        if reason:
            failures[pair] = f"{what} of L = {small}, {large}: {reason.replace('U_p', what)}"
            log.info("%s", failures[pair])
        crossings_err[pair] = math.nan
        if n_boot and np.isfinite(crossings[pair]):
            replicates = np.array([_crossing(T, b - a, sigma, crossing_points, crossing_degree)[0]
                                   for a, b in zip(boot[small], boot[large])])
            crossings_err[pair] = _spread(replicates)
    return CumulantScan(sizes=sizes, T=T, binder=binder, binder_err=binder_err, crossings=crossings,
                        crossings_err=crossings_err, failures=failures, n_boot=int(n_boot))


def combine_scans(scans: Sequence[CumulantScan], method: str) -> dict:
    """The crossings of independent replicas as pseudo-critical temperatures.

    Returns
    -------
    dict, (L_small, L_large) -> :class:`TcEstimate` of kind ``"T*(L)"``: the mean over the replicas with a crossing
    ± SD/sqrt(n) (Student's t, n - 1 degrees of freedom; :func:`physics.transition.replicas.combine`), the replica
    values in ``extra``; with a single replica, its bootstrap SD. A replica without a crossing is counted in
    ``n_failed``; with none, no estimate and the reasons in ``failure``.
    """
    scans = list(scans)
    if not scans:
        raise ValueError("The 'scans' parameter must hold at least one CumulantScan. Got none instead.")
    out = {}
    for pair in scans[0].crossings:
        values = np.array([scan.crossings[pair] for scan in scans])
        extra = {"replica_values": [float(v) for v in values],
                 "replica_bootstrap_sd": [float(scan.crossings_err[pair]) for scan in scans]}
        estimate = combine(values, method=method, kind="T*(L)", sizes=pair, extra=extra)
        if len(scans) == 1 and estimate.ok:
            estimate = dataclasses.replace(
                estimate, stat=float(scans[0].crossings_err[pair]),
                stat_source=f"bootstrap SD over the configurations of each temperature ({scans[0].n_boot} "
                            f"replicates, the trained encoder held fixed) of the one replica: training and Monte "
                            f"Carlo seeds not varied; systematic error not assessed")
        if not estimate.ok:
            reasons = sorted({scan.failures[pair] for scan in scans if pair in scan.failures})
            estimate = dataclasses.replace(estimate, failure=f"{estimate.failure}: {'; '.join(reasons)}"
                                           if reasons else estimate.failure)
        out[pair] = estimate
    return out


def tc_from_crossings(crossings: Mapping[tuple, TcEstimate], sizes: Sequence[int]) -> TcEstimate:
    """T_c from the pair crossings, by task=ising's PCA rule (module docstring).

    With 2 or more pairs whose two largest have a value: kind ``"T_c(inf)"``, the crossing of the largest pair with
    its statistical error, and ``sys = |step| / ((L_max / L_previous)^2 - 1)``, ``step`` the change of the crossing
    from the previous pair to the largest (the smallest size dropped). Otherwise the largest pair's own estimate, of
    kind ``"T*(L)"`` (a pseudo-critical temperature: never to be compared with the exact T_c), or its failure.
    """
    pairs = [crossings[pair] for pair in sorted(crossings)]
    if not pairs:
        raise ValueError("The 'crossings' parameter must hold at least one pair of sizes. Got none instead.")
    last = pairs[-1]
    if len(pairs) < 2 or not (last.ok and pairs[-2].ok):
        if len(pairs) >= 2 and last.ok:
            log.warning("the crossing of L = %d, %d has no estimate: no systematic error, so %s stays a "
                        "pseudo-critical temperature", *pairs[-2].sizes, last.sizes)
        return last
    previous = pairs[-2]
    ratio = (last.sizes[1] / previous.sizes[1]) ** 2
    step = last.value - previous.value
    return dataclasses.replace(
        last, kind="T_c(inf)", sys=abs(step) / (ratio - 1.0), sizes=tuple(int(L) for L in sizes),
        sys_source=f"|crossing(L = {last.sizes[0]}/{last.sizes[1]}) - crossing(L = {previous.sizes[0]}/"
                   f"{previous.sizes[1]})| / {ratio - 1:g}: the change when the smallest size is dropped, a bound on "
                   f"the drift still to go (crossings converging as L^-(1/nu + omega), omega >= 1)")
