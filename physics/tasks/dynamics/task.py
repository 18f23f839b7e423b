"""``task=dynamics``: networks with and without memory forecast a simulated system or infer its hidden coordinate.

Data: ``task.n_train`` training windows from one long trajectory after the system's transient (a system with an
attractor) or from several (``task.n_train_trajectories``; 20 for the Hamiltonian bath, whose trajectories each
keep their own energy), and ``task.n_test_trajectories`` independent test trajectories, each from its own initial
state (random streams ``data/train/<i>`` and ``data/test/<i>`` of the seed), simulated by
:func:`physics.dynamics.simulate` and cached in ``data_dir`` (:mod:`physics.tasks.dynamics.data`). The features
``system.features(states)`` are standardised with the training trajectories' mean and SD; observation noise
(``task.noise``, in those SDs) is added to everything the models see, never to the truth they are scored against.

Forecast mode: every model maps a window of ``task.window`` past feature vectors to the next step (its
standardised increment by default, ``task.target``); the network is the config's model (an LSTM by default,
``model=mlp`` for one without memory), the baselines (``conf/baseline/dynamics.yaml``) a linear autoregressive
model and scikit-learn's MLP on the same windows and target, plus persistence x(t + h) = x(t). Scores on the
test trajectories: the one-step normalised RMSE (every window) and, from ``task.n_forecasts`` starts per
trajectory (non-overlapping), closed-loop forecasts of ``task.horizon`` time units whose normalised error
against time gives each start's valid prediction time (:mod:`physics.tasks.dynamics.forecast`).

Hidden mode: every model maps a window of the observed features to the hidden coordinate at the window's last
step (sequence to one); scored by R^2 and RMSE on every window of the test trajectories.

Seeds: network i has initial weights and minibatches from seed i (``config.seed`` for i = 0, derived streams
otherwise), the baselines are built with the same seed i (scikit-learn's MLP gets its random_state from it; the
ridge model is deterministic, its SD over seeds is 0). Metrics are the mean and sample SD over the seeds of each
seed's score (for forecasts: the mean over starts).

Metrics: ``network.*``, ``baselines.<name>.*``, ``persistence.*`` (forecast mode), ``system.*``; the objective
is the network's best validation loss, mean over seeds (``network.val_loss_mean``).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from core.serialize import save
from physics.app.baselines import build_baselines, fit_and_predict
from physics.app.io import write_csv, write_json
from physics.app.result import TaskResult
from physics.app.schema import AppConfig
from physics.app.seeding import generator, integer_seed
from physics.app.training import network_estimator, stage
from physics.tasks.dynamics import figures
from physics.tasks.dynamics.config import Config, simulation_error
from physics.tasks.dynamics.data import Scaler, Target, forecast_pairs, hidden_pairs, simulated_states
from physics.tasks.dynamics.forecast import (closed_loop, error_scale, normalised_error, persistence, summary,
                                             valid_prediction_time)

log = logging.getLogger(__name__)

#: forecasts drawn in the trajectory figure
N_SHOWN = 3
#: the standardisations the networks were trained with, for ``ml4phys predict`` (JSON, in the run folder)
STANDARDISATION = "models/standardisation.json"


@dataclass
class Data:
    """The standardised features of the training trajectories and of the test trajectories (lists of (n_i, k)).

    scaler : the standardisation (training statistics) of the features; trains, tests : clean; trains_seen,
    tests_seen : as the models see them (noisy); hidden_trains, hidden_tests : the standardised hidden
    coordinate (hidden mode only), lists of (n_i,); hidden_scaler : its standardisation.
    """

    scaler: Scaler
    trains: list
    trains_seen: list
    tests: list
    tests_seen: list
    hidden_trains: list = field(default_factory=list)
    hidden_tests: list = field(default_factory=list)
    hidden_scaler: Scaler | None = None


def seed_of(seed: int, index: int) -> int:
    """The seed of network (and scikit-learn MLP) ``index``: the config's for the first, derived otherwise."""
    return seed if index == 0 else integer_seed(seed, f"seed/{index}")


