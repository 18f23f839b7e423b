"""Honest evaluation of regressors and classifiers on composition descriptors (Matbench conventions).

Every model is evaluated on the same folds. Per fold, a fresh scikit-learn ``Pipeline`` is fitted on the
training rows only: mean imputation of missing descriptors -> removal of near-constant columns
(``VarianceThreshold``) -> standardisation -> clipping of z-scores to [-clip_z, clip_z] -> the model. So no
statistic of a test fold (means, variances, imputed values) reaches the model. With ``param_grids``, the
hyperparameters are chosen by ``GridSearchCV`` *inside* each training fold (nested CV).

Splits: ``cv="kfold"`` is ``KFold(n_splits, shuffle=True, random_state)``; ``cv="group"`` is
``GroupKFold(n_splits, shuffle=True, random_state)`` over ``groups`` (e.g. the chemical system, so no system
is in both training and test: leave-cluster-out extrapolation); ``cv="logo"`` is ``LeaveOneGroupOut``;
``cv="split"`` is ONE given split: every row labelled "test" in ``split`` is the test set, the "train" and "val"
rows are the training set (a published benchmark split).

Tuning (``param_grids``): each candidate setting is scored by ``GridSearchCV`` on an inner split of the
training rows only -- ``inner_splits`` >= 2: (grouped) k-fold; ``inner_splits`` = 1: one (grouped) 80/20
hold-out; ``cv="split"`` with "val" rows: the given validation rows. Candidates are scored with the model's
``n_members`` set to 1 when it is a seed ensemble (the setting, not the ensemble, is being chosen); the
chosen setting is then refitted on all training rows with its full ensemble.

Regression, per fold: MAE, RMSE, R^2 and max error; MAE / MAD, with MAD = mean |y - mean(y)| of the whole
target (Matbench's "scaled error": 1 for a model that predicts the mean). Classification (string labels):
accuracy, balanced accuracy, macro F1, and with ``predict_proba`` the log loss and (two classes) ROC AUC.
Per model: mean and standard deviation over folds (population standard deviation, ``ddof=0``); those
standard deviations do not test the difference between two models: :mod:`physics.materials.comparison`
does. Out-of-fold predictions cover every test sample once.

Scheduling (:func:`evaluate`): each fold of each model, each learning-curve fit and each refit on every row is one
job; with ``n_jobs`` != 1 they all go to ONE joblib pool, the longest first, and the results are put back per
model in fold order (the same numbers as one model at a time).
"""
from __future__ import annotations

import logging
import pickle
import time
import warnings
from contextlib import closing
from dataclasses import dataclass, field
from typing import Callable, Collection, Iterable, Iterator, Mapping, Sequence

import numpy as np
from joblib import Parallel, delayed, parallel_config
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.exceptions import FitFailedWarning
from sklearn.feature_selection import VarianceThreshold
from sklearn.impute import SimpleImputer
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, f1_score, log_loss, max_error,
                             mean_absolute_error, r2_score, roc_auc_score, root_mean_squared_error)
from sklearn.model_selection import (GridSearchCV, GroupKFold, GroupShuffleSplit, KFold, LeaveOneGroupOut,
                                     PredefinedSplit, ShuffleSplit)
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
CLASSIFICATION_METRICS: dict[str, Callable] = {
    "accuracy": accuracy_score,
    "balanced_accuracy": balanced_accuracy_score,
    "f1_macro": lambda y, p: f1_score(y, p, average="macro"),
}
#: metrics of predicted probabilities (classifiers with predict_proba); roc_auc only for two classes
PROBABILITY_METRICS = ("log_loss", "roc_auc")
#: the headline metric of each target type, what tuning optimises, and whether lower is better
HEADLINE = {"regression": ("mae", "neg_mean_absolute_error", True),
            "classification": ("balanced_accuracy", "balanced_accuracy", False)}
TARGET_TYPES = tuple(HEADLINE)
CV_KINDS = ("kfold", "group", "logo", "split")
SPLIT_LABELS = ("train", "val", "test")
#: fraction of the training rows held out by the inner split when ``inner_splits`` = 1
INNER_HOLDOUT = 0.2


class ZScoreClipper(TransformerMixin, BaseEstimator):
    """Clip (already standardised) features to [-limit, limit]; stateless apart from the feature count.

    Parameters
    ----------
    limit : float, optional
        > 0. The largest |z| kept. Default 5.0.
    """

    def __init__(self, limit: float = 5.0):
        self.limit = limit

    def fit(self, X, y=None):
        """Record the feature count.

        Parameters
        ----------
        X : array_like of float
            Shape (n_samples, n_features). Standardised features; NaN allowed.
        y : None
            Ignored; present for the scikit-learn API.

        Returns
        -------
        self : ZScoreClipper
            The fitted transformer.

        Raises
        ------
        ValueError
            When ``limit`` is not a number > 0.
        """
        if not isinstance(self.limit, (int, float)) or not self.limit > 0:
            raise ValueError(f"The 'limit' parameter of ZScoreClipper must be a float in (0, inf). Got {self.limit!r} instead.")
        validate_data(self, X, reset=True, ensure_all_finite="allow-nan")
        return self

    def transform(self, X):
        """Clip the features to [-limit, limit].

        Parameters
        ----------
        X : array_like of float
            Shape (n_samples, n_features), the feature count seen by :meth:`fit`. NaN allowed (kept).

        Returns
        -------
        clipped : ndarray of float
            Shape (n_samples, n_features).
        """
        check_is_fitted(self, "n_features_in_")
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        return np.clip(X, -self.limit, self.limit)


