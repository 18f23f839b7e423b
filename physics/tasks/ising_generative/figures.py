"""Figures of ``task=ising_generative``: the four observables against T for every source with the exact
references, their deviations in sigma, sample configurations side by side, the training curves, and the
deviations at T_c against n_hidden.

Temperatures in units of J/k_B; the exact T_c of the infinite lattice is the dashed black line of
:func:`physics.transition.plots.mark_transition`. Monte Carlo is black (training set: filled circles; held-out
set: open circles), the exact finite-lattice values a solid line, the infinite lattice a dotted grey line (for
orientation only: never compared), each RBM a colour of :data:`physics.app.plots.MODEL_COLOURS` (circles), each
baseline a colour with squares.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from physics.app import plots
from physics.tasks.ising_generative.estimators import OBSERVABLES, exact_observables, infinite_lattice
from physics.transition.plots import T_LABEL, mark_transition

#: deviations are drawn on a symmetric log scale, linear within this many sigma
LINEAR_SIGMA = 3.0
#: the tick marks of the deviation axes (sigma)
SIGMA_TICKS = (-1000, -300, -100, -30, -10, -3, -2, 0, 2, 3, 10, 30, 100, 300, 1000)


def _label(source: str) -> str:
    """Words for a source: ``rbm_h64_cd1`` -> ``RBM, 64 hidden, CD-1``; ``sklearn_rbm_h64`` -> ``sklearn_rbm,
    64 hidden``."""
    if source == "mc":
        return "Monte Carlo (training set)"
    if source == "mc_heldout":
        return "Monte Carlo (held-out set)"
    if source.startswith("rbm_h"):
        hidden, training = source[len("rbm_h"):].split("_", 1)
        method = training.rstrip("0123456789")
        return f"RBM, {hidden} hidden, {method.upper()}-{training[len(method):]}"
    name, _, hidden = source.rpartition("_h")
    return f"{plots.words(name)} (baseline), {hidden} hidden"


def _style(index: int, source: str) -> dict:
    colour = plots.MODEL_COLOURS[index % len(plots.MODEL_COLOURS)]
    return {"color": colour, "marker": "o" if source.startswith("rbm_") else "s", "ms": 4, "lw": 0,
            "elinewidth": 1, "capsize": 2}


def _offsets(T: np.ndarray, n: int) -> np.ndarray:
    """Small horizontal shifts that keep n series of error bars apart."""
    span = float(T.max() - T.min()) or 1.0
    return (np.arange(n) - (n - 1) / 2) * 0.008 * span


def observables(T: np.ndarray, estimates: Mapping[str, list], L: int, tc: float, model_sources: Sequence[str],
                path: Path) -> Path:
    """e, |m|, c and chi per spin against T: Monte Carlo with jackknife error bars, the exact L x L values as a line
    (e, c; |m|, chi only where enumeration exists), the infinite lattice dotted, every model's points."""
    low, high = float(T.min()), float(T.max())
    pad = 0.05 * (high - low or 1.0)
    grid = np.linspace(max(low - pad, 0.05), high + pad, 300)
    exact, infinite = exact_observables(L, grid), infinite_lattice(grid)
    sources = ["mc", "mc_heldout", *model_sources]
    shifts = dict(zip(sources, _offsets(T, len(sources))))
    fig, axes = plots.figure(ncols=2, nrows=2, width=5.2, height=3.8)
    for ax, (obs, words) in zip(axes.flat, OBSERVABLES.items()):
        mark_transition(ax, tc)
        if exact[obs] is not None:
            ax.plot(grid, exact[obs], color="k", lw=1.3, label=f"exact, {L} x {L} torus")
        if obs in infinite:
            values = infinite[obs] if obs != "c" else np.where(infinite[obs] < 4 * np.nanmax(exact["c"]),
                                                               infinite[obs], np.nan)
            ax.plot(grid, values, color="0.55", lw=1, ls=":", label="exact, L = ∞ (orientation only)")
        for j, source in enumerate(sources):
            values = np.array([per_T[obs] for per_T in estimates[source]])
            if source == "mc":
                style = {"color": "k", "marker": "o", "ms": 5, "lw": 0, "elinewidth": 1.2, "capsize": 3}
            elif source == "mc_heldout":
                style = {"color": "k", "marker": "o", "ms": 5, "mfc": "white", "lw": 0, "elinewidth": 1,
                         "capsize": 3}
            else:
                style = _style(j - 2, source)
            ax.errorbar(T + shifts[source], values[:, 0], yerr=values[:, 1], label=_label(source), **style)
        ax.set_xlabel(T_LABEL)
        ax.set_ylabel(words)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8)
    fig.suptitle(f"Observables of generated vs Monte Carlo configurations, L = {L} (error bars: jackknife, 1σ)")
    return plots.save(fig, path)


