"""``task=ising``: the critical temperature of the 2D Ising model from what networks learned.

Carrasquilla & Melko, Nature Physics 13, 431 (2017); the splits of Mehta et al., Phys. Rep. 810, 1 (2019).
``task.n_replicas`` independent replicas of the whole pipeline (:mod:`physics.tasks.ising.replica`: fresh Monte
Carlo data, fresh training) give, for the network and every baseline, the mean P(ordered) against T at every
lattice size. Then, per model:

* T*(L): the pseudo-critical temperature of size L, where the mean output crosses 1/2 (a local cubic fit over
  several grid points, :func:`physics.transition.crossing.local_crossing`), in every replica; the slope there;
* T_c(inf) and nu by finite-size scaling over the sizes >= ``task.fss_min_size`` (fixed before the run):
  ``T*(L) = T_c + a L^(-1/nu)`` with nu from the slopes ``|dP/dT| ~ L^(1/nu)``, per replica; statistical error
  SD/sqrt(n) over the replicas, systematic error the change under the next correction b/L^2, the table of fits
  against L_min (:func:`physics.transition.scaling.extrapolate`);
* the network's curves collapsed by a fit of T_c and nu (Houdayer & Hartmann), its quality at the fit and at
  the exact values.

With ``protocol=extremes`` (default) the labels do not carry T_c: the network is trained only far from the
transition and read on block-spin images of every size. ``protocol=labelled`` is the protocol of Carrasquilla &
Melko, whose labels T < T_c contain the answer: its crossings reproduce the labelled boundary, and the run says
so. Beside them: the physics baseline (Binder-cumulant crossings from Swendsen-Wang chains with histogram
reweighting, :func:`physics.transition.binder.binder_baseline`), PCA of every size, learning by confusion and
the transfer to the triangular lattice (on request).

Metrics: ``tc`` (the network's T_c(inf), or T*(L) for one size: value, stat, sys, error, ci95, method, ...),
``tc_error`` (|value - exact|, only for T_c(inf)), ``nu`` (of the fitted collapse), ``nu_slopes``,
``pseudo_critical.L<L>``, ``collapse``, ``binder``,
``baselines.<name>.*``, ``pca``, ``confusion``, ``transfer``, ``network.*``; labelled: ``accuracy_test`` and
``accuracy_critical`` (mean and SD over replicas). The objective is ``task.objective``, minimised: by default
``network.val_loss``, the networks' best validation loss (mean over replicas and sizes); ``tc_error`` and
``critical_error`` are for reporting, not tuning.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from core.serialize import save
from physics.app.result import TaskResult
from physics.app.schema import AppConfig
from physics.app.training import stage
from physics.ising.lattice import critical_temperature
from physics.tasks.ising import analysis, figures
from physics.tasks.ising.config import Config
from physics.tasks.ising.predict import model_path
from physics.tasks.ising.replica import run_replica

log = logging.getLogger(__name__)


def run(config: AppConfig, run_dir: Path) -> TaskResult:
    task: Config = config.task
    run_dir, timings = Path(run_dir), {}
    tc_exact, T = critical_temperature("square"), task.grid()
    replicas, pca_scans = [], []
    with stage("replicas", timings):
        for r in range(task.n_replicas):
            log.info("replica %d of %d (%s protocol, sizes %s)", r + 1, task.n_replicas, task.protocol, task.sizes)
            replica = run_replica(config, r, keep=True)
            if task.pca.enabled:
                pca_scans.append(analysis.pca_replica(config, T, replica, r))
            if r:
                replica.data, replica.blocked, replica.evaluation = {}, {}, {}  # the first replica's make the figures
            replicas.append(replica)
    with stage("finite-size scaling", timings):
        models = {name: analysis.model_estimates(task, T, replicas, name) for name in replicas[0].curves}
        network = models["network"]
    log.info("network: %s", network.headline.describe(tc_exact))
    if network.collapse is not None:
        c = network.collapse
        log.info("network: nu = %.3f ± %.3f (stat) ± %.3f (sys) from the collapse (quality S = %.2f at the fit, %.2f "
                 "at the exact values)", c["nu"]["value"], c["nu"]["stat"], c["nu"]["sys"], c["quality_at_fit"],
                 c["quality_at_exact"])
    if network.nu:
        log.info("network: nu = %.3f ± %.3f from the slopes at the crossings; shift fit %s", network.nu["value"],
                 network.nu["stat"], network.fss.tc.describe(tc_exact))
    if task.protocol == "labelled":
        log.warning("protocol=labelled: the training labels are T < T_c = %.4f, so every crossing reproduces the "
                    "labelled boundary; its T_c is not a measurement (protocol=extremes is)", tc_exact)

    metrics = {"tc_exact": tc_exact, "protocol": task.protocol, "sizes": list(task.sizes),
               **analysis.headline_metrics(network, tc_exact),
               "network": {"val_loss": float(np.mean([r.val_loss for r in replicas])),
                           "n_parameters": next(iter(replicas[0].networks.values())).network_.n_parameters()},
               "baselines": {name: estimates.metrics(tc_exact) for name, estimates in models.items()
                             if name != "network"}}
    if task.binder.enabled:
        with stage("binder", timings):
            binder = analysis.binder(config)
        metrics["binder"] = analysis.binder_metrics(binder, tc_exact)
    else:
        binder = None
    if task.protocol == "labelled":
        metrics.update(analysis.accuracy_metrics(models["network"]))
    with stage("interpretation", timings):
        metrics["learned"] = analysis.what_it_learned(config, replicas[0], run_dir / "figures")
    if task.pca.enabled:
        with stage("pca", timings):
            metrics["pca"] = analysis.pca(config, T, pca_scans, run_dir / "figures", tc_exact)
    if task.confusion.enabled:
        with stage("confusion", timings):
            metrics["confusion"] = analysis.confusion(config, run_dir, tc_exact)
    if task.transfer.enabled and task.protocol == "extremes":
        with stage("transfer", timings):
            metrics["transfer"] = analysis.transfer(config, replicas, run_dir / "figures")

    with stage("figures", timings):
        figures.results(task, T, replicas, models, binder, tc_exact, run_dir)
        (run_dir / "models").mkdir(exist_ok=True)
        for index, replica in enumerate(replicas):
            for L, net in replica.networks.items():
                save(net.network_, model_path(run_dir, index, L if len(replica.networks) > 1 else None))
    value, name = objective(metrics, task.objective)
    return TaskResult(objective=value, objective_name=name, direction="minimize", metrics=metrics, timings=timings)


def objective(metrics: dict, name: str) -> tuple[float, str]:
    """(value, name) of ``task.objective`` from the nested metrics."""
    if name == "val_loss":
        return metrics["network"]["val_loss"], "network.val_loss"
    if name == "tc_error":
        return metrics.get("tc_error", float("nan")), name
    return 1.0 - metrics["accuracy_critical"], name
