"""Schemas of the ``model``, ``optimizer`` and ``schedule`` groups; their choices are ``core``'s registries.

A model schema builds its network for samples of a given shape (:meth:`ModelConfig.build`): the MLP flattens
them, the CNN reads an ``(H, W)`` lattice as one channel, the RNN reads a ``(T, F)`` sequence (``(T,)``: one
feature per step). Tasks never ask which model they hold: they pass the
shape of one sample and the number of outputs. An optimizer schema holds only its optimizer's own keys, a
schedule schema only its schedule's, so ``optimizer=adam optimizer.momentum=0.9`` is refused.
"""
from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar, List, Optional, Sequence

import numpy as np

from core import models
from core.activations import ACTIVATIONS
from core.conv import PADDINGS
from core.init import INITIALIZERS
from core.optim import OPTIMIZERS
from core.schedules import SCHEDULES
from physics.app.schema import ConfigError, Schema, param

DTYPES = ("float32", "float64")


def _widths(value: Any) -> List[int]:
    """Layer widths from an int (one layer, as scikit-learn's hidden_layer_sizes) or a list of ints."""
    return [value] if isinstance(value, int) and not isinstance(value, bool) else list(value)


# ------------------------------------------------------------------------------------------------- models
@dataclass
class ModelConfig(Schema):
    """What every network schema shares. ``name`` is the model kind that tasks declare support for."""

    KIND: ClassVar[str] = ""

    name: str = param(MISSING, help="the model kind")
    activation: str = param("relu", help="hidden activation", choices=lambda: ACTIVATIONS)
    dropout: float = param(0.0, help="dropout rate before each Dense layer after the first; 0 disables it",
                           low=0.0, high=1.0, high_open=True)
    init: Optional[str] = param(None, help="weight initialiser (null: He for ReLU-like activations, Glorot "
                                           "otherwise)", choices=lambda: INITIALIZERS)
    dtype: str = param("float32", help="floating-point type of the network", choices=DTYPES)

    def check(self) -> None:
        if self.name != self.KIND:
            raise ConfigError("name", f"must be {self.KIND!r} for this schema. Got {self.name!r} instead.")

    def input_shape(self, sample_shape: Sequence[int]) -> tuple[int, ...]:
        """The network's input shape for samples of ``sample_shape`` (without the batch axis)."""
        raise NotImplementedError

    def check_input(self, sample_shape: Sequence[int], key: str) -> None:
        """Raise ConfigError naming ``key`` when samples of ``sample_shape`` cannot go through this network."""

    def network(self, n_outputs: int):
        """The unbuilt ``core`` network with ``n_outputs`` outputs."""
        raise NotImplementedError

    def build(self, sample_shape: Sequence[int], n_outputs: int, rng: np.random.Generator):
        """The network for samples of ``sample_shape``, its initial weights drawn from ``rng``."""
        return self.network(n_outputs).build(self.input_shape(sample_shape), rng, dtype=self.dtype)


@dataclass
class MLPConfig(ModelConfig):
    """A fully connected network: Dense -> activation blocks, then a linear output layer."""

    KIND: ClassVar[str] = "mlp"

    name: str = param("mlp", help="the model kind")
    hidden: Any = param(help="hidden-layer widths; one integer means one layer (so `model.hidden=32,64` "
                             "sweeps widths)", low=1, integer=True, factory=lambda: [64, 64])

    def check(self) -> None:
        super().check()
        if not isinstance(self.hidden, (int, list, tuple)) or isinstance(self.hidden, bool):
            raise ConfigError("hidden", f"must be an integer or a list of integers. Got {self.hidden!r} instead.")
        self.hidden = _widths(self.hidden)
        if not all(isinstance(width, int) for width in self.hidden):
            raise ConfigError("hidden", f"must be an integer or a list of integers. Got {self.hidden!r} instead.")

    def input_shape(self, sample_shape: Sequence[int]) -> tuple[int, ...]:
        return (int(math.prod(sample_shape)),)

    def network(self, n_outputs: int):
        return models.mlp(tuple(_widths(self.hidden)), n_outputs, activation=self.activation, dropout=self.dropout,
                          init=self.init)


