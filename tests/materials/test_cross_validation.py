"""Cross-validation: no test-fold row reaches preprocessing or model, metrics, grouped folds, tuning inside
training folds, failure handling, learning curves."""
import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.dummy import DummyRegressor
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error

from physics.materials.evaluation import (
    INNER_HOLDOUT,
    Preprocessing,
    ZScoreClipper,
    cross_validate,
    learning_curve,
    make_splits,
)

FIT_LOG: list[frozenset] = []  # targets seen by every RecordingRegressor.fit, across clones


class RecordingRegressor(RegressorMixin, BaseEstimator):
    """Ridge-like least squares that records which targets (unique per sample) it was fitted on."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X, y):
        FIT_LOG.append(frozenset(np.asarray(y).tolist()))
        self.seen_ = FIT_LOG[-1]
        self.model_ = Ridge(alpha=self.alpha).fit(X, y)
        return self

    def predict(self, X):
        return self.model_.predict(X)


class NaNRegressor(RegressorMixin, BaseEstimator):
    """Stands in for a diverged network: fits, then predicts NaN."""

    def fit(self, X, y):
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return np.full(len(X), np.nan)


def linear_problem(n=200, d=6, seed=0, noise=0.1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.arange(1, d + 1)  # columns on different scales
    X[:, -1] = 3.0  # a constant column for VarianceThreshold to drop
    y = X[:, :-1] @ rng.normal(size=d - 1) + noise * rng.normal(size=n)  # unique values (continuous)
    return X, y


def test_preprocessing_and_model_see_training_rows_only():
    X, y = linear_problem()
    X[::17, 2] = np.nan  # missing descriptors, imputed from the training fold
    FIT_LOG.clear()
    result = cross_validate({"rec": RecordingRegressor()}, X, y, keep_estimators=True)
    for (train, test), pipeline in zip(result.splits, result.models["rec"].estimators):
        imputer, variance, scaler = (pipeline.named_steps[s] for s in ("impute", "variance", "scale"))
        np.testing.assert_allclose(imputer.statistics_, np.nanmean(X[train], axis=0), rtol=1e-12)
        filled = np.where(np.isnan(X[train]), imputer.statistics_, X[train])
        np.testing.assert_allclose(variance.variances_, filled.var(axis=0), rtol=1e-10, atol=1e-12)
        assert not variance.get_support()[-1]  # the constant column is removed
        kept = filled[:, variance.get_support()]
        assert scaler.n_samples_seen_ == len(train)
        np.testing.assert_allclose(scaler.mean_, kept.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(scaler.var_, kept.var(axis=0), rtol=1e-10)
        # statistics over all rows differ, so the equalities above could not hold with a leak
        assert not np.allclose(scaler.mean_, np.nanmean(X, axis=0)[variance.get_support()])
        seen = pipeline.named_steps["model"].seen_
        assert seen == frozenset(y[train].tolist()) and seen.isdisjoint(y[test].tolist())


def test_nested_tuning_never_sees_the_outer_test_fold():
    X, y = linear_problem(n=120)
    FIT_LOG.clear()
    result = cross_validate({"rec": RecordingRegressor()}, X, y, n_splits=4,
                            param_grids={"rec": {"alpha": [0.01, 1.0, 100.0]}}, inner_splits=3)
    assert len(FIT_LOG) == 4 * (3 * 3 + 1)  # per outer fold: 3 alphas x 3 inner folds + the refit
    for seen in FIT_LOG:
        # every fit's rows lie inside one outer training fold, hence outside its test fold
        assert any(seen <= frozenset(y[train].tolist()) and seen.isdisjoint(y[test].tolist())
                   for train, test in result.splits)
    assert len(result.models["rec"].best_params) == 4
    assert all(set(params) == {"alpha"} for params in result.models["rec"].best_params)


def test_metrics_oof_and_summary():
    X, y = linear_problem(noise=0.5)
    result = cross_validate({"dummy": DummyRegressor(), "ridge": Ridge(alpha=1e-3)}, X, y, random_state=1)
    assert sorted(np.concatenate([test for _, test in result.splits]).tolist()) == list(range(len(y)))
    for name, model in result.models.items():
        assert np.all(np.isfinite(model.oof_prediction))
        for k, (_, test) in enumerate(result.splits):
            assert np.all(result.fold_of_sample[test] == k)
            assert model.fold_metrics["mae"][k] == pytest.approx(mean_absolute_error(y[test], model.oof_prediction[test]))
            errors = np.abs(y[test] - model.oof_prediction[test])
            assert model.fold_metrics["max_error"][k] == pytest.approx(errors.max())
            assert model.fold_metrics["rmse"][k] == pytest.approx(np.sqrt(np.mean(errors**2)))
    summary = result.summary()
    assert set(summary["ridge"]) >= {"mae_mean", "mae_std", "rmse_mean", "r2_mean", "max_error_mean", "mae_over_mad"}
    assert summary["ridge"]["mae_mean"] == pytest.approx(result.models["ridge"].fold_metrics["mae"].mean())
    assert summary["ridge"]["mae_std"] == pytest.approx(result.models["ridge"].fold_metrics["mae"].std())
    # the noise-free part is linear: ridge leaves the noise (MAE ~ 0.8 * 0.5); the mean predictor has MAE ~ MAD
    assert summary["ridge"]["r2_mean"] > 0.95
    assert summary["dummy"]["mae_over_mad"] == pytest.approx(1.0, abs=0.1)
    assert result.mad == pytest.approx(np.mean(np.abs(y - y.mean())))


def test_grouped_folds_keep_groups_apart():
    X, y = linear_problem(n=150)
    groups = np.array([f"sys{i % 23}" for i in range(len(y))])
    for cv in ("group", "logo"):
        result = cross_validate({"ridge": Ridge()}, X, y, cv=cv, groups=groups, n_splits=5)
        for train, test in result.splits:
            assert set(groups[train]).isdisjoint(groups[test])
        assert len(result.splits) == (5 if cv == "group" else 23)


def test_factories_and_same_folds_for_all_models():
    X, y = linear_problem()
    result = cross_validate({"a": lambda: Ridge(alpha=1.0), "b": Ridge(alpha=1.0)}, X, y)
    np.testing.assert_allclose(result.models["a"].oof_prediction, result.models["b"].oof_prediction)


def test_failures_raise_or_are_recorded():
    X, y = linear_problem()
    with pytest.raises(RuntimeError, match="Model 'nan' failed on fold 0.*NaN or inf"):
        cross_validate({"nan": NaNRegressor()}, X, y)
    result = cross_validate({"nan": NaNRegressor(), "ridge": Ridge()}, X, y, errors="record")
    summary = result.summary()
    assert summary["nan"]["n_failed_folds"] == 5 and np.isnan(summary["nan"]["mae_mean"])
    assert len(result.models["nan"].errors) == 5
    assert summary["ridge"]["n_failed_folds"] == 0


class UnpicklableError(FloatingPointError):
    """Like core's TrainingDivergedError: its constructor needs more than the message, so it does not unpickle."""

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


