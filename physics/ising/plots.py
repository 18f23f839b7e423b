"""Figures of the Ising tasks: configurations, P(ordered) against T, accuracy, what the network learned, PCA,
the confusion W, transfer to the triangular lattice, finite-size scaling and data collapse.

Temperatures on every axis in units of J/k_B; the exact T_c is drawn as a dashed black line, the held-out
critical window as a grey band. Colours follow :data:`physics.plots.MODEL_COLOURS` (network first).
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from physics import plots

T_LABEL = "T (J/k$_B$)"
#: critical-window accuracies of Mehta et al., "A high-bias, low-variance introduction to machine learning for
#: physicists", Phys. Rep. 810, 1 (2019), L = 40 (ranges over their regularisation strengths)
MEHTA_REFERENCES = {"logistic regression": (0.63, 0.69), "random forest": (0.83, 0.83), "CNN": (0.86, 0.91)}


#: scatter plots show at most this many points (evenly strided: the same picture, a fraction of the drawing time)
MAX_POINTS = 4000


def _thin(*arrays):
    n = len(arrays[0])
    keep = np.linspace(0, n - 1, min(n, MAX_POINTS)).astype(int)
    return [np.asarray(a)[keep] for a in arrays]


def _image_axes(ax) -> None:
    """A framed image panel without ticks or grid (a lattice has no coordinates worth reading)."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.spines[:].set_visible(True)


def _mark_transition(ax, tc_exact: float, window: Sequence[float] | None = None, label: str = "exact $T_c$"):
    ax.axvline(tc_exact, color="k", ls="--", lw=1, label=f"{label} = {tc_exact:.4f}")
    if window is not None:
        ax.axvspan(window[0], window[1], color="0.85", alpha=0.6, lw=0, label="critical window")


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


def ordered_probability(T: np.ndarray, curves: Mapping[str, tuple], tc_exact: float, window, path: Path,
                        title: str = "") -> Path:
    """Mean P(ordered) against T, one line per model with bootstrap error bars and its T_c crossing.

    curves : name -> (curve (n_T,), curve_stderr (n_T,), tc (CrossingEstimate)).
    """
    fig, ax = plots.figure(width=6.6, height=4.4)
    _mark_transition(ax, tc_exact, window)
    for colour, (name, (curve, stderr, tc)) in zip(plots.MODEL_COLOURS, curves.items()):
        ax.errorbar(T, curve, yerr=stderr, color=colour, marker="o", ms=3, lw=1.2, capsize=2,
                    label=f"{name}: $T_c$ = {tc.value:.3f} ± {tc.stderr:.3f}")
        if np.isfinite(tc.value):
            ax.errorbar([tc.value], [0.5], xerr=[tc.stderr], color=colour, marker="D", ms=6, capsize=4,
                        mec="k", zorder=5)
    ax.axhline(0.5, color="0.4", lw=0.8)
    ax.set_xlabel(T_LABEL)
    ax.set_ylabel("mean P(ordered)")
    ax.set_ylim(-0.03, 1.03)
    ax.legend(fontsize=7, loc="upper right")
    if title:
        ax.set_title(title)
    return plots.save(fig, path)


def accuracy_by_temperature(T: np.ndarray, accuracies: Mapping[str, np.ndarray], tc_exact: float, window,
                            path: Path) -> Path:
    """Classification accuracy of every model at each temperature of the evaluation set."""
    fig, ax = plots.figure(width=6.6, height=4.0)
    _mark_transition(ax, tc_exact, window)
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
        x, y, colour = _thin(x, y, T)
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