@dataclass
class CNNConfig(ModelConfig):
    """Conv2D blocks (optionally pooled) -> global average pool or flatten -> hidden Dense -> output.

    Reads a sample of shape (H, W) as one channel, (1, H, W); periodic padding suits lattices on a torus.
    """

    KIND: ClassVar[str] = "cnn"

    name: str = param("cnn", help="the model kind")
    channels: List[int] = param(help="output channels of each Conv2D layer", low=1, factory=lambda: [16, 16])
    kernel_size: int = param(3, help="side of the square convolution kernels", low=1)
    padding: str = param("periodic", help="border handling of the convolutions", choices=PADDINGS)
    pool: Optional[str] = param(None, help="2x2 pooling between conv blocks (null: none)", choices=("max", "avg"))
    global_pool: bool = param(True, help="global average pooling readout (translation invariant); false: flatten")
    hidden: List[int] = param(help="widths of Dense layers after the readout", low=1, factory=list)

    def check(self) -> None:
        super().check()
        if not self.channels:
            raise ConfigError("channels", "must list at least one Conv2D layer. Got [] instead.")

    def input_shape(self, sample_shape: Sequence[int]) -> tuple[int, ...]:
        return (1, *sample_shape) if len(sample_shape) == 2 else tuple(sample_shape)

    def check_input(self, sample_shape: Sequence[int], key: str) -> None:
        if len(sample_shape) not in (2, 3):
            raise ConfigError("model", f"model={self.name} needs image-like samples of shape (H, W); this task "
                                       f"gives samples of shape {tuple(sample_shape)}.")
        size = min(sample_shape[-2:])
        for index in range(len(self.channels)):
            if index > 0 and self.pool is not None:
                if size % 2:
                    raise ConfigError(key, f"a {size}x{size} map cannot be pooled 2x2 before conv block {index} of "
                                           f"model=cnn; use sizes divisible by {2 ** (len(self.channels) - 1)} or "
                                           f"model.pool=null.")
                size //= 2
            if size < self.kernel_size:
                raise ConfigError(key, f"samples of shape {tuple(sample_shape)} are too small for model=cnn: conv "
                                       f"block {index} sees {size}x{size} but model.kernel_size = {self.kernel_size}.")
            if self.padding == "valid":
                size -= self.kernel_size - 1

    def network(self, n_outputs: int):
        return models.cnn(channels=tuple(self.channels), kernel_size=self.kernel_size, padding=self.padding,
                          activation=self.activation, pool=self.pool, global_pool=self.global_pool,
                          hidden_layer_sizes=tuple(self.hidden), n_outputs=n_outputs, dropout=self.dropout,
                          init=self.init)