def load_data(config: AppConfig, system, dt: float, mode: str) -> Data:
    """Simulate (or read from the cache) the training and test trajectories; standardise; add the noise."""
    task: Config = config.task
    extra = task.window - (1 if mode == "hidden" else 0)  # samples beyond the windows' count
    train_lengths = [n + extra for n in task.train_sizes(system)]
    n_test = task.n_forecasts * task.segment(system)
    try:
        states = [simulated_states(system, n, dt, seed=config.seed, stream=f"data/train/{i}",
                                   cache_dir=config.data_dir) for i, n in enumerate(train_lengths)]
        states += [simulated_states(system, n_test, dt, seed=config.seed, stream=f"data/test/{i}",
                                    cache_dir=config.data_dir) for i in range(task.n_test_trajectories)]
    except ValueError as error:  # physics.dynamics.SimulationError
        if type(error).__name__ != "SimulationError":
            raise
        raise simulation_error(error, bool(task.params)).under("task") from None
    n_train = len(train_lengths)
    features = [system.features(s) for s in states]
    scaler = Scaler.fit(np.concatenate(features[:n_train]))
    clean = [scaler.transform(f) for f in features]
    rng = generator(config.seed, "noise")
    seen = [z + task.noise * rng.standard_normal(z.shape) if task.noise else z for z in clean]
    data = Data(scaler=scaler, trains=clean[:n_train], trains_seen=seen[:n_train], tests=clean[n_train:],
                tests_seen=seen[n_train:])
    if mode == "hidden":
        hidden = [s[:, system.hidden] for s in states]
        data.hidden_scaler = Scaler.fit(np.concatenate(hidden[:n_train])[:, None])
        standardised = [data.hidden_scaler.transform(h[:, None])[:, 0] for h in hidden]
        data.hidden_trains, data.hidden_tests = standardised[:n_train], standardised[n_train:]
    log.info("%s (%s), dt = %.4g: %d training trajectories of %d steps in all, %d test trajectories of %d steps, "
             "%d features, noise %.3g SD", system.name, ", ".join(f"{k}={v}" for k, v in system.parameters.items()),
             dt, n_train, sum(train_lengths), task.n_test_trajectories, n_test, clean[0].shape[1], task.noise)
    return data


def save_standardisation(path: Path, data: Data, target: Target | None) -> None:
    """Write what turns a new series into the networks' inputs and their outputs back into units (JSON).

    Keys: ``feature_mean``, ``feature_scale`` (the features' standardisation), ``seen_min``, ``seen_max`` (the
    range of the standardised training features the models saw), forecast mode ``target_kind`` and
    ``target_scale`` (:class:`Target`), hidden mode ``hidden_mean`` and ``hidden_scale``.
    """
    seen = np.concatenate(data.trains_seen)
    record = {"feature_mean": data.scaler.mean, "feature_scale": data.scaler.scale,
              "seen_min": seen.min(axis=0), "seen_max": seen.max(axis=0)}
    if target is not None:
        record.update(target_kind=target.kind, target_scale=target.scale)
    if data.hidden_scaler is not None:
        record.update(hidden_mean=data.hidden_scaler.mean, hidden_scale=data.hidden_scaler.scale)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, record)


# ------------------------------------------------------------------------------------------------- models
def network_predictor(estimator) -> Callable[[np.ndarray], np.ndarray]:
    """Flat windows (m, W * k) -> the fitted network's outputs (m, n_outputs), float64, without scikit-learn's
    per-call validation (the closed loop calls it once per step)."""
    network = estimator.network_

    def predict(X: np.ndarray) -> np.ndarray:
        return network.predict(X.reshape(len(X), *network.input_shape)).astype(np.float64)
    return predict


def estimator_predictor(estimator) -> Callable[[np.ndarray], np.ndarray]:
    """Flat windows -> a scikit-learn estimator's predictions as (m, n_outputs)."""
    def predict(X: np.ndarray) -> np.ndarray:
        y = np.asarray(estimator.predict(X), dtype=np.float64)
        return y.reshape(len(X), -1)
    return predict