@dataclass(frozen=True)
class Preprocessing:
    """Which preprocessing steps each fold's pipeline fits on its training rows.

    Attributes
    ----------
    impute : bool
        Replace NaN descriptors by the training-fold column mean (``SimpleImputer``). Default True.
    variance_threshold : float or None
        >= 0. Drop columns whose training-fold variance is <= this (raw units); None keeps all. Default 1e-8.
    standardize : bool
        Zero mean, unit variance (``StandardScaler``). Default True.
    clip_z : float or None
        > 0. Clip standardised values to [-clip_z, clip_z] (needs ``standardize``); None: no clipping.
        Default 5.0.
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
        """Fresh, unfitted pipeline steps.

        Returns
        -------
        steps : list of tuple
            ``(name, transformer)`` pairs in pipeline order, from "impute", "variance", "scale", "clip".
        """
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
    """``Pipeline(preprocessing steps + [("model", model)])``.

    Parameters
    ----------
    model : estimator
        A scikit-learn-style regressor or classifier, the last step (used as is, not cloned).
    preprocessing : Preprocessing or None
        The preprocessing steps; None for raw features.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Unfitted; the model step is named "model".
    """
    steps = preprocessing.steps() if preprocessing is not None else []
    return Pipeline(steps + [("model", model)])


def make_splits(n_samples: int, *, cv: str = "kfold", n_splits: int = 5, random_state: int = 0,
                groups=None, split=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train_index, test_index) pairs of the chosen splitter (module docstring).

    Parameters
    ----------
    n_samples : int
        Number of samples.
    cv : {"kfold", "group", "logo", "split"}, optional
        The splitter (module docstring). Default "kfold".
    n_splits : int, optional
        >= 2. Number of folds of ``cv="kfold"`` and ``cv="group"``; unused by "logo" and "split". Default 5.
    random_state : int, optional
        Seed of the shuffled splitters. Default 0.
    groups : array_like or None, optional
        Shape (n_samples,). Group label of each sample (e.g. the chemical system); required by ``cv="group"``
        and ``cv="logo"``, else unused. Default None.
    split : array_like of str or None, optional
        Shape (n_samples,). "train", "val" or "test" per sample; required by ``cv="split"``, else unused.
        Default None.

    Returns
    -------
    splits : list of tuple
        ``(train_index, test_index)`` pairs of int index arrays; one pair (the "train" and "val" rows, the
        "test" rows) for ``cv="split"``.

    Raises
    ------
    ValueError
        For an unknown ``cv``, ``n_splits`` < 2 or above the number of samples (or groups), missing or
        mis-shaped ``groups``/``split``, fewer than 2 groups for "logo", or invalid split labels.
    """
    if cv not in CV_KINDS:
        raise ValueError(f"The 'cv' parameter must be one of {CV_KINDS}. Got {cv!r} instead.")
    if cv == "split":
        return [split_indices(n_samples, split)]
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


def split_indices(n_samples: int, split) -> tuple[np.ndarray, np.ndarray]:
    """Training and test rows of a given split.

    Parameters
    ----------
    n_samples : int
        Number of samples.
    split : array_like of str
        Shape (n_samples,). One of :data:`SPLIT_LABELS` ("train", "val", "test") per sample.

    Returns
    -------
    train : ndarray of int
        Indices of the "train" and "val" rows (at least 2).
    test : ndarray of int
        Indices of the "test" rows (at least 1).

    Raises
    ------
    ValueError
        When ``split`` is None or mis-shaped, a label is not one of :data:`SPLIT_LABELS`, there is no test
        row or fewer than 2 training rows.
    """
    if split is None:
        raise ValueError("cv='split' needs 'split' (one of 'train', 'val', 'test' per sample). Got None.")
    split = np.asarray(split).astype(str)
    if split.shape != (n_samples,):
        raise ValueError(f"The 'split' parameter must have shape ({n_samples},). Got {split.shape}.")
    unknown = sorted(set(np.unique(split)) - set(SPLIT_LABELS))
    if unknown:
        raise ValueError(f"The split labels must be {', '.join(SPLIT_LABELS)}. Got also {unknown[:5]}.")
    test = np.flatnonzero(split == "test")
    train = np.flatnonzero(split != "test")
    if len(test) == 0 or len(train) < 2:
        raise ValueError(f"A split needs test rows and at least 2 training rows. Got {len(train)} train/val rows "
                         f"and {len(test)} test rows.")
    return train, test


def inner_splitter(cv: str, inner_splits: int, random_state: int, groups=None, split=None):
    """The splitter (and the groups to pass it) that scores tuning candidates inside training rows.

    Module docstring: the given "val" rows for ``cv="split"`` (when there are any), else a (grouped, for
    grouped ``cv``) k-fold for ``inner_splits`` >= 2 or one 80/20 hold-out for ``inner_splits`` = 1.

    Parameters
    ----------
    cv : {"kfold", "group", "logo", "split"}
        The outer splitter; "group" and "logo" make the inner split grouped.
    inner_splits : int
        >= 1. Number of inner folds; 1 means one hold-out of :data:`INNER_HOLDOUT` of the rows.
    random_state : int
        Seed of the inner splitter.
    groups : array_like or None, optional
        Group labels of the TRAINING rows only; needed for grouped ``cv``. Default None.
    split : array_like of str or None, optional
        Split labels of the TRAINING rows only; "val" rows become the validation set with ``cv="split"``.
        Default None.

    Returns
    -------
    splitter : sklearn cross-validator
        ``PredefinedSplit``, ``GroupShuffleSplit``, ``ShuffleSplit``, ``GroupKFold`` or ``KFold``.
    groups : ndarray or None
        The groups to pass to the splitter's ``split`` (None for an ungrouped one).
    """
    if cv == "split" and split is not None and np.any(np.asarray(split) == "val"):
        return PredefinedSplit(np.where(np.asarray(split) == "val", 0, -1)), None
    grouped = cv in ("group", "logo")
    if inner_splits == 1:
        if grouped:
            return GroupShuffleSplit(1, test_size=INNER_HOLDOUT, random_state=random_state), np.asarray(groups)
        return ShuffleSplit(1, test_size=INNER_HOLDOUT, random_state=random_state), None
    if grouped:
        return GroupKFold(inner_splits, shuffle=True, random_state=random_state), np.asarray(groups)
    return KFold(inner_splits, shuffle=True, random_state=random_state), None


def metric_names(target_type: str, probabilities: bool = False, n_classes: int = 2) -> list[str]:
    """The per-fold metrics of a target type (module docstring).

    Parameters
    ----------
    target_type : {"regression", "classification"}
        The target type; any value other than "regression" is treated as classification.
    probabilities : bool, optional
        Whether the classifier has ``predict_proba`` (adds the probability metrics). Default False.
    n_classes : int, optional
        Number of classes; "roc_auc" only for 2. Default 2.

    Returns
    -------
    names : list of str
        Metric names, e.g. ``["mae", "rmse", "r2", "max_error"]`` for regression.
    """
    if target_type == "regression":
        return list(METRICS)
    extra = [m for m in PROBABILITY_METRICS if m != "roc_auc" or n_classes == 2] if probabilities else []
    return list(CLASSIFICATION_METRICS) + extra


def fold_scores(target_type: str, y_true, prediction, proba=None, classes=None) -> dict[str, float]:
    """Every metric of one fold.

    Parameters
    ----------
    target_type : {"regression", "classification"}
        The target type; any value other than "regression" is treated as classification.
    y_true : array_like
        Shape (n,). True target or labels.
    prediction : array_like
        Shape (n,). Predicted target or labels.
    proba : ndarray of float or None, optional
        Shape (n, n_classes), columns in the order of ``classes``; None (default) skips the probability
        metrics.
    classes : array_like or None, optional
        Shape (n_classes,). Sorted class labels; required with ``proba``. Default None.

    Returns
    -------
    scores : dict of str to float
        Metric name (:func:`metric_names`) -> value; "roc_auc" is NaN when the fold has one class only.
    """
    if target_type == "regression":
        return {metric: float(function(y_true, prediction)) for metric, function in METRICS.items()}
    scores = {metric: float(function(y_true, prediction)) for metric, function in CLASSIFICATION_METRICS.items()}
    if proba is not None:
        scores["log_loss"] = float(log_loss(y_true, proba, labels=classes))
        if len(classes) == 2:
            positive = np.asarray(y_true) == classes[1]
            scores["roc_auc"] = float(roc_auc_score(positive, proba[:, 1])) if 0 < positive.sum() < len(positive) \
                else float("nan")
    return scores


