"""Honest cross-validation of regressors on composition descriptors (Matbench conventions).

Every model is evaluated on the same folds. Per fold, a fresh scikit-learn ``Pipeline`` is fitted on the
training rows only: mean imputation of missing descriptors -> removal of near-constant columns
(``VarianceThreshold``) -> standardisation -> clipping of z-scores to [-clip_z, clip_z] -> the model. So no
statistic of a test fold (means, variances, imputed values) reaches the model. With ``param_grids``, the
hyperparameters are chosen by ``GridSearchCV`` *inside* each training fold (nested CV).

Splits: ``cv="kfold"`` is ``KFold(n_splits, shuffle=True, random_state)``; ``cv="group"`` is
``GroupKFold(n_splits, shuffle=True, random_state)`` over ``groups`` (e.g. the chemical system, so no system
is in both training and test: leave-cluster-out extrapolation); ``cv="logo"`` is ``LeaveOneGroupOut``.

Per fold: MAE, RMSE, R^2 and max error; per model: mean and standard deviation over folds (population
standard deviation, ``ddof=0``), and MAE / MAD, with MAD = mean |y - mean(y)| of the whole target (Matbench's
"scaled error": 1 for a model that predicts the mean). Out-of-fold predictions cover every sample once.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.feature_selection import VarianceThreshold
from sklearn.impute import SimpleImputer
from sklearn.metrics import max_error, mean_absolute_error, r2_score, root_mean_squared_error
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold, LeaveOneGroupOut
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from core._validation import as_generator
from physics.app.baselines import serial_prediction

logger = logging.getLogger(__name__)

METRICS: dict[str, Callable] = {
    "mae": mean_absolute_error,
    "rmse": root_mean_squared_error,
    "r2": r2_score,
    "max_error": max_error,
}
CV_KINDS = ("kfold", "group", "logo")


class ZScoreClipper(TransformerMixin, BaseEstimator):
    """Clip (already standardised) features to [-limit, limit]; stateless apart from the feature count.

    Parameters
    ----------
    limit : float > 0, the largest |z| kept.
    """

    def __init__(self, limit: float = 5.0):
        self.limit = limit

    def fit(self, X, y=None):
        if not isinstance(self.limit, (int, float)) or not self.limit > 0:
            raise ValueError(f"The 'limit' parameter of ZScoreClipper must be a float in (0, inf). Got {self.limit!r} instead.")
        validate_data(self, X, reset=True, ensure_all_finite="allow-nan")
        return self

    def transform(self, X):
        check_is_fitted(self, "n_features_in_")
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        return np.clip(X, -self.limit, self.limit)


@dataclass(frozen=True)
class Preprocessing:
    """Which preprocessing steps each fold's pipeline fits on its training rows.

    Attributes
    ----------
    impute : replace NaN descriptors by the training-fold column mean (``SimpleImputer``).
    variance_threshold : drop columns whose training-fold variance is <= this (raw units); None = keep all.
    standardize : zero mean, unit variance (``StandardScaler``).
    clip_z : clip standardised values to [-clip_z, clip_z]; None = no clipping (needs ``standardize``).
    """

    impute: bool = True
    variance_threshold: float | None = 1e-8
    standardize: bool = True
    clip_z: float | None = 5.0

    def __post_init__(self):
        if self.variance_threshold is not None and not (
                isinstance(self.variance_threshold, (int, float)) and self.variance_threshold >= 0):
            raise ValueError(f"Preprocessing.variance_threshold must be a float in [0, inf) or None. "
                             f"Got {self.variance_threshold!r} instead.")
        if self.clip_z is not None and not (isinstance(self.clip_z, (int, float)) and self.clip_z > 0):
            raise ValueError(f"Preprocessing.clip_z must be a float in (0, inf) or None. Got {self.clip_z!r} instead.")
        if self.clip_z is not None and not self.standardize:
            raise ValueError("Preprocessing.clip_z clips z-scores, so it needs standardize=True. Got standardize=False.")

    def steps(self) -> list[tuple[str, object]]:
        """Fresh, unfitted ``(name, transformer)`` steps in pipeline order."""
        steps: list[tuple[str, object]] = []
        if self.impute:
            steps.append(("impute", SimpleImputer(strategy="mean", keep_empty_features=True)))
        if self.variance_threshold is not None:
            steps.append(("variance", VarianceThreshold(threshold=self.variance_threshold)))
        if self.standardize:
            steps.append(("scale", StandardScaler()))
        if self.clip_z is not None:
            steps.append(("clip", ZScoreClipper(limit=self.clip_z)))
        return steps


def make_pipeline(model, preprocessing: Preprocessing | None) -> Pipeline:
    """``Pipeline(preprocessing steps + [("model", model)])``."""
    steps = preprocessing.steps() if preprocessing is not None else []
    return Pipeline(steps + [("model", model)])


def make_splits(n_samples: int, *, cv: str = "kfold", n_splits: int = 5, random_state: int = 0,
                groups=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train_index, test_index) pairs of the chosen splitter (module docstring)."""
    if cv not in CV_KINDS:
        raise ValueError(f"The 'cv' parameter must be one of {CV_KINDS}. Got {cv!r} instead.")
    if cv != "logo" and (isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 2):
        raise ValueError(f"The 'n_splits' parameter must be an int >= 2. Got {n_splits!r} instead.")
    placeholder = np.zeros((n_samples, 1))
    if cv == "kfold":
        if n_splits > n_samples:
            raise ValueError(f"n_splits={n_splits} folds need at least as many samples. Got {n_samples}.")
        return list(KFold(n_splits, shuffle=True, random_state=random_state).split(placeholder))
    if groups is None:
        raise ValueError(f"cv={cv!r} needs 'groups' (one label per sample, e.g. the chemical system). Got None.")
    groups = np.asarray(groups)
    if groups.shape != (n_samples,):
        raise ValueError(f"The 'groups' parameter must have shape ({n_samples},). Got {groups.shape}.")
    n_groups = len(np.unique(groups))
    if cv == "logo":
        if n_groups < 2:
            raise ValueError(f"cv='logo' needs >= 2 distinct groups. Got {n_groups}.")
        return list(LeaveOneGroupOut().split(placeholder, groups=groups))
    if n_groups < n_splits:
        raise ValueError(f"cv='group' with n_splits={n_splits} needs >= {n_splits} distinct groups. Got {n_groups}.")
    return list(GroupKFold(n_splits, shuffle=True, random_state=random_state).split(placeholder, groups=groups))


