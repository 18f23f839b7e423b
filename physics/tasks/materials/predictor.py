"""The composition -> property model saved with a run of ``task=materials``.

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
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import Pipeline

from core.serialize import load, save
from physics.app.io import atomic_path
from physics.materials.descriptors import magpie_features

PREDICTOR_FORMAT = 1


def fitted_network(pipeline: Pipeline):
    """The fitted ``core.sklearn.NetRegressor`` at the end of a fold pipeline (inside a
    TransformedTargetRegressor when the target is scaled)."""
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
    save(fitted_network(pipeline).network_, Path(run_dir) / "model")
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
