"""``task=materials``: a material property from composition, the numpy network against scikit-learn baselines.

Data (``task.dataset``): Miedema formation enthalpies of generated binary alloys (``miedema``, from the "data"
stream of the seed); the published AFLOW sets with their benchmark split (``aflow_bulk_modulus``,
``aflow_band_gap``, ``aflow_metal``: :mod:`physics.materials.builtin`); or a CSV file (``csv``; bad rows stop
the run before any training unless ``task.skip_bad_rows``). Features: the 132 Magpie descriptors (+ 103 element
fractions with ``task.element_fractions``). Regression, or classification of labels (``aflow_metal``,
``task.target_type=classification``).

Evaluation (``task.cv``): every model -- the numpy network (``model=mlp``, built by
:func:`physics.app.training.network_estimator` like in every task; the mean of ``task.ensemble_size`` networks
from different seeds) and the baselines of ``conf/baseline/materials.yaml`` (or ``materials_classifiers``) --
is evaluated on the same folds: ``group`` (default; no chemical system in two folds), ``kfold``, or ``split``
(the dataset's train / val / test split: tuned on val, refitted on train + val, tested once on test). Each
fold fits imputation, variance filter, standardisation, z-score clipping and the target transformation on its
training rows only (:mod:`physics.materials.evaluation`). Every model is tuned the same way inside the
training rows (:mod:`physics.materials.tuning`), and every baseline is compared with the network by a paired
test (:mod:`physics.materials.comparison`: Nadeau-Bengio over folds, or a paired t-test over the test rows of
a split). Before the first fit, :func:`physics.tasks.materials.stages.plan` checks that every stage has the data
it needs. Every fit -- each model's folds, the learning curve, the network refitted on all rows -- is a job of
one pool of ``parallel.n_jobs`` workers, the longest first (:func:`physics.materials.evaluation.evaluate`).

Metrics (flat keys): ``models.<name>.{mae_mean, mae_std, rmse_mean, r2_mean, ..., best_params}`` for every
model (classification: ``accuracy``, ``balanced_accuracy``, ``f1_macro``, ``log_loss``, ``roc_auc``),
``comparison.<baseline>.*`` (network - baseline, with its interval and p-value), ``tuning.*``, ``published.*``
(a built-in set's published test MAEs), ``network.*``, ``dataset.*``, ``cv.*``, ``learning_curve.*``,
``stages.skipped.*``, ``seconds.*`` (wall time per stage; ``seconds.<fits> (worker s)``: one model's share of the
pool's work).

Objective (``task.objective``, minimised): ``cv_mae`` (default) or ``cv_rmse`` of the network, or
``cv_balanced_error`` (1 - balanced accuracy) for classification: test-fold values, mean over folds.

Files: ``oof_predictions.csv`` (every test sample's prediction by every model, with its fold, split,
composition and chemical system), ``models.csv``, ``comparison.csv``, ``learning_curve.csv``,
``figures/{parity, residuals | confusion, model_comparison, paired_differences, learning_curve, loss}.png``, and
the network -- refitted on every training row (``task.refit``), or the last fold's -- as ``model*.npz/.json`` +
``predictor.json`` (:func:`physics.tasks.materials.predictor.load_predictor`).
"""
from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from core.ensemble import SeedEnsembleClassifier, SeedEnsembleRegressor
from physics.app.baselines import build_baselines
from physics.app.io import write_csv
from physics.app.result import TaskResult
from physics.app.schema import AppConfig, ConfigError
from physics.app.seeding import generator, integer_seed
from physics.app.training import network_estimator, stage
from physics.materials import comparison
from physics.materials.builtin import BUILTIN_DATASETS, builtin_dataset
from physics.materials.dataset import MaterialsDataset, load_csv, miedema_dataset
from physics.materials.evaluation import (HEADLINE, CVResult, Evaluation, ModelResult, Preprocessing, evaluate,
                                          make_pipeline, make_splits, per_sample_loss)