@dataclass
class ModelResult:
    """Cross-validation of one model.

    Attributes
    ----------
    name : str.
    fold_metrics : dict metric -> ndarray, shape (n_folds,), see :data:`METRICS` (NaN for a failed fold).
    oof_prediction : ndarray, shape (n_samples,), out-of-fold prediction of every sample (NaN if its fold failed).
    fit_seconds : ndarray, shape (n_folds,), wall time of each fold's fit.
    best_params : list of dict per fold (tuning only), else None.
    errors : list of str, one per failed fold (only with ``errors="record"``).
    estimators : fitted fold pipelines when ``keep_estimators=True``, else None.
    """

    name: str
    fold_metrics: dict[str, np.ndarray]
    oof_prediction: np.ndarray
    fit_seconds: np.ndarray
    best_params: list[dict] | None = None
    errors: list[str] = field(default_factory=list)
    estimators: list | None = None

    def summary(self, mad: float) -> dict[str, float]:
        """``{"mae_mean", "mae_std", "rmse_mean", ..., "mae_over_mad", "fit_seconds_mean", "n_failed_folds"}``."""
        out: dict[str, float] = {}
        for metric, values in self.fold_metrics.items():
            ok = values[np.isfinite(values)]
            out[f"{metric}_mean"] = float(ok.mean()) if ok.size else float("nan")
            out[f"{metric}_std"] = float(ok.std()) if ok.size else float("nan")
        out["mae_over_mad"] = out["mae_mean"] / mad if mad > 0 else float("nan")
        out["fit_seconds_mean"] = float(self.fit_seconds.mean())
        out["n_failed_folds"] = len(self.errors)
        return out


@dataclass
class CVResult:
    """Cross-validation of several models on the same folds.

    Attributes
    ----------
    models : dict name -> ModelResult.
    splits : list of (train_index, test_index), the folds every model used.
    fold_of_sample : ndarray, shape (n_samples,), the fold in which each sample was a test sample.
    y : ndarray, shape (n_samples,), the target.
    mad : float, mean absolute deviation of ``y``.
    cv : str, the splitter kind.
    """

    models: dict[str, ModelResult]
    splits: list[tuple[np.ndarray, np.ndarray]]
    fold_of_sample: np.ndarray
    y: np.ndarray
    mad: float
    cv: str

    def summary(self) -> dict[str, dict[str, float]]:
        """``{model name: ModelResult.summary}`` -- the ``models.<name>.*`` entries of metrics.json."""
        return {name: result.summary(self.mad) for name, result in self.models.items()}


