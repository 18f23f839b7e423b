"""Figures of ``task=ising_autoencoder``: the reconstruction error against T, the latent's histograms across T, the
code against the magnetisation, the cumulants U(T) per size with their crossings, the estimates beside the exact
T_c, the training curves; :func:`results` draws them all.

Temperatures on every axis in units of J/k_B; the exact T_c of the infinite lattice is the dashed black line of
:func:`physics.transition.plots.mark_transition`. One colour per lattice size, the same in every figure.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from physics.app import plots
from physics.tasks.ising_autoencoder.networks import KINDS, NAMES
from physics.transition.plots import T_LABEL, mark_transition, thin

#: what each model's curve is called on an axis
CUMULANT_LABELS = {"ae": "$U_z$ of the autoencoder's code", "vae": "$U_z$ of the VAE's code (posterior mean)",
                   "pca": "$U_p$ of the first principal component"}


def _size_colours(sizes: Sequence[int]) -> dict:
    return {L: plots.MODEL_COLOURS[i % len(plots.MODEL_COLOURS)] for i, L in enumerate(sizes)}


def reconstruction(T: np.ndarray, results: Mapping, tc_exact: float, path: Path) -> Path:
    """Reconstruction error per spin against T, one curve per size (mean over replicas, error bars SD/sqrt(n)),
    a panel per model."""
    kinds = [k for k in KINDS if k in results]
    fig, axes = plots.figure(ncols=len(kinds), width=5.0, height=3.8)
    axes = np.atleast_1d(axes)
    for ax, kind in zip(axes, kinds):
        values = results[kind].reconstruction
        colours = _size_colours(list(values))
        for L, per_replica in values.items():
            mean = per_replica.mean(axis=0)
            error = (per_replica.std(axis=0, ddof=1) / math.sqrt(len(per_replica)) if len(per_replica) > 1 else None)
            ax.errorbar(T, mean, yerr=error, color=colours[L], marker="o", ms=3, lw=1.2, capsize=2, label=f"L = {L}")
        mark_transition(ax, tc_exact)
        ax.set_xlabel(T_LABEL)
        ax.set_ylabel("reconstruction error (nats per spin)")
        ax.set_title(NAMES[kind])
        ax.legend(fontsize=7)
    fig.suptitle("How well one number per configuration rebuilds it: best deep in either phase, worst near $T_c$")
    return plots.save(fig, path)


def latent_histograms(kept: Mapping, T_grid: np.ndarray, shown: Sequence[float], tc_exact: float, L: int,
                      path: Path) -> Path:
    """Histograms of each model's code (first replica, size L) at the grid temperatures nearest to ``shown``: one
    peak at high T, two below T_c. The code is divided by its RMS over the whole data set."""
    temperatures = sorted({float(T_grid[np.argmin(np.abs(T_grid - t))]) for t in shown})
    kinds = [k for k in KINDS if k in kept["code"]]
    fig, axes = plots.figure(ncols=len(temperatures), nrows=len(kinds), width=2.5, height=2.2, sharex=True)
    axes = np.asarray(axes).reshape(len(kinds), len(temperatures))
    for i, kind in enumerate(kinds):
        code = kept["code"][kind]
        scaled = code / np.sqrt(np.mean(code ** 2))
        edges = np.linspace(-1.05 * np.abs(scaled).max(), 1.05 * np.abs(scaled).max(), 41)
        for j, temperature in enumerate(temperatures):
            ax = axes[i, j]
            members = np.isclose(kept["temperature"], temperature)
            ax.hist(scaled[members], bins=edges, density=True, color=plots.MODEL_COLOURS[i], alpha=0.8)
            ax.set_yticks([])
            phase = "below $T_c$" if temperature < tc_exact else "above $T_c$"
            if i == 0:
                ax.set_title(f"T = {temperature:.3g} ({phase})", fontsize=9)
            if j == 0:
                ax.set_ylabel(f"{NAMES[kind]}\n(frequency)", fontsize=8)
            if i == len(kinds) - 1:
                ax.set_xlabel("code / its RMS", fontsize=8)
    fig.suptitle(f"The code's distribution across T, L = {L}: one peak in the disordered phase, two in the ordered")
    return plots.save(fig, path)


def latent_vs_m(kept: Mapping, pca_projection: np.ndarray | None, correlations: Mapping[str, float], L: int,
                path: Path) -> Path:
    """Each model's code (and PCA's p1) against the magnetisation per spin m, every configuration of the first
    replica at size L, coloured by temperature; the |Pearson r| (mean over replicas) in each title."""
    panels = [(NAMES[k], kept["code"][k], correlations.get(k)) for k in KINDS if k in kept["code"]]
    if pca_projection is not None:
        panels.append(("PCA: first principal component $p_1$", pca_projection, correlations.get("pca")))
    fig, axes = plots.figure(ncols=len(panels), width=4.0, height=3.6)
    axes = np.atleast_1d(axes)
    m, T = kept["m"], kept["temperature"]
    for ax, (name, code, r) in zip(axes, panels):
        x, y, t = thin(m, code, T)
        points = ax.scatter(x, y, c=t, s=4, cmap="coolwarm", alpha=0.7, lw=0)
        ax.set_xlabel("magnetisation per spin m")
        ax.set_ylabel("code (arbitrary units and sign)")
        ax.set_title(f"{name}\n|Pearson r| = {r:.4f} (mean over replicas)" if r is not None else name, fontsize=9)
    colourbar = fig.colorbar(points, ax=axes, shrink=0.9)
    colourbar.set_label(T_LABEL)
    fig.suptitle(f"Without labels, the code is the magnetisation (L = {L}, first replica)")
    return plots.save(fig, path)


def _draw_cumulant(ax, T: np.ndarray, result, colours: Mapping, tc_exact: float, zoom: tuple | None) -> None:
    for L, (mean, error) in result.curves.items():
        keep = slice(None) if zoom is None else (T >= zoom[0]) & (T <= zoom[1])
        ax.errorbar(T[keep], mean[keep], yerr=error[keep], color=colours[L], marker="o", ms=3, lw=1.2, capsize=2,
                    label=f"L = {L}")
    for k, ((a, b), estimate) in enumerate(result.crossings.items()):
        if not estimate.ok:
            continue
        mean, _ = result.curves[a]
        height = float(np.interp(estimate.value, T, mean))
        stat = estimate.stat if math.isfinite(estimate.stat) else None
        ax.errorbar([estimate.value], [height], xerr=None if stat is None else [stat], fmt="D", ms=6, mec="k",
                    color=colours[b], capsize=3, zorder=5,
                    label=f"L = {a}, {b} cross at {estimate.value:.3f}" + (f" ± {stat:.3f}" if stat else ""))
    mark_transition(ax, tc_exact)
    if zoom is not None:
        ax.set_xlim(*zoom)
    ax.set_xlabel(T_LABEL)


def cumulants(T: np.ndarray, results: Mapping, tc_exact: float, path: Path, zoom: tuple) -> Path:
    """U(T) per size for every model (mean over replicas; error bars SD/sqrt(n) over replicas), the crossings of
    consecutive sizes (diamonds, horizontal bars: their statistical error) and the exact T_c; the second row is
    the window ``zoom`` = (low, high) where the curves cross."""
    names = list(results)
    fig, axes = plots.figure(ncols=len(names), nrows=2, width=4.4, height=3.4)
    axes = np.asarray(axes).reshape(2, len(names))
    colours = _size_colours(list(next(iter(results.values())).curves))
    for j, name in enumerate(names):
        _draw_cumulant(axes[0, j], T, results[name], colours, tc_exact, None)
        _draw_cumulant(axes[1, j], T, results[name], colours, tc_exact, zoom)
        axes[0, j].set_title(NAMES[name])
        for ax in axes[:, j]:
            ax.set_ylabel(CUMULANT_LABELS[name], fontsize=8)
        axes[0, j].legend(fontsize=6, loc="lower left")
    fig.suptitle("Binder-like cumulant $1 - \\langle z^4\\rangle / 3\\langle z^2\\rangle^2$ of each code: 2/3 for two "
                 "peaks, 0 for one; the sizes cross near $T_c$ (bottom: close-up)")
    return plots.save(fig, path)


def estimates(results: Mapping, tc_exact: float, path: Path) -> Path:
    """Every model's T_c (thick bar: ± the combined standard error; thin bar: the 95 % interval) and its
    pseudo-critical crossings of size pairs (grey), beside the exact T_c; an estimate that does not exist is
    written as such."""
    rows = []
    for name, result in results.items():
        rows.append((f"{NAMES[name]}: " + ("$T_c(\\infty)$" if result.tc.kind == "T_c(inf)" else
                                            "crossing of the largest pair"), result.tc, True))
        for (a, b), estimate in result.crossings.items():
            rows.append((f"   crossing L = {a}, {b}", estimate, False))
    fig, ax = plots.figure(width=8.2, height=0.42 * len(rows) + 1.6)
    finite = [e for _, e, _ in rows if e.ok]
    span = max([abs(e.value - tc_exact) + (max(e.interval(0.95)) - e.value if math.isfinite(e.error) else 0)
                for e in finite] + [0.02]) * 1.15
    for y, (label, estimate, headline) in enumerate(rows):
        if not estimate.ok:
            ax.text(tc_exact, y, "no crossing" if "crossing" in estimate.failure else "no estimate", ha="center",
                    va="center", fontsize=8, color="0.4", style="italic")
            continue
        colour = "tab:blue" if headline else "0.55"
        if math.isfinite(estimate.error):
            low, high = estimate.interval(0.95)
            ax.plot([low, high], [y, y], color=colour, lw=1)
            ax.plot([estimate.value - estimate.error, estimate.value + estimate.error], [y, y], color=colour, lw=4,
                    alpha=0.6)
        ax.plot([estimate.value], [y], "o", color=colour, ms=7 if headline else 5, mec="k")
        text = f" {estimate.value:.4f}"
        if math.isfinite(estimate.stat):
            text += f" ± {estimate.stat:.4f} (stat)"
        if estimate.sys and math.isfinite(estimate.sys):
            text += f" ± {estimate.sys:.4f} (sys)"
        if estimate.kind == "T_c(inf)":
            text += "; 95 % interval " + ("covers" if estimate.covers(tc_exact, 0.95) else "misses") + " exact"
        ax.text(tc_exact + span, y, text, va="center", fontsize=7)
    ax.axvline(tc_exact, color="k", ls="--", lw=1, label=f"exact $T_c$ = {tc_exact:.4f} (Onsager)")
    ax.set_yticks(range(len(rows)), [label for label, _, _ in rows], fontsize=8)
    ax.set_xlim(tc_exact - span, tc_exact + span)
    ax.set_xlabel("temperature (J/k$_B$); thick bar: ± combined standard error, thin bar: 95 % interval")
    ax.legend(fontsize=7, loc="lower right")
    ax.invert_yaxis()
    ax.set_title("The transition located without labels: cumulant crossings of the autoencoders' codes and of PCA",
                 fontsize=9)
    return plots.save(fig, path)


def training(replicas: list, sizes: Sequence[int], path: Path) -> Path:
    """Training (solid) and validation (dashed) loss per spin against epoch, a panel per model, one colour per
    size, every replica drawn."""
    fig, axes = plots.figure(ncols=len(KINDS), width=5.0, height=3.6)
    axes = np.atleast_1d(axes)
    colours = _size_colours(sizes)
    ylabels = {"ae": "binary cross-entropy (nats per spin)", "vae": "negative ELBO (nats per spin)"}
    for ax, kind in zip(axes, KINDS):
        for L in sizes:
            for r, replica in enumerate(replicas):
                history = replica.histories[kind][L]
                epochs = np.arange(1, len(history["loss"]) + 1)
                first = r == 0
                ax.plot(epochs, history["loss"], color=colours[L], lw=1, alpha=0.8,
                        label=f"L = {L}, training" if first else None)
                if history["val_loss"]:
                    ax.plot(epochs, history["val_loss"], color=colours[L], lw=1, ls="--", alpha=0.8,
                            label=f"L = {L}, validation" if first else None)
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabels[kind])
        ax.set_title(f"{NAMES[kind]} ({len(replicas)} replica{'s' if len(replicas) > 1 else ''} per size)")
        ax.legend(fontsize=6, ncol=2)
    fig.suptitle("Training curves (early stopping keeps the best validation epoch)")
    return plots.save(fig, path)


def results(task, T: np.ndarray, replicas: list, model_results: Mapping, correlations: Mapping, tc_exact: float,
            figure_dir: Path) -> None:
    """Every figure of a run (the PCA summary, figures/pca.png, is drawn by task=ising's PCA analysis)."""
    L = task.sizes[-1]
    first = replicas[0]
    kept = first.kept[L]
    reconstruction(T, {k: model_results[k] for k in KINDS}, tc_exact, figure_dir / "reconstruction.png")
    latent_histograms(kept, T, task.histogram_temperatures, tc_exact, L, figure_dir / "latent_histograms.png")
    projection = first.pca.by_size[L].projections[:, 0] if first.pca is not None else None
    latent_vs_m(kept, projection, correlations, L, figure_dir / "latent_vs_m.png")
    dense = task.dense_range if task.temperatures is None and task.dense_range is not None else None
    zoom = (dense[0] - 0.01, dense[1] + 0.01) if dense else (tc_exact - 0.2, tc_exact + 0.2)
    cumulants(T, model_results, tc_exact, figure_dir / "cumulants.png", zoom)
    estimates(model_results, tc_exact, figure_dir / "estimates.png")
    training(replicas, task.sizes, figure_dir / "training.png")
