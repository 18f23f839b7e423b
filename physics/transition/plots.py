"""Figures of the unsupervised methods (the PCA summary over sizes and the confusion W) and the helpers the
task's own figures share: :data:`T_LABEL`, :func:`mark_transition` and :func:`thin`.

Temperatures on every axis in units of J/k_B; the exact T_c of the infinite lattice is drawn as a dashed black
line labelled "exact T_c (L = ∞)", a critical window (when given) as a grey band. Colours follow
:data:`physics.app.plots.MODEL_COLOURS`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from physics.app import plots
from physics.transition.unsupervised import ConfusionResult, PCAScan

T_LABEL = "temperature T (J/k$_B$)"

#: scatter plots show at most this many points (evenly strided: the same picture, a fraction of the drawing time)
MAX_POINTS = 4000


def thin(*arrays):
    """The arrays evenly strided down to at most :data:`MAX_POINTS` entries (the same subset of each).

    Parameters
    ----------
    *arrays : array_like
        Arrays of the same length.

    Returns
    -------
    list of ndarray
        The thinned arrays, in order.
    """
    n = len(arrays[0])
    keep = np.linspace(0, n - 1, min(n, MAX_POINTS)).astype(int)
    return [np.asarray(a)[keep] for a in arrays]


def mark_transition(ax, tc_exact: float, window: Sequence[float] | None = None,
                    label: str = "exact $T_c$ (L = ∞)"):
    """The exact T_c as a dashed black line and the critical ``window`` (if given) as a grey band.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes to draw on (temperature on x).
    tc_exact : float
        The exact critical temperature (J/k_B).
    window : sequence of float or None, default None
        (low, high) of the critical window (J/k_B).
    label : str, default "exact $T_c$ (L = ∞)"
        Legend label of the line (its value is appended).
    """
    ax.axvline(tc_exact, color="k", ls="--", lw=1, label=f"{label} = {tc_exact:.4f}")
    if window is not None:
        ax.axvspan(window[0], window[1], color="0.85", alpha=0.6, lw=0, label="critical window")


def pca_summary(scan, tc_exact: float, path: Path, *, estimates=None,
                abs_m: Mapping[int, np.ndarray] | None = None, title: str = "") -> Path:
    """PCA of raw configurations over several sizes: what the first component is, its fluctuation with the
    located peaks, and its Binder cumulant with the crossings.

    Panels: (a) explained variance ratio of the first components, per size; (b) ``<|p1|>/sqrt(N)`` against T
    per size (with ``<|m|>`` when ``abs_m`` is given); (c) ``chi_p(T)`` per size with jackknife error bars and
    its peak (diamond, horizontal bar: its error); (d) ``U_p(T)`` per size and the crossings of consecutive sizes.

    Parameters
    ----------
    scan : PCAScan
        One replica's :func:`physics.transition.unsupervised.pca_by_size` (its curves are drawn).
    tc_exact : float
        The exact critical temperature of the infinite lattice (J/k_B), drawn as a reference line.
    path : Path
        Where the PNG goes.
    estimates : PCAEstimates or None, default None
        :func:`physics.transition.unsupervised.combine_pca_scans` over the replicas; the peaks and crossings
        marked are its values and errors. None: the scan's own, with their bootstrap errors.
    abs_m : mapping or None, default None
        L -> ``<|m|>`` per temperature (n_T,), drawn with ``<|p1|>/sqrt(N)`` for comparison.
    title : str, default ""
        Figure title (a default naming the method otherwise).

    Returns
    -------
    Path
        ``path``.
    """
    if not isinstance(scan, PCAScan):
        raise ValueError(f"The 'scan' parameter must be a PCAScan. Got {type(scan).__name__} instead.")
    fig, axes = plots.figure(ncols=4, width=3.8, height=3.5)
    colours = dict(zip(scan.sizes, plots.MODEL_COLOURS))
    for L in scan.sizes:
        size, colour = scan.by_size[L], colours[L]
        k = np.arange(1, size.explained_variance_ratio.size + 1)
        axes[0].plot(k, size.explained_variance_ratio, "o-", ms=3, color=colour,
                     label=f"L = {L} (|cos(w$_1$, uniform)| = {size.uniformity:.3f})")
        axes[1].errorbar(size.T, size.abs_p1, yerr=size.abs_p1_err, color=colour, marker="o", ms=2.5, lw=1,
                         capsize=1, label=f"L = {L}")
        if abs_m is not None and L in abs_m:
            axes[1].plot(size.T, abs_m[L], "s", ms=4, mfc="none", color=colour)
        axes[2].errorbar(size.T, size.chi, yerr=size.chi_err, color=colour, marker="o", ms=2.5, lw=1, capsize=1,
                         label=f"L = {L}")
        value, error = _located(scan.peak_T[L], scan.peak_T_err[L], estimates and estimates.peaks.get(L))
        if np.isfinite(value):
            height = np.interp(value, size.T, size.chi)
            axes[2].errorbar([value], [height], xerr=[error] if np.isfinite(error) else None, fmt="D", ms=6,
                             color=colour, mec="k", capsize=3, zorder=5,
                             label=f"peak {value:.3f} ± {error:.3f}")
        axes[3].errorbar(size.T, size.binder, yerr=size.binder_err, color=colour, marker="o", ms=2.5, lw=1,
                         capsize=1, label=f"L = {L}")
    for i, (pair, crossing) in enumerate(scan.binder_crossings.items()):
        value, error = _located(crossing, scan.binder_crossings_err[pair], estimates and estimates.crossings.get(pair))
        if np.isfinite(value):
            small = scan.by_size[pair[0]]
            axes[3].errorbar([value], [np.interp(value, small.T, small.binder)],
                             xerr=[error] if np.isfinite(error) else None, fmt="D", ms=6,
                             color=plots.MODEL_COLOURS[len(scan.sizes) + i], mec="k", capsize=3, zorder=5,
                             label=f"L = {pair[0]}, {pair[1]} cross at {value:.3f} ± {error:.3f}")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("principal component")
    axes[0].set_ylabel("explained variance ratio")
    axes[0].legend(fontsize=6)
    for ax in axes[1:]:
        mark_transition(ax, tc_exact)
        ax.set_xlabel(T_LABEL)
    axes[1].set_ylabel("first component $\\langle|p_1|\\rangle/\\sqrt{N}$" + (" (squares: $\\langle|m|\\rangle$)"
                                                                           if abs_m is not None else ""))
    axes[2].set_yscale("log")
    axes[2].set_ylabel("fluctuation of $p_1$: $(\\langle p_1^2\\rangle - \\langle|p_1|\\rangle^2)/T$")
    axes[3].set_ylabel("Binder cumulant of $p_1$: $1 - \\langle p_1^4\\rangle / 3\\langle p_1^2\\rangle^2$")
    for ax in axes[1:]:
        ax.legend(fontsize=6)
    fig.suptitle(title or "PCA of raw configurations (Wang 2016): peaks of the fluctuation and Binder crossings "
                          "(pseudo-critical temperatures of finite L)")
    return plots.save(fig, path)


def _located(value: float, error: float, estimate) -> tuple[float, float]:
    """(value, error) of a located peak or crossing: the combined estimate when given, else the scan's own."""
    if estimate is not None:
        return estimate.value, estimate.stat
    return value, error


