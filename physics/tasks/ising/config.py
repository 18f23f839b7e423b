"""Schema of ``task=ising``: the two protocols, the lattice sizes, the replicas, the analyses.

``protocol=extremes`` (the default) trains the network only far from the transition, at ``task.network_L``,
and reads it on block-spin images of every size of ``task.sizes`` on the scan grid; ``protocol=labelled``
(Carrasquilla & Melko) trains one network per size with the labels T < T_c on the whole grid (the labels carry
the answer). Every check that can fail runs at validation, before any Monte Carlo: the grids, the sizes against
the block-spin factors, the critical window, the memory the run will need (estimated before any array is built:
:meth:`Config.check_memory`), the network against the lattice. Temperatures in units of J/k_B. The training
settings (epochs, batch size, early stopping) are the ``trainer`` node; ``conf/task/ising.yaml`` sets the ones
this task changes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from physics.app.resources import check_memory, driving_key, format_bytes, gb_limit, real
from physics.app.schema import ConfigError, Schema, TaskConfig, param
from physics.tasks.ising.augment import AUGMENTATIONS, augmentation_factor, training_set_bytes

ALGORITHMS = ("auto", "metropolis", "swendsen_wang", "wolff")
LOSSES = ("softmax_cross_entropy", "binary_cross_entropy")
PROTOCOLS = ("extremes", "labelled")
#: val_loss: the networks' best validation loss (mean over replicas and sizes), the honest default; tc_error:
#: |T_c(inf) - exact|; critical_error: 1 - accuracy in the critical window (labelled protocol); for reporting only
OBJECTIVES = ("val_loss", "tc_error", "critical_error")
# The Monte Carlo engine (physics.ising: scipy.stats and more) is imported when a config is checked, not when
# this module is: `--help` imports every task's schema.


#: temperatures are positive (J/k_B), finite: the bounds of every temperature list
POSITIVE = dict(low=0.0, low_open=True)
#: typical values, against which the key that drives a memory estimate is found (the one furthest above its own)
TYPICAL = {"L": 32, "n_per_temperature": 400, "temperatures": 40}


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
    """Principal component analysis of the scan configurations of every size (Wang 2016)."""

    enabled: bool = param(True, help="run the PCA of the raw configurations of every size")
    n_components: int = param(10, help="principal components computed", low=1)


@dataclass
class ConfusionConfig(Schema):
    """Learning by confusion (van Nieuwenburg et al. 2017) at one size: one small MLP per guessed T_c and seed."""

    enabled: bool = param(False, help="run learning by confusion (about a minute)")
    L: int = param(16, help="lattice size of its Monte Carlo data", low=4)
    temperature_range: List[float] = param(help="its temperature grid [low, high] (J/k_B) ...",
                                           factory=lambda: [1.6, 3.0], **POSITIVE)
    temperature_step: float = param(0.05, help="... with this step", low=0.0, low_open=True)
    n_per_temperature: int = param(100, help="configurations per temperature", low=2)
    coarse_step: float = param(0.1, help="step of the uniform grid of guesses", low=0.0, low_open=True)
    fine_step: float = param(0.02, help="step of the second pass around the coarse peak", low=0.0, low_open=True)
    fine_halfwidth: float = param(0.1, help="half-width of the second pass", low=0.0, low_open=True)
    n_seeds: int = param(3, help="networks per guess from independent seeds (the error bar)", low=2)
    hidden: int = param(16, help="width of the one hidden layer of the confusion networks", low=1)
    epochs: int = param(5, help="training epochs of each confusion network (no early stopping)", low=1)

    def check(self) -> None:
        check_pair("temperature_range", self.temperature_range)
        if self.fine_step > self.coarse_step:
            raise ConfigError("fine_step", f"must not exceed coarse_step = {self.coarse_step}. "
                                           f"Got {self.fine_step} instead.")


@dataclass
class TransferConfig(Schema):
    """The square-lattice network read on triangular-lattice configurations (``protocol=extremes`` only)."""

    enabled: bool = param(False, help="locate the triangular lattice's T_c (exact 4/ln 3 = 3.6410) with the "
                                      "square-lattice network")
    sizes: List[int] = param(help="triangular lattice sizes: multiples of 3 (the lattice's 3-colouring), each "
                                  "network_L x 3 x 2^k", factory=lambda: [24, 48], low=3)
    scan_range: List[float] = param(help="scan grid [low, high] (J/k_B) ...", factory=lambda: [3.50, 3.80],
                                    **POSITIVE)
    scan_step: float = param(0.02, help="... with this step", low=0.0, low_open=True)
    n_per_temperature: int = param(400, help="triangular-lattice configurations per temperature and size", low=2)

    def grid(self) -> np.ndarray:
        from physics.ising.temperatures import temperature_grid

        return temperature_grid(self.scan_range, self.scan_step)

    def check(self) -> None:
        check_pair("scan_range", self.scan_range)
        if grid_size_bound(self.scan_range, self.scan_step) > 10_000:
            raise ConfigError("scan_step", f"makes more than 10000 temperatures over {list(self.scan_range)}. "
                                           f"Got {self.scan_step}.")
        if any(L % 3 for L in self.sizes) or len(set(self.sizes)) != len(self.sizes):
            raise ConfigError("sizes", f"must be different multiples of 3. Got {self.sizes} instead.")
        self.sizes = sorted(self.sizes)


@dataclass
class BinderConfig(Schema):
    """The physics baseline: Binder-cumulant crossings from Swendsen-Wang chains, histogram reweighting and a
    jackknife over independent chains (:func:`physics.transition.binder.binder_baseline`)."""

    enabled: bool = param(True, help="run the Binder-cumulant baseline (cached in data_dir)")
    sizes: Optional[List[int]] = param(None, help="its lattice sizes, at least 2 (null: task.sizes; with one size L "
                                                  "there: L/2 and L)", low=4)
    start_temperature: float = param(2.30, help="where the pilot chains run; the production chains run at the "
                                                "crossing the pilot finds (not the exact T_c)", low=0.0,
                                     low_open=True)
    n_chains: int = param(16, help="independent Swendsen-Wang chains per size (the jackknife blocks)", low=2)
    n_sweeps: int = param(4000, help="measured sweeps per production chain of the largest size (size L runs "
                                     "n_sweeps x L_max / L: the cost-optimal split)", low=10)
    pilot_sweeps: int = param(300, help="measured sweeps per pilot chain", low=10)


    def check(self) -> None:
        if self.sizes is not None and len(set(self.sizes)) < 2:
            raise ConfigError("sizes", f"must list at least 2 different lattice sizes (a crossing needs two) or be "
                                       f"null. Got {self.sizes} instead.")


@dataclass
class Config(TaskConfig):
    """``task=ising``: the 2D Ising transition from what networks learned, with finite-size scaling, replicas of
    the whole pipeline, the physics baseline and unsupervised estimators."""

    MODELS = ("mlp", "cnn")
    VALIDATION_OBJECTIVES = ("val_loss",)

    name: str = param("ising", help="the task", choices=("ising",))
    protocol: str = param("extremes", help="extremes: trained only far from T_c, read on block-spin images of "
                                           "every size (labels do not carry T_c); labelled: one network per size, "
                                           "labels T < T_c on the whole grid (Carrasquilla & Melko; circular)",
                          choices=PROTOCOLS)
    sizes: List[int] = param(help="lattice sizes (L x L spins, periodic); extremes: network_L x 2^k",
                             factory=lambda: [16, 32, 64], low=4)
    n_replicas: int = param(4, help="independent replicas of the whole pipeline (fresh Monte Carlo, fresh "
                                    "training): the statistical errors", low=1)
    fss_min_size: int = param(16, help="L_min of the finite-size-scaling fits, fixed before the run (extremes: "
                                       "the smallest size that went through a block-spin step)", low=1)
    # -- protocol=extremes
    network_L: int = param(8, help="extremes: the lattice size the network is trained on and reads", low=4)
    ordered_range: List[float] = param(help="extremes: training temperatures [low, high] labelled ordered",
                                       factory=lambda: [1.0, 1.6], **POSITIVE)
    disordered_range: List[float] = param(help="extremes: training temperatures [low, high] labelled disordered",
                                          factory=lambda: [3.2, 3.8], **POSITIVE)
    train_step: float = param(0.1, help="extremes: step of the two training grids", low=0.0, low_open=True)
    n_train_per_temperature: int = param(200, help="extremes: training configurations per temperature", low=2)
    scan_range: List[float] = param(help="extremes: the grid the sizes are read on, [low, high] ...",
                                    factory=lambda: [2.23, 2.33], **POSITIVE)
    scan_step: float = param(0.01, help="... with this step (an 8-point local fit spans 0.07: finer than the width "
                                        "of the largest default size's curve)", low=0.0, low_open=True)
    # -- protocol=labelled
    temperature_range: List[float] = param(help="labelled: uniform grid from low to high (J/k_B) ...",
                                           factory=lambda: [1.0, 3.5], **POSITIVE)
    temperature_step: float = param(0.1, help="... with this step", low=0.0, low_open=True)
    dense_range: Optional[List[float]] = param(help="... joined with a finer grid over [low, high] near T_c "
                                                    "(null: none)", factory=lambda: [2.0, 2.5], **POSITIVE)
    dense_step: float = param(0.025, help="step of the finer grid", low=0.0, low_open=True)
    temperatures: Optional[List[float]] = param(None, help="labelled: an explicit list of temperatures replaces "
                                                           "the grids", **POSITIVE)
    critical_window: List[float] = param(help="labelled: [low, high], scored apart as accuracy_critical",
                                         factory=lambda: [2.0, 2.5], **POSITIVE)
    hold_out_window: bool = param(False, help="labelled: true: no training data from the critical window (Mehta "
                                              "et al.); false: split it like every temperature (Carrasquilla & "
                                              "Melko)")
    test_fraction: float = param(0.2, help="labelled: test share of each training temperature", low=0.0,
                                 high=1.0, low_open=True, high_open=True)
    # -- both
    n_per_temperature: int = param(200, help="Monte Carlo configurations per temperature and size (cached)",
                                   low=2)
    algorithm: str = param("auto", help="Monte Carlo update (auto: Swendsen-Wang near T_c, Metropolis elsewhere)",
                           choices=ALGORITHMS)
    n_jobs: Optional[int] = param(None, help="Monte Carlo processes (null: all cores; negative: joblib style)")
    augment: List[str] = param(help="symmetry images added to the training set (any of the choices)",
                               choices=AUGMENTATIONS, factory=list)
    n_translations: int = param(1, help="random translated copies per configuration with augment=[translate]",
                                low=1)
    memory_limit_gb: float = param(4.0, help="refuse a run whose estimated memory (Monte Carlo data, augmented "
                                             "training set, PCA, ...) exceeds this many GB", low=0.0,
                                   low_open=True)
    loss: str = param("softmax_cross_entropy", help="the networks' loss: 2 logits and a softmax, or 1 logit and a "
                                                    "sigmoid", choices=LOSSES)
    objective: str = param("val_loss", help="what a sweep minimises: val_loss, the networks' best validation loss "
                                            "(mean over replicas and sizes); tc_error = |T_c(inf) - exact| and "
                                            "critical_error are for reporting, not tuning", choices=OBJECTIVES)
    sample_temperatures: List[float] = param(help="temperatures of the configurations in figures/configurations.png",
                                             factory=lambda: [1.5, 2.0, 2.25, 2.5, 3.5], **POSITIVE)
    binder: BinderConfig = param(help="the physics baseline: Binder crossings, Swendsen-Wang + reweighting",
                                 factory=BinderConfig)
    pca: PCAConfig = param(help="PCA of the configurations of every size (Wang 2016)", factory=PCAConfig)
    confusion: ConfusionConfig = param(help="learning by confusion at one size", factory=ConfusionConfig)
    transfer: TransferConfig = param(help="the square-lattice network on triangular-lattice configurations",
                                     factory=TransferConfig)

    # -- grids
    def grid(self) -> np.ndarray:
        """The temperatures every size is evaluated on: the scan grid (extremes), or the explicit list or the
        uniform grid joined with the dense one (labelled). Sorted, unique."""
        from physics.ising.temperatures import temperature_grid, unique_temperatures

        if self.protocol == "extremes":
            return temperature_grid(self.scan_range, self.scan_step)
        if self.temperatures is not None:
            return unique_temperatures(self.temperatures)
        return temperature_grid(self.temperature_range, self.temperature_step, self.dense_range, self.dense_step)

    def training_grid(self) -> np.ndarray:
        """extremes: the ordered and the disordered training temperatures, sorted."""
        from physics.ising.temperatures import temperature_grid, unique_temperatures

        return unique_temperatures(np.concatenate([temperature_grid(self.ordered_range, self.train_step),
                                                   temperature_grid(self.disordered_range, self.train_step)]))

    def block_factor(self, L: int) -> int:
        """extremes: the linear factor by which size ``L`` is blocked down to ``network_L``."""
        return L // self.network_L

    def sizes_trained(self) -> list[int]:
        """The lattice sizes a network is trained on (and must accept)."""
        return [self.network_L] if self.protocol == "extremes" else list(self.sizes)

    # -- checks
    def check(self) -> None:
        if not self.sizes or len(set(self.sizes)) != len(self.sizes):
            raise ConfigError("sizes", f"must list different lattice sizes. Got {self.sizes} instead.")
        self.sizes = sorted(self.sizes)
        if not self.sample_temperatures:
            raise ConfigError("sample_temperatures", "must list at least one temperature. Got [] instead.")
        if self.n_jobs == 0:
            raise ConfigError("n_jobs", "must be null, a positive count or negative (joblib style). Got 0 instead.")
        for key in ("temperature_range", "ordered_range", "disordered_range", "scan_range"):
            check_pair(key, getattr(self, key))
        if self.dense_range is not None:
            check_pair("dense_range", self.dense_range)
        if self.temperatures is not None and (len(self.temperatures) < 3 or min(self.temperatures) <= 0):
            raise ConfigError("temperatures", f"must list at least 3 positive temperatures or be null. "
                                              f"Got {self.temperatures} instead.")
        if self.protocol == "extremes":
            self._check_extremes()
        self.check_memory(self.sizes)  # before any grid is built: its size is checked too
        if self.protocol == "labelled":
            self._check_window()
        n_configurations, smallest = self.grid().size * self.n_per_temperature, min(self.sizes) ** 2
        if self.pca.enabled and self.pca.n_components > min(n_configurations, smallest):
            raise ConfigError("pca.n_components", f"must not exceed the configurations per size ({n_configurations}) "
                                                  f"nor the spins of the smallest size ({smallest}). Got "
                                                  f"{self.pca.n_components} instead.")
        elif self.grid().size < 4:
            raise ConfigError("scan_range", f"must hold at least 4 temperatures with scan_step {self.scan_step} "
                                            f"(a crossing is a local fit). Got {list(self.scan_range)}.")

    def _check_extremes(self) -> None:
        from physics.tasks.ising.blocking import block_steps

        if not self.ordered_range[1] < self.scan_range[0] or not self.scan_range[1] < self.disordered_range[0]:
            raise ConfigError("scan_range", f"must lie between the training ranges (ordered {self.ordered_range}, "
                                            f"disordered {self.disordered_range}). Got {list(self.scan_range)}.")
        for L in self.sizes:
            steps = block_steps(L, self.network_L)
            if steps is None or 3 in steps:
                raise ConfigError("sizes", f"must be network_L = {self.network_L} times a power of 2 (each is "
                                           f"blocked to network_L by 2 x 2 majority rule). Got {self.sizes}.")
        if self.transfer.enabled:
            for L in self.transfer.sizes:
                steps = block_steps(L, self.network_L)
                if steps is None or 3 not in steps:
                    raise ConfigError("transfer.sizes", f"must be network_L = {self.network_L} times 3 times a "
                                                        f"power of 2. Got {self.transfer.sizes} instead.")

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

    def temperature_count(self) -> tuple[float, str]:
        """At most how many temperatures :meth:`grid` holds, computed without building it, and the key that sets
        the count."""
        if self.protocol == "extremes":
            return grid_size_bound(self.scan_range, self.scan_step), "scan_step"
        if self.temperatures is not None:
            return float(len(set(self.temperatures))), "temperatures"
        coarse, dense = grid_size_bound(self.temperature_range, self.temperature_step), 0.0
        if self.dense_range is not None:
            low, high = self.temperature_range
            dense = grid_size_bound([max(self.dense_range[0], low), min(self.dense_range[1], high)], self.dense_step)
        return coarse + dense, "dense_step" if dense > coarse else "temperature_step"

    def memory_needs(self, L) -> list[tuple[float, str, dict]]:
        """The parts of one replica's memory at lattice size ``L``: ``(bytes, what, {key: value / typical})``.
        Counted: int8 spins of every configuration and the float32 copies the models see (5 bytes per spin), the
        augmented copies of the training set, the PCA (a float64 copy, centred, and the solver's blocks)."""
        n_T, T_key = self.temperature_count()
        n, spins = real(self.n_per_temperature), real(L) * real(L)
        configs = n_T * n
        base = {"sizes": spins / TYPICAL["L"] ** 2, "n_per_temperature": n / TYPICAL["n_per_temperature"],
                T_key: n_T / TYPICAL["temperatures"]}
        needs = [(configs * spins * 5 + n_T * 64, f"the Monte Carlo data and the models' float32 copies of it "
                                                  f"({n_T:.4g} temperatures x {n:.4g} configurations x {L}^2 spins)",
                  base)]
        factor = augmentation_factor(self.augment, self.n_translations)
        if factor > 1:
            L_train = self.network_L if self.protocol == "extremes" else L
            n_train = (self.training_grid().size * real(self.n_train_per_temperature)
                       if self.protocol == "extremes" else n_T * (n - round(self.test_fraction * n)))
            translations = (1 + self.n_translations) if "translate" in self.augment else 1
            needs.append((training_set_bytes(n_train, L_train, factor - 1),
                          f"the {factor - 1} symmetry images per training configuration ({list(self.augment)})",
                          {**base, "augment": factor / translations, "n_translations": translations / 2}))
        if self.pca.enabled:
            k = real(self.pca.n_components)
            needs.append((configs * spins * 8 + (k + 10) * (configs + spins) * 8 * 3,
                          f"the PCA of {configs:.4g} configurations", {**base, "pca.n_components": k / 10}))
        if self.confusion.enabled:
            c = self.confusion
            n_c, side = grid_size_bound(c.temperature_range, c.temperature_step) * real(c.n_per_temperature), real(c.L)
            needs.append((n_c * side * side * 9 + real(c.hidden) * side * side * 4 * 4,
                          f"learning by confusion ({n_c:.4g} configurations of {c.L}^2 spins, networks of {c.hidden} "
                          f"hidden units)",
                          {"confusion.L": side ** 2 / TYPICAL["L"] ** 2, "confusion.hidden": real(c.hidden) / 16,
                           "confusion.n_per_temperature": real(c.n_per_temperature) / 100,
                           "confusion.temperature_step": n_c / real(c.n_per_temperature) / 30}))
        if self.transfer.enabled and self.protocol == "extremes":
            t = self.transfer
            n_tr, n_T_tr, L_tr = real(t.n_per_temperature), grid_size_bound(t.scan_range, t.scan_step), \
                real(max(t.sizes))
            needs.append((n_T_tr * n_tr * L_tr * L_tr * 5,
                          f"the triangular-lattice transfer ({n_T_tr:.4g} temperatures x {n_tr:.4g} configurations "
                          f"x {max(t.sizes)}^2 spins)",
                          {"transfer.sizes": L_tr ** 2 / TYPICAL["L"] ** 2, "transfer.scan_step": n_T_tr / 10,
                           "transfer.n_per_temperature": n_tr / 100}))
        return needs

    def check_memory(self, sizes) -> None:
        """One replica at the largest lattice must fit in ``memory_limit_gb`` (estimated by :meth:`memory_needs`,
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
            config.model.check_input((L, L), "task.network_L" if self.protocol == "extremes" else "task.sizes")
        if self.objective == "critical_error" and self.protocol != "labelled":
            raise ConfigError("task.objective", "critical_error needs task.protocol=labelled (the extremes protocol "
                                                "has no critical-window accuracy).")
        super().check_with(config)


#: ``debug=tiny``: the network at L = 4 (5 epochs) read on L = 8 and 16, a coarse and wide scan
#: (tiny networks cross 1/2 somewhere in it), 2 replicas, a short Binder baseline on L = 4 and 8
DEBUG = {"task": {"sizes": [8, 16], "network_L": 4, "fss_min_size": 8, "scan_range": [1.9, 2.7],
                  "scan_step": 0.1, "train_step": 0.3, "n_train_per_temperature": 40, "n_per_temperature": 40,
                  "n_replicas": 2, "n_jobs": 1,
                  "binder": {"sizes": [4, 8], "n_chains": 4, "n_sweeps": 400, "pilot_sweeps": 100},
                  "confusion": {"L": 8, "n_per_temperature": 20, "coarse_step": 0.2, "fine_step": 0.1,
                                "n_seeds": 2, "epochs": 2},
                  "transfer": {"sizes": [12], "scan_step": 0.1, "n_per_temperature": 20}},
         "trainer": {"epochs": 5}}
