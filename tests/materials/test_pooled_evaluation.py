"""One pool for every fit (``evaluate``): the same numbers as each model cross-validated on its own and as
``learning_curve``, results put back per model in fold order, clear errors."""
import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import RandomForestRegressor
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import Ridge

from physics.materials.evaluation import Preprocessing, cross_validate, evaluate, learning_curve, make_pipeline

SPLITTER = {"cv": "group", "n_splits": 3, "random_state": 2}


def grouped_problem(n=90, d=5, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.sin(X[:, 0]) + X[:, 1] ** 2 + 0.05 * rng.normal(size=n)
    groups = np.array([f"sys{i % 15}" for i in range(n)])
    return X, y, groups


class FailingRegressor(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        raise ValueError("bad descriptor values")


def test_one_pool_gives_each_models_own_results_and_the_learning_curve():
    X, y, groups = grouped_problem()
    models = {"ridge": Ridge(alpha=1e-2), "krr": KernelRidge(kernel="rbf", gamma=0.2),
              "forest": RandomForestRegressor(n_estimators=4, max_features=0.5, n_jobs=-1, random_state=0)}
    grids = {"krr": {"alpha": [1e-3, 1e-1]}, "forest": {"max_features": [0.5, 1.0]}}

    def final_krr(result):  # refitted on every row with the first fold's choice, in the pool
        return make_pipeline(KernelRidge(kernel="rbf", gamma=0.2, **result.best_params[0]), Preprocessing())

    pooled = evaluate(models, X, y, groups=groups, param_grids=grids, inner_splits=1, extend_edges=True,
                      keep_estimators=["krr"], n_jobs=2, curve_fractions=(0.3, 0.6), order=["forest", "krr"],
                      refits={"krr": final_krr}, **SPLITTER)
    for name, model in models.items():
        alone = cross_validate({name: model}, X, y, groups=groups, param_grids={name: grids[name]} if name in grids
                               else None, inner_splits=1, extend_edges=True, **SPLITTER).models[name]
        result = pooled.cv.models[name]
        # deterministic fits of the same rows: bit-identical, whichever process fitted them and in which order
        np.testing.assert_array_equal(result.oof_prediction, alone.oof_prediction)
        for metric, values in alone.fold_metrics.items():
            np.testing.assert_array_equal(result.fold_metrics[metric], values)
        assert result.best_params == alone.best_params and result.searched_grids == alone.searched_grids
        assert (result.estimators is not None) == (name == "krr")  # only the pipelines asked for come back
    assert len(pooled.cv.models["krr"].estimators) == len(pooled.cv.splits)
    # max_features=1.0 is chosen in some fold: its extension 2.0, refused by the forest, is dropped, not fatal
    assert max(max(grid["max_features"]) for grid in pooled.cv.models["forest"].searched_grids) == 1.0
    final = final_krr(pooled.cv.models["krr"]).fit(X, y)
    np.testing.assert_array_equal(pooled.refits["krr"].predict(X), final.predict(X))
    assert set(pooled.refit_seconds) == {"krr"}
    curve = learning_curve(models, X, y, groups=groups, fractions=(0.3, 0.6), **SPLITTER)
    np.testing.assert_array_equal(pooled.curve.train_sizes, curve.train_sizes)
    for name in models:
        np.testing.assert_array_equal(pooled.curve.scores[name], curve.scores[name])
        assert pooled.curve_seconds[name] > 0


def test_without_fractions_there_is_no_curve_and_bad_arguments_are_named():
    X, y, groups = grouped_problem(n=45)
    assert evaluate({"ridge": Ridge()}, X, y, groups=groups, **SPLITTER).curve is None
    for kwargs, parameter in (({"order": ["forest"]}, "order"), ({"keep_estimators": ["forest"]}, "keep_estimators"),
                              ({"curve_fractions": [0.5, 1.5]}, "curve_fractions")):
        with pytest.raises(ValueError, match=parameter):
            evaluate({"ridge": Ridge()}, X, y, groups=groups, **SPLITTER, **kwargs)


def test_a_failed_learning_curve_fit_names_the_model_and_fold():
    X, y, groups = grouped_problem(n=45)
    with pytest.raises(RuntimeError, match=r"'bad' failed in the learning curve on \d+ training rows of fold 0: "
                                           r"ValueError: bad descriptor values"):
        evaluate({"bad": FailingRegressor()}, X, y, groups=groups, errors="record", curve_fractions=(0.5,),
                 **SPLITTER)