def pca_summary(result, abs_m: np.ndarray, L: int, tc_exact: float, T_samples: np.ndarray, path: Path) -> Path:
    """Explained variance, the first component's weights, p1 against p2 and <|p1|>/sqrt(N) against T."""
    fig, axes = plots.figure(ncols=4, width=3.4, height=3.2)
    k = np.arange(1, result.explained_variance_ratio.size + 1)
    axes[0].bar(k, result.explained_variance_ratio, color="tab:blue")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("principal component")
    axes[0].set_xticks(k[:: max(1, k.size // 5)])
    axes[0].set_ylabel("explained variance ratio")
    w1 = result.components[0].reshape(L, L) * np.sqrt(L * L)
    shown = axes[1].imshow(w1, cmap="RdBu_r", vmin=-2, vmax=2, interpolation="nearest")
    axes[1].set_title(f"$w_1\\sqrt{{N}}$ (uniform: ±1; |cos| = {result.uniformity:.3f})", fontsize=8)
    axes[1].grid(False)
    fig.colorbar(shown, ax=axes[1], shrink=0.8)
    p1, p2, colour = _thin(result.projections[:, 0], result.projections[:, 1], T_samples)
    points = axes[2].scatter(p1, p2, c=colour, s=2, cmap="coolwarm", rasterized=True)
    axes[2].set_xlabel("$p_1$")
    axes[2].set_ylabel("$p_2$")
    fig.colorbar(points, ax=axes[2], label=T_LABEL, shrink=0.8)
    _mark_transition(axes[3], tc_exact)
    axes[3].plot(result.T, result.abs_p1, "o-", ms=3, color="tab:blue", label="$\\langle|p_1|\\rangle/\\sqrt{N}$")
    axes[3].plot(result.T, abs_m, "s", ms=3, mfc="none", color="tab:orange", label="$\\langle|m|\\rangle$")
    twin = axes[3].twinx()
    twin.plot(result.T, result.fluctuation, ":", color="tab:green", label="fluctuation of $p_1$")
    twin.set_ylabel("$(\\langle p_1^2\\rangle - \\langle|p_1|\\rangle^2)/T$")
    axes[3].axvline(result.tc_estimate, color="tab:green", lw=1, label=f"PCA peak {result.tc_estimate:.3f}")
    axes[3].set_xlabel(T_LABEL)
    axes[3].set_ylabel("order parameter")
    axes[3].legend(fontsize=6, loc="center left")
    fig.suptitle(f"PCA of raw configurations (Wang 2016), L = {L}")
    return plots.save(fig, path)


def confusion_w(result, tc_exact: float, path: Path) -> Path:
    """Learning by confusion: test accuracy against the guessed critical temperature (the W)."""
    fig, ax = plots.figure(width=5.6, height=3.8)
    _mark_transition(ax, tc_exact)
    ax.plot(result.guesses, result.accuracy, "o-", color="tab:blue", label="trained on guessed labels")
    ax.plot(result.guesses[result.trivial], result.accuracy[result.trivial], "s", color="0.5",
            label="one class only (trivial)")
    if np.isfinite(result.tc_estimate):
        ax.axvline(result.tc_estimate, color="tab:red", lw=1.2, label=f"W peak {result.tc_estimate:.3f}")
    ax.set_xlabel("guessed $T_c'$ (J/k$_B$)")
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=7)
    ax.set_title("Learning by confusion (van Nieuwenburg et al. 2017)")
    return plots.save(fig, path)


def finite_size_scaling(sizes, tc, stderr, fits: Mapping[str, dict], binder: Sequence[tuple], binder_tc,
                        tc_exact: float, binder_curves: Mapping[int, tuple], T: np.ndarray, window, path: Path) -> Path:
    """(a) T_c(L) against 1/L with the scaling fits and the Binder crossings; (b) U_4(T) for every L inside
    the critical ``window`` (where the curves cross).

    fits : label -> fit dict from :func:`physics.ising.scaling.fit_pseudo_critical`.
    binder : sequence of (L_small, L_large, CrossingEstimate). binder_tc : CrossingEstimate or None.
    binder_curves : L -> (U_4 (n_T,), stderr (n_T,)).
    """
    fig, (ax, ax_u) = plots.figure(ncols=2, width=5.2, height=4.2)
    sizes = np.asarray(sizes, dtype=float)
    ax.axhline(tc_exact, color="k", ls="--", lw=1, label=f"Onsager $T_c$ = {tc_exact:.4f}")
    ax.errorbar(1 / sizes, tc, yerr=stderr, fmt="o", color="tab:blue", capsize=3, label="network $T_c(L)$")
    x = np.linspace(0, 1.05 / sizes.min(), 200)
    for colour, (label, fit) in zip(("tab:blue", "tab:orange"), fits.items()):
        with np.errstate(divide="ignore"):
            curve = fit["tc_infinite"] + fit["a"] * np.where(x > 0, x, np.nan) ** (1 / fit["nu"])
        curve[0] = fit["tc_infinite"]
        ax.plot(x, curve, color=colour, lw=1, ls="-" if colour == "tab:blue" else "-.",
                label=f"{label}: $T_c(\\infty)$ = {fit['tc_infinite']:.4f} ± {fit['tc_infinite_stderr']:.4f}")
        ax.errorbar([0], [fit["tc_infinite"]], yerr=[fit["tc_infinite_stderr"]], fmt="*", ms=10, color=colour,
                    capsize=4)
    for i, (small, large, crossing) in enumerate(binder):
        ax.errorbar([1 / np.sqrt(small * large)], [crossing.value], yerr=[crossing.stderr], fmt="s", mfc="none",
                    color="tab:green", capsize=3,
                    label="Binder crossing of L, L' at $1/\\sqrt{LL'}$" if i == 0 else None)
    # the limits follow the measured points (a poorly constrained extrapolation's error bar may leave them)
    shown = np.concatenate([np.asarray(tc) - stderr, np.asarray(tc) + stderr, [tc_exact],
                            [fit["tc_infinite"] for fit in fits.values()], [c.value for _, _, c in binder]])
    shown = shown[np.isfinite(shown)]
    margin = 0.1 * (shown.max() - shown.min()) + 1e-3
    ax.set_ylim(shown.min() - margin, shown.max() + margin)
    ax.set_xlabel("1 / L")
    ax.set_ylabel("pseudo-critical temperature (J/k$_B$)")
    ax.legend(fontsize=6)
    title = "network crossing of P(ordered) = 1/2"
    if binder_tc is not None:
        title += f"\nBinder $T_c$ = {binder_tc.value:.4f} ± {binder_tc.stderr:.4f}"
    ax.set_title(title, fontsize=9)
    for colour, (L, (curve, err)) in zip(plots.MODEL_COLOURS, binder_curves.items()):
        ax_u.errorbar(T, curve, yerr=err, color=colour, marker="o", ms=2, lw=1, capsize=1, label=f"L = {L}")
    _mark_transition(ax_u, tc_exact)
    ax_u.set_xlim(*window)
    ax_u.set_xlabel(T_LABEL)
    ax_u.set_ylabel("Binder cumulant $U_4 = 1 - \\langle m^4\\rangle / 3\\langle m^2\\rangle^2$")
    ax_u.legend(fontsize=7)
    return plots.save(fig, path)


def collapse(T: np.ndarray, curves: Mapping[int, tuple], tc: float, nu: float, window, path: Path) -> Path:
    """P(ordered) of every size against T, and against the scaling variable (T - T_c) L^(1/nu)."""
    fig, (ax_raw, ax_scaled) = plots.figure(ncols=2, width=5.0, height=4.0)
    _mark_transition(ax_raw, tc, window)
    for colour, (L, (curve, err)) in zip(plots.MODEL_COLOURS, curves.items()):
        ax_raw.errorbar(T, curve, yerr=err, color=colour, marker="o", ms=2, lw=1, capsize=1, label=f"L = {L}")
        ax_scaled.errorbar((T - tc) * L ** (1 / nu), curve, yerr=err, color=colour, marker="o", ms=2, lw=1,
                           capsize=1, label=f"L = {L}")
    ax_raw.set_xlabel(T_LABEL)
    ax_raw.set_ylabel("mean P(ordered)")
    ax_raw.legend(fontsize=7)
    ax_scaled.axvline(0, color="k", ls="--", lw=1)
    ax_scaled.set_xlabel(f"$(T - T_c)\\,L^{{1/\\nu}}$  ($T_c$ = {tc:.4f}, $\\nu$ = {nu:g})")
    ax_scaled.set_ylabel("mean P(ordered)")
    ax_scaled.set_xlim(-15 * nu, 15 * nu)
    ax_scaled.legend(fontsize=7)
    fig.suptitle("data collapse of the network output")
    return plots.save(fig, path)