from physics.tasks.materials import figures, stages, tuning
from physics.tasks.materials.config import DELIMITER_NAMES, OBJECTIVES, PREDICTION_PREFIX, Config
from physics.tasks.materials.predictor import fitted_network, save_predictor

log = logging.getLogger(__name__)

#: suffix of the ``seconds.*`` entries that sum one model's fits in the evaluation pool (work, not wall time)
WORKER_SECONDS = " (worker s)"
#: errors raised inside a fold that are the user's (bad values, diverged training), re-raised as themselves
_USER_ERRORS = (FloatingPointError, ValueError, TypeError)
#: load_csv's advice -> the config key that follows it
_KEYS = {"pass skip_bad_rows=True": "set task.skip_bad_rows=true",
         "pass delimiter='\\t'": "set task.delimiter=tab", "pass delimiter=": "set task.delimiter=",
         "pass target_type='classification'": "set task.target_type=classification"}


def load_data(task: Config, seed: int) -> MaterialsDataset:
    """The task's dataset (:func:`read_data`), reduced to ``task.subsample`` rows if set."""
    data = read_data(task, seed)
    if task.subsample is None or task.subsample >= len(data):
        return data
    return subsample(data, task.subsample, generator(seed, "subsample"))


def subsample(data: MaterialsDataset, n: int, rng: np.random.Generator) -> MaterialsDataset:
    """``n`` rows drawn without replacement, each split (or the whole set) in proportion to its size (at least
    one row of each), in their original order."""
    labels = data.split if data.split is not None else np.zeros(len(data), dtype=int)
    keep = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        share = max(1, round(n * len(rows) / len(data)))
        keep.append(rng.choice(rows, size=min(share, len(rows)), replace=False))
    keep = np.sort(np.concatenate(keep))
    pick = lambda values: None if values is None else np.asarray(values)[keep]  # noqa: E731
    return dataclasses.replace(data, formulas=tuple(data.formulas[i] for i in keep), target=data.target[keep],
                               groups=data.groups[keep], line_numbers=pick(data.line_numbers), split=pick(data.split),
                               source=f"{data.source}, {len(keep)} of {len(data)} rows (task.subsample)")


def read_data(task: Config, seed: int) -> MaterialsDataset:
    """The task's dataset: Miedema alloys from the seed's "data" stream, a built-in set, or the CSV file."""
    if task.dataset == "csv":
        try:
            return load_csv(task.csv_path, task.composition_column, task.target_column,
                            skip_bad_rows=task.skip_bad_rows, delimiter=DELIMITER_NAMES.get(task.delimiter,
                                                                                          task.delimiter),
                            split_column=task.split_column, target_type=task.kind)
        except ValueError as error:  # name the config key, not load_csv's argument
            message = str(error)
            for advice, key in _KEYS.items():
                message = message.replace(advice, key)
            raise ValueError(message) from None
    if task.dataset in BUILTIN_DATASETS:
        return builtin_dataset(task.dataset)
    return miedema_dataset(task.n_samples, generator(seed, "data"), elements=task.elements,
                           structure=task.structure, noise=task.noise)


def _check_target(task: Config, data: MaterialsDataset) -> None:
    if task.kind == "regression" and task.target_transform == "log" and np.any(data.target <= 0):
        raise ConfigError("task.target_transform", f"log needs positive targets; {int(np.sum(data.target <= 0))} "
                                                   f"of {len(data)} are <= 0. Use task.target_transform=none.")


def build_models(config: AppConfig, n_classes: int = 0) -> dict:
    """The network first, then the baselines; regression targets transformed as the task says."""
    task: Config = config.task
    if task.kind == "classification":
        network = network_estimator(config, "classifier", None, n_classes, description="materials network")
        ensemble = SeedEnsembleClassifier
    else:
        network = network_estimator(config, "regressor", None, description="materials network")
        network.set_params(loss=task.loss)
        ensemble = SeedEnsembleRegressor
    if task.ensemble_size > 1:
        network = ensemble(network, n_members=task.ensemble_size, random_state=integer_seed(config.seed, "ensemble"))
    models = {"network": network, **build_baselines(config.baseline, config.seed)}
    transformer = _target_transformer(task)
    if transformer is not None:
        models = {name: TransformedTargetRegressor(regressor=model, transformer=transformer)
                  for name, model in models.items()}
    return models


