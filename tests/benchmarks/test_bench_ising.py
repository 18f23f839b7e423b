"""The Swendsen–Wang reference of benchmarks/bench_ising.py does a Swendsen–Wang update (speed itself is measured
by `python benchmarks/bench_ising.py --only 5`, never by a test)."""

import numpy as np

from benchmarks.bench_ising import _reference_seed, reference_swendsen_wang, swendsen_wang_vs_reference


def run_reference(spins, p, n_sweeps=1):
    L = spins.shape[-1]
    reference_swendsen_wang(spins, p, n_sweeps, np.empty(L * L, np.int64), np.empty(L * L, np.int8))
    return spins


def test_reference_with_all_bonds_active_flips_whole_lattices():
    # p = 1 joins every satisfied bond: an ordered lattice is one cluster and stays ordered.
    _reference_seed(0)
    spins = run_reference(np.ones((64, 8, 8), np.int8), 1.0)
    assert np.all(np.abs(spins.sum(axis=(1, 2))) == 64)
    assert 0 < np.sum(spins[:, 0, 0] == 1) < 64  # each sign comes up (probability 2 * 2**-64 to fail)


def test_reference_without_bonds_flips_each_spin_with_probability_half():
    _reference_seed(1)
    spins = run_reference(np.ones((64, 16, 16), np.int8), 0.0)
    assert abs(np.mean(spins == -1) - 0.5) < 5 * np.sqrt(0.25 / spins.size)  # 5 binomial sigma


def test_rates_are_positive():
    engine, reference, ratio = swendsen_wang_vs_reference(2, 8, rounds=1, sweeps=1, rng=np.random.default_rng(0))
    assert engine > 0 and reference > 0 and ratio > 0
