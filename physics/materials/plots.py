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
           target_name: str, units: str = "", prediction_label: str = "out-of-fold prediction") -> Path:
    """Out-of-fold prediction against truth, one panel per model, points coloured by test fold, y = x line,
    MAE and R² in the upper-left corner.

    Parameters
    ----------
    y : ndarray of float
        Shape (n,). The target.
    predictions : Mapping of str to ndarray
        Model name -> predictions, each of shape (n,); non-finite predictions are left out of MAE and R².
    fold_of_sample : ndarray of int
        Shape (n,). Test-fold index (0-based) of each sample; with one fold there is no fold legend.
    path : Path
        Where to write the figure.
    target_name : str
        Name of the target, in the x-axis label (``"true <target_name>"``).
    units : str, optional
        Units of the target, shown in the axis label and beside the MAE; ``""`` (default) shows none.
    prediction_label : str, optional
        The y-axis label (what the predictions are). Default ``"out-of-fold prediction"``.

    Returns
    -------
    path : Path
        The file written (suffix set by the current figure format, PNG by default).
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
        ax.set_title(plots.words(name), fontsize=10)
        ax.set_xlabel(_label(f"true {target_name}", units), fontsize=8)
        ax.set_ylabel(prediction_label, fontsize=8)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    n_folds = int(fold_of_sample.max()) + 1
    if n_folds == 1:  # one test set: nothing to tell apart
        return plots.save(fig, path)
    handles = [plots.plt.Line2D([], [], ls="", marker="o", color=FOLD_COLOURS[k % 10], label=f"fold {k + 1}")
               for k in range(n_folds)]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(n_folds, 10), fontsize=8)
    return plots.save(fig, path)


def residuals(y: np.ndarray, predictions: Mapping[str, np.ndarray], path: Path, *, units: str = "",
              bins: int = 60, what: str = "out-of-fold residual") -> Path:
    """Histograms of the out-of-fold residuals (prediction − truth): the first model filled, the others as
    outlines, on shared bins covering the central 99.8 % of all residuals (the tails are counted in the
    outermost bins and reported in the legend).

    Parameters
    ----------
    y : ndarray of float
        Shape (n,). The target.
    predictions : Mapping of str to ndarray
        Model name -> predictions, each of shape (n,); non-finite residuals are left out.
    path : Path
        Where to write the figure.
    units : str, optional
        Units of the target, in the x-axis label; ``""`` (default) shows none.
    bins : int, optional
        Number of histogram bins, >= 1. Default 60.
    what : str, optional
        What the residuals are, in the x-axis label. Default ``"out-of-fold residual"``.

    Returns
    -------
    path : Path
        The file written (suffix set by the current figure format, PNG by default).
    """
    residual = {name: p - y for name, p in predictions.items()}
    pooled = np.concatenate([r[np.isfinite(r)] for r in residual.values()])
    edge = float(np.percentile(np.abs(pooled), 99.8)) or 1.0
    edges = np.linspace(-edge, edge, bins + 1)
    fig, ax = plots.figure(width=6.0, height=3.8)
    for i, (colour, (name, r)) in enumerate(zip(plots.MODEL_COLOURS, residual.items())):
        r = r[np.isfinite(r)]
        outside = int(np.sum(np.abs(r) > edge))
        label = f"{plots.words(name)}: MAE {np.mean(np.abs(r)):.3g}" + (f", {outside} beyond ±{edge:.3g}" if outside else "")
        ax.hist(np.clip(r, -edge, edge), bins=edges, color=colour, label=label,
                histtype="stepfilled" if i == 0 else "step", alpha=0.45 if i == 0 else 1.0, lw=1.2)
    ax.set_yscale("log")
    ax.set_xlabel(_label(f"{what}, prediction − truth", units))
    ax.set_ylabel("samples")
    ax.legend(fontsize=7)
    return plots.save(fig, path)


def learning_curves(train_sizes: np.ndarray, scores: Mapping[str, np.ndarray], path: Path, *, units: str = "",
                    metric: str = "test-fold MAE", log_scale: bool = True) -> Path:
    """A test metric against training-set size (log x; log y with ``log_scale``), mean over folds with the
    fold standard deviation as a band.

    Parameters
    ----------
    train_sizes : ndarray
        Shape (n_sizes,). Number of training samples at each point, > 0.
    scores : Mapping of str to ndarray
        Model name -> test metric, each of shape (n_sizes, n_folds).
    path : Path
        Where to write the figure.
    units : str, optional
        Units of the metric, in the y-axis label; ``""`` (default) shows none.
    metric : str, optional
        Name of the metric, the y-axis label. Default ``"test-fold MAE"``.
    log_scale : bool, optional
        Log-scale y axis (default True); the band is then clipped below at half the mean.

    Returns
    -------
    path : Path
        The file written (suffix set by the current figure format, PNG by default).
    """
    fig, ax = plots.figure(width=5.6, height=4.0)
    for colour, (name, values) in zip(plots.MODEL_COLOURS, scores.items()):
        mean, std = values.mean(axis=1), values.std(axis=1)
        ax.plot(train_sizes, mean, "o-", color=colour, label=plots.words(name), ms=4)
        low = np.maximum(mean - std, mean * 0.5) if log_scale else mean - std
        ax.fill_between(train_sizes, low, mean + std, color=colour, alpha=0.15, lw=0)
    ax.set_xscale("log")
    if log_scale:
        ax.set_yscale("log")
    ax.set_xticks(train_sizes, [f"{size:,.0f}" for size in train_sizes], fontsize=8)
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("training samples")
    ax.set_ylabel(_label(metric, units))
    ax.legend(fontsize=8, loc="best")
    return plots.save(fig, path)


def model_comparison(fold_scores: Mapping[str, np.ndarray], path: Path, *, units: str = "", title: str = "",
                     metric: str = "test-fold MAE", log_scale: bool = True) -> Path:
    """Bars of the mean test metric per model, the fold standard deviation as error bar (when there are
    folds) and every fold's value as a dot. The spread of the folds does not test a difference between two
    models: :func:`paired_differences` does.

    Parameters
    ----------
    fold_scores : Mapping of str to ndarray
        Model name -> test metric per fold, each of shape (n_folds,); NaN folds are left out of mean and std.
    path : Path
        Where to write the figure.
    units : str, optional
        Units of the metric, in the y-axis label; ``""`` (default) shows none.
    title : str, optional
        Figure title; ``""`` (default) shows none.
    metric : str, optional
        Name of the metric, the y-axis label. Default ``"test-fold MAE"``.
    log_scale : bool, optional
        Log-scale y axis. Default True.

    Returns
    -------
    path : Path
        The file written (suffix set by the current figure format, PNG by default).
    """
    names = list(fold_scores)
    means = np.array([np.nanmean(fold_scores[name]) for name in names])
    stds = np.array([np.nanstd(fold_scores[name]) if len(fold_scores[name]) > 1 else 0.0 for name in names])
    fig, ax = plots.figure(width=max(4.8, 0.95 * len(names) + 1.5), height=3.8)
    positions = np.arange(len(names))
    bars = ax.bar(positions, means, yerr=stds, capsize=4, color=plots.MODEL_COLOURS[: len(names)], alpha=0.85)
    ax.bar_label(bars, fmt="%.3g", padding=2, fontsize=8)
    jitter = np.random.default_rng(0)
    for x, name in zip(positions, names):
        values = fold_scores[name]
        if len(values) > 1:
            ax.scatter(x + jitter.uniform(-0.18, 0.18, size=len(values)), values, s=10, color="k", zorder=3,
                       label="one fold" if x == 0 else None)
    ax.set_xticks(positions, [plots.words(name) for name in names], rotation=20)
    if log_scale:
        ax.set_yscale("log")
    ax.set_ylabel(_label(metric, units))
    if any(len(values) > 1 for values in fold_scores.values()):
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return plots.save(fig, path)


def paired_differences(comparisons: Mapping[str, object], path: Path, *, units: str = "", metric: str = "MAE") -> Path:
    """network − baseline of the metric for every baseline: the mean paired difference with its confidence
    interval (``PairedComparison`` of :mod:`physics.materials.comparison`), a zero line, the p-value beside
    each. An interval that excludes zero is a difference the test resolves.

    Parameters
    ----------
    comparisons : Mapping of str to PairedComparison
        Baseline name -> the paired comparison network − baseline; the confidence level and method of the
        first one label the axis and title.
    path : Path
        Where to write the figure.
    units : str, optional
        Units of the metric, in the x-axis label; ``""`` (default) shows none.
    metric : str, optional
        Name of the metric, in the x-axis label. Default ``"MAE"``.

    Returns
    -------
    path : Path
        The file written (suffix set by the current figure format, PNG by default).
    """
    names = list(comparisons)
    fig, ax = plots.figure(width=6.0, height=0.5 * len(names) + 1.6)
    for i, name in enumerate(names):
        result = comparisons[name]
        centre, low, high = result.mean_difference, result.ci_low, result.ci_high
        colour = "C3" if result.significant else "0.4"
        ax.errorbar([centre], [i], xerr=[[centre - low], [high - centre]], fmt="o", color=colour, capsize=4)
        ax.annotate(f"p = {result.p_value:.2g}", (high, i), xytext=(6, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.axvline(0.0, color="k", lw=1)
    ax.set_yticks(range(len(names)), [f"network − {plots.words(name)}" for name in names])
    ax.set_ylim(-0.7, len(names) - 0.3)
    confidence = next(iter(comparisons.values())).confidence if comparisons else 0.95
    ax.set_xlabel(_label(f"paired difference of the test {metric}, {confidence:.0%} interval", units))
    method = next(iter(comparisons.values())).method if comparisons else ""
    ax.set_title(method, fontsize=9)
    return plots.save(fig, path)


def confusion(y_true, y_pred, path: Path, *, title: str = "") -> Path:
    """The confusion matrix (rows: true class, columns: predicted), counts and row fractions.

    Parameters
    ----------
    y_true : array_like
        Shape (n,). True class labels; the classes shown are the distinct values of ``y_true``, sorted.
    y_pred : array_like
        Shape (n,). Predicted class labels, compared with ``y_true`` as strings.
    path : Path
        Where to write the figure.
    title : str, optional
        Figure title; ``""`` (default) shows none.

    Returns
    -------
    path : Path
        The file written (suffix set by the current figure format, PNG by default).
    """
    from sklearn.metrics import confusion_matrix

    labels = sorted(set(np.asarray(y_true).astype(str).tolist()))
    matrix = confusion_matrix(np.asarray(y_true).astype(str), np.asarray(y_pred).astype(str), labels=labels)
    fractions = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plots.figure(width=4.4, height=3.8)
    image = ax.imshow(fractions, cmap="Blues", vmin=0, vmax=1)
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, f"{count}\n({fractions[i, j]:.1%})", ha="center", va="center", fontsize=8,
                color="white" if fractions[i, j] > 0.6 else "black")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    fig.colorbar(image, ax=ax, label="fraction of the true class")
    if title:
        ax.set_title(title, fontsize=9)
    return plots.save(fig, path)
