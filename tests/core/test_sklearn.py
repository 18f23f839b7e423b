"""NetClassifier / NetRegressor: scikit-learn's estimator checks, Pipeline and GridSearchCV, probabilities, labels,
networks given as parameters (CNN, prebuilt), optimizer/schedule parameters, reproducibility, equivalence with
core.training.fit, the regressor's robust losses."""

import copy

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from core._validation import InvalidParameterError
from core.callbacks import EarlyStopping
from core.losses import Huber
from core.models import cnn, mlp
from core.optim import Adam
from core.sklearn import NetClassifier, NetRegressor
from core.training import TrainingSettings, fit


# The defaults, dtype="float64": every check passes, none is expected to fail.
@parametrize_with_checks([NetClassifier(), NetRegressor(), NetRegressor(loss="absolute_error"),
                          NetRegressor(loss="huber", huber_delta=0.5)])
def test_check_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("Estimator", [NetClassifier, NetRegressor])
def test_float32_stays_available_and_close_to_subset_invariant(Estimator):
    # dtype="float32" is the fast option, not the default: predictions on a subset differ from those on all
    # rows by float32 rounding only (BLAS orders the sums by batch size), a few ulps ~ 1e-6 relative at most.
    X, y = make_classification(n_samples=60, n_features=5, random_state=0)
    model = Estimator(dtype="float32", hidden_layer_sizes=(16,), max_epochs=5, random_state=0).fit(X, y)
    assert model.network_.dtype == np.float32
    predict = model.predict_proba if hasattr(model, "predict_proba") else model.predict
    np.testing.assert_allclose(np.concatenate([predict(X[i:i + 1]) for i in range(len(X))]), predict(X),
                               rtol=1e-5, atol=1e-6)


def test_default_dtype_is_float64():
    X, y = make_classification(n_samples=40, n_features=4, random_state=0)
    assert NetClassifier().dtype == NetRegressor().dtype == "float64"
    assert NetClassifier(max_epochs=1).fit(X, y).network_.dtype == np.float64


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
        ({"alpha": -1}, r"^The 'alpha' parameter of NetClassifier must be a float in \[0, inf\)\. Got -1 instead\.$"),
        ({"learning_rate": 0.0}, r"'learning_rate' parameter of NetClassifier must be a float in \(0, inf\)"),
        ({"batch_size": 0}, "'batch_size'"),
        ({"max_epochs": 2.0}, "'max_epochs'"),
        ({"optimizer": "adamx"}, r"'optimizer' parameter of NetClassifier must be one of 'adagrad', 'adam'"),
        ({"activation": "swish"}, "'activation'"),
        ({"init": "orthogonal"}, "'init' parameter of NetClassifier must be None or one of"),
        ({"hidden_layer_sizes": (8, 0)}, "'hidden_layer_sizes'"),
        ({"hidden_layer_sizes": "8"}, "'hidden_layer_sizes'"),
        ({"dtype": "float16"}, "'dtype'"),
        ({"validation_fraction": 1.0}, "'validation_fraction'"),
        ({"early_stopping": 1}, "'early_stopping' parameter of NetClassifier must be a bool"),
        ({"random_state": -3}, "'random_state'"),
        ({"random_state": "seed"}, "'random_state'"),
        ({"verbose": 2}, "'verbose' parameter of NetClassifier must be a bool or a str"),
        ({"clip_norm": 0}, "'clip_norm' parameter of NetClassifier must be None or a float in \\(0, inf\\)"),
        ({"schedule": "linear"}, "'schedule'"),
        ({"loss": "mse"}, "'loss'"),
        ({"network": "mlp"}, "'network'"),
        ({"input_shape": (0, 3)}, "'input_shape'"),
        ({"optimizer_params": [("beta2", 0.9)]},
         "'optimizer_params' parameter of NetClassifier must be None or a dict"),
    ],
)
def test_bad_parameters_raise_in_fit(params, fragment):
    X, y = classification_data(n=30)
    clf = NetClassifier(**params)  # __init__ only stores
    with pytest.raises(InvalidParameterError, match=fragment) as info:
        clf.fit(X, y)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"optimizer": "adam", "optimizer_params": {"momentum": 0.9}},
         r"'optimizer_params' parameter of NetClassifier has the key 'momentum', which optimizer='adam' does not "
         r"take; its keys are 'beta1', 'beta2', 'decoupled_weight_decay', 'eps'\."),
        ({"optimizer": "adagrad", "optimizer_params": {"nesterov": True}},
         "'nesterov'.*'decoupled_weight_decay', 'eps'"),
        ({"optimizer_params": {"learning_rate": 0.1}}, "must not set 'learning_rate': use the 'learning_rate'"),
        ({"optimizer_params": {"weight_decay": 0.1}}, "must not set 'weight_decay': use the 'alpha'"),
        ({"optimizer_params": {"beta2": 1.5}}, "'beta2' parameter of Adam"),
        ({"schedule": "constant", "schedule_params": {"gamma": 0.5}}, "'schedule_params'.*'gamma'.*keys are none"),
        ({"schedule": "step", "schedule_params": {"total_epochs": 5}}, "'total_epochs'.*'gamma', 'step_size'"),
        ({"schedule": "step", "schedule_params": {"gamma": 2.0}}, "'gamma' parameter of StepSchedule"),
        ({"network": mlp((4,), 3), "hidden_layer_sizes": (8,)}, "'hidden_layer_sizes' parameter .* applies only when"),
        ({"network": mlp((4,), 3), "dropout": 0.1}, "'dropout'"),
        ({"network": mlp((4,), 3), "activation": "tanh"}, "'activation'"),
        ({"network": mlp((4,), 3), "init": "he"}, "'init'"),
        ({"network": mlp((4,), 3).build((6,), 0), "input_shape": (2, 3)}, "'input_shape'.*built on \\(6,\\)"),
        ({"network": mlp((4,), 3).build((6,), 0, "float32")}, "'dtype'.*'float32'"),
    ],
)
def test_strict_optimizer_schedule_and_network_parameters(params, fragment):
    X, y = classification_data(n=30)
    with pytest.raises(InvalidParameterError, match=fragment):
        NetClassifier(max_epochs=1, **params).fit(X, y)


