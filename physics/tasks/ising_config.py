"""Config schemas of ``task=ising`` (one lattice size) and ``task=ising_fss`` (finite-size scaling).

Every check that can fail runs here, in ``__post_init__``, before any Monte Carlo: the temperature grid, the
critical window (inside the range, leaving both phases in the training set), the augmentation's memory.
Keys in the errors are relative to the task node (``validate`` prefixes ``task.``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from physics.config import ConfigError, TrainingConfig, check_choice, check_range, register_task
from physics.ising.augment import AUGMENTATIONS, augmentation_factor, training_set_bytes
from physics.ising.lattice import critical_temperature

ALGORITHM_NAMES = ("auto", "metropolis", "swendsen_wang", "wolff")
LOSS_NAMES = ("softmax_cross_entropy", "binary_cross_entropy")
OBJECTIVE_NAMES = ("tc_error", "test_error", "critical_error")
#: T_c of the infinite square lattice (Onsager), J/k_B; the training labels are T < T_C_SQUARE
T_C_SQUARE = critical_temperature("square")


def _check_pair(key: str, pair, *, positive: bool = True) -> None:
    if len(pair) != 2 or not pair[0] < pair[1] or (positive and pair[0] <= 0):
        raise ConfigError(key, f"must be [low, high] with {'0 < ' if positive else ''}low < high. "
                               f"Got {list(pair)} instead.")


def temperature_grid(temperatures, temperature_range, temperature_step, dense_range, dense_step) -> np.ndarray:
    """Sorted unique temperatures (J/k_B): an explicit list, or a uniform grid over ``temperature_range`` with
    step ``temperature_step`` joined with a finer one (``dense_step``) over ``dense_range`` (near T_c).
    Values are rounded to 1e-6 so that grids from different steps share points exactly."""
    if temperatures is not None:
        return np.unique(np.round(np.asarray(temperatures, dtype=np.float64), 6))
    low, high = temperature_range
    coarse = low + temperature_step * np.arange(int(np.floor((high - low) / temperature_step + 1e-9)) + 1)
    grids = [coarse]
    if dense_range is not None:
        dense_low, dense_high = max(dense_range[0], low), min(dense_range[1], high)
        count = int(np.floor((dense_high - dense_low) / dense_step + 1e-9)) + 1
        grids.append(dense_low + dense_step * np.arange(max(count, 0)))
    return np.unique(np.round(np.concatenate(grids), 6))


@dataclass
class PCAConfig:
    """Principal component analysis of the configurations (Wang 2016)."""

    enabled: bool = True
    n_components: int = 10

    def check(self) -> None:
        check_range("n_components", self.n_components, 1)


@dataclass
class ConfusionConfig:
    """Learning by confusion (van Nieuwenburg et al. 2017): one small MLP per guessed T_c."""

    enabled: bool = True
    n_guesses: int = 15  # equally spaced guesses; the first and last put all samples in one class
    n_per_temperature: int = 100  # configurations per temperature used (a subset of the dataset)
    hidden: int = 16  # width of the one hidden layer of the confusion networks
    epochs: int = 5

    def check(self) -> None:
        check_range("n_guesses", self.n_guesses, 5)
        check_range("n_per_temperature", self.n_per_temperature, 2)
        check_range("hidden", self.hidden, 1)
        check_range("epochs", self.epochs, 1)


@dataclass
class TransferConfig:
    """The square-lattice network applied to triangular-lattice configurations of the same size."""

    enabled: bool = True
    temperature_range: List[float] = field(default_factory=lambda: [2.8, 4.6])
    temperature_step: float = 0.2
    n_per_temperature: int = 100

    def check(self) -> None:
        _check_pair("temperature_range", self.temperature_range)
        check_range("temperature_step", self.temperature_step, 0.0, low_open=True)
        check_range("n_per_temperature", self.n_per_temperature, 1)
        grid = temperature_grid(None, self.temperature_range, self.temperature_step, None, 1.0)
        if grid.size < 2:
            raise ConfigError("temperature_range", f"must hold at least 2 temperatures with step "
                                                   f"{self.temperature_step}. Got {list(self.temperature_range)}.")


@dataclass
class IsingDataConfig(TrainingConfig):
    """What both Ising tasks share: the temperature grid, the held-out critical window, the split, the
    augmentation, the training runs and the bootstrap. Temperatures in units of J/k_B."""

    name: str = "ising"
    temperature_range: List[float] = field(default_factory=lambda: [1.0, 3.5])
    temperature_step: float = 0.1
    dense_range: Optional[List[float]] = field(default_factory=lambda: [1.9, 2.7])  # finer grid near T_c
    dense_step: float = 0.05
    temperatures: Optional[List[float]] = None  # an explicit list replaces the grid above
    critical_window: List[float] = field(default_factory=lambda: [2.0, 2.5])  # reported as accuracy_critical
    # True (Mehta et al.): no training or test configuration from inside the window, all of it evaluated apart.
    # False (Carrasquilla & Melko): the window's temperatures are split into train and test like the others.
    hold_out_window: bool = True
    n_per_temperature: int = 400
    test_fraction: float = 0.2  # of the configurations of every training temperature
    algorithm: str = "auto"  # Monte Carlo update; auto: Swendsen-Wang near T_c, Metropolis elsewhere
    n_jobs: Optional[int] = None  # processes for the Monte Carlo (None: all cores)
    augment: List[str] = field(default_factory=list)  # any of flip, translate, dihedral
    n_translations: int = 1  # random translated copies per configuration with augment=[translate]
    memory_limit_gb: float = 4.0  # largest augmented training set allowed
    loss: str = "softmax_cross_entropy"  # 2 logits + softmax, or 1 logit + sigmoid
    n_seeds: int = 3  # networks trained from different random streams (error bar over training runs)
    n_bootstrap: int = 500
    def grid(self) -> np.ndarray:
        return temperature_grid(self.temperatures, self.temperature_range, self.temperature_step,
                                self.dense_range, self.dense_step)

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_pair("temperature_range", self.temperature_range)
        check_range("temperature_step", self.temperature_step, 0.0, low_open=True)
        if self.dense_range is not None:
            _check_pair("dense_range", self.dense_range)
        check_range("dense_step", self.dense_step, 0.0, low_open=True)
        if self.temperatures is not None and (len(self.temperatures) < 3 or min(self.temperatures) <= 0):
            raise ConfigError("temperatures", f"must list at least 3 positive temperatures or be null. "
                                              f"Got {self.temperatures} instead.")
        check_range("n_per_temperature", self.n_per_temperature, 2)
        check_range("test_fraction", self.test_fraction, 0.0, 1.0, low_open=True, high_open=True)
        check_choice("algorithm", self.algorithm, ALGORITHM_NAMES)
        if self.n_jobs is not None and self.n_jobs == 0:
            raise ConfigError("n_jobs", "must be null, a positive count or negative (joblib style). Got 0 instead.")
        for name in self.augment:
            check_choice("augment", name, AUGMENTATIONS)
        check_range("n_translations", self.n_translations, 1)
        check_range("memory_limit_gb", self.memory_limit_gb, 0.0, low_open=True)
        check_choice("loss", self.loss, LOSS_NAMES)
        check_range("n_seeds", self.n_seeds, 1)
        check_range("n_bootstrap", self.n_bootstrap, 20)
        self._check_window()

    def _check_window(self) -> None:
        T = self.grid()
        low, high = self.critical_window if len(self.critical_window) == 2 else (None, None)
        if low is None or not low <= high:
            raise ConfigError("critical_window", f"must be [low, high] with low <= high. "
                                                 f"Got {list(self.critical_window)} instead.")
        if low < T.min() or high > T.max():
            raise ConfigError("critical_window", f"{list(self.critical_window)} lies outside the temperature "
                                                 f"range [{T.min():g}, {T.max():g}].")
        inside = (T >= low) & (T <= high)
        if not inside.any():
            raise ConfigError("critical_window", f"{list(self.critical_window)} contains none of the "
                                                 f"temperatures {T.tolist()}.")
        outside = T[~inside] if self.hold_out_window else T
        for phase, members in (("ordered (T < T_c = 2.269)", outside[outside < T_C_SQUARE]),
                               ("disordered (T > T_c = 2.269)", outside[outside > T_C_SQUARE])):
            if members.size == 0:
                raise ConfigError("critical_window", f"{list(self.critical_window)} leaves no {phase} temperature "
                                                     f"for training; temperatures {T.tolist()}.")

    def n_training_temperatures(self) -> int:
        """Temperatures of the grid that contribute training configurations."""
        T = self.grid()
        low, high = self.critical_window
        return int(np.sum((T < low) | (T > high))) if self.hold_out_window else int(T.size)

    def check_memory(self, sizes) -> None:
        """The augmented training set of the largest lattice must fit in ``memory_limit_gb``."""
        n_train = self.n_training_temperatures() * (self.n_per_temperature
                                                     - round(self.test_fraction * self.n_per_temperature))
        factor = augmentation_factor(self.augment, self.n_translations)
        needed = training_set_bytes(n_train, max(sizes), factor)
        if needed > self.memory_limit_gb * 1e9:
            raise ConfigError("augment", f"{list(self.augment)} multiplies the {n_train} training configurations "
                                         f"of L = {max(sizes)} by {factor}: about {needed / 1e9:.1f} GB, more than "
                                         f"task.memory_limit_gb = {self.memory_limit_gb:g}. Use fewer "
                                         f"augmentations, fewer translations or fewer configurations.")

    def _check_nested(self, key: str, node) -> None:
        try:
            node.check()
        except ConfigError as error:
            raise error.under(key) from None


@dataclass
class IsingTaskConfig(IsingDataConfig):
    """``task=ising``: phase classification at one lattice size, T_c, PCA, confusion and transfer."""

    L: int = 32
    objective: str = "tc_error"  # tc_error = |tc_estimate - T_c|; test_error / critical_error = 1 - accuracy
    pca: PCAConfig = field(default_factory=PCAConfig)
    confusion: ConfusionConfig = field(default_factory=ConfusionConfig)
    transfer: TransferConfig = field(default_factory=TransferConfig)
    sample_temperatures: List[float] = field(default_factory=lambda: [1.5, 2.0, 2.25, 2.5, 3.5])  # for the figure

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("name", self.name, ("ising",))
        check_range("L", self.L, 4)
        check_choice("objective", self.objective, OBJECTIVE_NAMES)
        for key in ("pca", "confusion", "transfer"):
            self._check_nested(key, getattr(self, key))
        if not self.sample_temperatures:
            raise ConfigError("sample_temperatures", "must list at least one temperature. Got [] instead.")
        self.check_memory([self.L])


@dataclass
class IsingFSSConfig(IsingDataConfig):
    """``task=ising_fss``: T_c(L) of networks at several sizes, extrapolated to L -> infinity, Binder crossing."""

    name: str = "ising_fss"
    sizes: List[int] = field(default_factory=lambda: [8, 16, 24, 32, 48, 64])
    # the scaling fits drop the smallest size while their chi2 p-value is below this (0: always fit every size)
    fit_p_value: float = 0.05

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("name", self.name, ("ising_fss",))
        if len(self.sizes) < 4 or len(set(self.sizes)) != len(self.sizes):
            raise ConfigError("sizes", f"must list at least 4 different lattice sizes (3 fit parameters with "
                                       f"nu free, plus one degree of freedom). Got {self.sizes} instead.")
        for size in self.sizes:
            check_range("sizes", size, 4)
        self.sizes = sorted(self.sizes)
        check_range("fit_p_value", self.fit_p_value, 0.0, 1.0, high_open=True)
        self.check_memory(self.sizes)


def register() -> None:
    """Make ``task=ising`` and ``task=ising_fss`` known to the config system."""
    register_task("ising", IsingTaskConfig, "physics.tasks.ising")
    register_task("ising_fss", IsingFSSConfig, "physics.tasks.ising_fss")
