"""The machinery shared by :class:`core.sklearn.NetClassifier` and :class:`core.sklearn.NetRegressor`: the
parameter constraints, the optimizer and network set-up, the one call of :func:`core.training.fit`, and the
parameter documentation. Imported by :mod:`core.sklearn` (it imports scikit-learn, so ``import core`` does not).
"""

from __future__ import annotations

import copy
import math
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from core._validation import (
    Boolean,
    InstanceOf,
    Interval,
    InvalidParameterError,
    Options,
    Seed,
    as_generator,
    check_params,
)
from core.activations import ACTIVATIONS
from core.callbacks import Callback, EarlyStopping, ProgressBar
from core.init import INITIALIZERS
from core.layers import Dense
from core.models import mlp
from core.network import Sequential, check_shape
from core.optim import OPTIMIZERS, get_optimizer, optimizer_keywords
from core.schedules import SCHEDULES, get_schedule, schedule_keywords
from core.training import TrainingSettings, check_sample_weight, fit

__all__ = ["BaseNet", "MLP_PARAMETERS", "PARAMETERS_DOC", "NETWORK_DOC", "TRAINING_DOC", "ATTRIBUTES_DOC"]

#: the parameters that shape the default MLP, with their defaults; they must stay so when ``network`` is given
MLP_PARAMETERS = {"hidden_layer_sizes": (100,), "activation": "relu", "init": None, "dropout": 0.0}
#: optimizer keywords the estimator sets from its own parameters (not from ``optimizer_params``)
_OWN_OPTIMIZER_KEYWORDS = {"learning_rate": "learning_rate", "weight_decay": "alpha", "clip_norm": "clip_norm",
                           "schedule": "schedule"}


class _LayerSizes:
    """An int >= 1 or a (possibly empty: a linear model) sequence of them."""

    def is_satisfied_by(self, value) -> bool:
        return _layer_sizes(value) is not None

    def __str__(self) -> str:
        return "an int in [1, inf) or a sequence of them"


def _layer_sizes(value) -> tuple[int, ...] | None:
    """``value`` as a tuple of ints >= 1, or None if it is not an int >= 1 or a sequence of them."""
    values = (value,) if isinstance(value, Integral) else value
    if isinstance(values, (str, bytes, dict)):
        return None
    try:
        values = tuple(values)
    except TypeError:
        return None
    if not all(Interval(1, None, integer=True).is_satisfied_by(v) for v in values):
        return None
    return tuple(int(v) for v in values)


class _Shape:
    """The shape of one sample: an int >= 1 or a non-empty sequence of them."""

    def is_satisfied_by(self, value) -> bool:
        try:
            check_shape(value)
        except InvalidParameterError:
            return False
        return True

    def __str__(self) -> str:
        return "a tuple of ints in [1, inf) (the shape of one sample)"


class _CallbackList:
    """A list or tuple of core.callbacks.Callback instances."""

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, (list, tuple)) and all(isinstance(item, Callback) for item in value)

    def __str__(self) -> str:
        return "a list of core.callbacks.Callback instances"


def _dict_of(kind: str):
    return InstanceOf(dict, f"a dict of {kind} keyword arguments")


