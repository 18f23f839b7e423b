"""One replica of ``task=ising``'s whole pipeline: fresh Monte Carlo data, fresh training, every model's mean
P(ordered) against T at every size.

Replicas differ in their Monte Carlo seed and their network's initial weights (:func:`replica_seed`); the
spread of what they conclude is the statistical error of the run.

* ``protocol=extremes`` (:func:`extremes_replica`): one network (and each baseline) trained at ``network_L``
  only on the temperatures of ``ordered_range`` (label ordered) and ``disordered_range`` (disordered), far
  from the transition, so the labels cannot carry T_c. Then every size L of ``sizes`` on the scan grid, its
  configurations blocked down to ``network_L`` by majority rule (:mod:`physics.tasks.ising.blocking`): the
  mean output at each size is a block-spin observable, whose curves obey finite-size scaling.
* ``protocol=labelled`` (:func:`labelled_replica`, Carrasquilla & Melko 2017): at every size its own network
  trained on the whole grid with the labels T < T_c (the critical window split, or held out as in Mehta et
  al.): the labels contain the answer, and the crossing of 1/2 reproduces the boundary they carry.

Temperatures in units of J/k_B.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from physics.app.schema import AppConfig
from physics.app.seeding import generator
from physics.app.training import stage
from physics.ising.dataset import IsingDataset
from physics.tasks.ising.blocking import block_spins
from physics.tasks.ising.data import (augmented, best_val_loss, fit_baselines, flat, load_dataset,
                                      ordered_probability, replica_seed, split_dataset, train_network)
from physics.transition.crossing import group_means

log = logging.getLogger(__name__)


@dataclass
class SizeCurves:
    """One model at one size in one replica. mean, sem: (n_T,) mean P(ordered) per temperature of the grid and its
    standard error from the samples; accuracy: (n_T,) accuracy per temperature (labelled protocol; NaN where no
    configuration was evaluated); accuracy_test, accuracy_critical: floats (labelled protocol, else NaN)."""

    mean: np.ndarray
    sem: np.ndarray
    accuracy: np.ndarray | None = None
    accuracy_test: float = float("nan")
    accuracy_critical: float = float("nan")


@dataclass
class Replica:
    """What one replica gave. curves: model name ("network" first, then the baselines) -> L -> SizeCurves;
    networks: L -> the fitted network (extremes: one, under ``network_L``); val_loss: the networks' best
    validation losses, mean over sizes; data: L -> the scan (extremes) or grid (labelled) dataset of this
    replica (kept for the first replica only: PCA, figures); blocked: L -> (n, network_L**2) float32 blocked
    spins (extremes, first replica only); baseline_seconds: name -> fit seconds."""

    curves: dict
    networks: dict
    val_loss: float
    data: dict = field(default_factory=dict)
    blocked: dict = field(default_factory=dict)
    evaluation: dict = field(default_factory=dict)
    baseline_seconds: dict = field(default_factory=dict)


def curve_of(P: np.ndarray, groups: np.ndarray, n_T: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of P per temperature and its standard error (sample SD / sqrt(count)): two (n_T,) arrays."""
    mean, square = group_means(np.stack([P, P ** 2]), groups, n_T)
    counts = np.bincount(groups, minlength=n_T)
    variance = np.clip(square - mean ** 2, 0.0, None) * counts / np.maximum(counts - 1, 1)
    return mean, np.sqrt(variance / counts)