def _target_transformer(task: Config):
    if task.kind == "classification":
        return None
    steps = []
    if task.target_transform == "log":
        steps.append(("log", FunctionTransformer(np.log, np.exp, check_inverse=False)))
    if task.scale_target:
        steps.append(("scale", StandardScaler()))
    if not steps:
        return None
    return steps[0][1] if len(steps) == 1 else Pipeline(steps)


def _settings(task: Config, seed: int, data: MaterialsDataset) -> tuple[dict, list]:
    """Splitter arguments shared by the evaluation and the learning curve, and the splits they make (a
    ConfigError naming the key when they do not fit the data)."""
    settings = dict(cv=task.cv, n_splits=task.n_splits, groups=data.groups, split=data.split,
                    random_state=integer_seed(seed, "cv") if task.cv_random_state is None else task.cv_random_state)
    try:
        splits = make_splits(len(data), **settings)
    except ValueError as error:
        key = "task.dataset" if task.cv == "split" else "task.n_splits"
        raise ConfigError(key, f"{error} (dataset of {len(data)} samples, "
                               f"{len(np.unique(data.groups))} chemical systems)") from None
    return settings, splits


#: typical seconds of one tuned fold on the default data, by estimator class (a baseline of another class counts
#: as DEFAULT_FOLD_SECONDS): the evaluation pool starts the longest folds first
FOLD_SECONDS = {"RandomForestRegressor": 18.0, "RandomForestClassifier": 18.0, "ExtraTreesRegressor": 18.0,
                "NetRegressor": 14.0, "NetClassifier": 14.0, "MLPRegressor": 8.0, "MLPClassifier": 8.0,
                "KernelRidge": 4.0, "Ridge": 0.2, "LogisticRegression": 0.5, "DummyRegressor": 0.03,
                "DummyClassifier": 0.03}
DEFAULT_FOLD_SECONDS = 5.0


def longest_first(models: dict) -> list[str]:
    """Model names by decreasing :data:`FOLD_SECONDS` of their estimator (ties: in the order of ``models``)."""
    cost = {name: FOLD_SECONDS.get(type(tuning.base_estimator(model)).__name__, DEFAULT_FOLD_SECONDS)
            for name, model in models.items()}
    return sorted(models, key=lambda name: -cost[name])


def _evaluate(models: dict, X, y, settings: dict, preprocessing, grids: dict, fractions, task: Config,
              n_jobs: int) -> Evaluation:
    """Every model's folds and learning-curve fits, and the network refitted on every row (``task.refit``), in one
    pool of ``n_jobs`` workers, the longest first (:func:`physics.materials.evaluation.evaluate`); a user error
    inside a fit (diverged network, bad baseline value) comes out as its own type, with the model and fold named."""
    refit = task.refit and task.cv != "split"
    refits = {"network": lambda result: _final_pipeline(models["network"], result, preprocessing)} if refit else None
    try:
        return evaluate(models, X, y, preprocessing=preprocessing, keep_estimators=["network"],
                        param_grids={name: tuning.prefixed(models[name], grid) for name, grid in grids.items()
                                     if grid} or None,
                        inner_splits=task.inner_splits, extend_edges=task.extend_grids, target_type=task.kind,
                        n_jobs=n_jobs, curve_fractions=fractions, order=longest_first(models), refits=refits,
                        **settings)
    except RuntimeError as error:
        cause = error.__cause__
        for kind in _USER_ERRORS:
            if isinstance(cause, kind):
                raise kind(str(error)) from cause
        raise


