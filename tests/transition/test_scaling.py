"""Finite-size scaling on synthetic data with known answers: the shift fit, nu from the slopes, the L_min table,
the replica extrapolation, and the whole chain from noisy curves."""
import math

import numpy as np
import pytest

from physics.transition.crossing import local_crossings
from physics.transition.scaling import extrapolate, fit_shift, lmin_table, nu_from_slopes, pseudo_critical

TC = 2.269185


# --- fit_shift, nu_from_slopes, lmin_table -------------------------------------------------------------------------

def test_fit_shift_is_exact_on_exact_data():
    L = np.array([16, 32, 64, 128])
    fit = fit_shift(L, TC + 0.6 * L ** -1.25, np.full(4, 1e-3), nu=0.8)
    assert fit["tc"] == pytest.approx(TC, abs=1e-12) and fit["a"] == pytest.approx(0.6, abs=1e-10)
    assert fit["chi2"] == pytest.approx(0.0, abs=1e-12) and fit["dof"] == 2 and math.isnan(fit["b"])
    corrected = fit_shift(L, TC + 0.6 / L - 0.5 / L ** 2, np.full(4, 1e-3), nu=1.0, correction=True)
    assert corrected["tc"] == pytest.approx(TC, abs=1e-12) and corrected["b"] == pytest.approx(-0.5, abs=1e-8)
    assert corrected["dof"] == 1 and corrected["p_value"] == pytest.approx(1.0)


def test_fit_shift_exact_interpolation_propagates_the_errors():
    """Two sizes, two parameters: T_c = (L2 T2 - L1 T1) / (L2 - L1) for nu = 1, so its error is
    sqrt(L2^2 s2^2 + L1^2 s1^2) / (L2 - L1); no goodness of fit (p_value NaN)."""
    fit = fit_shift([32, 64], [2.29, 2.28], [0.002, 0.003], nu=1.0)
    assert fit["dof"] == 0 and math.isnan(fit["p_value"])
    assert fit["tc"] == pytest.approx((64 * 2.28 - 32 * 2.29) / 32, abs=1e-12)
    assert fit["tc_err"] == pytest.approx(math.hypot(64 * 0.003, 32 * 0.002) / 32, rel=1e-10)
    unweighted = fit_shift([32, 64], [2.29, 2.28], nu=1.0)
    assert unweighted["tc"] == pytest.approx(fit["tc"]) and math.isnan(unweighted["tc_err"])


def test_fit_shift_errors_match_the_scatter():
    """300 noisy data sets: the pulls (T_c - truth) / tc_err have unit spread. 300 pulls give their SD to ~4 %;
    allow 15 %."""
    rng = np.random.default_rng(0)
    L, sigma = np.array([16, 24, 32, 48, 64]), np.array([0.004, 0.003, 0.003, 0.002, 0.002])
    pulls = []
    for _ in range(300):
        fit = fit_shift(L, TC + 0.6 / L + rng.normal(0, sigma), sigma, nu=1.0)
        pulls.append((fit["tc"] - TC) / fit["tc_err"])
    assert np.std(pulls) == pytest.approx(1.0, abs=0.15)
    assert abs(np.mean(pulls)) < 4 / math.sqrt(300)


def test_fit_shift_rejects_bad_input():
    with pytest.raises(ValueError, match="at least 3 points"):
        fit_shift([16, 32], [2.3, 2.28], nu=1.0, correction=True)
    with pytest.raises(ValueError, match="'nu' parameter"):
        fit_shift([16, 32], [2.3, 2.28], nu=0.0)
    with pytest.raises(ValueError, match="'T_star' parameter"):
        fit_shift([16, 32], [2.3, np.nan], nu=1.0)
    with pytest.raises(ValueError, match="'stderr' parameter"):
        fit_shift([16, 32], [2.3, 2.28], [0.01, 0.0], nu=1.0)


