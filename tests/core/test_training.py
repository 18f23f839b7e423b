"""The training loop: learning, early stopping, callbacks, divergence, input validation, determinism, dtype."""

import io
import math
import sys

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score

from core.layers import Dense
from core.metrics import evaluate_metric
from core.models import mlp
from core.network import Sequential
from core.optim import SGD, Adam, StepSchedule
from core._validation import InvalidParameterError
from core.callbacks import Callback, EarlyStopping, ProgressBar
from core.training import TrainingDivergedError, TrainingSettings, fit

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([0, 1, 1, 0])


def sine_data(n=256):
    x = np.linspace(-np.pi, np.pi, n)[:, None]  # (n, 1)
    return x, np.sin(x)


def small_classification(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    return X, y


class Recorder(Callback):
    """Records every hook call; stops after ``stop_at`` epochs if given."""

    def __init__(self, stop_at=None):
        self.stop_at, self.context, self.epochs, self.logs, self.weights, self.final = stop_at, None, [], [], [], None

    def on_train_begin(self, context):
        self.context = context

    def on_epoch_end(self, epoch, logs):
        self.epochs.append(epoch)
        self.logs.append(logs)
        self.weights.append(self.context.network.get_weights())
        return self.stop_at is not None and epoch >= self.stop_at

    def on_train_end(self, history):
        self.final = history


def test_learns_xor():
    net = mlp((8,), 2, activation="tanh").build((2,), 0)
    history = fit(net, "softmax_cross_entropy", Adam(0.05), XOR_X, XOR_Y,
                  TrainingSettings(epochs=300, batch_size=4, metrics=["accuracy"]), rng=1)
    assert np.array_equal(net.predict(XOR_X).argmax(axis=1), XOR_Y)
    assert history.metrics["accuracy"][-1] == 1.0
    assert history.loss[-1] < 0.01  # cross-entropy: every sample gets probability > 0.99 on average


def test_fits_sine_to_stated_error():
    x, t = sine_data()
    net = mlp((32, 32), 1, activation="tanh").build((1,), 0)
    history = fit(net, "mse", Adam(0.01), x, t, TrainingSettings(200, 32, metrics="r2"), rng=1)
    x_test = np.linspace(-np.pi, np.pi, 1001)[:, None]
    mse = float(np.mean((net.predict(x_test) - np.sin(x_test)) ** 2))
    # stated target: MSE < 2e-3 on a dense grid, i.e. < 0.4% of the variance 1/2 of sin over a period
    assert mse < 2e-3
    assert history.metrics["r2"][-1] > 0.99
    assert history.loss[-1] < history.loss[0] / 50


def rising_validation_problem():
    """A linear model trained on y = x from w = 0 while validation wants y = 0.5 x.

    Gradient descent moves w monotonically from 0 to 1, so the validation loss (w - 0.5)^2 <x^2> falls, then rises
    after w passes 0.5: the best epoch is in the middle and early stopping must bring its weights back.
    """
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(64, 1))
    net = Sequential([Dense(1)]).build((1,), 0, dtype="float64")
    net.set_weights({"0.W": np.zeros((1, 1)), "0.b": np.zeros(1)})
    return net, x, x[:, 0], (x, 0.5 * x[:, 0])


def test_early_stopping_restores_best_epoch():
    net, x, y, validation = rising_validation_problem()
    recorder = Recorder()
    history = fit(net, "mse", SGD(0.05), x, y, TrainingSettings(200, 16), rng=0, validation_data=validation,
                  callbacks=[EarlyStopping(patience=5), recorder])
    best = history.best_epoch
    assert 1 < best < history.epoch[-1]
    assert history.val_loss[best - 1] == min(history.val_loss)
    assert all(b > a for a, b in zip(history.val_loss[best - 1:], history.val_loss[best:]))  # rose afterwards
    assert history.stopped_epoch == best + 5 == history.epoch[-1]
    assert history.restored_best
    for name, value in net.get_weights().items():
        assert np.array_equal(value, recorder.weights[best - 1][name])
    assert abs(net.get_weights()["0.W"][0, 0] - 0.5) < 0.1


def test_early_stopping_without_restore_keeps_last_weights():
    net, x, y, validation = rising_validation_problem()
    recorder = Recorder()
    history = fit(net, "mse", SGD(0.05), x, y, TrainingSettings(200, 16), rng=0, validation_data=validation,
                  callbacks=[EarlyStopping(patience=5, restore_best=False), recorder])
    assert not history.restored_best
    assert np.array_equal(net.get_weights()["0.W"], recorder.weights[-1]["0.W"])


