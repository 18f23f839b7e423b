"""The tuning grids of ``task=materials``: the same budget for every model, the network included.

With ``task.tune`` (default) every model whose kind is listed in :data:`MAIN_PARAMETER` is tuned on three
values of its main hyperparameter -- its configured value divided by, equal to and multiplied by a factor
(2 for a rate or a fraction, 10 for a regularisation strength) -- by the nested procedure of
:func:`physics.materials.evaluation.cross_validate`, inside the training rows only. ``task.param_grids.<model>``
replaces a model's grid (any of its parameters, in its own names: ``learning_rate`` of the network,
``max_features`` of a forest). With ``task.extend_grids`` (default) a chosen value at an end of its grid is
searched once more one step beyond (:func:`physics.materials.evaluation.tune`); after the run
:func:`physics.materials.comparison.grid_edges` flags every parameter whose chosen value is still an end of what
was searched (the log warns, ``metrics.json`` lists it under ``tuning.edges``).
"""
from __future__ import annotations

from typing import Any, Mapping

from sklearn.compose import TransformedTargetRegressor

#: estimator class name -> (parameter, factor between the three candidates, largest allowed value or None)
MAIN_PARAMETER: dict[str, tuple[str, float, float | None]] = {
    "NetRegressor": ("learning_rate", 2.0, None),
    "NetClassifier": ("learning_rate", 2.0, None),
    "RandomForestRegressor": ("max_features", 2.0, 1.0),
    "RandomForestClassifier": ("max_features", 2.0, 1.0),
    "ExtraTreesRegressor": ("max_features", 2.0, 1.0),
    "Ridge": ("alpha", 10.0, None),
    "KernelRidge": ("alpha", 10.0, None),
    "LogisticRegression": ("C", 10.0, None),
    "MLPRegressor": ("alpha", 10.0, None),
    "MLPClassifier": ("alpha", 10.0, None),
}


def base_estimator(model):
    """The estimator inside a target transformation and a seed ensemble (what has the hyperparameters)."""
    if isinstance(model, TransformedTargetRegressor):
        model = model.regressor
    return getattr(model, "estimator", model) if type(model).__name__.startswith("SeedEnsemble") else model


def parameter_prefix(model) -> str:
    """The prefix that turns a parameter of :func:`base_estimator` into one of ``model``
    (``"regressor__estimator__"`` for a scaled-target seed ensemble)."""
    prefix = ""
    if isinstance(model, TransformedTargetRegressor):
        prefix, model = "regressor__", model.regressor
    if type(model).__name__.startswith("SeedEnsemble"):
        prefix += "estimator__"
    return prefix


def default_grid(model) -> dict[str, list] | None:
    """Three values of the model's main parameter around its configured value, or None (not tuned)."""
    estimator = base_estimator(model)
    entry = MAIN_PARAMETER.get(type(estimator).__name__)
    if entry is None:
        return None
    name, factor, largest = entry
    value = estimator.get_params()[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None  # e.g. max_features="sqrt": nothing numeric to scale
    values = [value / factor, value, value * factor]
    if largest is not None:
        values = sorted({min(v, largest) for v in values})
    return {name: [float(f"{v:.6g}") for v in values]}


def grids(models: Mapping[str, Any], tune: bool, overrides: Mapping[str, Mapping[str, list]]) -> dict[str, dict]:
    """name -> grid in the model's own parameter names: the default grids (``tune``), then ``overrides``."""
    out = {}
    for name, model in models.items():
        if name in overrides:
            out[name] = {key: list(values) for key, values in overrides[name].items()}
        elif tune:
            grid = default_grid(model)
            if grid:
                out[name] = grid
    return out


def prefixed(model, grid: Mapping[str, list]) -> dict[str, list]:
    """``grid`` in the parameter names of ``model`` (through its wrappers)."""
    prefix = parameter_prefix(model)
    return {prefix + key: list(values) for key, values in grid.items()}


def own_names(model, params: Mapping[str, Any]) -> dict[str, Any]:
    """Chosen parameters back in the base estimator's names."""
    prefix = parameter_prefix(model)
    return {key.removeprefix(prefix): value for key, value in params.items()}