def run(config: AppConfig, run_dir: Path) -> TaskResult:
    """Load the data, check every stage, evaluate every model on the same folds, compare them with the
    network, save the network, write the files."""
    task: Config = config.task
    timings: dict[str, float] = {}

    with stage("data", timings):
        data = load_data(task, config.seed)
        _check_target(task, data)
        settings, splits = _settings(task, config.seed, data)
        descriptor_options = {"element_fractions": task.element_fractions, "missing": task.missing}
        features = data.features(**descriptor_options)
        X, y = features.values, data.target
        log.info("%d samples of %s (%s), %d descriptors%s; %s", len(data), data.target_name, data.units or "no units",
                 X.shape[1], f", {len(data.skipped)} bad rows skipped" if data.skipped else "", data.source)
    preprocessing = Preprocessing(impute=True, variance_threshold=task.variance_threshold,
                                  standardize=task.standardize, clip_z=task.clip_z)
    models = build_models(config, len(np.unique(y)) if task.kind == "classification" else 0)
    grids = tuning.grids(models, task.tune, task.param_grids)
    plan = stages.plan(task, y, splits, models, grids, split=data.split)
    if not plan.tune:
        grids = {}

    n_jobs = -1 if config.parallel.n_jobs is None else config.parallel.n_jobs  # workers of the pool (null: every CPU)
    with stage("evaluation (all models)", timings):
        evaluation = _evaluate(models, X, y, settings, preprocessing, grids, plan.learning_curve, task, n_jobs)
    cv = evaluation.cv
    for name, result in cv.models.items():  # each model's share of the pool's work (not wall time)
        timings[f"evaluation {name}{WORKER_SECONDS}"] = float(result.fit_seconds.sum())
    for name, seconds in evaluation.curve_seconds.items():
        timings[f"learning curve {name}{WORKER_SECONDS}"] = seconds
    for name, seconds in evaluation.refit_seconds.items():
        timings[f"final {name}{WORKER_SECONDS}"] = seconds
    summary = _summary(cv, models)
    comparisons = _compare(cv, data.units)
    searched = {name: _searched(models[name], cv.models[name].searched_grids) for name in grids}
    edges = [message for name, grid in searched.items() if grid
             for message in comparison.grid_edges(grid, summary[name]["best_params"],
                                                  prefix=f"task.param_grids.{name}")]
    for message in edges:
        log.warning("tuning grid edge: %s", message)

    train_sizes, curve = None, {}
    if evaluation.curve is not None:
        part = evaluation.curve
        # the full training folds are the evaluation's own (tuned) fits: reuse them
        curve = {name: np.vstack([part.scores[name], cv.models[name].fold_metrics[part.metric]]) for name in models}
        train_sizes = np.append(part.train_sizes, np.mean([len(train) for train, _ in cv.splits]))

    with stage("final network", timings):
        final, trained_rows, trained_on = _final_network(models["network"], evaluation, len(y), task)
        save_predictor(final, run_dir, formulas=[data.formulas[i] for i in trained_rows], X=X[trained_rows],
                       feature_names=features.names, descriptor_options=descriptor_options,
                       target_name=data.target_name, units=data.units, trained_on=trained_on)
        history = fitted_network(final).history_

    with stage("figures and tables", timings):
        _write_tables(run_dir, data, cv, summary, comparisons, train_sizes, curve)
        figures.evaluation(run_dir / "figures", data, cv, comparisons, train_sizes, curve)
        figures.loss(history, run_dir / "figures" / "loss.png", label=f"network ({trained_on})",
                     loss=task.loss if task.kind == "regression" else "cross-entropy",
                     target=_target_words(task, data))

    headline, _, lower_is_better = HEADLINE[task.kind]
    pick = min if lower_is_better else max
    best = pick(summary, key=lambda name: summary[name][f"{headline}_mean"])
    log.info("best %s: %s (%.4g%s)", headline, best, summary[best][f"{headline}_mean"],
             f" {data.units}" if task.kind == "regression" and data.units else "")
    epochs = [len(fitted_network(estimator).history_.loss) for estimator in cv.models["network"].estimators]
    objective = OBJECTIVES[task.objective]
    metrics = {"best_model": best, "models": summary,
               "comparison": {name: result.as_dict() for name, result in comparisons.items()},
               "tuning": {"grids": grids, "searched": searched, "edges": edges, "inner_splits": task.inner_splits},
               "stages": {"skipped": plan.skipped},
               "network": {"epochs_per_fold": epochs, "final_trained_on": trained_on,
                           "final_epochs": len(history.loss), "ensemble_size": task.ensemble_size},
               "dataset": {"name": task.dataset, "n_samples": len(y), "n_features": X.shape[1],
                           "n_skipped_rows": len(data.skipped), "target": data.target_name, "units": data.units,
                           "kind": task.kind, "n_chemical_systems": int(len(np.unique(data.groups)))},
               "cv": {"kind": task.cv, "n_splits": len(cv.splits), "random_state": settings["random_state"],
                      "n_test": int(len(cv.tested))},
               "learning_curve": {"train_sizes": [] if train_sizes is None else train_sizes.tolist(),
                                  **{name: scores.mean(axis=1).tolist() for name, scores in curve.items()}}}
    if task.kind == "regression":
        metrics["dataset"]["target_mad"] = cv.mad
    if task.dataset in BUILTIN_DATASETS and BUILTIN_DATASETS[task.dataset].published:
        metrics["published"] = dict(BUILTIN_DATASETS[task.dataset].published)
        log.info("published test MAE on this split (%s): %s", data.units, ", ".join(
            f"{name} {value}" for name, value in metrics["published"].items()))
    return TaskResult(objective=summary["network"][objective.rsplit(".", 1)[1]], objective_name=objective,
                      direction="minimize", metrics=metrics, timings=timings)


