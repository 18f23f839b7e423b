"""Paired model comparison: the Nadeau-Bengio corrected t-test (hand-computed, and calibrated on synthetic
cross-validation with a known answer), the paired test on one split (coverage, bootstrap), the comparison with a
reference, tuning-grid edges, and input validation."""
import json
import math

import numpy as np
import pytest
from scipy import stats

from physics.materials.comparison import (
    PairedComparison,
    compare_to_reference,
    corrected_paired_ttest,
    extend_grid,
    extend_hit_edges,
    grid_edges,
    mean_fold_sizes,
    paired_test_on_split,
)

# ---------------------------------------------------------------------------------------------------------
# corrected_paired_ttest: the formula

A5 = np.array([1.0, 1.2, 0.9, 1.1, 1.3])
B5 = np.array([1.1, 1.25, 1.0, 1.05, 1.4])


def test_corrected_ttest_literal_numbers():
    # d = [-0.1, -0.05, -0.1, 0.05, -0.1]: mean -0.06, s^2 = 0.017 / 4 = 0.00425,
    # se = sqrt((1/5 + 20/80) * 0.00425) = 0.0437321, t = -1.371989, dof 4, p = 0.241982
    result = corrected_paired_ttest(A5, B5, 80, 20, model_a="net", model_b="rf", metric="mae")
    assert result.mean_difference == pytest.approx(-0.06)
    assert result.standard_error == pytest.approx(0.0437321392, rel=1e-8)
    assert result.t_statistic == pytest.approx(-1.37198868, rel=1e-7)
    assert result.dof == 4 and result.n == 5
    assert result.p_value == pytest.approx(0.24198153, rel=1e-6)
    assert (result.ci_low, result.ci_high) == pytest.approx((-0.06 - 0.12141988, -0.06 + 0.12141988), rel=1e-7)
    assert not result.significant
    assert result.method == "Nadeau-Bengio corrected resampled t-test over 5 folds"


@pytest.mark.parametrize("n_train, n_test, confidence", [(80, 20, 0.95), (900.5, 100.2, 0.9), (50, 50, 0.99)])
def test_corrected_ttest_matches_formula(n_train, n_test, confidence):
    rng = np.random.default_rng(1)
    a = rng.normal(1.0, 0.1, size=10)  # e.g. 2 x 5-fold CV, flattened
    b = a + rng.normal(0.05, 0.05, size=10)
    d = a - b
    se = np.sqrt((1 / 10 + n_test / n_train) * d.var(ddof=1))
    t = d.mean() / se
    q = stats.t.ppf((1 + confidence) / 2, 9)
    result = corrected_paired_ttest(a, b, n_train, n_test, confidence=confidence)
    assert result.t_statistic == pytest.approx(t, rel=1e-12)
    assert result.p_value == pytest.approx(2 * stats.t.sf(abs(t), 9), rel=1e-10)
    assert (result.ci_low, result.ci_high) == pytest.approx((d.mean() - q * se, d.mean() + q * se), rel=1e-12)
    # (r, k) input is flattened: same answer
    same = corrected_paired_ttest(a.reshape(2, 5), b.reshape(2, 5), n_train, n_test, confidence=confidence)
    assert same == result
    # without the correction term it would be the ordinary paired t-test of scipy
    assert stats.ttest_rel(a, b).statistic == pytest.approx(d.mean() / np.sqrt(d.var(ddof=1) / 10))


def test_corrected_ttest_constant_differences_do_not_crash():
    shifted = corrected_paired_ttest(A5, A5 + 0.1, 80, 20)
    assert shifted.t_statistic == -math.inf and shifted.p_value == 0.0 and shifted.significant
    assert shifted.standard_error == 0.0 and shifted.ci_low == shifted.ci_high == pytest.approx(-0.1)
    same = corrected_paired_ttest(A5, A5, 80, 20)
    assert math.isnan(same.t_statistic) and same.p_value == 1.0 and not same.significant
    assert same.as_dict()["t_statistic"] is None
    json.dumps(shifted.as_dict())  # -inf becomes None


