"""The minibatch training loop: shuffling, validation, history, callbacks, divergence detection.

:func:`fit` takes its loop settings in one :class:`TrainingSettings` object and everything else that happens
during training (early stopping, a progress bar, your own hooks) as callbacks (:mod:`core.callbacks`).

Random numbers: every draw comes from ``rng``, in this order: the network's initial weights (only when ``fit``
builds it), the validation split (one permutation of the samples, when ``validation_fraction`` is set), then one
permutation of the training samples per epoch (and the dropout masks, if the network was built with the same
Generator). So the same rng seed, data and settings give bit-identical weights and history.

One epoch walks through its permutation in slices of ``batch_size`` (the last batch may be smaller); each batch
is forward -> loss -> backward -> ``optimizer.step``. With ``sample_weight``, each batch's loss is the weighted
mean over its samples (:mod:`core.losses`), the epoch's training loss the mean of the batch losses weighted by
the batches' weight sums, and the validation loss (of a ``validation_fraction`` split, which splits the weights
too) weighted alike; metrics stay unweighted. The training loss of an epoch is the sample-weighted mean of
its batch losses (the weights move during the epoch, as in Keras and scikit-learn's ``loss_curve_``); the data
loss only, without the L2 penalty. Validation loss and metrics use the weights at the end of the epoch. Epochs
are numbered from 1 in the history and in messages; the learning-rate schedule receives the number of completed
epochs (0 for the first).

Divergence: every batch loss, the parameters after every epoch and every validation loss are checked for NaN/inf,
and (``TrainingSettings.divergence``, a :class:`DivergenceGuard`, on by default) against limits relative to the
start: a loss or weight norm orders of magnitude above its starting value is a divergence too, not a result.
Either raises :class:`TrainingDivergedError`. The checks only read the network (the reference losses take one
inference pass before the first step), so a run that does not diverge is bit-identical with or without them.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from core._validation import InvalidParameterError, as_generator, check_number
from core.callbacks import Callback, EarlyStopping, History, ProgressBar, TrainingContext
from core.divergence import DivergenceGuard, TrainingDivergedError, _DivergenceWatch
from core.losses import Loss, SoftmaxCrossEntropy, get_loss
from core.metrics import evaluate_metric, get_metric
from core.network import Sequential
from core.optim import get_optimizer

__all__ = [
    "TrainingSettings", "fit", "check_features", "check_targets", "check_sample_weight", "split_validation",
    # defined in core.callbacks, re-exported: the loop's record, hooks and divergence checks
    "History", "Callback", "TrainingContext", "EarlyStopping", "ProgressBar", "DivergenceGuard",
    "TrainingDivergedError",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingSettings:
    """The settings of the training loop, checked on construction (InvalidParameterError).

    Parameters
    ----------
    epochs : int, default 100
        Maximum number of passes over the training set, >= 1.
    batch_size : int, default 32
        Samples per gradient step, >= 1 (more than the training samples means full batch).
    validation_fraction : float or None, default None
        In (0, 1). When set, ``fit`` holds out round(fraction * n) random samples of (X, y) (at least 1, leaving
        at least 1) for validation, drawn from its rng before training. Not together with ``fit``'s
        ``validation_data``.
    metrics : str or sequence of str, default ()
        Names from ``core.metrics.METRICS`` ("accuracy", "mae", "r2"), computed on the training batches and, when
        validating, on the validation set ("val_<name>"). Stored as a tuple.
    divergence : DivergenceGuard or None, default DivergenceGuard()
        The limits beyond which a finite but runaway loss, validation loss or weight norm is a divergence
        (TrainingDivergedError). None turns these checks off (a NaN/inf loss or parameter still raises).
    """

    epochs: int = 100
    batch_size: int = 32
    validation_fraction: float | None = None
    metrics: tuple[str, ...] = ()
    divergence: DivergenceGuard | None = DivergenceGuard()

    def __post_init__(self):
        check_number(self.epochs, "epochs", "TrainingSettings", low=1, integer=True)
        check_number(self.batch_size, "batch_size", "TrainingSettings", low=1, integer=True)
        if self.validation_fraction is not None:
            check_number(self.validation_fraction, "validation_fraction", "TrainingSettings", low=0, high=1,
                         low_closed=False, high_closed=False)
        metrics = (self.metrics,) if isinstance(self.metrics, str) else self.metrics
        try:
            metrics = tuple(metrics)
        except TypeError:
            raise InvalidParameterError(f"The 'metrics' parameter of TrainingSettings must be a metric name or a "
                                        f"sequence of them. Got {self.metrics!r} instead.") from None
        for name in metrics:
            get_metric(name)  # raises InvalidParameterError naming 'metrics' for an unknown name
        object.__setattr__(self, "metrics", metrics)
        if self.divergence is not None and not isinstance(self.divergence, DivergenceGuard):
            raise InvalidParameterError(f"The 'divergence' parameter of TrainingSettings must be a DivergenceGuard or "
                                        f"None. Got {self.divergence!r} instead.")


def check_features(X, network, name: str) -> np.ndarray:
    """Check features for a built network and return them ready for it.

    Parameters
    ----------
    X : array_like
        Real numbers, shape (n_samples >= 1, *network.input_shape), all finite.
    network : core.network.Sequential
        A built network.
    name : str
        Name of the argument, quoted in the error messages.

    Returns
    -------
    ndarray
        X as a C-contiguous array of the network dtype.

    Raises
    ------
    TypeError
        If X does not hold real numbers.
    ValueError
        If its shape does not match the network input, or it contains NaN or inf.
    """
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"The '{name}' argument of fit must hold real numbers. Got dtype {X.dtype} instead.")
    if X.ndim < 2 or X.shape[1:] != tuple(network.input_shape) or len(X) == 0:
        raise ValueError(
            f"The '{name}' argument of fit must have shape (n_samples >= 1, {', '.join(map(str, network.input_shape))})"
            f" to match the network input. Got shape {X.shape} instead."
        )
    X = np.ascontiguousarray(X, dtype=network.dtype)
    if not np.isfinite(X).all():
        raise ValueError(f"The '{name}' argument of fit contains NaN or inf (or values too large for {X.dtype}).")
    return X


def check_targets(y, n_samples: int, network, loss, name: str) -> np.ndarray:
    """Return y ready for the loss: integer labels as intp, anything else in the network dtype.

    Shapes and label ranges are checked by the loss itself, on a zero output of the right shape, so that the
    rules live in one place (core.losses); its ValueError is re-raised naming ``name``.

    Parameters
    ----------
    y : array_like
        Numeric targets, one row per sample, in a form the loss accepts.
    n_samples : int
        Number of samples (rows) y must have.
    network : core.network.Sequential
        A built network (its output shape and dtype are used).
    loss : core.losses.Loss
        The loss the targets are for.
    name : str
        Name of the argument, quoted in the error messages.

    Returns
    -------
    ndarray
        Class labels as intp (1-D targets of :class:`core.losses.SoftmaxCrossEntropy`), else a C-contiguous
        array of the network dtype.

    Raises
    ------
    TypeError
        If y does not hold numbers.
    ValueError
        If y has the wrong number of rows, contains NaN or inf, or does not fit the loss.
    """
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"The '{name}' argument of fit must hold numbers. Got dtype {y.dtype} instead.")
    if y.ndim == 0 or len(y) != n_samples:
        raise ValueError(f"The '{name}' argument of fit must have {n_samples} rows, one per sample. "
                         f"Got shape {y.shape} instead.")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError(f"The '{name}' argument of fit contains NaN or inf.")
    try:
        loss.forward(np.zeros((n_samples, *network.output_shape), dtype=network.dtype), y)
    except ValueError as exc:
        raise ValueError(f"The '{name}' argument of fit does not fit the loss {type(loss).__name__}: {exc}") from exc
    if y.ndim == 1 and isinstance(loss, SoftmaxCrossEntropy):
        return y.astype(np.intp)  # class labels (integral, checked by the loss)
    y = np.ascontiguousarray(y, dtype=network.dtype)
    return y


def split_validation(X, y, fraction: float, rng: np.random.Generator):
    """Hold out round(fraction * n) random samples (at least 1, leaving at least 1) for validation.

    Parameters
    ----------
    X : ndarray
        Features, n >= 2 rows.
    y : ndarray
        Targets, one row per sample.
    fraction : float
        Fraction of the samples to hold out, in (0, 1).
    rng : numpy.random.Generator
        Draws the random permutation.

    Returns
    -------
    X : ndarray
        The training features.
    y : ndarray
        The training targets.
    X_val : ndarray
        The held-out features.
    y_val : ndarray
        The held-out targets.

    Raises
    ------
    ValueError
        If there are fewer than 2 samples.
    """
    n = len(X)
    if n < 2:
        raise ValueError(f"validation_fraction needs at least 2 samples to split. Got {n}.")
    n_val = min(max(int(round(fraction * n)), 1), n - 1)
    order = rng.permutation(n)
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], X[val], y[val]


def check_sample_weight(sample_weight, n_samples: int, name: str = "sample_weight") -> np.ndarray | None:
    """Check sample weights and return them as float64, or None.

    Parameters
    ----------
    sample_weight : array_like or None
        One weight per sample, shape (n_samples,), finite, >= 0, not all 0.
    n_samples : int
        Number of samples.
    name : str, default "sample_weight"
        Name of the argument, quoted in the error messages.

    Returns
    -------
    ndarray or None
        The weights, float64 (n_samples,); None for None.

    Raises
    ------
    ValueError
        If the shape is wrong, or a weight is negative, NaN or inf, or all weights are zero.
    """
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf" or w.shape != (n_samples,):
        raise ValueError(f"The '{name}' argument must be numbers of shape ({n_samples},), one weight per sample. "
                         f"Got {w.dtype} of shape {w.shape} instead.")
    w = w.astype(np.float64)
    if not np.isfinite(w).all():
        raise ValueError(f"The '{name}' argument contains NaN or inf; weights must be finite and >= 0.")
    if (w < 0).any():
        raise ValueError(f"The '{name}' argument has negative weights (min {w.min():g}); weights must be >= 0.")
    if not w.any():
        raise ValueError(f"The '{name}' argument is all zero; at least one weight must be non-zero.")
    return w


def _prepare_data(network, loss, X, y, validation_data, validation_fraction, rng, sample_weight=None):
    """Validate and cast the training (and validation) data and weights; build the network on X if needed."""
    X = np.asarray(X)
    if not network.built:
        if X.ndim < 2:
            raise ValueError(f"The 'X' argument of fit must have shape (n_samples, ...). Got shape {X.shape} instead.")
        network.build(X.shape[1:], rng)
    X = check_features(X, network, "X")
    y = check_targets(y, len(X), network, loss, "y")
    w = check_sample_weight(sample_weight, len(X))
    if w is not None and validation_fraction is not None:
        X_train, train, X_val, val = split_validation(X, np.arange(len(X)), validation_fraction, rng)
        if not w[val].any() or not w[train].any():
            part = "validation" if not w[val].any() else "training"
            raise ValueError(f"The sample weights of the {part} split are all zero; use another random state or "
                             f"validation_fraction.")
        return X_train, y[train], X_val, y[val], w[train], w[val]
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise InvalidParameterError(f"The 'validation_data' parameter of fit must be a pair (X_val, y_val). "
                                        f"Got {type(validation_data).__name__} instead.")
        X_val = check_features(validation_data[0], network, "validation_data[0]")
        return X, y, X_val, check_targets(validation_data[1], len(X_val), network, loss, "validation_data[1]"), w, None
    if validation_fraction is not None:
        return (*split_validation(X, y, validation_fraction, rng), None, None)
    return X, y, None, None, w, None


def check_callbacks(callbacks, owner: str) -> list:
    """Return ``callbacks`` as a list of :class:`core.callbacks.Callback`.

    Parameters
    ----------
    callbacks : sequence of Callback
        The callbacks to check.
    owner : str
        Name of the function or class that received them, quoted in the error message.

    Returns
    -------
    list of Callback
        The callbacks, in order.

    Raises
    ------
    InvalidParameterError
        If ``callbacks`` is not a sequence of Callback instances.
    """
    try:
        callbacks = list(callbacks)
    except TypeError:
        raise InvalidParameterError(f"The 'callbacks' parameter of {owner} must be a sequence of Callback "
                                    f"instances. Got {callbacks!r} instead.") from None
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise InvalidParameterError(f"The 'callbacks' parameter of {owner} must hold Callback instances. "
                                        f"Got {cb!r} instead.")
    return callbacks


def fit(network, loss, optimizer, X, y, settings: TrainingSettings | None = None, *, rng=None, validation_data=None,
        callbacks=(), sample_weight=None) -> History:
    """Train ``network`` in place on (X, y) by minibatch gradient descent; return the :class:`History`.

    Parameters
    ----------
    network : core.network.Sequential
        Trained in place; built on ``X.shape[1:]`` with ``rng`` (float32) if not built yet.
    loss : Loss or str
        A loss, or a name from ``core.losses.LOSSES`` ("mse", "mae", "huber", "softmax_cross_entropy",
        "binary_cross_entropy").
    optimizer : Optimizer or str
        An optimizer, or a name from ``core.optim.OPTIMIZERS`` (default hyper-parameters). Its state is kept
        between calls, so a second ``fit`` continues training.
    X : array_like
        Shape (n_samples, *network.input_shape), finite; cast once to the network dtype.
    y : array_like
        Shape (n_samples, ...) as the loss expects: integer labels (n_samples,) or rows (n_samples, n_classes)
        for softmax cross-entropy, (n_samples,) or (n_samples, 1) in [0, 1] for binary cross-entropy, the output
        shape (or (n_samples,) for one output) for mse.
    settings : TrainingSettings or None, default None
        None means ``TrainingSettings()``: 100 epochs, batches of 32, no validation split, no metrics.
    rng : None, int, SeedSequence, Generator or RandomState, default None
        Anything :func:`core.as_generator` takes (an int must be >= 0); drives the initialisation of an unbuilt
        network, the validation split and the shuffling, in that order.
    validation_data : tuple (X_val, y_val) or None, default None
        A fixed validation set (not with ``settings.validation_fraction``).
    callbacks : sequence of Callback, default ()
        :class:`core.callbacks.Callback` instances, e.g. ``[EarlyStopping(patience=10), ProgressBar("fit")]``;
        called in this order (EarlyStopping restores the best weights in its ``on_train_end``, so the callbacks
        after it see the restored weights there).
    sample_weight : array_like or None, default None
        One weight per sample of X, shape (n_samples,), finite, >= 0, not all 0: each batch's loss (and gradient)
        is the weighted mean over its samples, so integer weights act as repeated rows within a batch. A
        ``validation_fraction`` split splits the weights too (the validation loss is weighted; a split whose
        weights are all zero raises ValueError); ``validation_data`` is unweighted. The loss must accept a
        ``sample_weight`` keyword (every loss of :mod:`core.losses` does). None: unweighted, bit-identical to
        before.

    Returns
    -------
    History
        The record of the epochs (``best_epoch``: lowest monitored loss, or EarlyStopping's best;
        ``stopped_epoch``; ``restored_best``).

    Raises
    ------
    InvalidParameterError
        Before training, for invalid arguments (the message names the argument).
    ValueError, TypeError
        For data that do not fit the network or the loss.
    TrainingDivergedError
        If the loss or a parameter becomes NaN/inf, or grows past a limit of ``settings.divergence`` (the
        message names what grew, by how much, the epoch and batch, and the optimizer setting to change).
    """
    settings = TrainingSettings() if settings is None else settings
    if not isinstance(settings, TrainingSettings):
        raise InvalidParameterError(f"The 'settings' parameter of fit must be a TrainingSettings or None. "
                                    f"Got {settings!r} instead.")
    if settings.validation_fraction is not None and validation_data is not None:
        raise InvalidParameterError("fit got both 'validation_data' and settings.validation_fraction; pass at "
                                    "most one.")
    callbacks = check_callbacks(callbacks, "fit")
    metric_names = list(settings.metrics)
    train_metrics = [get_metric(name) for name in metric_names]
    if not isinstance(network, Sequential):
        raise InvalidParameterError(f"The 'network' parameter of fit must be a core.network.Sequential. "
                                    f"Got {network!r} instead.")
    loss = get_loss(loss) if isinstance(loss, str) else loss
    if not isinstance(loss, Loss):
        raise InvalidParameterError(f"The 'loss' parameter of fit must be a core.losses.Loss or a loss name. "
                                    f"Got {loss!r} instead.")
    optimizer = get_optimizer(optimizer)
    rng = as_generator(rng, "rng", "fit")

    X, y, X_val, y_val, w, w_val = _prepare_data(network, loss, X, y, validation_data, settings.validation_fraction,
                                                 rng, sample_weight)

    history = History(metrics={name: [] for name in metric_names})
    if X_val is not None:
        history.metrics.update({f"val_{name}": [] for name in metric_names})
    parameters = network.parameters()
    n_train = len(X)
    batch_size = min(settings.batch_size, n_train)
    context = TrainingContext(network, loss, optimizer, history, settings.epochs, batch_size, n_train,
                              0 if X_val is None else len(X_val))
    watch = _DivergenceWatch(settings.divergence, network, loss, optimizer, history, X, y, X_val, y_val)
    try:
        for cb in callbacks:
            cb.on_train_begin(context)
        _run_epochs(network, loss, optimizer, parameters, _BatchBuffers(X, y, batch_size, w), rng, settings.epochs,
                    metric_names, train_metrics, X_val, y_val, history, callbacks, watch, w_val)
    except BaseException:
        for cb in callbacks:
            if isinstance(cb, ProgressBar):
                cb.close()
        raise
    for cb in callbacks:
        cb.on_train_end(history)
    watch.end(history)  # the validation loss of the weights returned (EarlyStopping may have restored them)
    return history


def _run_epochs(network, loss, optimizer, parameters, batches, rng, epochs, metric_names, train_metrics, X_val,
                y_val, history, callbacks, watch, w_val=None) -> None:
    """The epoch loop of :func:`fit`: train, validate, record, call the callbacks, stop when one asks."""
    best_loss = math.inf
    for epoch in range(1, epochs + 1):
        learning_rate = optimizer.set_epoch(epoch - 1)
        logs = {"loss": _train_epoch(network, loss, optimizer, parameters, batches, rng.permutation(batches.n),
                                     train_metrics, watch, epoch),
                "learning_rate": learning_rate}
        logs.update({name: m.result() for name, m in zip(metric_names, train_metrics)})
        if X_val is not None:
            logs.update(_evaluate(network, loss, X_val, y_val, metric_names, watch, epoch, w_val))
        history.record(epoch, logs)
        monitored = logs["val_loss"] if X_val is not None else logs["loss"]
        if monitored < best_loss:
            best_loss, history.best_epoch = monitored, epoch
        logger.debug("epoch %d: %s", epoch, logs)
        if any([bool(cb.on_epoch_end(epoch, dict(logs))) for cb in callbacks]):  # a list: every callback runs
            history.stopped_epoch = epoch
            return


class _BatchBuffers:
    """Reused arrays for the minibatches: ``gather(index)`` copies X[index], y[index] into them (no allocation);
    ``weights(index)`` returns the sample weights of the batch (None when unweighted)."""

    def __init__(self, X, y, batch_size, sample_weight=None):
        self.X, self.y, self.batch_size, self.n = X, y, batch_size, len(X)
        self.sample_weight = sample_weight
        self.full = (np.empty((batch_size, *X.shape[1:]), X.dtype), np.empty((batch_size, *y.shape[1:]), y.dtype))
        n_tail = len(X) % batch_size
        self.tail = (np.empty((n_tail, *X.shape[1:]), X.dtype), np.empty((n_tail, *y.shape[1:]), y.dtype))

    def gather(self, index):
        X_batch, y_batch = self.full if len(index) == self.batch_size else self.tail
        # mode="clip" because the indices are valid; it also spares take its internal buffering (the method, not
        # np.take: one Python-level dispatch fewer per call)
        self.X.take(index, axis=0, out=X_batch, mode="clip")
        self.y.take(index, axis=0, out=y_batch, mode="clip")
        return X_batch, y_batch

    def weights(self, index):
        return None if self.sample_weight is None else self.sample_weight[index]


# The loop detects non-finite losses and parameters itself and raises TrainingDivergedError naming the epoch;
# numpy's overflow/invalid RuntimeWarnings on the way there would only repeat that, less precisely.
_DIVERGENCE_CHECKED = {"over": "ignore", "invalid": "ignore", "divide": "ignore"}


def _train_epoch(network, loss, optimizer, parameters, batches, order, metrics, watch, epoch) -> float:
    """One pass over the samples in ``order``; return the sample-weighted mean batch loss (after ``watch``'s
    checks of every batch loss, then of the parameters and the mean)."""
    for metric in metrics:
        metric.reset()
    loss_sum, weight_sum = 0.0, 0.0
    batch_size = batches.batch_size
    with np.errstate(**_DIVERGENCE_CHECKED):
        for batch, start in enumerate(range(0, len(order), batch_size), start=1):
            index = order[start:start + batch_size]
            X_batch, y_batch = batches.gather(index)
            w_batch = batches.weights(index)
            output = network.forward(X_batch, training=True)  # (batch, *output_shape)
            # y_batch passed check_targets for this loss
            batch_loss, d_output = loss.forward_backward(output, y_batch, w_batch, checked_target=True)
            watch.batch(batch_loss, epoch, batch)
            for metric in metrics:
                metric.update(output, y_batch)
            rate = optimizer.layerwise_rate()
            if rate is None:
                network.backward(d_output, input_grad=False)
                optimizer.step(parameters)
            else:  # plain SGD: each layer stepped right after its backward (the same numbers, fewer cache misses)
                network.backward(d_output, input_grad=False, sgd_rate=rate)
                optimizer.count_step()
            batch_weight = len(index) if w_batch is None else float(w_batch.sum())
            loss_sum += batch_loss * batch_weight
            weight_sum += batch_weight
        mean_loss = loss_sum / weight_sum
        watch.epoch(epoch, mean_loss)
    return mean_loss


def _evaluate(network, loss, X_val, y_val, metric_names, watch, epoch, w_val=None) -> dict:
    """Validation loss (weighted by ``w_val`` if given) and metrics ("val_<name>") with the current weights."""
    with np.errstate(**_DIVERGENCE_CHECKED):
        output = network.predict(X_val)
        logs = {"val_loss": float(loss(output, y_val, w_val))}
    watch.validation(epoch, logs["val_loss"])
    for name in metric_names:
        logs[f"val_{name}"] = evaluate_metric(name, output, y_val)
    return logs