def _searched(model, grids_per_fold) -> dict:
    """Every value searched for each parameter in any fold (grids extended at an edge included), in the
    model's own parameter names."""
    union: dict = {}
    for grid in grids_per_fold or []:
        for key, values in tuning.own_names(model, grid).items():
            union[key] = sorted({*union.get(key, []), *values})
    return union


def _final_network(model, evaluation: Evaluation, n_samples: int, task: Config):
    """The network to save: for a given split, the evaluated one (trained on train + val); else the one refitted
    on every row in the evaluation's pool with the setting most folds chose (``task.refit``), or the last fold's."""
    cv = evaluation.cv
    result = cv.models["network"]
    if task.cv == "split":
        train, _ = cv.splits[0]
        return result.estimators[0], train, f"the {len(train)} train + val rows"
    if not task.refit:
        train, _ = cv.splits[-1]
        return result.estimators[-1], train, f"the training rows of fold {len(cv.splits)} of {len(cv.splits)}"
    setting = tuning.own_names(model, _most_chosen(result))
    return (evaluation.refits["network"], np.arange(n_samples),
            f"all {n_samples} samples" + (f", tuned setting {setting}" if setting else ""))


def _most_chosen(result: ModelResult) -> dict:
    """The setting most folds chose (the first of those tied, in fold order); {} for an untuned model."""
    if not result.best_params:
        return {}
    return dict(Counter(tuple(sorted(params.items())) for params in result.best_params).most_common(1)[0][0])


def _final_pipeline(model, result: ModelResult, preprocessing) -> Pipeline:
    """A new unfitted pipeline of ``model`` (cloned: the evaluation's jobs still use ``model``) with the setting
    most folds chose (:func:`_most_chosen`; keys: ``model``'s own)."""
    pipeline = make_pipeline(clone(model), preprocessing)
    return pipeline.set_params(**{f"model__{key}": value for key, value in _most_chosen(result).items()})


def _target_words(task: Config, data: MaterialsDataset) -> str:
    if task.kind == "classification":
        return "labels"
    words = "log " if task.target_transform == "log" else ""
    return f"standardised {words}target" if task.scale_target else f"{words}target ({data.units or 'no units'})"


