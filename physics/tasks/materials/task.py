"""``task=materials``: regress a material property from composition, with honest cross-validation.

Data: the built-in Miedema formation enthalpies of random binary alloys (``task.dataset=miedema``, drawn from
the "data" stream of the seed) or a CSV file of formulas and a numeric target (``task.dataset=csv``; bad rows
stop the run before any training unless ``task.skip_bad_rows``). Features: the 132 Magpie descriptors
(+ 103 element fractions with ``task.element_fractions``). Every model -- the numpy network (``model=mlp``,
built by :func:`physics.app.training.network_estimator` like in every task: an MLP on however many descriptors
survive each fold's variance filter) and the baselines of ``conf/baseline/materials.yaml`` -- is
cross-validated on the same folds (``task.cv=kfold``: shuffled k-fold; ``group``: no chemical system in two
folds), each fold fitting imputation, variance filter, standardisation, z-score clipping and the target scaling
on its training rows only (:mod:`physics.materials.evaluation`). Every fold's network starts from the same
initial weights (the "network" stream of the seed) and draws the same minibatches (the "training" stream).
Baselines named in ``task.param_grids`` are tuned by grid search inside each training fold.

Metrics (flat keys): ``models.<name>.{mae_mean, mae_std, rmse_mean, rmse_std, r2_mean, r2_std, max_error_mean,
max_error_std, mae_over_mad, fit_seconds_mean, ...}`` for every model (the network as ``models.network``),
``best_model``, ``network.*``, ``dataset.*``, ``cv.*``, ``learning_curve.*``, ``seconds.*``.

Objective (``task.objective``, minimised): ``cv_mae`` (default), the network's cross-validated MAE
``models.network.mae_mean``, or ``cv_rmse``, its RMSE ``models.network.rmse_mean``. Both are out-of-fold errors:
every sample is predicted by a network that never saw it, and no separate test set exists, so tuning the
network's settings on them is honest model selection (report the tuned error on new data, e.g. another seed's
alloys or ``task.cv=group``, to measure generalisation beyond the selection).

Files: ``oof_predictions.csv`` (every sample's out-of-fold prediction by every model, with its fold,
composition and chemical system), ``models.csv``, ``learning_curve.csv``, ``figures/{parity, residuals,
learning_curve, model_comparison, loss}.png``, and the network -- trained on all samples (``task.refit``,
default) or the last fold's -- as ``model.npz/.json`` + ``predictor.json``
(:func:`physics.tasks.materials.predictor.load_predictor`).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.preprocessing import StandardScaler

from physics.app.baselines import build_baselines
from physics.app.io import write_csv
from physics.app.result import TaskResult
from physics.app.schema import AppConfig, ConfigError
from physics.app.seeding import generator, integer_seed
from physics.app.training import network_estimator, stage
from physics.materials.dataset import MaterialsDataset, load_csv, miedema_dataset
from physics.materials.evaluation import (CVResult, Preprocessing, cross_validate, learning_curve, make_pipeline,
                                          make_splits)
from physics.tasks.materials import figures
from physics.tasks.materials.config import OBJECTIVES, PREDICTION_PREFIX, Config
from physics.tasks.materials.predictor import fitted_network, save_predictor

log = logging.getLogger(__name__)

#: errors raised inside a fold that are the user's (bad values, diverged training), re-raised as themselves
_USER_ERRORS = (FloatingPointError, ValueError, TypeError)


def load_data(task: Config, seed: int) -> MaterialsDataset:
    """The task's dataset: Miedema alloys from the seed's "data" stream, or the CSV file."""
    if task.dataset == "csv":
        try:
            return load_csv(task.csv_path, task.composition_column, task.target_column,
                            skip_bad_rows=task.skip_bad_rows, delimiter=task.delimiter)
        except ValueError as error:  # name the config key, not load_csv's argument
            raise ValueError(str(error).replace("pass skip_bad_rows=True", "set task.skip_bad_rows=true")) from None
    return miedema_dataset(task.n_samples, generator(seed, "data"), elements=task.elements,
                           structure=task.structure, noise=task.noise)


def build_models(config: AppConfig) -> dict:
    """The network first, then the baselines; each learns the standardised target if ``task.scale_target``."""
    network = network_estimator(config, "regressor", None, description="materials network")
    models = {"network": network, **build_baselines(config.baseline, config.seed)}
    if config.task.scale_target:
        models = {name: TransformedTargetRegressor(regressor=model, transformer=StandardScaler())
                  for name, model in models.items()}
    return models


def _cv_settings(task: Config, seed: int, data: MaterialsDataset) -> dict:
    """Splitter arguments shared by cross-validation and learning curve; checks they fit the data."""
    settings = dict(cv=task.cv, n_splits=task.n_splits, groups=data.groups,
                    random_state=integer_seed(seed, "cv") if task.cv_random_state is None else task.cv_random_state)
    try:
        make_splits(len(data), **settings)
    except ValueError as error:
        raise ConfigError("task.n_splits", f"{error} (dataset of {len(data)} samples, "
                                           f"{len(np.unique(data.groups))} chemical systems)") from None
    return settings


def _cross_validate(name: str, model, X, y, settings: dict, preprocessing, task: Config) -> CVResult:
    """``cross_validate`` of one model; a user error inside a fold (diverged network, bad baseline value)
    comes out as its own type, with the model and fold named."""
    grid = task.param_grids.get(name)
    if grid and task.scale_target:
        grid = {f"regressor__{key}": values for key, values in grid.items()}
    try:
        return cross_validate({name: model}, X, y, preprocessing=preprocessing, keep_estimators=name == "network",
                              param_grids={name: grid} if grid else None, inner_splits=task.inner_splits,
                              **settings)
    except RuntimeError as error:
        cause = error.__cause__
        for kind in _USER_ERRORS:
            if isinstance(cause, kind):
                raise kind(str(error)) from cause
        raise


def run(config: AppConfig, run_dir: Path) -> TaskResult:
    """Load the data, cross-validate every model on the same folds, train the final network, write the files."""
    task: Config = config.task
    timings: dict[str, float] = {}

    with stage("data", timings):
        data = load_data(task, config.seed)
        settings = _cv_settings(task, config.seed, data)
        descriptor_options = {"element_fractions": task.element_fractions, "missing": task.missing}
        features = data.features(**descriptor_options)
        X, y = features.values, data.target
        log.info("%d samples of %s (%s), %d descriptors%s; %s", len(data), data.target_name, data.units or "no units",
                 X.shape[1], f", {len(data.skipped)} bad rows skipped" if data.skipped else "", data.source)
    preprocessing = Preprocessing(impute=True, variance_threshold=task.variance_threshold,
                                  standardize=task.standardize, clip_z=task.clip_z)
    models = build_models(config)

    results = {}
    for name, model in models.items():
        with stage(f"cross-validation {name}", timings):
            results[name] = _cross_validate(name, model, X, y, settings, preprocessing, task)
    cv = CVResult(models={name: result.models[name] for name, result in results.items()},
                  **{key: getattr(results["network"], key) for key in ("splits", "fold_of_sample", "y", "mad", "cv")})
    summary = _summary(cv)

    train_sizes, curve = None, {}
    if task.learning_curve:
        for name, model in models.items():
            with stage(f"learning curve {name}", timings):
                part = learning_curve({name: model}, X, y, fractions=sorted(task.learning_curve),
                                      preprocessing=preprocessing, **settings)
            # the full training folds are the cross-validation's own fits: reuse them
            curve[name] = np.vstack([part.mae[name], cv.models[name].fold_metrics["mae"]])
        train_sizes = np.append(part.train_sizes, np.mean([len(train) for train, _ in cv.splits]))

    with stage("final network", timings):
        if task.refit:
            final = make_pipeline(models["network"], preprocessing).fit(X, y)
            trained_on = f"all {len(y)} samples"
        else:
            final = cv.models["network"].estimators[-1]
            trained_on = f"the training rows of fold {len(cv.splits)} of {len(cv.splits)}"
        save_predictor(final, run_dir, feature_names=features.names, descriptor_options=descriptor_options,
                       target_name=data.target_name, units=data.units, trained_on=trained_on)
        history = fitted_network(final).history_

    with stage("figures and tables", timings):
        _write_tables(run_dir, data, cv, summary, train_sizes, curve)
        figures.cross_validation(run_dir / "figures", data, cv, train_sizes, curve, task.cv)
        figures.loss(history, run_dir / "figures" / "loss.png", label=f"network ({trained_on})",
                     target="standardised target" if task.scale_target else data.units or "target units")

    best = min(summary, key=lambda name: summary[name]["mae_mean"])
    log.info("lowest cross-validated MAE: %s (%.4g %s)", best, summary[best]["mae_mean"], data.units)
    epochs = [len(fitted_network(estimator).history_.loss) for estimator in cv.models["network"].estimators]
    objective = OBJECTIVES[task.objective]
    return TaskResult(
        objective=summary["network"][objective.rsplit(".", 1)[1]], objective_name=objective, direction="minimize",
        metrics={"best_model": best, "models": summary,
                 "network": {"epochs_per_fold": epochs, "final_trained_on": trained_on,
                             "final_epochs": len(history.loss)},
                 "dataset": {"name": task.dataset, "n_samples": len(y), "n_features": X.shape[1],
                             "n_skipped_rows": len(data.skipped), "target": data.target_name, "units": data.units,
                             "target_mad": cv.mad, "n_chemical_systems": int(len(np.unique(data.groups)))},
                 "cv": {"kind": task.cv, "n_splits": len(cv.splits), "random_state": settings["random_state"]},
                 "learning_curve": {"train_sizes": [] if train_sizes is None else train_sizes.tolist(),
                                    **{name: scores.mean(axis=1).tolist() for name, scores in curve.items()}}},
        timings=timings)


def _summary(cv: CVResult) -> dict:
    """``cv.summary()`` with each model's total fit time and, for tuned models, the parameters chosen per
    fold; one log line per model."""
    summary = cv.summary()
    for name, scores in summary.items():
        result = cv.models[name]
        scores["fit_seconds_total"] = float(result.fit_seconds.sum())
        if result.best_params is not None:  # tuned inside each training fold
            scores["best_params"] = [{key.removeprefix("regressor__"): value for key, value in params.items()}
                                     for params in result.best_params]
        log.info("%-15s MAE %.4g ± %.2g  RMSE %.4g  R² %.4f  MAE/MAD %.3f  (%.1f s)", name, scores["mae_mean"],
                 scores["mae_std"], scores["rmse_mean"], scores["r2_mean"], scores["mae_over_mad"],
                 scores["fit_seconds_total"])
    return summary


def _write_tables(run_dir: Path, data: MaterialsDataset, cv: CVResult, summary: dict, train_sizes,
                  curve: dict) -> None:
    """oof_predictions.csv, models.csv and learning_curve.csv."""
    oof = {name: result.oof_prediction for name, result in cv.models.items()}
    rows = []
    for i, formula in enumerate(data.formulas):
        row = {"index": i, "composition": formula, "chemical_system": data.groups[i],
               "fold": int(cv.fold_of_sample[i]) + 1}
        if data.line_numbers is not None:
            row["csv_line"] = int(data.line_numbers[i])
        if data.target_name in row or data.target_name.startswith(PREDICTION_PREFIX):  # refused at validation
            raise ValueError(f"The target {data.target_name!r} would overwrite a column of oof_predictions.csv.")
        row[data.target_name] = float(data.target[i])
        row.update({f"predicted_{name}": float(prediction[i]) for name, prediction in oof.items()})
        rows.append(row)
    write_csv(run_dir / "oof_predictions.csv", rows)
    write_csv(run_dir / "models.csv", [{"model": name, **scores} for name, scores in summary.items()])
    if curve:
        write_csv(run_dir / "learning_curve.csv",
                  [{"train_size": float(size), **{f"{name}_mae_mean": float(scores[i].mean()) for name, scores in
                                                  curve.items()},
                    **{f"{name}_mae_std": float(scores[i].std()) for name, scores in curve.items()}}
                   for i, size in enumerate(train_sizes)])
