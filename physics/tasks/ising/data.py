"""The building blocks of ``task=ising``'s replicas: Monte Carlo data (cached), the labelled protocol's split,
the training set, one network, the baselines, and every model's P(ordered).

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
from physics.app.training import network_estimator
from physics.ising.dataset import IsingDataset, generate_dataset
from physics.tasks.ising.augment import augment

log = logging.getLogger(__name__)


def load_dataset(config: AppConfig, L: int, temperatures, n_per_temperature: int, seed: int,
                 lattice: str = "square") -> IsingDataset:
    """Monte Carlo configurations from :func:`physics.ising.generate_dataset` with Monte Carlo seed ``seed``
    (a replica's, :func:`replica_seed`), cached in ``config.data_dir``: every run with that seed shares them.
    With ``data.cache=read`` nothing is generated: a missing temperature raises
    :class:`physics.ising.dataset.IsingCacheMissing`. Every call must be listed by :func:`data_requests`."""
    task = config.task
    return generate_dataset(L, np.asarray(temperatures, dtype=np.float64), n_per_temperature, seed=seed,
                            lattice=lattice, algorithm=task.algorithm, cache_dir=config.data_dir,
                            n_jobs=task.n_jobs, progress=config.progress, read_only=config.data.cache == "read")


def data_requests(config: AppConfig) -> list[DataRequest]:
    """Every Monte Carlo set a run of ``task=ising`` (or ``ising_autoencoder``) loads with :func:`load_dataset`, in
    the order it loads them: what ``ml4phys data`` generates. Keep in step with replica.py and analysis.py (the
    cluster tests run a task on a cache filled from this list with ``data.cache=read``)."""
    task = config.task
    if task.name == "ising_autoencoder":  # physics/tasks/ising_autoencoder/replica.py
        T = tuple(task.grid().tolist())
        return [DataRequest(L, T, task.n_per_temperature, replica_seed(config.seed, r))
                for r in range(task.n_replicas) for L in task.sizes]
    T, requests = tuple(task.grid().tolist()), []
    for r in range(task.n_replicas):  # replica.py
        seed = replica_seed(config.seed, r)
        if task.protocol == "extremes":
            requests.append(DataRequest(task.network_L, tuple(task.training_grid().tolist()),
                                        task.n_train_per_temperature, seed))
        requests += [DataRequest(L, T, task.n_per_temperature, seed) for L in task.sizes]
    if task.confusion.enabled:  # analysis.confusion
        from physics.ising.temperatures import temperature_grid

        c = task.confusion
        requests.append(DataRequest(c.L, tuple(temperature_grid(c.temperature_range, c.temperature_step).tolist()),
                                    c.n_per_temperature, config.seed))
    if task.transfer.enabled and task.protocol == "extremes":  # analysis.transfer
        grid = tuple(task.transfer.grid().tolist())
        requests += [DataRequest(L, grid, task.transfer.n_per_temperature, replica_seed(config.seed, r),
                                 "triangular") for r in range(task.n_replicas) for L in task.transfer.sizes]
    return requests


@dataclass(frozen=True)
class DataRequest:
    """One call of :func:`load_dataset`: lattice size ``L``, ``temperatures`` (J/k_B), configurations per
    temperature, Monte Carlo seed, lattice."""

    L: int
    temperatures: tuple
    n_per_temperature: int
    seed: int
    lattice: str = "square"


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


def augmented(config: AppConfig, spins: np.ndarray, labels: np.ndarray, stream: str) -> tuple[np.ndarray, np.ndarray]:
    """The training set with the symmetry images ``task.augment`` asks for (random stream ``stream``)."""
    task = config.task
    if not task.augment:
        return spins, labels
    spins, labels = augment(spins, labels, task.augment, n_translations=task.n_translations,
                            rng=generator(config.seed, stream))
    log.info("augmented the training set with %s: %d configurations", task.augment, len(labels))
    return spins, labels


def replica_seed(seed: int, replica: int) -> int:
    """Seed of replica ``replica`` (its Monte Carlo data and its network's initial weights): the config's seed
    for the first, derived streams for the others."""
    return seed if replica == 0 else integer_seed(seed, f"replica/{replica}")


def train_network(config: AppConfig, spins: np.ndarray, labels: np.ndarray, replica: int, tag: str = ""):
    """One fitted classifier (:func:`physics.app.training.network_estimator`) for replica ``replica``: initial
    weights from :func:`replica_seed`, batches from the stream ``training/<tag><replica>``."""
    task = config.task
    n_outputs = 2 if task.loss == "softmax_cross_entropy" else 1
    network = network_estimator(config, "classifier", spins.shape[1:], n_outputs,
                                network_seed=replica_seed(config.seed, replica),
                                training_stream=f"training/{tag}{replica}", loss=task.loss,
                                description=f"ising {tag}replica {replica}")
    network.fit(flat(spins), labels)
    history = network.history_
    log.info("network %sreplica %d: %d epochs, final validation loss %s", tag, replica, len(history.loss),
             f"{history.val_loss[-1]:.4g}" if history.val_loss else "n/a")
    return network


def best_val_loss(network) -> float:
    """The network's best validation loss (NaN without a validation set)."""
    return float(min(network.history_.val_loss)) if network.history_.val_loss else float("nan")


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


def fit_baselines(config: AppConfig, spins: np.ndarray, labels: np.ndarray, evaluation: dict, seed: int) -> dict:
    """Fit every configured baseline (random states from ``seed``) on flat spins; name -> (P(ordered) on each
    flat array of ``evaluation`` (key -> (n_k, L*L)), fit seconds)."""
    outcomes = fit_and_predict(build_baselines(config.baseline, seed), flat(spins), labels, _probability_ordered,
                               evaluation)
    return {name: (outcome["predictions"], outcome["fit_seconds"]) for name, outcome in outcomes.items()}
