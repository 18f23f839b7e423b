"""The 2D Ising model: lattices, exact results, Monte Carlo sampling, observables and datasets.

Conventions: ``H = -sum_<ij> s_i s_j`` (J = k_B = 1), no field, periodic boundaries, int8 spins ±1 in
arrays of shape (L, L) or (n, L, L), temperatures in units of J/k_B.

>>> from physics.ising import sample, generate_dataset, torus_energy
>>> spins = sample(32, 2.269, 100, seed=0)              # (100, 32, 32) int8, equilibrated, decorrelated
>>> spins.shape, spins.dtype
((100, 32, 32), dtype('int8'))
>>> data = generate_dataset(32, [1.5, 2.27, 3.0], 200)  # doctest: +SKIP
>>> # cached in $ML4PHYS_CACHE_DIR or ~/.cache/ml4phys; data.spins, data.temperature, data.label

Modules: :mod:`.lattice` (geometry, energy), :mod:`.exact` (Onsager, Yang, finite torus, enumeration),
:mod:`.observables` (tau_int, blocking, jackknife, measure), :mod:`.metropolis` and :mod:`.cluster`
(updates), :mod:`.sampling` (sample, simulate), :mod:`.temperatures` (the temperature-grid builder),
:mod:`.dataset` (generate_dataset and its cache).

This package is the Monte Carlo engine only. Locating a transition from a model's output (crossings, finite-size
scaling, PCA, confusion) is :mod:`physics.transition`; the training-set symmetry augmentation and the |m|
threshold baseline belong to ``task=ising`` (:mod:`physics.tasks.ising.augment`,
:mod:`physics.tasks.ising.threshold`).
"""

from .cluster import SwendsenWang, Wolff
from .dataset import (
    FORMAT_VERSION,
    IsingCacheError,
    IsingCacheWarning,
    IsingDataset,
    default_cache_dir,
    default_temperatures,
    generate_dataset,
)
from .exact import (
    energy_magnetization_histogram,
    enumerate_observables,
    onsager_critical_temperature,
    onsager_energy,
    onsager_specific_heat,
    torus_energy,
    torus_log_partition,
    torus_specific_heat,
    yang_magnetization,
)
from .lattice import (
    LATTICES,
    coordination,
    critical_temperature,
    energy_per_spin,
    magnetization_per_spin,
    neighbour_offsets,
    neighbour_sum,
)
from .metropolis import CheckerboardMetropolis
from .observables import (
    ErrorAnalysisWarning,
    autocorrelation_function,
    binning_error,
    blocking_analysis,
    integrated_autocorrelation_time,
    jackknife,
    measure,
    sokal_window,
    tau_int_error,
)
from .sampling import (
    ALGORITHMS,
    EquilibrationWarning,
    SampleResult,
    choose_algorithm,
    sample,
    sample_with_info,
    simulate,
)
from .temperatures import temperature_grid, unique_temperatures

__all__ = [
    "ALGORITHMS", "FORMAT_VERSION", "LATTICES", "CheckerboardMetropolis", "EquilibrationWarning",
    "ErrorAnalysisWarning", "IsingCacheError", "IsingCacheWarning", "IsingDataset", "SampleResult", "SwendsenWang", "Wolff",
    "autocorrelation_function", "binning_error", "blocking_analysis", "choose_algorithm", "coordination",
    "critical_temperature", "default_cache_dir", "default_temperatures", "energy_magnetization_histogram",
    "energy_per_spin", "enumerate_observables", "generate_dataset", "integrated_autocorrelation_time",
    "jackknife", "magnetization_per_spin", "measure", "neighbour_offsets", "neighbour_sum",
    "onsager_critical_temperature", "onsager_energy", "onsager_specific_heat", "sample", "sample_with_info",
    "simulate", "sokal_window", "tau_int_error", "temperature_grid", "torus_energy", "torus_log_partition",
    "torus_specific_heat", "unique_temperatures", "yang_magnetization",
]  # fmt: skip
