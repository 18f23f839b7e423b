"""What :func:`core.training.fit` records and calls: the :class:`History`, and the callbacks.

A callback's hooks are called in this order: ``on_train_begin(context)`` once, ``on_epoch_end(epoch, logs)``
after every epoch (returning True stops training after that epoch), ``on_train_end(history)`` once when training
ends normally (not when it raises). Callbacks are called in the order given to ``fit``.

Two callbacks come with the package: :class:`EarlyStopping` (stop when the monitored loss stops improving, restore
the best weights) and :class:`ProgressBar` (a tqdm bar over the epochs, on terminals only).

Divergence is not a callback, because it must never be left out by accident: see :mod:`core.divergence`.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import asdict, dataclass, field

import numpy as np

from core._validation import InvalidParameterError, check_bool, check_number

__all__ = ["History", "TrainingContext", "Callback", "EarlyStopping", "ProgressBar"]

logger = logging.getLogger("core.training")


@dataclass
class History:
    """Per-epoch record of one ``fit`` call (a dataclass: each parameter is kept as the attribute of that name).

    Parameters
    ----------
    epoch : list of int, default []
        Epoch numbers (1-based).
    loss : list of float, default []
        Mean training loss per epoch.
    val_loss : list of float, default []
        Validation loss per epoch (empty without validation data).
    metrics : dict of str to list of float, default {}
        Per-epoch metric values, e.g. "accuracy" (training batches) and "val_accuracy" (validation set).
    learning_rate : list of float, default []
        Learning rate used in each epoch.
    best_epoch : int or None, default None
        Epoch with the lowest monitored loss (val_loss if validating, else loss); with :class:`EarlyStopping`,
        the last epoch that improved on the best so far by more than its ``min_delta``.
    stopped_epoch : int or None, default None
        Epoch after which a callback (e.g. EarlyStopping) stopped training (None = all epochs ran).
    restored_best : bool, default False
        Whether the weights of ``best_epoch`` were restored at the end (EarlyStopping).
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
        """Append the values of one epoch.

        Parameters
        ----------
        epoch : int
            The epoch number (1-based).
        logs : dict of str to float
            As passed to ``Callback.on_epoch_end``: "loss", "learning_rate", and when available "val_loss" and
            every metric in ``metrics``.
        """
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
    """What a callback may look at (and, with care, change) when training begins.

    A dataclass: each parameter is kept as the attribute of that name.

    Parameters
    ----------
    network : core.network.Sequential
        The network being trained (built).
    loss : core.losses.Loss
        The loss.
    optimizer : core.optim.Optimizer
        The optimizer.
    history : History
        Filled as training goes.
    epochs : int
        The maximum number of epochs.
    batch_size : int
        The effective batch size (at most ``n_train``).
    n_train : int
        Number of training samples.
    n_val : int
        Number of validation samples (0 without validation).
    """

    network: object
    loss: object
    optimizer: object
    history: History
    epochs: int
    batch_size: int
    n_train: int
    n_val: int


class Callback:
    """Hooks called by :func:`core.training.fit`; override any of them. ``on_epoch_end`` returning True stops
    training.

    ``logs`` holds "loss", "learning_rate", and when available "val_loss" and each metric ("accuracy",
    "val_accuracy", ...), all floats for the epoch just finished.
    """

    def on_train_begin(self, context: TrainingContext) -> None:
        """Called once before the first epoch.

        Parameters
        ----------
        context : TrainingContext
            The network, loss, optimizer, history and sizes of this training.
        """

    def on_epoch_end(self, epoch: int, logs: dict) -> bool | None:
        """Called after every epoch.

        Parameters
        ----------
        epoch : int
            The epoch just finished (1-based).
        logs : dict of str to float
            "loss", "learning_rate", and when available "val_loss" and each metric.

        Returns
        -------
        bool or None
            True stops training after this epoch.
        """
        return None

    def on_train_end(self, history: History) -> None:
        """Called once when training ends normally (not when it raises).

        Parameters
        ----------
        history : History
            The record of the epochs run.
        """


