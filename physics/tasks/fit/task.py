"""``task=fit``: learn y = f(x) from noisy samples and compare the numpy network with scikit-learn baselines.

Data: inputs uniform in [-1, 1]^d (images: pixel centres), training targets f(x) + Gaussian noise of standard
deviation ``task.noise``. The test error is measured against the noise-free f on held-out inputs, so it says
how well each model recovers the function itself (the noise floor is not in it).

Metrics (flat keys in metrics.json): ``network.{train_mse, test_mse, train_r2, test_r2, val_mse, fit_seconds,
epochs, best_epoch}``, ``baselines.<name>.{train_mse, test_mse, train_r2, test_r2, fit_seconds}``; the objective
is ``task.objective``: by default the network's best validation MSE (``network.val_mse``, on the share of the
training set held out for early stopping, noisy targets), which a user may tune on honestly.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

from core.serialize import save
from physics.app.baselines import build_baselines, fit_and_predict
from physics.app.io import write_csv
from physics.app.result import TaskResult
from physics.app.schema import AppConfig
from physics.app.seeding import generator, integer_seed
from physics.app.training import network_estimator, stage
from physics.functions import ANALYTIC_TARGETS, Target, image_target, load_image, sample_inputs, smiley
from physics.tasks.fit import figures
from physics.tasks.fit.config import Config

log = logging.getLogger(__name__)


def make_target(task: Config) -> tuple[Target, np.ndarray | None]:
    """The function to learn and, for image targets, the image itself (shape (size, size))."""
    if task.target == "smiley":
        image = smiley(task.image_size)
    elif task.target == "image":
        image = load_image(task.image_path, task.image_size)
    else:
        return ANALYTIC_TARGETS[task.target], None
    return image_target(image, task.target), image


def _scores(truth: np.ndarray, prediction: np.ndarray, prefix: str) -> dict[str, float]:
    return {f"{prefix}_mse": float(mean_squared_error(truth, prediction)),
            f"{prefix}_r2": float(r2_score(truth, prediction))}


def run(config: AppConfig, run_dir: Path) -> TaskResult:
    """Sample the target, train the network and the baselines on the same split, score, draw, save."""
    task: Config = config.task
    timings: dict[str, float] = {}

    with stage("data", timings):
        target, image = make_target(task)
        rng = generator(config.seed, "data")
        X = sample_inputs(target, task.n_samples, rng, image_size=None if image is None else task.image_size)
        y_clean = target.function(X)
        y_noisy = y_clean + task.noise * rng.standard_normal(len(y_clean))
        X_train, X_test, y_train, _, _, y_test = train_test_split(
            X, y_noisy, y_clean, test_size=task.test_fraction, random_state=integer_seed(config.seed, "split"))
        log.info("target %s (%dD): %d training and %d test samples, noise %.3g", target.name, target.dim,
                 len(X_train), len(X_test), task.noise)

    with stage("training", timings):
        network = network_estimator(config, "regressor", (target.dim,), description=f"fit {target.name}")
        network.fit(X_train, y_train)
    history = network.history_
    results = {"network": {"fit_seconds": timings["training"], "epochs": len(history.loss),
                           "best_epoch": history.best_epoch,
                           "val_mse": min(history.val_loss) if history.val_loss else float("nan")}}
    with stage("baselines", timings):
        baselines = fit_and_predict(build_baselines(config.baseline, config.seed), X_train, y_train,
                                    lambda model, X_eval: model.predict(X_eval), {"train": X_train, "test": X_test})
    predictions = {"network": {"train": network.predict(X_train), "test": network.predict(X_test)}}
    for name, outcome in baselines.items():
        predictions[name] = outcome["predictions"]
        results[name] = {"fit_seconds": outcome["fit_seconds"]}
    for name in results:
        results[name].update(_scores(y_train, predictions[name]["train"], "train"))
        results[name].update(_scores(y_test, predictions[name]["test"], "test"))
        log.info("%-18s test MSE %.3e  R² %.4f", name, results[name]["test_mse"], results[name]["test_r2"])

    with stage("figures", timings):
        models = {"network": network.predict, **{name: outcome["estimator"].predict
                                                 for name, outcome in baselines.items()}}
        figures.fit(target, image, models, X_train, y_train, run_dir / "figures" / "fit.png", task.image_size)
        figures.loss(history, run_dir / "figures" / "loss.png")
        figures.test_errors({name: r["test_mse"] for name, r in results.items()}, target,
                            run_dir / "figures" / "test_error.png")
        write_csv(run_dir / "models.csv", [{"model": name, **r} for name, r in results.items()])
        write_csv(run_dir / "history.csv", [{"epoch": i + 1, "loss": loss,
                                            "val_loss": history.val_loss[i] if history.val_loss else None}
                                           for i, loss in enumerate(history.loss)])
        save(network.network_, run_dir / "model")

    objective = {"val_mse": "network.val_mse", "test_mse": "network.test_mse"}[task.objective]
    network_results = results.pop("network")
    return TaskResult(objective=network_results[objective.split(".")[1]], objective_name=objective,
                      metrics={"target": target.name, "n_train": len(X_train), "n_test": len(X_test),
                               "network": network_results, "baselines": results}, timings=timings)
