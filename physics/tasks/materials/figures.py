"""Figures of ``task=materials``: parity, residuals, model comparison and learning curve (out-of-fold results,
drawn by :mod:`physics.materials.plots`), and the loss of the saved network."""
from __future__ import annotations

from pathlib import Path

from physics.app import plots as common_plots
from physics.materials import plots
from physics.materials.dataset import MaterialsDataset
from physics.materials.evaluation import CVResult


def cross_validation(folder: Path, data: MaterialsDataset, cv: CVResult, train_sizes, curve: dict,
                     cv_kind: str) -> None:
    """parity.png, residuals.png, model_comparison.png and, when ``curve`` is not empty, learning_curve.png."""
    oof = {name: result.oof_prediction for name, result in cv.models.items()}
    plots.parity(cv.y, oof, cv.fold_of_sample, folder / "parity.png", target_name=data.target_name, units=data.units)
    plots.residuals(cv.y, oof, folder / "residuals.png", units=data.units)
    plots.model_comparison({name: result.fold_metrics["mae"] for name, result in cv.models.items()},
                           folder / "model_comparison.png", units=data.units,
                           title=f"{len(cv.splits)}-fold cross-validation ({cv_kind}), {len(cv.y)} samples")
    if curve:
        plots.learning_curves(train_sizes, curve, folder / "learning_curve.png", units=data.units)


def loss(history, path: Path, *, label: str, target: str) -> None:
    """Training (and, with early stopping, validation) MSE of the saved network against epoch."""
    common_plots.loss_curves({label: {"loss": history.loss, "val_loss": history.val_loss,
                                      "best_epoch": history.best_epoch}}, path, ylabel=f"mean squared error ({target})")
