"""Schema of ``task=ising`` (one lattice size), and :class:`IsingDataConfig`, what it shares with ``task=ising_fss``.

Every check that can fail runs at validation, before any Monte Carlo: the temperature grid, the critical window
(inside the range, leaving both phases in the training set), the memory the run will need (estimated from the
config before any grid or array is built: :meth:`IsingDataConfig.check_memory`), the network against the
lattice. Temperatures in units of J/k_B. The training settings (epochs, batch size, early stopping) are the
``trainer`` node; ``conf/task/ising.yaml`` sets the ones this task changes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, List, Optional

import numpy as np

from physics.app.resources import check_memory, driving_key, format_bytes, gb_limit, real
from physics.app.schema import ConfigError, Schema, TaskConfig, param
from physics.tasks.ising.augment import AUGMENTATIONS, augmentation_factor, training_set_bytes

ALGORITHMS = ("auto", "metropolis", "swendsen_wang", "wolff")
LOSSES = ("softmax_cross_entropy", "binary_cross_entropy")
#: val_loss: the networks' best validation loss (mean over seeds), the honest default; tc_error: |T_c - exact|;
#: test_error / critical_error: 1 - accuracy on the test set / in the critical window (for reporting, not tuning)
OBJECTIVES = ("val_loss", "tc_error", "test_error", "critical_error")
# The Monte Carlo engine (physics.ising: scipy.stats and more) is imported when a config is checked, not when
# this module is: `--help` imports every task's schema.


#: temperatures are positive (J/k_B), finite: the bounds of every temperature list
POSITIVE = dict(low=0.0, low_open=True)
#: typical values, against which the key that drives a memory estimate is found (the one furthest above its own)
TYPICAL = {"L": 32, "n_per_temperature": 400, "temperatures": 40, "n_bootstrap": 500, "n_seeds": 3}


def grid_size_bound(pair, step: float) -> float:
    """At most how many temperatures ``uniform_grid(low, high, step)`` holds once rounded to 1e-6 (the unique
    values of :func:`physics.ising.temperatures.temperature_grid`), computed without building it; 0 when
    ``low > high``. A float: it may exceed any array (``inf`` for a step that underflows the division)."""
    from physics.ising.temperatures import DECIMALS

    span = real(pair[1]) - real(pair[0])
    if not span >= 0:
        return 0.0
    steps = span / step + 1e-9
    arithmetic = math.floor(steps) + 1.0 if math.isfinite(steps) else math.inf
    return float(min(arithmetic, math.floor(span * 10 ** DECIMALS) + 2.0))


def check_pair(key: str, pair, *, positive: bool = True) -> None:
    """Raise ConfigError unless ``pair`` is ``[low, high]`` with ``low < high`` (and ``0 < low``)."""
    if len(pair) != 2 or not pair[0] < pair[1] or (positive and pair[0] <= 0):
        raise ConfigError(key, f"must be [low, high] with {'0 < ' if positive else ''}low < high. "
                               f"Got {list(pair)} instead.")


@dataclass
class PCAConfig(Schema):
    """Principal component analysis of the configurations (Wang 2016)."""

    enabled: bool = param(True, help="run the PCA of the raw configurations")
    n_components: int = param(10, help="principal components computed", low=1)


@dataclass
class ConfusionConfig(Schema):
    """Learning by confusion (van Nieuwenburg et al. 2017): one small MLP per guessed T_c."""

    enabled: bool = param(True, help="run learning by confusion")
    n_guesses: int = param(15, help="equally spaced guesses of T_c; the first and last put all samples in one class",
                           low=5)
    n_per_temperature: int = param(100, help="configurations per temperature used (a subset of the dataset)", low=2)
    hidden: int = param(16, help="width of the one hidden layer of the confusion networks", low=1)
    epochs: int = param(5, help="training epochs of each confusion network (no early stopping)", low=1)


@dataclass
class TransferConfig(Schema):
    """The square-lattice network applied to triangular-lattice configurations of the same size."""

    enabled: bool = param(True, help="evaluate the network on triangular-lattice configurations")
    temperature_range: List[float] = param(help="temperatures [low, high] around the exact T_c = 4/ln 3 = 3.6410",
                                           factory=lambda: [2.8, 4.6], **POSITIVE)
    temperature_step: float = param(0.2, help="step of the triangular-lattice grid", low=0.0, low_open=True)
    n_per_temperature: int = param(100, help="triangular-lattice configurations per temperature", low=1)

    def n_temperatures(self) -> float:
        """At most how many temperatures the grid holds (:func:`grid_size_bound`; nothing is built)."""
        return grid_size_bound(self.temperature_range, self.temperature_step)

    def check(self) -> None:
        from physics.ising.temperatures import temperature_grid

        check_pair("temperature_range", self.temperature_range)
        bound = self.n_temperatures()  # the grid is built only when it is small (its memory: task.transfer.*)
        if bound < 2 or (bound <= 10_000 and temperature_grid(self.temperature_range, self.temperature_step).size < 2):
            raise ConfigError("temperature_range", f"must hold at least 2 temperatures with step "
                                                   f"{self.temperature_step}. Got {list(self.temperature_range)}.")


@dataclass
class IsingDataConfig(TaskConfig):
    """What both Ising tasks share: the temperature grid, the held-out critical window, the split, the
    augmentation, the networks per size and the bootstrap. Temperatures in units of J/k_B."""

    MODELS = ("mlp", "cnn")
    VALIDATION_OBJECTIVES = ("val_loss",)
    #: the task key holding the lattice size(s), named by the errors of networks that do not fit a lattice
    SIZE_KEY: ClassVar[str] = "L"

    temperature_range: List[float] = param(help="uniform grid from low to high (J/k_B) ...", factory=lambda: [1.0, 3.5],
                                           **POSITIVE)
    temperature_step: float = param(0.1, help="... with this step", low=0.0, low_open=True)
    dense_range: Optional[List[float]] = param(help="... joined with a finer grid over [low, high] near T_c "
                                                    "(null: none)", factory=lambda: [1.9, 2.7], **POSITIVE)
    dense_step: float = param(0.05, help="step of the finer grid", low=0.0, low_open=True)
    temperatures: Optional[List[float]] = param(None, help="an explicit list of temperatures replaces the grids",
                                                **POSITIVE)
    critical_window: List[float] = param(help="[low, high]: evaluated apart, reported as accuracy_critical",
                                         factory=lambda: [2.0, 2.5], **POSITIVE)
    hold_out_window: bool = param(True, help="true: no training or test data from the critical window (Mehta et "
                                             "al.); false: split it like every temperature (Carrasquilla & Melko)")
    n_per_temperature: int = param(400, help="Monte Carlo configurations per temperature (cached in data_dir)",
                                   low=2)
    test_fraction: float = param(0.2, help="test share of each training temperature", low=0.0, high=1.0,
                                 low_open=True, high_open=True)
    algorithm: str = param("auto", help="Monte Carlo update (auto: Swendsen-Wang near T_c, Metropolis elsewhere)",
                           choices=ALGORITHMS)
    n_jobs: Optional[int] = param(None, help="Monte Carlo processes (null: all cores; negative: joblib style)")
    augment: List[str] = param(help="symmetry images added to the training set (any of the choices)",
                               choices=AUGMENTATIONS, factory=list)
    n_translations: int = param(1, help="random translated copies per configuration with augment=[translate]",
                                low=1)
    memory_limit_gb: float = param(4.0, help="refuse a run whose estimated memory (Monte Carlo data, augmented "
                                             "training set, bootstrap, PCA, ...) exceeds this many GB", low=0.0,
                                   low_open=True)
    loss: str = param("softmax_cross_entropy", help="the networks' loss: 2 logits and a softmax, or 1 logit and a "
                                                    "sigmoid", choices=LOSSES)
    n_seeds: int = param(3, help="networks trained from independent random streams (error bars over seeds)", low=1)
    n_bootstrap: int = param(500, help="bootstrap replicates for the T_c error bars", low=20)
    objective: str = param("val_loss", help="what a sweep minimises: val_loss, the networks' best validation loss "
                                            "(mean over seeds); the others (|T_c - exact|, 1 - test or critical-"
                                            "window accuracy) are for reporting, not tuning", choices=OBJECTIVES)

    def grid(self) -> np.ndarray:
        """Sorted unique temperatures: the explicit list, else the uniform grid joined with the dense one."""
        from physics.ising.temperatures import temperature_grid, unique_temperatures

        if self.temperatures is not None:
            return unique_temperatures(self.temperatures)
        return temperature_grid(self.temperature_range, self.temperature_step, self.dense_range, self.dense_step)

    def sizes_trained(self) -> list[int]:
        """The lattice sizes a network is trained on."""
        raise NotImplementedError

    def check(self) -> None:
        check_pair("temperature_range", self.temperature_range)
        if self.dense_range is not None:
            check_pair("dense_range", self.dense_range)
        if self.temperatures is not None and (len(self.temperatures) < 3 or min(self.temperatures) <= 0):
            raise ConfigError("temperatures", f"must list at least 3 positive temperatures or be null. "
                                              f"Got {self.temperatures} instead.")
        if self.n_jobs == 0:
            raise ConfigError("n_jobs", "must be null, a positive count or negative (joblib style). Got 0 instead.")
        if self.sizes_trained():  # (an empty list of sizes is the subclass's error)
            self.check_memory(self.sizes_trained())  # before the grid is built: its size is checked too
        self._check_window()

    def _check_window(self) -> None:
        from physics.ising.lattice import critical_temperature

        T, tc = self.grid(), critical_temperature("square")  # the training labels are T < T_c (Onsager)
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
        for phase, members in (("ordered (T < T_c = 2.269)", outside[outside < tc]),
                               ("disordered (T > T_c = 2.269)", outside[outside > tc])):
            if members.size == 0:
                raise ConfigError("critical_window", f"{list(self.critical_window)} leaves no {phase} temperature "
                                                     f"for training; temperatures {T.tolist()}.")

    def n_training_temperatures(self) -> int:
        """Temperatures of the grid that contribute training configurations."""
        T = self.grid()
        low, high = self.critical_window
        return int(np.sum((T < low) | (T > high))) if self.hold_out_window else int(T.size)

    def temperature_count(self) -> tuple[float, str]:
        """At most how many temperatures :meth:`grid` holds, computed without building it, and the key that sets
        the count (``temperatures``, ``temperature_step`` or ``dense_step``)."""
        if self.temperatures is not None:
            return float(len(set(self.temperatures))), "temperatures"
        coarse, dense = grid_size_bound(self.temperature_range, self.temperature_step), 0.0
        if self.dense_range is not None:
            low, high = self.temperature_range
            dense = grid_size_bound([max(self.dense_range[0], low), min(self.dense_range[1], high)], self.dense_step)
        return coarse + dense, "dense_step" if dense > coarse else "temperature_step"

    def memory_needs(self, L) -> list[tuple[float, str, dict]]:
        """The parts of the run's memory at lattice size ``L``: ``(bytes, what, {key: value / typical})``, the
        keys (relative to ``task``) that size each part. Counted: int8 spins of every configuration and the
        float32 copies the models see (5 bytes per spin), the augmented copies of the training set, every
        network's predictions and the bootstrap replicates (the per-temperature resampling counts included)."""
        n_T, T_key = self.temperature_count()
        n, seeds, n_boot, spins = real(self.n_per_temperature), real(self.n_seeds), real(self.n_bootstrap), \
            real(L) * real(L)
        configs, n_sizes = n_T * n, real(len(self.sizes_trained()))
        base = {self.SIZE_KEY: spins / TYPICAL["L"] ** 2, "n_per_temperature": n / TYPICAL["n_per_temperature"],
                T_key: n_T / TYPICAL["temperatures"]}
        needs = [(configs * spins * 5 + n_T * 64, f"the Monte Carlo data and the models' float32 copies of it "
                                                  f"({n_T:.4g} temperatures x {n:.4g} configurations x {L}^2 spins)",
                  base)]
        factor = augmentation_factor(self.augment, self.n_translations)
        if factor > 1:
            n_train = n_T * (n - round(self.test_fraction * self.n_per_temperature))
            translations = (1 + self.n_translations) if "translate" in self.augment else 1
            needs.append((training_set_bytes(n_train, L, factor - 1),
                          f"the {factor - 1} symmetry images per training configuration ({list(self.augment)})",
                          {**base, "augment": factor / translations, "n_translations": translations / 2}))
        needs.append((n_boot * 8 * (2 * seeds * n_T + n + 2 * n_T + seeds)  # one model's replicates at a time
                      + n_sizes * (seeds * configs + n_boot * n_T) * 8,  # kept per size: predictions, Binder's
                      f"the predictions of {seeds:.4g} networks per size and {n_boot:.4g} bootstrap replicates",
                      {"n_bootstrap": n_boot / TYPICAL["n_bootstrap"], "n_seeds": seeds / TYPICAL["n_seeds"], **base}))
        return needs

    def check_memory(self, sizes) -> None:
        """The run at its largest lattice must fit in ``memory_limit_gb`` (estimated by :meth:`memory_needs`,
        before anything is allocated). The error names the key driving the largest part."""
        L = max(sizes)
        needs = self.memory_needs(L)
        total = sum(n_bytes for n_bytes, _, _ in needs)
        n_bytes, what, ratios = max(needs, key=lambda need: need[0])
        key = driving_key(ratios)
        value = self
        for part in key.split("."):
            value = getattr(value, part)
        change = "use fewer" if key == "augment" else "raise it" if key.endswith("step") else "lower it"
        check_memory(key, total, "the run", gb_limit(self.memory_limit_gb, "task.memory_limit_gb"),
                     f"Most of it: {what}, {format_bytes(n_bytes)}, driven by task.{key} = {value}: {change}, or "
                     f"raise task.memory_limit_gb.")

    def check_with(self, config) -> None:
        for L in self.sizes_trained():
            config.model.check_input((L, L), f"task.{self.SIZE_KEY}")
        super().check_with(config)