def test_optimizer_and_schedule_params_reach_the_optimizer():
    clf = NetClassifier(optimizer="sgd", optimizer_params={"momentum": 0.9, "nesterov": True}, learning_rate=0.05,
                        alpha=0.0, clip_norm=2.0, schedule="step", schedule_params={"step_size": 3, "gamma": 0.5})
    optimizer = clf._make_optimizer()
    assert (optimizer.momentum, optimizer.nesterov, optimizer.base_learning_rate) == (0.9, True, 0.05)
    assert (optimizer.weight_decay, optimizer.clip_norm) == (0.0, 2.0)
    assert [optimizer.schedule(e) for e in range(4)] == [1, 1, 1, 0.5]
    adam = NetClassifier(optimizer_params={"beta2": 0.99, "decoupled_weight_decay": 0.01})._make_optimizer()
    assert (adam.beta2, adam.decoupled_weight_decay, adam.weight_decay) == (0.99, 0.01, 1e-4)
    cosine = NetClassifier(schedule="cosine", max_epochs=7)._make_optimizer().schedule
    assert cosine.total_epochs == 7


def test_grid_search_over_optimizer_and_schedule_params():
    X, y = classification_data(n=120)
    grid = GridSearchCV(
        NetClassifier(hidden_layer_sizes=(8,), max_epochs=5, schedule="exponential", random_state=0),
        {"optimizer_params": [None, {"beta2": 0.99}], "schedule_params": [{"gamma": 0.9}, {"gamma": 0.5}],
         "learning_rate": [1e-3, 1e-2]},
        cv=2,
    )
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 8
    assert set(grid.best_params_) == {"optimizer_params", "schedule_params", "learning_rate"}
    assert grid.best_estimator_.n_iter_ == 5