# ---------------------------------------------------------------------------------------------------------
# calibration on synthetic cross-validation with a known answer
#
# Each repetition draws a fresh data set (n = 100 rows, 2m = 100 standard-normal features, y = sum(x) / 10 +
# N(0, 1)) and runs 5-fold CV (80 training, 20 test rows) of two least-squares models: A uses the first m = 50
# features, B the last 50. The features are exchangeable, so both algorithms have exactly the same expected
# error: the true difference is zero. With 50 coefficients fitted on 80 rows each model is unstable, so the
# fold differences share a training-set component (measured correlation ~0.2 = n_test / n); that is what the
# ordinary paired t-test over folds ignores.

N_ROWS, HALF, K = 100, 50, 5


def _cv_fold_errors(rng, reps, offset_b=0.0):
    """Per-fold test residuals of models A and B: two arrays of shape (reps, K, N_ROWS // K)."""
    X = rng.standard_normal((reps, N_ROWS, 2 * HALF))
    y = X.sum(axis=2) / np.sqrt(2 * HALF) + rng.standard_normal((reps, N_ROWS))
    folds = np.arange(N_ROWS).reshape(K, -1)  # rows are i.i.d., so contiguous folds are random folds
    res_a, res_b = [], []
    for test in folds:
        train = np.setdiff1d(np.arange(N_ROWS), test)
        for columns, out, offset in ((slice(0, HALF), res_a, 0.0), (slice(HALF, None), res_b, offset_b)):
            Xt = X[:, train, columns]
            w = np.linalg.solve(Xt.transpose(0, 2, 1) @ Xt, np.einsum("rij,ri->rj", Xt, y[:, train])[..., None])[..., 0]
            out.append(y[:, test] - np.einsum("rij,rj->ri", X[:, test, columns], w) - offset)
    return np.stack(res_a, axis=1), np.stack(res_b, axis=1)


def test_calibration_false_positive_rate_under_zero_difference():
    reps = 300
    res_a, res_b = _cv_fold_errors(np.random.default_rng(2024), reps)
    mae_a, mae_b = np.abs(res_a).mean(axis=2), np.abs(res_b).mean(axis=2)  # (reps, K)
    n_test = N_ROWS // K
    corrected = np.array([corrected_paired_ttest(a, b, N_ROWS - n_test, n_test).p_value
                          for a, b in zip(mae_a, mae_b)])
    naive = stats.ttest_rel(mae_a, mae_b, axis=1).pvalue  # ordinary paired t-test over the 5 folds
    rate_corrected, rate_naive = np.mean(corrected < 0.05), np.mean(naive < 0.05)
    # measured (this seed): corrected 6.3 %, naive 15.0 %; 3000 repetitions: 4.7 % and 13.8 %; ten other seeds
    # of 300: corrected 3.0-7.0 %, naive 10.3-19.0 %.
    # Tolerance: if the true rate were 5 %, P(>= 30 of 300 rejections) = 3e-4, so < 10 % is a safe bound.
    assert rate_corrected < 0.10, rate_corrected
    # the ordinary test is anti-conservative -- the reason for the correction
    assert rate_naive > 0.09 and rate_naive > rate_corrected + 0.04, (rate_naive, rate_corrected)