def per_sample_loss(target_type: str, y_true, prediction) -> np.ndarray:
    """|error| (regression) or 0/1 misclassification (classification) of every sample: what the paired test
    on one split compares.

    Parameters
    ----------
    target_type : {"regression", "classification"}
        The target type; any value other than "regression" is treated as classification.
    y_true : array_like
        Shape (n,). True target or labels.
    prediction : array_like
        Shape (n,). Predicted target or labels.

    Returns
    -------
    loss : ndarray of float64
        Shape (n,). Absolute error (units of the target), or 1.0 for a wrong label and 0.0 for a right one.
    """
    if target_type == "regression":
        return np.abs(np.asarray(prediction, dtype=np.float64) - np.asarray(y_true, dtype=np.float64))
    return (np.asarray(prediction) != np.asarray(y_true)).astype(np.float64)


@dataclass
class ModelResult:
    """Cross-validation of one model.

    Attributes
    ----------
    name : str
        The model name.
    fold_metrics : dict of str to ndarray
        Metric (:func:`metric_names`) -> values of shape (n_folds,); NaN for a failed fold.
    oof_prediction : ndarray
        Shape (n_samples,). Out-of-fold prediction of every test sample (NaN, or "" for labels, where its
        fold failed or the sample is in no test fold).
    fit_seconds : ndarray of float
        Shape (n_folds,). Wall time of each fold's fit and prediction, tuning included (s).
    best_params : list of dict or None
        The chosen setting per fold (``{}`` for a failed fold) when tuned, else None.
    searched_grids : list of dict or None
        The grid searched per fold (extended at a hit edge) when tuned, else None.
    errors : list of str
        One message per failed fold (only with ``errors="record"``).
    estimators : list or None
        The fitted fold pipelines when ``keep_estimators=True``, else None.
    """

    name: str
    fold_metrics: dict[str, np.ndarray]
    oof_prediction: np.ndarray
    fit_seconds: np.ndarray
    best_params: list[dict] | None = None
    searched_grids: list[dict] | None = None
    errors: list[str] = field(default_factory=list)
    estimators: list | None = None

    def summary(self, mad: float | None) -> dict[str, float]:
        """Mean and spread over the folds that did not fail.

        Parameters
        ----------
        mad : float or None
            Mean absolute deviation of the target (regression); None (classification) leaves out
            "mae_over_mad".

        Returns
        -------
        summary : dict of str to float
            ``"<metric>_mean"`` and ``"<metric>_std"`` (ddof=0, NaN when every fold failed) for every metric,
            ``"mae_over_mad"`` (with ``mad``; NaN when ``mad`` <= 0), ``"fit_seconds_mean"``,
            ``"n_failed_folds"``.
        """
        out: dict[str, float] = {}
        for metric, values in self.fold_metrics.items():
            ok = values[np.isfinite(values)]
            out[f"{metric}_mean"] = float(ok.mean()) if ok.size else float("nan")
            out[f"{metric}_std"] = float(ok.std()) if ok.size else float("nan")
        if mad is not None:
            out["mae_over_mad"] = out["mae_mean"] / mad if mad > 0 else float("nan")
        out["fit_seconds_mean"] = float(self.fit_seconds.mean())
        out["n_failed_folds"] = len(self.errors)
        return out


@dataclass
class CVResult:
    """Cross-validation of several models on the same folds.

    Attributes
    ----------
    models : dict of str to ModelResult
        Model name -> its result.
    splits : list of tuple
        The ``(train_index, test_index)`` folds every model used.
    fold_of_sample : ndarray of int64
        Shape (n_samples,). The fold in which each sample was a test sample (-1: none, the training rows of a
        given split).
    y : ndarray
        Shape (n_samples,). The target (float64, or str labels).
    mad : float or None
        Mean absolute deviation of ``y`` (regression only, else None).
    cv : str
        The splitter kind, one of :data:`CV_KINDS`.
    target_type : str
        "regression" or "classification".
    """

    models: dict[str, ModelResult]
    splits: list[tuple[np.ndarray, np.ndarray]]
    fold_of_sample: np.ndarray
    y: np.ndarray
    mad: float | None
    cv: str
    target_type: str = "regression"

    def summary(self) -> dict[str, dict[str, float]]:
        """Every model's :meth:`ModelResult.summary`: the ``models.<name>.*`` entries of metrics.json.

        Returns
        -------
        summary : dict of str to dict
            Model name -> its summary (metric -> float).
        """
        return {name: result.summary(self.mad) for name, result in self.models.items()}

    @property
    def tested(self) -> np.ndarray:
        """Indices of the samples that were in a test fold.

        Returns
        -------
        indices : ndarray of int
            Shape (n_tested,), increasing.
        """
        return np.flatnonzero(self.fold_of_sample >= 0)


