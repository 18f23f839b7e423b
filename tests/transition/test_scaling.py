"""Finite-size-scaling fit and Binder cumulants on synthetic data with known answers."""
import numpy as np
import pytest

from physics.transition.crossing import group_means
from physics.transition.scaling import (binder_bootstrap, binder_crossing, binder_cumulant, fit_pseudo_critical,
                                   fit_scaling_regime,
                                   scaled_temperature)

SIZES = np.array([8, 16, 24, 32, 48, 64])


def test_exact_data_gives_exact_parameters():
    tc = 2.269185 + 0.8 * SIZES ** -1.0
    fit = fit_pseudo_critical(SIZES, tc, np.full(6, 1e-3), nu=1.0)
    assert fit["tc_infinite"] == pytest.approx(2.269185, abs=1e-9)
    assert fit["a"] == pytest.approx(0.8, abs=1e-7)
    assert fit["chi2"] == pytest.approx(0.0, abs=1e-10)
    free = fit_pseudo_critical(SIZES, 2.269185 + 0.8 * SIZES ** (-1 / 0.8), np.full(6, 1e-3), nu=None)
    assert free["nu"] == pytest.approx(0.8, rel=1e-5)
    assert free["tc_infinite"] == pytest.approx(2.269185, abs=1e-7)
    assert not free["nu_at_bound"]


def test_noisy_data_error_bars_cover_the_truth():
    """Over 200 synthetic noisy data sets, the nu = 1 fit's 1-sigma interval covers T_c(inf) about 68 % of the time.

    200 trials give the coverage to about +-3.3 % (binomial); the Birge scale factor only widens intervals, so the
    coverage may exceed 68 %; the bounds [0.58, 0.85] allow ~3 sigma either way plus that widening.
    """
    rng = np.random.default_rng(0)
    sigma = np.full(6, 0.003)
    hits, pulls = 0, []
    for _ in range(200):
        tc = 2.269185 + 0.8 / SIZES + rng.normal(0, sigma)
        fit = fit_pseudo_critical(SIZES, tc, sigma, nu=1.0)
        pull = (fit["tc_infinite"] - 2.269185) / fit["tc_infinite_stderr"]
        hits += abs(pull) < 1
        pulls.append(pull)
    assert 0.58 < hits / 200 < 0.85
    assert abs(np.mean(pulls)) < 0.25  # unbiased: the mean pull of 200 unit-variance pulls is within ~3.5 sigma


def test_fit_rejects_bad_input():
    with pytest.raises(ValueError, match="more than 3 sizes"):
        fit_pseudo_critical(SIZES[:3], np.ones(3), np.ones(3), nu=None)
    with pytest.raises(ValueError, match="stderr > 0"):
        fit_pseudo_critical(SIZES, np.ones(6), np.zeros(6))


def test_binder_limits():
    rng = np.random.default_rng(0)
    groups = np.repeat([0, 1], 20000)
    ordered = rng.choice([-0.8, 0.8], 20000)          # two delta peaks: U = 2/3 exactly
    disordered = rng.normal(0, 0.1, 20000)            # Gaussian: U = 0 (+- ~0.01 for 20000 samples)
    U = binder_cumulant(np.concatenate([ordered, disordered]), groups, 2)
    assert U[0] == pytest.approx(2 / 3, abs=1e-12)
    assert U[1] == pytest.approx(0.0, abs=0.03)


def test_binder_crossing_of_synthetic_curves():
    """Two scaling-form curves U(T) = f((T - tc) L) cross exactly at tc. As in Monte Carlo data the curves are
    precise below tc and noisy where both are near 0 (here T > 2.35), which makes spurious crossings there."""
    T = np.linspace(2.1, 2.5, 17)
    tc = 2.27
    rng = np.random.default_rng(0)
    noise = np.where(T > 2.35, 0.05, 0.002)

    def curve(L, shape=()):
        return (2 / 3) / (1 + np.exp((T - tc) * L / 2)) + rng.normal(0, 1, shape + T.shape) * noise

    small = (curve(16), curve(16, (300,)))
    large = (curve(32), curve(32, (300,)))
    crossing = binder_crossing(T, small, large)
    assert crossing.value == pytest.approx(tc, abs=5e-3)  # linear interpolation of a noisy difference near tc
    assert crossing.ci_low < tc < crossing.ci_high
    assert crossing.stderr < 0.01


def test_binder_bootstrap_matches_the_estimate():
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(3), 500)
    m = rng.normal(0, 1, 1500) * np.repeat([0.1, 0.5, 1.0], 500) + np.repeat([0.0, 0.0, 0.7], 500)
    U = binder_cumulant(m, groups, 3)
    replicates = binder_bootstrap(m, groups, 3, 500, rng)
    assert replicates.shape == (500, 3)
    assert np.abs(replicates.mean(axis=0) - U).max() < 4 * replicates.std(axis=0).max()
    assert group_means(m ** 2, groups, 3).shape == (3,)


def test_scaled_temperature():
    assert scaled_temperature([2.3], 10, 2.2, 1.0) == pytest.approx([1.0])


def test_scaling_regime_drops_small_sizes_with_large_corrections():
    """T_c(L) = T_c + a/L + b/L^3 with a large b: the smallest size spoils the nu = 1 fit and is dropped."""
    sigma = np.full(6, 0.002)
    tc = 2.269185 + 0.6 / SIZES - 40.0 / SIZES ** 3  # -0.078 at L = 8, -0.01 at 16, < 0.003 beyond
    fit = fit_scaling_regime(SIZES, tc, sigma, nu=1.0)
    assert fit["min_size"] > 8 and fit["p_value"] >= 0.05
    assert fit["tc_infinite"] == pytest.approx(2.269185, abs=3 * fit["tc_infinite_stderr"])
    everything = fit_scaling_regime(SIZES, tc, sigma, nu=1.0, p_min=0.0)
    assert everything["min_size"] == 8 and everything["p_value"] < 0.05


def test_scaling_regime_keeps_every_size_when_the_fit_is_good():
    fit = fit_scaling_regime(SIZES, 2.269185 + 0.6 / SIZES, np.full(6, 0.002), nu=1.0)
    assert fit["min_size"] == 8 and fit["dof"] == 4