def train_models(config: AppConfig, X: np.ndarray, y: np.ndarray, sample_shape: tuple, run_dir: Path,
                 timings: dict) -> tuple[dict, list]:
    """Train ``task.n_seeds`` networks and, for every seed, every baseline on (X, y).

    Returns
    -------
    models : model name -> list over seeds of {"predict": callable, "fit_seconds": float, ...}; the network's
        entries also hold "val_loss", "epochs", "best_epoch".
    histories : the networks' training histories, one per seed.
    """
    task: Config = config.task
    n_outputs = 1 if y.ndim == 1 else y.shape[1]
    models: dict = {"network": []}
    histories = []
    (run_dir / "models").mkdir(parents=True, exist_ok=True)
    with stage("training", timings):
        for index in range(task.n_seeds):
            seed = seed_of(config.seed, index)
            estimator = network_estimator(config, "regressor", sample_shape, n_outputs, network_seed=seed,
                                          training_stream=f"training/{index}",
                                          description=f"dynamics network {index + 1}/{task.n_seeds}")
            start = time.perf_counter()
            estimator.fit(X, y)
            fit_seconds = time.perf_counter() - start
            history = estimator.history_
            val_loss = float(min(history.val_loss)) if history.val_loss else float("nan")
            models["network"].append({"predict": network_predictor(estimator), "fit_seconds": fit_seconds,
                                      "val_loss": val_loss, "epochs": len(history.loss),
                                      "best_epoch": history.best_epoch})
            histories.append(history)
            save(estimator.network_, run_dir / "models" / f"network_seed{index}")
            log.info("network %d: %d epochs (best %s), best validation loss %.4g, %.1f s", index, len(history.loss),
                     history.best_epoch, val_loss, fit_seconds)
    with stage("baselines", timings):
        for index in range(task.n_seeds):
            fitted = fit_and_predict(build_baselines(config.baseline, seed_of(config.seed, index)), X, y,
                                     lambda estimator, X_eval: estimator.predict(X_eval), {})
            for name, outcome in fitted.items():
                models.setdefault(name, []).append({"predict": estimator_predictor(outcome["estimator"]),
                                                    "fit_seconds": outcome["fit_seconds"]})
    return models, histories


