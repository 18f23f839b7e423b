"""The physics baseline for T_c: crossings of Binder cumulants from reweighted Swendsen–Wang chains.

The Binder cumulant ``U_4 = 1 - <m^4> / (3 <m^2>^2)`` (m: magnetisation per spin) is 2/3 deep in the ordered phase,
0 in the disordered one and scale invariant at T_c, so the curves ``U_4(T)`` of two sizes cross close to T_c; the
crossings of the pairs ``(L, 2L)`` approach T_c faster than any pseudo-critical temperature (Binder, Z. Phys. B 43,
119 (1981)). At T_c the cumulant of the square torus takes the universal value ``U_4* = 0.61069`` (``U4_STAR``).

:func:`critical_runs` and :func:`binder_baseline` (returning a :class:`BinderResult`) are the physics baseline
a machine-learned T_c is compared with: Swendsen–Wang chains of every size at one temperature, ``U_4(T)`` around
it by single-histogram reweighting (:mod:`physics.transition.reweighting`), the crossing of each pair of
consecutive sizes by root finding, and a jackknife over independent chains for every error. The exact T_c is not
an input: the simulation temperature is found from pilot runs started at ``start_temperature``.

Temperatures in units of J/k_B.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from joblib import Parallel, cpu_count, delayed
from scipy.optimize import brentq
from tqdm import tqdm

from physics.ising.sampling import simulate
from physics.transition.estimate import TcEstimate
from physics.transition.reweighting import reweighted_chain_sums, reweighting_range

log = logging.getLogger(__name__)

#: Universal U_4 at T_c on the square L x L torus of the 2D Ising model: Salas & Sokal, J. Stat. Phys. 98, 551
#: (2000), <m^4>/<m^2>^2 = 1.1679229(47), so U_4* = 1 - 1.1679229/3 = 0.6106924(16).
U4_STAR = 0.6106924

_CHAINS_PER_TASK = 8  # chains simulated side by side in one task: the batched update is ~2x cheaper per chain
_MAX_PILOTS = 4  # pilot runs, each moving the simulation temperature to the edge of the reweighting range
_GRID_POINTS = 101  # temperatures of the curves and of the bracketing grid


# -- argument checks ----------------------------------------------------------------------------------------
def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"The '{name}' parameter must be an int >= {minimum}. Got {value!r} instead.")
    return int(value)


def _check_sizes(sizes, minimum: int) -> list[int]:
    values = list(sizes) if isinstance(sizes, (list, tuple, np.ndarray)) else None
    ok = values is not None and len(values) >= minimum and all(
        not isinstance(L, bool) and isinstance(L, (int, np.integer)) and L >= 2 for L in values)
    if not ok or any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f"The 'sizes' parameter must be a strictly increasing sequence of at least {minimum} "
                         f"ints >= 2 (linear lattice sizes). Got {sizes!r} instead.")
    return [int(L) for L in values]


def _check_temperature(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0 < value < math.inf:
        raise ValueError(f"The '{name}' parameter must be a finite temperature > 0 (J/k_B). Got {value!r} instead.")
    return float(value)


def _check_seed(seed) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):  # a fresh copy: spawning from it does not advance the caller's
        return np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key, pool_size=seed.pool_size)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"The 'seed' parameter must be an int >= 0 or a numpy SeedSequence. Got {seed!r} instead.")
    return np.random.SeedSequence(int(seed))


def _check_n_jobs(n_jobs):
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0):
        raise ValueError(f"The 'n_jobs' parameter must be None or a non-zero int. Got {n_jobs!r} instead.")
    return n_jobs


# -- Swendsen–Wang runs ---------------------------------------------------------------------------------------
def _run_block(index: int, L: int, temperature: float, n_chains: int, n_sweeps: int,
               seed: np.random.SeedSequence) -> tuple[int, dict]:
    """One task of :func:`critical_runs`: ``n_chains`` Swendsen–Wang chains of size ``L`` side by side."""
    return index, simulate(L, temperature, n_sweeps, algorithm="swendsen_wang", seed=seed, n_chains=n_chains)


def critical_runs(sizes, temperature, *, n_chains, n_sweeps, seed, n_jobs=None, progress=False) -> dict:
    """Independent Swendsen–Wang chains of every size at one temperature, with per-sweep measurements.

    Each size's chains run in tasks of up to 8 chains side by side (:func:`physics.ising.simulate` with
    ``algorithm="swendsen_wang"``; burn-in from its pilot run, at least 20 ``tau_int``); tasks are spread over
    cores with joblib. Random streams: ``SeedSequence(seed).spawn(len(sizes))`` gives one per size, which spawns one
    per task; the tasks do not depend on ``n_jobs``, so the same seed gives the same numbers.

    Parameters
    ----------
    sizes : sequence of int
        Strictly increasing linear sizes (>= 2).
    temperature : float
        Simulation temperature (J/k_B).
    n_chains : int
        Independent chains per size, >= 1.
    n_sweeps : int or dict of int to int
        Measured sweeps per chain (one measurement after each), >= 1: the same for every size, or per size
        (L -> sweeps).
    seed : int or numpy.random.SeedSequence
        The root of the random streams; an int must be >= 0.
    n_jobs : int or None, default None
        joblib workers; None: all cores (at most one per task).
    progress : bool, default False
        Show a tqdm bar over tasks.

    Returns
    -------
    dict
        L -> dict with ``energy`` and ``magnetization`` (float64, shape (n_chains, n_sweeps of that size): energy
        and signed magnetisation per spin after each sweep), ``temperature`` (float), ``burn_in`` (list of int,
        sweeps before the first measurement in each task) and ``L`` (int).
    """
    sizes = _check_sizes(sizes, 1)
    T = _check_temperature(temperature, "temperature")
    n_chains = _check_int(n_chains, "n_chains", 1)
    if isinstance(n_sweeps, dict):
        if sorted(n_sweeps) != sizes:
            raise ValueError(f"The 'n_sweeps' parameter must be an int or a dict with one entry per size {sizes}. "
                             f"Got {n_sweeps!r} instead.")
        sweeps = {L: _check_int(n_sweeps[L], f"n_sweeps[{L}]", 1) for L in sizes}
    else:
        sweeps = dict.fromkeys(sizes, _check_int(n_sweeps, "n_sweeps", 1))
    root = _check_seed(seed)
    n_jobs = _check_n_jobs(n_jobs)
    if not isinstance(progress, bool):
        raise ValueError(f"The 'progress' parameter must be a bool. Got {progress!r} instead.")
    blocks = [_CHAINS_PER_TASK] * (n_chains // _CHAINS_PER_TASK) + ([n_chains % _CHAINS_PER_TASK]
                                                                     if n_chains % _CHAINS_PER_TASK else [])
    tasks = [(L, k, block_seed) for L, size_seed in zip(sizes, root.spawn(len(sizes)))
             for k, block_seed in zip(blocks, size_seed.spawn(len(blocks)))]
    order = sorted(range(len(tasks)), key=lambda i: -tasks[i][0] ** 2 * tasks[i][1] * sweeps[tasks[i][0]])  # big first
    workers = min(cpu_count(), len(tasks)) if n_jobs is None else n_jobs
    results: list = [None] * len(tasks)
    with tqdm(total=len(tasks), disable=not progress, desc=f"Swendsen-Wang at T = {T:g}", unit="task") as bar:
        outputs = Parallel(n_jobs=workers, return_as="generator_unordered")(
            delayed(_run_block)(i, tasks[i][0], T, tasks[i][1], sweeps[tasks[i][0]], tasks[i][2]) for i in order)
        for i, run in outputs:
            results[i] = run
            bar.update(1)
    out = {}
    for L in sizes:
        runs = [run for (size, _, _), run in zip(tasks, results) if size == L]
        out[L] = {"energy": np.concatenate([r["energy"] for r in runs]),
                  "magnetization": np.concatenate([r["magnetization"] for r in runs]),
                  "temperature": T, "burn_in": [int(r["burn_in"]) for r in runs], "L": L}
    log.info("Swendsen-Wang at T = %g: %d chains of L = %s, sweeps %s", T, n_chains, sizes, list(sweeps.values()))
    return out


# -- reweighted Binder cumulants -------------------------------------------------------------------------------
class _Reweighted:
    """One size's chains at ``T0``: U_4 at any temperature in its reweighting range, over any subset of chains."""

    def __init__(self, run: dict):
        L, self.T0 = run["L"], run["temperature"]
        m2 = run["magnetization"] ** 2
        self.energy = run["energy"] * (L * L)  # total energy (J)
        self.moments = np.stack([m2, m2 * m2])  # (2, n_chains, n)
        self.n_chains = self.energy.shape[0]
        low, high = reweighting_range(self.energy, self.T0)
        self.range = (low, min(high, 2.0 * self.T0))  # high is inf where 1/T0 <= width / sigma_E (tiny lattices)

    def sums(self, T) -> tuple[np.ndarray, np.ndarray]:
        """Per-chain weighted sums at ``T`` (n_T,): W (n_chains, n_T), S (2, n_chains, n_T)."""
        return reweighted_chain_sums(self.energy, self.moments, self.T0, np.atleast_1d(T))

    @staticmethod
    def binder(W, S, include=None) -> np.ndarray:
        """U_4 from the sums of the chains in ``include`` (bool mask (n_chains,); None: all), shape (n_T,)."""
        if include is not None:
            W, S = W[include], S[:, include]
        m2, m4 = S.sum(axis=1) / W.sum(axis=0)
        return 1.0 - m4 / (3.0 * m2 ** 2)

    def at(self, T: float, include=None) -> float:
        W, S = self.sums(T)
        return float(self.binder(W, S, include)[0])


