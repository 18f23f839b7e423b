"""scikit-learn baselines: built from the config's ``baseline`` section, seeded from the config's seed."""
from __future__ import annotations

import inspect
import logging
import time
from typing import Any, Callable, Dict, Iterator, Mapping

import numpy as np
from hydra.utils import get_object, instantiate
from sklearn.base import BaseEstimator
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from physics.app.seeding import integer_seed

log = logging.getLogger(__name__)


def polynomial_ridge(degree: int = 5, alpha: float = 1e-3) -> Pipeline:
    """Ridge regression on all monomials of the inputs up to ``degree`` (standardised).

    Parameters
    ----------
    degree : int, default 5
        Highest total degree of the monomials.
    alpha : float, default 1e-3
        Ridge penalty.

    Returns
    -------
    sklearn.pipeline.Pipeline
        PolynomialFeatures, StandardScaler, Ridge.
    """
    return make_pipeline(PolynomialFeatures(degree), StandardScaler(), Ridge(alpha=alpha))


#: modules whose estimator classes a config may name; nothing else is imported from a config value
ALLOWED_MODULE_PREFIXES = ("sklearn.", "physics.", "core.")
#: functions (not classes) a config may name: factories returning an estimator
ALLOWED_FACTORIES = frozenset({"physics.app.baselines.polynomial_ridge"})


def check_specs(specs: Mapping[str, Any], prefix: str = "baseline") -> None:
    """Refuse any baseline that is not an allowed estimator, before anything is imported or built.

    A config value must not be able to call an arbitrary function (``builtins.open``, ``numpy.savetxt`` would
    write files): every ``_target_`` (nested ones included) must be a scikit-learn estimator class from
    scikit-learn or this project (``sklearn.*``, ``physics.*``, ``core.*``), or a factory of
    :data:`ALLOWED_FACTORIES`; Hydra's other special keys (``_args_``, ``_partial_``, ...) are refused.

    Parameters
    ----------
    specs : mapping
        Baseline name -> ``{_target_: ..., **params}``.
    prefix : str, default "baseline"
        The dotted path of the specs in the config, put in front of the error's key.

    Raises
    ------
    ConfigError
        Naming the key.
    """
    from physics.app.schema import ConfigError

    for name, spec in specs.items():
        key = f"{prefix}.{name}"
        if not isinstance(spec, Mapping):
            raise ConfigError(key, f"must be a mapping with a _target_ estimator class. Got {spec!r} instead.")
        for field, value in spec.items():
            if isinstance(field, str) and field.startswith("_") and field.endswith("_") and field != "_target_":
                raise ConfigError(f"{key}.{field}", "only _target_ and the estimator's own parameters are allowed.")
            if isinstance(value, Mapping) and "_target_" in value:
                check_specs({field: value}, prefix=key)
        _check_target(f"{key}._target_", spec.get("_target_"))


def _check_target(key: str, target: Any) -> None:
    from physics.app.schema import ConfigError

    allowed = (f"a scikit-learn estimator class from {', '.join(p + '*' for p in ALLOWED_MODULE_PREFIXES)} or one "
               f"of {', '.join(sorted(ALLOWED_FACTORIES))}")
    if not isinstance(target, str) or "." not in target:
        raise ConfigError(key, f"must be {allowed}. Got {target!r} instead.")
    if target not in ALLOWED_FACTORIES and not target.startswith(ALLOWED_MODULE_PREFIXES):
        raise ConfigError(key, f"must be {allowed}. Got {target!r} instead.")
    try:
        obj = get_object(target)
    except Exception:  # ImportError, AttributeError, Hydra's own wrapper of both
        raise ConfigError(key, f"cannot import {target!r}; it must be {allowed}.") from None
    if target not in ALLOWED_FACTORIES and not (isinstance(obj, type) and issubclass(obj, BaseEstimator)):
        raise ConfigError(key, f"must be {allowed}. Got {target!r}, which is not an estimator class.")


def _accepts_random_state(target: Callable) -> bool:
    try:
        return "random_state" in inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False


