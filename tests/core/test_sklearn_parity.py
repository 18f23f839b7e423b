"""NetClassifier / NetRegressor parity with scikit-learn's MLP (issue 17): the fitted attributes (n_iter_,
loss_curve_, best_loss_, coefs_, intercepts_), ConvergenceWarning, warm_start, partial_fit and sample_weight
(in the losses and in fit, against repeated rows)."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from core._validation import InvalidParameterError
from core.callbacks import Callback
from core.layers import Dense
from core.losses import BinaryCrossEntropy, Huber, MeanAbsoluteError, MeanSquaredError, SoftmaxCrossEntropy
from core.models import cnn
from core.sklearn import NetClassifier, NetRegressor


def regression_data(n=64, seed=0):
    X, y = make_regression(n_samples=n, n_features=4, noise=0.1, random_state=seed)
    return X, y / y.std()


def classification_data(n=90, seed=0):
    return make_classification(n_samples=n, n_features=5, n_informative=3, n_redundant=0, n_classes=3,
                               n_clusters_per_class=1, class_sep=2.0, random_state=seed)


# ------------------------------------------------------------------------------------------ fitted attributes
def test_curves_n_iter_and_best_loss_without_early_stopping():
    X, y = regression_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = NetRegressor(hidden_layer_sizes=(8,), max_epochs=7, random_state=0).fit(X, y)
    assert reg.n_iter_ == 7 == len(reg.loss_curve_)
    assert isinstance(reg.loss_curve_, list) and reg.loss_curve_ == list(reg.history_.loss)
    assert reg.validation_loss_curve_ == []
    assert reg.best_loss_ == min(reg.loss_curve_)


def test_best_loss_is_the_validation_loss_with_early_stopping():
    X, y = regression_data(n=120)
    reg = NetRegressor(hidden_layer_sizes=(8,), max_epochs=300, early_stopping=True, patience=3, tol=0.0,
                       learning_rate=0.05, random_state=0).fit(X, y)
    assert reg.n_iter_ == len(reg.loss_curve_) == len(reg.validation_loss_curve_) < 300
    assert reg.best_loss_ == min(reg.validation_loss_curve_)
    assert reg.best_loss_ == reg.validation_loss_curve_[reg.best_epoch_ - 1]


def test_coefs_and_intercepts_are_the_dense_layers_own_arrays():
    X, y = classification_data()
    clf = NetClassifier(hidden_layer_sizes=(7, 5), max_epochs=5, random_state=0)
    with pytest.raises(AttributeError):
        clf.coefs_  # noqa: B018 (not fitted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert [W.shape for W in clf.coefs_] == [(5, 7), (7, 5), (5, 3)]  # like sklearn's MLP: (n_in, units)
    assert [b.shape for b in clf.intercepts_] == [(7,), (5,), (3,)]
    values = [p.value for p in clf.network_.parameters()]
    for W, b in zip(clf.coefs_, clf.intercepts_):
        assert any(W is v for v in values) and any(b is v for v in values)  # views, not copies
    before = clf.decision_function(X)
    clf.intercepts_[-1][:] += np.array([1.0, 0.0, 0.0], dtype=clf.intercepts_[-1].dtype)
    # float64 logits: adding 1 to the first class's bias shifts its logit by 1 within rounding (~1e-15)
    np.testing.assert_allclose(clf.decision_function(X)[:, 0] - before[:, 0], 1.0, atol=1e-12)


def test_coefs_of_a_cnn_cover_its_dense_head_only():
    rng = np.random.default_rng(0)
    X = rng.choice([-1.0, 1.0], size=(24, 16))
    y = (X.mean(axis=1) > 0).astype(int)
    network = cnn(channels=(2,), hidden_layer_sizes=(4,), n_outputs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = NetClassifier(network=network, input_shape=(1, 4, 4), max_epochs=2, random_state=0).fit(X, y)
    dense = [layer for layer in clf.network_.layers if isinstance(layer, Dense)]
    assert len(dense) >= 1 and len(clf.coefs_) == len(dense)
    n_weights = sum(p.name.endswith(".W") for p in clf.network_.parameters())
    assert len(clf.coefs_) < n_weights  # the convolution kernels are not in coefs_
    assert all(W is layer.params["W"] for W, layer in zip(clf.coefs_, dense))


# ------------------------------------------------------------------------------------------ ConvergenceWarning
def test_convergence_warning_when_max_epochs_cuts_an_improving_fit():
    X, y = regression_data()
    with pytest.warns(ConvergenceWarning, match="max_epochs=3"):
        NetRegressor(hidden_layer_sizes=(8,), max_epochs=3, learning_rate=1e-2, random_state=0).fit(X, y)


def test_no_convergence_warning_when_early_stopping_stopped_it():
    X, y = regression_data(n=120)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = NetRegressor(hidden_layer_sizes=(8,), max_epochs=500, early_stopping=True, patience=2,
                           learning_rate=0.05, random_state=0).fit(X, y)
    assert reg.history_.stopped_epoch is not None and reg.n_iter_ < 500


def test_no_convergence_warning_when_the_last_epoch_did_not_improve_by_tol():
    X, y = regression_data()
    # a huge tol: no epoch counts as an improvement, so reaching max_epochs is not a failure to converge
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        NetRegressor(hidden_layer_sizes=(8,), max_epochs=3, tol=1e6, random_state=0).fit(X, y)


# ------------------------------------------------------------------------------------------ warm_start
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_warm_start_twice_equals_one_longer_fit():
    X, y = regression_data()
    params = dict(hidden_layer_sizes=(8,), dtype="float64", batch_size=16, random_state=3)
    long = NetRegressor(max_epochs=5, **params).fit(X, y)
    warm = NetRegressor(max_epochs=3, warm_start=True, **params).fit(X, y)
    first_weights = warm.coefs_[0]
    warm.set_params(max_epochs=2).fit(X, y)
    assert warm.coefs_[0] is first_weights  # the same network goes on, not a new one
    assert warm.n_iter_ == 5 and warm.loss_curve_ == long.loss_curve_  # same stream, same Adam state: identical
    for a, b in zip(warm.network_.parameters(), long.network_.parameters()):
        np.testing.assert_array_equal(a.value, b.value)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_without_warm_start_fit_starts_anew():
    X, y = regression_data()
    reg = NetRegressor(hidden_layer_sizes=(8,), max_epochs=2, random_state=0).fit(X, y)
    curve = list(reg.loss_curve_)
    reg.fit(X, y)
    assert reg.n_iter_ == 2 and reg.loss_curve_ == curve


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_warm_start_refuses_other_classes_or_outputs():
    X, y = classification_data()
    clf = NetClassifier(hidden_layer_sizes=(4,), max_epochs=1, warm_start=True, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="classes of the previous fit"):
        clf.fit(X[y < 2], y[y < 2])
    Xr, yr = regression_data()
    reg = NetRegressor(hidden_layer_sizes=(4,), max_epochs=1, warm_start=True, random_state=0).fit(Xr, yr)
    with pytest.raises(ValueError, match="shape"):
        reg.fit(Xr, np.column_stack([yr, yr]))
    with pytest.raises(ValueError, match="features"):
        reg.fit(Xr[:, :3], yr)


def test_warm_start_in_get_params_and_clone():
    reg = NetRegressor(warm_start=True)
    assert reg.get_params()["warm_start"] is True and clone(reg).warm_start is True
    with pytest.raises(ValueError, match="warm_start"):
        NetRegressor(warm_start="yes").fit(*regression_data())


# ------------------------------------------------------------------------------------------ partial_fit
def test_partial_fit_classifier_needs_classes_first_and_trains_one_epoch_per_call():
    X, y = classification_data()
    clf = NetClassifier(hidden_layer_sizes=(16,), learning_rate=1e-2, random_state=0)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:30], y[:30], classes=[0, 1, 2])
    first_weights = clf.coefs_[0]
    for _ in range(30):
        clf.partial_fit(X, y)
    assert clf.coefs_[0] is first_weights and clf.n_iter_ == 31 == len(clf.loss_curve_)
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[1]  # it keeps learning across calls
    assert clf.score(X, y) > 0.9  # well-separated clusters
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X[:5], np.array([0, 1, 2, 3, 0]))


def test_partial_fit_regressor_equals_fit_epoch_by_epoch():
    X, y = regression_data()
    params = dict(hidden_layer_sizes=(8,), dtype="float64", batch_size=16, random_state=1)
    inc = NetRegressor(**params)
    for _ in range(4):
        inc.partial_fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        full = NetRegressor(max_epochs=4, **params).fit(X, y)
    assert inc.loss_curve_ == full.loss_curve_  # same random stream and optimizer state: identical epochs
    np.testing.assert_array_equal(inc.predict(X), full.predict(X))


# ------------------------------------------------------------------------------------------ sample_weight
def _loss_cases(rng):
    """(loss, output (6, ...), target) for every loss of core.losses, float64."""
    out2 = rng.normal(size=(6, 2))
    return [
        (MeanSquaredError(), out2, rng.normal(size=(6, 2))),
        (MeanAbsoluteError(), out2, rng.normal(size=(6, 2))),
        (Huber(0.5), out2, rng.normal(size=(6, 2))),
        (SoftmaxCrossEntropy(), rng.normal(size=(6, 3)), rng.integers(0, 3, size=6)),
        (SoftmaxCrossEntropy(), rng.normal(size=(6, 3)), rng.dirichlet(np.ones(3), size=6)),
        (BinaryCrossEntropy(), rng.normal(size=(6, 1)), rng.integers(0, 2, size=6)),
    ]


@pytest.mark.parametrize("case", range(6))
def test_integer_weights_equal_repeated_rows_in_every_loss(case):
    rng = np.random.default_rng(case)
    loss, output, target = _loss_cases(rng)[case]
    weights = np.array([2, 0, 1, 3, 1, 1])
    weighted = loss.forward(output, target, sample_weight=weights)
    grad = loss.backward()
    repeated = loss.forward(output.repeat(weights, axis=0), target.repeat(weights, axis=0))
    grad_repeated = loss.backward()
    # float64: the two sides sum the same terms in a different order, so they agree to rounding (~1e-16)
    np.testing.assert_allclose(weighted, repeated, rtol=1e-13)
    # each row's gradient is the sum of the gradients of its copies (0 for a weight of 0)
    owner = np.repeat(np.arange(6), weights)
    summed = np.zeros_like(grad)
    np.add.at(summed, owner, grad_repeated)
    np.testing.assert_allclose(grad, summed, rtol=1e-13, atol=1e-16)
    loss.forward(output, target)
    unweighted = loss.backward()
    assert loss.forward(output, target, sample_weight=np.ones(6)) == loss.forward(output, target)
    np.testing.assert_array_equal(loss.backward(), unweighted)  # weights of 1: bit-identical


def test_loss_refuses_bad_sample_weight():
    with pytest.raises(ValueError, match="sample_weight"):
        MeanSquaredError().forward(np.zeros((3, 1)), np.zeros(3), sample_weight=np.array([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="sample_weight"):
        MeanSquaredError().forward(np.zeros((3, 1)), np.zeros(3), sample_weight=np.ones(2))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Estimator, data", [(NetRegressor, regression_data), (NetClassifier, classification_data)])
def test_fit_with_integer_weights_equals_fit_on_repeated_rows(Estimator, data):
    X, y = data(n=40)
    weights = np.random.default_rng(0).integers(0, 4, size=len(X))
    # full batch (batch_size > every n), plain SGD, float64: both fits take the same steps
    params = dict(hidden_layer_sizes=(6,), optimizer="sgd", learning_rate=0.05, batch_size=500, max_epochs=30,
                  dtype="float64", random_state=0)
    weighted = Estimator(**params).fit(X, y, sample_weight=weights)
    repeated = Estimator(**params).fit(X.repeat(weights, axis=0), y.repeat(weights))
    assert weighted.loss_curve_[-1] < weighted.loss_curve_[0]  # it trained
    # only the order of the float64 sums differs (the shuffle of a full batch): ~1e-16 per step over 30 steps
    for a, b in zip(weighted.network_.parameters(), repeated.network_.parameters()):
        np.testing.assert_allclose(a.value, b.value, rtol=0, atol=1e-10)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-10)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_uniform_weights_change_nothing_even_with_early_stopping():
    X, y = regression_data(n=80)
    params = dict(hidden_layer_sizes=(6,), max_epochs=15, early_stopping=True, patience=3, random_state=0)
    plain = NetRegressor(**params).fit(X, y)
    doubled = NetRegressor(**params).fit(X, y, sample_weight=np.full(len(X), 2.0))  # n w / sum(w) = 1 exactly
    assert doubled.loss_curve_ == plain.loss_curve_
    assert doubled.validation_loss_curve_ == plain.validation_loss_curve_


@pytest.mark.parametrize("weights, fragment", [
    (lambda n: -np.ones(n), "negative"),
    (lambda n: np.full(n, np.nan), "NaN"),
    (lambda n: np.zeros(n), "all zero"),
    (lambda n: np.ones(n + 1), "shape"),
    (lambda n: np.ones((n, 2)), "shape"),
])
@pytest.mark.parametrize("Estimator, data", [(NetRegressor, regression_data), (NetClassifier, classification_data)])
def test_bad_sample_weight_is_refused(Estimator, data, weights, fragment):
    X, y = data()
    with pytest.raises(ValueError, match=fragment):
        Estimator(max_epochs=1).fit(X, y, sample_weight=weights(len(X)))


def test_classifier_refuses_weights_that_leave_one_class():
    X, y = classification_data()
    with pytest.raises(ValueError, match="2 classes with a positive sample_weight"):
        NetClassifier(max_epochs=1).fit(X, y, sample_weight=(y == 0).astype(float))


def test_partial_fit_takes_sample_weight():
    X, y = regression_data()
    reg = NetRegressor(hidden_layer_sizes=(4,), dtype="float64", batch_size=500, random_state=0)
    reg.partial_fit(X, y, sample_weight=np.ones(len(X)))
    other = NetRegressor(hidden_layer_sizes=(4,), dtype="float64", batch_size=500, random_state=0).partial_fit(X, y)
    assert reg.loss_curve_ == other.loss_curve_  # weights of 1 change nothing


class _EpochRecorder(Callback):
    """Appends (its own id, epoch, loss) to the class-level ``seen`` (shared by deep copies) and to its own
    ``losses`` (not shared)."""

    seen: list = []

    def __init__(self):
        self.losses = []

    def on_epoch_end(self, epoch, logs):
        self.losses.append(logs["loss"])
        type(self).seen.append((id(self), epoch, logs["loss"]))


def test_callbacks_see_every_epoch_of_each_fit_and_the_parameter_keeps_no_state():
    X, y = make_regression(n_samples=40, n_features=3, random_state=0)
    recorder = _EpochRecorder()
    _EpochRecorder.seen.clear()
    model = NetRegressor(hidden_layer_sizes=(4,), max_epochs=5, random_state=0, callbacks=[recorder])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
        model.fit(X, y)
    first, second = _EpochRecorder.seen[:5], _EpochRecorder.seen[5:]
    assert [epoch for _, epoch, _ in first] == [1, 2, 3, 4, 5] and len(second) == 5
    assert len({owner for owner, _, _ in first} | {owner for owner, _, _ in second}) == 2  # a fresh copy per fit
    assert [loss for _, _, loss in second] == model.loss_curve_
    assert recorder.losses == []  # the parameter itself was never called


def test_callbacks_must_be_callback_instances():
    X, y = make_regression(n_samples=10, n_features=2, random_state=0)
    with pytest.raises(InvalidParameterError, match="'callbacks' parameter"):
        NetRegressor(callbacks=[print]).fit(X, y)
