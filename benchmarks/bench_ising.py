"""Speed of the Ising Monte Carlo engine (physics.ising), against a naive np.roll reference measured in the same run.

    python benchmarks/bench_ising.py           # full run (a few minutes on 2 cores)
    python benchmarks/bench_ising.py --quick   # smaller runs, for a smoke test (~1 minute)

Tables:
1. Metropolis spin updates per second: the engine's checkerboard Metropolis (sub-grid layout, integer
   thresholds) and a naive vectorised checkerboard (np.roll neighbour sums over the whole lattice,
   np.exp acceptance per site, float64 uniforms, boolean colour masks), on a batch of 256 lattices at
   L = 32 and on one lattice at L = 256.  The two take turns, and the median time per sweep is used.
2. Cost of one lattice sweep at T_c for each algorithm (L = 32: a batch of 16 lattices, per lattice;
   L = 128: one lattice), with the ratio to a Metropolis sweep.
3. Integrated autocorrelation times of |m| and E at T_c (pooled over independent chains, Sokal window)
   for L = 16, 32, 64 and each algorithm, and the resulting independent samples per second
   ``1 / (2 max(tau) * time per lattice sweep)`` (one core, measurements included).
4. Time to generate the default Ising dataset (L = 32, :func:`physics.ising.default_temperatures`,
   300 samples per temperature) into an empty cache with all cores, and to load it back.
5. Swendsen–Wang spin updates per second at T_c against a plain compiled reference (numba: bond
   activation with ``p = 1 - exp(-2 beta)`` from numba's own generator, union-find with path
   compression, a random sign per cluster), batches of 16 lattices at L = 16, 32, 64, 128, one
   thread.  The two take turns in blocks; the ratio is the median of the per-block ratios.

    python benchmarks/bench_ising.py --only 5   # just table 5
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks._util import format_table, machine_description, median_seconds  # noqa: E402
from physics.ising import (  # noqa: E402
    CheckerboardMetropolis,
    SwendsenWang,
    Wolff,
    critical_temperature,
    default_temperatures,
    generate_dataset,
    simulate,
)
from physics.ising._kernels import _jit  # noqa: E402
from physics.ising.sampling import pooled_tau_int  # noqa: E402

T_C = critical_temperature("square")
CHAINS = {"metropolis": CheckerboardMetropolis, "swendsen_wang": SwendsenWang, "wolff": Wolff}


def naive_checkerboard_sweep(spins: np.ndarray, beta: np.ndarray, rng: np.random.Generator, masks) -> None:
    """Reference: textbook vectorised checkerboard Metropolis on (B, L, L) int8 spins, in place."""
    for mask in masks:  # the two colours, (L, L) bool
        field = np.roll(spins, 1, -1) + np.roll(spins, -1, -1) + np.roll(spins, 1, -2) + np.roll(spins, -1, -2)
        accept = rng.random(spins.shape) < np.exp(-2.0 * beta[:, None, None] * spins * field)
        spins[accept & mask] *= -1


def metropolis_rates(B: int, L: int, rounds: int, sweeps: int, rng) -> tuple[float, float]:
    """Median spin updates per second of the engine and of the naive reference, taking turns."""
    beta = np.full(B, 1.0 / T_C)
    start = np.where(rng.random((B, L, L)) < 0.5, 1, -1).astype(np.int8)
    chain = CheckerboardMetropolis(start, T_C)
    naive_spins = start.copy()
    i, j = np.indices((L, L))
    masks = [(i + j) % 2 == 0, (i + j) % 2 == 1]
    naive_sweeps = max(1, sweeps // 8)
    engine, naive = [], []
    for _ in range(rounds):
        engine.append(median_seconds(lambda: chain.sweep(rng, sweeps), 1) / sweeps)
        naive.append(median_seconds(lambda: [naive_checkerboard_sweep(naive_spins, beta, rng, masks)
                                             for _ in range(naive_sweeps)], 1) / naive_sweeps)  # fmt: skip
    n_spins = B * L * L
    return n_spins / float(np.median(engine)), n_spins / float(np.median(naive))


def sweep_seconds(algorithm: str, B: int, L: int, sweeps: int, rng) -> float:
    """Median time of one sweep of one lattice at T_c, measured on a batch of B (after a warm-up)."""
    chain = CHAINS[algorithm](np.ones((B, L, L), np.int8), T_C)
    chain.sweep(rng, 10)  # equilibrate roughly; calibrates Wolff
    return median_seconds(lambda: chain.sweep(rng, sweeps), 5) / sweeps / B


def autocorrelation(algorithm: str, L: int, n_chains: int, burn_in: int, n_sweeps: int, seed: int) -> dict:
    """tau_int of |m| and E at T_c and the time per lattice sweep of that run (measurements included)."""
    start = time.perf_counter()
    run = simulate(L, T_C, n_sweeps, algorithm=algorithm, seed=seed, n_chains=n_chains, burn_in=burn_in)
    seconds = (time.perf_counter() - start) / ((burn_in + n_sweeps) * n_chains)
    tau_m, err_m = pooled_tau_int(np.abs(run["magnetization"]))
    tau_e, err_e = pooled_tau_int(run["energy"])
    return {"tau_m": (tau_m, err_m), "tau_e": (tau_e, err_e), "seconds": seconds}


@_jit
def _reference_find(parent, i):
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:  # path compression
        parent[i], i = root, parent[i]
    return root


@_jit
def _reference_seed(seed):
    np.random.seed(seed)


@_jit
def reference_swendsen_wang(spins, p, n_sweeps, parent, sign):
    """Reference: a plain compiled Swendsen–Wang sweep of (B, L, L) int8 spins (square lattice), in place.

    ``p`` is the bond-activation probability, ``parent`` (L*L,) int64 and ``sign`` (L*L,) int8 scratch;
    random numbers come from numba's own generator (seed it with :func:`_reference_seed`).
    """
    B, L = spins.shape[0], spins.shape[1]
    for _ in range(n_sweeps):
        for b in range(B):
            s = spins[b]
            for i in range(L * L):
                parent[i] = i
            for y in range(L):
                for x in range(L):
                    for yy, xx in ((y, (x + 1) % L), ((y + 1) % L, x)):
                        if s[y, x] == s[yy, xx] and np.random.random() < p:
                            ri, rj = _reference_find(parent, y * L + x), _reference_find(parent, yy * L + xx)
                            if ri != rj:
                                parent[ri] = rj
            sign[:] = 0
            for y in range(L):
                for x in range(L):
                    r = _reference_find(parent, y * L + x)
                    if sign[r] == 0:
                        sign[r] = 1 if np.random.random() < 0.5 else -1
                    s[y, x] *= sign[r]


def swendsen_wang_vs_reference(B: int, L: int, rounds: int, sweeps: int, rng) -> tuple[float, float, float]:
    """Spin updates per second at T_c of the engine's Swendsen–Wang and of the numba reference, taking turns.

    Returns (engine rate, reference rate, median over blocks of reference time / engine time).
    """
    chain = SwendsenWang(np.ones((B, L, L), np.int8), T_C)
    ref_spins = np.ones((B, L, L), np.int8)
    parent, sign = np.empty(L * L, np.int64), np.empty(L * L, np.int8)
    p = -np.expm1(-2.0 / T_C)
    _reference_seed(int(rng.integers(2**31)))
    chain.sweep(rng, 20)  # compile or load, and equilibrate from the ordered start
    reference_swendsen_wang(ref_spins, p, 20, parent, sign)
    engine, reference = [], []
    for _ in range(rounds):
        engine.append(median_seconds(lambda: chain.sweep(rng, sweeps), 1, warmup=0))
        reference.append(median_seconds(lambda: reference_swendsen_wang(ref_spins, p, sweeps, parent, sign), 1, warmup=0))
    n = B * L * L * sweeps
    ratio = float(np.median(np.array(reference) / np.array(engine)))
    return n / float(np.median(engine)), n / float(np.median(reference)), ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (smoke test)")
    parser.add_argument("--only", type=lambda text: {int(t) for t in text.split(",")}, default={1, 2, 3, 4, 5},
                        help="comma-separated table numbers to run (default: all, 1-5)")
    args = parser.parse_args()
    if not args.only <= {1, 2, 3, 4, 5}:
        parser.error(f"--only takes table numbers 1-5, got {sorted(args.only)}")
    quick = args.quick
    rng = np.random.default_rng(0)
    print(machine_description(), f"numba {numba.__version__}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}  ({'quick' if quick else 'full'} run)\n")
    with threadpool_limits(1):
        run_tables(args.only, quick, rng)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


def run_tables(only: set, quick: bool, rng) -> None:
    """Print the tables whose numbers are in ``only``."""
    if 1 in only:
        metropolis_table(quick, rng)
    if 2 in only:
        sweep_table(quick, rng)
    if 3 in only:
        autocorrelation_table(quick)
    if 4 in only:
        dataset_table(quick)
    if 5 in only:
        reference_table(quick, rng)


def reference_table(quick: bool, rng) -> None:
    print("5. Swendsen–Wang against a compiled union-find (numba), T = T_c, batches of 16 lattices, 1 thread")
    rows = []
    for L in (16, 32, 64, 128):
        sweeps = max(1, (2**19 if quick else 2**21) // (16 * L * L))
        engine, reference, ratio = swendsen_wang_vs_reference(16, L, 3 if quick else 9, sweeps, rng)
        rows.append([f"L = {L}", f"{engine / 1e6:.1f} M/s", f"{reference / 1e6:.1f} M/s", f"{ratio:.2f}x"])
    print(format_table(["size (16 lattices)", "engine", "numba union-find", "engine / reference"], rows), "\n")


def metropolis_table(quick: bool, rng) -> None:
    print("1. Metropolis spin updates per second (T = T_c)")
    rows = []
    for label, B, L, rounds, sweeps in [("256 lattices, L = 32", 256, 32, 5 if quick else 9, 20 if quick else 50),
                                        ("1 lattice, L = 256", 1, 256, 5 if quick else 9, 20 if quick else 50)]:  # fmt: skip
        engine, naive = metropolis_rates(B, L, rounds, sweeps, rng)
        rows.append([label, f"{engine / 1e6:.0f} M/s", f"{naive / 1e6:.0f} M/s", f"{engine / naive:.1f}x"])
    print(format_table(["workload", "engine", "naive np.roll", "engine / naive"], rows), "\n")


def sweep_table(quick: bool, rng) -> None:
    print("2. Time per lattice sweep at T_c")
    rows = []
    for L, B, sweeps in [(32, 16, 10 if quick else 30), (128, 1, 5 if quick else 20)]:
        metro = sweep_seconds("metropolis", max(B, 16) if L == 32 else 1, L, 5 * sweeps, rng)
        for algorithm in ("metropolis", "swendsen_wang", "wolff"):
            t = metro if algorithm == "metropolis" else sweep_seconds(algorithm, B, L, sweeps, rng)
            rows.append([f"L = {L}", algorithm, f"{t * 1e3:.3f} ms", f"{t / metro:.1f}x"])
    print(format_table(["size", "algorithm", "per lattice sweep", "vs Metropolis"], rows), "\n")


def autocorrelation_table(quick: bool) -> None:
    print("3. Autocorrelation at T_c and independent samples per second (one core)")
    plan = {  # (L, algorithm): (chains, burn-in, measured sweeps) -- runs span >= ~50 tau
        "metropolis": {16: (16, 1000, 3000), 32: (16, 3000, 8000), 64: (8, 8000, 20000)},
        "swendsen_wang": {16: (16, 100, 1000), 32: (16, 100, 1000), 64: (8, 100, 800)},
        "wolff": {16: (16, 100, 1000), 32: (16, 100, 1000), 64: (8, 100, 800)},
    }
    rows = []
    for L in (16, 32, 64):
        for algorithm in ("metropolis", "swendsen_wang", "wolff"):
            chains, burn, sweeps = plan[algorithm][L]
            if quick:
                chains, burn, sweeps = max(4, chains // 2), burn // 4, sweeps // 4
            res = autocorrelation(algorithm, L, chains, burn, sweeps, seed=L)
            tau = max(res["tau_m"][0], res["tau_e"][0])
            rows.append([f"L = {L}", algorithm, "{:.2f} ± {:.2f}".format(*res["tau_m"]), "{:.2f} ± {:.2f}".format(*res["tau_e"]),
                         f"{res['seconds'] * 1e3:.3f} ms", f"{1.0 / (2 * tau * res['seconds']):,.0f}"])  # fmt: skip
    print(format_table(["size", "algorithm", "tau_int(|m|)", "tau_int(E)", "per lattice sweep", "indep. samples/s"], rows))
    print("(tau in sweeps; Wolff: a sweep is round(L^2 / <cluster size>) cluster flips)\n")


def dataset_table(quick: bool) -> None:
    print("4. Default Ising dataset (L = 32, default_temperatures(), 300 per temperature, all cores)")
    temps = default_temperatures()
    n = 60 if quick else 300
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        data = generate_dataset(32, temps, n, seed=0, cache_dir=cache, progress=False)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        generate_dataset(32, temps, n, seed=0, cache_dir=cache, progress=False)
        warm = time.perf_counter() - start
    rows = [[f"{temps.size} temperatures x {n}", f"{len(data)}", f"{cold:.1f} s", f"{warm:.2f} s",
             f"{cold / 30.0:.2f}"]]  # fmt: skip
    print(format_table(["dataset", "configurations", "empty cache", "warm cache", "of 30 s target"], rows), "\n")


if __name__ == "__main__":
    main()
