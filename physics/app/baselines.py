"""scikit-learn baselines: built from the config's ``baseline`` section, seeded from the config's seed."""
from __future__ import annotations

import inspect
import logging
import time
from typing import Any, Callable, Dict, Iterator, Mapping

import numpy as np
from hydra.utils import get_object, instantiate
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from physics.app.seeding import integer_seed

log = logging.getLogger(__name__)


def polynomial_ridge(degree: int = 5, alpha: float = 1e-3) -> Pipeline:
    """Ridge regression on all monomials of the inputs up to ``degree`` (standardised)."""
    return make_pipeline(PolynomialFeatures(degree), StandardScaler(), Ridge(alpha=alpha))


def _accepts_random_state(target: Callable) -> bool:
    try:
        return "random_state" in inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False


def build_baselines(specs: Mapping[str, Mapping[str, Any]], seed: int) -> Dict[str, Any]:
    """Instantiate every ``name -> {_target_: ..., **params}``; ``random_state`` derives from ``seed`` and
    the baseline's name unless the config sets it."""
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

    Returns name -> {"estimator": fitted estimator, "fit_seconds": float, "predictions": {set name -> array}}. ``predict(estimator, X)`` picks
    what to predict (values, probabilities). Logs one line per baseline with its duration.
    """
    results = {}
    for name, estimator in estimators.items():
        start = time.perf_counter()
        serial_prediction(estimator.fit(X_train, y_train))
        fit_seconds = time.perf_counter() - start
        results[name] = {"estimator": estimator, "fit_seconds": fit_seconds,
                         "predictions": {key: predict(estimator, X) for key, X in X_eval.items()}}
        log.info("baseline %s: fitted in %.2f s", name, fit_seconds)
    return results