def test_callbacks_are_called_and_can_stop():
    X, y = small_classification()
    net = mlp((8,), 2).build((3,), 0)
    recorder = Recorder(stop_at=3)
    history = fit(net, "softmax_cross_entropy", "adam", X, y,
                  TrainingSettings(10, 16, validation_fraction=0.25, metrics=["accuracy"]), rng=0, callbacks=[recorder])
    assert recorder.context.network is net and recorder.context.history is history
    assert recorder.epochs == [1, 2, 3] and history.epoch == [1, 2, 3] and history.stopped_epoch == 3
    assert set(recorder.logs[0]) == {"loss", "val_loss", "accuracy", "val_accuracy", "learning_rate"}
    assert recorder.final is history
    assert [logs["val_loss"] for logs in recorder.logs] == history.val_loss


def test_divergence_raises_naming_epoch():
    x, t = sine_data()
    net = mlp((16,), 1).build((1,), 0)
    with pytest.raises(TrainingDivergedError, match=r"epoch 1, batch \d+.*learning rate") as info:
        fit(net, "mse", SGD(1e4), x, t * 1e3, TrainingSettings(5, 8), rng=0)
    assert info.value.epoch == 1 and info.value.batch >= 1
    assert isinstance(info.value, FloatingPointError)


@pytest.mark.parametrize(
    "change, exc, fragment",
    [
        ({"X": np.array([[np.nan, 0.0, 0.0]] + [[0.0, 0.0, 0.0]] * 119)}, ValueError, "'X'"),
        ({"X": np.zeros((120, 4))}, ValueError, "'X'"),
        ({"X": np.full((120, 3), "a")}, TypeError, "'X'"),
        ({"y": np.zeros(119, dtype=int)}, ValueError, "'y'"),
        ({"y": np.full(120, 5)}, ValueError, "'y'"),
        ({"y": np.full(120, -1)}, ValueError, "'y'"),
        ({"y": np.full(120, 0.5)}, ValueError, "'y'"),
        ({"y": np.full(120, np.inf)}, ValueError, "'y'"),
        ({"optimizer": "adamx"}, InvalidParameterError, "'optimizer'"),
        ({"loss": "hinge"}, InvalidParameterError, "'loss'"),
        ({"settings": TrainingSettings(2, validation_fraction=0.2), "validation_data": (np.zeros((4, 3)),
                                                                                        np.zeros(4, int))},
         InvalidParameterError, "validation_data"),
        ({"validation_data": (np.zeros((4, 3)), np.full(4, 7))}, ValueError, r"'validation_data\[1\]'"),
        ({"validation_data": np.zeros((4, 3))}, InvalidParameterError, "'validation_data'"),
        ({"callbacks": [print]}, InvalidParameterError, "'callbacks'"),
        ({"callbacks": EarlyStopping()}, InvalidParameterError, "'callbacks'"),
        ({"settings": {"epochs": 2}}, InvalidParameterError, "'settings'"),
        ({"rng": "seed"}, InvalidParameterError, "'rng' parameter of fit"),
        ({"rng": -1}, InvalidParameterError, "'rng' parameter of fit"),
    ],
)
def test_bad_inputs_raise_before_training(change, exc, fragment):
    X, y = small_classification()
    net = mlp((4,), 2).build((3,), 0)
    before = net.get_weights()
    kwargs = {"loss": "softmax_cross_entropy", "optimizer": "sgd", "X": X, "y": y, "settings": TrainingSettings(2),
              "rng": 0, **change}
    with pytest.raises(exc, match=fragment):
        fit(net, kwargs.pop("loss"), kwargs.pop("optimizer"), kwargs.pop("X"), kwargs.pop("y"), **kwargs)
    for name, value in net.get_weights().items():
        assert np.array_equal(value, before[name]), "weights changed although the input was rejected"


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"batch_size": 0}, r"The 'batch_size' parameter of TrainingSettings must be an int in \[1, inf\). Got 0"),
        ({"batch_size": 2.5}, "'batch_size'"),
        ({"epochs": 0}, "'epochs'"),
        ({"epochs": True}, "'epochs'"),
        ({"validation_fraction": 1.5}, r"'validation_fraction' parameter of TrainingSettings must be a float in "
                                       r"\(0, 1\)"),
        ({"validation_fraction": 0.0}, "'validation_fraction'"),
        ({"metrics": ["precision"]}, "'metrics'"),
        ({"metrics": 3}, "'metrics'"),
    ],
)
def test_settings_are_validated_on_construction(kwargs, fragment):
    with pytest.raises(InvalidParameterError, match=fragment):
        TrainingSettings(**kwargs)


