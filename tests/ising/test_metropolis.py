"""Checkerboard Metropolis: layouts, acceptance probabilities, stationarity and ergodicity."""

import numpy as np
import pytest

from physics.ising import lattice as lat
from physics.ising.metropolis import CheckerboardMetropolis, acceptance_thresholds

# (lattice, L, uses the fast sub-grid layout)
LAYOUTS = [("square", 2, True), ("square", 3, False), ("square", 4, True), ("square", 7, False),
           ("square", 12, True), ("triangular", 3, True), ("triangular", 4, False), ("triangular", 5, False),
           ("triangular", 9, True)]  # fmt: skip


def random_spins(shape, rng):
    return (rng.integers(0, 2, size=shape) * 2 - 1).astype(np.int8)


@pytest.mark.parametrize("lattice,L,fast", LAYOUTS)
def test_layouts_reproduce_state_energy_and_magnetization(lattice, L, fast):
    rng = np.random.default_rng(L)
    spins = random_spins((5, L, L), rng)
    chain = CheckerboardMetropolis(spins, [1.0, 2.0, 3.0, 4.0, 5.0], lattice)
    assert chain.fast is fast
    np.testing.assert_array_equal(chain.spins, spins)
    for _ in range(2):  # before and after updates: the layout's own observables match the lattice module
        np.testing.assert_allclose(chain.energy_per_spin(), lat.energy_per_spin(chain.spins, lattice), atol=1e-12)
        np.testing.assert_allclose(chain.magnetization_per_spin(), lat.magnetization_per_spin(chain.spins), atol=1e-12)
        chain.sweep(rng, 3)
    assert chain.spins.dtype == np.int8 and set(np.unique(chain.spins)) <= {-1, 1}


@pytest.mark.parametrize("lattice,L", [("square", 8), ("triangular", 6)])
def test_subgrid_neighbour_sums_match_np_roll(lattice, L):
    spins = random_spins((3, L, L), np.random.default_rng(0))
    chain = CheckerboardMetropolis(spins, 2.0, lattice)
    expected = lat.neighbour_sum(spins, lattice)
    k = chain._k
    for a in range(k):
        for b in range(k):
            out = np.empty_like(chain._field)
            np.testing.assert_array_equal(chain._neighbour_sum_fast(a * k + b, out), expected[:, a::k, b::k])


def test_thresholds_encode_acceptance_probabilities():
    beta = np.array([0.1, 0.44, 2.0])
    thr = acceptance_thresholds(beta, "triangular").astype(np.float64)  # rows h = 0, 2, 4, 6
    expected = np.exp(-4.0 * np.arange(4)[:, None] * beta)
    expected[0] = 0.5 * (1.0 + expected[1])
    # P(r <= t) = (t + 1) / 2**32 equals ceil(p 2**32) / 2**32: within 2**-32 of p.
    np.testing.assert_allclose((thr + 1.0) / 2.0**32, expected, rtol=0, atol=2.0**-32)
    assert np.all(np.diff(thr, axis=0) <= 0)  # non-increasing: needed by the level trick
    assert acceptance_thresholds(beta, "square").shape == (3, 3)