def cross_validate(
    models: Mapping[str, object],
    X,
    y,
    *,
    cv: str = "kfold",
    n_splits: int = 5,
    random_state: int = 0,
    groups=None,
    split=None,
    preprocessing: Preprocessing | None = Preprocessing(),
    param_grids: Mapping[str, Mapping[str, Sequence]] | None = None,
    inner_splits: int = 3,
    extend_edges: bool = False,
    target_type: str = "regression",
    keep_estimators: bool = False,
    errors: str = "raise",
    n_jobs: int = 1,
) -> CVResult:
    """Evaluate every model on the same folds, preprocessing fitted on training rows only.

    :func:`evaluate` without a learning curve.

    Parameters
    ----------
    models : Mapping of str to estimator or callable
        Model name -> scikit-learn-style regressor or classifier (cloned for every fold) or a zero-argument
        factory returning a fresh one.
    X : array_like of float
        Shape (n_samples, n_features). Descriptors; no inf, NaN allowed only when ``preprocessing.impute``.
    y : array_like
        Shape (n_samples,). Finite target (regression) or labels (classification, compared as str).
    cv : {"kfold", "group", "logo", "split"}, optional
        The splitter (module docstring). Default "kfold".
    n_splits : int, optional
        >= 2. Number of folds of ``cv="kfold"`` and ``cv="group"``; unused by "logo" and "split". Default 5.
    random_state : int, optional
        Seed of the shuffled splitters. Default 0.
    groups : array_like or None, optional
        Shape (n_samples,). Group label of each sample (e.g. the chemical system); required by ``cv="group"``
        and ``cv="logo"``, else unused. Default None.
    split : array_like of str or None, optional
        Shape (n_samples,). "train", "val" or "test" per sample; required by ``cv="split"``, else unused.
        Default None.
    preprocessing : Preprocessing or None, optional
        The preprocessing fitted per fold (default ``Preprocessing()``); None for raw features.
    param_grids : Mapping of str to Mapping or None, optional
        Model name -> parameter grid of that model (its own parameter names, without ``model__``); those models
        are tuned inside each training fold (module docstring), scored by the headline metric of the target
        type. Default None (no tuning).
    inner_splits : int, optional
        >= 1. The inner split of the tuning (module docstring). Default 3.
    extend_edges : bool, optional
        Search once more one step beyond a grid end that was chosen (:func:`tune`). Default False.
    target_type : {"regression", "classification"}, optional
        Selects the metrics and the tuning score. Default "regression".
    keep_estimators : bool, optional
        Keep each fold's fitted pipeline in ``ModelResult.estimators``. Default False.
    errors : {"raise", "record"}, optional
        "raise" (default): a fit that raises or predicts NaN/inf stops the run with a ``RuntimeError`` naming the
        model and fold; "record": the fold's metrics become NaN, the message goes to ``ModelResult.errors`` and
        the log.
    n_jobs : int, optional
        Workers of the one joblib pool that fits every fold of every model (processes, or the backend of an
        enclosing ``joblib.parallel_config``; -1: every core). Every fold's estimator has its own fixed random
        state, so the results do not depend on it. Default 1 (one after the other, in this process).

    Returns
    -------
    result : CVResult
        Every model's per-fold metrics, out-of-fold predictions and timings, on the shared folds.

    Raises
    ------
    ValueError
        For an unknown ``target_type``, ``cv`` or ``errors``, mis-shaped or non-finite ``X``/``y``, a
        ``param_grids`` entry naming no model, or an invalid splitter setting (:func:`make_splits`).
    RuntimeError
        With ``errors="raise"``, when a fold fails.
    """
    return evaluate(models, X, y, cv=cv, n_splits=n_splits, random_state=random_state, groups=groups, split=split,
                    preprocessing=preprocessing, param_grids=param_grids, inner_splits=inner_splits,
                    extend_edges=extend_edges, target_type=target_type, keep_estimators=keep_estimators,
                    errors=errors, n_jobs=n_jobs).cv


@dataclass
class Evaluation:
    """What :func:`evaluate` returns.

    Attributes
    ----------
    cv : CVResult
        Every model's cross-validation.
    curve : LearningCurve or None
        The learning curve at ``curve_fractions`` (None without fractions).
    curve_seconds : dict of str to float
        Model name -> summed seconds of its learning-curve fits (each timed where it ran); empty without a curve.
    refits : dict of str to estimator
        Model name -> its estimator of ``refits``, fitted on every row.
    refit_seconds : dict of str to float
        Model name -> seconds of that fit.
    """

    cv: CVResult
    curve: LearningCurve | None = None
    curve_seconds: dict[str, float] = field(default_factory=dict)
    refits: dict[str, object] = field(default_factory=dict)
    refit_seconds: dict[str, float] = field(default_factory=dict)