def ising_like_images(n=160, L=8, seed=0):
    """Flat L x L spin configurations: class 1 ordered (mostly aligned, either sign), class 0 random."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    spins = rng.choice([-1.0, 1.0], size=(n, L * L))
    ordered = rng.choice([-1.0, 1.0], size=(n, 1)) * np.where(rng.random((n, L * L)) < 0.9, 1.0, -1.0)
    return np.where(y[:, None] == 1, ordered, spins), y


def test_cnn_through_net_classifier_on_flat_lattices():
    X, y = ising_like_images()
    network = cnn((4,), padding="periodic", n_outputs=2)
    clf = NetClassifier(network=network, input_shape=(1, 8, 8), learning_rate=1e-2, max_epochs=30,
                        random_state=0).fit(X, y)
    assert not network.built  # the parameter is untouched; a copy was built and trained
    assert clf.network_.input_shape == (1, 8, 8) and clf.n_features_in_ == 64
    assert clf.score(X, y) > 0.95
    features = clf.hidden_features(X)
    assert features.shape == (len(X), 4) and features.dtype == np.float64
    # periodic padding + global pooling: translation invariant on the flat input too
    rolled = np.roll(X.reshape(-1, 8, 8), (3, 5), axis=(1, 2)).reshape(len(X), 64)
    np.testing.assert_allclose(clf.predict_proba(rolled), clf.predict_proba(X), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="X has 63 features, but the network's input shape \\(1, 8, 8\\) needs 64"):
        clone(clf).fit(X[:, :63], y)


def test_prebuilt_network_weights_are_the_initial_weights_and_the_object_is_unchanged():
    X, y = classification_data(n=60)
    network = mlp((5,), 3).build((6,), np.random.default_rng(1), "float64")
    before = network.get_weights()
    clf = NetClassifier(network=network, learning_rate=1e-12, max_epochs=1, alpha=0.0, random_state=0).fit(X, y)
    assert clf.network_ is not network
    for name, value in network.get_weights().items():
        assert np.array_equal(value, before[name])  # the parameter is never modified
        np.testing.assert_allclose(clf.network_.get_weights()[name], value, rtol=0, atol=1e-9)  # barely moved
    unbuilt = mlp((5,), 3)
    NetClassifier(network=unbuilt, max_epochs=1, random_state=0).fit(X, y)
    assert not unbuilt.built  # an unbuilt network is built and trained as a copy too
    with pytest.raises(ValueError, match=r"output shape \(3,\), but this fit needs \(2,\)"):
        NetClassifier(network=network).fit(X, y % 2)


@pytest.mark.parametrize("Estimator", [NetClassifier, NetRegressor])
def test_same_generator_seed_gives_bit_identical_predictions(Estimator):
    X, y = classification_data()
    models = [Estimator(hidden_layer_sizes=(8,), dropout=0.1, max_epochs=6, early_stopping=True,
                        random_state=np.random.default_rng(11)).fit(X, y) for _ in range(2)]
    assert models[0].loss_curve_ == models[1].loss_curve_
    assert np.array_equal(models[0].predict(X), models[1].predict(X))
    other = Estimator(hidden_layer_sizes=(8,), max_epochs=6, random_state=np.random.default_rng(12)).fit(X, y)
    assert not np.array_equal(other.predict(X), models[0].predict(X))


def test_binary_cross_entropy_loss():
    X, y = classification_data(n_classes=2)
    labels = np.array(["a", "b"])[y]
    clf = NetClassifier(loss="binary_cross_entropy", hidden_layer_sizes=(8,), max_epochs=30, random_state=0)
    clf.fit(X, labels)
    assert clf.network_.output_shape == (1,)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-12)
    decision = clf.decision_function(X)
    assert decision.shape == (len(X),)
    assert np.array_equal(clf.classes_[(decision > 0).astype(int)], clf.predict(X))
    assert np.array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
    assert clf.score(X, labels) > 0.9
    with pytest.raises(ValueError, match="exactly 2 classes"):
        clone(clf).fit(*classification_data(n_classes=3))


def test_regressor_matches_core_fit_bit_for_bit():
    """The estimator is a thin layer over core.training.fit: same network, optimizer, settings and rng -> same
    weights, bit for bit."""
    rng = np.random.default_rng(0)
    d = 4
    X = rng.normal(size=(90, d)).astype(np.float32)
    y = (X @ rng.normal(size=d) + 0.1 * rng.normal(size=90)).astype(np.float32)
    network = mlp((16, 8), 1).build((d,), np.random.default_rng(1))
    reg = NetRegressor(network=network, dtype="float32", optimizer="adam", learning_rate=1e-3, alpha=0.0,
                       max_epochs=5, early_stopping=True, validation_fraction=0.1, patience=3, tol=0.0,
                       random_state=np.random.default_rng(2)).fit(X, y)
    direct = copy.deepcopy(network)
    history = fit(direct, "mse", Adam(1e-3), X, y.reshape(-1, 1), TrainingSettings(5, 32, 0.1),
                  rng=np.random.default_rng(2), callbacks=[EarlyStopping(3, 0.0)])
    assert reg.history_.to_dict() == history.to_dict()
    for name, value in direct.get_weights().items():
        assert np.array_equal(reg.network_.get_weights()[name], value), name


def test_hidden_features_of_the_default_mlp():
    X, y = classification_data()
    clf = NetClassifier(hidden_layer_sizes=(7, 5), dropout=0.2, max_epochs=3, random_state=0).fit(X, y)
    features = clf.hidden_features(X)
    assert features.shape == (len(X), 5) and features.dtype == np.float64 and (features >= 0).all()  # after relu
    np.testing.assert_array_equal(features, clf.network_.hidden_features(X))


def test_clone_keeps_the_network_parameter_and_verbose_label_runs(capsys):
    network = mlp((4,), 3)
    clf = NetClassifier(network=network, verbose="my label", max_epochs=2)
    copied = clone(clf)
    assert copied.network is not network and copied.network.get_config() == network.get_config()
    X, y = classification_data(n=40)
    copied.fit(X, y)
    assert capsys.readouterr().err == ""  # not a terminal: no progress bar frames in captured output


def test_nan_input_rejected():
    X, y = classification_data(n=30)
    X[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        NetClassifier(max_epochs=1).fit(X, y)


def test_init_random_state_gives_the_initial_weights_their_own_stream():
    """Unbuilt network + init_random_state A + random_state B == built with A, then trained with B; SeedSequences
    restart their streams, so a second fit (or a clone) gives the same weights."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3)).astype(np.float32)
    y = (X.sum(axis=1) > 0).astype(int)
    init, batches = np.random.SeedSequence([7, 1]), np.random.SeedSequence([7, 2])
    clf = NetClassifier(network=mlp((6,), 2), dtype="float32", init_random_state=init, random_state=batches,
                        max_epochs=4, alpha=0.0, early_stopping=True, patience=2, tol=0.0)
    first = clf.fit(X, y).network_.get_weights()
    second = clone(clf).fit(X, y).network_.get_weights()
    direct = mlp((6,), 2).build((3,), np.random.default_rng(init))
    fit(direct, "softmax_cross_entropy", Adam(1e-3), X, y, TrainingSettings(4, 32, 0.1),
        rng=np.random.default_rng(batches), callbacks=[EarlyStopping(2, 0.0)])
    for name, value in direct.get_weights().items():
        assert np.array_equal(first[name], value) and np.array_equal(second[name], value), name


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
@pytest.mark.parametrize("params, name", [
    ({"learning_rate": None}, "learning_rate"), ({"alpha": None}, "alpha"), ({"clip_norm": None}, "clip_norm"),
    ({"tol": None}, "tol"), ({"validation_fraction": None}, "validation_fraction"), ({"dropout": None}, "dropout"),
    ({"optimizer_params": {"eps": None}}, "eps"), ({"optimizer_params": {"beta2": None}}, "beta2"),
    ({"optimizer": "sgd", "optimizer_params": {"momentum": None}}, "momentum"),
    ({"schedule": "step", "schedule_params": {"gamma": None}}, "gamma"),
])
def test_estimators_refuse_non_finite_hyper_parameters(params, name, value):
    # issue 16: a numeric hyper-parameter must never be inf or NaN (refused before any training); None marks the
    # place of the value under test
    def fill(item):
        return {k: fill(v) for k, v in item.items()} if isinstance(item, dict) else value if item is None else item

    filled = fill(params)
    X, y = make_classification(40, 4, random_state=0)
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        NetClassifier(hidden_layer_sizes=(4,), max_epochs=1, **filled).fit(X, y)