def test_settings_defaults_are_frozen_and_metrics_a_tuple():
    settings = TrainingSettings(metrics="accuracy")
    assert (settings.epochs, settings.batch_size, settings.validation_fraction) == (100, 32, None)
    assert settings.metrics == ("accuracy",)
    assert TrainingSettings(5, 32, 0.1) == TrainingSettings(epochs=5, batch_size=32, validation_fraction=0.1)
    with pytest.raises(AttributeError):
        settings.epochs = 3


@pytest.mark.parametrize("kwargs, fragment", [({"patience": 0}, "'patience'"), ({"min_delta": -1.0}, "'min_delta'"),
                                              ({"restore_best": 1}, "'restore_best'")])
def test_early_stopping_parameters_are_validated(kwargs, fragment):
    with pytest.raises(InvalidParameterError, match=f"{fragment} parameter of EarlyStopping"):
        EarlyStopping(**kwargs)


def test_non_positive_learning_rate_rejected():
    with pytest.raises(ValueError, match="'learning_rate'"):
        Adam(learning_rate=0.0)
    with pytest.raises(ValueError, match="'learning_rate'"):
        SGD(learning_rate=-0.1)


def test_same_seed_same_everything():
    X, y = small_classification()

    def run(seed):
        net = mlp((16,), 2, dropout=0.2).build((3,), seed)
        history = fit(net, "softmax_cross_entropy", Adam(0.01), X, y,
                      TrainingSettings(5, 16, validation_fraction=0.2, metrics=["accuracy"]), rng=seed)
        return net.get_weights(), history.to_dict(), net.predict(X)

    (w1, h1, p1), (w2, h2, p2), (_, _, p3) = run(7), run(7), run(8)
    assert h1 == h2
    assert all(np.array_equal(w1[k], w2[k]) for k in w1)
    assert np.array_equal(p1, p2)
    assert not np.array_equal(p1, p3)


def test_validation_fraction_split():
    X, y = small_classification(n=100)
    net = mlp((4,), 2).build((3,), 0)
    recorder = Recorder()
    history = fit(net, "softmax_cross_entropy", "sgd", X, y, TrainingSettings(3, 32, validation_fraction=0.2), rng=0,
                  callbacks=[recorder])
    assert (recorder.context.n_train, recorder.context.n_val) == (80, 20)
    assert len(history.val_loss) == 3 and all(math.isfinite(v) for v in history.val_loss)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_preserved(dtype):
    x, t = sine_data(64)
    net = mlp((8,), 1).build((1,), 0, dtype=dtype)
    fit(net, "mse", "adam", x.astype(np.float64), t, TrainingSettings(2, 16), rng=0)
    assert all(p.value.dtype == np.dtype(dtype) for p in net.parameters())
    assert net.predict(x).dtype == np.dtype(dtype)


def test_unbuilt_network_is_built_from_data_and_rng():
    X, y = small_classification()
    a, b = mlp((4,), 2), mlp((4,), 2)
    fit(a, "softmax_cross_entropy", "sgd", X, y, TrainingSettings(epochs=2), rng=3)
    fit(b, "softmax_cross_entropy", "sgd", X, y, TrainingSettings(epochs=2), rng=3)
    assert a.built and a.input_shape == (3,)
    assert np.array_equal(a.predict(X), b.predict(X))


def test_schedule_drives_learning_rate_per_epoch():
    x, t = sine_data(32)
    net = mlp((4,), 1).build((1,), 0)
    history = fit(net, "mse", SGD(0.1, schedule=StepSchedule(2, 0.5)), x, t, TrainingSettings(5, 8), rng=0)
    np.testing.assert_allclose(history.learning_rate, [0.1, 0.1, 0.05, 0.05, 0.025])


def test_early_stopping_on_training_loss_without_validation():
    x, t = sine_data(32)
    net = mlp((4,), 1).build((1,), 0)
    # min_delta larger than any possible improvement: stop after exactly `patience` epochs past the first
    history = fit(net, "mse", SGD(0.01), x, t, TrainingSettings(50, 8), rng=0,
                  callbacks=[EarlyStopping(patience=3, min_delta=1e9)])
    assert history.best_epoch == 1 and history.stopped_epoch == 4 and history.restored_best