def deviations(T: np.ndarray, deviations: Mapping[str, list], sigma: float, tc: float,
               model_sources: Sequence[str], path: Path) -> Path:
    """(model - held-out Monte Carlo) / combined error against T, one panel per observable; the training Monte
    Carlo set against the held-out one (black) shows what two independent sets give; the band is +-sigma (the
    target)."""
    sources = ["mc", *model_sources]
    shifts = dict(zip(sources, _offsets(T, len(sources))))
    fig, axes = plots.figure(ncols=2, nrows=2, width=5.2, height=3.6)
    for ax, (obs, words) in zip(axes.flat, OBSERVABLES.items()):
        mark_transition(ax, tc)
        ax.axhspan(-sigma, sigma, color="tab:green", alpha=0.12, lw=0, label=f"within ±{sigma:g}σ (target)")
        ax.axhline(0, color="0.3", lw=0.8)
        for j, source in enumerate(sources):
            z = np.array([per_T[obs]["vs_heldout"] for per_T in deviations[source]])
            if source == "mc":
                style = {"color": "k", "marker": "o", "ms": 5, "lw": 0}
            else:
                style = {key: value for key, value in _style(j - 1, source).items()
                         if key not in ("elinewidth", "capsize")}
                style["lw"] = 0.8
            ax.plot(T + shifts[source], np.clip(z, -1e6, 1e6), label=_label(source), **style)
        ax.set_yscale("symlog", linthresh=LINEAR_SIGMA)
        low, high = ax.get_ylim()
        ticks = [t for t in SIGMA_TICKS if low <= t <= high]
        ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel(T_LABEL)
        ax.set_ylabel(f"{words.split(' (')[0]}: deviation (σ)")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8)
    fig.suptitle("Deviation from the held-out Monte Carlo set in units of the combined standard error "
                 "(symmetric log scale)")
    return plots.save(fig, path)


def symmetry(T: np.ndarray, summary: Mapping[str, Mapping], tc: float, model_sources: Sequence[str],
             path: Path) -> Path:
    """The share of configurations with m > 0 against T (exactly 1/2 by the Z2 symmetry) for Monte Carlo and every
    model; a model that learned one ordered state only sits at 0 or 1 below T_c. (A Monte Carlo set keeps the
    signs of its 16-32 chains below T_c, so its share scatters by ~0.1 there.)"""
    sources = ["mc", "mc_heldout", *model_sources]
    shifts = dict(zip(sources, _offsets(T, len(sources))))
    fig, ax = plots.figure(width=5.6, height=4.2)
    mark_transition(ax, tc)
    ax.axhline(0.5, color="0.3", lw=1, label="exact: 1/2 (Z$_2$ symmetry)")
    for j, source in enumerate(sources):
        up = np.array([summary[source][temperature]["up_fraction"] for temperature in summary[source]
                       if temperature.startswith("T")])
        if source in ("mc", "mc_heldout"):
            style = {"color": "k", "marker": "o", "ms": 5, "lw": 0, "mfc": "k" if source == "mc" else "white"}
        else:
            style = {key: value for key, value in _style(j - 2, source).items()
                     if key not in ("elinewidth", "capsize")}
            style["lw"] = 0.8
        ax.plot(T + shifts[source], up, label=_label(source), **style)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel(T_LABEL)
    ax.set_ylabel("share of configurations with m > 0")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right center", fontsize=7)
    ax.set_title("Z$_2$ symmetry of the samples (e, |m|, c, χ cannot see it)", fontsize=10)
    return plots.save(fig, path)


def configurations(rows: Sequence[tuple], temperatures: Sequence[float], path: Path) -> Path:
    """Configurations side by side as +-1 images (black: s = +1): one row per source, a few per temperature."""
    n_shown = max(len(images) for _, per_T in rows for images in per_T)
    n_cols = len(temperatures) * n_shown
    fig, axes = plots.figure(ncols=n_cols, nrows=len(rows), width=1.25, height=1.35)
    axes = np.asarray(axes).reshape(len(rows), n_cols)
    for r, (label, per_T) in enumerate(rows):
        for t, images in enumerate(per_T):
            for s in range(n_shown):
                ax = axes[r, t * n_shown + s]
                ax.set_xticks([])
                ax.set_yticks([])
                ax.grid(False)
                ax.spines[:].set_visible(True)
                if s < len(images):
                    image = images[s]
                    ax.imshow(image, cmap="binary", vmin=-1, vmax=1, interpolation="nearest")
                    ax.set_xlabel(f"m = {image.mean():+.2f}", fontsize=7)
                if r == 0 and s == 0:
                    ax.set_title(f"T = {temperatures[t]:.4g}", fontsize=9, loc="left")
        axes[r, 0].set_ylabel(label, fontsize=8)
    fig.suptitle("Configurations: Monte Carlo and generated (black: s = +1, white: s = −1)")
    return plots.save(fig, path)