def _leave_one_out(n_chains: int) -> list:
    return [np.arange(n_chains) != j for j in range(n_chains)]


def _jackknife_error(values: np.ndarray) -> float:
    """``sqrt((n - 1)/n sum (f_j - fbar)^2)`` over leave-one-out values; NaN if any is NaN."""
    n = values.size
    return float(np.sqrt((n - 1) / n * np.sum((values - values.mean()) ** 2)))


class _Pair:
    """Two sizes' reweighted cumulants on a grid over their common reweighting range (sums of every chain kept,
    so the curves of any subset of chains cost no further reweighting)."""

    def __init__(self, small: _Reweighted, large: _Reweighted):
        self.small, self.large = small, large
        self.low, self.high = max(small.range[0], large.range[0]), min(small.range[1], large.range[1])
        self.ok = self.low < self.high
        if self.ok:
            self.grid = np.linspace(self.low, self.high, _GRID_POINTS)
            self.sums = small.sums(self.grid), large.sums(self.grid)

    def difference(self, include=None) -> np.ndarray:
        """``U_large - U_small`` on the grid over the chains in ``include``, shape (101,)."""
        (W_small, S_small), (W_large, S_large) = self.sums
        return self.large.binder(W_large, S_large, include) - self.small.binder(W_small, S_small, include)

    def crossing(self, reference: float, include=None) -> tuple[float, float]:
        """Crossing ``(T, U_4 of the larger size)`` over the chains in ``include``; NaN if none in range.

        ``U_large - U_small`` falls through 0 at the crossing (the larger lattice is more ordered below it, less
        above). Of its downward sign changes on the grid the one nearest ``reference`` is refined by ``brentq`` on
        the exact reweighted difference.
        """
        if not self.ok:
            return math.nan, math.nan
        diff = self.difference(include)
        down = np.flatnonzero((diff[:-1] > 0) & (diff[1:] <= 0))
        if down.size == 0:
            return math.nan, math.nan
        grid = self.grid
        k = down[np.argmin(np.abs(0.5 * (grid[down] + grid[down + 1]) - reference))]
        if diff[k + 1] == 0:
            root = float(grid[k + 1])
        else:
            root = brentq(lambda t: self.large.at(t, include) - self.small.at(t, include), grid[k], grid[k + 1],
                          xtol=1e-7)
        return float(root), self.large.at(root, include)

    def edge_towards_crossing(self) -> float:
        """Where a pilot should move when the pair does not cross in range: the range edge towards the crossing.

        ``U_large - U_small > 0`` at both edges: the crossing lies above; ``< 0`` at both: below. NaN otherwise.
        """
        if not self.ok:
            return math.nan
        diff = self.difference()
        if diff[0] > 0 and diff[-1] > 0:
            return self.high
        if diff[0] < 0 and diff[-1] < 0:
            return self.low
        return math.nan


