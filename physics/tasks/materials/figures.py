"""Figures of ``task=materials``: parity and residuals (regression) or the confusion matrix (classification),
the model comparison, the paired differences with the network, the learning curve (test-fold results, drawn by
:mod:`physics.materials.plots`), and the loss of the saved network."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from physics.app import plots as common_plots
from physics.materials import plots
from physics.materials.dataset import MaterialsDataset
from physics.materials.evaluation import HEADLINE, CVResult

_WORDS = {"mae": "MAE", "balanced_accuracy": "balanced accuracy"}


def evaluation(folder: Path, data: MaterialsDataset, cv: CVResult, comparisons: dict, train_sizes,
               curve: dict) -> None:
    """Every figure of the evaluation; learning_curve.png only when ``curve`` is not empty."""
    test = cv.tested
    predictions = {name: result.oof_prediction[test] for name, result in cv.models.items()}
    metric = HEADLINE[cv.target_type][0]
    units = data.units if cv.target_type == "regression" else ""
    what = (f"the published test split ({len(test)} rows)" if cv.cv == "split"
            else f"{len(cv.splits)}-fold cross-validation ({cv.cv}), {len(cv.y)} samples")
    if cv.target_type == "regression":
        y = cv.y[test].astype(np.float64)
        split = cv.cv == "split"
        plots.parity(y, predictions, cv.fold_of_sample[test], folder / "parity.png",
                     target_name=data.target_name.replace("_", " "), units=units,
                     prediction_label="test-split prediction" if split else "out-of-fold prediction")
        plots.residuals(y, predictions, folder / "residuals.png", units=units,
                        what="test-split residual" if split else "out-of-fold residual")
    else:
        plots.confusion(cv.y[test], predictions["network"], folder / "confusion.png", title=f"network, {what}")
    plots.model_comparison({name: result.fold_metrics[metric] for name, result in cv.models.items()},
                           folder / "model_comparison.png", units=units, title=what,
                           metric=f"test {_WORDS[metric]}", log_scale=cv.target_type == "regression")
    if comparisons:
        plots.paired_differences(comparisons, folder / "paired_differences.png", units=units,
                                 metric=_WORDS[metric] if cv.cv != "split" or cv.target_type == "regression"
                                 else "error rate")
    if curve:
        plots.learning_curves(train_sizes, curve, folder / "learning_curve.png", units=units,
                              metric=f"test {_WORDS[metric]}", log_scale=cv.target_type == "regression")


def loss(history, path: Path, *, label: str, loss: str, target: str) -> None:
    """Training (and, with early stopping, validation) loss of the saved network against epoch."""
    words = {"squared_error": "mean squared error", "absolute_error": "mean absolute error",
             "huber": "Huber loss"}.get(loss, loss)
    common_plots.loss_curves({label: {"loss": history.loss, "val_loss": history.val_loss,
                                      "best_epoch": history.best_epoch}}, path, ylabel=f"{words} ({target})")
