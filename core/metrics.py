"""Streaming metrics for the training loop: accuracy, mean absolute error, coefficient of determination.

A metric accumulates sufficient statistics batch by batch (``update``) so that the training-set value of an epoch
costs no extra forward pass; ``result`` gives the value over everything seen since ``reset``. The one-shot helper
:func:`evaluate_metric` computes a metric on whole arrays (used for the validation set).

Conventions, for ``output`` of shape (batch, k) (or (batch,)) and ``target`` of the shape the loss accepts:
- accuracy: k > 1: argmax of the logits against integer labels (batch,) or the argmax of one-hot/probability rows;
  k == 1: logit > 0 against target > 0.5 (binary classification on logits).
- mae: mean over all elements of |output - target| (a (batch,) target is taken as (batch, 1)).
- r2: 1 - SSE/SST per output column, averaged uniformly over columns (scikit-learn's ``r2_score`` default); a
  constant target column scores 1 if predicted exactly, else 0 (scikit-learn's ``force_finite``).
"""

from __future__ import annotations

import numpy as np

from core._validation import check_choice

__all__ = ["Metric", "Accuracy", "MeanAbsoluteError", "R2Score", "METRICS", "get_metric", "evaluate_metric"]


def _as_columns(output: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return output and target as (batch, k) arrays of matching shape."""
    out = output.reshape(len(output), -1)
    return out, np.asarray(target).reshape(out.shape)


class Metric:
    """Base class: ``reset()``, ``update(output, target)`` per batch, ``result() -> float``."""

    name = ""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        raise NotImplementedError

    def update(self, output: np.ndarray, target: np.ndarray) -> None:
        """Accumulate the statistics of one batch.

        Parameters
        ----------
        output : ndarray
            Shape (batch, k) or (batch,).
            The network's output (logits for accuracy).
        target : array_like
            The batch's targets, in a shape the loss accepts (see the module docstring).
        """
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError


class Accuracy(Metric):
    """Fraction of correctly classified samples (see the module docstring for the decision rule)."""

    name = "accuracy"

    def reset(self):
        self._correct = 0
        self._count = 0

    def update(self, output, target):
        out = output.reshape(len(output), -1)
        target = np.asarray(target)
        if out.shape[1] == 1:
            predicted = out[:, 0] > 0
            truth = target.reshape(len(target)) > 0.5
        else:
            predicted = out.argmax(axis=1)
            truth = target.argmax(axis=1) if target.ndim == 2 else target
        self._correct += int(np.count_nonzero(predicted == truth))
        self._count += len(out)

    def result(self):
        return self._correct / self._count if self._count else float("nan")


class MeanAbsoluteError(Metric):
    """Mean over samples and outputs of |output - target|."""

    name = "mae"

    def reset(self):
        self._sum = 0.0
        self._count = 0

    def update(self, output, target):
        out, tgt = _as_columns(output, target)
        self._sum += float(np.abs(out - tgt, dtype=np.float64).sum())
        self._count += out.size

    def result(self):
        return self._sum / self._count if self._count else float("nan")


class R2Score(Metric):
    """Coefficient of determination 1 - SSE/SST, uniform average over output columns.

    SST is accumulated with Chan et al.'s pairwise update of (count, mean, sum of squared deviations), in float64,
    so that targets with a large mean lose no precision.
    """

    name = "r2"

    def reset(self):
        self._n = 0
        self._sse = self._mean = self._sst = 0.0

    def update(self, output, target):
        out, tgt = _as_columns(output, target)
        tgt = tgt.astype(np.float64)
        n_batch = len(out)
        batch_mean = tgt.mean(axis=0)
        delta = batch_mean - self._mean
        n_total = self._n + n_batch
        self._sst = self._sst + ((tgt - batch_mean) ** 2).sum(axis=0) + delta**2 * (self._n * n_batch / n_total)
        self._mean = self._mean + delta * (n_batch / n_total)
        self._sse = self._sse + ((out - tgt) ** 2).sum(axis=0)
        self._n = n_total

    def result(self):
        if self._n == 0:
            return float("nan")
        sse, sst = np.atleast_1d(self._sse), np.atleast_1d(self._sst)
        safe_sst = np.where(sst > 0, sst, 1.0)
        scores = np.where(sst > 0, 1.0 - sse / safe_sst, np.where(sse == 0, 1.0, 0.0))
        return float(np.mean(scores))


METRICS: dict[str, type[Metric]] = {cls.name: cls for cls in (Accuracy, MeanAbsoluteError, R2Score)}


def get_metric(name: str) -> Metric:
    """A fresh metric from its name.

    Parameters
    ----------
    name : str
        A key of ``METRICS``: "accuracy", "mae" or "r2".

    Returns
    -------
    Metric
        A new metric, reset.

    Raises
    ------
    InvalidParameterError
        If ``name`` is not a key of ``METRICS`` (the message names ``metrics``).
    """
    check_choice(name, "metrics", None, sorted(METRICS))
    return METRICS[name]()


def evaluate_metric(name: str, output: np.ndarray, target: np.ndarray) -> float:
    """The metric ``name`` on whole arrays.

    Parameters
    ----------
    name : str
        A key of ``METRICS``: "accuracy", "mae" or "r2".
    output : ndarray
        Shape (batch, k) or (batch,).
        The network's output (logits for accuracy).
    target : array_like
        The targets (see the module docstring for the accepted shapes).

    Returns
    -------
    float
        The metric's value over all samples.
    """
    metric = get_metric(name)
    metric.update(output, target)
    return metric.result()