@dataclass
class RNNConfig(ModelConfig):
    """Stacked recurrent layers (rnn, lstm or gru) over sequences of shape (T, F), then a readout head.

    head=last: the last step's state -> hidden Dense blocks -> n_outputs values (sequence-to-one). head=sequence:
    the same readout at every step (TimeDense), flattened time-major: T * n_outputs values, index t * n_outputs + k
    (sequence-to-sequence). See :func:`core.models.rnn`.
    """

    KIND: ClassVar[str] = "rnn"

    name: str = param("rnn", help="the model kind")
    cell: str = param("lstm", help="recurrent layer: rnn (Elman, tanh) | lstm | gru", choices=lambda: models.RNN_CELLS)
    units: Any = param(help="hidden size of each stacked recurrent layer; one integer means one layer", low=1,
                       integer=True, factory=lambda: [32])
    head: str = param("last", help="last: predict from the last step (sequence-to-one); sequence: at every step",
                      choices=lambda: models.RNN_HEADS)
    truncate: Optional[int] = param(None, help="truncated backpropagation through time in chunks of this many "
                                               "steps (null: through the whole sequence)", low=1)
    hidden: List[int] = param(help="widths of Dense layers after the recurrent part (per step for head=sequence)",
                              low=1, factory=list)
    activation: str = param("relu", help="activation of the hidden Dense layers", choices=lambda: ACTIVATIONS)
    dropout: float = param(0.0, help="not supported by model=rnn (must stay 0)", low=0.0, high=1.0, high_open=True)
    init: Optional[str] = param(None, help="initialiser of the input weights of the recurrent and Dense layers "
                                           "(null: Glorot; Dense layers: He for ReLU-like activations); the "
                                           "recurrent weights are orthogonal", choices=lambda: INITIALIZERS)

    def check(self) -> None:
        super().check()
        if not isinstance(self.units, (int, list, tuple)) or isinstance(self.units, bool):
            raise ConfigError("units", f"must be an integer or a list of integers. Got {self.units!r} instead.")
        self.units = _widths(self.units)
        if not self.units or not all(isinstance(width, int) and not isinstance(width, bool) for width in self.units):
            raise ConfigError("units", f"must be an integer or a non-empty list of integers. Got {self.units!r} "
                                       f"instead.")
        if self.dropout > 0:
            raise ConfigError("dropout", f"model=rnn has no dropout (dropout between time steps would need masks "
                                         f"shared over time, not implemented); set it to 0. Got {self.dropout!r} "
                                         f"instead.")

    def input_shape(self, sample_shape: Sequence[int]) -> tuple[int, ...]:
        shape = tuple(int(n) for n in sample_shape)
        return (shape[0], 1) if len(shape) == 1 else shape

    def check_input(self, sample_shape: Sequence[int], key: str) -> None:
        if len(sample_shape) not in (1, 2):
            raise ConfigError("model", f"model={self.name} needs sequences: samples of shape (T,) or (T, F) (T time "
                                       f"steps of F features); this task gives samples of shape "
                                       f"{tuple(sample_shape)}.")

    def network(self, n_outputs: int):
        return models.rnn(cell=self.cell, units=tuple(_widths(self.units)), n_outputs=n_outputs, head=self.head,
                          truncate=self.truncate, hidden_layer_sizes=tuple(self.hidden), activation=self.activation,
                          init=self.init)


# --------------------------------------------------------------------------------------------- optimizers
@dataclass
class OptimizerConfig(Schema):
    """Keys every optimizer of ``core.optim`` takes. ``name`` is a key of ``core.optim.OPTIMIZERS``."""

    NAMES: ClassVar[tuple[str, ...]] = ()

    name: str = param(MISSING, help="the optimizer (a key of core.optim.OPTIMIZERS)", choices=lambda: OPTIMIZERS)
    lr: float = param(1e-3, help="learning rate", low=0.0, low_open=True)
    weight_decay: float = param(0.0, help="L2 penalty added to the gradient of the weights (not biases)", low=0.0)
    decoupled_weight_decay: float = param(0.0, help="AdamW-style shrinkage w -= lr * wd * w", low=0.0)
    clip_norm: Optional[float] = param(None, help="clip the global gradient norm to this (null: no clipping)",
                                       low=0.0, low_open=True)

    def check(self) -> None:
        if self.name not in self.NAMES:
            raise ConfigError("name", f"this schema serves {', '.join(map(repr, self.NAMES))}. "
                                      f"Got {self.name!r} instead.")

    def own_keys(self) -> dict:
        """The optimizer's own keyword arguments beyond name, lr, weight_decay and clip_norm."""
        common = {"name", "lr", "weight_decay", "clip_norm"}
        return {spec.name: getattr(self, spec.name) for spec in fields(self) if spec.name not in common}


@dataclass
class SGDConfig(OptimizerConfig):
    """Stochastic gradient descent, with momentum and Nesterov's variant."""

    NAMES: ClassVar[tuple[str, ...]] = ("sgd", "momentum", "nesterov")

    name: str = param("sgd", help="sgd | momentum | nesterov", choices=NAMES)
    lr: float = param(0.01, help="learning rate", low=0.0, low_open=True)
    momentum: float = param(0.0, help="momentum coefficient", low=0.0, high=1.0, high_open=True)
    nesterov: bool = param(False, help="Nesterov's look-ahead momentum")


@dataclass
class AdaGradConfig(OptimizerConfig):
    """AdaGrad: the step of each weight divided by the root of its summed squared gradients."""

    NAMES: ClassVar[tuple[str, ...]] = ("adagrad",)

    name: str = param("adagrad", help="adagrad", choices=NAMES)
    lr: float = param(0.01, help="learning rate", low=0.0, low_open=True)
    eps: float = param(1e-8, help="added to the denominator", low=0.0, low_open=True)


