"""Figures of ``task=ising`` that belong to the task rather than to locating a transition: Monte Carlo
configurations, accuracy by temperature, the per-model summary beside Mehta et al., what the network responds
to and its first-layer weights, and :func:`results` (every figure and table of a run). The transition figures
(P(ordered), PCA, confusion, scaling) are in :mod:`physics.transition.plots`.

Temperatures on every axis in units of J/k_B. Colours follow :data:`physics.app.plots.MODEL_COLOURS`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from core.conv import Conv2D
from physics.app import plots
from physics.app.io import write_csv
from physics.tasks.ising.data import curve_columns
from physics.transition import plots as transition_plots
from physics.transition.crossing import group_means
from physics.transition.plots import T_LABEL, mark_transition, thin

#: critical-window accuracies of Mehta et al., "A high-bias, low-variance introduction to machine learning for
#: physicists", Phys. Rep. 810, 1 (2019), L = 40 (ranges over their regularisation strengths)
MEHTA_REFERENCES = {"logistic regression": (0.63, 0.69), "random forest": (0.83, 0.83), "CNN": (0.86, 0.91)}


def _image_axes(ax) -> None:
    """A framed image panel without ticks or grid (a lattice has no coordinates worth reading)."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.spines[:].set_visible(True)


def configurations(spins: np.ndarray, temperatures: np.ndarray, shown: Sequence[float], path: Path) -> Path:
    """One configuration (black = +1, white = -1) at each temperature of the grid closest to ``shown``."""
    picks = sorted({int(np.argmin(np.abs(temperatures - T))) for T in shown})
    fig, axes = plots.figure(ncols=len(picks), width=2.4, height=2.6)
    for ax, index in zip(np.atleast_1d(axes), picks):
        ax.imshow(spins[index], cmap="binary", vmin=-1, vmax=1, interpolation="nearest")
        ax.set_title(f"T = {temperatures[index]:.3g}, m = {spins[index].mean():+.2f}", fontsize=9)
        _image_axes(ax)
    fig.suptitle(f"Monte Carlo configurations, L = {spins.shape[-1]} (black: s = +1)")
    return plots.save(fig, path)


def accuracy_by_temperature(T: np.ndarray, accuracies: Mapping[str, np.ndarray], tc_exact: float, window,
                            path: Path) -> Path:
    """Classification accuracy of every model at each temperature of the evaluation set."""
    fig, ax = plots.figure(width=6.6, height=4.0)
    mark_transition(ax, tc_exact, window)
    for colour, (name, accuracy) in zip(plots.MODEL_COLOURS, accuracies.items()):
        ax.plot(T, accuracy, color=colour, marker="o", ms=3, lw=1.2, label=name)
    ax.axhline(0.5, color="0.4", lw=0.8, ls=":", label="chance")
    ax.set_xlabel(T_LABEL)
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7, loc="lower left")
    return plots.save(fig, path)


def model_summary(accuracy_test: Mapping[str, float], accuracy_critical: Mapping[str, float],
                  tc: Mapping[str, tuple], tc_exact: float, path: Path) -> Path:
    """Test and critical-window accuracy per model beside Mehta et al.'s references; T_c per model."""
    names = list(accuracy_test)
    x = np.arange(len(names))
    fig, (ax_acc, ax_tc) = plots.figure(ncols=2, width=max(4.8, 0.9 * len(names) + 1.5), height=4.0)
    ax_acc.bar(x - 0.2, [accuracy_test[n] for n in names], 0.4, color="0.55", label="test (outside window)")
    bars = ax_acc.bar(x + 0.2, [accuracy_critical[n] for n in names], 0.4,
                      color=plots.MODEL_COLOURS[: len(names)], label="critical window")
    ax_acc.bar_label(bars, fmt="%.3f", fontsize=7, padding=2)
    for colour, (name, (low, high)) in zip(("tab:purple", "tab:olive", "tab:cyan"), MEHTA_REFERENCES.items()):
        ax_acc.axhspan(low - 0.002, high + 0.002, color=colour, alpha=0.3, lw=0,
                       label=f"Mehta et al. L=40 {name}")
    ax_acc.set_xticks(x, names, rotation=25, ha="right")
    ax_acc.set_ylim(0.4, 1.05)
    ax_acc.set_ylabel("accuracy")
    ax_acc.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.35), ncols=2)
    values = np.array([tc[n][0] for n in names])
    errors = np.array([tc[n][1] for n in names])
    ax_tc.errorbar(x, values, yerr=errors, fmt="none", ecolor="k", capsize=4)
    ax_tc.scatter(x, values, c=plots.MODEL_COLOURS[: len(names)], zorder=3)
    ax_tc.axhline(tc_exact, color="k", ls="--", lw=1, label=f"Onsager $T_c$ = {tc_exact:.4f}")
    ax_tc.set_xticks(x, names, rotation=25, ha="right")
    ax_tc.set_ylabel("$T_c$ estimate (J/k$_B$)")
    ax_tc.legend(fontsize=7)
    return plots.save(fig, path)


