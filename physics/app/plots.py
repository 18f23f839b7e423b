"""Figure helpers with one consistent look: labelled axes, units, legends, saved atomically as PNG.

Uses matplotlib's object API with the Agg backend (no display needed); never touches pyplot's global state
except to create and close figures.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402

from physics.app.io import atomic_path  # noqa: E402

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
    "legend.frameon": False,
}
#: one colour per model, the numpy network first, so every figure of a run agrees
MODEL_COLOURS = plt.get_cmap("tab10").colors


def figure(ncols: int = 1, nrows: int = 1, width: float = 4.8, height: float = 3.6, **kwargs):
    """A new figure with ``nrows x ncols`` axes of ``width x height`` inches each, in the suite's style."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False,
                                 layout="constrained", **kwargs)
    for ax in axes.flat:
        ax.grid(True, alpha=STYLE["grid.alpha"])
        ax.spines[["top", "right"]].set_visible(False)
    return fig, (axes[0, 0] if axes.size == 1 else axes.squeeze())


def save(fig, path: str | os.PathLike) -> Path:
    """Save ``fig`` as PNG atomically and close it."""
    with plt.rc_context(STYLE), atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return Path(path)


def loss_curves(histories: Mapping[str, Mapping[str, Sequence[float]]], path, *, ylabel: str = "loss") -> Path:
    """Training (solid) and validation (dashed) loss against epoch on a log scale, one colour per run.

    ``histories``: label -> {"loss": [...], "val_loss": [...], "best_epoch": int | None} (val_loss may be
    empty); a dotted vertical line marks the best epoch, whose weights early stopping restored.
    """
    fig, ax = figure()
    for colour, (label, history) in zip(MODEL_COLOURS, histories.items()):
        epochs = np.arange(1, len(history["loss"]) + 1)
        ax.plot(epochs, history["loss"], color=colour, label=f"{label} (train)")
        if len(history.get("val_loss") or []):
            ax.plot(epochs, history["val_loss"], color=colour, ls="--", label=f"{label} (validation)")
        if history.get("best_epoch"):
            ax.axvline(history["best_epoch"], color=colour, ls=":", lw=1, label=f"{label}: best epoch (kept)")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.legend()
    return save(fig, path)


def model_bars(values: Mapping[str, float], path, *, ylabel: str, errors: Mapping[str, float] | None = None,
               log: bool = False, title: str | None = None) -> Path:
    """A bar per model (the network first), optional error bars, the value written on each bar."""
    names = list(values)
    heights = np.array([values[name] for name in names], dtype=float)
    yerr = None if errors is None else np.array([errors.get(name, 0.0) for name in names], dtype=float)
    fig, ax = figure(width=max(4.8, 0.9 * len(names) + 1.5))
    bars = ax.bar(names, heights, yerr=yerr, capsize=4, color=MODEL_COLOURS[: len(names)])
    ax.bar_label(bars, fmt="%.3g", padding=2, fontsize=8)
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", rotation=20)
    if title:
        ax.set_title(title)
    return save(fig, path)
