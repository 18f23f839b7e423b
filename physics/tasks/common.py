"""What every task shares: the network and optimizer built from the config, the training call, timed stages.

Tasks receive the validated config (:class:`physics.config.AppConfig`, dataclasses) and a run folder.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from core import models
from core.optim import SGD, AdaGrad, Adam, Optimizer, RMSprop
from core.schedules import get_schedule
from core.serialize import save
from core.training import History, fit
from physics.config import AppConfig, CNNConfig, MLPConfig, OptimizerConfig, TrainingConfig
from physics.seeding import generator

log = logging.getLogger(__name__)


@contextmanager
def stage(name: str, timings: dict | None = None) -> Iterator[None]:
    """Log the start and the duration of one stage of a task; store the seconds in ``timings[name]``."""
    log.info("%s ...", name)
    start = time.perf_counter()
    yield
    seconds = time.perf_counter() - start
    if timings is not None:
        timings[name] = seconds
    log.info("%s: done in %.2f s", name, seconds)


def build_network(model: MLPConfig | CNNConfig, input_shape: Sequence[int], n_outputs: int, seed: int):
    """The numpy network described by ``model``, built for inputs of ``input_shape`` (without batch axis).

    Its initial weights come from the "network" stream of ``seed``.
    """
    if model.name == "mlp":
        network = models.mlp(tuple(model.hidden), n_outputs, activation=model.activation,
                             dropout=model.dropout, init=model.init)
    else:
        network = models.cnn(channels=tuple(model.channels), kernel_size=model.kernel_size,
                             padding=model.padding, activation=model.activation, pool=model.pool,
                             global_pool=model.global_pool, hidden_layer_sizes=tuple(model.hidden),
                             n_outputs=n_outputs, dropout=model.dropout, init=model.init)
    return network.build(tuple(input_shape), generator(seed, "network"), dtype=model.dtype)


def build_optimizer(config: OptimizerConfig, epochs: int) -> Optimizer:
    """The optimizer, schedule and clipping described by ``config``; ``epochs`` sets the cosine period."""
    schedule_kwargs = {"constant": {}, "step": {"step_size": config.step_size, "gamma": config.gamma},
                       "exponential": {"gamma": config.gamma},
                       "cosine": {"total_epochs": epochs, "min_factor": config.min_factor}}[config.schedule]
    common = dict(weight_decay=config.weight_decay, decoupled_weight_decay=config.decoupled_weight_decay,
                  clip_norm=config.clip_norm, schedule=get_schedule(config.schedule, **schedule_kwargs))
    if config.name in ("sgd", "momentum", "nesterov"):
        return SGD(config.lr, momentum=config.momentum, nesterov=config.nesterov, **common)
    if config.name == "adagrad":
        return AdaGrad(config.lr, eps=config.eps, **common)
    if config.name == "rmsprop":
        return RMSprop(config.lr, rho=config.rho, eps=config.eps, **common)
    return Adam(config.lr, beta1=config.beta1, beta2=config.beta2, eps=config.eps, **common)


def train(network, loss, X: np.ndarray, y: np.ndarray, config: AppConfig, *, metrics: Sequence[str] = (),
          stream: str = "training", description: str = "training") -> History:
    """Train ``network`` with the config's optimizer and the task's training settings.

    Minibatch order and the validation split come from the ``stream`` stream of the config's seed.
    Raises core.training.TrainingDivergedError if the loss becomes NaN/inf.
    """
    training: TrainingConfig = config.task
    optimizer = build_optimizer(config.optimizer, training.epochs)
    return fit(network, loss, optimizer, X, y, epochs=training.epochs, batch_size=training.batch_size,
               rng=generator(config.seed, stream), validation_fraction=training.validation_fraction,
               early_stopping=training.early_stopping, patience=training.patience, metrics=tuple(metrics),
               progress=config.progress, progress_desc=description)


def save_model(network, run_dir: Path, name: str = "model") -> Path:
    """Save the trained network as ``<run_dir>/<name>.npz`` (weights) + ``.json`` (architecture)."""
    path = Path(run_dir) / name
    save(network, path)
    return path