def test_calibration_ci_covers_known_nonzero_difference():
    # B's predictions are shifted by delta. The residuals are symmetric about 0 given any training set, so for
    # the per-fold mean squared error E[MSE_B] = E[MSE_A] + delta^2 exactly, and the true difference
    # MSE_A - MSE_B is -delta^2 (the MAE analogue has no closed form for fitted models).
    reps, delta = 300, 0.5
    res_a, res_b = _cv_fold_errors(np.random.default_rng(7), reps, offset_b=delta)
    mse_a, mse_b = (res_a ** 2).mean(axis=2), (res_b ** 2).mean(axis=2)
    n_test = N_ROWS // K
    results = [corrected_paired_ttest(a, b, N_ROWS - n_test, n_test, metric="mse") for a, b in zip(mse_a, mse_b)]
    covered = np.mean([r.ci_low <= -delta ** 2 <= r.ci_high for r in results])
    # measured (this seed): 96.0 %, naive 84.7 %; 3000 repetitions: 95.8 % and 87.1 %; ten other seeds of 300:
    # 93.3-96.7 %, naive 84.3-90.3 %. Binomial sd at 95 % over 300 repetitions is 1.3 %; if the true coverage
    # were 95 %, P(< 90 %) = 1e-4 and P(> 99 %) = 3e-5.
    assert 0.90 <= covered <= 0.99, covered
    # the interval of the ordinary t-test is too narrow: it covers clearly less often
    naive = np.mean([abs(r.mean_difference + delta ** 2) <= stats.t.ppf(0.975, K - 1) * r.standard_error
                     / np.sqrt((1 / K + 0.25) * K) for r in results])
    assert naive < covered - 0.04, (naive, covered)


# ---------------------------------------------------------------------------------------------------------
# paired_test_on_split


def _folded_normal_difference(delta):
    """E|e| - E|e - delta| for e ~ N(0, 1)."""
    shifted = np.sqrt(2 / np.pi) * np.exp(-delta ** 2 / 2) + delta * (1 - 2 * stats.norm.cdf(-delta))
    return np.sqrt(2 / np.pi) - shifted


def test_split_coverage_of_known_difference():
    # per-sample absolute errors of a model and of the same model shifted by delta: the mean difference is known
    rng = np.random.default_rng(11)
    delta, n, reps = 0.3, 200, 400
    mu = _folded_normal_difference(delta)
    t_hits = boot_hits = 0
    for _ in range(reps):
        e = rng.standard_normal(n)
        r = paired_test_on_split(np.abs(e), np.abs(e - delta), n_bootstrap=1000, random_state=rng)
        t_hits += r.ci_low <= mu <= r.ci_high
        boot_hits += r.bootstrap_ci_low <= mu <= r.bootstrap_ci_high
    # measured: t 96.0 %, bootstrap 95.25 %; binomial sd at 95 % over 400 repetitions: 1.1 %, and with a true
    # 95 % P(< 91 %) = 3e-4, P(> 99 %) = 2e-6
    assert 0.91 <= t_hits / reps <= 0.99, t_hits / reps
    assert 0.91 <= boot_hits / reps <= 0.99, boot_hits / reps


def test_split_matches_scipy_and_bootstrap_matches_t_for_large_n():
    rng = np.random.default_rng(3)
    errors_a = rng.exponential(1.0, size=5000)  # skewed losses
    errors_b = errors_a + rng.exponential(0.2, size=5000) - 0.15
    r = paired_test_on_split(errors_a, errors_b, model_a="network", model_b="rf", metric="mae")
    scipy_result = stats.ttest_rel(errors_a, errors_b)
    assert r.t_statistic == pytest.approx(scipy_result.statistic, rel=1e-10)
    assert r.p_value == pytest.approx(scipy_result.pvalue, rel=1e-8)
    d = errors_a - errors_b
    assert r.standard_error == pytest.approx(d.std(ddof=1) / np.sqrt(5000))
    assert r.dof == 4999 and r.n == 5000 and r.method == "paired t-test over 5000 test samples"
    width = r.ci_high - r.ci_low
    assert abs(r.bootstrap_ci_low - r.ci_low) < 0.05 * width
    assert abs(r.bootstrap_ci_high - r.ci_high) < 0.05 * width
    # reproducible with the same seed, different with another one
    again = paired_test_on_split(errors_a, errors_b, model_a="network", model_b="rf", metric="mae")
    assert again == r
    other = paired_test_on_split(errors_a, errors_b, random_state=1)
    assert other.bootstrap_ci_low != r.bootstrap_ci_low
    # without bootstrap
    plain = paired_test_on_split(errors_a, errors_b, n_bootstrap=0)
    assert math.isnan(plain.bootstrap_ci_low) and plain.as_dict()["bootstrap_ci_low"] is None


