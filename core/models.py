"""Factories for the two network families used by the tasks: a multilayer perceptron and a lattice CNN.

Both return UNBUILT networks whose last layer is a linear Dense: the outputs are logits (pair them with
:class:`core.losses.SoftmaxCrossEntropy` or :class:`core.losses.BinaryCrossEntropy`) or regression values
(:class:`core.losses.MeanSquaredError`). Call ``.build(input_shape, seed_or_rng, dtype)`` before use.
Dropout, when ``dropout > 0``, is inserted in front of every Dense layer except the first layer of an MLP.
"""

from __future__ import annotations

import numpy as np

from core.activations import get_activation
from core._validation import InvalidParameterError, check_bool, check_choice, check_number, check_positive_int
from core.conv import PADDINGS
from core.init import check_init_name
from core.layers import AvgPool2D, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D, Layer, MaxPool2D
from core.network import Sequential

__all__ = ["mlp", "cnn"]


def _check_sizes(sizes, name: str, owner: str, allow_empty: bool) -> tuple[int, ...]:
    if isinstance(sizes, (int, np.integer)) and not isinstance(sizes, bool):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError:
        sizes = None
    if sizes is None or (not sizes and not allow_empty):
        raise InvalidParameterError(f"The '{name}' parameter of {owner} must be a {'' if allow_empty else 'non-empty '}"
                         f"tuple of positive ints. Got {sizes!r} instead.")
    return tuple(check_positive_int(n, name, owner) for n in sizes)


def _check_dropout(dropout, owner: str) -> float:
    return float(check_number(dropout, "dropout", owner, low=0, high=1, high_closed=False))


def _dense_blocks(hidden_layer_sizes, n_outputs, activation, dropout, init, dropout_first) -> list[Layer]:
    """[Dropout] Dense Activation ... [Dropout] Dense(n_outputs); dropout before each Dense but maybe the first."""
    layers: list[Layer] = []
    for index, units in enumerate((*hidden_layer_sizes, n_outputs)):
        if dropout > 0 and (index > 0 or dropout_first):
            layers.append(Dropout(dropout))
        layers.append(Dense(units, init=init))
        if index < len(hidden_layer_sizes):
            layers.append(get_activation(activation))
    return layers


def mlp(hidden_layer_sizes=(100,), n_outputs: int = 1, activation: str = "relu", dropout: float = 0.0,
        init: str | None = None) -> Sequential:
    """Multilayer perceptron: (Dense -> activation [-> Dropout]) per hidden size, then Dense(n_outputs).

    hidden_layer_sizes : tuple of int >= 1 (may be empty: a linear model). n_outputs : int >= 1.
    activation : name in :data:`core.activations.ACTIVATIONS`. dropout : float in [0, 1).
    init : initialiser for every Dense, or None for the activation's default. Input (batch, n_features).
    """
    sizes = _check_sizes(hidden_layer_sizes, "hidden_layer_sizes", "mlp", allow_empty=True)
    n_outputs = check_positive_int(n_outputs, "n_outputs", "mlp")
    get_activation(activation)  # validates the name before any layer is made
    check_init_name(init, "mlp")
    return Sequential(_dense_blocks(sizes, n_outputs, activation, _check_dropout(dropout, "mlp"), init,
                                    dropout_first=False))


def cnn(channels=(16,), kernel_size: int = 3, padding: str = "periodic", activation: str = "relu",
        pool: str | None = None, global_pool: bool = True, hidden_layer_sizes=(), n_outputs: int = 2,
        dropout: float = 0.0, init: str | None = None) -> Sequential:
    """Convolutional network for lattice configurations of shape (batch, 1, L, L) (or (batch, C, H, W)).

    Layout: (Conv2D(c, kernel_size, padding) -> activation [-> 2x2 pool]) for each c in ``channels``, the pool
    ("max", "avg" or None) sitting BETWEEN conv blocks (not after the last); then the readout: global average
    pooling (``global_pool=True``: a translation-invariant readout) or Flatten; then the dense blocks
    (``hidden_layer_sizes``) and Dense(n_outputs). With padding="periodic", no pool and global_pool=True the
    whole network is invariant under lattice translations.
    """
    channels = _check_sizes(channels, "channels", "cnn", allow_empty=False)
    kernel_size = check_positive_int(kernel_size, "kernel_size", "cnn")
    check_choice(padding, "padding", "cnn", PADDINGS)
    get_activation(activation)
    check_choice(pool, "pool", "cnn", (None, "max", "avg"))
    check_bool(global_pool, "global_pool", "cnn")
    sizes = _check_sizes(hidden_layer_sizes, "hidden_layer_sizes", "cnn", allow_empty=True)
    n_outputs = check_positive_int(n_outputs, "n_outputs", "cnn")
    dropout = _check_dropout(dropout, "cnn")
    check_init_name(init, "cnn")
    layers: list[Layer] = []
    for index, filters in enumerate(channels):
        if index > 0 and pool is not None:
            layers.append(MaxPool2D(2) if pool == "max" else AvgPool2D(2))
        layers.append(Conv2D(filters, kernel_size, padding=padding, init=init))
        layers.append(get_activation(activation))
    layers.append(GlobalAvgPool2D() if global_pool else Flatten())
    layers += _dense_blocks(sizes, n_outputs, activation, dropout, init, dropout_first=True)
    return Sequential(layers)
