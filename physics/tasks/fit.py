"""``task=fit``: learn y = f(x) from noisy samples and compare the numpy network with scikit-learn baselines.

Data: inputs uniform in [-1, 1]^d (images: pixel centres), training targets f(x) + Gaussian noise of standard
deviation ``task.noise``. Test error is measured against the noise-free f on held-out inputs, so it says how
well each model recovers the function itself (the noise floor is not in it).

Metrics (flat keys in metrics.json): ``network.{train_mse, test_mse, train_r2, test_r2, fit_seconds, epochs}``,
``baselines.<name>.{train_mse, test_mse, train_r2, test_r2, fit_seconds}``, ``objective`` = network test MSE.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

from core.losses import MeanSquaredError
from physics import plots
from physics.baselines import build_baselines, fit_and_predict
from physics.config import AppConfig, ConfigError, FitTaskConfig
from physics.functions import ANALYTIC_TARGETS, Target, grid, image_target, load_image, sample_inputs, smiley
from physics.io import write_csv
from physics.seeding import generator, integer_seed
from physics.tasks.common import build_network, save_model, stage, train

log = logging.getLogger(__name__)


def make_target(task: FitTaskConfig) -> tuple[Target, np.ndarray | None]:
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


def run_task(config: AppConfig, run_dir: Path) -> dict:
    task: FitTaskConfig = config.task
    if config.model.name != "mlp":
        raise ConfigError("model", f"task=fit learns a function of coordinates and needs model=mlp. "
                                   f"Got model={config.model.name} instead.")
    timings: dict[str, float] = {}
    figures = run_dir / "figures"

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
        network = build_network(config.model, (target.dim,), 1, config.seed)
        history = train(network, MeanSquaredError(), X_train, y_train[:, None], config,
                        description=f"fit {target.name}")

    def network_predict(X_eval):
        return network.predict(X_eval)[:, 0].astype(float)

    predictions = {"network": {"train": network_predict(X_train), "test": network_predict(X_test)}}
    results = {"network": {"fit_seconds": timings["training"], "epochs": len(history.loss),
                           "best_epoch": history.best_epoch}}
    with stage("baselines", timings):
        baselines = fit_and_predict(build_baselines(config.baseline, config.seed), X_train, y_train,
                                    lambda model, X_eval: model.predict(X_eval), {"train": X_train, "test": X_test})
        for name, outcome in baselines.items():
            predictions[name] = outcome["predictions"]
            results[name] = {"fit_seconds": outcome["fit_seconds"]}
    models = {"network": network_predict, **{name: outcome["estimator"].predict
                                             for name, outcome in baselines.items()}}
    for name in results:
        results[name].update(_scores(y_train, predictions[name]["train"], "train"))
        results[name].update(_scores(y_test, predictions[name]["test"], "test"))
        log.info("%-18s test MSE %.3e  R² %.4f", name, results[name]["test_mse"], results[name]["test_r2"])

    with stage("figures", timings):
        _plot_fit(target, image, models, X_train, y_train, figures / "fit.png", task)
        plots.loss_curves({"network": {"loss": history.loss, "val_loss": history.val_loss,
                                      "best_epoch": history.best_epoch}},
                          figures / "loss.png", ylabel="mean squared error")
        plots.model_bars({name: r["test_mse"] for name, r in results.items()}, figures / "test_error.png",
                         ylabel="test MSE against the noise-free target", log=True, title=target.formula)
        write_csv(run_dir / "models.csv", [{"model": name, **r} for name, r in results.items()])
        write_csv(run_dir / "history.csv", [{"epoch": i + 1, "loss": loss,
                                            "val_loss": history.val_loss[i] if history.val_loss else None}
                                           for i, loss in enumerate(history.loss)])
        save_model(network, run_dir)

    return {"objective": results["network"]["test_mse"], "objective_name": "network.test_mse",
            "objective_direction": "minimize", "target": target.name, "n_train": len(X_train),
            "n_test": len(X_test), "network": results.pop("network"), "baselines": results,
            "seconds": timings}


def _plot_fit(target: Target, image, models: dict, X_train, y_train, path: Path, task: FitTaskConfig) -> None:
    """1D: data, truth and every model's curve. 2D: truth | prediction | error maps, one row per model."""
    if target.dim == 1:
        x = grid(1, 400)
        fig, ax = plots.figure(width=6.4, height=4.0)
        ax.scatter(X_train[:, 0], y_train, s=4, color="0.6", alpha=0.5, label="training data")
        ax.plot(x[:, 0], target.function(x), color="k", lw=2, label=f"truth {target.formula}")
        for colour, (name, predict) in zip(plots.MODEL_COLOURS, models.items()):
            ax.plot(x[:, 0], predict(x), color=colour, lw=1.2, label=name)
        ax.set_xlabel("x")
        ax.set_ylabel("y = f(x)")
        ax.legend(fontsize=8)
        plots.save(fig, path)
        return
    size = task.image_size if image is not None else 100
    points = grid(2, size)
    truth = target.function(points).reshape(size, size)
    predictions = {name: predict(points).reshape(size, size) for name, predict in models.items()}
    # one colour scale for truth and predictions, one symmetric scale for every error map; the error scale
    # is the 99th percentile of |error| so that one baseline's wild corner does not wash the others out
    vmin, vmax = float(truth.min()), float(truth.max())
    error_scale = float(np.percentile(np.abs(np.stack(list(predictions.values())) - truth), 99))
    fig, axes = plots.figure(ncols=len(models) + 1, nrows=2, width=2.9, height=2.7)
    panels = [(axes[0, 0], truth, "truth", "viridis", vmin, vmax)]
    for column, (name, prediction) in enumerate(predictions.items(), start=1):
        error = prediction - truth
        panels.append((axes[0, column], prediction, f"{name}", "viridis", vmin, vmax))
        panels.append((axes[1, column], error, f"{name} error (RMS {np.sqrt(np.mean(error ** 2)):.2g})",
                       "RdBu_r", -error_scale, error_scale))
    for ax, values, title, cmap, low, high in panels:
        shown = ax.imshow(values, extent=(-1, 1, -1, 1), cmap=cmap, vmin=low, vmax=high)
        ax.set_title(title, fontsize=9)
        ax.grid(False)
    axes[1, 0].scatter(X_train[:, 0], X_train[:, 1], c=y_train, s=3, cmap="viridis", vmin=vmin, vmax=vmax)
    axes[1, 0].set_title(f"{len(X_train)} training samples", fontsize=9)
    axes[1, 0].set_aspect("equal")
    for ax in axes.flat:
        ax.set_xlabel("$x_0$")
        ax.set_ylabel("$x_1$")
    fig.colorbar(axes[0, 0].images[0], ax=axes[0, :], shrink=0.8, label="f(x)")
    fig.colorbar(shown, ax=axes[1, :], shrink=0.8, extend="both", label="prediction − truth")
    fig.suptitle(f"{target.formula}: prediction (top) and error (bottom)")
    plots.save(fig, path)