class DivergingRegressor(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        raise UnpicklableError("the loss diverged at epoch 3", history=[1.0, 10.0, np.inf])


def test_folds_in_parallel_give_the_same_results_and_errors():
    X, y = linear_problem(n=120)
    models = {"ridge": Ridge(alpha=1e-2), "tuned": KernelRidge(kernel="rbf")}
    grids = {"tuned": {"alpha": [1e-3, 1e-1]}}
    serial = cross_validate(models, X, y, param_grids=grids, keep_estimators=True)
    parallel = cross_validate(models, X, y, param_grids=grids, keep_estimators=True, n_jobs=2)
    for name in models:  # deterministic fits on the same rows: the same numbers, whichever process fitted them
        np.testing.assert_array_equal(parallel.models[name].oof_prediction, serial.models[name].oof_prediction)
        np.testing.assert_array_equal(parallel.models[name].fold_metrics["mae"], serial.models[name].fold_metrics["mae"])
        assert len(parallel.models[name].estimators) == len(serial.splits)
    assert parallel.models["tuned"].best_params == serial.models["tuned"].best_params
    # an exception that cannot cross the process boundary arrives as its built-in base, with its message
    with pytest.raises(RuntimeError, match="fold 0.*FloatingPointError: UnpicklableError: the loss diverged") as info:
        cross_validate({"diverging": DivergingRegressor()}, X, y, n_jobs=2)
    assert isinstance(info.value.__cause__, FloatingPointError)
    with pytest.raises(RuntimeError, match="fold 0.*UnpicklableError: the loss diverged") as info:
        cross_validate({"diverging": DivergingRegressor()}, X, y)  # in this process: the original exception
    assert isinstance(info.value.__cause__, UnpicklableError)


def test_zscore_clipper():
    clipper = ZScoreClipper(limit=2.0).fit(np.zeros((3, 2)))
    np.testing.assert_array_equal(clipper.transform([[3.0, -5.0], [1.0, 0.5]]), [[2.0, -2.0], [1.0, 0.5]])
    with pytest.raises(ValueError, match="'limit' parameter of ZScoreClipper"):
        ZScoreClipper(limit=0).fit(np.zeros((3, 2)))
    X, y = linear_problem()
    X[0, 0] = 1e6  # an extreme value: after standardising and clipping, the model input stays in [-3, 3]
    result = cross_validate({"ridge": Ridge()}, X, y, preprocessing=Preprocessing(clip_z=3.0), keep_estimators=True)
    pipeline = result.models["ridge"].estimators[0]
    assert np.abs(pipeline[:-1].transform(X)).max() <= 3.0


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"cv": "shuffle"}, "'cv' parameter"),
        ({"cv": "group"}, "needs 'groups'"),
        ({"cv": "group", "groups": np.arange(200) % 3}, "needs >= 5 distinct groups"),
        ({"n_splits": 1}, "'n_splits' parameter"),
        ({"errors": "ignore"}, "'errors' parameter"),
        ({"param_grids": {"other": {"alpha": [1.0]}}}, "not in models"),
    ],
)
def test_bad_arguments(kwargs, fragment):
    X, y = linear_problem()
    with pytest.raises(ValueError, match=fragment):
        cross_validate({"ridge": Ridge()}, X, y, **kwargs)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"standardize": False}, "needs standardize=True"),
        ({"clip_z": -1.0}, "clip_z must be a float in"),
        ({"variance_threshold": -1.0}, "variance_threshold must be a float in"),
    ],
)
def test_bad_preprocessing(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        Preprocessing(**kwargs)


def test_bad_data():
    X, y = linear_problem()
    with pytest.raises(ValueError, match="y must have shape"):
        cross_validate({"ridge": Ridge()}, X, y[:-1])
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN values while preprocessing does not impute"):
        cross_validate({"ridge": Ridge()}, X, y, preprocessing=None)


def test_learning_curve_improves_with_data():
    rng = np.random.default_rng(5)
    X = rng.uniform(-2, 2, size=(300, 2))
    y = np.sin(2 * X[:, 0]) * np.cos(X[:, 1])  # smooth and noise-free: a kernel model keeps improving
    curve = learning_curve({"krr": KernelRidge(kernel="rbf", alpha=1e-3, gamma=1.0)}, X, y,
                           fractions=(0.1, 0.3, 1.0), preprocessing=Preprocessing(clip_z=None))
    assert curve.scores["krr"].shape == (3, 5)
    np.testing.assert_allclose(curve.train_sizes, [24, 72, 240])
    mean = curve.mean("krr")
    assert mean[0] > mean[1] > mean[2]
    splits = make_splits(300, cv="kfold", n_splits=5, random_state=0)
    full = cross_validate({"krr": KernelRidge(kernel="rbf", alpha=1e-3, gamma=1.0)}, X, y,
                          preprocessing=Preprocessing(clip_z=None))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(splits, full.splits))  # same folds
    np.testing.assert_allclose(curve.scores["krr"][-1], full.models["krr"].fold_metrics["mae"], rtol=1e-10)


