"""core: a from-scratch neural-network package in numpy (layers, losses, backpropagation, optimizers, training).

Quick start (a doctest: ``tests/test_doctests.py`` runs it):

>>> import numpy as np
>>> from core import Adam, EarlyStopping, TrainingSettings, fit, mlp
>>> X = np.random.default_rng(0).normal(size=(256, 2))   # (batch, features)
>>> y = (X[:, 0] * X[:, 1] > 0).astype(int)              # class labels (batch,)
>>> net = mlp((16, 16), n_outputs=2).build((2,), seed_or_rng=0)
>>> settings = TrainingSettings(epochs=50, batch_size=32, validation_fraction=0.2, metrics=("accuracy",))
>>> history = fit(net, "softmax_cross_entropy", Adam(1e-2), X, y, settings, rng=0, callbacks=[EarlyStopping(5)])
>>> net.predict(X[:3]).shape                            # logits (batch, classes)
(3, 2)
>>> history.metrics["val_accuracy"][history.best_epoch - 1] > 0.9   # the kept epoch's validation accuracy
True

Sequences: :mod:`core.recurrent` (``SimpleRNN``, ``LSTM``, ``GRU``, ``TimeDense``; backpropagation through time,
optionally truncated) and the factory ``rnn`` (sequence-to-one and sequence-to-sequence heads).

Generative and unsupervised models: :mod:`core.autoencoder` (``autoencoder``, ``variational_autoencoder``,
``fit_autoencoder``) and :mod:`core.rbm` (``RBM``: contrastive divergence, persistent CD, exact and AIS
likelihoods).

The scikit-learn estimators live in :mod:`core.sklearn` (``NetClassifier``, ``NetRegressor``), their
convolutional versions in :mod:`core.sklearn_conv` (``ConvNetClassifier``, ``ConvNetRegressor``) and the seed
ensembles around them in :mod:`core.ensemble` (``SeedEnsembleRegressor``, ``SeedEnsembleClassifier``); they are
also reachable as ``core.NetClassifier``, ``core.SeedEnsembleRegressor``, ..., imported on first access so that
``import core`` does not import scikit-learn.

Every bad parameter raises :class:`InvalidParameterError` (a ValueError and a TypeError); every seed argument
goes through :func:`as_generator`.
"""

from core._validation import InvalidParameterError, as_generator
from core._version import package_version as _package_version
from core.activations import ACTIVATIONS, default_init, get_activation
from core.autoencoder import (
    Autoencoder,
    VariationalAutoencoder,
    autoencoder,
    fit_autoencoder,
    variational_autoencoder,
)
from core.callbacks import Callback, EarlyStopping, History, ProgressBar
from core.divergence import DivergenceGuard
from core.layers import (
    LAYERS,
    Activation,
    AvgPool2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    Layer,
    MaxPool2D,
)
from core.recurrent import GRU, LSTM, SimpleRNN, TimeDense
from core.losses import (
    LOSSES,
    BinaryCrossEntropy,
    Huber,
    Loss,
    MeanAbsoluteError,
    MeanSquaredError,
    SoftmaxCrossEntropy,
    get_loss,
    log_softmax,
    sigmoid,
    softmax,
)
from core.metrics import METRICS, evaluate_metric, get_metric
from core.models import cnn, mlp, rnn
from core.network import Parameter, Sequential
from core.optim import (
    OPTIMIZERS,
    SCHEDULES,
    SGD,
    AdaGrad,
    Adam,
    AdamW,
    ConstantSchedule,
    CosineSchedule,
    ExponentialSchedule,
    Optimizer,
    RMSprop,
    Schedule,
    StepSchedule,
    clip_grad_norm,
    get_optimizer,
    get_schedule,
)
from core.rbm import RBM, spins_to_visible, visible_to_spins
from core.serialize import load, save
from core.training import TrainingDivergedError, TrainingSettings, fit

__version__ = _package_version()  # stated once, in pyproject.toml

_LAZY = {"NetClassifier": "core.sklearn", "NetRegressor": "core.sklearn",
         "ConvNetClassifier": "core.sklearn_conv", "ConvNetRegressor": "core.sklearn_conv",
         "SeedEnsembleRegressor": "core.ensemble", "SeedEnsembleClassifier": "core.ensemble"}

__all__ = [
    "InvalidParameterError", "as_generator",
    "ACTIVATIONS", "default_init", "get_activation",
    "LAYERS", "Layer", "Dense", "Activation", "Dropout", "Flatten", "Conv2D", "MaxPool2D", "AvgPool2D",
    "GlobalAvgPool2D", "SimpleRNN", "LSTM", "GRU", "TimeDense",
    "LOSSES", "Loss", "MeanSquaredError", "MeanAbsoluteError", "Huber", "SoftmaxCrossEntropy", "BinaryCrossEntropy",
    "get_loss", "softmax", "log_softmax", "sigmoid",
    "METRICS", "get_metric", "evaluate_metric",
    "mlp", "cnn", "rnn", "Parameter", "Sequential", "save", "load",
    "Autoencoder", "VariationalAutoencoder", "autoencoder", "variational_autoencoder", "fit_autoencoder",
    "RBM", "spins_to_visible", "visible_to_spins",
    "OPTIMIZERS", "Optimizer", "SGD", "AdaGrad", "RMSprop", "Adam", "AdamW", "clip_grad_norm", "get_optimizer",
    "SCHEDULES", "Schedule", "ConstantSchedule", "StepSchedule", "ExponentialSchedule", "CosineSchedule",
    "get_schedule",
    "Callback", "DivergenceGuard", "EarlyStopping", "ProgressBar", "History", "TrainingSettings", "TrainingDivergedError", "fit",
    "NetClassifier", "NetRegressor", "SeedEnsembleRegressor", "SeedEnsembleClassifier",
    "ConvNetClassifier", "ConvNetRegressor",
]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'core' has no attribute {name!r}")
