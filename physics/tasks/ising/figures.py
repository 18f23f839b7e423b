"""Figures of ``task=ising``: Monte Carlo configurations, the mean output against T per size, the finite-size
scaling beside the Binder baseline, the fitted collapse, the model comparison, accuracy by temperature (labelled
protocol), what the network responds to and what training changed in its first layer, and :func:`results`
(every figure and table of a run).

Temperatures on every axis in units of J/k_B. Colours follow :data:`physics.app.plots.MODEL_COLOURS`. Models
are named in words (:func:`physics.tasks.ising.analysis.display_name`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from core.conv import Conv2D
from physics.app import plots
from physics.app.io import write_csv
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
                            path: Path, title: str = "") -> Path:
    """Classification accuracy of every model at each temperature of the evaluation set: mean over replicas with
    the SD over replicas as error bars. accuracies: name (words) -> (n_replicas, n_T)."""
    fig, ax = plots.figure(width=6.6, height=4.0)
    mark_transition(ax, tc_exact, window)
    for colour, (name, accuracy) in zip(plots.MODEL_COLOURS, accuracies.items()):
        mean, error = _mean_and_error(accuracy)
        spread = error * np.sqrt(np.isfinite(accuracy).sum(axis=0)) if len(accuracy) > 1 else None  # the SD
        ax.errorbar(T, mean, yerr=spread, color=colour, marker="o", ms=3, lw=1.2,
                    capsize=2, label=name)
    if title:
        ax.set_title(title, fontsize=9)
    ax.axhline(0.5, color="0.4", lw=0.8, ls=":", label="chance")
    ax.set_xlabel(T_LABEL)
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7, loc="lower left")
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
                    T: np.ndarray, path: Path, L: int) -> Path:
    """The network's output margin against |m| and E, its hidden features' leading direction against m and |m|
    (one point per evaluation configuration); ``correlations`` are the ``learned.*`` metrics."""
    c = correlations
    return learned_features(
        [(np.abs(m), margin, "|m|", "output margin (logit of ordered)", f"Spearman {c['output_abs_m_spearman']:.3f}"),
         (energy, margin, "energy per spin (J)", "output margin", f"Spearman {c['output_energy_spearman']:.3f}"),
         (m, h1, "m", "hidden layer, leading direction", f"|Pearson| {c['hidden_pc1_m_abs_pearson']:.3f}"),
         (np.abs(m), h1, "|m|", "hidden layer, leading direction",
          f"|Pearson| {c['hidden_pc1_abs_m_abs_pearson']:.3f}")],
        T, path, f"what the network responds to ({L} x {L} configurations it reads)")


def first_layer_change(network, L: int, path: Path) -> Path:
    """What training changed in the first layer: ``W_trained - W_initial`` (the initial weights rebuilt from the
    network's own seed). A convolution's kernel changes; for a Dense layer on L*L spins the leading singular
    vectors of the change as L x L maps (the input patterns training made the layer respond to)."""
    from core._validation import as_generator

    initial = network._make_network(network.n_features_in_, network.network_.output_shape[0],
                                    as_generator(network.init_random_state, "init_random_state", "NetClassifier"))
    layer = network.network_.layers[0]
    change = np.asarray(layer.params["W"], np.float64) - np.asarray(initial.layers[0].params["W"], np.float64)
    relative = np.linalg.norm(change) / max(np.linalg.norm(initial.layers[0].params["W"]), 1e-300)
    if isinstance(layer, Conv2D):
        return weight_images(change[:, 0], path, f"first-layer kernels: change by training "
                                                 f"(|ΔW| / |W_initial| = {relative:.2f})")
    vectors, singular, _ = np.linalg.svd(change, full_matrices=False)
    images = vectors[:, :8].T.reshape(-1, L, L) * np.sign(vectors[:, :8].sum(axis=0) + 1e-300)[:, None, None]
    title = (f"first layer: leading singular vectors of the change by training (L x L maps; |ΔW| / |W_initial| = "
             f"{relative:.2f}; singular values " + ", ".join(f"{value:.2g}" for value in singular[:4]) + ", ...)")
    return weight_images(images, path, title)


def output_curves(T: np.ndarray, curves: Mapping[int, tuple], pseudo: Mapping, tc_exact: float, path: Path,
                  title: str, window=None) -> Path:
    """Mean P(ordered) against T at every size (mean over replicas, error bars: their standard error), each
    size's pseudo-critical T*(L) marked where it was found."""
    fig, ax = plots.figure(width=6.4, height=4.2)
    mark_transition(ax, tc_exact, window, label="exact $T_c$ (L = ∞)")
    for colour, (L, (mean, error)) in zip(plt_colours(len(curves)), curves.items()):
        ax.errorbar(T, mean, yerr=error, color=colour, marker="o", ms=3, lw=1.0, capsize=2, label=f"L = {L}")
        estimate = pseudo.get(L)
        if estimate is not None and estimate.ok:
            ax.axvline(estimate.value, color=colour, lw=0.8, ls=":")
    ax.axhline(0.5, color="0.5", lw=0.6)
    ax.set_xlabel(T_LABEL)
    ax.set_ylabel("mean P(ordered)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return plots.save(fig, path)


def plt_colours(n: int):
    """n colours from dark to light blue (one per lattice size)."""
    import matplotlib.pyplot as plt

    return plt.get_cmap("viridis")(np.linspace(0.0, 0.85, max(n, 1)))


def _mean_and_error(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of (n_replicas, n) values: the mean over the finite entries and its standard error SD/sqrt(n)
    (NaN where fewer than 1 resp. 2 are finite), without numpy's warnings about empty columns."""
    finite = np.isfinite(values)
    count = finite.sum(axis=0)
    total = np.where(finite, values, 0.0).sum(axis=0)
    mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    squares = np.where(finite, (values - mean) ** 2, 0.0).sum(axis=0)
    error = np.where(count > 1, np.sqrt(squares / np.maximum(count - 1, 1) / np.maximum(count, 1)), np.nan)
    return mean, error


def finite_size_scaling(network, binder, tc_exact: float, path: Path) -> Path:
    """Left: T*(L) of every replica and their mean against L^(-1/nu), the scaling fit, T_c(inf) with its combined
    error at L = ∞, the Binder baseline's estimate beside it, the exact T_c. Right: |dP/dT| at T*(L) against L
    (log-log) with the fitted slope 1/nu. No fit is drawn where there is none (fewer than 2 sizes >= L_min)."""
    fss, nu = network.fss, network.nu
    nu_value = nu["value"] if nu and np.isfinite(nu["value"]) else 1.0
    sizes = np.array(network.sizes, dtype=float)
    x = sizes ** (-1.0 / nu_value)
    fig, (ax, ax_slope) = plots.figure(ncols=2, width=5.0, height=4.0)
    for row in network.T_star:
        ax.plot(x, row, "o", color="0.7", ms=3)
    mean, err = _mean_and_error(network.T_star)
    ax.errorbar(x, mean, yerr=err, fmt="s", color="tab:blue", capsize=3, label="network T*(L), replica mean")
    ax.axhline(tc_exact, color="k", ls="--", lw=1, label=f"exact $T_c$ = {tc_exact:.4f}")
    tc = fss.tc if fss is not None else network.headline
    if fss is not None and tc.ok:
        grid = np.linspace(0.0, x.max() * 1.05, 50)
        fitted = [L for L in network.sizes if L >= fss.L_min]
        xs = np.array(fitted, float) ** (-1.0 / nu_value)
        ys = _mean_and_error(network.T_star[:, [network.sizes.index(L) for L in fitted]])[0]
        slope = float(np.sum(xs * (ys - tc.value)) / np.sum(xs * xs))  # the line through T_c(inf) nearest the means
        ax.plot(grid, tc.value + slope * grid, color="tab:blue", lw=1, ls="--",
                label=f"shift fit L ≥ {fss.L_min}: {tc.value:.4f} ± {tc.error:.4f}")
    headline = network.headline
    if network.collapse is not None and headline.ok:
        ax.errorbar([0.0], [headline.value], yerr=[headline.error], fmt="*", ms=11, color="tab:green", capsize=4,
                    label=f"collapse (the estimate): {headline.value:.4f} ± {headline.error:.4f}")
    if binder is not None and binder.tc.ok:
        ax.errorbar([0.0], [binder.tc.value], yerr=[binder.tc.error], fmt="D", ms=6, color="tab:red", capsize=4,
                    label=f"Binder crossing: {binder.tc.value:.4f} ± {binder.tc.error:.4f}")
    ax.set_xlabel(f"$L^{{-1/\\nu}}$ (ν = {nu_value:.3f})")
    ax.set_ylabel("pseudo-critical temperature (J/k$_B$)")
    ax.legend(fontsize=6)
    ax.set_title("finite-size scaling of the network's T*(L)", fontsize=9)
    slopes = np.abs(network.slopes)
    for row in slopes:
        ax_slope.loglog(sizes, row, "o", color="0.7", ms=3)
    ax_slope.loglog(sizes, _mean_and_error(slopes)[0], "s", color="tab:blue", label="|dP/dT| at T*(L)")
    if nu and np.isfinite(nu["value"]):
        fitted = sizes[sizes >= (fss.L_min if fss is not None else 0)]
        mean_slope = _mean_and_error(slopes)[0][sizes >= (fss.L_min if fss is not None else 0)]
        amplitude = np.exp(np.mean(np.log(mean_slope) - np.log(fitted) / nu["value"]))
        ax_slope.loglog(fitted, amplitude * fitted ** (1.0 / nu["value"]), color="tab:blue", lw=1,
                        label=f"∝ $L^{{1/\\nu}}$, ν = {nu['value']:.3f} ± {nu['stat']:.3f}")
    ax_slope.set_xlabel("lattice size L")
    ax_slope.set_ylabel("|dP(ordered)/dT| at T*(L) (k$_B$/J)")
    ax_slope.legend(fontsize=7)
    return plots.save(fig, path)


def collapse(T: np.ndarray, curves: Mapping[int, tuple], fit: Mapping, tc_exact: float, path: Path) -> Path:
    """The network's curves against (T - T_c) L^(1/nu) with the FITTED T_c and nu (left) and with the exact
    values (right), each titled with its Houdayer-Hartmann quality S (about 1 for a collapse within errors)."""
    fig, axes = plots.figure(ncols=2, width=4.4, height=3.8)
    for ax, (tc, nu, quality, label) in zip(axes, [
            (fit["tc"].value, fit["nu"]["value"], fit["quality_at_fit"], "fitted (mean over replicas)"),
            (tc_exact, 1.0, fit.get("quality_at_exact", np.nan), "exact")]):
        for colour, (L, (mean, error)) in zip(plt_colours(len(curves)), curves.items()):
            ax.errorbar((T - tc) * L ** (1.0 / nu), mean, yerr=error, color=colour, marker="o", ms=3, lw=0.8,
                        capsize=2, label=f"L = {L}")
        ax.set_xlabel("$(T - T_c)\\,L^{1/\\nu}$ (J/k$_B$)")
        ax.set_ylabel("mean P(ordered)")
        ax.set_title(f"{label}: $T_c$ = {tc:.4f}, ν = {nu:.3f}; quality S = {quality:.2f}", fontsize=8)
        ax.legend(fontsize=7)
    return plots.save(fig, path)


def models(estimates: Mapping, tc_exact: float, binder, path: Path) -> Path:
    """Every model's T_c(inf) (or T*(L) with one size) with its combined error, the Binder baseline beside them,
    the exact T_c; a model without an estimate is written as such (it does not set the scale)."""
    from physics.tasks.ising.analysis import display_name

    entries = [(display_name(name), e.headline) for name, e in estimates.items()]
    if binder is not None:
        entries.append(("Binder cumulants (physics)", binder.tc))
    fig, ax = plots.figure(width=6.4, height=0.45 * len(entries) + 1.6)
    values = [tc.value for _, tc in entries if tc.ok]
    centre = tc_exact
    span = max([abs(v - centre) + (tc.error if np.isfinite(tc.error) else 0) for v, (_, tc)
                in zip(values, [e for e in entries if e[1].ok])] + [0.01]) * 1.3
    for y, (label, tc) in enumerate(entries):
        if tc.ok:
            ax.errorbar([tc.value], [y], xerr=[tc.error if np.isfinite(tc.error) else 0], fmt="o",
                        color="tab:red" if "Binder" in label else "tab:blue", capsize=4)
            ax.text(centre + span, y, f" {tc.value:.4f} ± {tc.error:.4f}", va="center", fontsize=7)
        else:
            ax.text(centre, y, "no crossing" if "crossing" in tc.failure else "no estimate", va="center",
                    ha="center", fontsize=8, color="0.4", style="italic")
    ax.axvline(tc_exact, color="k", ls="--", lw=1, label=f"exact $T_c$ = {tc_exact:.4f}")
    ax.set_yticks(range(len(entries)), [label for label, _ in entries])
    ax.set_xlim(centre - span, centre + span)
    kind = entries[0][1].kind
    ax.set_xlabel(f"{'critical temperature' if kind == 'T_c(inf)' else 'pseudo-critical temperature'} (J/k$_B$); "
                  "error bars: statistical ⊕ systematic")
    ax.legend(fontsize=7, loc="lower right")
    ax.invert_yaxis()
    return plots.save(fig, path)


def critical_accuracy(estimates: Mapping, L: int, path: Path) -> Path:
    """labelled: every model's test and critical-window accuracy at size L, mean over replicas with their SD as
    error bars, all on the same data; Mehta et al.'s published critical-window ranges (L = 40, their own data)
    drawn as context only."""
    from physics.tasks.ising.analysis import display_name

    names = list(estimates)
    y = np.arange(len(names))
    fig, ax = plots.figure(width=6.4, height=0.42 * len(names) + 1.8)
    for offset, key, colour, label in ((-0.18, "accuracy_test", "0.55", "test (outside the window)"),
                                       (0.18, "accuracy_critical", "tab:blue", "critical window")):
        values = np.array([[getattr(c, key) for c in estimates[n].per_replica[L]] for n in names])
        spread = values.std(axis=1, ddof=1) if values.shape[1] > 1 else None
        ax.barh(y + offset, values.mean(axis=1), 0.34, xerr=spread, color=colour, capsize=3, label=label)
    for colour, (name, (low, high)) in zip(("tab:purple", "tab:olive", "tab:cyan"), MEHTA_REFERENCES.items()):
        ax.axvspan(low - 0.002, high + 0.002, color=colour, alpha=0.25, lw=0,
                   label=f"Mehta et al. {name} (L = 40, their data; context)")
    ax.set_yticks(y, [display_name(n) for n in names])
    ax.set_xlim(0.4, 1.02)
    ax.set_xlabel("accuracy (mean over replicas; error bars: SD over replicas)")
    ax.set_title(f"L = {L}: every model on the same data", fontsize=9)
    ax.invert_yaxis()
    ax.legend(fontsize=6, loc="lower left")
    return plots.save(fig, path)


def transfer(T: np.ndarray, curves: Mapping, pseudo: Mapping, tc_exact: float, path: Path) -> Path:
    """The square-lattice network's mean output on triangular-lattice block-spin images, per size."""
    return output_curves(T, curves, pseudo, tc_exact, path,
                         "square-lattice network on the triangular lattice (exact $T_c$ = 4/ln 3)")


def results(task, T: np.ndarray, replicas: list, estimates: Mapping, binder, tc_exact: float, run_dir: Path) -> None:
    """Every figure and table of a run: configurations, output curves, finite-size scaling, collapse, models,
    accuracy by temperature (labelled), losses; tc_by_size.csv and per_temperature.csv."""
    from physics.tasks.ising.analysis import display_name

    figure_dir, first, network = run_dir / "figures", replicas[0], estimates["network"]
    largest = task.sizes[-1]
    data = first.data[largest]
    picks = np.searchsorted(data.temperature, T)
    configurations(data.spins[np.minimum(picks, len(data.temperature) - 1)], T, task.sample_temperatures,
                   figure_dir / "configurations.png")
    protocol = ("trained only far from $T_c$, read on block-spin images" if task.protocol == "extremes"
                else "labels T < $T_c$: the crossing reproduces the labelled boundary")
    output_curves(T, network.curves, network.pseudo, tc_exact, figure_dir / "ordered_probability.png",
                  f"network, {protocol}; {len(replicas)} replicas",
                  task.critical_window if task.protocol == "labelled" else None)
    if network.fss is not None or binder is not None:
        finite_size_scaling(network, binder, tc_exact, figure_dir / "finite_size_scaling.png")
    if network.collapse is not None:
        fitted = {L: network.curves[L] for L in network.sizes if L >= task.fss_min_size}
        collapse(T, fitted, network.collapse, tc_exact, figure_dir / "collapse.png")
    models(estimates, tc_exact, binder, figure_dir / "models.png")
    if task.protocol == "labelled":
        for L in task.sizes:
            accuracy_by_temperature(
                T, {display_name(name): np.stack([c.accuracy for c in e.per_replica[L]])
                    for name, e in estimates.items()}, tc_exact, task.critical_window,
                figure_dir / f"accuracy_by_temperature_L{L}.png", title=f"L = {L}; error bars: SD over replicas")
            critical_accuracy(estimates, L, figure_dir / f"accuracy_L{L}.png")
    histories = {f"replica {r}" + (f", L = {L}" if len(rep.networks) > 1 else ""): net.history_
                 for r, rep in enumerate(replicas) for L, net in rep.networks.items()}
    plots.loss_curves({key: {"loss": h.loss, "val_loss": h.val_loss, "best_epoch": h.best_epoch}
                       for key, h in histories.items()}, figure_dir / "loss.png", ylabel="cross-entropy")
    rows = []
    for name, e in estimates.items():
        for j, L in enumerate(e.sizes):
            for r in range(e.T_star.shape[0]):
                rows.append({"model": name, "L": L, "replica": r, "T_star": e.T_star[r, j], "slope": e.slopes[r, j]})
    write_csv(run_dir / "tc_by_size.csv", rows)
    rows = []
    for i, temperature in enumerate(T):
        row = {"T": temperature}
        for name, e in estimates.items():
            for L in e.sizes:
                mean, error = e.curves[L]
                row[f"{name}_L{L}_p_ordered"], row[f"{name}_L{L}_p_ordered_err"] = mean[i], error[i]
        rows.append(row)
    write_csv(run_dir / "per_temperature.csv", rows)
