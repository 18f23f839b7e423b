"""Figures of ``task=dynamics``: forecasts against the truth, the attractor, error growth, valid times, the hidden
coordinate, the training curves. Times in the system's physical time unit (Lyapunov times for Lorenz-63)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from physics.app import plots

#: the two features of the phase-space projection of each system (first two features otherwise)
PROJECTIONS = {"lorenz": ("x", "z"), "pendulum": ("sin_theta", "omega")}
TRUTH = dict(color="k", lw=1.6)
#: closed-loop forecasts drawn in the attractor figure (all of them would hide each other)
N_ATTRACTOR = 5
SYSTEM_WORDS = {"lorenz": "Lorenz-63", "pendulum": "driven pendulum", "bath": "particle coupled to oscillators"}


def _colour(names: list, name: str):
    return plots.MODEL_COLOURS[list(names).index(name) % len(plots.MODEL_COLOURS)]


def _time_label(system) -> str:
    return f"time ({system.time_unit_name}s)"


def trajectories(system, times: np.ndarray, truths: np.ndarray, predictions: dict, path: Path) -> None:
    """Each feature against time for a few closed-loop forecasts: the truth and every model (its first seed).

    times : (H,) in time units; truths : (s, H, k); predictions : name -> (s, H, k), in the features' units.
    """
    n_starts, _, k = truths.shape
    fig, axes = plots.figure(ncols=n_starts, nrows=k, width=3.6, height=1.9, sharex=True)
    axes = np.asarray(axes).reshape(k, n_starts)
    names = list(predictions)
    for column in range(n_starts):
        for row in range(k):
            ax = axes[row, column]
            ax.plot(times, truths[column, :, row], label="truth", **TRUTH)
            for name, states in predictions.items():
                ax.plot(times, states[column, :, row], color=_colour(names, name), lw=1.0, label=plots.words(name))
            if column == 0:
                ax.set_ylabel(system.feature_labels[row])
        axes[0, column].set_title(f"forecast {column + 1}", fontsize=9)
        axes[-1, column].set_xlabel(_time_label(system))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=8)
    fig.suptitle(f"{SYSTEM_WORDS.get(system.name, system.name)}: closed-loop forecasts against the truth "
                 "(first seed of each model)")
    plots.save(fig, path)


def attractor(system, train: np.ndarray, truths: np.ndarray, predicted: np.ndarray, path: Path) -> None:
    """A phase-space projection (x-z for Lorenz-63): the training trajectory and the true test segments beside
    the network's closed-loop forecasts from the first ``N_ATTRACTOR`` starts (does the free-running network stay on
    the attractor?).

    train : (n, k); truths, predicted : (m, H, k), in the features' units.
    """
    names = list(system.feature_names)
    first, second = PROJECTIONS.get(system.name, tuple(names[:2]))
    a, b = names.index(first), names.index(second)
    labels = system.feature_labels
    fig, axes = plots.figure(ncols=2, width=4.2, height=3.8, sharex=True, sharey=True)
    axes[0].plot(train[:, a], train[:, b], color="0.75", lw=0.4, label="training trajectory")
    for index, segment in enumerate(truths[:N_ATTRACTOR]):
        axes[0].plot(segment[:, a], segment[:, b], color="k", lw=0.5, label="test segments" if not index else None)
    axes[0].set_title("truth", fontsize=9)
    axes[1].plot(train[:, a], train[:, b], color="0.85", lw=0.4, label="training trajectory")
    finite = np.all(np.isfinite(predicted), axis=-1)
    for index, segment in enumerate(predicted[:N_ATTRACTOR]):
        axes[1].plot(segment[finite[index], a], segment[finite[index], b], color=plots.MODEL_COLOURS[0], lw=0.5,
                     label="network, closed loop" if not index else None)
    axes[1].set_title(f"network, closed loop from the same {N_ATTRACTOR} starts (first seed)", fontsize=9)
    for ax in axes:
        ax.set_xlabel(labels[a])
        ax.legend(fontsize=7, loc="lower center", framealpha=0.9)
    axes[0].set_ylabel(labels[b])
    plots.save(fig, path)


def error_growth(system, times: np.ndarray, curves: dict, threshold: float, path: Path) -> None:
    """Mean normalised error of the closed-loop forecasts against the horizon, every model (mean over seeds of
    the mean over starts, band: ± SD over seeds), log scale; the threshold and, where the system has a
    published Lyapunov exponent, the growth e^{lambda t} drawn from the network's first-step error."""
    fig, ax = plots.figure(width=6.0, height=4.0)
    names = list(curves)
    for name, curve in curves.items():
        colour = _colour(names, name) if name != "persistence" else "0.4"
        mean = curve.mean(axis=0)
        ax.plot(times, mean, color=colour, lw=1.5, label=plots.words(name), ls="--" if name == "persistence" else "-")
        if len(curve) > 1:
            sd = curve.std(axis=0, ddof=1)
            ax.fill_between(times, np.maximum(mean - sd, mean * 1e-3), mean + sd, color=colour, alpha=0.2, lw=0)
    ax.axhline(threshold, color="k", lw=1, ls=":", label=f"threshold {threshold:g}")
    exponent = system.lyapunov_exponent
    if exponent is not None and "network" in curves:
        start = curves["network"].mean(axis=0)[0]
        growth = start * np.exp(exponent * system.time_unit * (times - times[0]))
        shown = growth <= 10.0
        ax.plot(times[shown], growth[shown], color="k", lw=1, ls="-.",
                label=f"e^(λt), λ = {exponent:g} (published)")
    ax.set_yscale("log")
    ax.set_xlabel(f"forecast horizon ({system.time_unit_name}s)")
    ax.set_ylabel("normalised error ||x̂ − x|| / sqrt(<||x − <x>||²>)")
    ax.legend(fontsize=8)
    plots.save(fig, path)