def cross_validate(
    models: Mapping[str, object],
    X,
    y,
    *,
    cv: str = "kfold",
    n_splits: int = 5,
    random_state: int = 0,
    groups=None,
    preprocessing: Preprocessing | None = Preprocessing(),
    param_grids: Mapping[str, Mapping[str, Sequence]] | None = None,
    inner_splits: int = 3,
    keep_estimators: bool = False,
    errors: str = "raise",
) -> CVResult:
    """Cross-validate every model on the same folds, preprocessing fitted on training rows only.

    Parameters
    ----------
    models : dict name -> scikit-learn-style regressor (cloned for every fold) or a zero-argument factory
        returning a fresh one.
    X : array-like, shape (n_samples, n_features), descriptors (NaN allowed when ``preprocessing.impute``).
    y : array-like, shape (n_samples,), finite target.
    cv, n_splits, random_state, groups : the splitter (module docstring).
    preprocessing : :class:`Preprocessing`, or None for raw features.
    param_grids : dict name -> parameter grid of that model (its own parameter names); those models are tuned
        by ``GridSearchCV`` inside each training fold, scored by MAE, with ``inner_splits`` inner folds
        (grouped when ``cv`` is grouped).
    keep_estimators : keep each fold's fitted pipeline in ``ModelResult.estimators``.
    errors : "raise" (default) -- a fit that raises or predicts NaN/inf stops the run with the model and fold
        named; "record" -- the fold's metrics become NaN, the message goes to ``ModelResult.errors`` and the log.
    """
    X, y = _check_xy(X, y, allow_nan=preprocessing is not None and preprocessing.impute)
    if errors not in ("raise", "record"):
        raise ValueError(f"The 'errors' parameter must be 'raise' or 'record'. Got {errors!r} instead.")
    unknown = sorted(set(param_grids or {}) - set(models))
    if unknown:
        raise ValueError(f"param_grids names models {unknown} that are not in models {sorted(models)}.")
    splits = make_splits(len(y), cv=cv, n_splits=n_splits, random_state=random_state, groups=groups)
    fold_of_sample = np.empty(len(y), dtype=np.int64)
    for k, (_, test) in enumerate(splits):
        fold_of_sample[test] = k
    results = {}
    for name, spec in models.items():
        grid = (param_grids or {}).get(name)
        results[name] = _evaluate_model(name, spec, X, y, splits, groups, preprocessing, grid, inner_splits,
                                        random_state, cv, keep_estimators, errors)
    mad = float(np.mean(np.abs(y - y.mean())))
    return CVResult(models=results, splits=splits, fold_of_sample=fold_of_sample, y=y, mad=mad, cv=cv)


def _evaluate_model(name, spec, X, y, splits, groups, preprocessing, grid, inner_splits, random_state, cv,
                    keep_estimators, errors) -> ModelResult:
    n_folds = len(splits)
    fold_metrics = {metric: np.full(n_folds, np.nan) for metric in METRICS}
    oof = np.full(len(y), np.nan)
    seconds = np.zeros(n_folds)
    best_params, messages, estimators = ([] if grid else None), [], ([] if keep_estimators else None)
    for k, (train, test) in enumerate(splits):
        start = time.perf_counter()
        try:
            estimator = serial_prediction(_fit_fold(spec, X, y, train, groups, preprocessing, grid, inner_splits,
                                                    random_state, cv))
            prediction = np.asarray(estimator.predict(X[test]), dtype=np.float64).ravel()
            if not np.all(np.isfinite(prediction)):
                raise FloatingPointError(f"{np.sum(~np.isfinite(prediction))} of {len(test)} predictions are NaN or inf (diverged?)")
        except Exception as error:  # noqa: BLE001 -- re-raised below unless errors="record"
            message = f"Model {name!r} failed on fold {k} ({len(train)} training rows): {type(error).__name__}: {error}"
            if errors == "raise":
                raise RuntimeError(message) from error
            logger.warning(message)
            messages.append(message)
            if best_params is not None:
                best_params.append({})
            seconds[k] = time.perf_counter() - start
            continue
        seconds[k] = time.perf_counter() - start
        oof[test] = prediction
        for metric, function in METRICS.items():
            fold_metrics[metric][k] = function(y[test], prediction)
        if best_params is not None:
            best_params.append({key.removeprefix("model__"): value for key, value in estimator.best_params_.items()})
        if estimators is not None:
            estimators.append(estimator)
        logger.info("%s fold %d/%d: MAE %.4g, R2 %.3f (%.2f s)", name, k + 1, n_folds,
                    fold_metrics["mae"][k], fold_metrics["r2"][k], seconds[k])
    return ModelResult(name=name, fold_metrics=fold_metrics, oof_prediction=oof, fit_seconds=seconds,
                       best_params=best_params, errors=messages, estimators=estimators)