# ------------------------------------------------------------------------------------------------ forecast
def forecast_run(config: AppConfig, system, dt: float, data: Data, run_dir: Path, timings: dict) -> dict:
    """Train, forecast one step and in closed loop, score, draw; return the metrics."""
    task: Config = config.task
    W, k, H = task.window, data.trains[0].shape[1], task.horizon_steps(system)
    segment = task.segment(system)
    target = Target.fit(task.target, data.trains_seen)
    pairs = [forecast_pairs(seen, seen, W, target) for seen in data.trains_seen]
    X, y = np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])
    tests = [forecast_pairs(seen, clean, W, target) for seen, clean in zip(data.tests_seen, data.tests)]
    X_test = np.concatenate([t[0] for t in tests])
    last_test, next_test = np.concatenate([t[2] for t in tests]), np.concatenate([t[3] for t in tests])
    starts = [j * segment for j in range(task.n_forecasts)]
    histories = np.stack([seen[s:s + W] for seen in data.tests_seen for s in starts])           # (m, W, k)
    truths = np.stack([clean[s + W:s + segment] for clean in data.tests for s in starts])       # (m, H, k)
    scale = error_scale(np.concatenate(data.trains))
    step = dt / system.time_unit
    log.info("forecast: %d training windows of %d steps, target %s; %d one-step test windows; %d closed-loop "
             "forecasts of %d steps (%.3g %ss)", len(X), W, task.target, len(X_test), len(histories), H,
             H * step, system.time_unit_name)

    save_standardisation(run_dir / STANDARDISATION, data, target)
    models, fit_histories = train_models(config, X, y, (W, k), run_dir, timings)
    rows, curves, results, shown = [], {}, {}, {}
    with stage("forecasting", timings):
        for name, runs in models.items():
            scores = []
            for index, entry in enumerate(runs):
                one_step = target.decode(last_test, entry["predict"](X_test))
                nrmse = float(np.sqrt(np.mean(np.sum((one_step - next_test) ** 2, axis=1)))) / scale
                states = closed_loop(entry["predict"], target.decode, histories, H)
                errors = normalised_error(states, truths, scale)
                vpt, censored = valid_prediction_time(errors, task.error_threshold, step)
                scores.append({"vpt": float(vpt.mean()), "one_step_nrmse": nrmse,
                               "censored_fraction": float(censored.mean()), "curve": errors.mean(axis=0)})
                rows.append({"model": name, "seed": index, "vpt": scores[-1]["vpt"], "one_step_nrmse": nrmse,
                             "censored_fraction": scores[-1]["censored_fraction"],
                             "val_loss": entry.get("val_loss"), "epochs": entry.get("epochs"),
                             "fit_seconds": entry["fit_seconds"]})
                if index == 0:
                    shown[name] = states
            results[name] = _forecast_summary(scores, runs)
            curves[name] = np.stack([s["curve"] for s in scores])
        persistence_states = persistence(histories, H)
        errors = normalised_error(persistence_states, truths, scale)
        vpt, censored = valid_prediction_time(errors, task.error_threshold, step)
        nrmse = float(np.sqrt(np.mean(np.sum((last_test - next_test) ** 2, axis=1)))) / scale
        results["persistence"] = {"vpt_mean": float(vpt.mean()), "vpt_sd": 0.0, "one_step_nrmse_mean": nrmse,
                                  "one_step_nrmse_sd": 0.0, "censored_fraction": float(censored.mean())}
        rows.append({"model": "persistence", "seed": None, "vpt": float(vpt.mean()), "one_step_nrmse": nrmse,
                     "censored_fraction": float(censored.mean())})
        curves["persistence"] = errors.mean(axis=0)[None]
        for name, result in results.items():
            log.info("%-14s valid prediction time %.3f ± %s %ss, one-step NRMSE %.3g", name, result["vpt_mean"],
                     _format(result["vpt_sd"]), system.time_unit_name, result["one_step_nrmse_mean"])

    times = step * np.arange(1, H + 1)
    with stage("figures", timings):
        write_csv(run_dir / "models.csv", rows)
        write_csv(run_dir / "error_vs_horizon.csv",
                  [{"time": t, **{f"{name}_mean": curve.mean(axis=0)[j] for name, curve in curves.items()},
                    **{f"{name}_sd": _sd(curve[:, j]) for name, curve in curves.items()}}
                   for j, t in enumerate(times)])
        figure_dir = run_dir / "figures"
        physical = data.scaler.inverse  # the figures show the features in their own units
        figures.trajectories(system, times, physical(truths[:N_SHOWN]),
                             {name: physical(s[:N_SHOWN]) for name, s in shown.items()},
                             figure_dir / "trajectories.png")
        figures.attractor(system, physical(data.trains[0]), physical(truths), physical(shown["network"]),
                          figure_dir / "attractor.png")
        figures.error_growth(system, times, curves, task.error_threshold, figure_dir / "error_vs_horizon.png")
        figures.valid_times({name: r["vpt_mean"] for name, r in results.items()},
                            {name: r["vpt_sd"] for name, r in results.items()}, system,
                            figure_dir / "valid_prediction_time.png")
        figures.loss(fit_histories, figure_dir / "loss.png")
    network = results.pop("network")
    persistence_result = results.pop("persistence")
    return {"mode": "forecast", "target": task.target, "horizon_steps": H, "n_forecasts": len(histories),
            "n_train_windows": len(X), "n_test_windows": len(X_test), "network": network, "baselines": results,
            "persistence": persistence_result}


def _forecast_summary(scores: list, runs: list) -> dict:
    vpt_mean, vpt_sd = summary([s["vpt"] for s in scores])
    nrmse_mean, nrmse_sd = summary([s["one_step_nrmse"] for s in scores])
    result = {"vpt_mean": vpt_mean, "vpt_sd": vpt_sd, "one_step_nrmse_mean": nrmse_mean,
              "one_step_nrmse_sd": nrmse_sd,
              "censored_fraction": float(np.mean([s["censored_fraction"] for s in scores])),
              "vpt_per_seed": [s["vpt"] for s in scores]}
    result.update(_training_summary(runs))
    return result


def _training_summary(runs: list) -> dict:
    result = {"fit_seconds_mean": float(np.mean([r["fit_seconds"] for r in runs]))}
    if "val_loss" in runs[0]:
        result["val_loss_mean"], result["val_loss_sd"] = summary([r["val_loss"] for r in runs])
        result["epochs_mean"] = float(np.mean([r["epochs"] for r in runs]))
    return result


def _sd(values: np.ndarray) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")


def _format(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.3f}"