@pytest.mark.parametrize("binary", [False, True])
def test_metrics_match_scikit_learn(binary):
    rng = np.random.default_rng(0)
    output = rng.normal(size=(50, 1 if binary else 3))
    labels = rng.integers(0, 2 if binary else 3, size=50)
    predicted = (output[:, 0] > 0).astype(int) if binary else output.argmax(axis=1)
    assert evaluate_metric("accuracy", output, labels) == pytest.approx(accuracy_score(labels, predicted))
    target = rng.normal(size=output.shape) + 3.0
    assert evaluate_metric("mae", output, target) == pytest.approx(mean_absolute_error(target, output))
    assert evaluate_metric("r2", output, target) == pytest.approx(r2_score(target, output), rel=1e-10)


def test_streaming_r2_equals_one_shot():
    rng = np.random.default_rng(1)
    output, target = rng.normal(size=(70, 2)), rng.normal(size=(70, 2)) + 100.0  # large mean: no cancellation
    from core.metrics import R2Score

    metric = R2Score()
    for start in range(0, 70, 16):
        metric.update(output[start:start + 16], target[start:start + 16])
    assert metric.result() == pytest.approx(r2_score(target, output), rel=1e-10)


class _PoisonOptimizer(SGD):
    """Plain SGD that writes inf into the first weight: the loss of the step stays finite, the parameters do not."""

    def _update(self, value, grad, state, lr):
        super()._update(value, grad, state, lr)
        value.flat[0] = np.inf


def test_non_finite_parameters_detected_at_epoch_end():
    x, t = sine_data(32)
    net = mlp((4,), 1).build((1,), 0)
    with pytest.raises(TrainingDivergedError, match=r"epoch 1: parameter '0.W' is not finite") as info:
        fit(net, "mse", _PoisonOptimizer(0.01), x, t, TrainingSettings(3, 32), rng=0)
    assert info.value.batch is None and info.value.history.epoch == []


def test_history_is_json_able():
    import json

    X, y = small_classification()
    net = mlp((4,), 2).build((3,), 0)
    history = fit(net, "softmax_cross_entropy", "sgd", X, y, TrainingSettings(2, validation_fraction=0.2,
                                                                              metrics=["accuracy"]), rng=0)
    restored = json.loads(json.dumps(history.to_dict()))
    assert restored["epoch"] == [1, 2] and len(restored["metrics"]["val_accuracy"]) == 2


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("stream, enabled, shown", [
    (io.StringIO(), None, False),  # a pipe or a log file: no bar, no carriage returns
    (_Terminal(), None, True),
    (io.StringIO(), True, True),
    (_Terminal(), False, False),
])
def test_progress_bar_only_on_terminals_by_default(monkeypatch, stream, enabled, shown):
    monkeypatch.setattr(sys, "stderr", stream)
    X, y = small_classification()
    net = mlp((4,), 2).build((3,), 0)
    bar = ProgressBar("training the test", enabled=enabled)
    fit(net, "softmax_cross_entropy", "sgd", X, y, TrainingSettings(3), rng=0, callbacks=[bar])
    written = stream.getvalue()
    assert ("training the test" in written) is shown
    assert ("\r" in written) is shown
    assert bar._bar is None  # closed at the end


def test_progress_bar_is_closed_when_training_diverges(monkeypatch):
    monkeypatch.setattr(sys, "stderr", _Terminal())
    x, t = sine_data()
    bar = ProgressBar("diverging")
    with pytest.raises(TrainingDivergedError):
        fit(mlp((16,), 1).build((1,), 0), "mse", SGD(1e4), x, t * 1e3, TrainingSettings(5, 8), rng=0,
            callbacks=[bar])
    assert bar._bar is None


def test_early_stopping_is_reusable_and_matches_best_epoch_rule():
    x, t = sine_data(64)
    stopper = EarlyStopping(patience=2, min_delta=1e9)
    for _ in range(2):  # the same instance twice: its state is reset by on_train_begin
        net = mlp((4,), 1).build((1,), 0)
        history = fit(net, "mse", SGD(0.01), x, t, TrainingSettings(20, 8), rng=0, callbacks=[stopper])
        assert (history.best_epoch, history.stopped_epoch, history.epoch) == (1, 3, [1, 2, 3])


def test_without_early_stopping_best_epoch_is_the_lowest_loss():
    x, t = sine_data(64)
    net = mlp((4,), 1).build((1,), 0)
    history = fit(net, "mse", SGD(0.05), x, t, TrainingSettings(6, 8), rng=0)
    assert history.best_epoch == 1 + int(np.argmin(history.loss))
    assert history.stopped_epoch is None and not history.restored_best
