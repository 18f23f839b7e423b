"""Schema of ``task=materials``: material properties from composition, regression or classification.

Every key is checked at validation, before any data is made or read: the dataset choice and its CSV file and
columns, the evaluation (folds or a given split), the preprocessing, the learning-curve fractions and the tuning
grids (:meth:`Config.check`), and the rules that need other nodes -- grids must name the network or a baseline,
no baseline may be called ``network``, regression needs regressors and classification classifiers
(:meth:`Config.check_with`), a target column that would collide with a column the task
writes to ``oof_predictions.csv``, and the memory the run will need (:meth:`Config.check_memory`: the
descriptors of every sample -- for a CSV file, the rows estimated from its size before it is read -- the most
demanding baseline, the tuning grids). Only what needs the data itself (enough chemical systems for grouped
folds, bad CSV rows) is checked when the task starts, still before any training.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from physics.app.resources import baseline_bytes, check_memory, format_bytes, real
from physics.app.schema import ConfigError, TaskConfig, param

#: miedema: generated; aflow_*: the built-in published sets of physics.materials.builtin; csv: the user's file
DATASETS = ("miedema", "aflow_bulk_modulus", "aflow_band_gap", "aflow_metal", "csv")
TARGET_TYPES = ("regression", "classification")
LOSSES = ("squared_error", "absolute_error", "huber")
TARGET_TRANSFORMS = ("none", "log")
#: task.delimiter values that name a character hard to type on a command line
DELIMITER_NAMES = {"tab": "\t", "\\t": "\t"}
STRUCTURES = ("ss", "amor", "inter", "liquid")  # Miedema's gamma: solid solution, amorphous, compound, liquid
CV_KINDS = ("kfold", "group", "split")
MISSING_POLICIES = ("ignore", "nan")
#: objective -> the metric it is (both out-of-fold: every sample predicted by a network that never saw it)
OBJECTIVES = {"cv_mae": "models.network.mae_mean", "cv_rmse": "models.network.rmse_mean",
              "cv_balanced_error": "models.network.balanced_error"}
#: the columns of oof_predictions.csv the task names itself (then the target's, then ``predicted_<model>``)
OOF_COLUMNS = ("index", "composition", "chemical_system", "fold", "split", "csv_line")
PREDICTION_PREFIX = "predicted_"
#: bytes per sample besides its descriptors: formula, chemical system, target, fold (Python objects)
_PER_SAMPLE = 400
#: float64 copies of the descriptor matrix alive at once (features, a fold's imputed/filtered/scaled/clipped
#: training and test rows, the network's float32 copy); measured: ~4 for the task without baselines
_DESCRIPTOR_COPIES = 6


@dataclass
class Config(TaskConfig):
    """``task=materials``: Magpie descriptors -> the numpy network and scikit-learn baselines, on the same folds."""

    MODELS = ("mlp",)

    name: str = param("materials", help="the task")
    # --- data
    dataset: str = param("miedema", help="miedema (generated binary alloys, Miedema's formation enthalpy) | "
                                         "aflow_bulk_modulus (GPa) | aflow_band_gap (eV) | aflow_metal (metal / "
                                         "non-metal) (published DFT sets with their benchmark split) | csv (your "
                                         "file)", choices=DATASETS)
    n_samples: int = param(5000, help="miedema: number of random binary alloys A_x B_(1-x)", low=10)
    structure: str = param("ss", help="miedema: ss (solid solution) | amor (amorphous) | inter (ordered compound) "
                                      "| liquid", choices=STRUCTURES)
    noise: float = param(0.0, help="miedema: standard deviation (kJ/mol) of Gaussian noise added to the target",
                         low=0.0)
    elements: Optional[List[str]] = param(None, help="miedema: the element pool, e.g. [Fe,Ni,Cu,Al] (null: the 66 "
                                                     "metals of the table)")
    csv_path: Optional[str] = param(None, help="csv: the file (.csv or .csv.gz), a header row then one material "
                                               "per row")
    composition_column: str = param("composition", help="csv: header of the formula column")
    target_column: Optional[str] = param(None, help="csv: header of the target column")
    target_type: Optional[str] = param(None, help="csv: regression (numeric target) | classification (labels) "
                                                  "(null: regression)", choices=TARGET_TYPES)
    split_column: Optional[str] = param(None, help="csv: header of a column of train / val / test labels, for "
                                                   "task.cv=split (null: none)")
    delimiter: str = param(",", help="csv: field separator, one character (or tab)")
    skip_bad_rows: bool = param(False, help="csv: drop bad rows (listed with line numbers) instead of stopping "
                                            "before training")
    subsample: Optional[int] = param(None, help="use a random subset of this many rows, drawn per split in "
                                                "proportion (null: every row; for quick looks)", low=10)
    # --- features
    element_fractions: bool = param(True, help="append the 103 atomic fractions to the 132 Magpie descriptors")
    missing: str = param("ignore", help="element property unknown for an element: ignore (renormalise) | nan "
                                        "(training-fold mean imputation)", choices=MISSING_POLICIES)
    # --- evaluation (every model on the same folds; preprocessing fitted on training folds only)
    cv: str = param("group", help="group (no chemical system in two folds) | kfold (shuffled) | split (the "
                                  "dataset's train/val/test split: tune on val, test once)", choices=CV_KINDS)
    n_splits: int = param(5, help="folds of the cross-validation (not used by task.cv=split)", low=2)
    cv_random_state: Optional[int] = param(None, help="shuffling of the folds (null: derived from `seed`)",
                                           low=0, high=2 ** 32 - 1)
    variance_threshold: Optional[float] = param(1e-8, help="drop descriptors whose training-fold variance is <= "
                                                           "this, a number >= 0 (null: keep all)")
    standardize: bool = param(True, help="z-score descriptors with training-fold mean and standard deviation")
    clip_z: Optional[float] = param(5.0, help="clip z-scores to [-clip_z, clip_z], a number > 0 (null: no "
                                              "clipping)")
    scale_target: bool = param(True, help="regression: every model learns the target standardised with "
                                          "training-fold statistics")
    target_transform: str = param("none", help="regression: none | log (every model learns log(target); needs "
                                               "positive targets)", choices=TARGET_TRANSFORMS)
    loss: str = param("squared_error", help="regression: the network's loss, squared_error | absolute_error "
                                            "(fits the median; the metric is the MAE) | huber", choices=LOSSES)
    ensemble_size: int = param(1, help="the network is the mean of this many networks trained from different "
                                       "seeds (1: one network)", low=1)
    learning_curve: List[float] = param(help="extra training-fold fractions, each in (0, 1), for "
                                             "figures/learning_curve.png ([] = off)",
                                        factory=lambda: [0.05, 0.2])
    tune: bool = param(True, help="tune every model (the network too) inside the training rows, each on 3 "
                                  "values of its main parameter around its configured value (docs: task=materials)")
    param_grids: Dict[str, Any] = param(help="grids replacing those of task.tune for some models, e.g. "
                                             "+task.param_grids.kernel_ridge.gamma=[1e-3,3e-3]", factory=dict)
    extend_grids: bool = param(True, help="when a tuned value is an end of its grid, search once more one step "
                                          "beyond it (a remaining edge is flagged in the log and metrics.json)")
    inner_splits: int = param(1, help="inner split of the tuning: 1 = one 80/20 hold-out of the training rows, "
                                      ">= 2 = that many inner folds (task.cv=split: the val rows)", low=1)
    refit: bool = param(True, help="save the network trained on all training samples (false: the last fold's "
                                   "network)")
    objective: str = param("cv_mae", help="what a sweep minimises: cv_mae | cv_rmse (regression), "
                                          "cv_balanced_error (classification: 1 - balanced accuracy); the "
                                          "network's test-fold value, mean over folds", choices=tuple(OBJECTIVES))

    @property
    def kind(self) -> str:
        """"regression" or "classification": fixed by a built-in dataset, ``target_type`` for a CSV file."""
        if self.dataset == "aflow_metal":
            return "classification"
        if self.dataset == "csv" and self.target_type is not None:
            return self.target_type
        return "regression"

    def check(self) -> None:
        if self.elements is not None:
            self._check_elements()
        if self.dataset == "csv":
            self._check_csv()
        if self.target_type is not None and self.dataset != "csv":
            raise ConfigError("target_type", f"applies to task.dataset=csv only (task.dataset={self.dataset} fixes "
                                             f"it); set it to null. Got {self.target_type!r}.")
        if self.cv == "split" and (self.dataset == "miedema" or (self.dataset == "csv" and not self.split_column)):
            raise ConfigError("cv", "split needs a dataset with a train/val/test column: an aflow_* dataset, or "
                                    "task.dataset=csv with task.split_column. Got "
                                    f"task.dataset={self.dataset}" + (" without task.split_column."
                                                                      if self.dataset == "csv" else "."))
        if self.kind == "classification":
            for key, default in (("target_transform", "none"), ("loss", "squared_error")):
                if getattr(self, key) != default:
                    raise ConfigError(key, f"applies to regression only; this run classifies. Got "
                                           f"{getattr(self, key)!r}.")
            if self.objective != "cv_balanced_error":
                raise ConfigError("objective", f"must be cv_balanced_error for classification. Got "
                                               f"{self.objective!r}.")
        elif self.objective == "cv_balanced_error":
            raise ConfigError("objective", "cv_balanced_error is for classification; use cv_mae or cv_rmse.")
        if self.dataset == "miedema" and self.n_splits > self.n_samples:
            raise ConfigError("n_splits", f"must not exceed task.n_samples = {self.n_samples}. "
                                          f"Got {self.n_splits} instead.")
        if self.variance_threshold is not None and not _number_in(self.variance_threshold, 0.0, closed=True):
            raise ConfigError("variance_threshold", f"must be a finite number >= 0 or null. "
                                                    f"Got {self.variance_threshold!r} instead.")
        if self.clip_z is not None:
            if not _number_in(self.clip_z, 0.0, closed=False):
                raise ConfigError("clip_z", f"must be a finite number > 0 or null. Got {self.clip_z!r} instead.")
            if not self.standardize:
                raise ConfigError("clip_z", "clips z-scores, so it needs task.standardize=true; set it to null "
                                            "or standardize. Got standardize=false.")
        for i, fraction in enumerate(self.learning_curve):
            if not 0.0 < fraction < 1.0:
                raise ConfigError(f"learning_curve[{i}]", f"must be in (0.0, 1.0). Got {fraction!r} instead.")
        if len(set(self.learning_curve)) != len(self.learning_curve):
            raise ConfigError("learning_curve", f"must not repeat a fraction. Got {list(self.learning_curve)}.")
        self._check_grids()

    def check_with(self, config) -> None:
        super().check_with(config)
        if "network" in config.baseline:
            raise ConfigError("baseline.network", "the name 'network' is the numpy network's; rename the baseline.")
        unknown = sorted(set(self.param_grids) - set(config.baseline) - {"network"})
        if unknown:
            raise ConfigError(f"task.param_grids.{unknown[0]}", f"names no model; models: network"
                                                                f"{''.join(', ' + name for name in config.baseline)}.")
        self._check_baseline_kinds(config.baseline)
        self._check_grid_parameters(config.baseline)
        self.check_memory(config.baseline)

    def _check_grid_parameters(self, baselines: dict) -> None:
        """Every parameter of ``param_grids`` must be one of its model's (the network's: those of core.sklearn's
        estimator)."""
        from hydra.utils import get_object

        from core.sklearn import NetClassifier, NetRegressor

        for model, grid in self.param_grids.items():
            if model == "network":
                estimator = NetClassifier() if self.kind == "classification" else NetRegressor()
            else:
                try:
                    estimator = get_object(baselines[model]["_target_"])()
                except Exception:  # noqa: BLE001 -- scikit-learn says what is wrong when the baseline is built
                    continue
            known = estimator.get_params(deep=True)
            for parameter in grid:
                if parameter not in known:
                    raise ConfigError(f"task.param_grids.{model}.{parameter}", f"is not a parameter of {model} "
                                                                               f"({type(estimator).__name__}); its "
                                                                               f"parameters: {', '.join(sorted(known))}.")

    def _check_baseline_kinds(self, baselines: dict) -> None:
        """Regression needs regressors, classification classifiers (scikit-learn's estimator type)."""
        from hydra.utils import get_object
        from sklearn.base import is_classifier, is_regressor

        wanted, test = (("classifiers", is_classifier) if self.kind == "classification"
                        else ("regressors", is_regressor))
        for name, spec in baselines.items():
            try:  # every allowed estimator class (and factory) builds with its defaults
                estimator = get_object(spec["_target_"])()
            except Exception:  # noqa: BLE001 -- then scikit-learn says what is wrong when the baseline is built
                continue
            if not test(estimator):
                fix = ("baseline=materials_classifiers" if self.kind == "classification" else "baseline=materials")
                raise ConfigError(f"baseline.{name}", f"this run is a {self.kind} ({'task.dataset=' + self.dataset}"
                                                      f"), so every baseline must be one of the {wanted}; "
                                                      f"{spec['_target_']} is not. Use {fix}.")

    def check_memory(self, baselines: dict) -> None:
        """The descriptors of every sample (``_DESCRIPTOR_COPIES`` float64 copies), the most demanding baseline
        on a training fold (a kernel method's n x n matrix) and every tuning grid's candidates must fit
        :func:`physics.app.resources.default_limit`. For a CSV file the rows are estimated from its size
        (:func:`physics.materials.dataset.estimate_csv_rows`: its first MiB is read, nothing is parsed); the
        error then names task.csv_path (a built-in set: task.dataset), else task.n_samples."""
        from physics.materials.builtin import BUILTIN_DATASETS
        from physics.materials.dataset import estimate_csv_rows

        n_features = 132 + 103 * bool(self.element_fractions)
        if self.dataset == "csv":
            n, size = estimate_csv_rows(self.csv_path)
            key, source = "task.csv_path", f"{self.csv_path!r} ({format_bytes(size)}, about {n:.3g} rows)"
        elif self.dataset in BUILTIN_DATASETS:
            n, _ = estimate_csv_rows(BUILTIN_DATASETS[self.dataset].path)
            key, source = "task.dataset", f"task.dataset = {self.dataset} (about {n:.3g} rows)"
        else:
            n = real(self.n_samples)
            key, source = "task.n_samples", f"task.n_samples = {self.n_samples}"
        n_train = n * (self.n_splits - 1) / self.n_splits
        costs = {name: baseline_bytes(name, spec, n_train, n - n_train, n_features)
                 for name, spec in baselines.items()}
        worst = max(costs, key=costs.get, default=None)
        descriptors = n * (n_features * 8 * _DESCRIPTOR_COPIES + _PER_SAMPLE)
        parts = f"{format_bytes(descriptors)} for the descriptors" + (
            f", {format_bytes(costs[worst])} for baseline.{worst}" if worst else "")
        check_memory(key, descriptors + (costs[worst] if worst else 0.0), f"{source}: the run",
                     hint=f"(Of it {parts}.) Use fewer samples" + (
                         f", or drop the baseline: ~baseline.{worst}" if worst else "") + ".")
        for model, grid in self.param_grids.items():
            candidates = math.prod(real(len(values)) for values in grid.values())
            check_memory(f"task.param_grids.{model}", candidates * (1000 + 200 * real(self.inner_splits)),
                         f"the {candidates:.4g} candidate settings of the grid search",
                         hint="Give fewer values per parameter.")

    def _check_elements(self) -> None:
        from physics.materials.miedema import miedema_table

        known = miedema_table().symbols
        unknown = [symbol for symbol in self.elements if symbol not in known]
        if unknown or len(set(self.elements)) < 2:
            raise ConfigError("elements", f"must list at least 2 distinct elements of the Miedema table "
                                          f"({', '.join(known)}). Got {list(self.elements)}"
                                          f"{f'; unknown: {unknown}' if unknown else ''}.")

    def _check_csv(self) -> None:
        if not self.csv_path:
            raise ConfigError("csv_path", "must name a CSV file when task.dataset=csv. Got null instead.")
        if not Path(self.csv_path).is_file():
            raise ConfigError("csv_path", f"the file '{self.csv_path}' does not exist (relative paths start in "
                                          f"{Path.cwd()}).")
        for key in ("composition_column", "target_column"):
            value = getattr(self, key)
            if not value or not str(value).strip():
                raise ConfigError(key, f"must name a column of {self.csv_path} when task.dataset=csv. "
                                       f"Got {value!r} instead.")
        if self.composition_column == self.target_column:
            raise ConfigError("target_column", f"must differ from task.composition_column. Got "
                                               f"{self.target_column!r} for both.")
        if self.target_column in OOF_COLUMNS or self.target_column.startswith(PREDICTION_PREFIX):
            raise ConfigError("target_column", f"{self.target_column!r} is a name the task gives its own columns of "
                                               f"oof_predictions.csv ({', '.join(OOF_COLUMNS)}, "
                                               f"{PREDICTION_PREFIX}<model>); rename that column of the CSV file.")
        if len(self.delimiter) != 1 and self.delimiter not in DELIMITER_NAMES:
            raise ConfigError("delimiter", f"must be one character or tab. Got {self.delimiter!r} instead.")

    def _check_grids(self) -> None:
        for model, grid in self.param_grids.items():
            if not isinstance(grid, dict) or not grid:
                raise ConfigError(f"param_grids.{model}", f"must map parameter names to lists of values. "
                                                          f"Got {grid!r} instead.")
            for parameter, values in grid.items():
                if not isinstance(values, (list, tuple)) or not values:
                    raise ConfigError(f"param_grids.{model}.{parameter}", f"must be a non-empty list of values. "
                                                                          f"Got {values!r} instead.")
                if any(isinstance(value, float) and not math.isfinite(value) for value in values):
                    raise ConfigError(f"param_grids.{model}.{parameter}", f"must hold finite numbers. "
                                                                          f"Got {values!r} instead.")


def _number_in(value: Any, low: float, *, closed: bool) -> bool:
    """Whether ``value`` is a finite real number (not a bool) above ``low`` (or equal to it when ``closed``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not math.isfinite(value):  # (an int is finite, however large)
        return False
    return value >= low if closed else value > low


#: ``debug=tiny``: 120 alloys (300 rows of a built-in or CSV set), 3 folds, 3 epochs, one learning-curve point
DEBUG = {"task": {"n_samples": 120, "subsample": 300, "n_splits": 3, "learning_curve": [0.4]},
         "trainer": {"epochs": 3}, "parallel": {"n_jobs": 1}}
