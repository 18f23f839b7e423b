"""The models of ``task=ising_generative``: the Monte Carlo sets, :class:`core.rbm.RBM` trained with the config's
optimizer and schedule, scikit-learn's BernoulliRBM (the baseline), sampling both the same way, and the
log-likelihood of either (exact or AIS, through :class:`core.rbm.RBM`).

Random streams (all from the config's one ``seed``): the training Monte Carlo set uses ``seed`` itself (the
engine's per-temperature streams, :func:`physics.ising.dataset.temperature_seed`), the held-out set the derived
integer seed ``integer_seed(seed, "ising_generative/heldout")`` (other chains, independent); every RBM its stream
``rbm/<name>/T<T>`` (initial weights, minibatch order, negative chains), its sampling ``sample/<name>/T<T>``, its
AIS ``ais/<name>/T<T>``; every baseline ``integer_seed(seed, "baseline/<name>/h<H>/T<T>")`` and its chains' start
``sample/<name>_h<H>/T<T>``.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from core.optim import get_optimizer
from core.rbm import RBM
from core.schedules import get_schedule
from physics.app.baselines import build_baselines
from physics.app.schema import AppConfig
from physics.app.seeding import integer_seed, seed_sequence
from physics.ising.dataset import IsingDataset, generate_dataset

log = logging.getLogger(__name__)


def temperature_key(T: float) -> str:
    """The metric key of a temperature: ``T2_269185`` for 2.269185 (no dot: dots separate flat keys)."""
    return "T" + repr(float(T)).replace(".", "_")


def heldout_seed(seed: int) -> int:
    """Monte Carlo seed of the held-out set (independent chains of the same engine)."""
    return integer_seed(seed, "ising_generative/heldout")


def load_sets(config: AppConfig) -> tuple[IsingDataset, IsingDataset]:
    """The training and the held-out Monte Carlo sets, ``task.n_train`` configurations per temperature each,
    cached in ``config.data_dir`` (a warm run reads them)."""
    task = config.task

    def load(seed: int) -> IsingDataset:
        return generate_dataset(task.L, np.asarray(task.temperatures, dtype=np.float64), task.n_train, seed=seed,
                                algorithm=task.algorithm, cache_dir=config.data_dir, n_jobs=task.n_jobs,
                                progress=config.progress)

    return load(config.seed), load(heldout_seed(config.seed))


def make_optimizer(config: AppConfig):
    """The ``optimizer`` node with the ``schedule`` node as a :mod:`core.optim` optimizer, as every network of the
    suite gets it (core/_estimator.py): cosine's ``total_epochs`` defaults to ``trainer.epochs``."""
    optimizer, schedule = config.optimizer, config.schedule
    schedule_params = schedule.own_keys()
    if schedule.name == "cosine":
        schedule_params.setdefault("total_epochs", config.trainer.epochs)
    built = None if schedule.name == "constant" else get_schedule(schedule.name, **schedule_params)
    return get_optimizer(optimizer.name, learning_rate=float(optimizer.lr), weight_decay=float(optimizer.weight_decay),
                         clip_norm=None if optimizer.clip_norm is None else float(optimizer.clip_norm),
                         schedule=built, **optimizer.own_keys())


@dataclass
class Trained:
    """One trained model at one temperature and what was measured of it."""

    name: str
    T: float
    n_hidden: int
    rbm: RBM                                   # the core RBM (the baseline's weights copied into one)
    samples: np.ndarray                        # (n, n_visible) of 0/1 after all gibbs_steps
    half_samples: np.ndarray                   # the same chains after half of them (the drift check)
    fit_seconds: float
    sample_seconds: float
    reconstruction_history: list = field(default_factory=list)   # per epoch (core RBM only)
    likelihood_history: list = field(default_factory=list)       # per epoch, exact where recorded, else NaN
    likelihood: dict = field(default_factory=dict)
    symmetry: dict = field(default_factory=dict)                  # signed <m> of the samples


def train_rbm(config: AppConfig, V: np.ndarray, name: str, n_hidden: int, k: int, persistent: bool,
              T: float) -> tuple[RBM, float]:
    """An RBM trained on ``V`` (n, n_visible) of 0/1 for ``trainer.epochs`` epochs of minibatches of
    ``trainer.batch_size``; returns it and the seconds it took."""
    task, trainer, optimizer = config.task, config.trainer, config.optimizer
    start = time.perf_counter()
    rbm = RBM(task.n_visible, n_hidden, k=k, persistent=persistent, learning_rate=float(optimizer.lr),
              batch_size=trainer.batch_size, epochs=trainer.epochs, optimizer=optimizer.name,
              weight_decay=float(optimizer.weight_decay), n_chains=task.n_persistent_chains,
              init_scale=task.init_scale, random_state=seed_sequence(config.seed, f"rbm/{name}/T{T!r}"))
    rbm.initialize(V)
    rbm.optimizer_ = make_optimizer(config)  # the config's optimizer and schedule (RBM.fit would make a plain one)
    for _ in range(trainer.epochs):
        rbm.partial_fit(V)
    return rbm, time.perf_counter() - start


