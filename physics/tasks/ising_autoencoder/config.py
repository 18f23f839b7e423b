"""Schema of ``task=ising_autoencoder``: the lattice sizes, the temperature scan, the replicas, the latent, PCA.

Every check that can fail runs at validation, before any Monte Carlo: the sizes (at least two different ones: the
cumulant of the latent is located by its crossings between sizes), the temperatures (positive, increasing, at
least :data:`MIN_TEMPERATURES` of them for the local fits), the latent size, PCA against the data, and the memory
one replica will need (:meth:`Config.check_memory`, estimated before any array is built). Temperatures in units of
J/k_B. The networks are the ``model`` node (``model=mlp``: its ``hidden`` widths are the encoder's, mirrored in
the decoder), trained with the ``optimizer``, ``schedule`` and ``trainer`` nodes; ``conf/task/ising_autoencoder.yaml``
sets the ones this task changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from physics.app.resources import check_memory, driving_key, format_bytes, real
from physics.app.schema import ConfigError, TaskConfig, param
from physics.tasks.ising.config import ALGORITHMS, POSITIVE, PCAConfig, check_pair, grid_size_bound

#: val_loss: the autoencoders' best validation loss (mean over replicas and sizes, nats per spin), the honest
#: default; vae_val_loss: the VAE's (negative ELBO per spin); tc_error, vae_tc_error: |T_c(inf) - exact| of the
#: autoencoder's or the VAE's latent cumulant, for reporting, not tuning
OBJECTIVES = ("val_loss", "vae_val_loss", "tc_error", "vae_tc_error")
#: a crossing is a local cubic fit: at least this many temperatures
MIN_TEMPERATURES = 6
#: typical values, against which the key that drives a memory estimate is found
TYPICAL = {"sizes": 32, "n_per_temperature": 200, "temperatures": 20}


@dataclass
class Config(TaskConfig):
    """``task=ising_autoencoder``: the Ising transition from the latent of autoencoders trained without labels."""

    MODELS = ("mlp",)
    VALIDATION_OBJECTIVES = ("val_loss", "vae_val_loss")

    name: str = param("ising_autoencoder", help="the task", choices=("ising_autoencoder",))
    sizes: List[int] = param(help="lattice sizes (L x L spins, periodic), at least 2 different: the cumulant of the "
                                  "latent is located by its crossings between consecutive sizes; 3 or more give "
                                  "T_c(inf), 2 only the pseudo-critical crossing of the pair",
                             factory=lambda: [8, 16, 32], low=4)
    n_replicas: int = param(4, help="independent replicas (fresh Monte Carlo, fresh network initialisation and "
                                    "training): the statistical errors", low=1)
    latent: int = param(1, help="size of the code of both autoencoders (the bottleneck)", low=1)
    beta: float = param(1.0, help="weight of the KL term of the variational autoencoder (1: the ELBO)", low=0.0,
                        low_open=True)
    temperature_range: List[float] = param(help="uniform grid from low to high (J/k_B), across both phases ...",
                                           factory=lambda: [1.6, 3.2], **POSITIVE)
    temperature_step: float = param(0.2, help="... with this step", low=0.0, low_open=True)
    dense_range: Optional[List[float]] = param(help="... joined with a finer grid over [low, high] where the "
                                                    "cumulants cross (null: none)", factory=lambda: [2.15, 2.45],
                                               **POSITIVE)
    dense_step: float = param(0.025, help="step of the finer grid", low=0.0, low_open=True)
    temperatures: Optional[List[float]] = param(None, help="an explicit increasing list of temperatures replaces "
                                                           "the grids", **POSITIVE)
    n_per_temperature: int = param(200, help="Monte Carlo configurations per temperature and size (cached)", low=2)
    algorithm: str = param("auto", help="Monte Carlo update (auto: Swendsen-Wang near T_c, Metropolis elsewhere)",
                           choices=ALGORITHMS)
    n_jobs: Optional[int] = param(None, help="Monte Carlo processes (null: all cores; negative: joblib style)")
    histogram_temperatures: List[float] = param(help="temperatures of the latent histograms in "
                                                     "figures/latent_histograms.png (the nearest of the grid)",
                                                factory=lambda: [1.8, 2.2, 2.3, 2.4, 3.0], **POSITIVE)
    pca: PCAConfig = param(help="PCA of the same configurations, the linear baseline (Wang 2016)",
                           factory=PCAConfig)
    objective: str = param("val_loss", help="what a sweep minimises: val_loss, the autoencoder's best validation "
                                            "loss (mean over replicas and sizes); vae_val_loss, the VAE's; tc_error "
                                            "and vae_tc_error = |T_c(inf) - exact| are for reporting, not tuning",
                           choices=OBJECTIVES)

    # -- the grid
    def grid(self) -> np.ndarray:
        """The temperatures of every size and replica: the explicit list, or the uniform grid joined with the dense
        one. Sorted, unique (rounded to 1e-6)."""
        from physics.ising.temperatures import temperature_grid, unique_temperatures

        if self.temperatures is not None:
            return unique_temperatures(self.temperatures)
        return temperature_grid(self.temperature_range, self.temperature_step, self.dense_range, self.dense_step)

    def temperature_count(self) -> tuple[float, str]:
        """At most how many temperatures :meth:`grid` holds, computed without building it, and the key that sets
        the count."""
        if self.temperatures is not None:
            return float(len(self.temperatures)), "temperatures"
        coarse, dense = grid_size_bound(self.temperature_range, self.temperature_step), 0.0
        if self.dense_range is not None:
            low, high = self.temperature_range
            dense = grid_size_bound([max(self.dense_range[0], low), min(self.dense_range[1], high)], self.dense_step)
        return coarse + dense, "dense_step" if dense > coarse else "temperature_step"

    # -- checks
    def check(self) -> None:
        if len(set(self.sizes)) < 2 or len(set(self.sizes)) != len(self.sizes):
            raise ConfigError("sizes", f"must list at least 2 different lattice sizes (each >= 4): the cumulant of "
                                       f"the latent is located where the curves of two sizes cross, so one size "
                                       f"gives no estimate (3 or more give T_c(inf), 2 a pseudo-critical crossing). "
                                       f"Got {self.sizes} instead.")
        self.sizes = sorted(self.sizes)
        if self.objective in ("tc_error", "vae_tc_error") and len(self.sizes) < 3:
            raise ConfigError("objective", f"{self.objective} = |T_c(inf) - exact| needs at least 3 sizes (with 2 there "
                                           f"is one crossing, a pseudo-critical temperature, never compared with the "
                                           f"exact T_c). Got sizes {self.sizes}; choose val_loss or vae_val_loss.")
        if self.n_jobs == 0:
            raise ConfigError("n_jobs", "must be null, a positive count or negative (joblib style). Got 0 instead.")
        if not self.histogram_temperatures:
            raise ConfigError("histogram_temperatures", "must list at least one temperature. Got [] instead.")
        if self.temperatures is not None:
            values = list(self.temperatures)
            if any(not b > a for a, b in zip(values[:-1], values[1:])):
                raise ConfigError("temperatures", f"must be sorted in strictly increasing order (J/k_B, each > 0). "
                                                  f"Got {values} instead.")
            if len(values) < MIN_TEMPERATURES:
                raise ConfigError("temperatures", f"must list at least {MIN_TEMPERATURES} temperatures (a crossing "
                                                  f"is a local cubic fit) or be null. Got {values} instead.")
        else:
            check_pair("temperature_range", self.temperature_range)
            if self.dense_range is not None:
                check_pair("dense_range", self.dense_range)
            count, key = self.temperature_count()
            if count > 10_000:
                raise ConfigError(key, f"makes more than 10000 temperatures. Got {getattr(self, key)}.")
            if self.grid().size < MIN_TEMPERATURES:
                raise ConfigError("temperature_step", f"leaves fewer than {MIN_TEMPERATURES} temperatures in "
                                                      f"{list(self.temperature_range)} (a crossing is a local cubic "
                                                      f"fit). Got {self.temperature_step}.")
        self.check_memory()
        n_configurations, smallest = self.grid().size * self.n_per_temperature, min(self.sizes) ** 2
        if self.pca.enabled and self.pca.n_components > min(n_configurations, smallest):
            raise ConfigError("pca.n_components", f"must not exceed the configurations per size ({n_configurations}) "
                                                  f"nor the spins of the smallest size ({smallest}). Got "
                                                  f"{self.pca.n_components} instead.")

    def check_memory(self) -> None:
        """One replica at the largest size must fit in the default memory limit
        (:func:`physics.app.resources.default_limit`): int8 spins, the float32 copy the networks read and its
        spin-flipped image, the float64 copy and blocks of the PCA, per configuration and spin. The error names the
        key furthest above its typical value."""
        n_T, T_key = self.temperature_count()
        n, L = real(self.n_per_temperature), real(max(self.sizes))
        configurations = n_T * n
        n_bytes = configurations * L * L * (1 + 4 + 4 + 8 * (4 if self.pca.enabled else 0)) + n_T * 4096
        key = driving_key({"sizes": L * L / TYPICAL["sizes"] ** 2,
                           "n_per_temperature": n / TYPICAL["n_per_temperature"], T_key: n_T / TYPICAL["temperatures"]})
        check_memory(key, n_bytes, f"one replica at L = {max(self.sizes)} ({n_T:.4g} temperatures x {n:.4g} "
                                             f"configurations x {max(self.sizes)}^2 spins)",
                     hint=f"Lower task.{key} (now {getattr(self, key)}) or disable the PCA (task.pca.enabled=false); "
                          f"the estimate is {format_bytes(n_bytes)}.")


#: ``debug=tiny``: three tiny sizes (so that the T_c(inf) path runs), a coarse grid, few configurations, two replicas
DEBUG = {"task": {"sizes": [4, 6, 8], "temperature_range": [1.6, 3.2], "temperature_step": 0.4,
                  "dense_range": [2.1, 2.5], "dense_step": 0.1, "n_per_temperature": 30, "n_replicas": 2,
                  "n_jobs": 1, "pca": {"n_components": 4}},
         "trainer": {"epochs": 5, "batch_size": 16}}