# -- the baseline ---------------------------------------------------------------------------------------------
@dataclass
class BinderResult:
    """Outcome of :func:`binder_baseline`.

    Attributes
    ----------
    pairs : list of dict
        One per pair of consecutive sizes: ``L_small``, ``L_large``, ``T_cross`` and ``T_cross_err`` (J/k_B),
        ``U4_cross`` and ``U4_cross_err`` (jackknife over chains; NaN when the curves do not cross in range).
    tc : TcEstimate
        T_c(inf): the crossing of the largest pair (see :func:`binder_baseline` for its errors).
    U4 : dict
        ``value``, ``stat`` (jackknife), ``exact`` (``U4_STAR``, Salas & Sokal 2000), ``pull`` ((value - exact) /
        stat) and ``sizes``: U_4 at the largest pair's crossing.
    curves : dict L -> (T_grid, U4, U4_err)
        Reweighted U_4 of each size on 101 temperatures spanning its reweighting range (ndarrays (101,)), with
        jackknife errors over its chains; for figures.
    simulation_temperature : float
        Where the production chains ran (J/k_B): the pilot's crossing, rounded to 1e-3.
    seconds : float
        Wall time of the whole baseline.
    pilot_temperatures : list of float
        Temperatures of the successive pilot runs (J/k_B), ``start_temperature`` first.
    settings : dict
        ``sizes``, ``n_chains``, ``n_sweeps``, ``pilot_sweeps``, ``start_temperature``.
    """

    pairs: list
    tc: TcEstimate
    U4: dict
    curves: dict
    simulation_temperature: float
    seconds: float
    pilot_temperatures: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """JSON-ready (NaN stays a float; :func:`physics.app.io.write_json` writes it as null)."""
        tc = asdict(self.tc)
        tc["sizes"] = list(tc["sizes"])
        return {"pairs": self.pairs, "tc": tc, "U4": self.U4,
                "curves": {str(L): [np.asarray(a).tolist() for a in c] for L, c in self.curves.items()},
                "simulation_temperature": self.simulation_temperature, "seconds": self.seconds,
                "pilot_temperatures": list(self.pilot_temperatures), "settings": self.settings}

    @classmethod
    def from_dict(cls, data: dict) -> "BinderResult":
        """Inverse of :meth:`as_dict`, also after a JSON round trip that turned NaN into None.

        Parameters
        ----------
        data : dict
            The output of :meth:`as_dict`, possibly read back from JSON.

        Returns
        -------
        BinderResult
            The result.
        """
        nan = lambda x: math.nan if x is None else x  # noqa: E731
        tc = dict(data["tc"])
        for key in ("value", "stat", "sys"):
            tc[key] = float(nan(tc[key]))
        tc["sizes"] = tuple(tc["sizes"])
        return cls(pairs=[{k: nan(v) for k, v in p.items()} for p in data["pairs"]], tc=TcEstimate(**tc),
                   U4={k: nan(v) for k, v in data["U4"].items()},
                   curves={int(L): tuple(np.array(a, dtype=np.float64) for a in c) for L, c in data["curves"].items()},
                   simulation_temperature=float(data["simulation_temperature"]), seconds=float(data["seconds"]),
                   pilot_temperatures=list(data.get("pilot_temperatures", [])), settings=dict(data.get("settings", {})))