def learned_features(panels: Sequence[tuple], T: np.ndarray, path: Path, title: str) -> Path:
    """Scatter plots of network quantities against physical ones, coloured by temperature.

    panels : sequence of (x (n,), y (n,), x label, y label, correlation text).
    """
    fig, axes = plots.figure(ncols=len(panels), width=3.6, height=3.3)
    for ax, (x, y, xlabel, ylabel, text) in zip(np.atleast_1d(axes), panels):
        x, y, colour = thin(x, y, T)
        points = ax.scatter(x, y, c=colour, s=3, cmap="coolwarm", alpha=0.6, rasterized=True)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(text, fontsize=8)
    fig.colorbar(points, ax=axes, label=T_LABEL, shrink=0.85)
    fig.suptitle(title)
    return plots.save(fig, path)


def weight_images(images: np.ndarray, path: Path, title: str) -> Path:
    """Weight maps (CNN kernels or an MLP's first-layer weights as L x L images), one symmetric colour scale."""
    count = min(len(images), 16)
    ncols = min(count, 8)
    nrows = -(-count // ncols)
    scale = float(np.abs(images[:count]).max()) or 1.0
    fig, axes = plots.figure(ncols=ncols, nrows=nrows, width=1.6, height=1.7)
    axes = np.atleast_1d(axes).ravel()
    for i, ax in enumerate(axes):
        _image_axes(ax)
        if i < count:
            shown = ax.imshow(images[i], cmap="RdBu_r", vmin=-scale, vmax=scale, interpolation="nearest")
            ax.set_title(f"#{i}", fontsize=8)
        else:
            ax.axis("off")
    fig.colorbar(shown, ax=axes.tolist(), shrink=0.8, label="weight")
    fig.suptitle(title)
    return plots.save(fig, path)



def what_it_learned(correlations: dict, m: np.ndarray, energy: np.ndarray, margin: np.ndarray, h1: np.ndarray,
                    T: np.ndarray, path: Path) -> Path:
    """The network's output margin against |m| and E, its hidden features' leading direction against m and |m|
    (one point per evaluation configuration); ``correlations`` are the ``learned.*`` metrics."""
    c = correlations
    return learned_features(
        [(np.abs(m), margin, "|m|", "output margin (logit of ordered)", f"Spearman {c['output_abs_m_spearman']:.3f}"),
         (energy, margin, "energy per spin (J)", "output margin", f"Spearman {c['output_energy_spearman']:.3f}"),
         (m, h1, "m", "hidden layer, leading direction", f"|Pearson| {c['hidden_pc1_m_abs_pearson']:.3f}"),
         (np.abs(m), h1, "|m|", "hidden layer, leading direction",
          f"|Pearson| {c['hidden_pc1_abs_m_abs_pearson']:.3f}")],
        T, path, "what the network responds to (evaluation set)")


def first_layer(layer, L: int, path: Path) -> Path:
    """The first layer's weights: a convolution's kernels, or for a Dense layer on L*L spins the leading
    singular vectors of its weights as L x L maps (random initial weights hide what training added; these are
    the input patterns the layer as a whole responds to most)."""
    W = np.asarray(layer.params["W"], dtype=np.float64)
    if isinstance(layer, Conv2D):
        return weight_images(W[:, 0], path, "first-layer convolution kernels")
    vectors, singular, _ = np.linalg.svd(W, full_matrices=False)
    images = vectors[:, :8].T.reshape(-1, L, L) * np.sign(vectors[:, :8].sum(axis=0))[:, None, None]
    title = ("leading singular vectors of the first-layer weights (L x L maps), singular values "
             + ", ".join(f"{value:.2g}" for value in singular[:4]) + ", ...")
    return weight_images(images, path, title)


def results(data, split, scores: dict, histories: list, task, tc_exact: float, run_dir: Path) -> None:
    """Every figure of the classification (configurations, P(ordered), accuracy, models, loss) and
    per_temperature.csv. scores: name -> ModelScores (network first); histories: one per network."""
    figures, T = run_dir / "figures", split.temperatures
    first = np.searchsorted(data.temperature, T)  # first configuration of every temperature
    configurations(data.spins[first], T, task.sample_temperatures, figures / "configurations.png")
    transition_plots.ordered_probability(
        T, {name: (s.tc.curve, s.tc.curve_stderr, s.tc) for name, s in scores.items()}, tc_exact,
        task.critical_window, figures / "ordered_probability.png",
        title=f"L = {task.L}: mean P(ordered) on held-out configurations")
    accuracy_by_temperature(T, {name: s.per_temperature_accuracy for name, s in scores.items()}, tc_exact,
                            task.critical_window, figures / "accuracy_by_temperature.png")
    model_summary({name: s.accuracy_test for name, s in scores.items()},
                  {name: s.accuracy_critical for name, s in scores.items()},
                  {name: (s.tc.value, s.tc.stderr) for name, s in scores.items()}, tc_exact, figures / "models.png")
    plots.loss_curves({f"seed {k}": {"loss": h.loss, "val_loss": h.val_loss, "best_epoch": h.best_epoch}
                       for k, h in enumerate(histories)}, figures / "loss.png", ylabel="cross-entropy")
    groups = np.searchsorted(T, data.temperature)
    abs_m = group_means(np.abs(data.magnetization), groups, T.size)
    energy = group_means(data.energy, groups, T.size)
    counts = np.bincount(split.groups, minlength=T.size)
    low, high = task.critical_window
    rows = [{"T": temperature, "in_critical_window": bool(low <= temperature <= high), "n_evaluated": counts[i],
             "abs_magnetization": abs_m[i], "energy_per_spin": energy[i], **curve_columns(scores, i)}
            for i, temperature in enumerate(T)]
    write_csv(run_dir / "per_temperature.csv", rows)
