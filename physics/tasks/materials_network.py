"""The numpy network of the config as a scikit-learn regressor, and the saved composition -> property model.

:class:`ConfigNetwork` lets ``physics.materials.evaluation.cross_validate`` put the network in the same
per-fold ``Pipeline`` as the baselines. It is built by :func:`physics.tasks.common.build_network` with the
optimizer of :func:`physics.tasks.common.build_optimizer`, so every key of ``model``, ``optimizer``
(learning-rate schedule, clipping, decoupled weight decay included) and the task's training settings applies.
(``core.sklearn.NetRegressor`` has no schedule, initialisation, clipping or optimizer-specific settings; the
cosine schedule is what lets the default network beat kernel ridge, see the materials task's README.)
Unlike :func:`physics.tasks.common.train`, a validation split is held out only with ``task.early_stopping``:
without it the network trains on every row of the training fold, as the baselines do.

:func:`save_predictor` writes what turns a formula into a prediction: the network (``model.npz/.json``) and
``predictor.json`` (descriptor options, the training statistics of every preprocessing step, the target
scaling). :func:`load_predictor` reads them back.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from core.losses import MeanSquaredError
from core.serialize import load
from core.training import fit
from physics.config import AppConfig
from physics.io import atomic_path
from physics.materials.descriptors import magpie_features
from physics.seeding import generator
from physics.tasks.common import build_network, build_optimizer, save_model

PREDICTOR_FORMAT = 1


class ConfigNetwork(RegressorMixin, BaseEstimator):
    """Regressor training ``config``'s network (one output, mean squared error).

    Parameters
    ----------
    config : AppConfig, the validated config (``model``, ``optimizer``, ``task`` training settings, ``seed``);
        initial weights come from the "network" stream of ``config.seed``, minibatches and the validation split
        (held out only with ``task.early_stopping``) from the "training" stream, so every fold starts from the
        same weights.
    description : str, label of the progress bar.

    Attributes
    ----------
    network_ : core.network.Sequential.  history_ : core.training.History.  n_features_in_ : int.
    """

    def __init__(self, config: AppConfig | None = None, description: str = "network"):
        self.config = config
        self.description = description

    def fit(self, X, y):
        """Train on X (n_samples, n_features) and y (n_samples,); return self."""
        if not isinstance(self.config, AppConfig):
            raise TypeError(f"The 'config' parameter of ConfigNetwork must be an AppConfig. "
                            f"Got {type(self.config).__name__} instead.")
        X = np.asarray(X, dtype=self.config.model.dtype)
        y = np.asarray(y, dtype=X.dtype).reshape(len(X), 1)
        self.n_features_in_ = X.shape[1]
        task = self.config.task
        self.network_ = build_network(self.config.model, (X.shape[1],), 1, self.config.seed)
        self.history_ = fit(self.network_, MeanSquaredError(), build_optimizer(self.config.optimizer, task.epochs),
                            X, y, epochs=task.epochs, batch_size=task.batch_size,
                            rng=generator(self.config.seed, "training"),
                            validation_fraction=task.validation_fraction if task.early_stopping else None,
                            early_stopping=task.early_stopping, patience=task.patience,
                            progress=self.config.progress, progress_desc=self.description)
        return self

    def predict(self, X) -> np.ndarray:
        """Predictions, shape (n_samples,), float64."""
        check_is_fitted(self, "network_")
        X = np.asarray(X, dtype=self.network_.dtype)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"X must have shape (n_samples, {self.n_features_in_}). Got {X.shape} instead.")
        return self.network_.predict(X)[:, 0].astype(np.float64)


def fitted_network(pipeline: Pipeline) -> ConfigNetwork:
    """The fitted :class:`ConfigNetwork` at the end of a fold pipeline (inside a TransformedTargetRegressor)."""
    model = pipeline.steps[-1][1]
    return model.regressor_ if isinstance(model, TransformedTargetRegressor) else model


def _preprocessing_state(pipeline: Pipeline, n_features: int) -> dict:
    """The fitted preprocessing steps as JSON: imputed values, kept columns, mean/scale, clip limit."""
    state = {"impute": None, "keep": list(range(n_features)), "mean": None, "scale": None, "clip_z": None}
    for name, step in pipeline.steps[:-1]:
        if name == "impute":
            state["impute"] = step.statistics_.tolist()
        elif name == "variance":
            state["keep"] = np.flatnonzero(step.get_support()).tolist()
        elif name == "scale":
            state["mean"], state["scale"] = step.mean_.tolist(), step.scale_.tolist()
        elif name == "clip":
            state["clip_z"] = float(step.limit)
        else:
            raise ValueError(f"Cannot save the preprocessing step {name!r}.")
    return state


def save_predictor(pipeline: Pipeline, run_dir: Path, *, feature_names: Sequence[str], descriptor_options: dict,
                   target_name: str, units: str, trained_on: str) -> Path:
    """Save a fitted network pipeline: ``model.npz/.json`` and ``predictor.json``; return the latter's path."""
    model = pipeline.steps[-1][1]
    target = {"mean": 0.0, "scale": 1.0}
    if isinstance(model, TransformedTargetRegressor):
        target = {"mean": float(model.transformer_.mean_[0]), "scale": float(model.transformer_.scale_[0])}
    save_model(fitted_network(pipeline).network_, run_dir)
    state = {"format": PREDICTOR_FORMAT, "network": "model", "trained_on": trained_on,
             "descriptors": descriptor_options, "feature_names": list(feature_names),
             "preprocessing": _preprocessing_state(pipeline, len(feature_names)), "target": target,
             "target_name": target_name, "units": units}
    path = Path(run_dir) / "predictor.json"
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(state, indent=1) + "\n")
    return path


@dataclass
class Predictor:
    """A saved composition -> property model (see :func:`load_predictor`)."""

    network: object
    state: dict

    def predict(self, formulas: Sequence[str]) -> np.ndarray:
        """Predicted target (in ``state["units"]``) of each formula, shape (n,)."""
        X = magpie_features(list(formulas), **self.state["descriptors"]).values
        pre = self.state["preprocessing"]
        if pre["impute"] is not None:
            X = np.where(np.isnan(X), np.asarray(pre["impute"]), X)
        X = X[:, pre["keep"]]
        if pre["mean"] is not None:
            X = (X - np.asarray(pre["mean"])) / np.asarray(pre["scale"])
        if pre["clip_z"] is not None:
            X = np.clip(X, -pre["clip_z"], pre["clip_z"])
        output = self.network.predict(X.astype(self.network.dtype))[:, 0].astype(np.float64)
        return output * self.state["target"]["scale"] + self.state["target"]["mean"]


def load_predictor(run_dir: str | Path) -> Predictor:
    """The model saved by ``task=materials`` in ``run_dir``: ``load_predictor(d).predict(["Fe0.5Ni0.5"])``."""
    state = json.loads((Path(run_dir) / "predictor.json").read_text())
    if state.get("format") != PREDICTOR_FORMAT:
        raise ValueError(f"{Path(run_dir) / 'predictor.json'} has format {state.get('format')!r}; "
                         f"this version reads format {PREDICTOR_FORMAT}.")
    return Predictor(network=load(Path(run_dir) / state["network"]), state=state)