class BaseNet(BaseEstimator):
    """Shared parameters, validation and training of the two estimators."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [_LayerSizes()],
        "activation": [Options(sorted(ACTIVATIONS))],
        "init": [None, Options(sorted(INITIALIZERS))],
        "dropout": [Interval(0, 1, high_closed=False)],
        "network": [None, InstanceOf(Sequential, "a core.network.Sequential")],
        "input_shape": [None, _Shape()],
        "optimizer": [Options(sorted(OPTIMIZERS))],
        "learning_rate": [Interval(0, None, low_closed=False)],
        "alpha": [Interval(0, None)],
        "optimizer_params": [None, _dict_of("optimizer")],
        "schedule": [Options(sorted(SCHEDULES))],
        "schedule_params": [None, _dict_of("schedule")],
        "clip_norm": [None, Interval(0, None, low_closed=False)],
        "batch_size": [Interval(1, None, integer=True)],
        "max_epochs": [Interval(1, None, integer=True)],
        "early_stopping": [Boolean()],
        "validation_fraction": [Interval(0, 1, low_closed=False, high_closed=False)],
        "patience": [Interval(1, None, integer=True)],
        "tol": [Interval(0, None)],
        "warm_start": [Boolean()],
        "random_state": [Seed()],
        "init_random_state": [None, Seed()],
        "dtype": [Options(("float32", "float64"))],
        "verbose": [Boolean(), InstanceOf(str, "a str (the progress bar's label)")],
        "callbacks": [None, _CallbackList()],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", init=None, dropout=0.0, network=None,
                 input_shape=None, optimizer="adam", learning_rate=1e-3, alpha=1e-4, optimizer_params=None,
                 schedule="constant", schedule_params=None, clip_norm=None, batch_size=32, max_epochs=200,
                 early_stopping=False, validation_fraction=0.1, patience=10, tol=1e-4, warm_start=False,
                 random_state=None, init_random_state=None, dtype="float64", verbose=False, callbacks=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.dropout = dropout
        self.network = network
        self.input_shape = input_shape
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.alpha = alpha
        self.optimizer_params = optimizer_params
        self.schedule = schedule
        self.schedule_params = schedule_params
        self.clip_norm = clip_norm
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.init_random_state = init_random_state
        self.dtype = dtype
        self.verbose = verbose
        self.callbacks = callbacks

    # ----------------------------------------------------------------------------------------- parameters
    def _check_parameters(self) -> None:
        """Check every parameter (types, ranges, the keys of the dicts, the MLP parameters against ``network``)."""
        owner = type(self).__name__
        check_params(self.get_params(deep=False), self._parameter_constraints, owner)
        self._check_network_parameters(owner)
        self._optimizer_keywords()
        self._schedule_keywords()

    def _check_network_parameters(self, owner: str) -> None:
        """The MLP parameters must keep their defaults when ``network`` is given."""
        if self.network is not None:
            for name, default in MLP_PARAMETERS.items():
                value = getattr(self, name)
                same = _layer_sizes(value) == default if name == "hidden_layer_sizes" else value == default
                if not same:
                    raise InvalidParameterError(
                        f"The '{name}' parameter of {owner} shapes the default MLP and applies only when network is "
                        f"None; with a network given it must keep its default {default!r}. Got {value!r} instead.")

    def _optimizer_keywords(self) -> dict:
        """``optimizer_params`` checked against the chosen optimizer's keywords."""
        owner, params = type(self).__name__, dict(self.optimizer_params or {})
        allowed = [k for k in optimizer_keywords(self.optimizer) if k not in _OWN_OPTIMIZER_KEYWORDS]
        for key in params:
            if key in _OWN_OPTIMIZER_KEYWORDS:
                raise InvalidParameterError(
                    f"The 'optimizer_params' parameter of {owner} must not set {key!r}: use the "
                    f"'{_OWN_OPTIMIZER_KEYWORDS[key]}' parameter of {owner} instead.")
            if key not in allowed:
                raise InvalidParameterError(
                    f"The 'optimizer_params' parameter of {owner} has the key {key!r}, which optimizer="
                    f"{self.optimizer!r} does not take; its keys are {', '.join(map(repr, allowed))}.")
        return params

    def _schedule_keywords(self) -> dict:
        """``schedule_params`` checked against the chosen schedule; cosine's total_epochs defaults to max_epochs."""
        owner, params = type(self).__name__, dict(self.schedule_params or {})
        allowed = schedule_keywords(self.schedule)
        for key in params:
            if key not in allowed:
                raise InvalidParameterError(
                    f"The 'schedule_params' parameter of {owner} has the key {key!r}, which schedule="
                    f"{self.schedule!r} does not take; its keys are {', '.join(map(repr, allowed)) or 'none'}.")
        if self.schedule == "cosine":
            params.setdefault("total_epochs", self.max_epochs)
        return params

    def _make_optimizer(self):
        """A fresh optimizer from optimizer, learning_rate, alpha, optimizer_params, schedule(_params), clip_norm."""
        schedule = None if self.schedule == "constant" else get_schedule(self.schedule, **self._schedule_keywords())
        return get_optimizer(self.optimizer, learning_rate=float(self.learning_rate), weight_decay=float(self.alpha),
                             clip_norm=None if self.clip_norm is None else float(self.clip_norm), schedule=schedule,
                             **self._optimizer_keywords())

    # --------------------------------------------------------------------------------------------- network
    def _make_network(self, n_features: int, n_outputs: int, rng: np.random.Generator) -> Sequential:
        """The network to train: a new MLP, or a deep copy of ``network`` (built here if it is not)."""
        owner = type(self).__name__
        prebuilt = self.network is not None and self.network.built
        shape = check_shape(self.input_shape, "input_shape", owner) if self.input_shape is not None else None
        if prebuilt:
            if shape is not None and shape != self.network.input_shape:
                raise InvalidParameterError(
                    f"The 'input_shape' parameter of {owner} is {shape}, but the given network is built on "
                    f"{self.network.input_shape}; leave input_shape=None.")
            if self.network.dtype != np.dtype(self.dtype):
                raise InvalidParameterError(
                    f"The 'dtype' parameter of {owner} is {self.dtype!r}, but the given network is built with "
                    f"dtype {self.network.dtype.name!r}; pass dtype={self.network.dtype.name!r}.")
            shape = self.network.input_shape
        shape = (n_features,) if shape is None else shape
        if math.prod(shape) != n_features:
            raise ValueError(f"X has {n_features} features, but the network's input shape {shape} needs "
                             f"{math.prod(shape)} (X is reshaped to (n_samples, *input_shape)).")
        if self.network is None:
            network = mlp(_layer_sizes(self.hidden_layer_sizes), n_outputs, activation=self.activation,
                          dropout=self.dropout, init=self.init)
        else:
            network = copy.deepcopy(self.network)  # the parameter itself is never modified
        if not network.built:
            network.build(shape, rng, self.dtype)
        if network.output_shape != (n_outputs,):
            raise ValueError(f"The network of {owner} has output shape {network.output_shape}, but this fit needs "
                             f"({n_outputs},): {self._outputs_needed(n_outputs)}.")
        return network

    def _outputs_needed(self, n_outputs: int) -> str:
        return f"{n_outputs} outputs"

    def _as_network_input(self, X: np.ndarray, network: Sequential) -> np.ndarray:
        """Flat X (n_samples, n_features) -> (n_samples, *network.input_shape)."""
        return X.reshape(len(X), *network.input_shape)

    # -------------------------------------------------------------------------------------------- training
    def _continues(self, incremental: bool) -> bool:
        """Whether this fit (``incremental``: partial_fit) continues the fitted network instead of starting anew."""
        return (incremental or self.warm_start) and hasattr(self, "network_")

    def _train(self, X, y, n_outputs, loss, *, incremental=False, sample_weight=None):
        """Train on (X, y) with one call of core.training.fit and set the fitted attributes.

        A fresh network and optimizer unless :meth:`_continues` (warm_start, partial_fit): then the fitted
        network, its optimizer (moment estimates, step count) and random stream go on, and the curves and n_iter_
        are extended. ``incremental`` (partial_fit): one epoch, no early stopping, no ConvergenceWarning.
        ``sample_weight`` (checked already) weights each batch's loss (core.training.fit).
        """
        owner = type(self).__name__
        if self._continues(incremental):
            rng, optimizer, network = self._rng, self._optimizer, self.network_
            if network.output_shape != (n_outputs,):
                raise ValueError(f"{owner} was fitted with {network.output_shape[0]} outputs, but these targets need "
                                 f"{n_outputs}: warm_start and partial_fit continue the same network; set "
                                 f"warm_start=False (or call fit) to start anew.")
        else:
            rng = as_generator(self.random_state, "random_state", owner)
            init_rng = rng if self.init_random_state is None else as_generator(self.init_random_state,
                                                                                "init_random_state", owner)
            optimizer = self._make_optimizer()
            network = self._make_network(X.shape[1], n_outputs, init_rng)
            self._rng, self._optimizer = rng, optimizer
            self.loss_curve_, self.validation_loss_curve_, self.n_iter_, self.best_loss_ = [], [], 0, math.inf
        validate = self.early_stopping and not incremental
        settings = TrainingSettings(epochs=1 if incremental else self.max_epochs, batch_size=self.batch_size,
                                    validation_fraction=self.validation_fraction if validate else None)
        callbacks = [EarlyStopping(self.patience, self.tol)] if validate else []
        if isinstance(self.verbose, str) or self.verbose:
            label = self.verbose if isinstance(self.verbose, str) else type(self).__name__
            callbacks.append(ProgressBar(label))
        callbacks += [copy.deepcopy(callback) for callback in self.callbacks or ()]  # copies: the parameter holds no state
        self.history_ = fit(network, loss, optimizer, self._as_network_input(X, network), y, settings, rng=rng,
                            callbacks=callbacks, sample_weight=sample_weight)
        self.network_ = network
        self.loss_curve_ += self.history_.loss
        self.validation_loss_curve_ += self.history_.val_loss
        self.n_iter_ += len(self.history_.epoch)
        self.best_epoch_ = self.history_.best_epoch
        monitored = self.history_.val_loss if validate else self.history_.loss
        self.best_loss_ = min(self.best_loss_, min(monitored))
        if not incremental:
            self._warn_if_not_converged(monitored, "validation loss" if validate else "training loss")
        return self

    def _warn_if_not_converged(self, monitored: list, name: str) -> None:
        """ConvergenceWarning when all max_epochs ran (no early stop) and the last epoch still improved the
        monitored loss by more than tol on every earlier epoch of this fit (the first epoch improves on inf)."""
        if self.history_.stopped_epoch is not None or len(monitored) < self.max_epochs:
            return
        earlier_best = min(monitored[:-1], default=math.inf)
        if monitored[-1] < earlier_best - self.tol:
            warnings.warn(
                f"{type(self).__name__} stopped at max_epochs={self.max_epochs} while the {name} was still "
                f"improving (last epoch {monitored[-1]:.6g}, best before {earlier_best:.6g}, tol={self.tol}): "
                f"it has not converged. Raise max_epochs, or set early_stopping=True.", ConvergenceWarning,
                stacklevel=4)

    @property
    def coefs_(self) -> list:
        """The weight arrays "W" of the network's Dense layers, in order: the network's own arrays (views that
        follow training), shape (n_in, units) each; layers of other kinds (convolutions, recurrent cells) are not
        included. AttributeError before fit."""
        return [layer.params["W"] for layer in self.network_.layers if isinstance(layer, Dense)]

    @property
    def intercepts_(self) -> list:
        """The bias arrays "b" of the network's Dense layers (one per ``coefs_`` entry, None for a Dense layer
        built with use_bias=False): the network's own arrays, shape (units,) each. AttributeError before fit."""
        return [layer.params.get("b") for layer in self.network_.layers if isinstance(layer, Dense)]

    @staticmethod
    def _sample_weight(sample_weight, X) -> np.ndarray | None:
        """``sample_weight`` checked against X (core.training.check_sample_weight): float64 (n_samples,) or None."""
        return check_sample_weight(None if sample_weight is None else np.asarray(sample_weight), len(X))

    def _validated_input(self, X) -> np.ndarray:
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=self.network_.dtype)
        return self._as_network_input(X, self.network_)

    def _forward(self, X) -> np.ndarray:
        X = self._validated_input(X)  # first: raises NotFittedError before network_ is looked up
        return self.network_.predict(X)

    def hidden_features(self, X) -> np.ndarray:
        """The activations feeding the network's last trainable (Dense) layer for flat X (n_samples,
        n_features), in inference mode: shape (n_samples, width), float64 (see Sequential.hidden_features)."""
        X = self._validated_input(X)
        return self.network_.hidden_features(X)


