"""Schema of ``task=materials``: material-property regression from composition, cross-validated.

Every key is checked at validation, before any data is made or read: the dataset choice and its CSV file and
columns, the cross-validation, the preprocessing, the learning-curve fractions and the tuning grids
(:meth:`Config.check`), and the rules that need other nodes -- grids must name baselines, no baseline may be
called ``network`` (:meth:`Config.check_with`), a target column that would collide with a column the task
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

DATASETS = ("miedema", "csv")
STRUCTURES = ("ss", "amor", "inter", "liquid")  # Miedema's gamma: solid solution, amorphous, compound, liquid
CV_KINDS = ("kfold", "group")
MISSING_POLICIES = ("ignore", "nan")
#: objective -> the metric it is (both out-of-fold: every sample predicted by a network that never saw it)
OBJECTIVES = {"cv_mae": "models.network.mae_mean", "cv_rmse": "models.network.rmse_mean"}
#: the columns of oof_predictions.csv the task names itself (then the target's, then ``predicted_<model>``)
OOF_COLUMNS = ("index", "composition", "chemical_system", "fold", "csv_line")
PREDICTION_PREFIX = "predicted_"
#: bytes per sample besides its descriptors: formula, chemical system, target, fold (Python objects)
_PER_SAMPLE = 400
#: float64 copies of the descriptor matrix alive at once (features, a fold's imputed/filtered/scaled/clipped
#: training and test rows, the network's float32 copy); measured: ~4 for the task without baselines
_DESCRIPTOR_COPIES = 6


@dataclass
class Config(TaskConfig):
    """``task=materials``: Magpie descriptors -> the numpy network and scikit-learn baselines, cross-validated."""

    MODELS = ("mlp",)

    name: str = param("materials", help="the task")
    # --- data
    dataset: str = param("miedema", help="miedema (built-in binary alloys, Miedema's formation enthalpy) | csv "
                                         "(your file)", choices=DATASETS)
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
    target_column: Optional[str] = param(None, help="csv: header of the numeric target column")
    delimiter: str = param(",", help="csv: field separator (one character)")
    skip_bad_rows: bool = param(False, help="csv: drop bad rows (listed with line numbers) instead of stopping "
                                            "before training")
    # --- features
    element_fractions: bool = param(True, help="append the 103 atomic fractions to the 132 Magpie descriptors")
    missing: str = param("ignore", help="element property unknown for an element: ignore (renormalise) | nan "
                                        "(training-fold mean imputation)", choices=MISSING_POLICIES)
    # --- evaluation (every model on the same folds; preprocessing fitted on training folds only)
    cv: str = param("kfold", help="kfold (shuffled) | group (no chemical system in two folds)", choices=CV_KINDS)
    n_splits: int = param(5, help="folds of the cross-validation", low=2)
    cv_random_state: Optional[int] = param(None, help="shuffling of the folds (null: derived from `seed`)",
                                           low=0, high=2 ** 32 - 1)
    variance_threshold: Optional[float] = param(1e-8, help="drop descriptors whose training-fold variance is <= "
                                                           "this, a number >= 0 (null: keep all)")
    standardize: bool = param(True, help="z-score descriptors with training-fold mean and standard deviation")
    clip_z: Optional[float] = param(5.0, help="clip z-scores to [-clip_z, clip_z], a number > 0 (null: no "
                                              "clipping)")
    scale_target: bool = param(True, help="every model learns the target standardised with training-fold "
                                          "statistics")
    learning_curve: List[float] = param(help="extra training-fold fractions, each in (0, 1), for "
                                             "figures/learning_curve.png ([] = off)",
                                        factory=lambda: [0.05, 0.2])
    param_grids: Dict[str, Any] = param(help="grid-search baselines inside each training fold, e.g. "
                                             "+task.param_grids.kernel_ridge.gamma=[1e-3,3e-3]", factory=dict)
    inner_splits: int = param(3, help="inner folds of that grid search", low=2)
    refit: bool = param(True, help="save the network trained on all samples (false: the last fold's network)")
    objective: str = param("cv_mae", help="what a sweep minimises: cv_mae | cv_rmse, the network's out-of-fold "
                                          "MAE | RMSE (mean over folds)", choices=tuple(OBJECTIVES))

    def check(self) -> None:
        if self.elements is not None:
            self._check_elements()
        if self.dataset == "csv":
            self._check_csv()
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
        unknown = sorted(set(self.param_grids) - set(config.baseline))
        if unknown:
            raise ConfigError(f"task.param_grids.{unknown[0]}", f"names no baseline; baselines: "
                                                                f"{', '.join(config.baseline) or 'none'}.")
        self.check_memory(config.baseline)

    def check_memory(self, baselines: dict) -> None:
        """The descriptors of every sample (``_DESCRIPTOR_COPIES`` float64 copies), the most demanding baseline
        on a training fold (a kernel method's n x n matrix) and every tuning grid's candidates must fit
        :func:`physics.app.resources.default_limit`. For a CSV file the rows are estimated from its size
        (:func:`physics.materials.dataset.estimate_csv_rows`: its first MiB is read, nothing is parsed); the
        error then names task.csv_path, else task.n_samples."""
        from physics.materials.dataset import estimate_csv_rows

        n_features = 132 + 103 * bool(self.element_fractions)
        if self.dataset == "csv":
            n, size = estimate_csv_rows(self.csv_path)
            key, source = "task.csv_path", f"{self.csv_path!r} ({format_bytes(size)}, about {n:.3g} rows)"
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
        if len(self.delimiter) != 1:
            raise ConfigError("delimiter", f"must be one character. Got {self.delimiter!r} instead.")

    def _check_grids(self) -> None:
        for model, grid in self.param_grids.items():
            if model == "network":
                raise ConfigError("param_grids.network", "the network is not tuned inside the folds (one "
                                  "cross-validated training costs most of the run); give grids for baselines.")
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


#: ``debug=tiny``: 120 alloys, 3 folds, 3 epochs, one learning-curve point (a few seconds)
DEBUG = {"task": {"n_samples": 120, "n_splits": 3, "learning_curve": [0.4]}, "trainer": {"epochs": 3}}