def _summary(cv: CVResult, models: dict) -> dict:
    """``cv.summary()`` with each model's total fit time, the balanced error (classification) and, for tuned
    models, the setting chosen per fold; one log line per model."""
    summary = cv.summary()
    headline = HEADLINE[cv.target_type][0]
    for name, scores in summary.items():
        result = cv.models[name]
        scores["fit_seconds_total"] = float(result.fit_seconds.sum())
        if cv.target_type == "classification":
            scores["balanced_error"] = 1.0 - scores["balanced_accuracy_mean"]
        if result.best_params is not None:
            scores["best_params"] = [tuning.own_names(models[name], params) for params in result.best_params]
        spread = (f" ± {scores[f'{headline}_std']:.2g} (fold SD, {len(cv.splits)} folds)" if len(cv.splits) > 1
                  else " (test rows)")
        log.info("%-15s %s %.4g%s  (%.1f s)", name, headline, scores[f"{headline}_mean"], spread,
                 scores["fit_seconds_total"])
    return summary


def _compare(cv: CVResult, units: str) -> dict:
    """network - baseline for every baseline without failed folds: Nadeau-Bengio over folds, or a paired
    t-test over the test rows of a given split."""
    headline = HEADLINE[cv.target_type][0]
    usable = {name: result for name, result in cv.models.items() if not result.errors}
    if "network" not in usable or len(usable) < 2:  # nothing to compare with
        return {}
    if cv.cv == "split":
        test = cv.tested
        scores = {name: per_sample_loss(cv.target_type, cv.y[test], result.oof_prediction[test])
                  for name, result in usable.items()}
        metric = "MAE" if cv.target_type == "regression" else "error rate"
        out = comparison.compare_to_reference(scores, "network", kind="split", metric=metric)
    else:
        n_train, n_test = comparison.mean_fold_sizes(cv.splits)
        scores = {name: result.fold_metrics[headline] for name, result in usable.items()}
        out = comparison.compare_to_reference(scores, "network", kind="cv", n_train=n_train, n_test=n_test,
                                              metric=headline.replace("_", " "))
    for result in out.values():
        log.info("%s", result.describe(units if cv.target_type == "regression" else None))
    return out


def _write_tables(run_dir: Path, data: MaterialsDataset, cv: CVResult, summary: dict, comparisons: dict,
                  train_sizes, curve: dict) -> None:
    """oof_predictions.csv (test rows), models.csv, comparison.csv and learning_curve.csv."""
    rows = []
    for i in cv.tested:
        row = {"index": int(i), "composition": data.formulas[i], "chemical_system": data.groups[i],
               "fold": int(cv.fold_of_sample[i]) + 1}
        if data.split is not None:
            row["split"] = str(data.split[i])
        if data.line_numbers is not None:
            row["csv_line"] = int(data.line_numbers[i])
        if data.target_name in row or data.target_name.startswith(PREDICTION_PREFIX):  # refused at validation
            raise ValueError(f"The target {data.target_name!r} would overwrite a column of oof_predictions.csv.")
        row[data.target_name] = _plain(data.target[i])
        row.update({f"{PREDICTION_PREFIX}{name}": _plain(result.oof_prediction[i])
                    for name, result in cv.models.items()})
        rows.append(row)
    write_csv(run_dir / "oof_predictions.csv", rows)
    write_csv(run_dir / "models.csv", [{"model": name, **{key: value for key, value in scores.items()
                                                          if key != "best_params"}}
                                       for name, scores in summary.items()])
    if comparisons:
        write_csv(run_dir / "comparison.csv", [{"baseline": name, **{key: value for key, value in
                                                                     result.as_dict().items()}}
                                               for name, result in comparisons.items()])
    if curve:
        write_csv(run_dir / "learning_curve.csv",
                  [{"train_size": float(size), **{f"{name}_mean": float(scores[i].mean()) for name, scores in
                                                  curve.items()},
                    **{f"{name}_std": float(scores[i].std()) for name, scores in curve.items()}}
                   for i, size in enumerate(train_sizes)])


def _plain(value):
    """A float for a number, a str for a label."""
    return float(value) if isinstance(value, (float, np.floating)) else str(value)