NETWORK_DOC = """
    hidden_layer_sizes : int or sequence of int, default=(100,)
        Units (each >= 1) of the hidden Dense layers of the default MLP (empty: a linear model). Only when network
        is None.
    activation : str, default="relu"
        Hidden activation of the default MLP, a key of ``core.activations.ACTIVATIONS``. Only when network is None.
    init : str or None, default=None
        Weight initialiser of the default MLP, a key of ``core.init.INITIALIZERS``; None = the activation's
        default (He for the ReLU family, Glorot otherwise). Only when network is None.
    dropout : float, default=0.0
        Dropout rate, in [0, 1), in front of every Dense layer but the first of the default MLP. Only when network is
        None.
    network : core.network.Sequential or None, default=None
        The network to train instead of the default MLP (e.g. ``core.models.cnn(...)``). Its output width must be
        what the fit needs: {outputs}.
        Unbuilt: it is built on ``input_shape`` (or (n_features,)) with the init_random_state (else random_state)
        Generator and dtype.
        Already built: its current weights are the initial
        weights and random_state drives only the validation split and the minibatches (its dropout masks keep
        coming from the Generator it was built with). Either way ``fit`` trains a deep copy (``network_``); the
        object passed is never modified. With a network given, hidden_layer_sizes, activation, init and dropout
        must keep their defaults (InvalidParameterError otherwise).
    input_shape : tuple of int or None, default=None
        Shape of one sample for the network; X (n_samples, n_features) is reshaped to (n_samples, *input_shape),
        so n_features must equal prod(input_shape), e.g. (1, 8, 8) for a CNN on flat 8 x 8 lattices. None: the
        built network's input shape, else (n_features,).
"""

