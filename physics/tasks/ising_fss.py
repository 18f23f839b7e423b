"""``task=ising_fss``: finite-size scaling of the network's critical temperature (Carrasquilla & Melko 2017).

For every lattice size L of ``task.sizes`` the same protocol as ``task=ising`` (Monte Carlo data on one
temperature grid, critical window held out, ``task.n_seeds`` networks and the baselines on the same split)
gives a pseudo-critical temperature T_c(L): where the mean P(ordered) crosses 1/2, with a bootstrap error over
samples and seeds. Then

* ``T_c(L) = T_c(inf) + a L^(-1/nu)`` is fitted with nu = 1 (exact for 2D Ising; the headline ``tc_infinite``)
  and with nu free (``fss.nu_free.*``), weighted by the errors, on the sizes of the scaling regime: the
  smallest size is dropped while the fit's chi2 p-value is below ``task.fit_p_value``
  (:func:`physics.ising.scaling.fit_scaling_regime`); ``fss.all_sizes_nu_fixed.*`` is the fit of every size;
* the physics baseline from the same Monte Carlo data: the crossing of the Binder cumulants U_4(T) of
  consecutive sizes; ``binder_tc`` is the crossing of the two largest sizes;
* the data collapse of P(ordered) against (T - T_c) L^(1/nu) with the exact T_c and nu = 1.

Metrics: ``tc_infinite``, ``tc_infinite_stderr``, ``tc_exact``, ``tc_infinite_error``, ``binder_tc``,
``binder_tc_stderr``, ``fss.*``, ``sizes.L<L>.*``, ``baselines.<name>.*``; objective = |tc_infinite - tc_exact|.
Temperatures in units of J/k_B.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from physics.config import AppConfig
from physics.ising import plots
from physics.ising.lattice import critical_temperature
from physics.ising.scaling import binder_bootstrap, binder_crossing, binder_cumulant, fit_scaling_regime
from physics.io import write_csv
from physics.seeding import generator
from physics.tasks.common import save_model, stage
from physics.tasks.ising_common import (as_input, check_model_fits, curve_columns, fit_baselines,
                                        load_dataset, ordered_probability, score_model, split_dataset,
                                        train_networks, training_set)
from physics.tasks.ising_config import IsingFSSConfig

log = logging.getLogger(__name__)


def run_task(config: AppConfig, run_dir: Path) -> dict:
    for L in config.task.sizes:
        check_model_fits(config.model, L, key="task.sizes")
    return _run(config, Path(run_dir))


def _one_size(config: AppConfig, L: int, T: np.ndarray, run_dir: Path) -> dict:
    """Data, networks, baselines, crossings and Binder cumulants at one lattice size."""
    task: IsingFSSConfig = config.task
    data = load_dataset(config, L, T, task.n_per_temperature)
    split = split_dataset(data, task.critical_window, task.test_fraction, generator(config.seed, f"split/L{L}"),
                          task.hold_out_window)
    spins, labels = training_set(data, split, config)
    runs = train_networks(config, spins, labels, tag=f"L{L}/")
    save_model(runs[0][0], run_dir, f"model_L{L}")
    X_eval = as_input(data.spins[split.evaluation], config.model.name)
    probabilities = {"network": np.stack([ordered_probability(net, X_eval, task.loss) for net, _ in runs])}
    flat_eval = data.spins[split.evaluation].reshape(split.evaluation.size, -1).astype(np.float32)
    probabilities.update({name: P for name, (P, _) in fit_baselines(config, spins, labels, flat_eval).items()})
    rng = generator(config.seed, f"bootstrap/L{L}")
    scores = {name: score_model(P, data, split, task.n_bootstrap, rng, name)
                  for name, P in probabilities.items()}
    groups = np.searchsorted(T, data.temperature)
    binder = (binder_cumulant(data.magnetization, groups, T.size),
              binder_bootstrap(data.magnetization, groups, T.size, task.n_bootstrap, rng))
    network = scores["network"]
    log.info("L = %d: test accuracy %.4f, critical %.4f, T_c(L) = %.4f ± %.4f", L, network.accuracy_test,
             network.accuracy_critical, network.tc.value, network.tc.stderr)
    return {"scores": scores, "binder": binder}


def _binder_crossings(T: np.ndarray, window, per_size: dict) -> list:
    """Crossings of U_4 for consecutive sizes, searched inside the critical window: far from T_c both cumulants
    sit at 0 or 2/3 and their difference is noise that would cross zero at random."""
    inside = (T >= window[0]) & (T <= window[1])
    sizes = sorted(per_size)
    out = []
    for small, large in zip(sizes[:-1], sizes[1:]):
        curves = [(curve[inside], replicates[:, inside]) for curve, replicates in
                  (per_size[small]["binder"], per_size[large]["binder"])]
        out.append((small, large, binder_crossing(T[inside], *curves)))
    return out


def _extrapolate(sizes, estimates, nu, p_min: float) -> dict | None:
    """The scaling fit of one model's T_c(L) (sizes outside the scaling regime dropped, see
    :func:`physics.ising.scaling.fit_scaling_regime`), or None when a size has no usable crossing."""
    tc = np.array([e.value for e in estimates])
    stderr = np.array([e.stderr for e in estimates])
    if not (np.all(np.isfinite(tc)) and np.all(np.isfinite(stderr)) and np.all(stderr > 0)):
        log.warning("no scaling fit: T_c(L) = %s ± %s has a missing value", tc.tolist(), stderr.tolist())
        return None
    return fit_scaling_regime(sizes, tc, stderr, nu=nu, p_min=p_min)


def _run(config: AppConfig, run_dir: Path) -> dict:
    task: IsingFSSConfig = config.task
    timings: dict[str, float] = {}
    figures = run_dir / "figures"
    T, tc_exact = task.grid(), critical_temperature("square")
    per_size = {}
    for L in task.sizes:
        with stage(f"L={L}", timings):
            per_size[L] = _one_size(config, L, T, run_dir)
    sizes = np.array(task.sizes)
    models = list(per_size[sizes[0]]["scores"])
    with stage("scaling", timings):
        def crossings_of(name):
            return [per_size[L]["scores"][name].tc for L in sizes]

        fits = {name: {"nu_fixed": _extrapolate(sizes, crossings_of(name), 1.0, task.fit_p_value)}
                for name in models}
        fits["network"]["nu_free"] = _extrapolate(sizes, crossings_of("network"), None, task.fit_p_value)
        fits["network"]["all_sizes_nu_fixed"] = _extrapolate(sizes, crossings_of("network"), 1.0, 0.0)
        binder = _binder_crossings(T, task.critical_window, per_size)
        binder_tc = binder[-1][2]
    network_fit = fits["network"]["nu_fixed"] or {"tc_infinite": float("nan"), "tc_infinite_stderr": float("nan")}
    log.info("T_c(inf) = %.5f ± %.5f (nu = 1, L >= %s), Binder crossing L = %d, %d: %.5f ± %.5f, exact %.5f",
             network_fit["tc_infinite"], network_fit["tc_infinite_stderr"], network_fit.get("min_size"),
             binder[-1][0], binder[-1][1],
             binder_tc.value, binder_tc.stderr, tc_exact)

    with stage("figures", timings):
        _figures_and_tables(T, sizes, per_size, fits["network"], binder, tc_exact, task, run_dir, figures)

    results = {"tc_exact": tc_exact, "tc_infinite": network_fit["tc_infinite"],
               "tc_infinite_stderr": network_fit["tc_infinite_stderr"],
               "tc_infinite_error": abs(network_fit["tc_infinite"] - tc_exact),
               "binder_tc": binder_tc.value, "binder_tc_stderr": binder_tc.stderr,
               "binder_tc_error": abs(binder_tc.value - tc_exact),
               "fss": {key: fit for key, fit in fits["network"].items() if fit is not None},
               "binder": {f"L{small}_L{large}": crossing.as_dict() for small, large, crossing in binder},
               "sizes": {f"L{L}": per_size[L]["scores"]["network"].metrics(tc_exact) for L in sizes},
               "baselines": {name: {**({f"fss_{k}": v for k, v in fits[name]["nu_fixed"].items()}
                                       if fits[name]["nu_fixed"] else {}),
                                    **{f"L{L}": per_size[L]["scores"][name].metrics(tc_exact) for L in sizes}}
                             for name in models if name != "network"}}
    return {"objective": results["tc_infinite_error"], "objective_name": "tc_infinite_error",
            "objective_direction": "minimize", **results, "seconds": timings}


def _figures_and_tables(T, sizes, per_size: dict, fits: dict, binder: list, tc_exact: float,
                        task: IsingFSSConfig, run_dir: Path, figures: Path) -> None:
    network = {L: per_size[L]["scores"]["network"] for L in sizes}
    names = {"nu_fixed": "nu = 1, L >= {min_size}", "nu_free": "nu = {nu:.2f} ± {nu_stderr:.2f}, L >= {min_size}",
             "all_sizes_nu_fixed": "nu = 1, all sizes"}
    labelled = {names[key].format(**fit) + (" (nu at its bound: unconstrained)" if fit["nu_at_bound"] else ""): fit
                for key, fit in fits.items() if fit is not None}
    binder_curves = {L: (per_size[L]["binder"][0], per_size[L]["binder"][1].std(axis=0, ddof=1)) for L in sizes}
    plots.finite_size_scaling(sizes, [network[L].tc.value for L in sizes], [network[L].tc.stderr for L in sizes],
                              labelled, binder, binder[-1][2], tc_exact, binder_curves, T,
                              task.critical_window, figures / "finite_size_scaling.png")
    plots.collapse(T, {L: (network[L].tc.curve, network[L].tc.curve_stderr) for L in sizes}, tc_exact, 1.0,
                   task.critical_window, figures / "collapse.png")
    write_csv(run_dir / "tc_by_size.csv",
              [{"L": L, **{f"{name}_{key}": value for name, score in per_size[L]["scores"].items()
                           for key, value in score.metrics(tc_exact).items()}} for L in sizes])
    rows = []
    for L in sizes:
        for i, temperature in enumerate(T):
            rows.append({"L": L, "T": temperature, "binder": binder_curves[L][0][i],
                         "binder_stderr": binder_curves[L][1][i], **curve_columns(per_size[L]["scores"], i)})
    write_csv(run_dir / "per_temperature.csv", rows)