def evaluate(
    models: Mapping[str, object],
    X,
    y,
    *,
    cv: str = "kfold",
    n_splits: int = 5,
    random_state: int = 0,
    groups=None,
    split=None,
    preprocessing: Preprocessing | None = Preprocessing(),
    param_grids: Mapping[str, Mapping[str, Sequence]] | None = None,
    inner_splits: int = 3,
    extend_edges: bool = False,
    target_type: str = "regression",
    keep_estimators: bool | Collection[str] = False,
    errors: str = "raise",
    n_jobs: int = 1,
    curve_fractions: Sequence[float] = (),
    order: Sequence[str] | None = None,
    refits: Mapping[str, Callable[[ModelResult], object]] | None = None,
) -> Evaluation:
    """:func:`cross_validate` and :func:`learning_curve` of every model, every fit in one pool.

    Each fold of each model (tuning and refit included) and each learning-curve fit is one job. With
    ``n_jobs`` != 1 every job goes to ONE joblib ``Parallel`` of ``n_jobs`` workers, the longest first: the folds
    of the models in ``order``, each model's largest training folds first, then the learning-curve fits (the
    largest first), so no worker waits while another model still has folds to fit. Inside a job any joblib loop
    (e.g. a forest's ``n_jobs=-1``) runs sequentially: the pool already occupies every worker. Results are put
    back per model in fold order; they are those of :func:`cross_validate` and :func:`learning_curve` (every fit
    has its own fixed random state), whatever the order or the number of workers.

    Parameters
    ----------
    models, X, y, cv, n_splits, random_state, groups, split, preprocessing, param_grids, inner_splits, \
extend_edges, target_type, errors
        As :func:`cross_validate`.
    keep_estimators : bool or Collection of str, optional
        Keep each fold's fitted pipeline in ``ModelResult.estimators``: of every model (True), of none (False,
        default) or of the models named. Pipelines not kept are not sent back from the workers.
    n_jobs : int, optional
        Workers of the pool (joblib processes, or the backend of an enclosing ``joblib.parallel_config``; -1:
        every core). Default 1: one job after the other in this process, model by model, fold by fold.
    curve_fractions : sequence of float, optional
        Each in (0, 1]. Also compute the learning curve of every model at these fractions of each training fold
        (untuned, as :func:`learning_curve` with the same splitter settings). Default ``()``: no curve.
    order : sequence of str or None, optional
        Model names, the most expensive first: the order in which the pool receives their folds (models not
        named follow in the order of ``models``). Changes the run time only. Default None: the order of
        ``models``.
    refits : Mapping of str to callable or None, optional
        Model name -> function of that model's :class:`ModelResult` returning a new unfitted estimator (e.g. its
        pipeline with the setting most folds chose) to fit on every row. The fit joins the pool as soon as the
        model's folds are all in (else, right after the pool's other jobs, in the same kind of worker), so it
        runs beside the other models' folds. Default None.

    Returns
    -------
    evaluation : Evaluation
        The cross-validation, the learning curve (None without ``curve_fractions``) and its seconds per model.

    Raises
    ------
    ValueError
        As :func:`cross_validate`; for invalid ``curve_fractions``; for a name in ``order`` or
        ``keep_estimators`` that is not a model.
    RuntimeError
        With ``errors="raise"``, when a fold fails; whenever a learning-curve fit fails (naming the model, the
        fold and the rows).
    """
    if target_type not in TARGET_TYPES:
        raise ValueError(f"The 'target_type' parameter must be one of {TARGET_TYPES}. Got {target_type!r} instead.")
    X, y = _check_xy(X, y, allow_nan=preprocessing is not None and preprocessing.impute, target_type=target_type)
    if errors not in ("raise", "record"):
        raise ValueError(f"The 'errors' parameter must be 'raise' or 'record'. Got {errors!r} instead.")
    _check_names("param_grids", param_grids or {}, models)
    kept = set(models) if keep_estimators is True else set(keep_estimators or ())
    _check_names("keep_estimators", kept, models)
    _check_names("order", order or (), models)
    refits = dict(refits or {})
    _check_names("refits", refits, models)
    fractions = _check_fractions(curve_fractions, "curve_fractions") if len(curve_fractions) else None
    splits = make_splits(len(y), cv=cv, n_splits=n_splits, random_state=random_state, groups=groups, split=split)
    fold_of_sample = np.full(len(y), -1, dtype=np.int64)
    for k, (_, test) in enumerate(splits):
        fold_of_sample[test] = k
    context = _FoldContext(X=X, y=y, groups=None if groups is None else np.asarray(groups),
                           split=None if split is None else np.asarray(split).astype(str),
                           preprocessing=preprocessing, inner_splits=inner_splits, random_state=random_state, cv=cv,
                           target_type=target_type, extend_edges=extend_edges)
    grids = {name: (param_grids or {}).get(name) for name in models}
    setups = {name: _ModelSetup.of(spec, y, target_type) for name, spec in models.items()}
    jobs = [_Job(("fold", name, k), _fold, (spec, train, test, context, grids[name], setups[name].classes,
                                            setups[name].probabilities), {"keep": name in kept}, len(train))
            for name, spec in models.items() for k, (train, test) in enumerate(splits)]
    sizes = None
    if fractions is not None:
        curve_jobs, sizes = _curve_jobs(models, splits, fractions, context)
        jobs += curve_jobs
    if n_jobs != 1:
        rank = {name: i for i, name in enumerate([*(order or ()), *[m for m in models if m not in (order or ())]])}
        jobs.sort(key=lambda job: (job.key[0] == "curve", rank[job.key[1]], -job.size))
    outcomes = {}

    def finished(name: str) -> ModelResult | None:  # (called by the pool's dispatching thread too)
        keys = [("fold", name, k) for k in range(len(splits))]
        if not all(key in outcomes for key in keys):
            return None
        return _model_result(name, splits, [outcomes[key] for key in keys], setups[name], grids[name],
                             name in kept, len(y), target_type)

    def consume(stream: Iterator[_Job]) -> None:
        with closing(_run(stream, n_jobs)) as done:
            for key, outcome in done:
                outcomes[key] = outcome
                _report(key, outcome, splits, sizes, target_type, errors)

    consume(_with_refits(jobs, refits, finished, context))
    if refits:  # not handed out before the pool ran dry
        consume(iter([_refit_job(name, make(finished(name)), context) for name, make in refits.items()]))
    results = {name: finished(name) for name in models}
    mad = float(np.mean(np.abs(y - y.mean()))) if target_type == "regression" else None
    result = CVResult(models=results, splits=splits, fold_of_sample=fold_of_sample, y=y, mad=mad, cv=cv,
                      target_type=target_type)
    fitted = {key[1]: outcome for key, outcome in outcomes.items() if key[0] == "refit"}
    evaluation = Evaluation(cv=result, refits={name: outcome.estimator for name, outcome in fitted.items()},
                            refit_seconds={name: outcome.seconds for name, outcome in fitted.items()})
    if fractions is not None:
        evaluation.curve, evaluation.curve_seconds = _assemble_curve(models, fractions, sizes, outcomes, target_type)
    return evaluation


def _with_refits(jobs: Sequence[_Job], refits: dict, finished: Callable[[str], ModelResult | None],
                 context: _FoldContext) -> Iterator[_Job]:
    """``jobs``, with the fit of each of ``refits`` put in before the next job once ``finished`` gives its model's
    result; those put in are removed from ``refits``. Never waits: a pool pulls its jobs from here."""
    for job in [*jobs, None]:
        for name in list(refits):
            result = finished(name)
            if result is not None:
                yield _refit_job(name, refits.pop(name)(result), context)
        if job is not None:
            yield job


def _refit_job(name: str, estimator, context: _FoldContext) -> _Job:
    return _Job(("refit", name), _refit, (estimator, context), {}, len(context.y))


def _refit(estimator, context: _FoldContext, portable=False) -> _FoldOutcome:
    """``estimator`` fitted on every row (``estimator``: the fitted estimator). An exception is returned, not
    raised (as :func:`_fold`)."""
    start = time.perf_counter()
    try:
        estimator = estimator.fit(context.X, context.y)
    except Exception as error:  # noqa: BLE001 -- raised by evaluate
        return _FoldOutcome(seconds=time.perf_counter() - start, error=_portable(error) if portable else error)
    return _FoldOutcome(seconds=time.perf_counter() - start, estimator=estimator)


def _check_names(parameter: str, names, models: Mapping[str, object]) -> None:
    unknown = sorted(set(names) - set(models))
    if unknown:
        raise ValueError(f"{parameter} names models {unknown} that are not in models {sorted(models)}.")


def _check_fractions(fractions, parameter: str = "fractions") -> np.ndarray:
    fractions = np.asarray(fractions, dtype=np.float64)
    if fractions.ndim != 1 or fractions.size == 0 or np.any((fractions <= 0) | (fractions > 1)):
        raise ValueError(f"The {parameter!r} parameter must be a non-empty list of numbers in (0, 1]. Got {fractions.tolist()}.")
    return fractions


@dataclass(frozen=True)
class _FoldContext:
    """What every fold fit of :func:`cross_validate` shares."""

    X: np.ndarray
    y: np.ndarray
    groups: np.ndarray | None
    split: np.ndarray | None
    preprocessing: Preprocessing | None
    inner_splits: int
    random_state: int
    cv: str
    target_type: str
    extend_edges: bool


@dataclass(frozen=True)
class _ModelSetup:
    """The classes (classification), whether probabilities are scored, and the metric names of one model."""

    classes: np.ndarray | None
    probabilities: bool
    names: list[str]

    @classmethod
    def of(cls, spec, y, target_type: str) -> "_ModelSetup":
        classes = np.unique(y) if target_type == "classification" else None
        probabilities = target_type == "classification" and hasattr(new_model(spec), "predict_proba")
        return cls(classes, probabilities, metric_names(target_type, probabilities, 0 if classes is None else len(classes)))


