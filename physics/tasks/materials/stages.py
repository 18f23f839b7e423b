"""What each stage of ``task=materials`` needs from the data, checked before the first model is fitted.

A run has three stages that fit models: the evaluation (folds or the given split; required), the tuning
inside each training fold (``task.tune`` / ``task.param_grids``), and the learning curve
(``task.learning_curve``). Each fits on fewer rows than the one before it. :func:`plan` computes the smallest
training set every stage hands a model and compares it with what the models need: at least
:data:`MIN_TRAIN_ROWS` rows, every class twice for classification, and -- for a model that holds out its own
early-stopping set (the network with ``trainer.early_stopping``, scikit-learn's MLP with ``early_stopping``) --
enough rows for that set (scikit-learn needs 2 validation rows and stops with "The validation set is too small"
otherwise). The evaluation stage failing stops the run at once with the key that fixes it; the tuning or the
learning curve failing is skipped for every model alike, with a warning.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from physics.app.schema import ConfigError
from physics.materials.evaluation import INNER_HOLDOUT

log = logging.getLogger(__name__)

#: the fewest training rows a model is ever fitted on
MIN_TRAIN_ROWS = 10


@dataclass
class Plan:
    """The stages that run. ``skipped``: stage -> why (logged and written to metrics.json)."""

    tune: bool
    learning_curve: list[float]
    skipped: dict[str, str] = field(default_factory=dict)


def validation_rows_needed(model) -> tuple[int, str] | None:
    """(the fewest training rows, the parameter that switches the hold-out off) for a scikit-learn model that
    holds out an early-stopping set, or None. scikit-learn's MLP holds out ceil(validation_fraction * n) rows and
    needs 2 of them: n >= floor(1 / validation_fraction) + 1. (The network's own hold-out, round(fraction * n)
    rows but at least 1 of at least 2, fits any training set of ``MIN_TRAIN_ROWS``.)"""
    params = model.get_params(deep=True)
    for key, value in params.items():
        if key.split("__")[-1] == "early_stopping" and value is True \
                and type(_innermost(model, key)).__module__.startswith("sklearn."):
            fraction = params[key.removesuffix("early_stopping") + "validation_fraction"]
            return math.floor(1 / fraction) + 1, key
    return None


def _innermost(model, key: str):
    for part in key.split("__")[:-1]:
        model = model.get_params(deep=False)[part]
    return model


def plan(task, y: np.ndarray, splits: list[tuple[np.ndarray, np.ndarray]], models: Mapping[str, Any],
         grids: Mapping[str, dict], split: np.ndarray | None = None) -> Plan:
    """Check every stage against the data before anything is fitted.

    Parameters
    ----------
    task : the task's Config.
    y : ndarray, shape (n,), the target (labels for classification).
    splits : the evaluation's (train, test) index pairs.
    models : name -> unfitted model (the network and the baselines).
    grids : name -> tuning grid (empty: nothing is tuned).
    split : ndarray, shape (n,), the train / val / test labels of ``task.cv=split``, else None.

    Raises
    ------
    ConfigError naming the key that fixes it, when the evaluation itself cannot run.
    """
    smallest = min(len(train) for train, _ in splits)
    where = "the given split's training rows" if task.cv == "split" else "the smallest training fold"
    _check_stage("evaluation", smallest, where, y, splits, models, fix="task.n_splits" if task.cv != "split"
                 else "task.dataset")
    result = Plan(tune=bool(grids), learning_curve=sorted(task.learning_curve))
    if grids:
        inner = smallest * (1 - INNER_HOLDOUT) if task.inner_splits == 1 else smallest * (1 - 1 / task.inner_splits)
        if task.cv == "split" and np.any(split == "val"):
            inner = int(np.sum(split == "train"))  # the candidates are scored on the val rows
        why = _problem(int(inner), y, models)
        if why:
            result.tune, result.skipped["tuning"] = False, f"its inner training sets of ~{int(inner)} rows: {why}"
    if result.learning_curve:
        why = {f: _problem(int(round(f * smallest)), y, models) for f in result.learning_curve}
        dropped = [f for f in result.learning_curve if why[f]]
        if dropped:
            result.skipped["learning_curve"] = "; ".join(
                f"fraction {f} ({int(round(f * smallest))} of {smallest} rows): {why[f]}" for f in dropped) + (
                "; no learning curve" if len(dropped) == len(why) else "")
        result.learning_curve = [f for f in result.learning_curve if not why[f]]
    for stage, why in result.skipped.items():
        log.warning("%s skipped for every model: %s (key: task.%s)", stage.replace("_", " "), why,
                    "tune" if stage == "tuning" else stage)
    return result


def _check_stage(stage: str, rows: int, where: str, y, splits, models, fix: str) -> None:
    why = _problem(rows, y, models)
    if why:
        raise ConfigError(fix, f"the {stage} cannot run on this data: {where} has {rows} rows; {why}.")
    if y.dtype.kind in "OUS":
        for k, (train, _) in enumerate(splits):
            labels, counts = np.unique(y[train], return_counts=True)
            if len(labels) < len(np.unique(y)) or counts.min() < 2:
                raise ConfigError(fix, f"the {stage} cannot run on this data: training fold {k + 1} has classes "
                                       f"{dict(zip(labels.tolist(), counts.tolist()))}, every class of the data "
                                       f"({len(np.unique(y))}) needs at least 2 training rows.")


def _problem(rows: int, y, models) -> str:
    """Why a model cannot be fitted on ``rows`` training rows ("" if every model can)."""
    if rows < MIN_TRAIN_ROWS:
        return f"every model needs at least {MIN_TRAIN_ROWS} training rows"
    for name, model in models.items():
        needed = validation_rows_needed(model)
        if needed and rows < needed[0]:
            return (f"{name} holds out an early-stopping set and needs at least {needed[0]} rows "
                    f"(or baseline.{name}.early_stopping=false)")
    return ""
