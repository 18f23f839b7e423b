"""The two networks of ``task=ising_autoencoder`` (:mod:`core.autoencoder`), their training, and what is read from
their code.

* ``"ae"``: a deterministic autoencoder, encoder ``mlp(hidden, latent)`` (linear bottleneck), decoder
  ``mlp(reversed(hidden), L*L)`` giving Bernoulli logits, trained on ±1 spins with ``spins=True`` (targets
  (s + 1) / 2, binary cross-entropy per spin).
* ``"vae"``: a variational autoencoder of the same widths, encoder head [mu | log_var], N(0, 1) prior, KL weight
  ``task.beta``; its code is the posterior mean mu.

The widths, activation, dropout, initialiser and dtype are the ``model`` node's (``model=mlp``); the optimizer,
schedule and training settings (epochs, batch size, early stopping on a held-out share) are those of the
``optimizer``, ``schedule`` and ``trainer`` nodes, as for every network of the suite. Losses are reported per
spin (nats): the autoencoder's binary cross-entropy is already a mean over the spins, the VAE's negative ELBO (a
sum over the spins of one configuration) is divided by L*L.

What is read from a code z(s) (n, latent):

* :func:`leading_code`: the code itself for ``latent = 1``, else its projection on the leading principal axis of
  the codes (centred over the whole data set): the one number per configuration that the scatter against m, the
  correlations and the histograms show;
* :func:`odd_code`: the part of the code that changes sign under the global spin flip s -> -s (the symmetry of
  the Ising Hamiltonian), ``z_odd(s) = [z(s) - z(-s)] / 2``, projected like :func:`leading_code` but about 0.
  Its mean is 0 by symmetry whatever offset or even part the network's code has, so its moments are taken about 0
  with no data-dependent centring: it is the variable of the cumulant U_z. For an encoder that respects the
  symmetry (z(-s) = 2 z_0 - z(s)) it is z - z_0, the code centred at its symmetric point.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from core.autoencoder import Autoencoder, VariationalAutoencoder, fit_autoencoder
from core.callbacks import EarlyStopping
from core.models import mlp
from core.optim import get_optimizer
from core.schedules import get_schedule
from physics.app.schema import AppConfig
from physics.app.seeding import generator
from physics.app.tracking import epoch_callbacks
from physics.tasks.ising.data import replica_seed

log = logging.getLogger(__name__)

#: the two models, in the order of every table and figure, and their names in words
KINDS = ("ae", "vae")
NAMES = {"ae": "autoencoder", "vae": "variational autoencoder", "pca": "PCA (linear baseline)"}


def build(config: AppConfig, kind: str, n_inputs: int):
    """The unbuilt network ``kind`` ("ae" or "vae") for ``n_inputs`` spins, from the ``model`` node."""
    model, task = config.model, config.task
    hidden = tuple(model.hidden)
    layers = dict(activation=model.activation, dropout=model.dropout, init=model.init)
    decoder = mlp(hidden[::-1], n_inputs, **layers)
    if kind == "ae":
        return Autoencoder(mlp(hidden, task.latent, **layers), decoder, output="logits", spins=True)
    if kind == "vae":
        return VariationalAutoencoder(mlp(hidden, 2 * task.latent, **layers), decoder, beta=task.beta, spins=True)
    raise ValueError(f"The 'kind' parameter must be one of {KINDS}. Got {kind!r} instead.")


def make_optimizer(config: AppConfig):
    """A fresh optimizer from the ``optimizer`` and ``schedule`` nodes (as :class:`core.sklearn.NetRegressor` makes
    it: the cosine schedule spans ``trainer.epochs``)."""
    optimizer, schedule = config.optimizer, config.schedule
    keywords = schedule.own_keys()
    if schedule.name == "cosine":
        keywords.setdefault("total_epochs", config.trainer.epochs)
    return get_optimizer(optimizer.name, learning_rate=float(optimizer.lr), weight_decay=float(optimizer.weight_decay),
                         clip_norm=None if optimizer.clip_norm is None else float(optimizer.clip_norm),
                         schedule=None if schedule.name == "constant" else get_schedule(schedule.name, **keywords),
                         **optimizer.own_keys())


@dataclass
class Trained:
    """One network trained on one size in one replica. history: {"loss", "val_loss" (per spin), "best_epoch"};
    val_loss: the best validation loss per spin (NaN without early stopping); seconds: the training time."""

    kind: str
    L: int
    replica: int
    model: object
    history: dict
    val_loss: float
    seconds: float


def train(config: AppConfig, kind: str, X: np.ndarray, L: int, replica: int) -> Trained:
    """Train network ``kind`` on the flat spins X (n, L*L) of size L in replica ``replica``.

    Random streams: the initial weights from ``network/<kind>/L<L>`` under the replica's seed
    (:func:`physics.tasks.ising.data.replica_seed`), the validation split, the minibatches and the VAE's
    reparametrisation noise from ``training/<kind>/L<L>/replica<r>`` under ``config.seed``.
    """
    trainer = config.trainer
    start = time.perf_counter()
    model = build(config, kind, X.shape[1])
    model.build((X.shape[1],), generator(replica_seed(config.seed, replica), f"network/{kind}/L{L}"),
                dtype=config.model.dtype)
    label = f"{NAMES[kind]}, L = {L}, replica {replica}"
    history = fit_autoencoder(
        model, X, epochs=trainer.epochs, batch_size=trainer.batch_size, optimizer=make_optimizer(config),
        validation_fraction=trainer.validation_fraction if trainer.early_stopping else None,
        random_state=generator(config.seed, f"training/{kind}/L{L}/replica{replica}"),
        callbacks=[*([EarlyStopping(trainer.patience, restore_best=True)] if trainer.early_stopping else []),
                   *epoch_callbacks(label)],
        verbose=label if config.progress else False)
    scale = 1.0 if kind == "ae" else 1.0 / X.shape[1]  # per spin
    curves = {"loss": [v * scale for v in history.loss], "val_loss": [v * scale for v in history.val_loss],
              "best_epoch": history.best_epoch}
    val_loss = float(min(curves["val_loss"])) if curves["val_loss"] else float("nan")
    seconds = time.perf_counter() - start
    log.info("%s: %d epochs in %.1f s, best validation loss %.4f nats per spin", label, len(history.loss), seconds,
             val_loss)
    return Trained(kind=kind, L=L, replica=replica, model=model, history=curves, val_loss=val_loss, seconds=seconds)


def reconstruction_per_spin(trained: Trained, X: np.ndarray) -> np.ndarray:
    """Per configuration, -log p(s | z) per spin (nats) at the code of s (z = mu for the VAE). (n,)"""
    error = trained.model.reconstruction_error(X)
    return error if trained.kind == "ae" else error / X.shape[1]


def _leading(Z: np.ndarray, centre: bool) -> np.ndarray:
    """Z (n, k) -> (n,): Z itself for k = 1, else the projection on the leading principal axis (of Z centred when
    ``centre``, else about 0), its sign fixed by the largest component of the axis being positive."""
    if Z.shape[1] == 1:
        return Z[:, 0].copy()
    shifted = Z - Z.mean(axis=0) if centre else Z
    axis = np.linalg.svd(shifted, full_matrices=False)[2][0]
    axis = axis * np.sign(axis[np.argmax(np.abs(axis))])
    return shifted @ axis


def leading_code(trained: Trained, X: np.ndarray) -> np.ndarray:
    """The code of every configuration as one number (module docstring). (n,) float64"""
    return _leading(np.asarray(trained.model.encode(X), dtype=np.float64), centre=True)


def odd_code(trained: Trained, X: np.ndarray) -> np.ndarray:
    """The spin-flip-odd part of the code as one number, mean 0 by symmetry (module docstring). (n,) float64"""
    Z = 0.5 * (np.asarray(trained.model.encode(X), dtype=np.float64)
               - np.asarray(trained.model.encode(-X), dtype=np.float64))
    return _leading(Z, centre=False)