def _fit_fold(spec, X, y, train, groups, preprocessing, grid, inner_splits, random_state, cv):
    """Fit a fresh pipeline (or a GridSearchCV over it) on the training rows only."""
    pipeline = make_pipeline(new_model(spec), preprocessing)
    if not grid:
        return pipeline.fit(X[train], y[train])
    if cv == "kfold":
        inner, fit_groups = KFold(inner_splits, shuffle=True, random_state=random_state), None
    else:
        inner, fit_groups = GroupKFold(inner_splits, shuffle=True, random_state=random_state), np.asarray(groups)[train]
    search = GridSearchCV(pipeline, {f"model__{key}": list(values) for key, values in grid.items()},
                          scoring="neg_mean_absolute_error", cv=inner, refit=True)
    return search.fit(X[train], y[train], groups=fit_groups)


def new_model(spec):
    """A fresh unfitted model: ``clone(spec)`` for an estimator, ``spec()`` for a factory."""
    if hasattr(spec, "fit"):
        try:
            return clone(spec)
        except TypeError as error:
            raise TypeError(f"Cannot clone {spec!r} ({error}); pass a zero-argument factory instead.") from error
    if callable(spec):
        model = spec()
        if not hasattr(model, "fit") or not hasattr(model, "predict"):
            raise TypeError(f"The model factory {spec!r} must return an object with fit and predict. Got {type(model).__name__}.")
        return model
    raise TypeError(f"A model must be an estimator with fit/predict or a factory. Got {type(spec).__name__} instead.")


@dataclass
class LearningCurve:
    """MAE against training-set size, on the folds of the cross-validation.

    Attributes
    ----------
    fractions : ndarray, shape (n_sizes,), fraction of each training fold used.
    train_sizes : ndarray, shape (n_sizes,), mean number of training rows over the folds.
    mae : dict name -> ndarray, shape (n_sizes, n_folds), test-fold MAE.
    """

    fractions: np.ndarray
    train_sizes: np.ndarray
    mae: dict[str, np.ndarray]

    def mean(self, name: str) -> np.ndarray:
        """Mean MAE over folds, shape (n_sizes,)."""
        return self.mae[name].mean(axis=1)

    def std(self, name: str) -> np.ndarray:
        """Standard deviation of the MAE over folds (ddof=0), shape (n_sizes,)."""
        return self.mae[name].std(axis=1)


def learning_curve(
    models: Mapping[str, object],
    X,
    y,
    *,
    fractions: Sequence[float] = (0.1, 0.2, 0.4, 0.7, 1.0),
    cv: str = "kfold",
    n_splits: int = 5,
    random_state: int = 0,
    groups=None,
    preprocessing: Preprocessing | None = Preprocessing(),
) -> LearningCurve:
    """Test-fold MAE of every model trained on growing subsets of each training fold.

    The folds are those of :func:`cross_validate` with the same ``cv``, ``n_splits``, ``random_state`` and
    ``groups``. Within a fold the subsets are nested (the first m rows of one random permutation drawn from
    ``default_rng(random_state)``), so a curve differs between sizes only by the added data.
    """
    X, y = _check_xy(X, y, allow_nan=preprocessing is not None and preprocessing.impute)
    fractions = np.asarray(fractions, dtype=np.float64)
    if fractions.ndim != 1 or fractions.size == 0 or np.any((fractions <= 0) | (fractions > 1)):
        raise ValueError(f"The 'fractions' parameter must be a non-empty list of numbers in (0, 1]. Got {fractions.tolist()}.")
    splits = make_splits(len(y), cv=cv, n_splits=n_splits, random_state=random_state, groups=groups)
    rng = as_generator(random_state)
    orders = [rng.permutation(train) for train, _ in splits]
    sizes = np.array([[max(2, int(round(f * len(train)))) for train, _ in splits] for f in fractions])  # (n_sizes, n_folds)
    mae = {}
    for name, spec in models.items():
        scores = np.empty(sizes.shape)
        for k, (_, test) in enumerate(splits):
            for i, size in enumerate(sizes[:, k]):
                subset = orders[k][:size]
                pipeline = serial_prediction(make_pipeline(new_model(spec), preprocessing).fit(X[subset], y[subset]))
                scores[i, k] = mean_absolute_error(y[test], pipeline.predict(X[test]))
        mae[name] = scores
        logger.info("learning curve %s: MAE %s", name, np.round(scores.mean(axis=1), 4).tolist())
    return LearningCurve(fractions=fractions, train_sizes=sizes.mean(axis=1), mae=mae)


def _check_xy(X, y, *, allow_nan: bool) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features). Got shape {X.shape}.")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X. Got {y.shape}.")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"y must be finite. Got {np.sum(~np.isfinite(y))} NaN/inf values.")
    if np.any(np.isinf(X)) or (not allow_nan and np.any(np.isnan(X))):
        raise ValueError("X has inf values, or NaN values while preprocessing does not impute them.")
    return X, y
