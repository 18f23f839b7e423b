"""Crossings, peaks and the bootstrap on synthetic curves with known answers."""
import numpy as np
import pytest

from physics.transition.crossing import (bootstrap_group_means, crossings, group_means, parabolic_peak,
                                    probability_crossing)


def test_crossing_of_a_line_is_exact():
    T = np.linspace(1.0, 3.0, 9)
    curve = 1.0 - (T - 1.0) / 2.0  # 1/2 at T = 2
    assert crossings(T, curve) == pytest.approx(2.0, abs=1e-12)
    # between grid points: linear interpolation is exact for a line
    assert crossings(T, curve + 0.1) == pytest.approx(2.2, abs=1e-12)


def test_crossings_vectorised_several_and_none():
    T = np.array([1.0, 2.0, 3.0, 4.0])
    curves = np.array([[0.9, 0.6, 0.4, 0.1],      # one crossing at 2.5
                       [0.9, 0.4, 0.6, 0.1],      # three: 1.8, 2.5, 3.2 -> mean 2.5
                       [0.9, 0.8, 0.7, 0.6]])     # never crosses
    result = crossings(T, curves)
    assert result[0] == pytest.approx(2.5)
    assert result[1] == pytest.approx((1.8 + 2.5 + (3 + 0.1 / 0.5)) / 3)
    assert np.isnan(result[2])


def test_crossings_rejects_unsorted_temperatures():
    with pytest.raises(ValueError, match="'T' parameter"):
        crossings([2.0, 1.0, 3.0], [0.9, 0.5, 0.1])


def test_parabolic_peak_recovers_the_vertex():
    x = np.linspace(0, 1, 11)
    assert parabolic_peak(x, -(x - 0.537) ** 2) == pytest.approx(0.537, abs=1e-12)
    assert parabolic_peak(x, x) == 1.0  # maximum at the edge: the grid point


def test_group_means_and_bootstrap_agree():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(4), 50)
    values = rng.normal(groups, 1.0)
    means = group_means(values, groups, 4)
    assert means == pytest.approx([values[groups == g].mean() for g in range(4)])
    replicates = bootstrap_group_means(values[None], groups, 4, 2000, rng)[:, 0]
    # the bootstrap spread of a mean of 50 unit-variance samples is 1/sqrt(50) ~ 0.141 (within 10 %: 2000 replicates
    # give the std to ~1.6 %, the sample variance of 50 values to ~10 %)
    assert replicates.std(axis=0) == pytest.approx(np.full(4, 1 / np.sqrt(50)), rel=0.25)
    assert replicates.mean(axis=0) == pytest.approx(means, abs=0.02)


def test_group_means_needs_every_group():
    with pytest.raises(ValueError, match="temperature index 2"):
        group_means(np.ones(4), np.array([0, 0, 1, 1]), 3)


def _synthetic_probabilities(rng, T, tc, n_per_T, n_models=3, model_spread=0.0):
    """Outputs of 'models' on the same samples, as a trained network's: each sample has a latent order parameter
    z = T + noise (shared by every model, the sampling noise of the data), each model a sharp step in z at
    tc + its own shift (the spread between training runs)."""
    shifts = rng.normal(0.0, model_spread, n_models)
    T_samples = np.repeat(T, n_per_T)
    z = T_samples + rng.normal(0.0, 0.08, T_samples.size)
    P = 1 / (1 + np.exp((z[None, :] - tc - shifts[:, None]) / 0.01))
    return P, np.repeat(np.arange(T.size), n_per_T)


def test_probability_crossing_finds_known_tc_with_honest_error():
    """The estimate lands near the truth, and the bootstrap error (samples and models) matches the spread of the
    estimate over independent repetitions of data and training."""
    rng = np.random.default_rng(1)
    T = np.round(np.arange(2.0, 2.55, 0.05), 6)
    estimates, errors = [], []
    for _ in range(40):
        P, groups = _synthetic_probabilities(rng, T, 2.27, 100, model_spread=0.005)
        est = probability_crossing(T, P, groups, n_boot=200, rng=rng)
        estimates.append(est.value)
        errors.append(est.stderr)
    estimates, errors = np.array(estimates), np.array(errors)
    # linear interpolation of a logistic symmetric about 2.27 is unbiased up to ~1e-3 on this grid
    assert abs(estimates.mean() - 2.27) < 4 * estimates.std() / np.sqrt(40) + 2e-3
    # 40 repetitions estimate a standard deviation to ~11 %: allow a factor 1.5 either way
    assert 1 / 1.5 < np.median(errors) / estimates.std(ddof=1) < 1.5


def test_model_resampling_widens_the_error_bar():
    rng = np.random.default_rng(2)
    T = np.round(np.arange(2.0, 2.55, 0.05), 6)
    P, groups = _synthetic_probabilities(rng, T, 2.27, 200, n_models=5, model_spread=0.03)
    with_models = probability_crossing(T, P, groups, n_boot=300, rng=np.random.default_rng(3))
    samples_only = probability_crossing(T, P, groups, n_boot=300, rng=np.random.default_rng(3),
                                        resample_models=False)
    assert with_models.value == samples_only.value
    assert with_models.stderr > samples_only.stderr
    assert with_models.ci_low < with_models.value < with_models.ci_high


def test_first_and_last_crossing():
    T = np.array([1.0, 2.0, 3.0, 4.0])
    curve = np.array([0.1, -0.1, 0.1, -0.1])  # crosses at 1.5, 2.5, 3.5
    assert crossings(T, curve, 0.0, which="first") == pytest.approx(1.5)
    assert crossings(T, curve, 0.0, which="last") == pytest.approx(3.5)
    assert crossings(T, curve, 0.0) == pytest.approx(2.5)
    assert np.isnan(crossings(T, np.ones((2, 4)), 0.0, which="first")).all()
    with pytest.raises(ValueError, match="'which'"):
        crossings(T, curve, which="median")
