"""``task=ising``: learn the 2D Ising ferromagnetic transition from raw spin configurations.

Carrasquilla & Melko, Nature Physics 13, 431 (2017); the splits of Mehta et al., Phys. Rep. 810, 1 (2019).
Monte Carlo configurations of the L x L square lattice at temperatures spanning both phases, labelled
ordered (T < T_c = 2/ln(1+sqrt 2)) or disordered; the critical window is held out of training and test.
``task.n_seeds`` networks (any model the task supports: ``model=mlp``, ``model=cnn``) and the baselines
(``conf/baseline/ising.yaml``, incl. the physics baseline: a threshold on |m|) are trained on the same split
(:func:`physics.tasks.ising.data.run_size`). Then:

* T_c: where the mean P(ordered) over the evaluation set (test + window) crosses 1/2, with a bootstrap over
  samples and training seeds (:func:`physics.transition.crossing.probability_crossing`); the same for every
  baseline.
* What it learned: correlations of the network's output and of the leading direction of its hidden features
  (``Sequential.hidden_features``) with m, |m| and the energy; its first-layer weights.
* Without labels: PCA (Wang 2016) and learning by confusion (van Nieuwenburg et al. 2017).
* Transfer: the square-lattice network on triangular-lattice configurations (exact T_c = 4/ln 3).

Metrics (flat keys): ``accuracy_test``, ``accuracy_critical`` (mean over seeds), ``tc_estimate``, ``tc_stderr``,
``tc_exact``, ``tc_error``, ``network.val_loss``, ``baselines.<name>.*``, ``learned.*``, ``pca.*``,
``confusion.*``, ``transfer.*``. The objective is ``task.objective``, minimised: by default ``network.val_loss``,
the networks' best validation loss (mean over seeds), which a user may tune on honestly; ``tc_error``,
``test_error`` and ``critical_error`` remain selectable for reporting.
Files: figures/*.png, per_temperature.csv, confusion.csv, model*.npz/json (the trained networks).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from scipy.stats import pearsonr, spearmanr

from core.serialize import save
from physics.app.io import write_csv
from physics.app.networks import MLPConfig
from physics.app.result import TaskResult
from physics.app.schema import AppConfig, TrainerConfig
from physics.app.seeding import generator, integer_seed
from physics.app.training import network_estimator, stage
from physics.ising.lattice import critical_temperature
from physics.ising.temperatures import temperature_grid
from physics.tasks.ising import figures
from physics.tasks.ising.config import Config
from physics.tasks.ising.data import (best_val_loss, flat, load_dataset, ordered_probability, run_size,
                                      split_by_temperature)
from physics.transition import plots
from physics.transition.crossing import group_means, probability_crossing
from physics.transition.unsupervised import confusion_guesses, learning_by_confusion, pca_analysis

log = logging.getLogger(__name__)


def objective(metrics: dict, name: str) -> tuple[float, str]:
    """(value, name) of ``task.objective`` from the nested metrics; the errors are 1 - accuracy."""
    if name == "val_loss":
        return metrics["network"]["val_loss"], "network.val_loss"
    if name == "tc_error":
        return metrics["tc_error"], name
    return 1.0 - metrics["accuracy_test" if name == "test_error" else "accuracy_critical"], name


def run(config: AppConfig, run_dir: Path) -> TaskResult:
    task: Config = config.task
    run_dir, timings = Path(run_dir), {}
    figure_dir = run_dir / "figures"
    tc_exact = critical_temperature("square")

    size = run_size(config, task.L, task.grid(), split_stream="split",
                    bootstrap_rng=generator(config.seed, "bootstrap"), timings=timings)
    data, split, networks, scores = size.data, size.split, size.networks, size.scores
    network = scores["network"]
    log.info("network: test accuracy %.4f, critical-window accuracy %.4f, T_c = %.4f ± %.4f (exact %.4f)",
             network.accuracy_test, network.accuracy_critical, network.tc.value, network.tc.stderr, tc_exact)

    metrics = {"tc_exact": tc_exact, **network.metrics(tc_exact), "L": task.L, "n_train": size.n_train,
               "n_test": int(split.test.size), "n_critical": int(split.window.size),
               "n_temperatures": int(data.temperatures.size),
               "network": {"fit_seconds": timings["training"], "n_parameters": networks[0].network_.n_parameters(),
                           "epochs": float(np.mean([len(n.history_.loss) for n in networks])),
                           "val_loss": best_val_loss(networks)},
               "baselines": {name: {**scores[name].metrics(tc_exact), "fit_seconds": seconds}
                             for name, seconds in size.baseline_seconds.items()}}
    with stage("interpretation", timings):
        metrics["learned"] = _what_it_learned(networks[0], config, data, split, size.X_eval, figure_dir)
    if task.pca.enabled:
        with stage("pca", timings):
            metrics["pca"] = _pca(config, data, figure_dir)
    if task.confusion.enabled:
        with stage("confusion", timings):
            metrics["confusion"] = _confusion(config, data, run_dir, figure_dir)
    if task.transfer.enabled:
        with stage("transfer", timings):
            metrics["transfer"] = _transfer(config, networks, figure_dir)

    with stage("figures", timings):
        figures.results(data, split, scores, [n.history_ for n in networks], task, tc_exact, run_dir)
        for replica, net in enumerate(networks):
            save(net.network_, run_dir / ("model" if replica == 0 else f"model_seed{replica}"))
    value, name = objective(metrics, task.objective)
    return TaskResult(objective=value, objective_name=name, direction="minimize", metrics=metrics, timings=timings)


def _what_it_learned(network, config: AppConfig, data, split, X_eval: np.ndarray, figure_dir: Path) -> dict:
    """Correlations of the output margin and the hidden features' leading direction with m, |m| and E."""
    m, energy = data.magnetization[split.evaluation], data.energy[split.evaluation]
    margin = network.decision_function(X_eval)  # logit difference (softmax) or the logit (sigmoid)
    centred = network.hidden_features(X_eval)
    centred = centred - centred.mean(axis=0)
    direction = np.linalg.svd(centred, full_matrices=False)[2][0]  # leading principal direction
    h1 = centred @ direction
    out = {"output_abs_m_spearman": float(spearmanr(margin, np.abs(m))[0]),
           "output_energy_spearman": float(spearmanr(margin, energy)[0]),
           "hidden_pc1_explained": float((centred @ direction).var() / centred.var(axis=0).sum()),
           # the sign of a principal direction is arbitrary: absolute Pearson correlations
           "hidden_pc1_m_abs_pearson": float(abs(pearsonr(h1, m)[0])),
           "hidden_pc1_abs_m_abs_pearson": float(abs(pearsonr(h1, np.abs(m))[0])),
           "hidden_pc1_energy_abs_pearson": float(abs(pearsonr(h1, energy)[0]))}
    figures.what_it_learned(out, m, energy, margin, h1, data.temperature[split.evaluation],
                            figure_dir / "learned_features.png")
    figures.first_layer(network.network_.layers[0], data.L, figure_dir / "filters.png")
    log.info("learned: output vs |m| Spearman %.3f, vs E %.3f; hidden PC1 vs m %.3f, |m| %.3f, E %.3f",
             out["output_abs_m_spearman"], out["output_energy_spearman"], out["hidden_pc1_m_abs_pearson"],
             out["hidden_pc1_abs_m_abs_pearson"], out["hidden_pc1_energy_abs_pearson"])
    return out


