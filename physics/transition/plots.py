"""Figures of a transition located from any model's output: P(ordered) against T with its crossings, the
finite-size scaling of the crossings with the Binder cumulants, the data collapse, the PCA summary and the
confusion W.

Temperatures on every axis in units of J/k_B; the exact T_c is drawn as a dashed black line, the held-out
critical window as a grey band. Colours follow :data:`physics.app.plots.MODEL_COLOURS` (network first).
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from physics.app import plots

T_LABEL = "T (J/k$_B$)"

#: scatter plots show at most this many points (evenly strided: the same picture, a fraction of the drawing time)
MAX_POINTS = 4000


def thin(*arrays):
    """The arrays evenly strided down to at most :data:`MAX_POINTS` entries (the same subset of each)."""
    n = len(arrays[0])
    keep = np.linspace(0, n - 1, min(n, MAX_POINTS)).astype(int)
    return [np.asarray(a)[keep] for a in arrays]


def mark_transition(ax, tc_exact: float, window: Sequence[float] | None = None, label: str = "exact $T_c$"):
    """The exact T_c as a dashed black line and the critical ``window`` (if given) as a grey band."""
    ax.axvline(tc_exact, color="k", ls="--", lw=1, label=f"{label} = {tc_exact:.4f}")
    if window is not None:
        ax.axvspan(window[0], window[1], color="0.85", alpha=0.6, lw=0, label="critical window")


def ordered_probability(T: np.ndarray, curves: Mapping[str, tuple], tc_exact: float, window, path: Path,
                        title: str = "") -> Path:
    """Mean P(ordered) against T, one line per model with bootstrap error bars and its T_c crossing.

    curves : name -> (curve (n_T,), curve_stderr (n_T,), tc (CrossingEstimate)).
    """
    fig, ax = plots.figure(width=6.6, height=4.4)
    mark_transition(ax, tc_exact, window)
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
    p1, p2, colour = thin(result.projections[:, 0], result.projections[:, 1], T_samples)
    points = axes[2].scatter(p1, p2, c=colour, s=2, cmap="coolwarm", rasterized=True)
    axes[2].set_xlabel("$p_1$")
    axes[2].set_ylabel("$p_2$")
    fig.colorbar(points, ax=axes[2], label=T_LABEL, shrink=0.8)
    mark_transition(axes[3], tc_exact)
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
    mark_transition(ax, tc_exact)
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

    fits : label -> fit dict from :func:`physics.transition.scaling.fit_pseudo_critical`.
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
    mark_transition(ax_u, tc_exact)
    ax_u.set_xlim(*window)
    ax_u.set_xlabel(T_LABEL)
    ax_u.set_ylabel("Binder cumulant $U_4 = 1 - \\langle m^4\\rangle / 3\\langle m^2\\rangle^2$")
    ax_u.legend(fontsize=7)
    return plots.save(fig, path)


def collapse(T: np.ndarray, curves: Mapping[int, tuple], tc: float, nu: float, window, path: Path) -> Path:
    """P(ordered) of every size against T, and against the scaling variable (T - T_c) L^(1/nu)."""
    fig, (ax_raw, ax_scaled) = plots.figure(ncols=2, width=5.0, height=4.0)
    mark_transition(ax_raw, tc, window)
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