@dataclass(frozen=True)
class _Job:
    """One fit of :func:`evaluate`: ``function(*args, **kwargs)`` returns its :class:`_FoldOutcome`. ``key``:
    ("fold", model, fold) or ("curve", model, size index, fold); ``size``: its training rows (the pool starts
    the largest first)."""

    key: tuple
    function: Callable
    args: tuple
    kwargs: dict
    size: int


def _run(jobs: Iterable[_Job], n_jobs: int) -> Iterator[tuple[tuple, "_FoldOutcome"]]:
    """(key, outcome) of every job in the given order: run in this process (``n_jobs`` = 1), else from one
    joblib pool as soon as it and the jobs before it have finished (all at the end with a backend that cannot
    return them one by one). Closing the iterator early cancels the jobs not yet finished."""
    if n_jobs == 1:
        for job in jobs:
            yield job.key, job.function(*job.args, **job.kwargs)
        return
    try:
        parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    except ValueError:  # the backend returns lists only
        parallel = Parallel(n_jobs=n_jobs)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*tasks which were still being processed", category=UserWarning)
        yield from parallel(delayed(_pooled)(job.key, job.function, *job.args, **job.kwargs) for job in jobs)


def _pooled(key: tuple, function: Callable, *args, **kwargs) -> tuple[tuple, "_FoldOutcome"]:
    """A job in a pool worker: its key and outcome, the exception made portable, nested joblib loops sequential."""
    with parallel_config(backend="sequential"):
        return key, function(*args, portable=True, **kwargs)


def _report(key: tuple, outcome: "_FoldOutcome", splits, sizes, target_type: str, errors: str) -> None:
    """Log a finished fit; raise its error as a RuntimeError naming the model and fold (a fold with
    ``errors="record"``: a warning)."""
    kind, name, *index = key
    error = outcome.error
    if kind == "refit":
        if error is not None:
            raise RuntimeError(f"Model {name!r} failed when refitted on every row: {type(error).__name__}: "
                               f"{error}") from error
        logger.info("%s refitted on every row (%.2f s)", name, outcome.seconds)
        return
    k = index[-1]
    if kind == "curve":
        if error is not None:
            raise RuntimeError(f"Model {name!r} failed in the learning curve on {sizes[index[0], k]} training rows of "
                               f"fold {k}: {type(error).__name__}: {error}") from error
        return
    if error is not None:
        message = _failure(name, k, splits, error)
        if errors == "raise":
            raise RuntimeError(message) from error
        logger.warning(message)
        return
    headline = HEADLINE[target_type][0]
    logger.info("%s fold %d/%d: %s %.4g (%.2f s)%s", name, k + 1, len(splits), headline, outcome.scores[headline],
                outcome.seconds, f", tuned: {outcome.chosen}" if outcome.chosen else "")


def _failure(name: str, k: int, splits, error: BaseException) -> str:
    return f"Model {name!r} failed on fold {k} ({len(splits[k][0])} training rows): {type(error).__name__}: {error}"


def _model_result(name: str, splits, outcomes: Sequence["_FoldOutcome"], setup: _ModelSetup, grid, keep: bool,
                  n_samples: int, target_type: str) -> ModelResult:
    """One model's folds, in fold order, as a :class:`ModelResult` (a failed fold: NaN metrics, its message)."""
    n_folds = len(splits)
    fold_metrics = {metric: np.full(n_folds, np.nan) for metric in setup.names}
    oof = np.full(n_samples, np.nan) if target_type == "regression" else np.full(n_samples, "", dtype=object)
    seconds = np.array([outcome.seconds for outcome in outcomes], dtype=np.float64)
    best_params, searched_grids = ([], []) if grid else (None, None)
    messages, estimators = [], ([] if keep else None)
    for k, ((_, test), outcome) in enumerate(zip(splits, outcomes)):
        if outcome.error is not None:
            messages.append(_failure(name, k, splits, outcome.error))
            if best_params is not None:
                best_params.append({})
                searched_grids.append({})
            continue
        oof[test] = outcome.prediction
        for metric in setup.names:
            fold_metrics[metric][k] = outcome.scores.get(metric, np.nan)
        if best_params is not None:
            best_params.append(outcome.chosen)
            searched_grids.append(outcome.searched)
        if estimators is not None:
            estimators.append(outcome.estimator)
    return ModelResult(name=name, fold_metrics=fold_metrics, oof_prediction=oof, fit_seconds=seconds,
                       best_params=best_params, searched_grids=searched_grids, errors=messages,
                       estimators=estimators)


@dataclass
class _FoldOutcome:
    """One fold of one model: the fitted pipeline (when kept), its test predictions and scores, the tuned
    setting and grid, the seconds it took; or the exception that stopped it (``error``, everything else None).
    A learning-curve fit has its seconds and ``scores`` (the headline metric) only."""

    seconds: float
    estimator: object = None
    prediction: np.ndarray | None = None
    scores: dict | None = None
    chosen: dict | None = None
    searched: dict | None = None
    error: BaseException | None = None


def _fold(spec, train, test, context: _FoldContext, grid, classes, probabilities, portable=False,
          keep=True) -> _FoldOutcome:
    """Fit one fold (:func:`_fit_fold`) and score it on its test rows. An exception is returned, not raised;
    ``portable``: as one that survives pickling (:func:`_portable`), to cross a process boundary; ``keep``:
    return the fitted pipeline too."""
    X, y, target_type = context.X, context.y, context.target_type
    start = time.perf_counter()
    try:
        estimator, chosen, searched = _fit_fold(spec, train, context, grid)
        estimator = serial_prediction(estimator)
        prediction = np.asarray(estimator.predict(X[test]))
        if target_type == "regression":
            prediction = prediction.astype(np.float64).ravel()
            if not np.all(np.isfinite(prediction)):
                raise FloatingPointError(f"{np.sum(~np.isfinite(prediction))} of {len(test)} predictions are "
                                         f"NaN or inf (diverged?)")
        proba = _aligned_proba(estimator, X[test], classes) if probabilities else None
        scores = fold_scores(target_type, y[test], prediction, proba, classes)
    except Exception as error:  # noqa: BLE001 -- raised or recorded by evaluate (errors=...)
        return _FoldOutcome(seconds=time.perf_counter() - start, error=_portable(error) if portable else error)
    return _FoldOutcome(seconds=time.perf_counter() - start, estimator=estimator if keep else None,
                        prediction=prediction, scores=scores, chosen=chosen, searched=searched)