@dataclass
class Config(IsingDataConfig):
    """``task=ising``: phase classification at one lattice size, T_c, what the network learned, PCA, confusion
    and transfer to the triangular lattice."""

    name: str = param("ising", help="the task", choices=("ising",))
    L: int = param(32, help="linear lattice size (L x L spins, periodic)", low=4)
    sample_temperatures: List[float] = param(help="temperatures of the configurations in figures/configurations.png",
                                             factory=lambda: [1.5, 2.0, 2.25, 2.5, 3.5], **POSITIVE)
    pca: PCAConfig = param(help="PCA of the configurations (Wang 2016)", factory=PCAConfig)
    confusion: ConfusionConfig = param(help="learning by confusion: one small MLP per guessed T_c",
                                       factory=ConfusionConfig)
    transfer: TransferConfig = param(help="the square-lattice network on triangular-lattice configurations",
                                     factory=TransferConfig)

    def sizes_trained(self) -> list[int]:
        return [self.L]

    def check(self) -> None:
        super().check()
        if not self.sample_temperatures:
            raise ConfigError("sample_temperatures", "must list at least one temperature. Got [] instead.")
        n_configurations = self.grid().size * self.n_per_temperature
        if self.pca.enabled and self.pca.n_components > min(n_configurations, self.L ** 2):
            raise ConfigError("pca.n_components", f"must not exceed the number of configurations ({n_configurations}) "
                                                  f"nor of spins ({self.L ** 2}). Got {self.pca.n_components} instead.")

    def memory_needs(self, L) -> list[tuple[float, str, dict]]:
        """:meth:`IsingDataConfig.memory_needs` plus the PCA (a float32 copy of every configuration, centred,
        and the randomized solver's blocks), learning by confusion (float32 subsets, one small network at a
        time) and the transfer (its own data, predictions and bootstrap)."""
        needs = super().memory_needs(L)
        n_T, T_key = self.temperature_count()
        n, seeds, n_boot, spins = real(self.n_per_temperature), real(self.n_seeds), real(self.n_bootstrap), \
            real(L) * real(L)
        size = {"L": spins / TYPICAL["L"] ** 2}
        if self.pca.enabled:
            k = real(self.pca.n_components)
            needs.append((n_T * n * spins * 8 + (k + 10) * (n_T * n + spins) * 8 * 3,
                          f"the PCA of {n_T * n:.4g} configurations", {**needs[0][2], "pca.n_components": k / 10}))
        if self.confusion.enabled:
            c = self.confusion
            subset = min(real(c.n_per_temperature), n)
            needs.append((n_T * subset * spins * 4 + real(c.hidden) * spins * 4 * 4 + real(c.n_guesses) * 64,
                          f"learning by confusion ({c.n_guesses} guesses, networks of {c.hidden} hidden units)",
                          {**size, T_key: n_T / TYPICAL["temperatures"], "confusion.n_per_temperature": subset / 100,
                           "confusion.hidden": real(c.hidden) / 16, "confusion.n_guesses": real(c.n_guesses) / 15}))
        if self.transfer.enabled:
            t = self.transfer
            n_tr, n_T_tr = real(t.n_per_temperature), t.n_temperatures()
            bootstrap = n_boot * 8 * (2 * seeds * n_T_tr + n_tr + 2 * n_T_tr)
            needs.append((n_T_tr * n_tr * (spins * 5 + seeds * 8) + bootstrap,
                          f"the triangular-lattice transfer ({n_T_tr:.4g} temperatures x {n_tr:.4g} configurations)",
                          {**size, "transfer.temperature_step": n_T_tr / 10, "transfer.n_per_temperature": n_tr / 100,
                           "n_bootstrap": n_boot / TYPICAL["n_bootstrap"], "n_seeds": seeds / TYPICAL["n_seeds"]}))
        return needs


#: ``debug=tiny``: L = 8, a coarse grid, 40 configurations per temperature, two networks of 3 epochs
DEBUG = {"task": {"L": 8, "temperature_range": [1.0, 3.5], "temperature_step": 0.25, "dense_range": None,
                  "n_per_temperature": 40, "n_seeds": 2, "n_bootstrap": 50, "n_jobs": 1,
                  "confusion": {"n_guesses": 7, "n_per_temperature": 20},
                  "transfer": {"temperature_step": 0.4, "n_per_temperature": 20}},
         "trainer": {"epochs": 3}}
