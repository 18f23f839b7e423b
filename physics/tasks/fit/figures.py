"""Figures of ``task=fit``: the fit itself, the loss curve, the test error of every model."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from physics.app import plots
from physics.functions import Target, grid


def loss(history, path: Path) -> None:
    """Training and validation MSE against epoch, the kept (best) epoch marked."""
    plots.loss_curves({"network": {"loss": history.loss, "val_loss": history.val_loss,
                                   "best_epoch": history.best_epoch}}, path, ylabel="mean squared error")


def test_errors(test_mse: dict, target: Target, path: Path) -> None:
    """One bar per model: the test MSE against the noise-free target (log scale)."""
    plots.model_bars(test_mse, path, ylabel="test MSE against the noise-free target", log=True,
                     title=target.formula)


def fit(target: Target, image, models: dict, X_train, y_train, path: Path, image_size: int) -> None:
    """1D: data, truth and every model's curve. 2D: truth | prediction | error maps, one row per model.

    models : name -> predict(X (n, dim)) -> (n,); image : the picture of an image target or None.
    """
    if target.dim == 1:
        x = grid(1, 400)
        fig, ax = plots.figure(width=6.4, height=4.0)
        ax.scatter(X_train[:, 0], y_train, s=4, color="0.6", alpha=0.5, label="training data")
        ax.plot(x[:, 0], target.function(x), color="k", lw=2, label=f"truth {target.formula}")
        for colour, (name, predict) in zip(plots.MODEL_COLOURS, models.items()):
            ax.plot(x[:, 0], predict(x), color=colour, lw=1.2, label=plots.words(name))
        ax.set_xlabel("x")
        ax.set_ylabel("y = f(x)")
        ax.legend(fontsize=8)
        plots.save(fig, path)
        return
    size = image_size if image is not None else 100
    points = grid(2, size)
    truth = target.function(points).reshape(size, size)
    predictions = {name: predict(points).reshape(size, size) for name, predict in models.items()}
    # one colour scale for truth and predictions, one symmetric scale for every error map; the error scale
    # is the 99th percentile of |error| so that one baseline's wild corner does not wash the others out
    vmin, vmax = float(truth.min()), float(truth.max())
    error_scale = float(np.percentile(np.abs(np.stack(list(predictions.values())) - truth), 99))
    fig, axes = plots.figure(ncols=len(models) + 1, nrows=2, width=2.9, height=2.7)
    panels = [(axes[0, 0], truth, "truth", "viridis", vmin, vmax)]
    for column, (name, prediction) in enumerate(predictions.items(), start=1):
        error = prediction - truth
        panels.append((axes[0, column], prediction, plots.words(name), "viridis", vmin, vmax))
        panels.append((axes[1, column], error, f"{plots.words(name)} error (RMS {np.sqrt(np.mean(error ** 2)):.2g})",
                       "RdBu_r", -error_scale, error_scale))
    for ax, values, title, cmap, low, high in panels:
        shown = ax.imshow(values, extent=(-1, 1, -1, 1), cmap=cmap, vmin=low, vmax=high)
        ax.set_title(title, fontsize=9)
        ax.grid(False)
    axes[1, 0].scatter(X_train[:, 0], X_train[:, 1], c=y_train, s=3, cmap="viridis", vmin=vmin, vmax=vmax)
    axes[1, 0].set_title(f"{len(X_train)} training samples", fontsize=9)
    axes[1, 0].set_aspect("equal")
    for ax in axes.flat:
        ax.set_xlabel("$x_0$")
        ax.set_ylabel("$x_1$")
    fig.colorbar(axes[0, 0].images[0], ax=axes[0, :], shrink=0.8, label="f(x)")
    fig.colorbar(shown, ax=axes[1, :], shrink=0.8, extend="both", label="prediction − truth")
    fig.suptitle(f"{target.formula}: prediction (top) and error (bottom)")
    plots.save(fig, path)
