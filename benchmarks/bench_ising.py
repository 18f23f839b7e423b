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
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (smoke test)")
    args = parser.parse_args()
    quick = args.quick
    rng = np.random.default_rng(0)
    print(machine_description())
    print(f"load average at start: {os.getloadavg()[0]:.2f}  ({'quick' if quick else 'full'} run)\n")

    print("1. Metropolis spin updates per second (T = T_c)")
    rows = []
    for label, B, L, rounds, sweeps in [("256 lattices, L = 32", 256, 32, 5 if quick else 9, 20 if quick else 50),
                                        ("1 lattice, L = 256", 1, 256, 5 if quick else 9, 20 if quick else 50)]:  # fmt: skip
        engine, naive = metropolis_rates(B, L, rounds, sweeps, rng)
        rows.append([label, f"{engine / 1e6:.0f} M/s", f"{naive / 1e6:.0f} M/s", f"{engine / naive:.1f}x"])
    print(format_table(["workload", "engine", "naive np.roll", "engine / naive"], rows), "\n")

    print("2. Time per lattice sweep at T_c")
    rows = []
    for L, B, sweeps in [(32, 16, 10 if quick else 30), (128, 1, 5 if quick else 20)]:
        metro = sweep_seconds("metropolis", max(B, 16) if L == 32 else 1, L, 5 * sweeps, rng)
        for algorithm in ("metropolis", "swendsen_wang", "wolff"):
            t = metro if algorithm == "metropolis" else sweep_seconds(algorithm, B, L, sweeps, rng)
            rows.append([f"L = {L}", algorithm, f"{t * 1e3:.3f} ms", f"{t / metro:.1f}x"])
    print(format_table(["size", "algorithm", "per lattice sweep", "vs Metropolis"], rows), "\n")

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
    print(format_table(["dataset", "configurations", "empty cache", "warm cache", "of 30 s target"], rows))
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