def valid_times(means: dict, sds: dict, system, path: Path) -> None:
    """One bar per model: the valid prediction time (mean over seeds, error bar: SD over seeds)."""
    errors = {name: (value if np.isfinite(value) else 0.0) for name, value in sds.items()}
    plots.model_bars(means, path, ylabel=f"valid prediction time ({system.time_unit_name}s)", errors=errors,
                     title="closed-loop forecasts (mean ± SD over seeds)")


def hidden(system, times: np.ndarray, truth_trace: np.ndarray, traces: dict, truth: np.ndarray, predictions: dict,
           r2: dict, path: Path) -> None:
    """The hidden coordinate inferred from the observed ones: a time trace on one test trajectory (left) and
    predicted against true on every test window (right), R^2 of each model (first seed) in the legend."""
    label = system.state_labels[system.hidden]
    names = list(traces)
    fig, axes = plots.figure(ncols=2, width=5.0, height=3.8)
    axes[0].plot(times, truth_trace, label="truth", **TRUTH)
    for name, trace in traces.items():
        axes[0].plot(times, trace, color=_colour(names, name), lw=1.0, label=plots.words(name))
    axes[0].set_xlabel(_time_label(system))
    axes[0].set_ylabel(label)
    axes[0].legend(fontsize=7)
    low, high = float(np.min(truth)), float(np.max(truth))
    for name, prediction in reversed(list(predictions.items())):  # the network (first) drawn on top
        axes[1].scatter(truth, prediction, s=2, alpha=0.3, color=_colour(names, name),
                        label=f"{plots.words(name)}: R² = {r2[name]:.3f} (mean over seeds)")
    axes[1].plot([low, high], [low, high], color="k", lw=1, ls=":", label="predicted = true")
    axes[1].set_xlabel(f"true {label}")
    axes[1].set_ylabel(f"predicted {label}")
    axes[1].legend(fontsize=7, markerscale=4)
    plots.save(fig, path)


def loss(histories: list, path: Path) -> None:
    """Training and validation loss of every network (one per seed)."""
    plots.loss_curves({f"seed {index}": {"loss": h.loss, "val_loss": h.val_loss, "best_epoch": h.best_epoch}
                       for index, h in enumerate(histories)}, path, ylabel="mean squared error (standardised)")
