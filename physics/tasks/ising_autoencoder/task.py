"""``task=ising_autoencoder``: the 2D Ising transition from what autoencoders learn without labels.

Per replica (:mod:`physics.tasks.ising_autoencoder.replica`: fresh Monte Carlo data, fresh networks) and lattice
size L of ``task.sizes``, an autoencoder and a variational autoencoder (:mod:`core.autoencoder`, latent size
``task.latent``, Bernoulli likelihood on ±1 spins) are trained on the configurations of the whole temperature scan,
ordered and disordered phases alike, with no label. Then, per model:

* the code is the magnetisation: |Pearson r| of the code (its leading principal axis for ``latent`` > 1) with m;
* the code's Binder-like cumulant U_z(T, L) = 1 - <z^4>/(3<z^2>^2), z the part of the code odd under the global
  spin flip (mean 0 by symmetry: no centring; :mod:`physics.tasks.ising_autoencoder.networks`), crosses between
  consecutive sizes near T_c: each crossing is a pseudo-critical temperature T*(L_a, L_b), mean over replicas ±
  SD/sqrt(n) (Student's t); T_c(inf) is the crossing of the two largest sizes, its systematic error the change
  when the smallest size is dropped carried to L = infinity (:func:`.cumulant.tc_from_crossings`: task=ising's PCA
  rule). With two sizes there is one crossing, a pseudo-critical temperature, not compared with the exact T_c;
* the reconstruction error per spin against T.

PCA of the same configurations is the linear baseline, through task=ising's own PCA analysis
(:func:`physics.transition.unsupervised.pca_by_size`, :func:`physics.tasks.ising.analysis.pca`: its U_p crossings
and T_c by the same rule).

Metrics (flat keys in metrics.json; ``<model>`` is ``ae``, ``vae`` or ``pca``): ``<model>.tc.*`` (value, stat,
sys, error, ci95_low/high, kind, method, sources, replica values), ``<model>.tc_error`` (|value - exact|, NaN
unless a T_c(inf)), ``<model>.tc_covers_exact`` (within the combined 1σ error) and ``<model>.tc_ci95_covers_exact``
(null unless a T_c(inf)), ``<model>.crossings.L<a>_L<b>.*`` (the pseudo-critical temperatures),
``<model>.correlation.L<L>`` and ``correlation_sd`` (|r(code, m)|, mean and SD over replicas),
``ae|vae.odd_correlation.L<L>``, ``ae|vae.reconstruction.L<L>`` (per temperature, the list ``temperatures``),
``ae|vae.val_loss`` (best validation loss per spin, mean over replicas and sizes), ``val_loss_by_size``,
``epochs``, ``train_seconds``; ``pca.*`` also holds task=ising's PCA metrics (peaks, uniformity, ...).
The objective is ``task.objective``, minimised: by default ``ae.val_loss`` (the autoencoder's best validation loss:
something a sweep may tune honestly); ``tc_error`` (= ``ae.tc_error``) and ``vae_tc_error`` are distances to the
known answer, for reporting, not tuning.

Files: figures/{reconstruction, latent_histograms, latent_vs_m, cumulants, estimates, training, pca}.png,
per_temperature.csv, crossings.csv, estimates.csv.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from physics.app.io import write_csv
from physics.app.result import TaskResult
from physics.app.schema import AppConfig
from physics.app.training import stage
from physics.ising.lattice import critical_temperature
from physics.tasks.ising_autoencoder import analysis, figures
from physics.tasks.ising_autoencoder.config import Config
from physics.tasks.ising_autoencoder.networks import KINDS
from physics.tasks.ising_autoencoder.replica import run_replica

log = logging.getLogger(__name__)


def run(config: AppConfig, run_dir: Path) -> TaskResult:
    task: Config = config.task
    run_dir, timings = Path(run_dir), {}
    figure_dir = run_dir / "figures"
    tc_exact, T = critical_temperature("square"), task.grid()
    log.info("ising_autoencoder: sizes %s, %d temperatures in [%g, %g], %d configurations each, %d replicas, "
             "latent %d", task.sizes, T.size, T[0], T[-1], task.n_per_temperature, task.n_replicas, task.latent)
    replicas = []
    with stage("replicas", timings):
        for r in range(task.n_replicas):
            log.info("replica %d of %d", r + 1, task.n_replicas)
            replicas.append(run_replica(config, T, r, keep=r == 0))
    with stage("finite-size scaling", timings):
        results = {kind: analysis.model_result(task, replicas, kind) for kind in KINDS}
        metrics = {"tc_exact": tc_exact, "sizes": list(task.sizes), "n_replicas": task.n_replicas,
                   "latent": task.latent, "n_temperatures": int(T.size), "temperatures": T.tolist()}
        for kind, result in results.items():
            metrics[kind] = analysis.model_metrics(result, tc_exact)
    if task.pca.enabled:
        from physics.tasks.ising import analysis as ising_analysis

        with stage("pca", timings):
            results["pca"] = analysis.pca_result(task, replicas)
            pca_metrics = ising_analysis.pca(config, T, [r.pca for r in replicas], figure_dir, tc_exact)
            pca_metrics.pop("binder_crossings")  # the same estimates as "crossings" below, the key all models share
            metrics["pca"] = {**pca_metrics, **analysis.model_metrics(results["pca"], tc_exact)}
    correlations = {name: float(np.mean([np.mean(v) for v in result.correlation.values()]))
                    for name, result in results.items()}
    for name, result in results.items():
        log.info("%s: |r(code, m)| by size %s", name,
                 {L: round(float(np.mean(v)), 4) for L, v in result.correlation.items()})

    with stage("figures", timings):
        largest = task.sizes[-1]
        figures.results(task, T, replicas, results,
                        {name: float(np.mean(result.correlation[largest])) for name, result in results.items()},
                        tc_exact, figure_dir)
        write_csv(run_dir / "per_temperature.csv", analysis.per_temperature_rows(T, results))
        write_csv(run_dir / "crossings.csv", analysis.crossing_rows(replicas, results))
        write_csv(run_dir / "estimates.csv", analysis.estimate_rows(results, tc_exact))
    metrics["correlation"] = correlations
    value, name = objective(metrics, task.objective)
    return TaskResult(objective=value, objective_name=name, direction="minimize", metrics=metrics, timings=timings)


def objective(metrics: dict, name: str) -> tuple[float, str]:
    """(value, metric key) of ``task.objective`` from the nested metrics."""
    key = {"val_loss": "ae.val_loss", "vae_val_loss": "vae.val_loss", "tc_error": "ae.tc_error",
           "vae_tc_error": "vae.tc_error"}[name]
    model, leaf = key.split(".")
    return float(metrics[model][leaf]), key