def _curve_fit(spec, rows, test, context: _FoldContext, portable=False) -> _FoldOutcome:
    """One point of a learning curve: a fresh untuned pipeline fitted on ``rows``, its headline metric on
    ``test``. An exception is returned, not raised (as :func:`_fold`)."""
    X, y, target_type = context.X, context.y, context.target_type
    metric = HEADLINE[target_type][0]
    start = time.perf_counter()
    try:
        pipeline = serial_prediction(make_pipeline(new_model(spec), context.preprocessing).fit(X[rows], y[rows]))
        score = fold_scores(target_type, y[test], pipeline.predict(X[test]))[metric]
    except Exception as error:  # noqa: BLE001 -- raised by evaluate or learning_curve
        return _FoldOutcome(seconds=time.perf_counter() - start, error=_portable(error) if portable else error)
    return _FoldOutcome(seconds=time.perf_counter() - start, scores={metric: score})


def _curve_jobs(models: Mapping[str, object], splits, fractions: np.ndarray,
                context: _FoldContext) -> tuple[list[_Job], np.ndarray]:
    """The learning-curve fits (model by model, fold by fold, size by size) and their training sizes, shape
    (n_sizes, n_folds): within a fold the first m rows of one permutation of its training rows, drawn from
    ``default_rng(random_state)``, so a curve differs between sizes only by the added data."""
    rng = as_generator(context.random_state)
    orders = [rng.permutation(train) for train, _ in splits]
    sizes = np.array([[max(2, int(round(f * len(train)))) for train, _ in splits] for f in fractions])
    jobs = [_Job(("curve", name, i, k), _curve_fit, (spec, orders[k][:sizes[i, k]], test, context), {},
                 int(sizes[i, k]))
            for name, spec in models.items() for k, (_, test) in enumerate(splits) for i in range(len(fractions))]
    return jobs, sizes


def _assemble_curve(models, fractions: np.ndarray, sizes: np.ndarray, outcomes: Mapping[tuple, _FoldOutcome],
                    target_type: str) -> tuple[LearningCurve, dict[str, float]]:
    """The :class:`LearningCurve` of the finished curve fits and each model's summed seconds; one log line per
    model."""
    metric = HEADLINE[target_type][0]
    scores, seconds = {}, {}
    for name in models:
        points = [[outcomes["curve", name, i, k] for k in range(sizes.shape[1])] for i in range(len(fractions))]
        scores[name] = np.array([[point.scores[metric] for point in row] for row in points], dtype=np.float64)
        seconds[name] = float(sum(point.seconds for row in points for point in row))
        logger.info("learning curve %s: %s %s", name, metric, np.round(scores[name].mean(axis=1), 4).tolist())
    return LearningCurve(fractions=fractions, train_sizes=sizes.mean(axis=1), scores=scores, metric=metric), seconds


