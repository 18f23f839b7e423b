"""Single-histogram reweighting against exact finite-lattice results, its identities, its range and its checks."""
import math

import numpy as np
import pytest

from physics.ising import enumerate_observables, simulate, torus_energy
from physics.transition.reweighting import reweight, reweighted_chain_sums, reweighting_range

T0 = 2.4


@pytest.fixture(scope="module")
def chains_4x4():
    """16 independent Swendsen–Wang chains of the 4 x 4 torus at T0, 2500 sweeps each (~1 s)."""
    run = simulate(4, T0, 2500, algorithm="swendsen_wang", seed=12, n_chains=16)
    return run["energy"] * 16, run["magnetization"]  # total energy (J), magnetisation per spin


def jackknife_over_chains(energy, values, temperatures):
    """Reweighted means and their delete-one-chain jackknife errors, shapes (k, n_T)."""
    W, S = reweighted_chain_sums(energy, values, T0, temperatures)
    n = W.shape[0]
    full = S.sum(axis=1) / W.sum(axis=0)
    loo = np.stack([(S.sum(axis=1) - S[:, j]) / (W.sum(axis=0) - W[j]) for j in range(n)])  # (n, k, n_T)
    return full, np.sqrt((n - 1) / n * np.sum((loo - loo.mean(axis=0)) ** 2, axis=0))


def test_reweighted_energy_and_moments_match_the_exact_torus(chains_4x4):
    energy, m = chains_4x4
    low, high = reweighting_range(energy, T0)
    assert low < T0 < high
    temperatures = np.array([low, 0.5 * (low + T0), T0, 0.5 * (T0 + high), high])
    values = np.stack([energy / 16, m ** 2])
    mean, error = jackknife_over_chains(energy, values, temperatures)
    exact = np.stack([torus_energy(4, temperatures), enumerate_observables(4, temperatures)["m2"]])
    pulls = (mean - exact) / error
    # 10 correlated estimates (one data set): each within 4 jackknife errors (a 4-sigma miss of a correct
    # estimate has probability 6e-5; 15 chains make the error itself uncertain by ~18 %, which 4 sigma absorbs)
    assert np.all(np.abs(pulls) < 4), pulls
    assert np.all(error > 0)
    # reweighting reaches far enough to matter: the exact energy changes by many errors across the range
    assert abs(exact[0, 0] - exact[0, -1]) > 20 * error[0].max()


def test_identity_at_the_simulated_temperature(chains_4x4):
    """At T = T0 every weight is 1: the plain means (to rounding)."""
    energy, m = chains_4x4
    values = np.stack([m[0] ** 2, np.abs(m[0])])
    np.testing.assert_allclose(reweight(energy[0], values, T0, [T0])[:, 0], values.mean(axis=1), rtol=1e-12)
    W, S = reweighted_chain_sums(energy, m ** 2, T0, T0)
    np.testing.assert_allclose(W[:, 0], energy.shape[1])  # all weights 1 (rounding only)
    np.testing.assert_allclose(S[0, :, 0], (m ** 2).sum(axis=1), rtol=1e-12)


def test_chain_sums_agree_with_reweighting_the_pooled_series(chains_4x4):
    energy, m = chains_4x4
    T = [2.2, 2.5]
    W, S = reweighted_chain_sums(energy, m ** 2, T0, T)
    np.testing.assert_allclose(S[0].sum(axis=0) / W.sum(axis=0), reweight(energy.ravel(), (m ** 2).ravel(), T0, T)[0],
                               rtol=1e-12)


def test_no_overflow_for_huge_energies():
    """log-sum-exp: total energies of a 10^6-spin lattice reweighted far away would overflow exp() directly."""
    rng = np.random.default_rng(0)
    energy = -1.4e6 + rng.normal(0, 2000, 1000)
    values = rng.normal(size=1000)
    out = reweight(energy, values, 2.3, [1.5, 4.0])
    assert np.all(np.isfinite(out))
    # far below T0 the lowest energy dominates completely
    assert out[0, 0] == pytest.approx(values[np.argmin(energy)])


def test_range_follows_the_energy_width():
    """|1/T - 1/T0| sigma_E = width at both edges; a wider histogram (larger lattice) gives a narrower range."""
    rng = np.random.default_rng(1)
    energy = rng.normal(-1000, 50, 5000)
    low, high = reweighting_range(energy, 2.3)
    sigma = energy.std()
    assert (1 / low - 1 / 2.3) * sigma == pytest.approx(1.0)
    assert (1 / 2.3 - 1 / high) * sigma == pytest.approx(1.0)
    low2, high2 = reweighting_range(energy, 2.3, width=2.0)
    assert low2 < low and high2 > high
    narrow = reweighting_range(4 * energy, 2.3)
    assert narrow[0] > low and narrow[1] < high
    assert reweighting_range(np.full(10, -5.0), 2.3) == (2.3, 2.3)
    assert reweighting_range([-1.0, 1.0], 1.0, width=5.0)[1] == math.inf


@pytest.mark.parametrize("call,match", [
    (lambda: reweight(np.zeros((2, 3)), np.zeros((2, 3)), 2.3, [2.3]), "energy_total"),
    (lambda: reweight(np.zeros(3), np.zeros(4), 2.3, [2.3]), "observables"),
    (lambda: reweight(np.zeros(3), np.zeros(3), -1.0, [2.3]), "T0"),
    (lambda: reweight(np.zeros(3), np.zeros(3), 2.3, [0.0]), "temperatures"),
    (lambda: reweight([np.nan, 0.0], [0.0, 0.0], 2.3, [2.3]), "energy_total"),
    (lambda: reweighted_chain_sums(np.zeros(3), np.zeros(3), 2.3, [2.3]), "energy_total"),
    (lambda: reweighting_range([1.0], 2.3), "energy_total"),
    (lambda: reweighting_range([1.0, 2.0], 2.3, width=0), "width"),
])
def test_bad_input_is_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()