def test_nu_from_exact_slopes_and_error_propagation():
    L = np.array([16, 32, 64])
    fit = nu_from_slopes(L, -0.16 * L ** 1.25)  # any sign: the modulus is used
    assert fit["ok"] and fit["nu"] == pytest.approx(0.8, abs=1e-12) and fit["amplitude"] == pytest.approx(0.16)
    # two sizes, relative errors e1, e2: 1/nu = ln(s2/s1) / ln 2 has error sqrt(e1^2 + e2^2) / ln 2
    two = nu_from_slopes([16, 32], [2.5, 5.0], [0.1 * 2.5, 0.05 * 5.0])
    assert two["inv_nu"] == pytest.approx(1.0) and two["dof"] == 0 and math.isnan(two["p_value"])
    assert two["inv_nu_err"] == pytest.approx(math.hypot(0.1, 0.05) / math.log(2), rel=1e-10)
    assert two["nu_err"] == pytest.approx(two["inv_nu_err"], rel=1e-10)  # nu = 1: d nu = d(1/nu)
    falling = nu_from_slopes(L, [3.0, 2.0, 1.0])
    assert not falling["ok"] and math.isnan(falling["nu"]) and "do not grow" in falling["reason"]
    with pytest.raises(ValueError, match="'slopes' parameter"):
        nu_from_slopes(L, [1.0, 0.0, 2.0])


def test_lmin_table_rows_and_flags():
    L = np.array([8, 16, 32, 64])
    rows = lmin_table(L, TC + 0.6 / L, np.full(4, 0.001), nu=1.0)
    assert [r["L_min"] for r in rows] == [8, 16, 32]
    assert [r["n_sizes"] for r in rows] == [4, 3, 2]
    assert [r["exact_interpolation"] for r in rows] == [False, False, True]
    assert all(r["tc"] == pytest.approx(TC, abs=1e-10) for r in rows)


# --- extrapolate over replicas --------------------------------------------------------------------------------------

SIZES3 = np.array([16, 32, 64])


def _replicas(rng, n=5, noise=0.002, slope_noise=0.05, b=0.0):
    T_star = TC + 0.6 / SIZES3 + b / SIZES3 ** 2 + rng.normal(0, noise, (n, 3))
    slopes = -0.16 * SIZES3 * (1 + rng.normal(0, slope_noise, (n, 3)))
    return T_star, slopes


def test_extrapolate_exact_replicas():
    """Identical, exact replicas: T_c exactly, no spread, no change under the b/L^2 correction."""
    T_star = np.tile(TC + 0.6 / SIZES3, (4, 1))
    slopes = np.tile(0.16 * SIZES3, (4, 1))
    result = extrapolate(SIZES3, T_star, slopes, L_min=16, method="synthetic")
    assert result.tc.kind == "T_c(inf)" and result.tc.value == pytest.approx(TC, abs=1e-10)
    assert result.tc.stat == pytest.approx(0.0, abs=1e-10) and result.tc.sys == pytest.approx(0.0, abs=1e-9)
    assert result.tc.dof == 3 and result.tc.n_replicas == 4 and result.tc.n_failed == 0
    assert "SD/sqrt(n) over n = 4 independent replicas of the whole pipeline" in result.tc.stat_source
    assert "b/L² correction" in result.tc.sys_source
    assert result.nu["value"] == pytest.approx(1.0) and result.nu["method"] == "slopes |d<f>/dT| at T*(L) ∝ L^(1/ν)"
    assert [p.kind for p in result.pseudo] == ["T*(L)"] * 3
    assert result.T_star_mean == pytest.approx(TC + 0.6 / SIZES3)
    assert [row["L_min"] for row in result.table] == [16, 32]
    assert result.as_dict()["tc"]["value"] == result.tc.value


def test_extrapolate_recovers_tc_and_nu_within_their_errors():
    rng = np.random.default_rng(3)
    result = extrapolate(SIZES3, *_replicas(rng, b=-0.5), L_min=16, method="synthetic")
    low, high = result.tc.interval(0.95)
    assert low < TC < high
    assert result.nu["ci95_low"] < 1.0 < result.nu["ci95_high"]
    assert result.nu["dof"] == 4 and result.tc.extra["nu"] == result.nu["value"]


def test_extrapolate_with_fixed_nu_says_so():
    rng = np.random.default_rng(4)
    result = extrapolate(SIZES3, *_replicas(rng), L_min=16, method="synthetic", nu=1.0)
    assert "ν fixed at 1" in result.tc.method
    assert result.nu["fixed"] and result.nu["value"] == 1.0 and result.nu["stat"] == 0.0


def test_missing_crossings_are_counted():
    rng = np.random.default_rng(5)
    T_star, slopes = _replicas(rng)
    T_star[1, 2] = np.nan  # replica 1 never crossed at L = 64
    result = extrapolate(SIZES3, T_star, slopes, L_min=16, method="synthetic")
    assert result.tc.n_failed == 1 and result.tc.n_replicas == 5 and result.tc.dof == 3
    assert np.isnan(result.tc_replicas[1]) and np.isfinite(result.tc_replicas[[0, 2, 3, 4]]).all()
    assert result.pseudo[2].n_failed == 1 and result.pseudo[0].n_failed == 0
    # the per-size means use every replica that crossed at that size
    assert result.T_star_mean[0] == pytest.approx(T_star[:, 0].mean())