def _portable(error: Exception) -> Exception:
    """``error`` if it survives pickling, else its nearest built-in base class with the same message (e.g. a
    TrainingDivergedError, whose constructor needs its history, becomes a FloatingPointError)."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:  # noqa: BLE001 -- any failure to pickle or to rebuild
        base = next(kind for kind in type(error).__mro__ if kind.__module__ == "builtins")
        return base(f"{type(error).__name__}: {error}")


def _aligned_proba(estimator, X, classes) -> np.ndarray:
    """``predict_proba`` with one column per class of the whole data (a class absent from a training fold gets
    probability 0), shape (n, n_classes)."""
    proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
    fitted = list(getattr(estimator, "classes_", classes))
    out = np.zeros((len(X), len(classes)))
    for j, label in enumerate(fitted):
        out[:, int(np.searchsorted(classes, label))] = proba[:, j]
    return out


def _fit_fold(spec, train, context: _FoldContext, grid) -> tuple[object, dict, dict]:
    """A fresh pipeline fitted on the training rows only, the tuned setting ({} without a grid) and the grid
    searched (extended, see :func:`tune`): each candidate is scored on the inner split of the training rows
    (with one ensemble member), then the chosen one is refitted on every training row."""
    X, y = context.X[train], context.y[train]
    pipeline = make_pipeline(new_model(spec), context.preprocessing)
    if not grid:
        return pipeline.fit(X, y), {}, {}
    inner, inner_groups = inner_splitter(context.cv, context.inner_splits, context.random_state,
                                         None if context.groups is None else context.groups[train],
                                         None if context.split is None else context.split[train])
    chosen, searched = tune(pipeline, {f"model__{key}": list(values) for key, values in grid.items()}, X, y,
                            inner, inner_groups, HEADLINE[context.target_type][1], context.extend_edges)
    strip = lambda params: {key.removeprefix("model__"): value for key, value in params.items()}  # noqa: E731
    return pipeline.set_params(**chosen).fit(X, y), strip(chosen), strip(searched)


def tune(pipeline, grid: Mapping[str, list], X, y, inner, inner_groups, scoring: str,
         extend_edges: bool) -> tuple[dict, dict]:
    """Grid search of ``pipeline`` (its seed ensembles with one member) on the inner split.

    With ``extend_edges``, a parameter whose best value is an end of its numeric grid is searched once more one
    step beyond that end (:func:`physics.materials.comparison.extend_hit_edges`; the other parameters at their
    chosen values), and the better setting kept. An extended value the model refuses (e.g. a fraction above 1)
    is dropped with a warning.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        The unfitted pipeline (not modified; a one-member clone is searched).
    grid : Mapping of str to list
        Pipeline parameter name (e.g. ``"model__alpha"``) -> candidate values.
    X : ndarray of float
        Shape (n_train, n_features). The training rows.
    y : ndarray
        Shape (n_train,). Their target or labels.
    inner : sklearn cross-validator
        The inner splitter (:func:`inner_splitter`).
    inner_groups : ndarray or None
        Shape (n_train,). Groups passed to ``inner`` (None when ungrouped).
    scoring : str
        scikit-learn scorer name, higher is better (e.g. "neg_mean_absolute_error").
    extend_edges : bool
        Whether to search one step beyond a chosen grid end.

    Returns
    -------
    chosen : dict
        The best setting, pipeline parameter name -> value.
    searched : dict of str to list
        The values searched per parameter (sorted, extended where an extension was scored).

    Raises
    ------
    Exception
        Whatever a candidate of the original grid raises when it fails to fit (``error_score="raise"``).
    """
    from physics.materials.comparison import extend_hit_edges

    model = single_member(pipeline)
    search = GridSearchCV(model, grid, scoring=scoring, cv=inner, refit=False, error_score="raise")
    search.fit(X, y, groups=inner_groups)
    chosen, best = dict(search.best_params_), float(search.best_score_)
    searched = {key: list(values) for key, values in grid.items()}
    if not extend_edges:
        return chosen, searched
    extended = extend_hit_edges(grid, [chosen])
    for key in grid:
        new = [value for value in extended[key] if value not in grid[key]]
        if not new:
            continue
        candidates = {**{other: [chosen[other]] for other in grid}, key: new}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitFailedWarning)
            extra = GridSearchCV(model, candidates, scoring=scoring, cv=inner, refit=False, error_score=np.nan)
            try:
                extra.fit(X, y, groups=inner_groups)
                results = zip(extra.cv_results_["params"], extra.cv_results_["mean_test_score"])
            except ValueError as error:  # scikit-learn raises when every fit failed (e.g. max_features=2.0)
                if "fits failed" not in str(error):
                    raise
                results = [({**{other: chosen[other] for other in grid}, key: value}, np.nan) for value in new]
        for params, score in results:
            score = float(score)
            if not np.isfinite(score):
                logger.warning("tuning: %s=%r was refused by the model; the grid is not extended there",
                               key.removeprefix("model__"), params[key])
                continue
            searched[key] = sorted({*searched[key], params[key]})
            if score > best:
                chosen, best = dict(params), float(score)
    return chosen, searched


def single_member(estimator):
    """A clone of ``estimator`` whose seed ensembles (any nested ``n_members`` parameter) have one member.

    Parameters
    ----------
    estimator : estimator
        A scikit-learn estimator or pipeline (not modified).

    Returns
    -------
    clone : estimator
        Unfitted clone with every ``n_members`` parameter set to 1.
    """
    estimator = clone(estimator)
    members = {key: 1 for key in estimator.get_params(deep=True) if key.split("__")[-1] == "n_members"}
    return estimator.set_params(**members) if members else estimator


def new_model(spec):
    """A fresh unfitted model: ``clone(spec)`` for an estimator, ``spec()`` for a factory.

    Parameters
    ----------
    spec : estimator or callable
        An estimator with ``fit`` (cloned) or a zero-argument factory returning one with ``fit`` and
        ``predict``.

    Returns
    -------
    model : estimator
        The fresh, unfitted model.

    Raises
    ------
    TypeError
        When ``spec`` cannot be cloned, is neither an estimator nor callable, or the factory returns no model.
    """
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
    """The headline metric against training-set size, on the folds of the evaluation.

    Attributes
    ----------
    fractions : ndarray of float64
        Shape (n_sizes,). Fraction of each training fold used.
    train_sizes : ndarray of float64
        Shape (n_sizes,). Mean number of training rows over the folds.
    scores : dict of str to ndarray
        Model name -> test-fold ``metric`` of shape (n_sizes, n_folds).
    metric : str
        "mae" (regression) or "balanced_accuracy" (classification).
    """

    fractions: np.ndarray
    train_sizes: np.ndarray
    scores: dict[str, np.ndarray]
    metric: str = "mae"

    def mean(self, name: str) -> np.ndarray:
        """Mean over folds.

        Parameters
        ----------
        name : str
            A model name, a key of :attr:`scores`.

        Returns
        -------
        mean : ndarray of float64
            Shape (n_sizes,).
        """
        return self.scores[name].mean(axis=1)

    def std(self, name: str) -> np.ndarray:
        """Standard deviation over folds (ddof=0).

        Parameters
        ----------
        name : str
            A model name, a key of :attr:`scores`.

        Returns
        -------
        std : ndarray of float64
            Shape (n_sizes,).
        """
        return self.scores[name].std(axis=1)


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
    split=None,
    preprocessing: Preprocessing | None = Preprocessing(),
    target_type: str = "regression",
) -> LearningCurve:
    """Test-fold headline metric of every model trained on growing subsets of each training fold (untuned).

    The folds are those of :func:`cross_validate` with the same ``cv``, ``n_splits``, ``random_state``,
    ``groups`` and ``split``. Within a fold the subsets are nested (the first m rows of one random permutation
    drawn from ``default_rng(random_state)``), so a curve differs between sizes only by the added data.

    Parameters
    ----------
    models : Mapping of str to estimator or callable
        Model name -> scikit-learn-style estimator (cloned per fit) or zero-argument factory.
    X : array_like of float
        Shape (n_samples, n_features). Descriptors; no inf, NaN allowed only when ``preprocessing.impute``.
    y : array_like
        Shape (n_samples,). Finite target (regression) or labels (classification).
    fractions : sequence of float, optional
        Non-empty, each in (0, 1]. Fractions of each training fold to train on (at least 2 rows). Default
        ``(0.1, 0.2, 0.4, 0.7, 1.0)``.
    cv : {"kfold", "group", "logo", "split"}, optional
        The splitter (module docstring). Default "kfold".
    n_splits : int, optional
        >= 2. Number of folds of ``cv="kfold"`` and ``cv="group"``; unused by "logo" and "split". Default 5.
    random_state : int, optional
        Seed of the shuffled splitters. Default 0.
    groups : array_like or None, optional
        Shape (n_samples,). Group label of each sample (e.g. the chemical system); required by ``cv="group"``
        and ``cv="logo"``, else unused. Default None.
    split : array_like of str or None, optional
        Shape (n_samples,). "train", "val" or "test" per sample; required by ``cv="split"``, else unused.
        Default None.
    preprocessing : Preprocessing or None, optional
        The preprocessing fitted per fit (default ``Preprocessing()``); None for raw features.
    target_type : {"regression", "classification"}, optional
        Selects the headline metric. Default "regression".

    Returns
    -------
    curve : LearningCurve
        Test-fold headline metric per model, size and fold.

    Raises
    ------
    ValueError
        For invalid ``fractions``, mis-shaped or non-finite ``X``/``y``, or an invalid splitter setting
        (:func:`make_splits`).
    """
    X, y = _check_xy(X, y, allow_nan=preprocessing is not None and preprocessing.impute, target_type=target_type)
    fractions = _check_fractions(fractions)
    splits = make_splits(len(y), cv=cv, n_splits=n_splits, random_state=random_state, groups=groups, split=split)
    context = _FoldContext(X=X, y=y, groups=None, split=None, preprocessing=preprocessing, inner_splits=1,
                           random_state=random_state, cv=cv, target_type=target_type, extend_edges=False)
    jobs, sizes = _curve_jobs(models, splits, fractions, context)
    outcomes = {}
    for key, outcome in _run(jobs, 1):
        if outcome.error is not None:
            raise outcome.error
        outcomes[key] = outcome
    return _assemble_curve(models, fractions, sizes, outcomes, target_type)[0]


def _check_xy(X, y, *, allow_nan: bool, target_type: str = "regression") -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features). Got shape {X.shape}.")
    if target_type == "classification":
        y = np.asarray(y).astype(str).astype(object)
    else:
        y = np.asarray(y, dtype=np.float64)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X. Got {y.shape}.")
    if target_type == "regression" and not np.all(np.isfinite(y)):
        raise ValueError(f"y must be finite. Got {np.sum(~np.isfinite(y))} NaN/inf values.")
    if np.any(np.isinf(X)) or (not allow_nan and np.any(np.isnan(X))):
        raise ValueError("X has inf values, or NaN values while preprocessing does not impute them.")
    return X, y
