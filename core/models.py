"""Factories for the network families used by the tasks: a multilayer perceptron, a lattice CNN and a recurrent
network for sequences.

All return UNBUILT networks whose last layer is a linear Dense: the outputs are logits (pair them with
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
from core.recurrent import GRU, LSTM, SimpleRNN, TimeDense, _check_truncate

__all__ = ["mlp", "cnn", "rnn", "RNN_CELLS", "RNN_HEADS"]

#: ``cell`` of :func:`rnn` -> recurrent layer class
RNN_CELLS = {"rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}
#: ``head`` of :func:`rnn`: sequence-to-one, sequence-to-sequence
RNN_HEADS = ("last", "sequence")


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

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Width of each hidden layer (each >= 1; an int is one layer); may be empty: a linear model.
    n_outputs : int
        Width of the last, linear Dense layer (>= 1): logits or regression values.
    activation : str
        Name in :data:`core.activations.ACTIVATIONS`.
    dropout : float
        Dropout rate after each hidden activation, in [0, 1); 0 adds no Dropout layer.
    init : str or None
        Initialiser of every Dense (:data:`core.init.INITIALIZERS`), or None for the activation's default.

    Returns
    -------
    Sequential
        Unbuilt; inputs of shape (batch, n_features), outputs (batch, n_outputs).
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

    Parameters
    ----------
    channels : tuple of int
        Output channels of each Conv2D block (each >= 1; at least one block).
    kernel_size : int
        Side k of the square k x k kernels (>= 1).
    padding : {"periodic", "zero", "valid"}
        Padding of every Conv2D ("periodic": the lattice on a torus).
    activation : str
        Name in :data:`core.activations.ACTIVATIONS`, after every Conv2D and hidden Dense.
    pool : {None, "max", "avg"}
        The 2 x 2 pooling between conv blocks, or None.
    global_pool : bool
        Global average pooling (True) or Flatten (False) before the dense blocks.
    hidden_layer_sizes : tuple of int
        Widths of the dense hidden layers after the readout (may be empty).
    n_outputs : int
        Width of the last, linear Dense layer (>= 1).
    dropout : float
        Dropout rate after each dense hidden activation, in [0, 1).
    init : str or None
        Initialiser of every Conv2D and Dense, or None for the activation's default.

    Returns
    -------
    Sequential
        Unbuilt; inputs of shape (batch, C, H, W), outputs (batch, n_outputs).
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


def rnn(cell: str = "lstm", units=(32,), n_outputs: int = 1, head: str = "last", truncate: int | None = None,
        hidden_layer_sizes=(), activation: str = "relu", init: str | None = None) -> Sequential:
    """Recurrent network for sequences of shape (batch, T, F): stacked recurrent layers, then a readout head.

    Parameters
    ----------
    cell : {"lstm", "rnn", "gru"}
        The recurrent layer (:class:`core.recurrent.SimpleRNN` with tanh, :class:`core.recurrent.LSTM`,
        :class:`core.recurrent.GRU`).
    units : int or tuple of int
        Hidden size of each stacked recurrent layer (each >= 1; a non-empty tuple, an int is one layer); every
        layer but the last returns its whole sequence to the next one.
    n_outputs : int
        Outputs per prediction, >= 1.
    head : {"last", "sequence"}
        "last" (sequence-to-one): the last recurrent layer returns its final state h_{T-1}, followed by
        (Dense -> activation) per ``hidden_layer_sizes`` and Dense(n_outputs); output shape (n_outputs,).
        "sequence" (sequence-to-sequence): the last recurrent layer returns every state, followed by
        (TimeDense -> activation) per ``hidden_layer_sizes``, TimeDense(n_outputs) and Flatten; output shape
        (T * n_outputs,), time-major within a sample: output index t * n_outputs + k is output k at step t.
    truncate : int or None
        Chunk length (>= 1) of truncated backpropagation through time in every recurrent layer (see
        :mod:`core.recurrent`); None is full backpropagation through time.
    hidden_layer_sizes : tuple of int
        Widths of the dense blocks of the head (each >= 1; may be empty).
    activation : str
        Name in :data:`core.activations.ACTIVATIONS`: the activation of those dense blocks.
    init : str or None
        Initialiser (a name of :mod:`core.init`) of the input weights W of the recurrent layers and of every
        dense layer, or None (recurrent: "glorot"; dense: the activation's default). The recurrent weights U are
        orthogonal.

    Returns
    -------
    Sequential
        Unbuilt; build it with ``.build((T, F), seed_or_rng, dtype)``. The last layer is linear.
    """
    check_choice(cell, "cell", "rnn", tuple(RNN_CELLS))
    units = _check_sizes(units, "units", "rnn", allow_empty=False)
    n_outputs = check_positive_int(n_outputs, "n_outputs", "rnn")
    check_choice(head, "head", "rnn", RNN_HEADS)
    truncate = _check_truncate(truncate, "rnn")
    sizes = _check_sizes(hidden_layer_sizes, "hidden_layer_sizes", "rnn", allow_empty=True)
    get_activation(activation)
    check_init_name(init, "rnn")
    layers: list[Layer] = [
        RNN_CELLS[cell](width, return_sequences=index < len(units) - 1 or head == "sequence", truncate=truncate,
                        init=init)
        for index, width in enumerate(units)
    ]
    if head == "last":
        return Sequential(layers + _dense_blocks(sizes, n_outputs, activation, 0.0, init, dropout_first=False))
    for width in sizes:
        layers += [TimeDense(width, init=init), get_activation(activation)]
    return Sequential(layers + [TimeDense(n_outputs, init=init), Flatten()])