@dataclass
class RMSpropConfig(OptimizerConfig):
    """RMSprop: the step divided by the root of a running mean of squared gradients."""

    NAMES: ClassVar[tuple[str, ...]] = ("rmsprop",)

    name: str = param("rmsprop", help="rmsprop", choices=NAMES)
    rho: float = param(0.9, help="decay of the squared-gradient average", low=0.0, high=1.0, high_open=True)
    eps: float = param(1e-8, help="added to the denominator", low=0.0, low_open=True)


@dataclass
class AdamConfig(OptimizerConfig):
    """Adam and AdamW (Adam with decoupled weight decay)."""

    NAMES: ClassVar[tuple[str, ...]] = ("adam", "adamw")

    name: str = param("adam", help="adam | adamw", choices=NAMES)
    beta1: float = param(0.9, help="decay of the gradient average", low=0.0, high=1.0, high_open=True)
    beta2: float = param(0.999, help="decay of the squared-gradient average", low=0.0, high=1.0, high_open=True)
    eps: float = param(1e-8, help="added to the denominator", low=0.0, low_open=True)


# ---------------------------------------------------------------------------------------------- schedules
@dataclass
class ScheduleConfig(Schema):
    """A learning-rate schedule: the factor multiplying ``optimizer.lr`` in each epoch."""

    NAME: ClassVar[str] = ""

    name: str = param(MISSING, help="the schedule (a key of core.schedules.SCHEDULES)", choices=lambda: SCHEDULES)

    def check(self) -> None:
        if self.name != self.NAME:
            raise ConfigError("name", f"must be {self.NAME!r} for this schema. Got {self.name!r} instead.")

    def own_keys(self) -> dict:
        return {spec.name: getattr(self, spec.name) for spec in fields(self) if spec.name != "name"}


@dataclass
class ConstantScheduleConfig(ScheduleConfig):
    """The learning rate stays ``optimizer.lr``."""

    NAME: ClassVar[str] = "constant"
    name: str = param("constant", help="constant", choices=lambda: SCHEDULES)


@dataclass
class StepScheduleConfig(ScheduleConfig):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs."""

    NAME: ClassVar[str] = "step"
    name: str = param("step", help="step", choices=lambda: SCHEDULES)
    step_size: int = param(30, help="epochs between two decays", low=1)
    gamma: float = param(0.1, help="factor of each decay", low=0.0, high=1.0, low_open=True)


@dataclass
class ExponentialScheduleConfig(ScheduleConfig):
    """Multiply the learning rate by ``gamma`` every epoch."""

    NAME: ClassVar[str] = "exponential"
    name: str = param("exponential", help="exponential", choices=lambda: SCHEDULES)
    gamma: float = param(0.95, help="factor per epoch", low=0.0, high=1.0, low_open=True)


@dataclass
class CosineScheduleConfig(ScheduleConfig):
    """Half a cosine from ``lr`` to ``min_factor * lr`` over ``trainer.epochs``."""

    NAME: ClassVar[str] = "cosine"
    name: str = param("cosine", help="cosine", choices=lambda: SCHEDULES)
    min_factor: float = param(0.0, help="final learning rate / initial learning rate", low=0.0, high=1.0)


#: group -> {schema name in the ConfigStore -> schema}; a YAML option picks its schema by this name
SCHEMAS: dict[str, dict[str, type]] = {
    "model": {"mlp": MLPConfig, "cnn": CNNConfig, "rnn": RNNConfig},
    "optimizer": {"sgd": SGDConfig, "adagrad": AdaGradConfig, "rmsprop": RMSpropConfig, "adam": AdamConfig},
    "schedule": {cls.NAME: cls for cls in (ConstantScheduleConfig, StepScheduleConfig, ExponentialScheduleConfig,
                                           CosineScheduleConfig)},
}


def schema_for(group: str, name: Any) -> type | None:
    """The schema of a composed node of ``group`` by its ``name`` key (optimizers: the schema serving it)."""
    if group == "optimizer":
        return next((cls for cls in SCHEMAS["optimizer"].values() if name in cls.NAMES), None)
    return SCHEMAS[group].get(name)