def _pca(config: AppConfig, data, figure_dir: Path) -> dict:
    groups = np.searchsorted(data.temperatures, data.temperature)
    result = pca_analysis(flat(data.spins), data.temperatures, groups, config.task.pca.n_components,
                          integer_seed(config.seed, "pca"))
    abs_m = group_means(np.abs(data.magnetization), groups, data.temperatures.size)
    tc_exact = critical_temperature("square")
    plots.pca_summary(result, abs_m, data.L, tc_exact, data.temperature, figure_dir / "pca.png")
    ratio = result.explained_variance_ratio
    return {"tc_estimate": result.tc_estimate, "tc_error": abs(result.tc_estimate - tc_exact),
            "explained_variance_ratio_1": float(ratio[0]),
            "explained_variance_ratio_2": float(ratio[1]) if ratio.size > 1 else float("nan"),
            "uniformity": result.uniformity,
            "abs_p1_abs_m_pearson": float(pearsonr(np.abs(result.projections[:, 0]),
                                                   np.abs(data.magnetization))[0])}


def _confusion(config: AppConfig, data, run_dir: Path, figure_dir: Path) -> dict:
    """One small MLP per guessed T_c' on a subset of every temperature (the window included), trained through
    the one training path without early stopping."""
    task, settings = config.task, config.task.confusion
    train_idx, test_idx = split_by_temperature(data.temperature, data.temperatures, task.test_fraction,
                                               generator(config.seed, "confusion/split"),
                                               limit=settings.n_per_temperature)
    X_train, X_test = flat(data.spins[train_idx]), flat(data.spins[test_idx])
    model = MLPConfig(hidden=[settings.hidden], activation=config.model.activation, dtype="float32")
    trainer = TrainerConfig(epochs=settings.epochs, batch_size=config.trainer.batch_size, early_stopping=False)

    def train_and_score(k: int, y_train: np.ndarray, y_test: np.ndarray) -> float:
        network = network_estimator(config, "classifier", (data.L, data.L), 2, model=model, trainer=trainer,
                                    network_seed=integer_seed(config.seed, f"confusion/{k}"),
                                    training_stream=f"confusion/training/{k}", description=f"confusion {k}")
        network.fit(X_train, y_train)
        return float(np.mean(network.predict(X_test) == y_test))

    guesses = confusion_guesses(float(data.temperatures.min()), float(data.temperatures.max()), settings.n_guesses)
    result = learning_by_confusion(guesses, data.temperature[train_idx], data.temperature[test_idx],
                                   train_and_score)
    tc_exact = critical_temperature("square")
    plots.confusion_w(result, tc_exact, figure_dir / "confusion.png")
    write_csv(run_dir / "confusion.csv", [{"guess": g, "accuracy": a, "one_class": bool(t)} for g, a, t
                                          in zip(result.guesses, result.accuracy, result.trivial)])
    return {"tc_estimate": result.tc_estimate, "tc_error": abs(result.tc_estimate - tc_exact),
            "n_guesses": int(guesses.size), "n_trained": int((~result.trivial).sum()),
            "n_train": int(train_idx.size), "n_test": int(test_idx.size)}