def test_too_few_sizes_above_lmin_gives_no_tc_but_pseudo_critical_temperatures():
    rng = np.random.default_rng(6)
    result = extrapolate(SIZES3, *_replicas(rng), L_min=64, method="synthetic")
    assert not result.tc.ok and result.tc.failure == "finite-size scaling needs at least 2 sizes ≥ L_min"
    assert len(result.pseudo) == 3 and all(p.ok and p.kind == "T*(L)" for p in result.pseudo)
    assert math.isnan(result.nu["value"])


def test_two_sizes_and_one_replica():
    rng = np.random.default_rng(7)
    T_star, slopes = _replicas(rng, n=1)
    two = extrapolate(SIZES3, T_star, slopes, L_min=32, method="synthetic")
    assert two.tc.ok and math.isnan(two.tc.stat) and two.tc.sys == 0.0
    assert "no statistical error can be given from one replica" in two.tc.stat_source
    assert "correction needs at least 3 sizes" in two.tc.stat_source
    assert two.table and all(math.isnan(row["tc_err"]) or row["dof"] > 0 for row in two.table)


def test_no_replica_crossed():
    T_star = np.full((3, 3), np.nan)
    result = extrapolate(SIZES3, T_star, T_star, L_min=16, method="synthetic")
    assert not result.tc.ok and result.tc.failure == "no crossing in any of the 3 replicas"
    assert all(p.failure == "no crossing in any of the 3 replicas" for p in result.pseudo)
    assert result.table == []


def test_pseudo_critical_of_one_size():
    estimate = pseudo_critical(32, [2.29, 2.285, np.nan], "network output crossing 1/2")
    assert estimate.kind == "T*(L)" and estimate.sizes == (32,) and estimate.n_failed == 1
    assert estimate.value == pytest.approx(2.2875)


def test_extrapolate_rejects_bad_shapes():
    with pytest.raises(ValueError, match="shape \\(n_replicas, 3\\)"):
        extrapolate(SIZES3, np.ones((2, 2)), np.ones((2, 2)), L_min=16, method="m")
    with pytest.raises(ValueError, match="distinct sizes"):
        extrapolate([16, 16, 32], np.ones((2, 3)), np.ones((2, 3)), L_min=16, method="m")


# --- the whole chain on noisy curves --------------------------------------------------------------------------------

def _pipeline(rng, T, n_replicas=5, n_samples=1000, width=1.6, training_spread=0.05):
    """Replicas of the synthetic pipeline: each "trains" a network whose output is F(((T - T_c) L - x0) / width)
    with its own x0 = 0.6 + N(0, training_spread) (so T*(L) = T_c + x0 / L), averaged over n_samples binomial draws
    per temperature and size; crossings and slopes from the local cubic."""
    T_star, slopes = np.empty((n_replicas, 3)), np.empty((n_replicas, 3))
    for r in range(n_replicas):
        x0 = 0.6 + rng.normal(0, training_spread)
        for k, L in enumerate(SIZES3):
            curve = rng.binomial(n_samples, 1 / (1 + np.exp(((T - TC) * L - x0) / width))) / n_samples
            (T_star[r, k],), (slopes[r, k],) = local_crossings(T, curve)
    return T_star, slopes


def test_noisy_logistic_curves_give_tc_and_nu_within_the_quoted_errors():
    """F((T - T_c) L^(1/nu)) with binomial noise, 5 replicas, sizes 16/32/64 on a 0.01 grid (on the 0.02 grid an
    8-point cubic is too wide for L = 64, see test_crossing.test_wide_window_flattens_steep_slopes)."""
    T = np.round(np.arange(2.0, 2.6 + 1e-9, 0.01), 6)
    result = extrapolate(SIZES3, *_pipeline(np.random.default_rng(11), T), L_min=16, method="synthetic")
    low, high = result.tc.interval(0.95)
    assert low < TC < high
    assert result.nu["ci95_low"] < 1.0 < result.nu["ci95_high"]
    for L, pseudo in zip(SIZES3, result.pseudo):  # T*(L) = T_c + 0.6 / L on average over trainings
        assert pseudo.covers(TC + 0.6 / L, 0.95)
