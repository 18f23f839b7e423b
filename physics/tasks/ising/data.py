"""The per-size pipeline both Ising tasks run: data and split, the networks, the baselines, the scores.

Data flow for one lattice size L: Monte Carlo configurations at every temperature of the grid (cached) ->
per temperature outside the critical window a random train/test split, the window held out entirely (or split
too) -> (optional symmetry augmentation of the training set) -> ``task.n_seeds`` networks and the baselines
trained on the same training set -> every model's P(ordered) on the *evaluation* set (the test configurations
plus the window) -> accuracies and the T_c crossing with bootstrap errors (:func:`run_size`).
Temperatures in units of J/k_B. Every model sees flat spins (n, L*L); the networks reshape them to their
declared input shape themselves.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from core.losses import sigmoid, softmax
from physics.app.baselines import build_baselines, fit_and_predict
from physics.app.schema import AppConfig
from physics.app.seeding import generator, integer_seed
from physics.app.training import network_estimator, stage
from physics.ising.dataset import IsingDataset, generate_dataset
from physics.tasks.ising.augment import augment
from physics.transition.crossing import CrossingEstimate, group_means, probability_crossing

log = logging.getLogger(__name__)


def load_dataset(config: AppConfig, L: int, temperatures, n_per_temperature: int,
                 lattice: str = "square") -> IsingDataset:
    """Monte Carlo configurations from :func:`physics.ising.generate_dataset`, cached in ``config.data_dir``.

    The Monte Carlo seed is the config's seed, so every run with that seed shares the cache.
    """
    task = config.task
    return generate_dataset(L, np.asarray(temperatures, dtype=np.float64), n_per_temperature, seed=config.seed,
                            lattice=lattice, algorithm=task.algorithm, cache_dir=config.data_dir,
                            n_jobs=task.n_jobs, progress=config.progress)


def flat(spins: np.ndarray) -> np.ndarray:
    """Spins (n, L, L) as the float32 features (n, L*L) every model is given."""
    return np.asarray(spins).reshape(len(spins), -1).astype(np.float32)


@dataclass(frozen=True)
class Split:
    """Indices into a dataset. train: training configurations. test: test configurations outside the
    critical window. window: evaluated configurations inside the window (all of them when it is held out, its
    test share otherwise). evaluation: test + window, sorted.
    groups: (len(evaluation),) index into ``temperatures`` of each evaluation sample."""

    train: np.ndarray
    test: np.ndarray
    window: np.ndarray
    evaluation: np.ndarray
    groups: np.ndarray
    temperatures: np.ndarray


def split_by_temperature(temperature: np.ndarray, chosen_temperatures, test_fraction: float,
                         rng: np.random.Generator, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, test) indices: for each of ``chosen_temperatures`` its samples (at most ``limit``, drawn
    at random) split at random with a share ``test_fraction`` in the test set."""
    train, test = [], []
    for T in chosen_temperatures:
        members = rng.permutation(np.flatnonzero(temperature == T))[:limit]
        n_test = int(round(test_fraction * members.size))
        test.append(members[:n_test])
        train.append(members[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def split_dataset(data: IsingDataset, window, test_fraction: float, rng: np.random.Generator,
                  hold_out_window: bool = True) -> Split:
    """Split per temperature into train and test; the critical window ``[low, high]`` (inclusive) is held out
    entirely (evaluated as a whole) when ``hold_out_window``, else split like every other temperature."""
    low, high = window
    inside = (data.temperatures >= low) & (data.temperatures <= high)
    chosen = data.temperatures[~inside] if hold_out_window else data.temperatures
    train, test = split_by_temperature(data.temperature, chosen, test_fraction, rng)
    in_window = (data.temperature >= low) & (data.temperature <= high)
    if hold_out_window:
        window_idx = np.flatnonzero(in_window)
        evaluation = np.sort(np.concatenate([test, window_idx]))
    else:
        window_idx, evaluation = test[in_window[test]], test
    groups = np.searchsorted(data.temperatures, data.temperature[evaluation])
    return Split(train=train, test=test[~in_window[test]], window=window_idx, evaluation=evaluation,
                 groups=groups, temperatures=data.temperatures)


def training_set(data: IsingDataset, split: Split, config: AppConfig) -> tuple[np.ndarray, np.ndarray]:
    """Training spins (int8, augmented if the config asks) and labels (1 = ordered)."""
    task = config.task
    spins, labels = data.spins[split.train], data.label[split.train]
    if task.augment:
        spins, labels = augment(spins, labels, task.augment, n_translations=task.n_translations,
                                rng=generator(config.seed, f"augment/L{data.L}"))
        log.info("augmented the training set with %s: %d configurations", task.augment, len(labels))
    return spins, labels


def replica_seed(seed: int, replica: int) -> int:
    """Seed of training run ``replica``: the config's seed for the first, derived streams for the others."""
    return seed if replica == 0 else integer_seed(seed, f"replica/{replica}")


def train_networks(config: AppConfig, spins: np.ndarray, labels: np.ndarray, tag: str = "") -> list:
    """``task.n_seeds`` fitted classifiers (:func:`physics.app.training.network_estimator`) on the same data,
    from independent initial weights (``replica/<k>`` seeds) and batch streams (``training/<tag><k>``)."""
    task = config.task
    X = flat(spins)
    n_outputs = 2 if task.loss == "softmax_cross_entropy" else 1
    networks = []
    for replica in range(task.n_seeds):
        network = network_estimator(config, "classifier", spins.shape[1:], n_outputs,
                                    network_seed=replica_seed(config.seed, replica),
                                    training_stream=f"training/{tag}{replica}", loss=task.loss,
                                    description=f"ising {tag}seed {replica}")
        network.fit(X, labels)
        history = network.history_
        log.info("network %s%d: %d epochs, final validation loss %s", tag, replica, len(history.loss),
                 f"{history.val_loss[-1]:.4g}" if history.val_loss else "n/a")
        networks.append(network)
    return networks


def best_val_loss(networks: list) -> float:
    """The networks' best validation loss, mean over seeds (NaN without a validation set)."""
    return float(np.mean([min(n.history_.val_loss) if n.history_.val_loss else np.nan for n in networks]))


def logits(network, X: np.ndarray) -> np.ndarray:
    """The network's raw output for flat X, reshaped to its declared input shape. (n, n_outputs)"""
    model = network.network_
    return model.predict(X.reshape(len(X), *model.input_shape))


def ordered_probability(network, X: np.ndarray, loss: str) -> np.ndarray:
    """P(ordered) from the network's logits: softmax column 1, or the sigmoid of the one logit. (n,)"""
    output = logits(network, X)
    if loss == "softmax_cross_entropy":
        return softmax(output)[:, 1].astype(np.float64)
    return sigmoid(output[:, 0]).astype(np.float64)


def _probability_ordered(estimator, X: np.ndarray) -> np.ndarray:
    return estimator.predict_proba(X)[:, list(estimator.classes_).index(1)].astype(np.float64)


def fit_baselines(config: AppConfig, spins: np.ndarray, labels: np.ndarray, X_eval: np.ndarray) -> dict:
    """Fit every configured baseline on flat spins; name -> (P(ordered) on X_eval (n,), fit seconds)."""
    outcomes = fit_and_predict(build_baselines(config.baseline, config.seed), flat(spins), labels,
                               _probability_ordered, {"evaluation": X_eval})
    return {name: (outcome["predictions"]["evaluation"], outcome["fit_seconds"])
            for name, outcome in outcomes.items()}


@dataclass(frozen=True)
class ModelScores:
    """One model's results on the evaluation set. probabilities: (n_runs, n_eval). accuracy_*: mean over runs,
    *_std: spread over runs. per_temperature_accuracy: (n_T,). tc: the crossing of the mean P(ordered)."""

    probabilities: np.ndarray
    accuracy_test: float
    accuracy_test_std: float
    accuracy_critical: float
    accuracy_critical_std: float
    per_temperature_accuracy: np.ndarray
    tc: CrossingEstimate

    def metrics(self, tc_exact: float) -> dict:
        return {"accuracy_test": self.accuracy_test, "accuracy_test_std": self.accuracy_test_std,
                "accuracy_critical": self.accuracy_critical, "accuracy_critical_std": self.accuracy_critical_std,
                "tc_estimate": self.tc.value, "tc_stderr": self.tc.stderr, "tc_ci_low": self.tc.ci_low,
                "tc_ci_high": self.tc.ci_high, "tc_error": abs(self.tc.value - tc_exact),
                "tc_bootstrap_failed": self.tc.n_failed}


def score_model(probabilities: np.ndarray, data: IsingDataset, split: Split, n_boot: int,
                rng: np.random.Generator, name: str = "") -> ModelScores:
    """Accuracies (test set, critical window, per temperature) and the T_c crossing of one model's runs."""
    P = np.atleast_2d(probabilities)
    labels = data.label[split.evaluation]
    correct = (P > 0.5) == labels.astype(bool)  # (n_runs, n_eval)
    in_window = np.isin(split.evaluation, split.window)
    test_acc, critical_acc = correct[:, ~in_window].mean(axis=1), correct[:, in_window].mean(axis=1)
    per_T = group_means(correct.mean(axis=0), split.groups, split.temperatures.size)
    tc = probability_crossing(split.temperatures, P, split.groups, n_boot=n_boot, rng=rng,
                              label=f"{name} (L = {data.L})")
    return ModelScores(probabilities=P, accuracy_test=float(test_acc.mean()),
                       accuracy_test_std=float(test_acc.std()), accuracy_critical=float(critical_acc.mean()),
                       accuracy_critical_std=float(critical_acc.std()), per_temperature_accuracy=per_T, tc=tc)


def curve_columns(scores: dict, index: int) -> dict:
    """The per-temperature CSV columns of every model at temperature ``index``: mean P(ordered), its bootstrap
    error and the accuracy."""
    row = {}
    for name, score in scores.items():
        row.update({f"{name}_p_ordered": score.tc.curve[index],
                    f"{name}_p_ordered_stderr": score.tc.curve_stderr[index],
                    f"{name}_accuracy": score.per_temperature_accuracy[index]})
    return row


@dataclass
class SizeRun:
    """Everything one lattice size gave. networks: the fitted classifiers (one per seed); scores: model name
    (``network`` first, then the baselines) -> :class:`ModelScores`; baseline_seconds: name -> fit seconds;
    X_eval: the flat evaluation spins."""

    data: IsingDataset
    split: Split
    n_train: int
    networks: list
    scores: dict
    baseline_seconds: dict
    X_eval: np.ndarray


def run_size(config: AppConfig, L: int, temperatures: np.ndarray, *, split_stream: str,
             bootstrap_rng: np.random.Generator, tag: str = "", timings: dict | None = None) -> SizeRun:
    """The whole protocol at one lattice size: data, split (stream ``split_stream``), augmentation, the networks
    (streams ``training/<tag><k>``), the baselines, and every model's accuracies and T_c crossing (bootstrap
    from ``bootstrap_rng``, network first, then the baselines in config order). Stages are timed in
    ``timings`` (data, training, baselines, T_c) when given."""
    task = config.task
    with stage("data", timings):
        data = load_dataset(config, L, temperatures, task.n_per_temperature)
        split = split_dataset(data, task.critical_window, task.test_fraction, generator(config.seed, split_stream),
                              task.hold_out_window)
        spins, labels = training_set(data, split, config)
        log.info("L = %d: %d temperatures, %d training, %d test and %d critical-window configurations",
                 L, data.temperatures.size, len(labels), split.test.size, split.window.size)
    with stage("training", timings):
        networks = train_networks(config, spins, labels, tag)
    X_eval = flat(data.spins[split.evaluation])
    probabilities = {"network": np.stack([ordered_probability(net, X_eval, task.loss) for net in networks])}
    with stage("baselines", timings):
        baselines = fit_baselines(config, spins, labels, X_eval)
        probabilities.update({name: P for name, (P, _) in baselines.items()})
    with stage("T_c", timings):
        scores = {name: score_model(P, data, split, task.n_bootstrap, bootstrap_rng, name)
                  for name, P in probabilities.items()}
    return SizeRun(data=data, split=split, n_train=int(len(labels)), networks=networks, scores=scores,
                   baseline_seconds={name: seconds for name, (_, seconds) in baselines.items()}, X_eval=X_eval)
