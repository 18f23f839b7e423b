"""The benchmark's references do the same work as the product code: the block loop gives the same blocked spins,
the per-temperature loop the same reweighted averages, and the linear interpolation the exact crossing of a line.
(Speed itself is measured by `python benchmarks/bench_transition.py`, never by a test.)"""

import numpy as np
import pytest

from benchmarks.bench_transition import (
    block_data,
    crossing_data,
    linear_crossings,
    naive_block_spins,
    naive_reweight,
    reweight_data,
)
from physics.tasks.ising.blocking import block_spins
from physics.transition.crossing import local_crossings
from physics.transition.reweighting import reweight


@pytest.mark.parametrize("L, L0", [(32, 4), (16, 16), (8, 1)])
def test_block_loop_matches_block_spins(L, L0):
    spins = block_data(np.random.default_rng(0), 20, L)
    expected = block_spins(spins, L0)
    got = naive_block_spins(spins, L0)
    assert got.dtype == np.int8 and got.shape == (20, L0, L0)
    np.testing.assert_array_equal(got, expected)


def test_block_loop_breaks_ties_with_the_top_left_spin():
    spins = np.array([[[1, -1], [1, -1]], [[-1, 1], [-1, 1]], [[1, 1], [1, -1]]], dtype=np.int8)
    np.testing.assert_array_equal(naive_block_spins(spins, 1), np.array([[[1]], [[-1]], [[1]]], dtype=np.int8))
    np.testing.assert_array_equal(naive_block_spins(spins, 1), block_spins(spins, 1))


def test_reweighting_loop_matches_reweight():
    energy, moments = reweight_data(np.random.default_rng(1), 4, 500, 32)
    temperatures = np.linspace(2.22, 2.32, 7)
    np.testing.assert_allclose(naive_reweight(energy, moments, 2.27, temperatures),
                               reweight(energy, moments, 2.27, temperatures), rtol=1e-10)


def test_linear_crossing_of_a_line_is_exact():
    T = np.linspace(2.0, 2.6, 13)
    rising = 0.5 + 3.0 * (T - 2.2345)  # crosses 1/2 at 2.2345
    falling = 0.9 - 2.0 * (T - 2.0)  # 0.9 - 2 (T - 2) = 0.5 at T = 2.2
    flat = np.full(T.size, 0.7)  # never crosses
    np.testing.assert_allclose(linear_crossings(T, np.stack([rising, falling]), 0.5), [2.2345, 2.2], rtol=1e-12)
    assert np.isnan(linear_crossings(T, flat[None], 0.5)[0])
    np.testing.assert_allclose(local_crossings(T, np.stack([rising, falling]), 0.5)[0], [2.2345, 2.2], rtol=1e-9)


def test_noisy_curves_give_one_crossing_each_near_the_truth():
    T = np.linspace(2.0, 2.6, 13)
    curves = crossing_data(np.random.default_rng(2), 50, T, 2.269, 0.1, 0.05)
    linear, fitted = linear_crossings(T, curves), local_crossings(T, curves)[0]
    assert linear.shape == fitted.shape == (50,)
    assert np.all(np.abs(linear - 2.269) < 0.1) and np.all(np.abs(fitted - 2.269) < 0.1)
