"""One replica of ``task=ising_autoencoder``: fresh Monte Carlo data at every size, a fresh autoencoder and VAE per
size, what their codes say, and PCA of the same configurations.

A replica's Monte Carlo seed and its networks' initial weights come from
:func:`physics.tasks.ising.data.replica_seed` (the first replica: the config's seed), exactly as task=ising's
replicas; the Monte Carlo data are those of :func:`physics.tasks.ising.data.load_dataset`, cached in
``data_dir`` and shared with every run of the same seed, size and temperature. The spread of what the replicas
conclude is the statistical error of the run. No label of any kind enters: the networks see the spins only.
Temperatures in units of J/k_B.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import pearsonr

from physics.app.schema import AppConfig
from physics.app.seeding import generator, integer_seed
from physics.app.training import stage
from physics.tasks.ising.data import flat, load_dataset, replica_seed
from physics.tasks.ising_autoencoder.cumulant import CumulantScan, cumulant_scan
from physics.tasks.ising_autoencoder.networks import (KINDS, NAMES, leading_code, odd_code,
                                                      reconstruction_per_spin, train)
from physics.transition.crossing import group_means

log = logging.getLogger(__name__)

#: bootstrap replicates behind each replica's own crossing errors (used as the error when there is one replica)
N_BOOT = 200


def abs_pearson(x: np.ndarray, y: np.ndarray) -> float:
    """|Pearson r| of two samples; NaN when either is constant."""
    if np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(abs(pearsonr(x, y)[0]))


@dataclass
class Replica:
    """What one replica gave.

    scans: kind -> :class:`CumulantScan` of the odd code (every size); pca: the replica's
    :class:`physics.transition.unsupervised.PCAScan` or None; correlation, odd_correlation: kind -> L -> |Pearson r|
    of the leading code (the odd code) with the magnetisation m per spin; pca_correlation: L -> |r(p1, m)|;
    reconstruction: kind -> L -> (n_T,) mean reconstruction error per spin (nats) per temperature; val_loss:
    kind -> L -> best validation loss per spin; histories: kind -> L -> training curves; epochs, seconds: kind ->
    L -> epochs run and training seconds; kept: L -> {"m", "temperature", "code": kind -> (n,), "odd": kind ->
    (n,)} (the first replica only: the figures).
    """

    replica: int
    scans: dict
    pca: object
    correlation: dict
    odd_correlation: dict
    pca_correlation: dict
    reconstruction: dict
    val_loss: dict
    histories: dict
    epochs: dict
    seconds: dict
    kept: dict = field(default_factory=dict)


def run_replica(config: AppConfig, T: np.ndarray, replica: int, keep: bool = False) -> Replica:
    """Replica ``replica`` (module docstring); ``keep``: keep the codes and magnetisations for the figures."""
    task = config.task
    seed = replica_seed(config.seed, replica)
    odd = {kind: {} for kind in KINDS}
    out = Replica(replica=replica, scans={}, pca=None, correlation={k: {} for k in KINDS},
                  odd_correlation={k: {} for k in KINDS}, pca_correlation={}, reconstruction={k: {} for k in KINDS},
                  val_loss={k: {} for k in KINDS}, histories={k: {} for k in KINDS}, epochs={k: {} for k in KINDS},
                  seconds={k: {} for k in KINDS})
    groups, magnetisation, pca_data = {}, {}, {}
    for L in task.sizes:
        with stage(f"Monte Carlo, L = {L}"):
            data = load_dataset(config, L, T, task.n_per_temperature, seed)
        X = flat(data.spins)
        groups[L] = np.searchsorted(T, data.temperature)
        m = magnetisation[L] = np.asarray(data.magnetization, dtype=np.float64)
        if keep:
            out.kept[L] = {"m": m, "temperature": data.temperature, "code": {}, "odd": {}}
        for kind in KINDS:
            trained = train(config, kind, X, L, replica)
            code, odd[kind][L] = leading_code(trained, X), odd_code(trained, X)
            out.correlation[kind][L] = abs_pearson(code, m)
            out.odd_correlation[kind][L] = abs_pearson(odd[kind][L], m)
            out.reconstruction[kind][L] = group_means(reconstruction_per_spin(trained, X), groups[L], T.size)
            out.val_loss[kind][L] = trained.val_loss
            out.histories[kind][L] = trained.history
            out.epochs[kind][L] = len(trained.history["loss"])
            out.seconds[kind][L] = trained.seconds
            if keep:
                out.kept[L]["code"][kind], out.kept[L]["odd"][kind] = code, odd[kind][L]
            log.info("replica %d, L = %d, %s: |r(code, m)| = %.4f, |r(odd code, m)| = %.4f", replica, L, NAMES[kind],
                     out.correlation[kind][L], out.odd_correlation[kind][L])
        if task.pca.enabled:
            pca_data[L] = (X, T, groups[L])
    for kind in KINDS:
        out.scans[kind] = cumulant_scan({L: (odd[kind][L], T, groups[L]) for L in task.sizes},
                                        generator(config.seed, f"bootstrap/{kind}/replica{replica}"), n_boot=N_BOOT,
                                        what=f"U_z of the {NAMES[kind]}")
    if task.pca.enabled:
        from physics.transition.unsupervised import pca_by_size

        with stage("PCA"):  # what physics.tasks.ising.analysis.pca_replica does, on this replica's data
            out.pca = pca_by_size(pca_data, integer_seed(config.seed, f"pca/replica{replica}"),
                                  n_components=task.pca.n_components)
        out.pca_correlation = {L: abs_pearson(out.pca.by_size[L].projections[:, 0].astype(np.float64),
                                              magnetisation[L]) for L in task.sizes}
    return out


def scans_of(replicas: list, kind: str) -> list[CumulantScan]:
    """Every replica's cumulant scan of model ``kind``."""
    return [r.scans[kind] for r in replicas]