# ---------------------------------------------------------------------------------------------------------
# PairedComparison


def test_describe_as_dict_and_significance():
    r = PairedComparison(model_a="network", model_b="random_forest", metric="mae", mean_difference=-0.52,
                         standard_error=0.1, t_statistic=-5.2, dof=4, p_value=0.003, ci_low=-0.81, ci_high=-0.23,
                         confidence=0.95, method="Nadeau-Bengio corrected resampled t-test over 5 folds", n=5)
    assert r.describe("GPa") == ("network − random_forest: MAE −0.52 GPa (95 % CI −0.81 … −0.23), p = 0.003, "
                                 "Nadeau-Bengio corrected resampled t-test over 5 folds")
    assert r.significant
    d = r.as_dict()
    assert d["mean_difference"] == -0.52 and d["n"] == 5 and d["significant"] is True
    assert d["bootstrap_ci_low"] is None
    json.dumps(d, allow_nan=False)
    with pytest.raises(Exception):  # frozen
        r.p_value = 0.5
    split = paired_test_on_split(np.arange(10.0), np.arange(10.0) + np.linspace(0, 1, 10), n_bootstrap=200)
    line = split.describe()
    assert line.startswith("A − B: difference −0.5 (95 % CI ") and "; bootstrap " in line
    assert line.endswith("paired t-test over 10 test samples")
    at_level = PairedComparison(mean_difference=1.0, standard_error=1.0, t_statistic=1.0, dof=4, p_value=0.05,
                                ci_low=0.0, ci_high=2.0, confidence=0.95, method="m", n=5)
    assert not at_level.significant  # p < 1 - confidence, strictly
    assert "p < 0.001" in corrected_paired_ttest(A5, A5 + 0.1, 80, 20).describe()


# ---------------------------------------------------------------------------------------------------------
# compare_to_reference


def test_compare_to_reference_cv_and_split():
    scores = {"network": A5, "random_forest": B5, "ridge": A5 + 0.3}
    out = compare_to_reference(scores, "network", kind="cv", n_train=80, n_test=20, metric="mae")
    assert list(out) == ["random_forest", "ridge"]
    # reference - other: the network has the lower error, so the differences are negative
    assert out["random_forest"] == corrected_paired_ttest(A5, B5, 80, 20, model_a="network",
                                                          model_b="random_forest", metric="mae")
    assert out["ridge"].mean_difference == pytest.approx(-0.3) and out["ridge"].model_a == "network"

    rng = np.random.default_rng(5)
    errors = {"network": rng.exponential(1.0, 300)}
    errors["rf"] = errors["network"] + 0.2
    split = compare_to_reference(errors, "network", kind="split", n_bootstrap=500, random_state=3)
    assert split["rf"].mean_difference == pytest.approx(-0.2) and split["rf"].method.startswith("paired t-test")


def test_mean_fold_sizes():
    splits = [(np.arange(8), np.arange(8, 10)), (np.arange(7), np.arange(7, 10))]
    assert mean_fold_sizes(splits) == (7.5, 2.5)
    with pytest.raises(ValueError, match="at least one"):
        mean_fold_sizes([])


# ---------------------------------------------------------------------------------------------------------
# tuning-grid edges


