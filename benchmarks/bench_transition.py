"""Speed of the critical-point analysis of task=ising (block spins, reweighting, Binder baseline, local crossings),
against plain references doing the same work, measured in the same run.

    python benchmarks/bench_transition.py           # full run (~1 minute on 2 cores)
    python benchmarks/bench_transition.py --quick   # smaller runs, for a smoke test (~15 s)

Tables:
1. Block spins: :func:`physics.tasks.ising.blocking.block_spins` taking (200, 64, 64) int8 configurations to
   8 x 8 (three 2 x 2 majority-rule steps), against a loop over the blocks (one numpy call per block and step,
   vectorised over the configurations only; ties take the block's top-left spin). Same output.
2. Histogram reweighting: :func:`physics.transition.reweighting.reweight` of m^2 and m^4 from 16 chains x 4000
   measurements (pooled) to 50 temperatures, against a direct per-temperature loop (np.exp of the log-weights,
   log-sum-exp normalisation, one weighted sum per observable). Same numbers (rtol 1e-10).
3. The Binder baseline: :func:`physics.transition.binder.critical_runs` ([16, 32] at T = 2.27, 4 chains x 500
   sweeps: the Monte Carlo) as a fraction of :func:`physics.transition.binder.binder_baseline` ([16, 32], 4 chains,
   500 sweeps, 100 pilot sweeps); and the fraction of the baseline spent inside its own critical_runs calls
   (pilot and production, which runs L_max / L times the sweeps for the smaller size), the rest being
   reweighting, jackknife and root finding.
4. Local crossings: :func:`physics.transition.crossing.local_crossings` (a cubic fitted to 8 grid points) of 1000
   noisy logistic curves on 13 temperatures, against linear interpolation (np.interp) across the sign change;
   time ratio, and the scatter (RMS around the true crossing) of both on the same curves.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks._util import format_table, machine_description, median_seconds  # noqa: E402
from physics.tasks.ising.blocking import block_spins  # noqa: E402
from physics.transition import binder  # noqa: E402
from physics.transition.crossing import local_crossings  # noqa: E402
from physics.transition.reweighting import reweight  # noqa: E402

BLOCK = {"n": 200, "L": 64, "L0": 8}
REWEIGHT = {"chains": 16, "n": 4000, "n_T": 50, "L": 32, "T0": 2.27}
BINDER = {"sizes": [16, 32], "T": 2.27, "n_chains": 4, "n_sweeps": 500, "pilot_sweeps": 100, "seed": 0}
CROSSING = {"n_curves": 1000, "T": np.linspace(2.0, 2.6, 13), "T_true": 2.269, "width": 0.1, "noise": 0.05}


# -- references ---------------------------------------------------------------------------------------------
def naive_block_spins(spins: np.ndarray, L0: int) -> np.ndarray:
    """Reference: 2 x 2 majority rule, iterated down to L0, one numpy call per block (vectorised over configurations
    only); a tie takes the block's top-left spin. ``L / L0`` must be a power of 2."""
    spins = np.asarray(spins, dtype=np.int8)
    while spins.shape[-1] > L0:
        n, L, _ = spins.shape
        out = np.empty((n, L // 2, L // 2), dtype=np.int8)
        for i in range(L // 2):
            for j in range(L // 2):
                block = spins[:, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
                total = block.sum(axis=(1, 2), dtype=np.int32)
                out[:, i, j] = np.where(total > 0, 1, np.where(total < 0, -1, block[:, 0, 0]))
        spins = out
    return spins


def naive_reweight(energy: np.ndarray, observables: np.ndarray, T0: float, temperatures) -> np.ndarray:
    """Reference: <O>_T = sum O_i exp(a_i - lse(a)), a_i = -(1/T - 1/T0) E_i, one temperature and observable at a
    time. Returns (k, n_T)."""
    out = np.empty((len(observables), len(temperatures)))
    for j, T in enumerate(temperatures):
        a = -(1.0 / T - 1.0 / T0) * energy
        peak = a.max()
        lse = peak + np.log(np.sum(np.exp(a - peak)))
        w = np.exp(a - lse)
        for k, values in enumerate(observables):
            out[k, j] = np.sum(values * w)
    return out


def linear_crossings(T: np.ndarray, curves: np.ndarray, level: float = 0.5) -> np.ndarray:
    """Reference: per curve, linear interpolation (np.interp) between the two grid points around the sign change of
    ``y - level``; with several, the one nearest the middle of the first and last (the centre local_crossing uses).
    NaN where a curve has none."""
    out = np.full(len(curves), np.nan)
    for c, y in enumerate(np.atleast_2d(curves)):
        above = (y - level) > 0
        changes = np.flatnonzero(above[:-1] != above[1:])
        if changes.size == 0:
            continue
        centre = 0.5 * (T[changes[0]] + T[changes[-1] + 1])
        k = changes[np.argmin(np.abs(0.5 * (T[changes] + T[changes + 1]) - centre))]
        y2, T2 = y[k:k + 2], T[k:k + 2]
        order = np.argsort(y2)  # np.interp wants increasing abscissae
        out[c] = np.interp(level, y2[order], T2[order])
    return out


# -- data ------------------------------------------------------------------------------------------------------
def block_data(rng, n: int, L: int) -> np.ndarray:
    return np.where(rng.random((n, L, L)) < 0.5, 1, -1).astype(np.int8)


def reweight_data(rng, chains: int, n: int, L: int) -> tuple[np.ndarray, np.ndarray]:
    """Total energies and (m^2, m^4) shaped like L x L chains near T_c (Gaussian energies, m correlated with -E)."""
    N = L * L
    energy = rng.normal(-1.42 * N, 1.6 * L, (chains, n))
    m = np.clip(0.6 - 0.2 * (energy / N + 1.42) / 0.05 + 0.15 * rng.standard_normal((chains, n)), -1, 1)
    m2 = m.ravel() ** 2
    return energy.ravel(), np.stack([m2, m2 * m2])


def crossing_data(rng, n_curves: int, T: np.ndarray, T_true: float, width: float, noise: float) -> np.ndarray:
    """Noisy decreasing logistic curves 1 / (1 + exp((T - T_true) / width)) + N(0, noise), one per row."""
    clean = 1.0 / (1.0 + np.exp((T - T_true) / width))
    return clean + noise * rng.standard_normal((n_curves, T.size))


# -- measurements ----------------------------------------------------------------------------------------------
def binder_split(repeats: int) -> dict:
    """Median times of critical_runs and binder_baseline, and of the baseline's own critical_runs calls."""
    b = BINDER
    runs = median_seconds(lambda: binder.critical_runs(b["sizes"], b["T"], n_chains=b["n_chains"],
                                                       n_sweeps=b["n_sweeps"], seed=b["seed"]), repeats)
    inside: list[float] = []
    original = binder.critical_runs

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            inside[-1] += time.perf_counter() - start

    totals, mc = [], []
    binder.critical_runs = timed  # binder_baseline looks it up in its module
    try:
        for _ in range(repeats + 1):  # the first is a warm-up
            inside.append(0.0)
            start = time.perf_counter()
            binder.binder_baseline(b["sizes"], n_chains=b["n_chains"], n_sweeps=b["n_sweeps"],
                                   pilot_sweeps=b["pilot_sweeps"], seed=b["seed"])
            totals.append(time.perf_counter() - start)
            mc.append(inside[-1])
    finally:
        binder.critical_runs = original
    return {"runs": runs, "baseline": float(np.median(totals[1:])), "inside": float(np.median(mc[1:]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (smoke test)")
    args = parser.parse_args()
    quick = args.quick
    repeats = 3 if quick else 7
    rng = np.random.default_rng(0)
    print(machine_description())
    print(f"{datetime.datetime.now():%Y-%m-%d %H:%M}; load average at start: {os.getloadavg()[0]:.2f}  "
          f"({'quick' if quick else 'full'} run, medians of {repeats})\n")

    print("1. Block spins, majority rule 2 x 2 iterated")
    n, L, L0 = (50 if quick else BLOCK["n"]), BLOCK["L"], BLOCK["L0"]
    spins = block_data(rng, n, L)
    assert np.array_equal(block_spins(spins, L0), naive_block_spins(spins, L0))
    product = median_seconds(lambda: block_spins(spins, L0), repeats)
    naive = median_seconds(lambda: naive_block_spins(spins, L0), repeats)
    print(format_table(["workload", "block_spins", "loop over blocks", "speed-up"],
                       [[f"({n}, {L}, {L}) int8 -> {L0} x {L0}", f"{product * 1e3:.2f} ms", f"{naive * 1e3:.1f} ms",
                         f"{naive / product:.1f}x"]]), "\n")

    print("2. Single-histogram reweighting of (m^2, m^4)")
    r = REWEIGHT
    chains = 4 if quick else r["chains"]
    energy, moments = reweight_data(rng, chains, r["n"], r["L"])
    temperatures = np.linspace(2.22, 2.32, r["n_T"])
    np.testing.assert_allclose(reweight(energy, moments, r["T0"], temperatures),
                               naive_reweight(energy, moments, r["T0"], temperatures), rtol=1e-10)
    product = median_seconds(lambda: reweight(energy, moments, r["T0"], temperatures), repeats)
    naive = median_seconds(lambda: naive_reweight(energy, moments, r["T0"], temperatures), repeats)
    print(format_table(["workload", "reweight", "per-temperature loop", "speed-up"],
                       [[f"{chains} x {r['n']} samples, 2 observables, {r['n_T']} temperatures",
                         f"{product * 1e3:.1f} ms", f"{naive * 1e3:.1f} ms", f"{naive / product:.2f}x"]]), "\n")

    print("3. Binder baseline: Monte Carlo against the whole (sizes [16, 32], 4 chains, all cores)")
    split = binder_split(2 if quick else 3)
    b = BINDER
    rows = [[f"critical_runs([16, 32], {b['T']}, 4 chains x {b['n_sweeps']} sweeps)", f"{split['runs']:.2f} s",
             f"{split['runs'] / split['baseline']:.2f}"],
            ["binder_baseline: its own critical_runs calls (pilot + production)", f"{split['inside']:.2f} s",
             f"{split['inside'] / split['baseline']:.2f}"],
            ["binder_baseline: the rest (reweighting, jackknife, brentq)",
             f"{split['baseline'] - split['inside']:.2f} s",
             f"{(split['baseline'] - split['inside']) / split['baseline']:.2f}"],
            [f"binder_baseline([16, 32], 4 chains, {b['n_sweeps']} sweeps, {b['pilot_sweeps']} pilot sweeps)",
             f"{split['baseline']:.2f} s", "1.00"]]
    print(format_table(["part", "median", "of baseline"], rows), "\n")

    print("4. Crossing of 1/2 by noisy logistic curves")
    c = CROSSING
    n_curves = 200 if quick else c["n_curves"]
    curves = crossing_data(rng, n_curves, c["T"], c["T_true"], c["width"], c["noise"])
    fitted, _ = local_crossings(c["T"], curves, 0.5)
    linear = linear_crossings(c["T"], curves, 0.5)
    product = median_seconds(lambda: local_crossings(c["T"], curves, 0.5), repeats)
    naive = median_seconds(lambda: linear_crossings(c["T"], curves, 0.5), repeats)

    def rms(x):
        return float(np.sqrt(np.nanmean((x - c["T_true"]) ** 2)))

    print(format_table(["method", "time", "time / linear", "RMS(T* - T_true)", "bias", "no crossing"],
                       [["local_crossings (cubic, 8 points)", f"{product * 1e3:.0f} ms", f"{product / naive:.1f}",
                         f"{rms(fitted):.4f}", f"{np.nanmean(fitted) - c['T_true']:+.4f}",
                         f"{int(np.isnan(fitted).sum())}"],
                        ["linear interpolation (np.interp)", f"{naive * 1e3:.0f} ms", "1.0", f"{rms(linear):.4f}",
                         f"{np.nanmean(linear) - c['T_true']:+.4f}", f"{int(np.isnan(linear).sum())}"]]))
    print(f"({n_curves} curves on {c['T'].size} temperatures {c['T'][0]:g}..{c['T'][-1]:g}, width "
          f"{c['width']:g}, noise {c['noise']:g}, true crossing {c['T_true']:g}; scatter ratio linear / local fit: "
          f"{rms(linear) / rms(fitted):.2f})")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
