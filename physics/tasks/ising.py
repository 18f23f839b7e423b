"""``task=ising``: learn the 2D Ising ferromagnetic transition from raw spin configurations.

Carrasquilla & Melko, Nature Physics 13, 431 (2017); the splits of Mehta et al., Phys. Rep. 810, 1 (2019).
Monte Carlo configurations of the L x L square lattice at temperatures spanning both phases, labelled
ordered (T < T_c = 2/ln(1+sqrt 2)) or disordered; the critical window is held out of training and test.
``task.n_seeds`` networks (``model=mlp`` or ``model=cnn``) and the baselines (``conf/baseline/ising.yaml``,
incl. the physics baseline: a threshold on |m|) are trained on the same split. Then:

* T_c: where the mean P(ordered) over the evaluation set (test + window) crosses 1/2, with a bootstrap over
  samples and training seeds (:func:`physics.ising.analysis.probability_crossing`); the same for every baseline.
* What it learned: correlations of the network's output and of the leading direction of its last hidden
  layer with m, |m| and the energy; its first-layer weights (CNN kernels or MLP weight maps).
* Without labels: PCA (Wang 2016) and learning by confusion (van Nieuwenburg et al. 2017).
* Transfer: the square-lattice network on triangular-lattice configurations (exact T_c = 4/ln 3).

Metrics (flat keys): ``accuracy_test``, ``accuracy_critical`` (mean over seeds), ``tc_estimate``, ``tc_stderr``,
``tc_exact``, ``tc_error``, ``baselines.<name>.*``, ``learned.*``, ``pca.*``, ``confusion.*``, ``transfer.*``;
``objective`` is chosen by ``task.objective`` (default |tc_estimate - tc_exact|), minimised.
Files: figures/*.png, per_temperature.csv, confusion.csv, model*.npz/json (the trained networks).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from scipy.stats import pearsonr, spearmanr

from core.losses import SoftmaxCrossEntropy
from core.training import fit
from physics import plots as common_plots
from physics.config import AppConfig, MLPConfig
from physics.ising import plots
from physics.ising.analysis import group_means, probability_crossing
from physics.ising.lattice import critical_temperature
from physics.ising.unsupervised import confusion_guesses, learning_by_confusion, pca_analysis
from physics.io import write_csv
from physics.seeding import generator, integer_seed
from physics.tasks.common import build_network, build_optimizer, save_model, stage
from physics.tasks.ising_common import (as_input, check_model_fits, curve_columns, fit_baselines,
                                        load_dataset, ordered_margin, ordered_probability, score_model,
                                        split_by_temperature, split_dataset, train_networks, training_set)
from physics.tasks.ising_config import IsingTaskConfig, temperature_grid

log = logging.getLogger(__name__)


def run_task(config: AppConfig, run_dir: Path) -> dict:
    task: IsingTaskConfig = config.task
    check_model_fits(config.model, task.L)
    run_dir = Path(run_dir)
    timings = {}
    figures = run_dir / "figures"
    tc_exact = critical_temperature("square")

    with stage("data", timings):
        data = load_dataset(config, task.L, task.grid(), task.n_per_temperature)
        split = split_dataset(data, task.critical_window, task.test_fraction, generator(config.seed, "split"),
                              task.hold_out_window)
        train_spins, train_labels = training_set(data, split, config)
        log.info("L = %d: %d temperatures, %d training, %d test and %d critical-window configurations",
                 task.L, data.temperatures.size, len(train_labels), split.test.size, split.window.size)

    with stage("training", timings):
        runs = train_networks(config, train_spins, train_labels)
    X_eval = as_input(data.spins[split.evaluation], config.model.name)
    probabilities = {"network": np.stack([ordered_probability(net, X_eval, task.loss) for net, _ in runs])}
    with stage("baselines", timings):
        flat_eval = data.spins[split.evaluation].reshape(split.evaluation.size, -1).astype(np.float32)
        baselines = fit_baselines(config, train_spins, train_labels, flat_eval)
        probabilities.update({name: P for name, (P, _) in baselines.items()})
    with stage("T_c", timings):
        rng = generator(config.seed, "bootstrap")
        scores = {name: score_model(P, data, split, task.n_bootstrap, rng, name)
                  for name, P in probabilities.items()}
    network = scores["network"]
    log.info("network: test accuracy %.4f, critical-window accuracy %.4f, T_c = %.4f ± %.4f (exact %.4f)",
             network.accuracy_test, network.accuracy_critical, network.tc.value, network.tc.stderr, tc_exact)

    results = {"tc_exact": tc_exact, **network.metrics(tc_exact), "L": task.L,
               "n_train": int(len(train_labels)), "n_test": int(split.test.size),
               "n_critical": int(split.window.size), "n_temperatures": int(data.temperatures.size),
               "network": {"fit_seconds": timings["training"], "n_parameters": runs[0][0].n_parameters(),
                           "epochs": float(np.mean([len(h.loss) for _, h in runs]))},
               "baselines": {name: {**scores[name].metrics(tc_exact), "fit_seconds": seconds}
                             for name, (_, seconds) in baselines.items()}}
    with stage("interpretation", timings):
        results["learned"] = _what_it_learned(runs[0][0], config, data, split, X_eval, figures)
    if task.pca.enabled:
        with stage("pca", timings):
            results["pca"] = _pca(config, data, figures)
    if task.confusion.enabled:
        with stage("confusion", timings):
            results["confusion"] = _confusion(config, data, run_dir, figures)
    if task.transfer.enabled:
        with stage("transfer", timings):
            results["transfer"] = _transfer(config, runs, figures)

    with stage("figures", timings):
        _figures_and_tables(data, split, scores, runs, task, tc_exact, run_dir, figures)
        for replica, (net, _) in enumerate(runs):
            save_model(net, run_dir, "model" if replica == 0 else f"model_seed{replica}")

    objective = {"tc_error": results["tc_error"], "test_error": 1.0 - results["accuracy_test"],
                 "critical_error": 1.0 - results["accuracy_critical"]}[task.objective]
    return {"objective": objective, "objective_name": task.objective, "objective_direction": "minimize",
            **results, "seconds": timings}


def hidden_representation(network, X: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Activations feeding the output layer (the last hidden layer, or the CNN's pooled channels): (n, width)."""
    chunks = []
    for start in range(0, len(X), batch_size):
        H = X[start:start + batch_size].astype(network.dtype, copy=False)
        for layer in network.layers[:-1]:
            H = layer.forward(H, training=False)
        chunks.append(np.asarray(H, dtype=np.float64).reshape(len(H), -1))
    return np.concatenate(chunks)