def extremes_replica(config: AppConfig, replica: int, keep: bool = False) -> Replica:
    """The extremes protocol's replica ``replica`` (module docstring); ``keep``: keep data for figures."""
    task = config.task
    seed, T = replica_seed(config.seed, replica), task.grid()
    with stage("data"):
        train = load_dataset(config, task.network_L, task.training_grid(), task.n_train_per_temperature, seed)
        labels = (train.temperature <= task.ordered_range[1]).astype(np.int64)  # 1 = ordered
        spins, labels = augmented(config, train.spins, labels, f"augment/replica{replica}")
        scans = {L: load_dataset(config, L, T, task.n_per_temperature, seed) for L in task.sizes}
    network = train_network(config, spins, labels, replica)
    blocked = {L: flat(block_spins(data.spins, task.network_L)) for L, data in scans.items()}
    probabilities = {"network": {L: ordered_probability(network, X, task.loss) for L, X in blocked.items()}}
    baselines = fit_baselines(config, spins, labels, {f"L{L}": X for L, X in blocked.items()}, seed)
    for name, (predictions, _) in baselines.items():
        probabilities[name] = {L: predictions[f"L{L}"] for L in task.sizes}
    curves = {}
    for name, by_size in probabilities.items():
        curves[name] = {}
        for L, P in by_size.items():
            groups = np.searchsorted(T, scans[L].temperature)
            curves[name][L] = SizeCurves(*curve_of(P, groups, T.size))
    log.info("replica %d: network trained at L = %d on %d configurations, read on L = %s", replica,
             task.network_L, len(labels), task.sizes)
    return Replica(curves=curves, networks={task.network_L: network}, val_loss=best_val_loss(network),
                   data=scans if keep else {}, blocked=blocked if keep else {},
                   evaluation={"train": train} if keep else {},
                   baseline_seconds={name: seconds for name, (_, seconds) in baselines.items()})


def labelled_replica(config: AppConfig, replica: int, keep: bool = False) -> Replica:
    """The labelled protocol's replica ``replica`` (module docstring); ``keep``: keep data for figures."""
    task = config.task
    seed, T = replica_seed(config.seed, replica), task.grid()
    curves, networks, losses, kept, evaluation, seconds = {}, {}, [], {}, {}, {}
    for L in task.sizes:
        with stage("data"):
            data: IsingDataset = load_dataset(config, L, T, task.n_per_temperature, seed)
            split = split_dataset(data, task.critical_window, task.test_fraction,
                                  generator(config.seed, f"split/replica{replica}/L{L}"), task.hold_out_window)
            spins, labels = augmented(config, data.spins[split.train], data.label[split.train],
                                      f"augment/replica{replica}/L{L}")
        network = train_network(config, spins, labels, replica, tag=f"L{L}/")
        networks[L], losses = network, losses + [best_val_loss(network)]
        X_eval = flat(data.spins[split.evaluation])
        probabilities = {"network": ordered_probability(network, X_eval, task.loss)}
        baselines = fit_baselines(config, spins, labels, {"evaluation": X_eval}, seed)
        probabilities.update({name: predictions["evaluation"] for name, (predictions, _) in baselines.items()})
        seconds.update({name: seconds.get(name, 0.0) + s for name, (_, s) in baselines.items()})
        truth = data.label[split.evaluation].astype(bool)
        in_window = np.isin(split.evaluation, split.window)
        counts = np.bincount(split.groups, minlength=T.size)
        for name, P in probabilities.items():
            correct = ((P > 0.5) == truth).astype(np.float64)
            accuracy = np.full(T.size, np.nan)
            accuracy[counts > 0] = (np.bincount(split.groups, weights=correct, minlength=T.size)[counts > 0]
                                    / counts[counts > 0])
            mean, sem = _curve_with_gaps(P, split.groups, T.size, counts)
            curves.setdefault(name, {})[L] = SizeCurves(
                mean=mean, sem=sem, accuracy=accuracy, accuracy_test=float(correct[~in_window].mean()),
                accuracy_critical=float(correct[in_window].mean()) if in_window.any() else float("nan"))
        if keep:
            kept[L], evaluation[L] = data, split
        log.info("replica %d, L = %d: network test accuracy %.4f, critical-window accuracy %.4f", replica, L,
                 curves["network"][L].accuracy_test, curves["network"][L].accuracy_critical)
    return Replica(curves=curves, networks=networks, val_loss=float(np.mean(losses)), data=kept,
                   evaluation=evaluation, baseline_seconds=seconds)


def _curve_with_gaps(P, groups, n_T, counts):
    """:func:`curve_of` where some temperatures may have no evaluated sample (NaN there)."""
    present = np.flatnonzero(counts > 0)
    remap = np.full(n_T, -1)
    remap[present] = np.arange(present.size)
    mean, sem = curve_of(P, remap[groups], present.size)
    full_mean, full_sem = np.full(n_T, np.nan), np.full(n_T, np.nan)
    full_mean[present], full_sem[present] = mean, sem
    return full_mean, full_sem


def run_replica(config: AppConfig, replica: int, keep: bool = False) -> Replica:
    """Replica ``replica`` of the configured protocol."""
    run = extremes_replica if config.task.protocol == "extremes" else labelled_replica
    return run(config, replica, keep)
