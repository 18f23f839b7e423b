"""Config schema of ``task=materials``: material-property regression from composition.

The checks that need only the task node run here, in ``__post_init__``, before any data is made or read: the
dataset choice and its CSV file and columns, the cross-validation, the preprocessing, the learning-curve
fractions and the tuning grids. Keys in the errors are relative to the task node (``validate`` prefixes
``task.``). Checks that need other nodes or the data (grids naming baselines, ``model=mlp``, enough chemical
systems for grouped folds) run at the start of :func:`physics.tasks.materials.run_task`, before any training.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from physics.config import ConfigError, TrainingConfig, check_choice, check_range, register_task

DATASET_NAMES = ("miedema", "csv")
STRUCTURE_NAMES = ("ss", "amor", "inter", "liquid")  # Miedema's gamma: solid solution, amorphous, compound, liquid
CV_NAMES = ("kfold", "group")
MISSING_NAMES = ("ignore", "nan")


@dataclass
class MaterialsTaskConfig(TrainingConfig):
    """``task=materials``: Magpie descriptors -> the numpy network and scikit-learn baselines, cross-validated."""

    name: str = "materials"
    # data
    dataset: str = "miedema"  # built-in Miedema alloys, or your CSV file
    n_samples: int = 5000  # miedema: number of random binary alloys
    structure: str = "ss"  # miedema: ss | amor | inter | liquid
    noise: float = 0.0  # miedema: standard deviation (kJ/mol) of Gaussian noise added to the target
    elements: Optional[List[str]] = None  # miedema: the element pool (null: the 66 metals of the table)
    csv_path: Optional[str] = None  # csv: the file (.csv or .csv.gz)
    composition_column: str = "composition"  # csv: header of the formula column
    target_column: Optional[str] = None  # csv: header of the numeric target column
    delimiter: str = ","  # csv: field separator
    skip_bad_rows: bool = False  # csv: drop unparseable rows (listed in the log) instead of stopping
    # features
    element_fractions: bool = True  # append the 103 atomic fractions to the 132 Magpie descriptors
    missing: str = "ignore"  # element properties missing for some element: ignore | nan (see descriptors)
    # evaluation
    cv: str = "kfold"  # kfold (shuffled) | group (no chemical system in both training and test fold)
    n_splits: int = 5
    cv_random_state: Optional[int] = None  # shuffling of the folds; null: derived from the config's seed
    variance_threshold: Optional[float] = 1e-8  # drop training-fold columns with variance <= this; null: keep all
    standardize: bool = True  # z-score the descriptors with training-fold statistics
    clip_z: Optional[float] = 5.0  # clip z-scores to [-clip_z, clip_z]; null: no clipping
    scale_target: bool = True  # every model learns the training-fold-standardised target
    learning_curve: List[float] = field(default_factory=lambda: [0.05, 0.2])  # training-fold fractions; [] = off
    param_grids: Dict[str, Any] = field(default_factory=dict)  # baseline name -> {parameter: [values]}
    inner_splits: int = 3  # inner folds of the tuning (inside each training fold)
    refit: bool = True  # save a network trained on all samples (false: the last fold's network)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("name", self.name, ("materials",))
        check_choice("dataset", self.dataset, DATASET_NAMES)
        check_range("n_samples", self.n_samples, 10)
        check_choice("structure", self.structure, STRUCTURE_NAMES)
        check_range("noise", self.noise, 0.0)
        if self.elements is not None:
            self._check_elements()
        if self.dataset == "csv":
            self._check_csv()
        check_choice("missing", self.missing, MISSING_NAMES)
        check_choice("cv", self.cv, CV_NAMES)
        check_range("n_splits", self.n_splits, 2)
        if self.dataset == "miedema" and self.n_splits > self.n_samples:
            raise ConfigError("n_splits", f"must not exceed task.n_samples = {self.n_samples}. "
                                          f"Got {self.n_splits} instead.")
        if self.cv_random_state is not None:
            check_range("cv_random_state", self.cv_random_state, 0, 2 ** 32 - 1)
        if self.variance_threshold is not None:
            check_range("variance_threshold", self.variance_threshold, 0.0)
        if self.clip_z is not None:
            check_range("clip_z", self.clip_z, 0.0, low_open=True)
            if not self.standardize:
                raise ConfigError("clip_z", "clips z-scores, so it needs task.standardize=true; set it to null "
                                            "or standardize. Got standardize=false.")
        for i, fraction in enumerate(self.learning_curve):
            check_range(f"learning_curve[{i}]", fraction, 0.0, 1.0, low_open=True, high_open=True)
        if len(set(self.learning_curve)) != len(self.learning_curve):
            raise ConfigError("learning_curve", f"must not repeat a fraction. Got {list(self.learning_curve)}.")
        self._check_grids()
        check_range("inner_splits", self.inner_splits, 2)

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


def register() -> None:
    register_task("materials", MaterialsTaskConfig, "physics.tasks.materials")