# --- with a given split, tuning and the final fit never see a test row (nor scoring fits a val row)

def test_split_tuning_scores_on_val_and_refits_on_train_and_val_never_on_test():
    X, y = linear_problem(n=90, d=6)
    split = np.array(["train", "val", "test"] * 30)
    targets = {label: frozenset(y[split == label].tolist()) for label in ("train", "val", "test")}
    FIT_LOG.clear()
    result = cross_validate({"rec": RecordingRegressor()}, X, y, cv="split", split=split,
                            param_grids={"rec": {"alpha": [0.01, 1.0, 100.0]}}, inner_splits=1)
    assert len(FIT_LOG) == 3 + 1  # one fit per candidate (scored on the val rows), then the refit
    for seen in FIT_LOG[:-1]:
        assert seen == targets["train"]  # candidates: the train rows only
    assert FIT_LOG[-1] == targets["train"] | targets["val"]  # the chosen one: train + val
    assert all(seen.isdisjoint(targets["test"]) for seen in FIT_LOG)
    assert result.models["rec"].best_params[0]["alpha"] in (0.01, 1.0, 100.0)
    tested = result.fold_of_sample >= 0
    assert np.array_equal(tested, split == "test")
    assert np.isnan(result.models["rec"].oof_prediction[~tested]).all()


def test_grouped_tuning_holds_out_whole_groups_of_the_training_fold_only():
    X, y = linear_problem(n=150, d=6, seed=1)
    groups = np.array([f"sys{i % 25}" for i in range(len(y))])
    FIT_LOG.clear()
    result = cross_validate({"rec": RecordingRegressor()}, X, y, cv="group", groups=groups, n_splits=3,
                            param_grids={"rec": {"alpha": [0.01, 1.0, 100.0]}}, inner_splits=1)
    assert len(FIT_LOG) == 3 * (3 + 1)  # per outer fold: 3 candidates on one inner hold-out, then the refit
    row_of = {value: i for i, value in enumerate(y.tolist())}
    for k, (train, test) in enumerate(result.splits):
        fits = FIT_LOG[4 * k: 4 * k + 4]
        assert fits[-1] == frozenset(y[train].tolist())  # the refit: the whole training fold
        candidate = fits[0]
        assert fits[1] == fits[2] == candidate  # every candidate on the same inner training set
        rows = np.array(sorted(row_of[value] for value in candidate))
        assert set(rows) < set(train.tolist()) and set(rows).isdisjoint(test.tolist())
        held_out = np.setdiff1d(train, rows)
        assert set(groups[rows]).isdisjoint(groups[held_out])  # whole chemical systems held out
        assert len(held_out) == pytest.approx(INNER_HOLDOUT * len(train), abs=2 * len(y) / 25)
