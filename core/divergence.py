"""Divergence: what :func:`core.training.fit` calls a training that ran away, and the error it raises.

The loop always treats a NaN/inf loss or parameter as divergence, and :class:`DivergenceGuard`
(``TrainingSettings.divergence``, on by default) adds the finite runaways (a loss or weights that grew by orders of
magnitude); both raise :class:`TrainingDivergedError`, whose message names the hyper-parameter to lower.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core._validation import check_number
from core.callbacks import History
from core.optim import SGD

__all__ = ["TrainingDivergedError", "DivergenceGuard"]


class TrainingDivergedError(FloatingPointError):
    """Training diverged: a NaN/inf loss or parameter, or a runaway that :class:`DivergenceGuard` catches.

    The parameters are kept as attributes of the same names.

    Parameters
    ----------
    message : str
        The error message.
    epoch : int
        Epoch in which the divergence was detected, 1-based.
    batch : int or None
        Batch in which it was detected, 1-based; None for the checks after an epoch.
    history : History
        The epochs completed before.
    parameter : str, default "learning_rate"
        The optimizer keyword the message tells to make smaller: "learning_rate", "weight_decay" or
        "decoupled_weight_decay".
    value : float or None, default None
        The value of ``parameter`` (for the learning rate: the base learning rate).
    """

    def __init__(self, message: str, epoch: int, batch: int | None, history: History,
                 parameter: str = "learning_rate", value: float | None = None):
        super().__init__(message)
        self.epoch, self.batch, self.history = epoch, batch, history
        self.parameter, self.value = parameter, value

    def __reduce__(self):  # picklable (e.g. out of a joblib worker) with its attributes
        return type(self), (str(self), self.epoch, self.batch, self.history, self.parameter, self.value)


# Why these defaults: each limit is a growth factor over the state ``fit`` starts from, so it holds for any loss
# scale, data and width. Past its stability limit a step multiplies the loss and the weights by a roughly constant
# factor, so a divergence passes any fixed limit within tens of steps: a limit only has to sit far above what
# training that ends well reaches. Measured on the fit, ising and materials tasks (defaults, and 10x the default
# learning rate for each optimizer; 77 runs, 467 fits that ended with a result): a batch loss up to 1.7e4 L0
# (RMSprop's first steps, with v = 0, overshoot, then recover), an epoch mean from the second epoch on up to 1.04x
# its reference, a validation loss up to 3.7 V0 for one epoch (0.25 V0 for three in a row), a weight norm up to 29x
# its start. The runs flagged (momentum SGD at 10x) passed 1e4x in weight norm within two epochs and, unguarded,
# reached inf a few epochs later. The first epoch is the epoch check's reference, not its subject: its transient
# can reach thousands of L0 and recover (the batch check still stops a first epoch that runs away). A validation
# loss rises while a network overfits and EarlyStopping keeps the best epoch anyway, so it must stay high for
# several epochs, or be high for the weights returned. max(N0, 1): a network started near zero may grow to O(1).
@dataclass(frozen=True)
class DivergenceGuard:
    """The limits beyond which :func:`core.training.fit` calls a finite runaway a divergence (TrainingDivergedError).

    ``TrainingSettings.divergence`` (on by default); ``divergence=None`` turns these checks off, a factor set to None
    turns off its check alone. A NaN/inf loss or parameter is a divergence in any case. Before the first step ``fit``
    computes the loss L0 of the starting weights on the whole training set and, when it validates, V0 on the
    validation set (one inference pass: no random draw, nothing changed). A loss check whose reference is 0 or not
    finite is skipped (no growth factor from zero).

    Parameters
    ----------
    batch_loss_factor : float or None, default 1e6
        A batch's training loss above ``batch_loss_factor * L0`` is a divergence; > 1, None turns the check off.
    epoch_loss_factor : float or None, default 1e3
        From the second epoch on, an epoch's mean training loss above
        ``epoch_loss_factor * max(L0, the first epoch's mean)`` is a divergence; > 1, or None.
    val_loss_factor : float or None, default 1e3
        The validation loss above ``val_loss_factor * V0`` for ``val_loss_epochs`` epochs in a row, or for the
        weights ``fit`` returns (the last epoch's, or the best epoch's when EarlyStopping restores them), is a
        divergence; > 1, or None.
    val_loss_epochs : int, default 3
        Number of consecutive epochs the validation check needs; >= 1.
    weight_norm_factor : float or None, default 1e4
        The global L2 norm of the parameters after an epoch above ``weight_norm_factor * max(N0, 1)``, N0 being
        its value at the start, is a divergence; > 1, or None.
    """

    batch_loss_factor: float | None = 1e6
    epoch_loss_factor: float | None = 1e3
    val_loss_factor: float | None = 1e3
    val_loss_epochs: int = 3
    weight_norm_factor: float | None = 1e4

    def __post_init__(self):
        for name in ("batch_loss_factor", "epoch_loss_factor", "val_loss_factor", "weight_norm_factor"):
            if getattr(self, name) is not None:
                check_number(getattr(self, name), name, "DivergenceGuard", low=1, low_closed=False)
        check_number(self.val_loss_epochs, "val_loss_epochs", "DivergenceGuard", low=1, integer=True)


def _limit(factor, reference: float) -> float:
    return factor * reference if factor is not None and math.isfinite(reference) and reference > 0 else math.inf


def _global_norm(parameters) -> float:
    """sqrt(sum of squares) of all parameters, in float64 (no overflow for float32 weights); NaN/inf propagate."""
    total = 0.0
    for p in parameters:
        flat = p.value.reshape(-1).astype(np.float64)
        total += float(flat @ flat)
    return math.sqrt(total)


def _l2_stability_limit(optimizer) -> float:
    """The largest lr * weight_decay for which the L2 term alone does not grow the weights: SGD's step on
    (lambda/2) w^2 is w <- (1 - lr lambda) w, stable below 2 (2 (1 + mu) with heavy-ball momentum mu, 2 (1 + mu) /
    (1 + 2 mu) with Nesterov's); the adaptive optimizers' steps stay ~lr whatever the decay (inf)."""
    if not isinstance(optimizer, SGD):
        return math.inf
    mu = optimizer.momentum
    return 2.0 * (1.0 + mu) / (1.0 + 2.0 * mu) if optimizer.nesterov else 2.0 * (1.0 + mu)


def _culprit(optimizer, dtype, weight_scale: float) -> tuple[str, float, str]:
    """The optimizer keyword most likely at fault, its value, and the advice for the message."""
    lr, base = optimizer.learning_rate, optimizer.base_learning_rate
    decoupled, decay = optimizer.decoupled_weight_decay, optimizer.weight_decay
    if not math.isfinite(decoupled) or lr * decoupled > 2:
        return "decoupled_weight_decay", decoupled, (
            f"Try a smaller decoupled_weight_decay (currently {decoupled:g}): with the learning rate {lr:g} the "
            f"decay step w <- (1 - {lr * decoupled:g}) w alone grows the weights (keep lr * decoupled_weight_decay "
            f"below 2).")
    overflow = not math.isfinite(decay) or decay * weight_scale > math.sqrt(np.finfo(dtype).max)  # (g^2 overflows)
    if overflow or lr * decay > _l2_stability_limit(optimizer):
        return "weight_decay", decay, (f"Try a smaller weight_decay (currently {decay:g}): with the learning rate "
                                       f"{lr:g} the L2 term alone {'overflows' if overflow else 'grows the weights'}.")
    rate = f"{base:g}" + ("" if lr == base else f", {lr:g} in this epoch of the schedule")
    return "learning_rate", base, (f"Try a smaller learning rate (currently {rate}), gradient clipping "
                                   f"(clip_norm=...), or standardising the inputs.")


class _DivergenceWatch:
    """One ``fit``'s divergence checks: NaN/inf always, ``guard``'s limits unless it is None. Reads, never writes."""

    def __init__(self, guard: DivergenceGuard | None, network, loss, optimizer, history, X, y, X_val, y_val):
        self.guard, self.optimizer, self.history, self.dtype = guard, optimizer, history, network.dtype
        self.parameters = network.parameters()
        self.weight_scale = max((float(np.max(np.abs(p.value))) for p in self.parameters if p.value.size),
                                default=0.0)
        self.batch_limit = self.epoch_limit = self.val_limit = self.norm_limit = math.inf
        self.val_run, self.epoch_reference = 0, None  # (max(L0, first epoch's mean), set after the first epoch)
        if guard is not None:
            self.initial_loss = self._loss(network, loss, X, y)
            self.batch_limit = _limit(guard.batch_loss_factor, self.initial_loss)
            if X_val is not None:
                self.initial_val_loss = self._loss(network, loss, X_val, y_val)
                self.val_limit = _limit(guard.val_loss_factor, self.initial_val_loss)
            self.initial_norm = _global_norm(self.parameters)
            self.norm_limit = _limit(guard.weight_norm_factor, max(self.initial_norm, 1.0))

    @staticmethod
    def _loss(network, loss, X, y) -> float:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return float(loss.forward(network.predict(X), y))

    def batch(self, value: float, epoch: int, batch: int) -> None:
        """After each batch's loss (one comparison while all is well: NaN, inf and the limit all fail ``<``)."""
        if not value < self.batch_limit:
            if not math.isfinite(value):
                raise self.error(epoch, batch, f"the training loss is {value}")
            raise self.runaway(epoch, batch, "the training loss", value, self.initial_loss,
                               f"the initial loss {self.initial_loss:.3g}", "batch_loss_factor")

    def epoch(self, epoch: int, loss: float) -> None:
        """After an epoch's training: parameters finite, mean loss (second epoch on) and weight norm in limits."""
        norm = _global_norm(self.parameters)
        if not math.isfinite(norm):
            for p in self.parameters:
                if not np.isfinite(p.value).all():
                    raise self.error(epoch, None, f"parameter {p.name!r} is not finite")
        if self.guard is not None and self.epoch_reference is None:
            self.first_epoch_loss = loss
            self.epoch_reference = max(self.initial_loss, loss) if math.isfinite(self.initial_loss) else loss
            self.epoch_limit = _limit(self.guard.epoch_loss_factor, self.epoch_reference)
        elif not loss < self.epoch_limit:
            raise self.runaway(epoch, None, "the mean training loss of the epoch", loss, self.epoch_reference,
                               f"its reference (the larger of the initial loss {self.initial_loss:.3g} and the "
                               f"first epoch's mean {self.first_epoch_loss:.3g})", "epoch_loss_factor")
        if not norm < self.norm_limit:
            raise self.error(epoch, None, f"the global norm of the parameters is {norm:.3g}, up from "
                                          f"{self.initial_norm:.3g} at the start", "weight_norm_factor")

    def validation(self, epoch: int, value: float) -> None:
        """After an epoch's validation loss."""
        if not math.isfinite(value):
            raise self.error(epoch, None, f"the validation loss is {value}")
        self.val_run = self.val_run + 1 if value > self.val_limit else 0
        if self.guard is not None and self.val_run >= self.guard.val_loss_epochs:
            raise self.runaway(epoch, None, f"the validation loss (for {self.val_run} epochs in a row)", value,
                               self.initial_val_loss, f"its initial value {self.initial_val_loss:.3g}",
                               "val_loss_factor")

    def end(self, history: History) -> None:
        """After training: the validation loss of the weights ``fit`` returns within its limit."""
        if self.val_limit < math.inf and history.val_loss:
            epoch = history.best_epoch if history.restored_best else history.epoch[-1]
            value = history.val_loss[history.epoch.index(epoch)]
            if value > self.val_limit:
                raise self.runaway(epoch, None, f"the validation loss of the weights returned (epoch {epoch})", value,
                                   self.initial_val_loss, f"its initial value {self.initial_val_loss:.3g}",
                                   "val_loss_factor")

    def runaway(self, epoch, batch, what, value, reference, of: str, limit: str) -> TrainingDivergedError:
        return self.error(epoch, batch, f"{what} is {value:.3g}, {value / reference:.3g} times {of}", limit)

    def error(self, epoch: int, batch: int | None, what: str, limit: str | None = None) -> TrainingDivergedError:
        where = f"epoch {epoch}" + ("" if batch is None else f", batch {batch}")
        parameter, value, advice = _culprit(self.optimizer, self.dtype, self.weight_scale)
        note = "" if limit is None else (f" (The limit is DivergenceGuard.{limit} = {getattr(self.guard, limit):g}; "
                                         f"None turns this check off, TrainingSettings(divergence=None) all of them.)")
        return TrainingDivergedError(f"Training diverged at {where}: {what}. {advice}{note}", epoch, batch,
                                     self.history, parameter, value)
