"""The one training path: every network of every task is a ``core.sklearn`` estimator built here from the config.

:func:`network_estimator` turns the ``model``, ``optimizer``, ``schedule`` and ``trainer`` nodes into a
:class:`core.sklearn.NetRegressor` or :class:`core.sklearn.NetClassifier` whose network is already built (its
initial weights drawn from the "network" stream of ``network_seed``), so that a task can put it in a
scikit-learn ``Pipeline`` or cross-validation like any baseline, and train it with ``fit(X, y)`` on flat
``(n_samples, n_features)`` inputs: the estimator reshapes them to the network's declared input shape.
Both random streams are passed as ``SeedSequence``s, so every ``fit`` (every fold of a cross-validation, every
clone) starts from the same initial weights and draws the same minibatches.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from typing import Iterator, Sequence

from core.sklearn import NetClassifier, NetRegressor
from physics.app.schema import AppConfig, TrainerConfig
from physics.app.seeding import seed_sequence
from physics.app.tracking import epoch_callbacks

log = logging.getLogger(__name__)


def network_estimator(config: AppConfig, kind: str, sample_shape: Sequence[int] | None, n_outputs: int = 1, *,
                      network_seed: int | None = None, training_stream: str = "training", model=None,
                      trainer: TrainerConfig | None = None, loss: str = "softmax_cross_entropy",
                      description: str = "network"):
    """The config's network as an unfitted scikit-learn estimator.

    Parameters
    ----------
    config : AppConfig
        The validated config (``model``, ``optimizer``, ``schedule``, ``trainer``, ``seed``).
    kind : str
        "regressor" (mean squared error) or "classifier" (``loss``, class labels).
    sample_shape : tuple of int or None
        The shape of ONE sample as the task holds it (e.g. ``(L, L)`` for a lattice); the model decides its input
        shape from it. None: a vector of however many features ``X`` has when fitted (e.g. descriptors after a
        per-fold variance filter).
    n_outputs : int, default 1
        Outputs of the network (regression targets; classes, or 1 with binary cross-entropy).
    network_seed : int or None, default None
        Seed of the "network" stream of the initial weights (None: ``config.seed``).
    training_stream : str, default "training"
        Name of the stream (under ``config.seed``) of the validation split and minibatches.
    model : ModelConfig or None, default None
        A network other than ``config.model`` (e.g. the small confusion networks).
    trainer : TrainerConfig or None, default None
        Training settings other than ``config.trainer``.
    loss : str, default "softmax_cross_entropy"
        The classifier's loss: "softmax_cross_entropy" or "binary_cross_entropy".
    description : str, default "network"
        Label of the progress bar (shown on a terminal only) and of the network's epochs in the run's
        ``epochs.csv`` and tracker (:mod:`physics.app.tracking`).

    Returns
    -------
    NetRegressor or NetClassifier
        Unfitted. Training settings: ``trainer.epochs`` at most, early stopping on a random
        ``trainer.validation_fraction`` of the training set when ``trainer.early_stopping`` (none held out
        otherwise), the best epoch's weights kept. Inside a run (:func:`physics.app.tracking.active_run`) its
        ``callbacks`` log every epoch of every fit (:class:`physics.app.tracking.EpochLog`); outside, None.

    Raises
    ------
    ValueError
        If ``kind`` is neither "regressor" nor "classifier".
    """
    model = config.model if model is None else model
    trainer = config.trainer if trainer is None else trainer
    seed = config.seed if network_seed is None else network_seed
    params = dict(network=model.network(n_outputs),
                  input_shape=None if sample_shape is None else model.input_shape(sample_shape),
                  init_random_state=seed_sequence(seed, "network"), optimizer=config.optimizer.name,
                  learning_rate=config.optimizer.lr,
                  alpha=config.optimizer.weight_decay, optimizer_params=config.optimizer.own_keys(),
                  clip_norm=config.optimizer.clip_norm, schedule=config.schedule.name,
                  schedule_params=config.schedule.own_keys(), batch_size=trainer.batch_size,
                  max_epochs=trainer.epochs, early_stopping=trainer.early_stopping,
                  validation_fraction=trainer.validation_fraction, patience=trainer.patience, tol=0.0,
                  random_state=seed_sequence(config.seed, training_stream), dtype=model.dtype,
                  verbose=description if config.progress else False, callbacks=epoch_callbacks(description) or None)
    if kind == "regressor":
        return NetRegressor(**params)
    if kind == "classifier":
        return NetClassifier(loss=loss, **params)
    raise ValueError(f"The 'kind' parameter of network_estimator must be 'regressor' or 'classifier'. "
                     f"Got {kind!r} instead.")


@contextmanager
def stage(name: str, timings: dict | None = None) -> Iterator[None]:
    """Log the start and duration of one stage of a task; store its seconds in ``timings[name]``.

    A context manager.

    Parameters
    ----------
    name : str
        The stage's name, logged and used as the key.
    timings : dict or None, default None
        Where the seconds are stored; None stores nothing.
    """
    log.info("%s ...", name)
    start = time.perf_counter()
    yield
    seconds = time.perf_counter() - start
    if timings is not None:
        timings[name] = seconds
    log.info("%s: done in %.2f s", name, seconds)