# -------------------------------------------------------------------------------------------------- hidden
def hidden_run(config: AppConfig, system, dt: float, data: Data, run_dir: Path, timings: dict) -> dict:
    """Train, infer the hidden coordinate on every test window, score (R^2, RMSE), draw; return the metrics."""
    task: Config = config.task
    W, observed = task.window, list(system.observed)
    pairs = [hidden_pairs(seen[:, observed], hidden, W) for seen, hidden in zip(data.trains_seen, data.hidden_trains)]
    X, y = np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])
    tests = [hidden_pairs(seen[:, observed], hidden, W) for seen, hidden in zip(data.tests_seen, data.hidden_tests)]
    X_test, y_test = np.concatenate([t[0] for t in tests]), np.concatenate([t[1] for t in tests])
    log.info("hidden: infer %s from %s over windows of %d steps: %d training and %d test windows",
             system.state_names[system.hidden], ", ".join(system.feature_names[i] for i in observed), W, len(X),
             len(X_test))
    save_standardisation(run_dir / STANDARDISATION, data, None)
    models, fit_histories = train_models(config, X, y, (W, len(observed)), run_dir, timings)
    rows, results, shown = [], {}, {}
    unit = float(data.hidden_scaler.scale[0])  # RMSE in the hidden coordinate's own units
    variance = np.mean((y_test - y_test.mean()) ** 2)
    with stage("inference", timings):
        for name, runs in models.items():
            r2s, rmses = [], []
            for index, entry in enumerate(runs):
                prediction = entry["predict"](X_test)[:, 0]
                mse = float(np.mean((prediction - y_test) ** 2))
                r2s.append(1.0 - mse / variance)
                rmses.append(np.sqrt(mse) * unit)
                rows.append({"model": name, "seed": index, "r2": r2s[-1], "rmse": rmses[-1],
                             "val_loss": entry.get("val_loss"), "epochs": entry.get("epochs"),
                             "fit_seconds": entry["fit_seconds"]})
                if index == 0:
                    shown[name] = prediction
            r2_mean, r2_sd = summary(r2s)
            rmse_mean, rmse_sd = summary(rmses)
            results[name] = {"r2_mean": r2_mean, "r2_sd": r2_sd, "rmse_mean": rmse_mean, "rmse_sd": rmse_sd,
                             "r2_per_seed": r2s, **_training_summary(runs)}
            log.info("%-14s R² %.4f ± %s, RMSE %.4g", name, r2_mean, _format(r2_sd), rmse_mean)
    with stage("figures", timings):
        write_csv(run_dir / "models.csv", rows)
        figure_dir = run_dir / "figures"
        length = len(tests[0][1])
        times = (np.arange(length) + W - 1) * dt / system.time_unit
        to_units = lambda z: data.hidden_scaler.inverse(z[:, None])[:, 0]  # noqa: E731
        figures.hidden(system, times, to_units(y_test[:length]),
                       {name: to_units(p[:length]) for name, p in shown.items()}, to_units(y_test),
                       {name: to_units(p) for name, p in shown.items()},
                       {name: r["r2_mean"] for name, r in results.items()}, figure_dir / "hidden.png")
        figures.loss(fit_histories, figure_dir / "loss.png")
    network = results.pop("network")
    return {"mode": "hidden", "hidden": system.state_names[system.hidden],
            "observed": [system.feature_names[i] for i in observed], "n_train_windows": len(X),
            "n_test_windows": len(X_test), "network": network, "baselines": results}


# ------------------------------------------------------------------------------------------------------ run
def run(config: AppConfig, run_dir: Path) -> TaskResult:
    """Simulate (or read) the trajectories, train the networks and baselines, score them, draw, save."""
    task: Config = config.task
    run_dir = Path(run_dir)
    system = task.build_system()
    dt, mode = task.resolved_dt(system), task.resolved_mode()
    timings: dict[str, float] = {}
    with stage("data", timings):
        data = load_data(config, system, dt, mode)
    score = forecast_run if mode == "forecast" else hidden_run
    metrics = score(config, system, dt, data, run_dir, timings)
    exponent = system.lyapunov_exponent
    metrics["system"] = {"name": system.name, "parameters": {k: list(v) if isinstance(v, tuple) else v
                                                            for k, v in system.parameters.items()},
                         "lyapunov_exponent": exponent, "time_unit": system.time_unit,
                         "time_unit_name": system.time_unit_name, "dt": dt,
                         "features": list(system.feature_names)}
    metrics["n_seeds"] = task.n_seeds
    metrics["window"] = task.window
    return TaskResult(objective=metrics["network"]["val_loss_mean"], objective_name="network.val_loss_mean",
                      metrics=metrics, timings=timings)