def _what_it_learned(network, config: AppConfig, data, split, X_eval: np.ndarray, figures: Path) -> dict:
    """Correlations of the output margin and the hidden layer's leading direction with m, |m| and E."""
    m, energy = data.magnetization[split.evaluation], data.energy[split.evaluation]
    margin = ordered_margin(network, X_eval, config.task.loss)
    hidden = hidden_representation(network, X_eval)
    centred = hidden - hidden.mean(axis=0)
    direction = np.linalg.svd(centred, full_matrices=False)[2][0]  # leading principal direction
    h1 = centred @ direction
    out = {"output_abs_m_spearman": float(spearmanr(margin, np.abs(m))[0]),
           "output_energy_spearman": float(spearmanr(margin, energy)[0]),
           "hidden_pc1_explained": float((centred @ direction).var() / centred.var(axis=0).sum()),
           # the sign of a principal direction is arbitrary: absolute Pearson correlations
           "hidden_pc1_m_abs_pearson": float(abs(pearsonr(h1, m)[0])),
           "hidden_pc1_abs_m_abs_pearson": float(abs(pearsonr(h1, np.abs(m))[0])),
           "hidden_pc1_energy_abs_pearson": float(abs(pearsonr(h1, energy)[0]))}
    T = data.temperature[split.evaluation]
    plots.learned_features(
        [(np.abs(m), margin, "|m|", "output margin (logit of ordered)", f"Spearman {out['output_abs_m_spearman']:.3f}"),
         (energy, margin, "energy per spin (J)", "output margin", f"Spearman {out['output_energy_spearman']:.3f}"),
         (m, h1, "m", "hidden layer, leading direction", f"|Pearson| {out['hidden_pc1_m_abs_pearson']:.3f}"),
         (np.abs(m), h1, "|m|", "hidden layer, leading direction",
          f"|Pearson| {out['hidden_pc1_abs_m_abs_pearson']:.3f}")],
        T, figures / "learned_features.png", "what the network responds to (evaluation set)")
    first = network.layers[0]
    if config.model.name == "cnn":
        images, title = first.params["W"][:, 0], "first-layer convolution kernels"
    else:
        # random initial weights hide what training added; the leading singular vectors of W (L*L, units)
        # are the input patterns the hidden layer as a whole responds to most
        vectors, singular, _ = np.linalg.svd(np.asarray(first.params["W"], dtype=np.float64), full_matrices=False)
        images = vectors[:, :8].T.reshape(-1, data.L, data.L) * np.sign(vectors[:, :8].sum(axis=0))[:, None, None]
        title = ("leading singular vectors of the first-layer weights (L x L maps), singular values "
                 + ", ".join(f"{value:.2g}" for value in singular[:4]) + ", ...")
    plots.weight_images(np.asarray(images, dtype=np.float64), figures / "filters.png", title)
    log.info("learned: output vs |m| Spearman %.3f, vs E %.3f; hidden PC1 vs m %.3f, |m| %.3f, E %.3f",
             out["output_abs_m_spearman"], out["output_energy_spearman"], out["hidden_pc1_m_abs_pearson"],
             out["hidden_pc1_abs_m_abs_pearson"], out["hidden_pc1_energy_abs_pearson"])
    return out


