"""Shared helpers for the Monte Carlo tests: exact Boltzmann draws and stationarity checks."""

import numpy as np
import pytest
from scipy.stats import chisquare

from physics.ising import lattice as lat


def all_states(L, lattice):
    """Every configuration of an L x L lattice (L*L <= 16) and its total energy."""
    n = L * L
    codes = np.arange(2**n, dtype=np.int64)
    spins = (((codes[:, None] >> np.arange(n)) & 1) * 2 - 1).astype(np.int8).reshape(-1, L, L)
    return spins, -lat.bond_sum(spins, lattice)


def boltzmann_probabilities(energies, T):
    w = np.exp(-(energies - energies.min()) / T)
    return w / w.sum()


def state_codes(spins):
    """Integer code of each configuration (inverse of :func:`all_states`), shape (n,)."""
    n = spins.shape[-1] * spins.shape[-2]
    bits = (spins.reshape(-1, n) > 0).astype(np.int64)
    return bits @ (1 << np.arange(n, dtype=np.int64))


@pytest.fixture
def stationarity_pvalue():
    """p-value of a chi-square test that one update keeps the exact Boltzmann distribution.

    ``n`` configurations drawn exactly from the Boltzmann distribution of a small lattice are each
    updated once by ``update(spins, T, rng) -> spins``; the histogram of the resulting states is
    compared with the Boltzmann probabilities (states with expected count < 5 pooled).
    """

    def run(update, L, lattice, T, n=40_000, seed=0, by="state"):
        rng = np.random.default_rng(seed)
        spins, energies = all_states(L, lattice)
        p = boltzmann_probabilities(energies, T)
        start = spins[rng.choice(p.size, size=n, p=p)]
        after = update(start, T, rng)
        if by == "state":  # one bin per configuration
            bins, observed_bins = np.arange(p.size), state_codes(after)
        else:  # one bin per (energy, magnetisation) pair, for lattices with too many states
            key = lambda s: -lat.bond_sum(s, lattice) * 1000 + s.sum(axis=(-2, -1), dtype=np.int64)  # noqa: E731
            _, inverse = np.unique(np.concatenate([key(spins), key(after)]), return_inverse=True)
            bins, observed_bins = inverse[: p.size], inverse[p.size :]
        expected = np.bincount(bins, weights=p * n)
        observed = np.bincount(observed_bins, minlength=expected.size)
        big = expected >= 5
        obs, exp = observed[big], expected[big]
        if not big.all():
            obs, exp = np.append(obs, observed[~big].sum()), np.append(exp, expected[~big].sum())
        return chisquare(obs, exp).pvalue

    return run