def heavy_tailed_line(n=400, seed=0):
    """y = x + noise, the noise 0 for 70% of the samples and +5 for the other 30% (exactly, spread at random over
    x in [-2, 2]): the conditional median is x, the conditional mean x + 1.5."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, n)
    outlier = rng.permutation(n) < int(0.3 * n)
    return x[:, None], x + 5.0 * outlier


def test_absolute_error_fits_the_median_and_squared_error_the_mean_under_heavy_tailed_noise():
    X, y = heavy_tailed_line()
    x_test = np.linspace(-1.5, 1.5, 61)  # inside the training range
    offsets = {}
    for loss in ("absolute_error", "huber", "squared_error"):
        reg = NetRegressor(loss=loss, huber_delta=1.0, hidden_layer_sizes=(16,), learning_rate=1e-2, max_epochs=60,
                           random_state=0).fit(X, y)
        offsets[loss] = reg.predict(x_test[:, None]) - x_test  # the fit minus the line y = x
    # Population minimisers of the three risks for an offset c in [0, 1]: the L1 risk 0.7 c + 0.3 (5 - c) has slope
    # 0.4 > 0, so c = 0 (the median) is sharply identified, and a finite-sample/SGD jitter of a few hundredths is
    # all that remains (measured ~0.01 over 5 seeds). The squared risk gives c = 1.5 (the mean); its fit follows the
    # local share of outliers, whose binomial fluctuation over the ~100 samples near each x is 5 * 0.46 / 10 ~ 0.23
    # (measured 1.43-1.71 over 5 seeds). Huber with delta=1 (in units of y, unscaled here) solves 0.7 c = 0.3:
    # c = 3/7 ~ 0.43 (measured 0.39-0.50).
    assert np.abs(offsets["absolute_error"]).mean() < 0.1
    assert abs(offsets["squared_error"].mean() - 1.5) < 0.35
    assert abs(offsets["huber"].mean() - 3 / 7) < 0.2
    assert (np.abs(offsets["absolute_error"]).mean() < np.abs(offsets["huber"]).mean()
            < np.abs(offsets["squared_error"]).mean())


@pytest.mark.parametrize("loss, direct_loss", [("squared_error", "mse"), ("absolute_error", "mae"),
                                               ("huber", Huber(0.3))])
def test_regressor_losses_match_core_fit_bit_for_bit(loss, direct_loss):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    y = (X @ rng.normal(size=3) + rng.standard_t(2, size=60)).astype(np.float32)
    network = mlp((8,), 1).build((3,), np.random.default_rng(1))
    reg = NetRegressor(loss=loss, huber_delta=0.3, network=network, dtype="float32", learning_rate=1e-2, alpha=0.0,
                       max_epochs=4, random_state=np.random.default_rng(2)).fit(X, y)
    direct = copy.deepcopy(network)
    history = fit(direct, direct_loss, Adam(1e-2), X, y.reshape(-1, 1), TrainingSettings(4, 32),
                  rng=np.random.default_rng(2))
    assert reg.history_.to_dict() == history.to_dict()
    for name, value in direct.get_weights().items():
        assert np.array_equal(reg.network_.get_weights()[name], value), name


def test_regressor_loss_parameters_in_get_params_set_params_clone_and_grid_search():
    reg = NetRegressor(loss="huber", huber_delta=0.25)
    params = reg.get_params()
    assert (params["loss"], params["huber_delta"]) == ("huber", 0.25)
    assert set(params) == set(NetClassifier().get_params()) | {"huber_delta"}  # the same parameters + huber_delta
    copied = clone(reg)
    assert (copied.loss, copied.huber_delta) == ("huber", 0.25)
    assert reg.set_params(loss="absolute_error", huber_delta=2.0) is reg and reg.huber_delta == 2.0
    assert NetRegressor().get_params()["loss"] == "squared_error"
    X, y = heavy_tailed_line(n=60)
    grid = GridSearchCV(NetRegressor(hidden_layer_sizes=(4,), max_epochs=3, random_state=0),
                        {"loss": ["squared_error", "absolute_error", "huber"], "huber_delta": [0.5, 1.0]}, cv=2,
                        scoring="neg_median_absolute_error")
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 6 and set(grid.best_params_) == {"loss", "huber_delta"}


@pytest.mark.parametrize("params, fragment", [
    ({"loss": "mse"}, r"^The 'loss' parameter of NetRegressor must be one of 'squared_error', 'absolute_error', "
                      r"'huber'\. Got 'mse' instead\.$"),
    ({"loss": "quantile"}, "'loss' parameter of NetRegressor must be one of"),
    ({"loss": None}, "'loss' parameter of NetRegressor"),
    ({"loss": "huber", "huber_delta": 0.0},
     r"^The 'huber_delta' parameter of NetRegressor must be a float in \(0, inf\)\. Got 0\.0 instead\.$"),
    ({"loss": "huber", "huber_delta": -1}, r"'huber_delta' parameter of NetRegressor must be a float in \(0, inf\)"),
    ({"loss": "huber", "huber_delta": float("inf")}, "'huber_delta'.*Got inf"),
    ({"loss": "huber", "huber_delta": float("nan")}, "'huber_delta'.*Got nan"),
    ({"loss": "huber", "huber_delta": "1"}, "'huber_delta'"),
    ({"huber_delta": 0}, "'huber_delta'"),  # checked whatever the loss, like every parameter
])
def test_bad_regressor_loss_parameters_raise_in_fit(params, fragment):
    X, y = heavy_tailed_line(n=20)
    reg = NetRegressor(max_epochs=1, **params)  # __init__ only stores
    with pytest.raises(InvalidParameterError, match=fragment):
        reg.fit(X, y)
