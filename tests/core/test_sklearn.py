"""NetClassifier / NetRegressor: scikit-learn's estimator checks, Pipeline and GridSearchCV, probabilities, labels."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import check_methods_subset_invariance, parametrize_with_checks

from core.sklearn import EXPECTED_FAILED_CHECKS, NetClassifier, NetRegressor, expected_failed_checks


@parametrize_with_checks([NetClassifier(), NetRegressor()], expected_failed_checks=expected_failed_checks)
def test_check_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("Estimator", [NetClassifier, NetRegressor])
def test_subset_invariance_holds_in_float64(Estimator):
    # The float32 xfail is a matter of rounding only: in float64 the same check passes.
    check_methods_subset_invariance(Estimator.__name__, Estimator(dtype="float64", max_epochs=20))


def test_expected_failures_are_float32_only_and_explained():
    assert expected_failed_checks(NetClassifier(dtype="float64")) == {}
    assert expected_failed_checks(NetClassifier()) == EXPECTED_FAILED_CHECKS
    assert all(len(reason) > 40 for reason in EXPECTED_FAILED_CHECKS.values())


def classification_data(n=200, n_classes=3, seed=0):
    return make_classification(n_samples=n, n_features=6, n_informative=4, n_classes=n_classes,
                               n_clusters_per_class=1, class_sep=2.0, random_state=seed)


def test_pipeline_and_grid_search():
    X, y = classification_data()
    pipe = make_pipeline(StandardScaler(), NetClassifier(max_epochs=30, random_state=0))
    grid = GridSearchCV(pipe, {"netclassifier__hidden_layer_sizes": [(8,), (16, 16)],
                               "netclassifier__learning_rate": [1e-3, 1e-2]}, cv=3)
    grid.fit(X, y)
    assert set(grid.best_params_) == {"netclassifier__hidden_layer_sizes", "netclassifier__learning_rate"}
    assert grid.best_score_ > 0.85  # well-separated clusters: a linear model already scores ~0.9
    assert grid.score(X, y) > 0.9


def test_predict_proba_rows_sum_to_one_and_agree_with_predict():
    X, y = classification_data()
    clf = NetClassifier(hidden_layer_sizes=(16,), max_epochs=30, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)  # float64 softmax: rounding ~1e-16
    assert (proba >= 0).all()
    assert np.array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-12)


def test_string_class_labels():
    X, y = classification_data()
    names = np.array(["cold", "critical", "hot"])
    clf = NetClassifier(hidden_layer_sizes=(16,), max_epochs=40, random_state=0).fit(X, names[y])
    assert list(clf.classes_) == ["cold", "critical", "hot"]
    predicted = clf.predict(X)
    assert predicted.dtype.kind == "U" and set(predicted) <= set(names)
    assert clf.score(X, names[y]) > 0.9


def test_binary_decision_function_is_logit_difference():
    X, y = classification_data(n_classes=2)
    clf = NetClassifier(hidden_layer_sizes=(8,), max_epochs=20, random_state=0).fit(X, y)
    decision = clf.decision_function(X)
    assert decision.shape == (len(X),)
    assert np.array_equal(clf.classes_[(decision > 0).astype(int)], clf.predict(X))


def test_regressor_fits_sine_and_multioutput():
    x = np.linspace(-np.pi, np.pi, 300)[:, None]
    y = np.column_stack([np.sin(x[:, 0]), np.cos(x[:, 0])])
    reg = make_pipeline(StandardScaler(), NetRegressor(hidden_layer_sizes=(32, 32), activation="tanh",
                                                       learning_rate=1e-2, max_epochs=100, random_state=0))
    reg.fit(x, y[:, 0])
    assert reg.predict(x).shape == (300,) and reg.score(x, y[:, 0]) > 0.98
    reg.fit(x, y)
    assert reg.predict(x).shape == (300, 2) and reg.score(x, y) > 0.98


def test_same_random_state_same_model():
    X, y = classification_data()
    a = NetClassifier(max_epochs=10, random_state=3, early_stopping=True).fit(X, y)
    b = NetClassifier(max_epochs=10, random_state=3, early_stopping=True).fit(X, y)
    assert a.loss_curve_ == b.loss_curve_ and a.validation_loss_curve_ == b.validation_loss_curve_
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))


def test_early_stopping_fitted_attributes():
    X, y = classification_data()
    clf = NetClassifier(max_epochs=300, early_stopping=True, patience=3, validation_fraction=0.2,
                        random_state=0).fit(X, y)
    assert len(clf.validation_loss_curve_) == clf.n_iter_ == len(clf.loss_curve_)
    assert clf.n_iter_ < 300 and clf.history_.stopped_epoch == clf.n_iter_
    assert clf.best_epoch_ == 1 + int(np.argmin(clf.validation_loss_curve_))
    assert clf.network_.input_shape == (6,) and clf.n_features_in_ == 6


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"alpha": -1}, r"The 'alpha' parameter of NetClassifier must be a float in the range \[0(\.0)?, inf\)"),
        ({"learning_rate": 0.0}, "'learning_rate'"),
        ({"batch_size": 0}, "'batch_size'"),
        ({"optimizer": "adamx"}, "'optimizer'"),
        ({"activation": "swish"}, "'activation'"),
        ({"hidden_layer_sizes": (8, 0)}, "'hidden_layer_sizes'"),
        ({"dtype": "float16"}, "'dtype'"),
        ({"validation_fraction": 1.0}, "'validation_fraction'"),
    ],
)
def test_bad_parameters_raise_in_fit(params, fragment):
    X, y = classification_data(n=30)
    clf = NetClassifier(**params)  # __init__ only stores
    with pytest.raises((ValueError, InvalidParameterError), match=fragment):
        clf.fit(X, y)


def test_nan_input_rejected():
    X, y = classification_data(n=30)
    X[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        NetClassifier(max_epochs=1).fit(X, y)