def confusion_w(result, tc_exact: float, path: Path, *, title: str = "") -> Path:
    """Learning by confusion: (a) test accuracy against the guessed critical temperature (the W) per seed, with
    the trivial accuracy from the class proportions; (b) the accuracy above it, mean ± SD over seeds, each
    seed's peak and the estimate with its error.

    Parameters
    ----------
    result : ConfusionResult
        :func:`physics.transition.unsupervised.confusion_scan`.
    tc_exact : float
        The exact critical temperature of the infinite lattice (J/k_B), drawn as a reference line.
    path : Path
        Where the PNG goes.
    title : str, default ""
        Figure title (a default naming the method otherwise).

    Returns
    -------
    Path
        ``path``.
    """
    if not isinstance(result, ConfusionResult):
        raise ValueError(f"The 'result' parameter must be a ConfusionResult. Got {type(result).__name__} instead.")
    fig, (ax, ax_excess) = plots.figure(ncols=2, width=5.0, height=3.9)
    guess_label = "guessed critical temperature T' (J/k$_B$)"
    g, estimate = result.guesses, result.tc
    for s, row in enumerate(result.accuracy):
        ax.plot(g, row, "-", color="tab:blue", lw=0.8, alpha=0.35,
                label="trained, one line per seed" if s == 0 else None)
    ax.plot(g, result.accuracy.mean(axis=0), "o-", ms=3, color="tab:blue", label="trained, mean over seeds")
    ax.plot(g, result.trivial, "--", color="0.4", label="trivial: max(p, 1 − p) from the class proportions")
    ax.plot(g[result.one_class], result.accuracy.mean(axis=0)[result.one_class], "s", color="0.5",
            label="one class only (not trained)")
    ax.set_ylabel("test accuracy")
    band_low, band_high = result.excess_mean - result.excess_sd, result.excess_mean + result.excess_sd
    ax_excess.fill_between(g, band_low, band_high, color="tab:blue", alpha=0.25, lw=0, label="± SD over seeds")
    ax_excess.plot(g, result.excess_mean, "o-", ms=3, color="tab:blue", label="mean over seeds")
    ax_excess.plot(g[~result.coarse], result.excess_mean[~result.coarse], "o", ms=3, mfc="none", color="k",
                   label="fine pass")
    peaks = result.seed_peaks[np.isfinite(result.seed_peaks)]
    if peaks.size:
        ax_excess.plot(peaks, np.full(peaks.size, np.nanmax(band_high)), "|", ms=10, color="tab:red",
                       label="peak of each seed")
    if estimate.ok:
        ax_excess.errorbar([estimate.value], [np.interp(estimate.value, g, result.excess_mean)],
                           xerr=[estimate.stat] if np.isfinite(estimate.stat) else None, fmt="D", ms=7,
                           color="tab:red", mec="k", capsize=4, zorder=5,
                           label=f"estimate T*(L) = {estimate.value:.3f} ± {estimate.stat:.3f} "
                                 f"({estimate.n_replicas - estimate.n_failed} seeds)")
    else:
        ax_excess.set_title(f"no estimate: {estimate.failure}", fontsize=7)
    ax_excess.axhline(0, color="0.4", lw=0.8)
    ax_excess.set_ylabel("accuracy above the trivial one")
    for axis in (ax, ax_excess):
        mark_transition(axis, tc_exact)
        axis.set_xlabel(guess_label)
        axis.legend(fontsize=6, loc="best")
    fig.suptitle(title or "Learning by confusion (van Nieuwenburg et al. 2017)")
    return plots.save(fig, path)