@pytest.mark.parametrize("lattice,L,T", [("square", 8, 2.3), ("triangular", 6, 4.0), ("triangular", 4, 3.0)])
def test_flip_frequency_matches_acceptance_probability(lattice, L, T):
    """One colour-class update from random states: flip frequency per local field h vs A(h)."""
    rng = np.random.default_rng(1)
    chain = CheckerboardMetropolis(random_spins((4000, L, L), rng), T, lattice)
    before = chain.spins
    h = before * lat.neighbour_sum(before, lattice)
    chain.sweep(rng)  # the first class sees exactly the fields of `before`
    first = np.zeros((L, L), bool)
    if chain.fast:
        k = chain._k
        first[chain._order[0] // k :: k, chain._order[0] % k :: k] = True
    else:
        first.flat[chain._classes[0]] = True
    flipped = (chain.spins != before)[:, first]
    h = h[:, first]
    for value in np.unique(h):
        sel = h == value
        p = 1.0 if value < 0 else np.exp(-2.0 * value / T) if value > 0 else 0.5 * (1 + np.exp(-4.0 / T))
        sigma = np.sqrt(p * (1 - p) / sel.sum())
        # 5 binomial standard deviations (plus 1e-12 for p = 1): a false alarm has probability ~1e-6.
        assert abs(flipped[sel].mean() - p) <= 5 * sigma + 1e-12, (value, flipped[sel].mean(), p)


@pytest.mark.parametrize("lattice,L,T", [("square", 2, 2.0), ("square", 3, 1.5), ("square", 3, 3.5),
                                         ("triangular", 3, 2.0), ("triangular", 3, 5.0)])  # fmt: skip
def test_sweep_preserves_boltzmann_distribution(stationarity_pvalue, lattice, L, T):
    def update(spins, temperature, rng):
        chain = CheckerboardMetropolis(spins, temperature, lattice)
        chain.sweep(rng)
        return chain.spins

    # A correct update leaves exact Boltzmann draws Boltzmann distributed; p < 1e-4 would be a
    # 1-in-10^4 accident (the seeds are fixed, so the outcome is deterministic).
    assert stationarity_pvalue(update, L, lattice, T) > 1e-4


@pytest.mark.parametrize("T", [2.0, 3.5])
def test_sweep_preserves_boltzmann_distribution_4x4(stationarity_pvalue, T):
    def update(spins, temperature, rng):
        chain = CheckerboardMetropolis(spins, temperature, "square")
        chain.sweep(rng)
        return chain.spins

    assert stationarity_pvalue(update, 4, "square", T, by="energy_magnetization") > 1e-4


def test_zero_energy_stripes_are_not_frozen():
    """With Metropolis' A(0) = 1 the diagonal stripe state of period 4 (E = 0, h = 0 at every site)
    flips deterministically forever; A(0) < 1 lets the chain leave it (ergodicity)."""
    i, j = np.indices((4, 4))
    stripes = np.where((i + j) % 4 < 2, 1, -1).astype(np.int8)
    assert np.all(lat.neighbour_sum(stripes) * stripes == 0)
    chain = CheckerboardMetropolis(np.repeat(stripes[None], 64, axis=0), 2.27)
    chain.sweep(np.random.default_rng(0), 20)
    # P(a chain is still on a zero-energy cycle after 20 sweeps) <= (3/4)^(8*20): essentially zero.
    assert np.count_nonzero(chain.energy_per_spin() != 0.0) >= 60


def test_per_lattice_temperatures():
    rng = np.random.default_rng(3)
    chain = CheckerboardMetropolis(np.ones((2, 16, 16), np.int8), [0.5, 50.0])
    chain.sweep(rng, 50)
    e = chain.energy_per_spin()
    assert e[0] < -1.99 and e[1] > -0.2  # frozen at T = 0.5, nearly random at T = 50


@pytest.mark.parametrize("bad,match", [(0.0, "temperature"), (np.nan, "temperature"), (-1.0, "temperature"),
                                       ([1.0, 2.0, 3.0], "temperature")])  # fmt: skip
def test_bad_temperature(bad, match):
    with pytest.raises(ValueError, match=match):
        CheckerboardMetropolis(np.ones((2, 4, 4), np.int8), bad)


def test_bad_spins_and_lattice():
    with pytest.raises(ValueError, match="spins"):
        CheckerboardMetropolis(np.zeros((2, 4, 4), np.int8), 1.0)
    with pytest.raises(ValueError, match="lattice"):
        CheckerboardMetropolis(np.ones((2, 4, 4), np.int8), 1.0, lattice="hexagonal")
    with pytest.raises(ValueError, match="spins"):
        CheckerboardMetropolis(np.ones((2, 2, 2), np.int8), 1.0, lattice="triangular")
