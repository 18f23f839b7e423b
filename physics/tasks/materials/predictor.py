"""The composition -> property model saved with a run of ``task=materials``, and its applicability domain.

:func:`save_predictor` writes what turns a formula into a prediction: the network or every member of the seed
ensemble (``model.npz/.json``, ``model_1.npz/.json``, ...) and ``predictor.json`` (descriptor options, the
training statistics of every preprocessing step, the target transformation and scaling or the class labels,
and the :class:`~physics.materials.domain.ApplicabilityDomain` of the training compositions).
:func:`load_predictor` reads them back. :meth:`Predictor.predict` warns when a composition lies outside the
domain (an element never seen in training, or descriptors far from every training row);
:meth:`Predictor.predict_table` gives the same as a column per row.
"""
from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from core.losses import softmax
from core.serialize import load, save
from physics.app.io import atomic_path
from physics.materials.descriptors import magpie_features
from physics.materials.domain import ApplicabilityDomain

log = logging.getLogger(__name__)

PREDICTOR_FORMAT = 2


class OutsideDomainWarning(UserWarning):
    """A prediction for a composition outside the training domain of a saved predictor."""


def fitted_networks(pipeline: Pipeline) -> list:
    """The fitted ``core.sklearn`` estimators at the end of a pipeline: the one network, or every member of a
    seed ensemble (inside a TransformedTargetRegressor when the target is transformed)."""
    model = pipeline.steps[-1][1]
    if isinstance(model, TransformedTargetRegressor):
        model = model.regressor_
    return list(getattr(model, "estimators_", [model]))


def fitted_network(pipeline: Pipeline):
    """The first (or only) fitted network of :func:`fitted_networks` (its history is the one drawn)."""
    return fitted_networks(pipeline)[0]


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


def _target_state(model) -> dict:
    """How the network's output becomes the target: {"log": bool, "mean", "scale"} (regression)."""
    target = {"log": False, "mean": 0.0, "scale": 1.0}
    if isinstance(model, TransformedTargetRegressor):
        transformer = model.transformer_
        steps = transformer.steps if isinstance(transformer, Pipeline) else [(None, transformer)]
        for _, step in steps:
            if isinstance(step, FunctionTransformer):
                target["log"] = step.func is np.log
            elif isinstance(step, StandardScaler):
                target["mean"], target["scale"] = float(step.mean_[0]), float(step.scale_[0])
            else:
                raise ValueError(f"Cannot save the target transformation {step!r}.")
    return target


def save_predictor(pipeline: Pipeline, run_dir: Path, *, formulas: Sequence[str], X, feature_names: Sequence[str],
                   descriptor_options: dict, target_name: str, units: str, trained_on: str) -> Path:
    """Save a fitted network pipeline (``model*.npz/.json`` and ``predictor.json``); return the latter's path.

    ``formulas`` and ``X`` (shape (n, n_features), the raw descriptors) are the rows it was trained on: their
    preprocessed descriptors define the applicability domain.
    """
    model = pipeline.steps[-1][1]
    names = []
    for i, network in enumerate(fitted_networks(pipeline)):
        names.append("model" if i == 0 else f"model_{i}")
        save(network.network_, Path(run_dir) / names[-1])
    domain = ApplicabilityDomain().fit(list(formulas), pipeline[:-1].transform(X))
    state = {"format": PREDICTOR_FORMAT, "networks": names, "trained_on": trained_on,
             "descriptors": descriptor_options, "feature_names": list(feature_names),
             "preprocessing": _preprocessing_state(pipeline, len(feature_names)),
             "target_name": target_name, "units": units, "domain": domain.to_dict()}
    if hasattr(model, "classes_"):
        state["classes"] = [str(label) for label in model.classes_]
    else:
        state["target"] = _target_state(model)
    path = Path(run_dir) / "predictor.json"
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(state, indent=1) + "\n")
    return path


@dataclass
class Predictor:
    """A saved composition -> property model (see :func:`load_predictor`)."""

    networks: list
    state: dict

    @property
    def domain(self) -> ApplicabilityDomain:
        return ApplicabilityDomain.from_dict(self.state["domain"])

    def _features(self, formulas: Sequence[str]) -> np.ndarray:
        X = magpie_features(list(formulas), **self.state["descriptors"]).values
        pre = self.state["preprocessing"]
        if pre["impute"] is not None:
            X = np.where(np.isnan(X), np.asarray(pre["impute"]), X)
        X = X[:, pre["keep"]]
        if pre["mean"] is not None:
            X = (X - np.asarray(pre["mean"])) / np.asarray(pre["scale"])
        if pre["clip_z"] is not None:
            X = np.clip(X, -pre["clip_z"], pre["clip_z"])
        return X

    def _predict(self, X: np.ndarray) -> np.ndarray:
        outputs = [network.predict(X.astype(network.dtype)).astype(np.float64) for network in self.networks]
        if "classes" in self.state:
            proba = np.mean([softmax(output) for output in outputs], axis=0)
            return np.asarray(self.state["classes"], dtype=object)[proba.argmax(axis=1)]
        target = self.state["target"]
        values = np.mean([output[:, 0] for output in outputs], axis=0) * target["scale"] + target["mean"]
        return np.exp(values) if target["log"] else values

    def predict(self, formulas: Sequence[str]) -> np.ndarray:
        """Predicted target (in ``state["units"]``; class labels for a classifier) of each formula, shape (n,).
        Warns (:class:`OutsideDomainWarning`) when a formula is outside the training domain."""
        X = self._features(formulas)
        report = self.domain.check(list(formulas), X)
        if not np.all(report.in_domain):
            outside = [f"{formula} ({reason})" for formula, reason, ok in
                       zip(formulas, report.reasons(), report.in_domain) if not ok]
            warnings.warn(f"{len(outside)} of {len(report)} compositions lie outside the training domain of this "
                          f"predictor ({self.state['trained_on']}); their predictions are extrapolations: "
                          f"{'; '.join(outside[:5])}{' ...' if len(outside) > 5 else ''}", OutsideDomainWarning,
                          stacklevel=2)
        return self._predict(X)

    def predict_table(self, formulas: Sequence[str]) -> list[dict]:
        """One row per formula: ``formula``, ``prediction``, ``in_domain`` (bool), ``domain_note`` (why not, or
        ""), ``descriptor_distance``; no warning (the columns say it)."""
        X = self._features(formulas)
        report = self.domain.check(list(formulas), X)
        return [{"formula": formula, "prediction": value, "in_domain": bool(ok), "domain_note": reason,
                 "descriptor_distance": float(distance)}
                for formula, value, ok, reason, distance in zip(formulas, self._predict(X).tolist(),
                                                                report.in_domain, report.reasons(), report.distance)]


def load_predictor(run_dir: str | Path) -> Predictor:
    """The model saved by ``task=materials`` in ``run_dir``: ``load_predictor(d).predict(["Fe0.5Ni0.5"])``."""
    state = json.loads((Path(run_dir) / "predictor.json").read_text())
    if state.get("format") != PREDICTOR_FORMAT:
        raise ValueError(f"{Path(run_dir) / 'predictor.json'} has format {state.get('format')!r}; "
                         f"this version reads format {PREDICTOR_FORMAT}.")
    return Predictor(networks=[load(Path(run_dir) / name) for name in state["networks"]], state=state)