def build_baselines(specs: Mapping[str, Mapping[str, Any]], seed: int) -> Dict[str, Any]:
    """Instantiate every baseline (checked by :func:`check_specs` first).

    Parameters
    ----------
    specs : mapping
        Baseline name -> ``{_target_: ..., **params}``.
    seed : int
        The global seed: ``random_state`` derives from it and the baseline's name unless the config sets it.

    Returns
    -------
    dict
        Name -> unfitted estimator.
    """
    check_specs(specs)
    estimators = {}
    for name, spec in specs.items():
        spec = dict(spec)
        target = get_object(spec["_target_"])
        if _accepts_random_state(target) and "random_state" not in spec:
            spec["random_state"] = integer_seed(seed, f"baseline/{name}")
        estimators[name] = instantiate(spec, _convert_="all")
    return estimators


def _fitted_parts(estimator: Any) -> Iterator[Any]:
    """``estimator`` and every fitted estimator inside it (pipeline steps, a search's best estimator, the fitted
    regressor of a TransformedTargetRegressor)."""
    yield estimator
    for step in getattr(estimator, "steps", ()):
        yield from _fitted_parts(step[1])
    for attribute in ("best_estimator_", "regressor_"):
        inner = getattr(estimator, attribute, None)
        if inner is not None:
            yield from _fitted_parts(inner)


def serial_prediction(estimator: Any) -> Any:
    """Set ``n_jobs=1`` on a fitted estimator and on every fitted estimator inside it; return it.

    Fitting in parallel is reproducible (each tree has its own seeded stream), but parallel prediction of
    scikit-learn's forests adds the trees' outputs in the order the threads finish, which changes the last
    bits from run to run. Predicting serially keeps "same config, same numbers" exact.

    Parameters
    ----------
    estimator : estimator
        A fitted scikit-learn estimator.

    Returns
    -------
    estimator
        ``estimator``, changed in place.
    """
    for part in _fitted_parts(estimator):
        if hasattr(part, "get_params"):
            keys = [key for key in part.get_params(deep=True) if key == "n_jobs" or key.endswith("__n_jobs")]
            if keys:
                part.set_params(**{key: 1 for key in keys})
    return estimator


def fit_and_predict(estimators: Mapping[str, Any], X_train: np.ndarray, y_train: np.ndarray,
                    predict: Callable[[Any, np.ndarray], np.ndarray], X_eval: Mapping[str, np.ndarray]
                    ) -> Dict[str, Dict[str, Any]]:
    """Fit each estimator on the training set and predict each evaluation set.

    Logs one line per baseline with its duration.

    Parameters
    ----------
    estimators : mapping
        Name -> unfitted estimator.
    X_train : ndarray
        Training features.
    y_train : ndarray
        Training targets.
    predict : callable
        ``predict(estimator, X)`` picks what to predict (values, probabilities).
    X_eval : mapping of str to ndarray
        Evaluation set name -> features.

    Returns
    -------
    dict
        Name -> {"estimator": fitted estimator, "fit_seconds": float, "predictions": {set name -> array}}.

    Raises
    ------
    ValueError, TypeError
        An error of a baseline's own (e.g. scikit-learn refusing a parameter for this data), with
        ``baseline.<name>`` in front, so the message says which baseline to change.
    """
    results = {}
    for name, estimator in estimators.items():
        start = time.perf_counter()
        try:
            estimator.fit(X_train, y_train)
        except (ValueError, TypeError) as error:
            kind = ValueError if isinstance(error, ValueError) else TypeError
            raise kind(f"baseline.{name} ({type(estimator).__name__}) on {len(X_train)} training samples: "
                       f"{error}") from error
        serial_prediction(estimator)
        fit_seconds = time.perf_counter() - start
        results[name] = {"estimator": estimator, "fit_seconds": fit_seconds,
                         "predictions": {key: predict(estimator, X) for key, X in X_eval.items()}}
        log.info("baseline %s: fitted in %.2f s", name, fit_seconds)
    return results