def _transfer(config: AppConfig, networks: list, figure_dir: Path) -> dict:
    """The square-lattice networks on triangular-lattice configurations of the same L."""
    task, settings = config.task, config.task.transfer
    T = temperature_grid(settings.temperature_range, settings.temperature_step)
    data = load_dataset(config, task.L, T, settings.n_per_temperature, lattice="triangular")
    X = flat(data.spins)
    P = np.stack([ordered_probability(network, X, task.loss) for network in networks])
    groups = np.searchsorted(data.temperatures, data.temperature)
    tc = probability_crossing(data.temperatures, P, groups, n_boot=task.n_bootstrap,
                              rng=generator(config.seed, "transfer/bootstrap"), label="triangular transfer")
    tc_exact = critical_temperature("triangular")
    accuracy = float(np.mean((P > 0.5) == data.label.astype(bool)))
    log.info("transfer to the triangular lattice: T_c = %.4f ± %.4f (exact 4/ln 3 = %.4f), accuracy %.4f",
             tc.value, tc.stderr, tc_exact, accuracy)
    plots.ordered_probability(data.temperatures, {"square-lattice network": (tc.curve, tc.curve_stderr, tc)},
                              tc_exact, None, figure_dir / "transfer_triangular.png",
                              title=f"transfer to the triangular lattice, L = {task.L}")
    return {"tc_estimate": tc.value, "tc_stderr": tc.stderr, "tc_exact": tc_exact,
            "tc_error": abs(tc.value - tc_exact), "accuracy": accuracy}