def _pca(config: AppConfig, data, figures: Path) -> dict:
    groups = np.searchsorted(data.temperatures, data.temperature)
    X = data.spins.reshape(len(data), -1).astype(np.float32)
    result = pca_analysis(X, data.temperatures, groups, config.task.pca.n_components,
                          integer_seed(config.seed, "pca"))
    abs_m = group_means(np.abs(data.magnetization), groups, data.temperatures.size)
    tc_exact = critical_temperature("square")
    plots.pca_summary(result, abs_m, data.L, tc_exact, data.temperature, figures / "pca.png")
    ratio = result.explained_variance_ratio
    return {"tc_estimate": result.tc_estimate, "tc_error": abs(result.tc_estimate - tc_exact),
            "explained_variance_ratio_1": float(ratio[0]),
            "explained_variance_ratio_2": float(ratio[1]) if ratio.size > 1 else float("nan"),
            "uniformity": result.uniformity,
            "abs_p1_abs_m_pearson": float(pearsonr(np.abs(result.projections[:, 0]),
                                                   np.abs(data.magnetization))[0])}


def _confusion(config: AppConfig, data, run_dir: Path, figures: Path) -> dict:
    """One small MLP per guessed T_c' on a subset of every temperature (the window included)."""
    task, settings = config.task, config.task.confusion
    train_idx, test_idx = split_by_temperature(data.temperature, data.temperatures, task.test_fraction,
                                               generator(config.seed, "confusion/split"),
                                               limit=settings.n_per_temperature)
    X_train = data.spins[train_idx].reshape(train_idx.size, -1).astype(np.float32)
    X_test = data.spins[test_idx].reshape(test_idx.size, -1).astype(np.float32)
    model = MLPConfig(hidden=[settings.hidden], activation=config.model.activation, dtype="float32")

    def train_and_score(k: int, y_train: np.ndarray, y_test: np.ndarray) -> float:
        network = build_network(model, (X_train.shape[1],), 2, integer_seed(config.seed, f"confusion/{k}"))
        fit(network, SoftmaxCrossEntropy(), build_optimizer(config.optimizer, settings.epochs), X_train, y_train,
            epochs=settings.epochs, batch_size=task.batch_size, rng=generator(config.seed, f"confusion/training/{k}"))
        return float(np.mean(np.argmax(network.predict(X_test), axis=1) == y_test))

    guesses = confusion_guesses(float(data.temperatures.min()), float(data.temperatures.max()), settings.n_guesses)
    result = learning_by_confusion(guesses, data.temperature[train_idx], data.temperature[test_idx],
                                   train_and_score)
    tc_exact = critical_temperature("square")
    plots.confusion_w(result, tc_exact, figures / "confusion.png")
    write_csv(run_dir / "confusion.csv", [{"guess": g, "accuracy": a, "one_class": bool(t)} for g, a, t
                                          in zip(result.guesses, result.accuracy, result.trivial)])
    return {"tc_estimate": result.tc_estimate, "tc_error": abs(result.tc_estimate - tc_exact),
            "n_guesses": int(guesses.size), "n_trained": int((~result.trivial).sum()),
            "n_train": int(train_idx.size), "n_test": int(test_idx.size)}


