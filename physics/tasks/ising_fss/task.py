"""``task=ising_fss``: finite-size scaling of the network's critical temperature (Carrasquilla & Melko 2017).

For every lattice size L of ``task.sizes`` the protocol of ``task=ising`` (:func:`physics.tasks.ising.data.run_size`:
Monte Carlo data on one temperature grid, ``task.n_seeds`` networks and the baselines on the same split) gives a
pseudo-critical temperature T_c(L): where the mean P(ordered) crosses 1/2, with a bootstrap error over
samples and seeds. Then

* ``T_c(L) = T_c(inf) + a L^(-1/nu)`` is fitted with nu = 1 (exact for 2D Ising; the headline ``tc_infinite``)
  and with nu free (``fss.nu_free.*``), weighted by the errors, on the sizes of the scaling regime: the
  smallest size is dropped while the fit's chi2 p-value is below ``task.fit_p_value``
  (:func:`physics.transition.scaling.fit_scaling_regime`); ``fss.all_sizes_nu_fixed.*`` is the fit of every size;
* the physics baseline from the same Monte Carlo data: the crossing of the Binder cumulants U_4(T) of
  consecutive sizes; ``binder_tc`` is the crossing of the two largest sizes;
* the data collapse of P(ordered) against (T - T_c) L^(1/nu) with the exact T_c and nu = 1.

Metrics: ``tc_infinite``, ``tc_infinite_stderr``, ``tc_exact``, ``tc_infinite_error``, ``binder_tc``,
``binder_tc_stderr``, ``fss.*``, ``sizes.L<L>.*`` (with ``val_loss``), ``network.val_loss``,
``baselines.<name>.*``. The objective is ``task.objective``, minimised: by default ``network.val_loss``, the
networks' best validation loss (mean over sizes and seeds); ``tc_infinite_error`` = |tc_infinite - tc_exact|
remains selectable for reporting.
Temperatures in units of J/k_B.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from core.serialize import save
from physics.app.result import TaskResult
from physics.app.schema import AppConfig
from physics.app.seeding import generator
from physics.app.training import stage
from physics.ising.lattice import critical_temperature
from physics.tasks.ising.data import best_val_loss, run_size
from physics.tasks.ising_fss import figures
from physics.tasks.ising_fss.config import Config
from physics.transition.scaling import binder_bootstrap, binder_crossing, binder_cumulant, fit_scaling_regime

log = logging.getLogger(__name__)


def _one_size(config: AppConfig, L: int, T: np.ndarray, run_dir: Path) -> dict:
    """The protocol of task=ising at one lattice size, plus the Binder cumulants of the same data."""
    task: Config = config.task
    rng = generator(config.seed, f"bootstrap/L{L}")  # the crossings' bootstrap, then the cumulants'
    size = run_size(config, L, T, split_stream=f"split/L{L}", bootstrap_rng=rng, tag=f"L{L}/")
    save(size.networks[0].network_, run_dir / f"model_L{L}")
    magnetization = size.data.magnetization
    groups = np.searchsorted(T, size.data.temperature)
    binder = (binder_cumulant(magnetization, groups, T.size),
              binder_bootstrap(magnetization, groups, T.size, task.n_bootstrap, rng))
    network = size.scores["network"]
    log.info("L = %d: test accuracy %.4f, critical %.4f, T_c(L) = %.4f ± %.4f", L, network.accuracy_test,
             network.accuracy_critical, network.tc.value, network.tc.stderr)
    return {"scores": size.scores, "binder": binder, "val_loss": best_val_loss(size.networks)}


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
    :func:`physics.transition.scaling.fit_scaling_regime`), or None when a size has no usable crossing."""
    tc = np.array([e.value for e in estimates])
    stderr = np.array([e.stderr for e in estimates])
    if not (np.all(np.isfinite(tc)) and np.all(np.isfinite(stderr)) and np.all(stderr > 0)):
        log.warning("no scaling fit: T_c(L) = %s ± %s has a missing value", tc.tolist(), stderr.tolist())
        return None
    return fit_scaling_regime(sizes, tc, stderr, nu=nu, p_min=p_min)


def run(config: AppConfig, run_dir: Path) -> TaskResult:
    task: Config = config.task
    run_dir, timings = Path(run_dir), {}
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
        figures.results(T, sizes, per_size, fits["network"], binder, tc_exact, task, run_dir)

    results = {"tc_exact": tc_exact, "tc_infinite": network_fit["tc_infinite"],
               "tc_infinite_stderr": network_fit["tc_infinite_stderr"],
               "tc_infinite_error": abs(network_fit["tc_infinite"] - tc_exact),
               "binder_tc": binder_tc.value, "binder_tc_stderr": binder_tc.stderr,
               "binder_tc_error": abs(binder_tc.value - tc_exact),
               "fss": {key: fit for key, fit in fits["network"].items() if fit is not None},
               "binder": {f"L{small}_L{large}": crossing.as_dict() for small, large, crossing in binder},
               "sizes": {f"L{L}": {**per_size[L]["scores"]["network"].metrics(tc_exact),
                                   "val_loss": per_size[L]["val_loss"]} for L in sizes},
               "network": {"val_loss": float(np.mean([per_size[L]["val_loss"] for L in sizes]))},
               "baselines": {name: {**({f"fss_{k}": v for k, v in fits[name]["nu_fixed"].items()}
                                       if fits[name]["nu_fixed"] else {}),
                                    **{f"L{L}": per_size[L]["scores"][name].metrics(tc_exact) for L in sizes}}
                             for name in models if name != "network"}}
    if task.objective == "val_loss":
        value, name = results["network"]["val_loss"], "network.val_loss"
    else:
        value, name = results["tc_infinite_error"], "tc_infinite_error"
    return TaskResult(objective=value, objective_name=name, direction="minimize", metrics=results, timings=timings)