def test_grid_edges_messages():
    grid = {"max_features": [0.1, 0.3, 0.5], "n_estimators": [100, 300],
            "criterion": ["squared_error", "absolute_error"], "bootstrap": [True, False],
            "max_depth": [None, 10, 20], "min_samples_leaf": [1], "alpha": [1e-3, 1e-2, 1e-1]}
    chosen = [{"max_features": 0.5, "n_estimators": 300, "criterion": "squared_error", "bootstrap": True,
               "max_depth": 20, "min_samples_leaf": 1, "alpha": np.float64(1e-2)},
              {"max_features": 0.5, "n_estimators": 100, "alpha": 1e-2},
              {"max_features": 0.3, "n_estimators": 300, "alpha": 1e-3},
              {"max_features": 0.5, "n_estimators": np.int64(300), "alpha": 1e-2},
              {}]  # a failed fold
    messages = grid_edges(grid, chosen, prefix="task.param_grids.random_forest")
    assert messages == [
        "task.param_grids.random_forest.max_features: best value 0.5 is the largest of [0.1, 0.3, 0.5] in 3 of 4 "
        "folds — extend the grid",
        "task.param_grids.random_forest.n_estimators: best value 100 is the smallest of [100, 300] in 1 of 4 folds "
        "— extend the grid",
        "task.param_grids.random_forest.n_estimators: best value 300 is the largest of [100, 300] in 3 of 4 folds "
        "— extend the grid",
        "task.param_grids.random_forest.alpha: best value 0.001 is the smallest of [0.001, 0.01, 0.1] in 1 of 4 "
        "folds — extend the grid",
    ]
    assert grid_edges({"alpha": [1e-3, 1e-2, 1e-1]}, [{"alpha": 1e-2}] * 5) == []
    assert grid_edges({"k": [1, 2]}, [{"k": 2}])[0].startswith("k: best value 2 is the largest")