def _transfer(config: AppConfig, runs: list, figures: Path) -> dict:
    """The square-lattice networks on triangular-lattice configurations of the same L."""
    task, settings = config.task, config.task.transfer
    T = temperature_grid(None, settings.temperature_range, settings.temperature_step, None, 1.0)
    data = load_dataset(config, task.L, T, settings.n_per_temperature, lattice="triangular")
    X = as_input(data.spins, config.model.name)
    P = np.stack([ordered_probability(network, X, task.loss) for network, _ in runs])
    groups = np.searchsorted(data.temperatures, data.temperature)
    tc = probability_crossing(data.temperatures, P, groups, n_boot=task.n_bootstrap,
                              rng=generator(config.seed, "transfer/bootstrap"), label="triangular transfer")
    tc_exact = critical_temperature("triangular")
    accuracy = float(np.mean((P > 0.5) == data.label.astype(bool)))
    log.info("transfer to the triangular lattice: T_c = %.4f ± %.4f (exact 4/ln 3 = %.4f), accuracy %.4f",
             tc.value, tc.stderr, tc_exact, accuracy)
    plots.ordered_probability(data.temperatures, {"square-lattice network": (tc.curve, tc.curve_stderr, tc)},
                              tc_exact, None, figures / "transfer_triangular.png",
                              title=f"transfer to the triangular lattice, L = {task.L}")
    return {"tc_estimate": tc.value, "tc_stderr": tc.stderr, "tc_exact": tc_exact,
            "tc_error": abs(tc.value - tc_exact), "accuracy": accuracy}


def _figures_and_tables(data, split, scores: dict, runs: list, task: IsingTaskConfig, tc_exact: float,
                        run_dir: Path, figures: Path) -> None:
    T = split.temperatures
    first = np.searchsorted(data.temperature, T)  # first configuration of every temperature
    plots.configurations(data.spins[first], T, task.sample_temperatures, figures / "configurations.png")
    plots.ordered_probability(T, {name: (s.tc.curve, s.tc.curve_stderr, s.tc) for name, s in scores.items()},
                              tc_exact, task.critical_window, figures / "ordered_probability.png",
                              title=f"L = {task.L}: mean P(ordered) on held-out configurations")
    plots.accuracy_by_temperature(T, {name: s.per_temperature_accuracy for name, s in scores.items()}, tc_exact,
                                  task.critical_window, figures / "accuracy_by_temperature.png")
    plots.model_summary({name: s.accuracy_test for name, s in scores.items()},
                        {name: s.accuracy_critical for name, s in scores.items()},
                        {name: (s.tc.value, s.tc.stderr) for name, s in scores.items()}, tc_exact,
                        figures / "models.png")
    common_plots.loss_curves({f"seed {k}": {"loss": h.loss, "val_loss": h.val_loss} for k, (_, h) in enumerate(runs)},
                             figures / "loss.png", ylabel="cross-entropy")
    groups = np.searchsorted(T, data.temperature)
    abs_m = group_means(np.abs(data.magnetization), groups, T.size)
    energy = group_means(data.energy, groups, T.size)
    counts = np.bincount(split.groups, minlength=T.size)
    low, high = task.critical_window
    rows = [{"T": temperature, "in_critical_window": bool(low <= temperature <= high), "n_evaluated": counts[i],
             "abs_magnetization": abs_m[i], "energy_per_spin": energy[i], **curve_columns(scores, i)}
            for i, temperature in enumerate(T)]
    write_csv(run_dir / "per_temperature.csv", rows)