def sample_rbm(rbm: RBM, n: int, steps: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` independent chains from uniformly random spins, ``steps`` block-Gibbs steps each: (the chains after
    steps // 2 steps, after all of them)."""
    half = steps // 2
    first = rbm.sample(n, half, init="random", random_state=rng)
    return first, rbm.gibbs(first, steps - half, random_state=rng)


def train_baseline(config: AppConfig, name: str, spec: dict, n_hidden: int, T: float, V: np.ndarray):
    """The baseline ``name`` (a BernoulliRBM spec of ``conf/baseline``) with ``n_components = n_hidden``, fitted on
    ``V``; returns it and the seconds it took."""
    seed = integer_seed(config.seed, f"baseline/{name}/h{n_hidden}/T{T!r}")
    estimator = build_baselines({name: {**spec, "n_components": n_hidden}}, seed)[name]
    start = time.perf_counter()
    try:
        estimator.fit(V)
    except (ValueError, TypeError) as error:
        kind = ValueError if isinstance(error, ValueError) else TypeError
        raise kind(f"baseline.{name} ({type(estimator).__name__}) on {len(V)} training configurations: "
                   f"{error}") from error
    return estimator, time.perf_counter() - start


def sample_baseline(estimator, n: int, n_visible: int, steps: int,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`sample_rbm`, with the estimator's own ``gibbs`` (its own random stream): ``n`` chains from
    uniformly random spins (drawn from ``rng``), ``steps`` steps each."""
    X = (rng.random((n, n_visible)) < 0.5).astype(np.float64)
    half = None
    for step in range(1, steps + 1):
        X = estimator.gibbs(X)
        if step == steps // 2:
            half = np.asarray(X, dtype=np.float64)
    return half, np.asarray(X, dtype=np.float64)


def as_core_rbm(estimator) -> RBM:
    """A :class:`core.rbm.RBM` with the weights of a fitted BernoulliRBM (the same energy
    E = -a.v - b.h - v W h: W = components_.T, a = intercept_visible_, b = intercept_hidden_)."""
    components = np.asarray(estimator.components_, dtype=np.float64)
    rbm = RBM(components.shape[1], components.shape[0])
    return rbm.set_weights(components.T, estimator.intercept_visible_, estimator.intercept_hidden_)


def reconstruction_error(rbm: RBM, V: np.ndarray) -> float:
    """Mean over configurations and units of (v - sigmoid(a + W p(h|v)))^2, the one-step mean-field
    reconstruction error (core.rbm's per-epoch record, here with the final parameters)."""
    return float(np.mean((V - rbm.visible_probabilities(rbm.hidden_probabilities(V))) ** 2))


def log_likelihood(rbm: RBM, method: str, V_train: np.ndarray, V_heldout: np.ndarray, ais_chains: int,
                   ais_betas: int, rng: np.random.Generator) -> dict:
    """Mean log-likelihood per configuration (nats) of the training and held-out sets.

    method : exact (log Z by enumerating the smaller layer), ais (log Z by annealed importance sampling from the
    independent model with the training data's unit means, Salakhutdinov & Murray 2008; its delta-method standard
    error is ``log_z_error``) or none (NaN).
    """
    nan = float("nan")
    if method == "none":
        return {"method": method, "train": nan, "heldout": nan, "log_z": nan, "log_z_error": nan}
    if method == "exact":
        log_z, error = rbm.log_partition_exact(), 0.0
    else:
        n = len(V_train)
        p = np.clip(V_train.mean(axis=0), 1.0 / (n + 1), n / (n + 1.0))
        log_z, error = rbm.log_partition_ais(ais_chains, ais_betas, base_visible_bias=np.log(p / (1.0 - p)),
                                             random_state=rng)
    return {"method": method, "train": float(np.mean(-rbm.free_energy(V_train)) - log_z),
            "heldout": float(np.mean(-rbm.free_energy(V_heldout)) - log_z), "log_z": float(log_z),
            "log_z_error": float(error)}