def training(T: np.ndarray, trained: Mapping[str, list], path: Path) -> Path:
    """Per temperature: the reconstruction error per epoch of every RBM (top) and the log-likelihood per
    configuration (bottom: per epoch where core.rbm records it exactly, n_hidden <= 16; the final value on the
    training set, filled, and on the held-out set, open, for every model, exact or AIS)."""
    fig, axes = plots.figure(ncols=len(T), nrows=2, width=3.3, height=3.0)
    axes = np.asarray(axes).reshape(2, len(T))
    last_epoch = max([len(r.reconstruction_history) for records in trained.values() for r in records] + [1])
    for j, (source, records) in enumerate(trained.items()):
        colour = plots.MODEL_COLOURS[j % len(plots.MODEL_COLOURS)]
        marker = "o" if source.startswith("rbm_") else "s"
        for i, record in enumerate(records):
            top, bottom = axes[0, i], axes[1, i]
            history = record.reconstruction_history
            if history:
                top.plot(np.arange(1, len(history) + 1), history, color=colour, lw=1.2, label=_label(source))
            else:  # a baseline: its final error only
                top.plot([last_epoch], [record.likelihood["reconstruction_error"]], color=colour, marker=marker,
                         lw=0, label=f"{_label(source)} (final)")
            curve = np.asarray(record.likelihood_history, dtype=float)
            if curve.size and np.isfinite(curve).any():
                bottom.plot(np.arange(1, curve.size + 1), curve, color=colour, lw=1.2)
            ll = record.likelihood
            if np.isfinite(ll["train"]):
                bottom.plot([last_epoch], [ll["train"]], color=colour, marker=marker, lw=0)
                bottom.plot([last_epoch], [ll["heldout"]], color=colour, marker=marker, mfc="white", lw=0)
    for i, t in enumerate(T):
        axes[0, i].set_title(f"T = {t:.4g}", fontsize=10)
        axes[0, i].set_yscale("log")
        axes[0, i].set_xlabel("epoch")
        axes[1, i].set_xlabel("epoch")
    axes[0, 0].set_ylabel("reconstruction error\n(mean squared, per unit)")
    axes[1, 0].set_ylabel("log-likelihood per configuration\n(nats; final: ● train, ○ held-out)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8)
    fig.suptitle("Training: one-step reconstruction error and log-likelihood (exact, or AIS for the final values)")
    return plots.save(fig, path)


def _family_label(family: str) -> str:
    """``rbm_cd1`` -> ``RBM CD-1``; a baseline's name as it is."""
    if not family.startswith("rbm_"):
        return f"{plots.words(family)} (baseline)"
    training = family[len("rbm_"):]
    method = training.rstrip("0123456789")
    return f"RBM {method.upper()}-{training[len(method):]}"


def critical(summary: Mapping, headline_family: str, path: Path) -> Path:
    """At the temperature nearest T_c: the mean |deviation| from the held-out Monte Carlo set against n_hidden per
    family (left), and each observable's |deviation| for the headline family (right); the dotted line is the
    training Monte Carlo set's (two independent sets), the dashed one 2σ."""
    trend = summary["trend"]
    fig, (left, right) = plots.figure(ncols=2, width=5.0, height=3.8)
    hidden = sorted({h for entry in trend.values() for h in entry["n_hidden"]})
    for j, (family, entry) in enumerate(trend.items()):
        colour = plots.MODEL_COLOURS[j % len(plots.MODEL_COLOURS)]
        marker = "o" if family.startswith("rbm_") else "s"
        left.plot(entry["n_hidden"], entry["mean_abs_deviation"], color=colour, marker=marker,
                  label=_family_label(family))
    if headline_family in trend:
        entry = trend[headline_family]
        for j, (obs, words) in enumerate(OBSERVABLES.items()):
            right.plot(entry["n_hidden"], np.abs(entry[obs]), color=plots.MODEL_COLOURS[j], marker="o",
                       label=words.split(" (")[0])
        right.set_title(_family_label(headline_family), fontsize=9)
    for ax in (left, right):
        ax.axhline(2.0, color="tab:red", ls="--", lw=1, label="2σ")
        ax.axhline(summary["mc"]["mean_abs_deviation"], color="k", ls=":", lw=1,
                   label="Monte Carlo: training vs held-out set (mean)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(hidden, [str(h) for h in hidden])
        ax.minorticks_off()
        ax.set_xlabel("hidden units")
        ax.legend(fontsize=7)
    left.set_ylabel("mean |deviation| over e, |m|, c, χ (σ)")
    right.set_ylabel("|deviation| (σ)")
    fig.suptitle(f"At T = {summary['T']!r} (T_c = {summary['tc_exact']:.6f}): deviation from the held-out Monte "
                 f"Carlo set against model size")
    return plots.save(fig, path)
