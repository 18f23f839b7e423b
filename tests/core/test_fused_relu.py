"""A ReLU's work done by its neighbours (``core.base``, "Fused ReLU"), and the reused buffers of a Sequential.

The fused network must give the numbers of the same network with every ReLU on its own
(``core.network.FUSE_RELU = False``): the same elementwise operations, so equality is exact (``assert_array_equal``
treats -0.0 and +0.0 as equal, the only difference the fusion may make).
"""

from __future__ import annotations

import numpy as np
import pytest

import core.network
from core import _kernels
from core.activations import ReLU, Tanh
from core.conv import Conv2D, GlobalAvgPool2D, MaxPool2D
from core.layers import Activation, Dense, Flatten
from core.losses import get_loss
from core.models import cnn, mlp
from core.network import Sequential

NETWORKS = {
    "default cnn": (lambda: cnn((16, 16)), (1, 12, 12)),
    "zero padding, 2 then 16 channels": (lambda: cnn((2, 16), padding="zero"), (1, 9, 9)),
    "valid padding, dense head": (lambda: cnn((4, 3), padding="valid", hidden_layer_sizes=(8,)), (1, 9, 9)),
    "kernel wider than the lattice": (lambda: cnn((8, 8), kernel_size=5), (1, 3, 3)),
    "max pool between blocks": (lambda: cnn((4, 8), pool="max"), (1, 8, 8)),
    "mlp": (lambda: mlp((20, 10), n_outputs=2), (6,)),
    "Activation('relu') wrapper": (lambda: Sequential([Dense(12), Activation("relu"), Dense(9), Activation("relu"),
                                                       Dense(2)]), (5,)),
}


def _training_steps(make, shape, X, y, fuse, monkeypatch, steps=3):
    """Outputs, input gradients and parameter gradients of ``steps`` SGD steps (float32)."""
    monkeypatch.setattr(core.network, "FUSE_RELU", fuse)
    network = make().build(shape, 0, "float32")
    loss = get_loss("softmax_cross_entropy")
    records = []
    for _ in range(steps):
        output = network.forward(X, training=True).copy()
        loss(output, y)
        dX = network.backward(loss.backward()).copy()
        records.append([output, dX] + [p.grad.copy() for p in network.parameters()])
        for p in network.parameters():
            p.value[...] -= np.float32(0.1) * p.grad
    return records, network


@pytest.mark.parametrize("name", NETWORKS)
def test_fused_relus_give_the_numbers_of_separate_ones(name, monkeypatch):
    make, shape = NETWORKS[name]
    rng = np.random.default_rng(3)
    X = rng.standard_normal((10, *shape)).astype(np.float32)
    if len(shape) == 3:
        X = np.sign(X)  # spins
    y = rng.integers(0, 2, len(X))
    fused, network = _training_steps(make, shape, X, y, True, monkeypatch)
    separate, _ = _training_steps(make, shape, X, y, False, monkeypatch)
    relus = [layer for layer in network.layers if core.network._relu(layer) is not None]
    assert relus and any(core.network._relu(layer).passes_forward for layer in relus)
    for step_fused, step_separate in zip(fused, separate):
        for a, b in zip(step_fused, step_separate):
            np.testing.assert_array_equal(a, b)


def test_which_neighbours_take_over():
    network = Sequential([Conv2D(4, 3, "periodic"), ReLU(), MaxPool2D(2), ReLU(), Conv2D(4, 3, "periodic"), ReLU(),
                          GlobalAvgPool2D(), Dense(3), Tanh(), Dense(2)]).build((1, 8, 8), 0, "float32")
    layers = network.layers
    assert layers[0].rectify_output and layers[1].passes_forward and not layers[1].passes_backward  # pool masks not
    assert not layers[3].passes_forward and layers[3].passes_backward and layers[4].mask_input_grad
    assert layers[4].rectify_output and layers[5].passes_forward and layers[5].passes_backward
    assert layers[6].mask_input_grad and not layers[7].rectify_output and not layers[9].mask_input_grad


