"""Stored samples of one chain are decorrelated: the lag-1 correlation of |m| is consistent with zero.

:func:`physics.ising.sample_with_info` stores sample ``k`` from chain ``k % n_chains``, every ``thin`` sweeps of
that chain, so samples ``k`` and ``k + n_chains`` are consecutive samples of one chain.  Their correlation,
pooled over the chains (deviations from the grand mean), has standard deviation ``1/sqrt(n_pairs)`` when the
samples are independent.  The threshold is 3 of those: with three temperatures tested, an uncorrelated sampler
passes with probability ~99.2 % (two-sided normal tail 0.27 % each) -- and with a fixed seed the outcome is
deterministic anyway -- while the former rule (Metropolis below t = -0.05, thinning by ``2 tau_int``: residual
correlation ~0.07-0.13 at L = 32, see :mod:`physics.ising.sampling`) failed these tests at T = 2.1 for both sizes
and at T = 2.5 for L = 32.
"""

import math

import numpy as np
import pytest

from physics.ising.lattice import critical_temperature
from physics.ising.sampling import sample_with_info

T_C = critical_temperature()


def lag1_correlation(info) -> tuple[float, int]:
    """Pooled lag-1 correlation of |m| between consecutive stored samples of the same chain, and the pairs."""
    a = np.abs(info.magnetization)
    a = a - a.mean()
    x, y = a[: -info.n_chains], a[info.n_chains :]  # sample k and k + n_chains: same chain, consecutive
    return float(np.sum(x * y) / math.sqrt(np.sum(x * x) * np.sum(y * y))), int(x.size)


def assert_decorrelated(L, T, n_samples, seed):
    info = sample_with_info(L, T, n_samples, seed=seed)
    r, n_pairs = lag1_correlation(info)
    # 3 sigma of an uncorrelated estimate (module docstring)
    assert abs(r) < 3 / math.sqrt(n_pairs), (L, T, info.algorithm, info.thin, r, n_pairs)


@pytest.mark.parametrize("T", [2.1, T_C, 2.5])
def test_stored_samples_of_a_chain_are_uncorrelated_small_lattice(T):
    """L = 16: the same rule (Swendsen–Wang at 2.1 and T_c, Metropolis at 2.5) on a lattice cheap enough for
    the fast suite."""
    assert_decorrelated(16, T, 600, seed=11)


@pytest.mark.slow
@pytest.mark.parametrize("T", [2.1, T_C, 2.5])
def test_stored_samples_of_a_chain_are_uncorrelated(T):
    """L = 32, 1000 samples per temperature: at T = 2.1 the former rule (Metropolis, thin from a pilot that
    missed the slow |m| tail) stored samples with lag-1 correlation ~0.13."""
    assert_decorrelated(32, T, 1000, seed=7)