class EarlyStopping(Callback):
    """Stop when the monitored loss has not improved by more than ``min_delta`` for ``patience`` epochs.

    The monitored loss is "val_loss" when ``fit`` validates (``validation_data`` or a ``validation_fraction``),
    else the training "loss". An epoch improves when its loss is below ``best - min_delta``, ``best`` being the
    loss of the last improving epoch (inf at first); training stops after the epoch that makes ``patience``
    epochs in a row without improvement. The callback sets ``history.best_epoch`` to the last improving epoch.

    Parameters
    ----------
    patience : int, default 10
        Epochs without improvement before stopping, >= 1.
    min_delta : float, default 0.0
        The decrease of the monitored loss that counts as an improvement (loss units), >= 0.
    restore_best : bool, default True
        At the end of training (stopped early or not) put back the weights of the best epoch when it is not the
        last one (``history.restored_best`` is then True).

    Notes
    -----
    One instance may serve several ``fit`` calls; its state is reset by ``on_train_begin``.
    """

    def __init__(self, patience: int = 10, min_delta: float = 0.0, restore_best: bool = True):
        self.patience = int(check_number(patience, "patience", "EarlyStopping", low=1, integer=True))
        self.min_delta = float(check_number(min_delta, "min_delta", "EarlyStopping", low=0))
        self.restore_best = check_bool(restore_best, "restore_best", "EarlyStopping")

    def on_train_begin(self, context: TrainingContext) -> None:
        self._parameters = context.network.parameters()
        self._history = context.history
        self.best, self.best_epoch, self.wait = np.inf, None, 0
        self._saved = None

    def on_epoch_end(self, epoch: int, logs: dict) -> bool:
        monitored = logs["val_loss"] if "val_loss" in logs else logs["loss"]
        if monitored < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = monitored, epoch, 0
            if self.restore_best:
                self._snapshot()
        else:
            self.wait += 1
        self._history.best_epoch = self.best_epoch
        if self.wait >= self.patience:
            logger.info("Early stopping at epoch %d: no improvement since epoch %d.", epoch, self.best_epoch)
            return True
        return False

    def on_train_end(self, history: History) -> None:
        if self._saved is not None and history.epoch and self.best_epoch != history.epoch[-1]:
            for p, saved in zip(self._parameters, self._saved):
                np.copyto(p.value, saved)
            history.restored_best = True
        self._saved = None  # free the copy

    def _snapshot(self) -> None:
        """Copy the parameter values (into the arrays of the previous copy, allocated once)."""
        if self._saved is None:
            self._saved = [p.value.copy() for p in self._parameters]
        else:
            for p, target in zip(self._parameters, self._saved):
                np.copyto(target, p.value)

    def __repr__(self) -> str:
        return f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, restore_best={self.restore_best})"


class ProgressBar(Callback):
    """A tqdm progress bar over the epochs on ``sys.stderr``, showing the last loss (and val_loss).

    Parameters
    ----------
    description : str or None, default None
        The bar's label.
    enabled : bool or None, default None
        None: show the bar only when ``sys.stderr`` is a terminal (``isatty``), so that no carriage-return frames
        end up in a pipe or a log file. True/False: always/never.
    """

    def __init__(self, description: str | None = None, enabled: bool | None = None):
        if description is not None and not isinstance(description, str):
            raise InvalidParameterError(f"The 'description' parameter of ProgressBar must be a str or None. "
                                        f"Got {description!r} instead.")
        if enabled is not None:
            check_bool(enabled, "enabled", "ProgressBar")
        self.description, self.enabled = description, enabled
        self._bar = None

    def _shown(self, stream) -> bool:
        if self.enabled is not None:
            return bool(self.enabled)
        isatty = getattr(stream, "isatty", None)
        try:
            return bool(isatty()) if callable(isatty) else False
        except (OSError, ValueError):  # closed or detached stream
            return False

    def on_train_begin(self, context: TrainingContext) -> None:
        self.close()
        stream = sys.stderr
        if self._shown(stream):
            from tqdm import tqdm  # deferred: importing core stays light

            self._bar = tqdm(total=context.epochs, desc=self.description, unit="epoch", leave=False, file=stream)

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if k in ("loss", "val_loss")},
                                  refresh=False)

    def on_train_end(self, history: History) -> None:
        self.close()

    def close(self) -> None:
        """Close the bar (``fit`` also does this when training raises)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __repr__(self) -> str:
        return f"ProgressBar(description={self.description!r}, enabled={self.enabled!r})"
