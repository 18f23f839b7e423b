"""Figures of ``task=materials``: parity, residuals, learning curve, model comparison (out-of-fold results).

Every function takes plain arrays (one entry per model, the network first so that the colours of
``physics.app.plots.MODEL_COLOURS`` agree across figures) and writes one PNG atomically.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
from matplotlib.ticker import NullFormatter
from sklearn.metrics import mean_absolute_error, r2_score

from physics.app import plots

FOLD_COLOURS = plots.plt.get_cmap("tab10").colors


def _label(name: str, units: str) -> str:
    return f"{name} ({units})" if units else name


def parity(y: np.ndarray, predictions: Mapping[str, np.ndarray], fold_of_sample: np.ndarray, path: Path, *,
           target_name: str, units: str = "") -> Path:
    """Out-of-fold prediction against truth, one panel per model, points coloured by test fold, y = x line,
    MAE and R² in the upper-left corner.

    y : (n,), the target.  predictions : name -> (n,).  fold_of_sample : (n,), fold index of each sample.
    """
    names = list(predictions)
    ncols = min(3, len(names))
    nrows = -(-len(names) // ncols)
    fig, axes = plots.figure(ncols=ncols, nrows=nrows, width=3.6, height=3.4)
    axes = np.atleast_1d(axes).ravel()
    low, high = float(np.min(y)), float(np.max(y))
    pad = 0.03 * (high - low)
    limits = (low - pad, high + pad)
    order = np.random.default_rng(0).permutation(len(y))  # draw the folds interleaved, none hidden below
    for ax, name in zip(axes, names):
        prediction = predictions[name]
        folds = fold_of_sample[order]
        ax.scatter(y[order], prediction[order], c=[FOLD_COLOURS[k % 10] for k in folds], s=4, alpha=0.5,
                   linewidths=0, rasterized=True)
        ax.plot(limits, limits, color="k", lw=1, label="y = x")
        ax.set_xlim(limits)
        ax.set_ylim(limits)
        ax.set_aspect("equal")
        ok = np.isfinite(prediction)
        ax.text(0.04, 0.96, f"MAE {mean_absolute_error(y[ok], prediction[ok]):.3g}{' ' + units if units else ''}\n"
                            f"R² {r2_score(y[ok], prediction[ok]):.4f}",
                transform=ax.transAxes, va="top", fontsize=8, bbox=dict(fc="white", ec="0.8", alpha=0.8))
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(_label(f"true {target_name}", units), fontsize=8)
        ax.set_ylabel("out-of-fold prediction", fontsize=8)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    n_folds = int(fold_of_sample.max()) + 1
    handles = [plots.plt.Line2D([], [], ls="", marker="o", color=FOLD_COLOURS[k % 10], label=f"fold {k + 1}")
               for k in range(n_folds)]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(n_folds, 10), fontsize=8)
    return plots.save(fig, path)


def residuals(y: np.ndarray, predictions: Mapping[str, np.ndarray], path: Path, *, units: str = "",
              bins: int = 60) -> Path:
    """Histograms of the out-of-fold residuals (prediction − truth): the first model filled, the others as
    outlines, on shared bins covering the central 99.8 % of all residuals (the tails are counted in the
    outermost bins and reported in the legend)."""
    residual = {name: p - y for name, p in predictions.items()}
    pooled = np.concatenate([r[np.isfinite(r)] for r in residual.values()])
    edge = float(np.percentile(np.abs(pooled), 99.8)) or 1.0
    edges = np.linspace(-edge, edge, bins + 1)
    fig, ax = plots.figure(width=6.0, height=3.8)
    for i, (colour, (name, r)) in enumerate(zip(plots.MODEL_COLOURS, residual.items())):
        r = r[np.isfinite(r)]
        outside = int(np.sum(np.abs(r) > edge))
        label = f"{name}: MAE {np.mean(np.abs(r)):.3g}" + (f", {outside} beyond ±{edge:.3g}" if outside else "")
        ax.hist(np.clip(r, -edge, edge), bins=edges, color=colour, label=label,
                histtype="stepfilled" if i == 0 else "step", alpha=0.45 if i == 0 else 1.0, lw=1.2)
    ax.set_yscale("log")
    ax.set_xlabel(_label("out-of-fold residual, prediction − truth", units))
    ax.set_ylabel("samples")
    ax.legend(fontsize=7)
    return plots.save(fig, path)


def learning_curves(train_sizes: np.ndarray, mae: Mapping[str, np.ndarray], path: Path, *, units: str = "") -> Path:
    """Test-fold MAE against training-set size, log-log, mean over folds with the fold standard deviation
    as a band. ``mae``: name -> (n_sizes, n_folds)."""
    fig, ax = plots.figure(width=5.6, height=4.0)
    for colour, (name, scores) in zip(plots.MODEL_COLOURS, mae.items()):
        mean, std = scores.mean(axis=1), scores.std(axis=1)
        ax.plot(train_sizes, mean, "o-", color=colour, label=name, ms=4)
        ax.fill_between(train_sizes, np.maximum(mean - std, mean * 0.5), mean + std, color=colour, alpha=0.15,
                        lw=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(train_sizes, [f"{size:,.0f}" for size in train_sizes], fontsize=8)
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("training samples")
    ax.set_ylabel(_label("test-fold MAE", units))
    ax.legend(fontsize=8, loc="lower left")
    return plots.save(fig, path)


def model_comparison(fold_mae: Mapping[str, np.ndarray], path: Path, *, units: str = "", title: str = "") -> Path:
    """Bars of the mean test-fold MAE per model, the fold standard deviation as error bar and every fold's
    MAE as a dot. ``fold_mae``: name -> (n_folds,)."""
    names = list(fold_mae)
    means = np.array([np.nanmean(fold_mae[name]) for name in names])
    stds = np.array([np.nanstd(fold_mae[name]) for name in names])
    fig, ax = plots.figure(width=max(4.8, 0.95 * len(names) + 1.5), height=3.8)
    positions = np.arange(len(names))
    bars = ax.bar(positions, means, yerr=stds, capsize=4, color=plots.MODEL_COLOURS[: len(names)], alpha=0.85)
    ax.bar_label(bars, fmt="%.3g", padding=2, fontsize=8)
    jitter = np.random.default_rng(0)
    for x, name in zip(positions, names):
        values = fold_mae[name]
        ax.scatter(x + jitter.uniform(-0.18, 0.18, size=len(values)), values, s=10, color="k", zorder=3,
                   label="one fold" if x == 0 else None)
    ax.set_xticks(positions, names, rotation=20)
    ax.set_yscale("log")
    ax.set_ylabel(_label("test-fold MAE", units))
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return plots.save(fig, path)
