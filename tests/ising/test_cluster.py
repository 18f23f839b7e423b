"""Swendsen–Wang and Wolff cluster updates: stationarity, cluster statistics, calibration."""

import numpy as np
import pytest

from physics.ising import lattice as lat
from physics.ising.cluster import SwendsenWang, Wolff
from physics.ising.exact import enumerate_observables


def sw_update(lattice):
    def update(spins, T, rng):
        chain = SwendsenWang(spins, T, lattice)
        chain.sweep(rng)
        return chain.spins

    return update


def wolff_update(lattice):
    def update(spins, T, rng):
        chain = Wolff(spins, T, lattice, flips_per_sweep=1)  # one cluster flip per lattice
        chain.sweep(rng)
        return chain.spins

    return update


CASES = [("square", 2, 2.0), ("square", 3, 1.5), ("square", 3, 3.5), ("triangular", 3, 2.5), ("triangular", 3, 6.0)]


@pytest.mark.parametrize("make_update", [sw_update, wolff_update], ids=["swendsen_wang", "wolff"])
@pytest.mark.parametrize("lattice,L,T", CASES)
def test_update_preserves_boltzmann_distribution(stationarity_pvalue, make_update, lattice, L, T):
    # Chi-square of the states after one update of exact Boltzmann draws; a correct update gives a
    # uniform p-value, so p < 1e-4 is a 1-in-10^4 accident (fixed seeds: deterministic outcome).
    assert stationarity_pvalue(make_update(lattice), L, lattice, T) > 1e-4


@pytest.mark.parametrize("make_update", [sw_update, wolff_update], ids=["swendsen_wang", "wolff"])
def test_update_preserves_boltzmann_distribution_4x4(stationarity_pvalue, make_update):
    assert stationarity_pvalue(make_update("square"), 4, "square", 2.27, by="energy_magnetization") > 1e-4


@pytest.mark.parametrize("T", [1.5, 2.27, 3.5])
def test_wolff_mean_cluster_size_is_n_times_m2(T):
    """Improved estimator (Wolff 1989): the flipped cluster, seeded at a uniformly random site, has
    mean size ``N <m^2>``; compared with enumeration of the 4x4 lattice."""
    rng = np.random.default_rng(7)
    chain = Wolff(np.ones((256, 4, 4), np.int8), T, flips_per_sweep=1)
    chain.sweep(rng, 50)
    before = chain._flipped.copy(), chain._n_clusters.copy()
    sizes = []
    for _ in range(100):
        chain.sweep(rng)
        sizes.append(chain._flipped - before[0])
        before = chain._flipped.copy(), chain._n_clusters.copy()
    sizes = np.array(sizes, dtype=float)  # (100 sweeps, 256 chains), one cluster each
    per_chain = sizes.mean(axis=0)  # chains are independent: their means give an honest error bar
    sigma = per_chain.std(ddof=1) / np.sqrt(per_chain.size)
    expected = 16 * enumerate_observables(4, T)["m2"]
    assert abs(per_chain.mean() - expected) <= 4 * sigma  # 4 sigma: false alarm ~6e-5


def test_wolff_calibration_sets_flips_per_sweep():
    rng = np.random.default_rng(0)
    chain = Wolff(np.ones((8, 16, 16), np.int8), [1.5] * 4 + [4.0] * 4)
    assert chain.flips_per_sweep is None
    chain.sweep(rng, 5)
    flips = chain.flips_per_sweep
    assert flips.shape == (8,) and np.all(flips >= 1)
    assert np.all(flips[:4] == 1)  # at T = 1.5 one cluster covers nearly the whole lattice
    # At T = 4 clusters are small: about L^2 / <C> flips make a sweep (calibration noise: 30 %).
    np.testing.assert_allclose(flips[4:], 256 / chain.mean_cluster_size[4:], rtol=0.3)


@pytest.mark.parametrize("cls", [SwendsenWang, Wolff])
def test_per_lattice_temperatures(cls):
    chain = cls(np.ones((2, 16, 16), np.int8), [0.5, 50.0])
    chain.sweep(np.random.default_rng(1), 20)
    e = chain.energy_per_spin()
    assert e[0] < -1.99 and e[1] > -0.2
    np.testing.assert_allclose(e, lat.energy_per_spin(chain.spins))


def test_swendsen_wang_flips_isolated_spins_with_probability_half():
    """At very high T no bond is activated: every spin is its own cluster and flips with p = 1/2."""
    rng = np.random.default_rng(2)
    chain = SwendsenWang(np.ones((64, 16, 16), np.int8), 1e9)
    chain.sweep(rng)
    frac = np.mean(chain.spins == -1)
    assert abs(frac - 0.5) < 5 * np.sqrt(0.25 / chain.spins.size)  # 5 binomial sigma


def test_bad_flips_per_sweep():
    with pytest.raises(ValueError, match="flips_per_sweep"):
        Wolff(np.ones((2, 4, 4), np.int8), 2.0, flips_per_sweep=0)
    with pytest.raises(ValueError, match="flips_per_sweep"):
        Wolff(np.ones((2, 4, 4), np.int8), 2.0, flips_per_sweep=1.5)
