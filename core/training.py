"""The minibatch training loop: shuffling, validation, history, early stopping, callbacks, divergence detection.

One epoch draws a permutation of the training samples from the Generator and walks through it in slices of
``batch_size`` (the last batch may be smaller); each batch is forward -> loss -> backward -> ``optimizer.step``.
The training loss of an epoch is the sample-weighted mean of its batch losses (the weights move during the epoch,
as in Keras and scikit-learn's ``loss_curve_``); the data loss only, without the L2 penalty. Validation loss and
metrics use the weights at the end of the epoch. Epochs are numbered from 1 in the history and in messages; the
learning-rate schedule receives the number of completed epochs (0 for the first).
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from core.losses import Loss, SoftmaxCrossEntropy, get_loss
from core.metrics import evaluate_metric, get_metric
from core.network import Sequential, as_generator
from core.optim import get_optimizer
from core.schedules import check_number

__all__ = ["TrainingDivergedError", "History", "Callback", "TrainingContext", "fit", "check_features", "check_targets"]

logger = logging.getLogger(__name__)


class TrainingDivergedError(FloatingPointError):
    """The loss or the parameters became NaN/inf. ``epoch`` (1-based), ``batch`` (1-based or None), ``history``."""

    def __init__(self, message: str, epoch: int, batch: int | None, history: "History"):
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch
        self.history = history


@dataclass
class History:
    """Per-epoch record of one ``fit`` call.

    Attributes
    ----------
    epoch : list[int], epoch numbers (1-based).
    loss : list[float], mean training loss per epoch.
    val_loss : list[float], validation loss per epoch (empty without validation data).
    metrics : dict[str, list[float]], e.g. "accuracy" (training batches) and "val_accuracy" (validation set).
    learning_rate : list[float], learning rate used in each epoch.
    best_epoch : int or None, epoch with the lowest monitored loss (val_loss if validating, else loss).
    stopped_epoch : int or None, epoch after which early stopping or a callback stopped training (None = ran out).
    restored_best : bool, whether the weights of ``best_epoch`` were restored at the end.
    """

    epoch: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    learning_rate: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_epoch: int | None = None
    restored_best: bool = False

    def record(self, epoch: int, logs: dict) -> None:
        """Append the values of one epoch (``logs`` as passed to ``Callback.on_epoch_end``)."""
        self.epoch.append(epoch)
        self.loss.append(logs["loss"])
        self.learning_rate.append(logs["learning_rate"])
        if "val_loss" in logs:
            self.val_loss.append(logs["val_loss"])
        for name, values in self.metrics.items():
            values.append(logs[name])

    def to_dict(self) -> dict:
        """A JSON-able dict of all fields."""
        return asdict(self)


@dataclass
class TrainingContext:
    """What a callback may look at (and, with care, change) when training begins."""

    network: object
    loss: object
    optimizer: object
    history: History
    epochs: int
    batch_size: int
    n_train: int
    n_val: int


class Callback:
    """Hooks called by :func:`fit`; override any of them. ``on_epoch_end`` returning True stops training.

    ``logs`` holds "loss", "learning_rate", and when available "val_loss" and each metric ("accuracy",
    "val_accuracy", ...), all floats for the epoch just finished.
    """

    def on_train_begin(self, context: TrainingContext) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict) -> bool | None:
        return None

    def on_train_end(self, history: History) -> None:
        pass


def _diverged(history, epoch, batch, what, value, optimizer):
    where = f"epoch {epoch}" + ("" if batch is None else f", batch {batch}")
    message = (
        f"Training diverged at {where}: {what} is {value}. Try a smaller learning rate (currently "
        f"{optimizer.learning_rate:g}), gradient clipping (clip_norm=...), or standardising the inputs."
    )
    return TrainingDivergedError(message, epoch, batch, history)


def check_features(X, network, name: str) -> np.ndarray:
    """Return X as a C-contiguous array of the network dtype, shape (n, *network.input_shape), all finite."""
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
    """Hold out round(fraction * n) random samples (at least 1, leaving at least 1): X, y, X_val, y_val."""
    n = len(X)
    if n < 2:
        raise ValueError(f"validation_fraction needs at least 2 samples to split. Got {n}.")
    n_val = min(max(int(round(fraction * n)), 1), n - 1)
    order = rng.permutation(n)
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], X[val], y[val]


def _prepare_data(network, loss, X, y, validation_data, validation_fraction, rng):
    """Validate and cast the training (and validation) data; build the network on X if needed."""
    X = np.asarray(X)
    if not network.built:
        if X.ndim < 2:
            raise ValueError(f"The 'X' argument of fit must have shape (n_samples, ...). Got shape {X.shape} instead.")
        network.build(X.shape[1:], rng)
    X = check_features(X, network, "X")
    y = check_targets(y, len(X), network, loss, "y")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError(f"The 'validation_data' argument of fit must be a pair (X_val, y_val). "
                            f"Got {type(validation_data).__name__} instead.")
        X_val = check_features(validation_data[0], network, "validation_data[0]")
        return X, y, X_val, check_targets(validation_data[1], len(X_val), network, loss, "validation_data[1]")
    if validation_fraction is not None:
        return split_validation(X, y, validation_fraction, rng)
    return X, y, None, None


def fit(network, loss, optimizer, X, y, *, epochs=100, batch_size=32, rng=None, validation_data=None,
        validation_fraction=None, early_stopping=False, patience=10, min_delta=0.0, restore_best=True,
        metrics=(), callbacks=(), progress=False, progress_desc=None) -> History:
    """Train ``network`` in place on (X, y) by minibatch gradient descent; return the :class:`History`.

    Parameters
    ----------
    network : core.network.Sequential. Built on ``X.shape[1:]`` with ``rng`` if not built yet.
    loss : Loss or name from ``core.losses.LOSSES`` ("mse", "softmax_cross_entropy", "binary_cross_entropy").
    optimizer : Optimizer or name from ``core.optim.OPTIMIZERS`` (default hyper-parameters). Its state is kept
        between calls, so a second ``fit`` continues training.
    X : array-like, shape (n_samples, *network.input_shape), finite; cast once to the network dtype.
    y : array-like, shape (n_samples, ...) as the loss expects: integer labels (n_samples,) or rows
        (n_samples, n_classes) for softmax cross-entropy, (n_samples,) or (n_samples, 1) in [0, 1] for binary
        cross-entropy, the output shape (or (n_samples,) for one output) for mse.
    epochs : int >= 1, maximum number of passes over the training set.
    batch_size : int >= 1, samples per gradient step (larger than n_samples means full batch).
    rng : numpy.random.Generator, int seed or None; drives shuffling, the validation split and (if unbuilt) init.
    validation_data : (X_val, y_val) or None.
    validation_fraction : float in (0, 1) or None, fraction of (X, y) held out at random for validation
        (not together with ``validation_data``).
    early_stopping : bool, stop when the monitored loss (val_loss, or the training loss without validation) has
        not improved by more than ``min_delta`` for ``patience`` epochs.
    patience : int >= 1.  min_delta : float >= 0.
    restore_best : bool, with early stopping, put back the weights of the best epoch at the end.
    metrics : sequence of names from ``core.metrics.METRICS`` ("accuracy", "mae", "r2").
    callbacks : sequence of :class:`Callback`.
    progress : bool, show a tqdm progress bar over epochs.  progress_desc : str or None, its label.

    Raises
    ------
    ValueError / TypeError before training for invalid arguments (the message names the argument);
    TrainingDivergedError if the loss or a parameter becomes NaN/inf (the message names the epoch and batch).
    """
    check_number(epochs, "epochs", "fit", low=1, integer=True)
    check_number(batch_size, "batch_size", "fit", low=1, integer=True)
    check_number(patience, "patience", "fit", low=1, integer=True)
    check_number(min_delta, "min_delta", "fit", low=0)
    if validation_fraction is not None:
        check_number(validation_fraction, "validation_fraction", "fit", low=0, high=1, low_closed=False,
                     high_closed=False)
        if validation_data is not None:
            raise ValueError("fit got both 'validation_data' and 'validation_fraction'; pass at most one.")
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"The 'callbacks' parameter of fit must hold Callback instances. Got {cb!r} instead.")
    if isinstance(metrics, str):
        metrics = (metrics,)
    metric_names = list(metrics)
    train_metrics = [get_metric(name) for name in metric_names]
    if not isinstance(network, Sequential):
        raise TypeError(f"The 'network' argument of fit must be a core.network.Sequential. Got {network!r} instead.")
    loss = get_loss(loss) if isinstance(loss, str) else loss
    if not isinstance(loss, Loss):
        raise TypeError(f"The 'loss' argument of fit must be a core.losses.Loss or a loss name. Got {loss!r} instead.")
    optimizer = get_optimizer(optimizer)
    rng = as_generator(rng, "rng")

    X, y, X_val, y_val = _prepare_data(network, loss, X, y, validation_data, validation_fraction, rng)

    history = History(metrics={name: [] for name in metric_names})
    if X_val is not None:
        history.metrics.update({f"val_{name}": [] for name in metric_names})
    parameters = network.parameters()
    n_train = len(X)
    batch_size = min(batch_size, n_train)
    context = TrainingContext(network, loss, optimizer, history, epochs, batch_size, n_train,
                              0 if X_val is None else len(X_val))
    for cb in callbacks:
        cb.on_train_begin(context)

    batches = _BatchBuffers(X, y, batch_size)
    best_loss, best_weights, since_best = math.inf, None, 0
    from tqdm.auto import tqdm  # deferred: no work at import time

    with tqdm(total=epochs, desc=progress_desc, disable=not progress, unit="epoch", leave=False) as bar:
        for epoch in range(1, epochs + 1):
            learning_rate = optimizer.set_epoch(epoch - 1)
            logs = {"loss": _train_epoch(network, loss, optimizer, parameters, batches, rng.permutation(n_train),
                                         train_metrics, history, epoch),
                    "learning_rate": learning_rate}
            logs.update({name: m.result() for name, m in zip(metric_names, train_metrics)})
            if X_val is not None:
                logs.update(_evaluate(network, loss, X_val, y_val, metric_names, optimizer, history, epoch))
            history.record(epoch, logs)
            monitored = logs["val_loss"] if X_val is not None else logs["loss"]
            if monitored < best_loss - min_delta:
                best_loss, since_best, history.best_epoch = monitored, 0, epoch
                if early_stopping and restore_best:
                    best_weights = _snapshot(parameters, best_weights)
            else:
                since_best += 1
            bar.update(1)
            bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if k in ("loss", "val_loss")}, refresh=False)
            logger.debug("epoch %d: %s", epoch, logs)
            stop = any([bool(cb.on_epoch_end(epoch, dict(logs))) for cb in callbacks])
            if early_stopping and since_best >= patience:
                logger.info("Early stopping at epoch %d: no improvement since epoch %d.", epoch, history.best_epoch)
                stop = True
            if stop:
                history.stopped_epoch = epoch
                break

    if best_weights is not None and history.best_epoch != history.epoch[-1]:
        for p, saved in zip(parameters, best_weights):
            np.copyto(p.value, saved)
        history.restored_best = True
    for cb in callbacks:
        cb.on_train_end(history)
    return history


class _BatchBuffers:
    """Reused arrays for the minibatches: ``gather(index)`` copies X[index], y[index] into them (no allocation)."""

    def __init__(self, X, y, batch_size):
        self.X, self.y, self.batch_size = X, y, batch_size
        self.full = (np.empty((batch_size, *X.shape[1:]), X.dtype), np.empty((batch_size, *y.shape[1:]), y.dtype))
        n_tail = len(X) % batch_size
        self.tail = (np.empty((n_tail, *X.shape[1:]), X.dtype), np.empty((n_tail, *y.shape[1:]), y.dtype))

    def gather(self, index):
        X_batch, y_batch = self.full if len(index) == self.batch_size else self.tail
        # mode="clip" because the indices are valid; it also spares np.take its internal buffering
        np.take(self.X, index, axis=0, out=X_batch, mode="clip")
        np.take(self.y, index, axis=0, out=y_batch, mode="clip")
        return X_batch, y_batch


# The loop detects non-finite losses and parameters itself and raises TrainingDivergedError naming the epoch;
# numpy's overflow/invalid RuntimeWarnings on the way there would only repeat that, less precisely.
_DIVERGENCE_CHECKED = {"over": "ignore", "invalid": "ignore", "divide": "ignore"}


def _train_epoch(network, loss, optimizer, parameters, batches, order, metrics, history, epoch) -> float:
    """One pass over the samples in ``order``; return the sample-weighted mean batch loss."""
    for metric in metrics:
        metric.reset()
    loss_sum = 0.0
    batch_size = batches.batch_size
    with np.errstate(**_DIVERGENCE_CHECKED):
        for batch, start in enumerate(range(0, len(order), batch_size), start=1):
            index = order[start:start + batch_size]
            X_batch, y_batch = batches.gather(index)
            output = network.forward(X_batch, training=True)  # (batch, *output_shape)
            batch_loss = float(loss.forward(output, y_batch))
            if not math.isfinite(batch_loss):
                raise _diverged(history, epoch, batch, "the training loss", batch_loss, optimizer)
            for metric in metrics:
                metric.update(output, y_batch)
            network.backward(loss.backward(), input_grad=False)
            optimizer.step(parameters)
            loss_sum += batch_loss * len(index)
        for p in parameters:
            if not np.isfinite(p.value).all():
                raise _diverged(history, epoch, None, f"parameter {p.name!r}", "not finite", optimizer)
    return loss_sum / len(order)


def _evaluate(network, loss, X_val, y_val, metric_names, optimizer, history, epoch) -> dict:
    """Validation loss and metrics ("val_<name>") with the current weights."""
    with np.errstate(**_DIVERGENCE_CHECKED):
        output = network.predict(X_val)
        logs = {"val_loss": float(loss.forward(output, y_val))}
    if not math.isfinite(logs["val_loss"]):
        raise _diverged(history, epoch, None, "the validation loss", logs["val_loss"], optimizer)
    for name in metric_names:
        logs[f"val_{name}"] = evaluate_metric(name, output, y_val)
    return logs


def _snapshot(parameters, saved):
    """Copy the parameter values into ``saved`` (allocated on the first call); return it."""
    if saved is None:
        return [p.value.copy() for p in parameters]
    for p, target in zip(parameters, saved):
        np.copyto(target, p.value)
    return saved