def _sweeps(sizes, n_sweeps: int) -> dict:
    """Sweeps per chain of each size: ``n_sweeps`` for the largest, ``n_sweeps * L_max // L`` for the others."""
    return {L: n_sweeps * sizes[-1] // L for L in sizes}


def _find_simulation_temperature(sizes, start, n_chains, pilot_sweeps, seeds, n_jobs, progress):
    """Pilot runs of the two largest sizes from ``start``: (temperatures piloted, production temperature)."""
    piloted, T = [], start
    for seed in seeds:
        piloted.append(T)
        runs = critical_runs(sizes[-2:], T, n_chains=n_chains, n_sweeps=_sweeps(sizes[-2:], pilot_sweeps), seed=seed,
                             n_jobs=n_jobs, progress=progress)
        pair = _Pair(*(_Reweighted(runs[L]) for L in sizes[-2:]))
        crossing, _ = pair.crossing(reference=T)
        if math.isfinite(crossing):
            log.info("pilot at T = %g: L = %d/%d cross at %.4f", T, *sizes[-2:], crossing)
            return piloted, round(crossing, 3)
        edge = pair.edge_towards_crossing()
        if not math.isfinite(edge):
            break
        log.info("pilot at T = %g: no L = %d/%d crossing within [%.4f, %.4f]; next pilot at %.3f", T, *sizes[-2:],
                 pair.low, pair.high, edge)
        T = round(edge, 3)
    log.warning("the pilot runs found no crossing of L = %d and %d; production runs at T = %g", *sizes[-2:], T)
    return piloted, T


def binder_baseline(sizes, *, start_temperature=2.30, n_chains=16, n_sweeps=6000, pilot_sweeps=300, seed,
                    n_jobs=None, progress=False) -> BinderResult:
    """T_c from the crossings of reweighted Binder cumulants of Swendsen–Wang chains, with jackknife errors.

    Chains of a size ``L`` run ``L_max / L`` times the sweeps of the largest size ``L_max``: a sweep costs ~``L^2``,
    and a crossing of smaller sizes, whose cumulants have slopes ~``L`` in T, needs more statistics to be as
    precise (it enters the systematic error). So each size costs about ``L`` (CPU time), the largest dominates.

    1. Pilot: ``n_chains`` chains of ``pilot_sweeps`` sweeps of the two largest sizes at ``start_temperature``;
       the crossing of their reweighted cumulants (inside the reweighting range) gives the simulation
       temperature, rounded to 1e-3. If they do not cross in range, the next pilot runs at the edge of the range
       towards the crossing (up to 4 pilots). The exact T_c is never used (single-histogram reweighting is exact
       in expectation; where the chains run only sets the variance).
    2. Production: ``n_chains`` chains of ``n_sweeps`` sweeps (largest size) of every size at that temperature
       (:func:`critical_runs`).
    3. For each pair of consecutive sizes, the crossing of ``U_4`` reweighted to any temperature in both sizes'
       reweighting ranges (:func:`physics.transition.reweighting.reweighting_range`), by ``brentq``; and ``U_4`` of
       the larger size there.
    4. Errors: delete-one-chain jackknife, chain ``j`` of every size left out together (the chains are
       independent, so the jackknife blocks are independent and the errors include all autocorrelation). The
       values are the full-data estimates (no bias correction: the O(1/n) bias is far below the error).

    ``tc`` is the crossing of the largest pair, kind "T_c(inf)" (with one pair of sizes, or when the previous pair
    does not cross: kind "T*(L)", the pair's pseudo-critical temperature, sys 0 and "not assessed"): stat = its jackknife error (``dof`` =
    ``n_chains - 1``); sys bounds the finite-size drift still to go. The crossing of a pair ``(L, bL)`` approaches
    T_c as ``L^-(1/nu + omega)`` (Binder 1981); for the 2D Ising model ``nu = 1`` and the leading correction has
    ``omega = 7/4`` (analytic background) or 2, so the shift falls by ``r = b^(1/nu + omega) >= b^2`` per step
    (``>= 4`` for doublings; ``omega >= 1`` is all that is assumed). Summing the geometric tail, the distance from
    the last crossing to T_c is at most ``|step| / (r - 1)``, with ``step`` = crossing(largest pair) - crossing(
    previous pair) and ``r = (L_max / L_previous)^2``: sys = ``|step| / 3`` for doublings. The measured step also
    contains the statistical noise of both crossings, which only enlarges it (here mostly: the L = 32 data shift
    the 16/32 and 32/64 crossings in opposite directions, so the step's noise exceeds either error). The full
    ``|step|`` is not used: it was measured to be noise-dominated (mean 0.0038 over 20 seeds at a quarter of the
    default statistics, against a mean step of 0.0001 +- 0.0010), and it would double the error bar for nothing.
    Nor an extrapolation of the crossings in ``L``: with 2-3 pairs it cannot test the assumed correction exponent,
    and its error grows several-fold over the largest pair's. With a single pair the drift cannot be assessed:
    sys = NaN.

    Parameters
    ----------
    sizes : sequence of int
        At least 2 strictly increasing linear sizes >= 2 (doublings, e.g. [16, 32, 64], make the bound above hold).
    start_temperature : float
        Where the first pilot runs (J/k_B); it need not be close to T_c.
    n_chains : int
        Independent chains per size (the jackknife blocks), in the pilot and in production. Must be >= 2.
    n_sweeps : int
        Measured sweeps per production chain of the largest size (``n_sweeps * L_max // L`` for size ``L``).
        Must be >= 10.
    pilot_sweeps : int
        Measured sweeps per pilot chain of the largest size (likewise scaled for the second largest). Must be >= 10.
    seed : int >= 0 or numpy SeedSequence
        ``SeedSequence(seed).spawn(1 + 4)``: the production runs, then one child per pilot.
    n_jobs : int or None
        joblib workers for the chains (None: all cores); the numbers do not depend on it.
    progress : bool
        tqdm bars over the simulation tasks.

    Returns
    -------
    BinderResult
    """
    started = time.perf_counter()
    sizes = _check_sizes(sizes, 2)
    start = _check_temperature(start_temperature, "start_temperature")
    n_chains = _check_int(n_chains, "n_chains", 2)
    n_sweeps = _check_int(n_sweeps, "n_sweeps", 10)
    pilot_sweeps = _check_int(pilot_sweeps, "pilot_sweeps", 10)
    root = _check_seed(seed)
    n_jobs = _check_n_jobs(n_jobs)
    if not isinstance(progress, bool):
        raise ValueError(f"The 'progress' parameter must be a bool. Got {progress!r} instead.")
    production_seed, *pilot_seeds = root.spawn(1 + _MAX_PILOTS)

    piloted, T_sim = _find_simulation_temperature(sizes, start, n_chains, pilot_sweeps, pilot_seeds, n_jobs,
                                                  progress)
    runs = critical_runs(sizes, T_sim, n_chains=n_chains, n_sweeps=_sweeps(sizes, n_sweeps), seed=production_seed,
                         n_jobs=n_jobs, progress=progress)
    data = {L: _Reweighted(runs[L]) for L in sizes}
    masks = _leave_one_out(n_chains)

    curves = {}
    for L, d in data.items():
        grid = np.linspace(*d.range, _GRID_POINTS)
        W, S = d.sums(grid)
        replicas = np.array([d.binder(W, S, mask) for mask in masks])
        errors = np.sqrt((n_chains - 1) / n_chains * np.sum((replicas - replicas.mean(axis=0)) ** 2, axis=0))
        curves[L] = (grid, d.binder(W, S), errors)

    pairs = []
    for L_small, L_large in zip(sizes[:-1], sizes[1:]):
        pair = _Pair(data[L_small], data[L_large])
        T_cross, U_cross = pair.crossing(reference=T_sim)
        if math.isfinite(T_cross):
            replicas = np.array([pair.crossing(T_cross, mask) for mask in masks])
            T_err, U_err = _jackknife_error(replicas[:, 0]), _jackknife_error(replicas[:, 1])
        else:
            T_err = U_err = math.nan
        pairs.append({"L_small": L_small, "L_large": L_large, "T_cross": T_cross, "T_cross_err": T_err,
                      "U4_cross": U_cross, "U4_cross_err": U_err})
        log.info("Binder crossing L = %d/%d: T = %.5f ± %.5f, U4 = %.4f ± %.4f", L_small, L_large, T_cross, T_err,
                 U_cross, U_err)

    last = pairs[-1]
    method = (f"crossing of reweighted Binder cumulants, L = {last['L_small']} and {last['L_large']} "
              f"(Swendsen-Wang, {n_chains} chains x {n_sweeps} x L_max/L sweeps per size at T = {T_sim:g}, "
              f"single-histogram reweighting, brentq)")
    stat_source = (f"delete-one-chain jackknife over {n_chains} independent chains per size (includes "
                   f"autocorrelations)")
    U4 = {"value": last["U4_cross"], "stat": last["U4_cross_err"], "exact": U4_STAR,
          "pull": (last["U4_cross"] - U4_STAR) / last["U4_cross_err"] if last["U4_cross_err"] > 0 else math.nan,
          "sizes": [last["L_small"], last["L_large"]]}
    if not (math.isfinite(last["T_cross"]) and math.isfinite(last["T_cross_err"])):
        tc = TcEstimate.none(method, "T_c(inf)", f"no crossing of the L = {last['L_small']} and {last['L_large']} "
                             f"cumulants (or of a jackknife replicate) within the reweighting range around "
                             f"T = {T_sim:g}", sizes=tuple(sizes), n_replicas=n_chains)
    else:
        step = math.nan
        if len(pairs) >= 2 and math.isfinite(pairs[-2]["T_cross"]):
            step = last["T_cross"] - pairs[-2]["T_cross"]
            ratio = (last["L_large"] / pairs[-2]["L_large"]) ** 2  # b^(1/nu + omega) with nu = 1, omega >= 1
            sys = abs(step) / (ratio - 1.0)
            sys_source = (f"|crossing(L = {last['L_small']}/{last['L_large']}) - crossing(L = "
                          f"{pairs[-2]['L_small']}/{pairs[-2]['L_large']})| / {ratio - 1:g} = {abs(step):.5f} / "
                          f"{ratio - 1:g}: bound on the finite-size drift still to go, crossings converging as "
                          f"L^-(1/nu + omega) with nu = 1, omega >= 1 (2D Ising: 7/4)")
        else:  # a pseudo-critical temperature of that pair: nothing bounds the drift to T_c(inf)
            sys = 0.0
            sys_source = ("not assessed: one pair of sizes, so this is the pair's pseudo-critical temperature"
                          if len(pairs) == 1 else "not assessed: the previous pair does not cross")
        kind = "T_c(inf)" if math.isfinite(step) else "T*(L)"
        tc = TcEstimate(method=method, kind=kind, value=last["T_cross"], stat=last["T_cross_err"],
                        stat_source=stat_source, sys=sys, sys_source=sys_source, sizes=tuple(sizes),
                        n_replicas=n_chains, dof=n_chains - 1,
                        extra={"U4_at_crossing": last["U4_cross"], "U4_at_crossing_stat": last["U4_cross_err"],
                               "simulation_temperature": T_sim,
                               "last_step": step})
    seconds = time.perf_counter() - started
    log.info("Binder baseline: %s (%.0f s)", tc.describe(), seconds)
    return BinderResult(pairs=pairs, tc=tc, U4=U4, curves=curves, simulation_temperature=T_sim, seconds=seconds,
                        pilot_temperatures=piloted,
                        settings={"sizes": sizes, "n_chains": n_chains, "n_sweeps": n_sweeps,
                                  "pilot_sweeps": pilot_sweeps, "start_temperature": start})