TRAINING_DOC = """
    optimizer : str, default="adam"
        A key of ``core.optim.OPTIMIZERS`` ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw").
    learning_rate : float, default=1e-3
        Base learning rate, > 0 (multiplied by the schedule's factor). Training that diverges (a NaN/inf loss or
        weight, or a loss or weight norm orders of magnitude above its start: ``core.divergence.DivergenceGuard``'s
        default limits) makes ``fit`` raise ``core.training.TrainingDivergedError``, naming the setting to
        change (``learning_rate``; ``weight_decay`` is ``alpha`` here).
    alpha : float, default=1e-4
        L2 penalty (>= 0) on the weights, not the biases: the optimizer's ``weight_decay`` (gradient + alpha * W).
    optimizer_params : dict or None, default=None
        The chosen optimizer's other constructor keywords, e.g. {{"beta2": 0.99}} for "adam", {{"momentum": 0.9,
        "nesterov": True}} for "sgd", {{"decoupled_weight_decay": 0.01}}. A key the optimizer does not take (or
        one set by another parameter: learning_rate, weight_decay, clip_norm, schedule) raises
        InvalidParameterError listing the allowed keys. A fresh optimizer is built for every fit (unless
        warm_start continues).
    schedule : str, default="constant"
        Learning-rate schedule, a key of ``core.schedules.SCHEDULES`` ("constant", "step", "exponential",
        "cosine").
    schedule_params : dict or None, default=None
        The schedule's constructor keywords, e.g. {{"step_size": 10, "gamma": 0.5}} for "step"; checked like
        optimizer_params. The cosine schedule's total_epochs defaults to max_epochs.
    clip_norm : float or None, default=None
        Clip the global gradient norm to this value (> 0) before each step; None does not clip.
    batch_size : int, default=32
        Samples per gradient step, >= 1.
    max_epochs : int, default=200
        Maximum number of passes over the training data, >= 1.
    early_stopping : bool, default=False
        Hold out validation_fraction of the training data (core.training.fit's plain random split, NOT
        stratified) and stop when the validation loss has not improved by more than tol for patience epochs;
        the weights of the best epoch are restored.
    validation_fraction : float, default=0.1
        Share of the training data held out when early_stopping, in (0, 1).
    patience : int, default=10
        Epochs without improvement before early stopping, >= 1.
    tol : float, default=1e-4
        The decrease of the monitored loss that counts as an improvement, >= 0: for early stopping (validation
        loss), and for the ConvergenceWarning raised when max_epochs ends a fit whose last epoch still improved
        the monitored loss (validation loss with early_stopping, else training loss) by more than tol.
    warm_start : bool, default=False
        When True and already fitted, ``fit`` continues training the fitted network with its optimizer state
        (moment estimates, step count) and random stream instead of starting anew; the data must have the same
        features and outputs (the classifier: the same classes). ``loss_curve_`` and ``n_iter_`` keep growing.
        The learning-rate schedule restarts at its epoch 0 at every call (``fit`` numbers epochs per call); the
        parameters that shape the network or the optimizer (learning_rate, alpha, optimizer...) are not re-read
        when continuing, only the training-loop ones (max_epochs, batch_size, early_stopping...).
    random_state : None, int, Generator, SeedSequence or RandomState, default=None
        An int must be >= 0. Drives, in this order, the initial weights (when the network is built here, including its
        dropout masks), the validation split and the minibatch order. The same int (or a Generator in the same state)
        gives bit-identical results; a Generator is advanced by every fit (a SeedSequence restarts its stream).
    init_random_state : None, int, Generator, SeedSequence or RandomState, default=None
        An int must be >= 0. When given, the initial weights (and dropout masks) of a network built here come from it
        instead of random_state, which then drives only the validation split and the minibatches: two named streams, so
        the initial weights do not shift when the data do.
    dtype : {{"float32", "float64"}}, default="float64"
        The network's floating-point type (a prebuilt network must have this dtype). float64 by default, as
        scikit-learn's MLP on float64 data, because the scikit-learn API promises invariances that float32
        rounding breaks: predictions on a subset of rows equal those on all rows, and integer sample weights
        equal repeated rows, to rtol 1e-7 (``check_estimator``); float32 sums, ordered differently by BLAS
        for different batch sizes, differ by a few float32 ulps (~3e-7). "float32" is faster (about twice on
        large layers, half the memory) and fine for training, just not subset-invariant to 1e-7.
    verbose : bool or str, default=False
        Show a progress bar over the epochs (core.ProgressBar, on terminals only; never in pipes or logs); a str
        is used as the bar's label.
    callbacks : list of core.callbacks.Callback or None, default=None
        Further hooks of every fit (e.g. a logger of the per-epoch losses), called after early stopping and the
        progress bar. Each fit uses deep copies, so the parameter itself never holds state.
"""