def test_extend_grid():
    assert extend_grid([1e-3, 1e-2, 1e-1]) == [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    assert extend_grid([1e-3, 1e-2, 1e-1], side="low") == [1e-4, 1e-3, 1e-2, 1e-1]
    assert extend_grid([1e-3, 1e-2, 1e-1], side="high") == [1e-3, 1e-2, 1e-1, 1.0]
    # linear; a positive grid is not extended to 0 or below
    assert extend_grid([0.1, 0.3, 0.5]) == [0.1, 0.3, 0.5, 0.7]
    assert extend_grid([0.5, 0.3, 0.1], side="low") == [0.1, 0.3, 0.5]
    assert extend_grid([0.0, 0.5, 1.0]) == [0.0, 0.5, 1.0, 1.5]
    assert extend_grid([-1.0, 0.0, 1.0]) == [-2.0, -1.0, 0.0, 1.0, 2.0]
    # ints stay ints
    out = extend_grid([100, 200, 400])
    assert out == [50, 100, 200, 400, 800] and all(type(v) is int for v in out)
    assert extend_grid([1, 2, 3]) == [1, 2, 3, 4]  # linear, 0 refused
    assert extend_grid([1, 2, 4]) == [1, 2, 4, 8]  # 0.5 would round to 0
    assert extend_grid([3, 6], side="low") == [2, 3, 6]
    assert extend_grid(np.array([10, 20, 30])) == [10, 20, 30, 40]
    assert extend_grid([1e-3, 3e-3, 1e-2], side="low") == [3.33333333333e-4, 1e-3, 3e-3, 1e-2]
    assert extend_grid([1, 3, 10, 30, 100], side="high") == [1, 3, 10, 30, 100, 333]
    assert extend_grid([100, 101, 102]) == [99, 100, 101, 102, 103]  # equally spaced: linear


def test_extend_hit_edges():
    grid = {"alpha": [1e-3, 1e-2, 1e-1], "max_features": [0.1, 0.3, 0.5], "kernel": ["rbf", "laplacian"]}
    chosen = [{"alpha": 1e-3, "max_features": 0.1, "kernel": "rbf"}, {"alpha": 1e-1, "max_features": 0.3}]
    out = extend_hit_edges(grid, chosen)
    assert out == {"alpha": [1e-4, 1e-3, 1e-2, 1e-1, 1.0], "max_features": [0.1, 0.3, 0.5],
                   "kernel": ["rbf", "laplacian"]}
    assert grid["alpha"] == [1e-3, 1e-2, 1e-1]  # not modified


# ---------------------------------------------------------------------------------------------------------
# bad inputs


@pytest.mark.parametrize("a, b, kwargs, match", [
    (A5, B5[:4], {}, "same shape"),
    ([1.0], [2.0], {}, "at least 2 pairs"),
    (np.r_[A5[:4], np.nan], B5, {}, "scores_a must be finite.*failed fold"),
    (A5, np.r_[B5[:4], np.inf], {}, "scores_b must be finite"),
    (A5, B5, {"n_train": 0}, "'n_train' parameter must be a finite number > 0"),
    (A5, B5, {"n_test": -3}, "'n_test' parameter"),
    (A5, B5, {"n_test": True}, "'n_test' parameter"),
    (A5, B5, {"confidence": 95}, "'confidence' parameter must be a number in \\(0, 1\\)"),
    (np.ones((2, 2, 2)), np.ones((2, 2, 2)), {}, "shape \\(n_folds,\\) or \\(n_repeats, n_folds\\)"),
    (["a", "b"], ["c", "d"], {}, "array of numbers"),
])
def test_corrected_ttest_bad_inputs(a, b, kwargs, match):
    sizes = {"n_train": 80, "n_test": 20}
    sizes.update(kwargs)
    with pytest.raises(ValueError, match=match):
        corrected_paired_ttest(a, b, **sizes)


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="shape \\(n_samples,\\)"):
        paired_test_on_split(np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="'n_bootstrap' parameter must be 0 or an int >= 100"):
        paired_test_on_split(A5, B5, n_bootstrap=10)
    with pytest.raises(ValueError, match="'random_state'"):
        paired_test_on_split(A5, B5, random_state=-1)
    scores = {"network": A5, "rf": B5}
    with pytest.raises(ValueError, match="reference='nn' is not one of the models"):
        compare_to_reference(scores, "nn", n_train=80, n_test=20)
    with pytest.raises(ValueError, match="kind='cv' needs n_train and n_test"):
        compare_to_reference(scores, "network")
    with pytest.raises(ValueError, match="only used by kind='cv'"):
        compare_to_reference(scores, "network", kind="split", n_train=80, n_test=20)
    with pytest.raises(ValueError, match="'kind' parameter must be one of"):
        compare_to_reference(scores, "network", kind="kfold")
    with pytest.raises(ValueError, match="at least one other model"):
        compare_to_reference({"network": A5}, "network", n_train=80, n_test=20)
    with pytest.raises(ValueError, match="Comparing 'network' with 'rf': scores_a and scores_b must be paired"):
        compare_to_reference({"network": A5, "rf": B5[:3]}, "network", n_train=80, n_test=20)
    with pytest.raises(ValueError, match="at least 2 distinct values"):
        extend_grid([1.0, 1.0])
    with pytest.raises(ValueError, match="real numbers"):
        extend_grid([True, False])
    with pytest.raises(ValueError, match="real numbers"):
        extend_grid([None, 1, 2])
    with pytest.raises(ValueError, match="'side' parameter"):
        extend_grid([1, 2], side="up")
    with pytest.raises(ValueError, match="grid\\['alpha'\\] must be a list"):
        grid_edges({"alpha": 0.1}, [{"alpha": 0.1}])
    with pytest.raises(ValueError, match="chosen must be a list of dicts"):
        grid_edges({"alpha": [0.1, 1.0]}, {"alpha": 0.1})
    with pytest.raises(ValueError, match="chosen\\[1\\] must be a dict"):
        grid_edges({"alpha": [0.1, 1.0]}, [{"alpha": 0.1}, 0.1])
    with pytest.raises(ValueError, match="'digits' parameter"):
        corrected_paired_ttest(A5, B5, 80, 20).describe(digits=0)