def test_a_subclass_that_overrides_forward_does_not_inherit_the_fusion():
    class Plain(Conv2D):
        def forward(self, X, training=False):
            return super().forward(X, training)

    network = Sequential([Plain(4, 3, "periodic"), ReLU(), Plain(4, 3, "periodic"), ReLU(), GlobalAvgPool2D(),
                          Dense(2)]).build((1, 6, 6), 0, "float32")
    plain = [layer for layer in network.layers if isinstance(layer, Plain)]
    assert not any(layer.rectify_output or layer.mask_input_grad for layer in plain)
    assert not network.layers[1].passes_forward and not network.layers[1].passes_backward
    assert not network.layers[3].passes_forward and network.layers[3].passes_backward  # the pool still masks


@pytest.mark.parametrize("layers", [
    lambda: [Conv2D(3, 3, "periodic"), Activation("sigmoid")],  # the output reaches the caller through an activation
    lambda: [Conv2D(3, 3, "periodic"), ReLU()],  # ... through a fused ReLU
    lambda: [Conv2D(3, 3, "periodic"), Flatten()],  # ... as a view
], ids=["sigmoid", "relu", "flatten"])
def test_the_network_output_is_not_a_reused_buffer(layers):
    """A caller may keep an output across calls: a buffer the layer reuses must not reach it."""
    network = Sequential(layers()).build((1, 6, 6), 0, "float32")
    rng = np.random.default_rng(0)
    X1, X2 = rng.standard_normal((2, 4, 1, 6, 6)).astype(np.float32)
    Y1 = network.forward(X1)
    kept = Y1.copy()
    network.forward(X2)
    np.testing.assert_array_equal(Y1, kept)


def test_the_input_gradient_is_not_a_reused_buffer():
    network = Sequential([Tanh(), Conv2D(3, 3, "periodic"), ReLU(), Conv2D(2, 3, "periodic"), GlobalAvgPool2D(),
                          Dense(2)]).build((2, 6, 6), 0, "float32")
    assert not network.layers[1].reuse_input_grad  # its dX passes through the Tanh, in place, to the caller
    assert network.layers[3].reuse_input_grad
    rng = np.random.default_rng(1)
    grads = []
    for X in rng.standard_normal((2, 4, 2, 6, 6)).astype(np.float32):
        network.forward(X)
        grads.append(network.backward(np.ones((4, 2), np.float32)))
    assert not np.shares_memory(grads[0], grads[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_kernels_match_numpy(dtype):
    """The compiled passes do numpy's operations: max(x, 0) maps -0.0 to +0.0 and keeps NaN; the mask multiplies
    by 0 where the mask is not positive (NaN included), giving -0.0, +0.0 or NaN as numpy does."""
    special = np.array([-0.0, 0.0, np.nan, -np.inf, np.inf, -1.5, 2.5, 1e-30], dtype)
    values = np.concatenate([special, np.random.default_rng(0).standard_normal(100).astype(dtype)])
    rectified = values.copy()
    _kernels.rectify(rectified, dtype(0))
    expected = np.maximum(values, 0)
    np.testing.assert_array_equal(rectified, expected)
    np.testing.assert_array_equal(np.signbit(rectified), np.signbit(expected))

    out = np.random.default_rng(1).standard_normal((2, 3, 4, 6)).astype(dtype)
    out[0, 0, 0, :len(special[:6])] = special[:6]
    padded = np.random.default_rng(2).standard_normal((2, 5, 6, 6)).astype(dtype)
    padded[0, 1, 1, :len(special)] = special[::-1][:6]
    masked = out.copy()
    _kernels.mask_rows(masked, 0, 2, 0, 3, padded, 1, dtype(0))
    with np.errstate(invalid="ignore"):  # inf * 0
        expected = np.multiply(out, padded[:, 1:4, 1:5] > 0)
    np.testing.assert_array_equal(masked, expected)
    np.testing.assert_array_equal(np.signbit(masked), np.signbit(expected))
