"""Divergence: NaN/inf and the finite runaways of DivergenceGuard (loss, validation loss, weights), the
hyper-parameter blamed, no false alarm on ordinary training, and no change to a run that does not diverge."""

import math
import pickle

import numpy as np
import pytest

from core._validation import InvalidParameterError
from core.callbacks import Callback, EarlyStopping
from core.divergence import DivergenceGuard
from core.models import mlp
from core.optim import OPTIMIZERS, SGD, AdaGrad, Adam, AdamW, RMSprop, get_optimizer
from core.training import TrainingDivergedError, TrainingSettings, fit

OFF = DivergenceGuard(None, None, None, 3, None)  # every finite limit off (NaN/inf still checked)


def sine_data(n=128):
    x = np.linspace(-1, 1, n)[:, None]
    return x, np.sin(3 * x)


def spins(n=300, seed=0):
    """Ising-like inputs: +-1 'spins', the label says whether most are up."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 1, size=(n, 1))
    X = np.where(rng.uniform(size=(n, 64)) < p, 1.0, -1.0)
    return X, (X.mean(axis=1) > 0).astype(int)


# ------------------------------------------------------------------------------------------ finite runaway
def test_finite_loss_divergence_was_a_result_and_is_now_an_error():
    # SGD past its stability limit on a tanh MLP in float64: the loss grows by ~1e23 per epoch and stays finite
    x, t = sine_data()
    net = mlp((16,), 1, activation="tanh").build((1,), 0, dtype="float64")
    history = fit(net, "mse", SGD(1.0), x, t, TrainingSettings(3, 16, divergence=None), rng=0)
    assert all(math.isfinite(v) for v in history.loss) and history.loss[-1] > 1e19  # what used to be returned

    net = mlp((16,), 1, activation="tanh").build((1,), 0, dtype="float64")
    with pytest.raises(TrainingDivergedError, match=r"Training diverged at epoch 1, batch \d+: the training loss "
                                                    r"is \S+, \S+ times the initial loss .*learning rate "
                                                    r"\(currently 1\).*batch_loss_factor = 1e\+06") as info:
        fit(net, "mse", SGD(1.0), x, t, TrainingSettings(3, 16), rng=0)
    error = info.value
    assert (error.epoch, error.parameter, error.value) == (1, "learning_rate", 1.0) and error.batch >= 2
    assert error.history.epoch == [] and isinstance(error, FloatingPointError)
    assert "inf" not in str(error).split(".")[0] and "nan" not in str(error)


@pytest.mark.parametrize("optimizer", [SGD(1e6), Adam(1e6)])
def test_the_reported_case_huge_learning_rate_on_spins(optimizer):
    # task=ising optimizer.lr=1e6 gave a validation loss of 4.7e19 and weights ~1e7 as a result
    X, y = spins()
    net = mlp((32,), 2).build((64,), 0)
    with pytest.raises(TrainingDivergedError, match=r"epoch 1, batch \d+: the training loss is .*1e\+06") as info:
        fit(net, "softmax_cross_entropy", optimizer, X, y, TrainingSettings(5, 32, validation_fraction=0.2), rng=0)
    assert info.value.parameter == "learning_rate" and info.value.value == 1e6


def test_epoch_mean_loss_limit():
    # from the second epoch on, against the larger of L0 and the first epoch's mean: 2.2e7 here, then 4e30
    x, t = sine_data()
    net = mlp((16,), 1, activation="tanh").build((1,), 0, dtype="float64")
    with pytest.raises(TrainingDivergedError, match=r"epoch 2: the mean training loss of the epoch is \S+, \S+ times "
                                                    r"its reference \(the larger of the initial loss \S+ and the "
                                                    r"first epoch's mean \S+\).*epoch_loss_factor = 1000") as info:
        fit(net, "mse", SGD(1.0), x, t, TrainingSettings(3, 16, divergence=DivergenceGuard(
            batch_loss_factor=None, weight_norm_factor=None)), rng=0)
    assert info.value.batch is None and info.value.history.epoch == [1]


def standardised_regression(n=512, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 20))
    y = np.tanh(X[:, :3].sum(axis=1)) + 0.1 * X[:, 3] ** 2
    return X, (y - y.mean()) / y.std()


def test_a_first_epoch_transient_that_recovers_is_not_divergence():
    # RMSprop's first steps (v = 0) overshoot: the first epoch's mean is ~39 L0 here, then the loss falls to 0.07 L0.
    # The epoch check starts from the second epoch, so even a limit of 10 lets this run through.
    X, y = standardised_regression()
    net = mlp((64, 64), 1).build((20,), 0)
    initial_loss = float(np.mean((net.predict(X)[:, 0] - y) ** 2))
    history = fit(net, "mse", RMSprop(0.05), X, y, TrainingSettings(20, 32, divergence=DivergenceGuard(
        epoch_loss_factor=10.0)), rng=0)
    assert history.loss[0] > 10 * initial_loss and history.loss[-1] < 0.1 * initial_loss


class _Blowup(Callback):
    """Multiplies every weight by ``factor`` after each epoch: the weights explode, the loss need not."""

    def __init__(self, factor):
        self.factor = factor

    def on_train_begin(self, context):
        self.parameters = context.network.parameters()

    def on_epoch_end(self, epoch, logs):
        for p in self.parameters:
            np.multiply(p.value, self.factor, out=p.value)


def test_exploding_weights():
    # the loss limits off: this is the weight check alone
    x, t = sine_data()
    net = mlp((8,), 1, activation="tanh").build((1,), 0, dtype="float64")
    guard = DivergenceGuard(batch_loss_factor=None, epoch_loss_factor=None)
    with pytest.raises(TrainingDivergedError, match=r"epoch \d+: the global norm of the parameters is \S+, up from "
                                                    r"\S+ at the start.*weight_norm_factor = 10000") as info:
        fit(net, "mse", SGD(1e-3), x, t, TrainingSettings(20, 32, divergence=guard), rng=0, callbacks=[_Blowup(10.0)])
    assert 5 <= info.value.epoch <= 7 and info.value.batch is None  # 10^4 growth needs ~5 blow-ups


def test_validation_loss_far_above_its_start_for_several_epochs():
    # trained on y = x, validated on y = -x: the better the fit, the worse the validation loss (here from 0.76 at
    # the start to 1.46, so a factor 1.5)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(256, 1))
    guard = DivergenceGuard(val_loss_factor=1.5, val_loss_epochs=2)
    net = mlp((8,), 1).build((1,), 0)
    with pytest.raises(TrainingDivergedError, match=r"the validation loss \(for 2 epochs in a row\) is \S+, \S+ "
                                                    r"times its initial value .*val_loss_factor = 1.5") as info:
        fit(net, "mse", Adam(1e-2), x, x, TrainingSettings(50, 16, divergence=guard), rng=0, validation_data=(x, -x))
    assert info.value.epoch >= 2 and len(info.value.history.val_loss) == info.value.epoch - 1


def test_validation_loss_of_the_returned_weights():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(256, 1))
    guard = DivergenceGuard(val_loss_factor=1.5, val_loss_epochs=1000)  # only the end check can trip
    net = mlp((8,), 1).build((1,), 0)
    with pytest.raises(TrainingDivergedError, match=r"the validation loss of the weights returned \(epoch 30\)") as e:
        fit(net, "mse", Adam(1e-2), x, x, TrainingSettings(30, 16, divergence=guard), rng=0, validation_data=(x, -x))
    assert e.value.epoch == 30 and len(e.value.history.epoch) == 30
    # EarlyStopping puts back the best (first) epoch: the weights returned are fine, no error
    net = mlp((8,), 1).build((1,), 0)
    history = fit(net, "mse", Adam(1e-2), x, x, TrainingSettings(30, 16, divergence=guard), rng=0,
                  validation_data=(x, -x), callbacks=[EarlyStopping(patience=5)])
    assert history.restored_best and history.best_epoch == 1


# -------------------------------------------------------------------------------------------- the culprit
def test_decoupled_weight_decay_is_blamed_not_the_learning_rate():
    x, t = sine_data()
    net = mlp((8,), 1).build((1,), 0)
    with pytest.raises(TrainingDivergedError, match=r"Try a smaller decoupled_weight_decay \(currently 30\)") as e:
        fit(net, "mse", AdamW(0.1, decoupled_weight_decay=30.0), x, t, TrainingSettings(20, 16), rng=0)
    assert (e.value.parameter, e.value.value) == ("decoupled_weight_decay", 30.0)
    assert "learning rate (currently" not in str(e.value)


@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_l2_weight_decay_past_sgd_stability_is_blamed(momentum, nesterov):
    # w <- (1 - lr * wd) w: lr * wd = 5 > the stability limit 2 (3.8 with momentum 0.9, ~1.3 with Nesterov)
    x, t = sine_data()
    net = mlp((8,), 1).build((1,), 0)
    optimizer = SGD(0.05, momentum=momentum, nesterov=nesterov, weight_decay=100.0)
    with pytest.raises(TrainingDivergedError, match=r"Try a smaller weight_decay \(currently 100\)") as info:
        fit(net, "mse", optimizer, x, t, TrainingSettings(20, 16), rng=0)
    assert info.value.parameter == "weight_decay"


def test_overflowing_weight_decay_is_blamed_in_adam():
    x, t = sine_data()
    net = mlp((8,), 1).build((1,), 0)  # float32: 1e39 * w overflows
    with pytest.raises(TrainingDivergedError, match=r"smaller weight_decay \(currently 1e\+39\).*overflows") as info:
        fit(net, "mse", Adam(1e-3, weight_decay=1e39), x, t, TrainingSettings(3, 16), rng=0)
    assert info.value.parameter == "weight_decay"


def test_learning_rate_blamed_with_its_scheduled_value():
    x, t = sine_data()
    net = mlp((16,), 1, activation="tanh").build((1,), 0, dtype="float64")
    with pytest.raises(TrainingDivergedError, match=r"learning rate \(currently 2, 1 in this epoch of the schedule"):
        fit(net, "mse", SGD(2.0, schedule=lambda epoch: 0.5), x, t, TrainingSettings(3, 16), rng=0)


# ------------------------------------------------------------------------------------ no false alarms
CLASSIFICATION_RATES = {"sgd": 0.5, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.1, "rmsprop": 0.01,
                        "adam": 0.03, "adamw": 0.03}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_ordinary_noisy_training_never_trips_and_is_unchanged(name, seed):
    # high-but-sane learning rates (noisy losses); the result must be bit-identical with the checks off
    X, y = spins(seed=seed)

    def train(guard):
        net = mlp((32, 32), 2).build((64,), seed)
        history = fit(net, "softmax_cross_entropy", get_optimizer(name, learning_rate=CLASSIFICATION_RATES[name]),
                      X, y, TrainingSettings(15, 16, validation_fraction=0.2, divergence=guard), rng=seed)
        return net.get_weights(), history.to_dict()

    (w1, h1), (w2, h2) = train(DivergenceGuard()), train(None)
    assert h1 == h2 and all(np.array_equal(w1[k], w2[k]) for k in w1)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("optimizer", [lambda: Adam(3e-2), lambda: SGD(0.3), lambda: SGD(0.05, momentum=0.9),
                                       lambda: RMSprop(1e-2), lambda: AdaGrad(0.3)])
def test_ordinary_noisy_regression_never_trips(optimizer, seed):
    x, t = sine_data(256)
    net = mlp((32, 32), 1, activation="tanh").build((1,), seed)
    history = fit(net, "mse", optimizer(), x, t, TrainingSettings(40, 8, validation_fraction=0.2), rng=seed)
    assert len(history.epoch) == 40


def test_second_fit_continues_from_a_small_loss_without_alarm():
    x, t = sine_data(256)
    net = mlp((32, 32), 1, activation="tanh").build((1,), 0)
    optimizer = Adam(1e-2)
    fit(net, "mse", optimizer, x, t, TrainingSettings(40, 16), rng=0)
    fit(net, "mse", optimizer, x, t, TrainingSettings(20, 16, validation_fraction=0.2), rng=1)


def test_zero_initial_loss_skips_the_loss_limits():
    x = np.zeros((32, 1))
    net = mlp((4,), 1).build((1,), 0)
    for p in net.parameters():
        p.value[...] = 0.0  # output 0 == target 0: L0 = 0, no growth factor from zero
    fit(net, "mse", SGD(0.1), x, np.zeros((32, 1)), TrainingSettings(3, 8), rng=0)


# ---------------------------------------------------------------------------------------- the settings
@pytest.mark.parametrize("name", ["batch_loss_factor", "epoch_loss_factor", "val_loss_factor", "weight_norm_factor"])
@pytest.mark.parametrize("value", [math.inf, math.nan, 1.0, 0.5, -3.0, True, "1e3"])
def test_guard_factors_are_validated(name, value):
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of DivergenceGuard must be a float "
                                                    r"in \(1, inf\)"):
        DivergenceGuard(**{name: value})


@pytest.mark.parametrize("value", [0, 1.5, math.inf, True])
def test_guard_epochs_are_validated(value):
    with pytest.raises(InvalidParameterError, match="'val_loss_epochs' parameter of DivergenceGuard"):
        DivergenceGuard(val_loss_epochs=value)


def test_guard_is_on_by_default_and_can_be_turned_off():
    assert TrainingSettings().divergence == DivergenceGuard()
    assert TrainingSettings(divergence=None).divergence is None
    assert DivergenceGuard(batch_loss_factor=None).batch_loss_factor is None
    with pytest.raises(InvalidParameterError, match="'divergence' parameter of TrainingSettings"):
        TrainingSettings(divergence=1e3)


def test_error_pickles_with_its_attributes():
    x, t = sine_data()
    net = mlp((16,), 1, activation="tanh").build((1,), 0, dtype="float64")
    with pytest.raises(TrainingDivergedError) as info:
        fit(net, "mse", SGD(1.0), x, t, TrainingSettings(3, 16), rng=0)
    copy = pickle.loads(pickle.dumps(info.value))
    assert (str(copy), copy.epoch, copy.batch, copy.parameter, copy.value) == (
        str(info.value), info.value.epoch, info.value.batch, "learning_rate", 1.0)


def test_nan_and_inf_are_checked_with_the_guard_off():
    x, t = sine_data()
    net = mlp((16,), 1).build((1,), 0)
    with pytest.raises(TrainingDivergedError, match=r"epoch \d+, batch \d+: the training loss is (inf|nan)"):
        fit(net, "mse", SGD(1e4), x, t * 1e3, TrainingSettings(5, 8, divergence=None), rng=0)
    net = mlp((16,), 1).build((1,), 0)
    with pytest.raises(TrainingDivergedError, match=r"the training loss is (inf|nan)"):
        fit(net, "mse", SGD(1e4), x, t * 1e3, TrainingSettings(5, 8, divergence=OFF), rng=0)