PARAMETERS_DOC = NETWORK_DOC + TRAINING_DOC

ATTRIBUTES_DOC = """
    n_features_in_ : int
        Number of features (columns of X) seen in fit.
    network_ : core.network.Sequential
        The trained network.
    history_ : core.callbacks.History
        The per-epoch record of training.
    loss_curve_ : list of float
        Training loss per epoch (the data loss, without the L2 penalty), over all epochs since the network was
        initialised (warm_start fits and partial_fit calls append to it).
    validation_loss_curve_ : list of float
        Validation loss per epoch (only epochs of fits with early_stopping; empty without).
    n_iter_ : int
        Epochs run since the network was initialised (``len(loss_curve_)``).
    best_loss_ : float
        The lowest monitored loss since the network was initialised: the validation loss in fits with
        early_stopping (the weights kept are those of the best epoch of the last fit), else the training loss.
    best_epoch_ : int
        Epoch with the lowest monitored loss in the last fit or partial_fit call (numbered from 1 in that call).
    coefs_ : list of ndarray
        The weights "W" of the Dense layers only, in order, shape (n_in, units) each, as scikit-learn's MLP:
        the network's own arrays, not copies (they follow further training; writing to them changes the model).
        For a CNN or recurrent network, only its Dense head; convolution kernels and recurrent weights are in
        ``network_.parameters()``.
    intercepts_ : list of ndarray or None
        The biases "b" of the same Dense layers (None for a layer with use_bias=False), shape (units,) each.
"""
