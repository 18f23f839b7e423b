"""Every layer, loss and whole networks: backward against central finite differences in float64.

The tolerance RTOL = 1e-6 (relative error of the whole gradient array) is justified in gradcheck.py.
Inputs of the piecewise-linear functions (ReLU family, max pooling) are kept >= 0.05 away from their kinks
and ties, so that a step of 1e-6 never crosses one.
"""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import RTOL, check_layer, check_network, numerical_gradient, relative_error

from core.activations import ACTIVATIONS
from core.layers import (Activation, AvgPool2D, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D, MaxPool2D)
from core.losses import BinaryCrossEntropy, Huber, MeanAbsoluteError, MeanSquaredError, SoftmaxCrossEntropy
from core.models import cnn, mlp
from core.network import Sequential


def away_from_zero(X: np.ndarray, margin: float = 0.05) -> np.ndarray:
    """Shift every entry away from 0 by ``margin`` (keeps its sign): no kink of ReLU-like f within reach."""
    return X + np.where(X >= 0, margin, -margin)


def build(layer, input_shape, seed=0):
    layer.build(input_shape, np.random.default_rng(seed), "float64")
    return layer


def assert_small(errors: dict[str, float]) -> None:
    assert errors, "no gradient was compared"
    for name, error in errors.items():
        assert error < RTOL, f"gradient of {name}: relative error {error:.2e} >= {RTOL}"


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("shape", [(4, 7), (2, 3, 4, 5)])
def test_activation_gradients(name, shape):
    rng = np.random.default_rng(1)
    X = away_from_zero(2 * rng.standard_normal(shape))
    assert_small(check_layer(build(ACTIVATIONS[name](), shape[1:]), X, rng))


@pytest.mark.parametrize("name, kwargs", [("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.7})])
def test_activation_gradients_with_parameters(name, kwargs):
    rng = np.random.default_rng(2)
    X = away_from_zero(rng.standard_normal((5, 6)))
    assert_small(check_layer(build(Activation(name, **kwargs), (6,)), X, rng))


@pytest.mark.parametrize("batch, n_in, units, use_bias", [(1, 1, 1, True), (5, 3, 4, True), (7, 10, 2, False)])
def test_dense_gradients(batch, n_in, units, use_bias):
    rng = np.random.default_rng(3)
    layer = build(Dense(units, use_bias=use_bias), (n_in,))
    layer.params["W"] += 0  # parameters are float64 arrays that finite differences perturb in place
    errors = check_layer(layer, rng.standard_normal((batch, n_in)), rng)
    assert set(errors) == ({"X", "W", "b"} if use_bias else {"X", "W"})
    assert_small(errors)


CONV_CASES = [  # (batch, in channels, filters, kernel, H, W)
    (2, 1, 2, 3, 5, 6),   # odd kernel, rectangular lattice
    (1, 2, 3, 2, 4, 5),   # even kernel (asymmetric padding)
    (2, 3, 2, 1, 4, 4),   # 1x1 kernel
    (1, 2, 1, 4, 6, 6),   # even kernel, one filter
]


@pytest.mark.parametrize("padding", ["zero", "valid", "periodic"])
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_gradients(padding, case):
    batch, channels, filters, k, H, W = case
    rng = np.random.default_rng(4)
    layer = build(Conv2D(filters, k, padding=padding), (channels, H, W))
    layer.params["b"][...] = rng.standard_normal(filters)
    assert_small(check_layer(layer, rng.standard_normal((batch, channels, H, W)), rng))


@pytest.mark.parametrize("padding", ["zero", "valid", "periodic"])
def test_conv2d_gradients_without_bias(padding):
    rng = np.random.default_rng(40)
    layer = build(Conv2D(3, 3, padding=padding, use_bias=False), (2, 4, 5))
    errors = check_layer(layer, rng.standard_normal((2, 2, 4, 5)), rng)
    assert set(errors) == {"X", "W"}
    assert_small(errors)


@pytest.mark.parametrize("padding", ["zero", "periodic"])
def test_conv2d_gradients_kernel_wider_than_lattice(padding):
    """k = 7 on a 3 x 4 lattice: the periodic padding wraps around the torus more than once."""
    rng = np.random.default_rng(5)
    layer = build(Conv2D(2, 7, padding=padding), (2, 3, 4))
    assert_small(check_layer(layer, rng.standard_normal((2, 2, 3, 4)), rng))


def distinct_values(rng, shape):
    """Entries spaced 0.05 apart in random order: no ties within max-pooling blocks."""
    return 0.05 * rng.permutation(np.prod(shape)).reshape(shape).astype(np.float64)


@pytest.mark.parametrize("pool_cls", [MaxPool2D, AvgPool2D])
@pytest.mark.parametrize("pool_size, shape", [(2, (2, 3, 4, 6)), (3, (1, 2, 6, 3)), (1, (2, 1, 2, 2))])
def test_pooling_gradients(pool_cls, pool_size, shape):
    rng = np.random.default_rng(6)
    layer = build(pool_cls(pool_size), shape[1:])
    assert_small(check_layer(layer, distinct_values(rng, shape), rng))


def test_max_pool_routes_ties_to_one_element():
    layer = build(MaxPool2D(2), (1, 2, 2))
    X = np.zeros((1, 1, 2, 2))
    layer.forward(X)
    dX = layer.backward(np.ones((1, 1, 1, 1)))
    assert dX.sum() == 1.0 and np.count_nonzero(dX) == 1


@pytest.mark.parametrize("shape", [(3, 2, 4, 5), (1, 1, 1, 1)])
def test_global_avg_pool_gradients(shape):
    rng = np.random.default_rng(7)
    assert_small(check_layer(build(GlobalAvgPool2D(), shape[1:]), rng.standard_normal(shape), rng))


@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 4, 4)])
def test_dropout_gradients_with_fixed_mask(shape):
    rng = np.random.default_rng(8)
    layer = build(Dropout(0.4), shape[1:])

    def fix_mask():  # the same Generator state before every forward -> the same mask
        layer.rng = np.random.default_rng(123)

    errors = check_layer(layer, rng.standard_normal(shape), rng, before_forward=fix_mask)
    fix_mask()
    assert np.any(layer.forward(np.ones(shape), training=True) == 0), "the mask dropped nothing"
    assert_small(errors)


def test_flatten_gradients():
    rng = np.random.default_rng(9)
    assert_small(check_layer(build(Flatten(), (2, 3, 4)), rng.standard_normal((3, 2, 3, 4)), rng))


def loss_gradient_error(loss, output, target) -> float:
    output = output.copy()
    loss.forward(output, target)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda: loss.forward(output, target), output)
    return relative_error(analytic, numeric)


@pytest.mark.parametrize("shape", [(5, 1), (4, 3), (2, 3, 2)])
def test_mse_gradient(shape):
    rng = np.random.default_rng(10)
    assert loss_gradient_error(MeanSquaredError(), rng.standard_normal(shape), rng.standard_normal(shape)) < RTOL


def test_mse_gradient_with_1d_target():
    rng = np.random.default_rng(11)
    assert loss_gradient_error(MeanSquaredError(), rng.standard_normal((6, 1)), rng.standard_normal(6)) < RTOL


def residuals_away_from_kinks(rng, shape, kinks=(), margin=0.05) -> np.ndarray:
    """Residuals of random sign, cycling through the smooth pieces of |r| (between 0 and the kinks, and up to the
    last kink + 2), each at least ``margin`` from 0 and from every kink: the central step of 1e-6 then never
    crosses a kink (|r| = 0 for MAE; |r| = 0 or delta for Huber)."""
    edges = sorted({0.0, *kinks})
    n = int(np.prod(shape))
    magnitude = np.empty(n)
    for i in range(n):
        piece = i % len(edges)
        low = edges[piece] + margin
        high = edges[piece + 1] - margin if piece + 1 < len(edges) else edges[piece] + 2.0
        magnitude[i] = rng.uniform(low, high)
    return (magnitude * rng.choice([-1.0, 1.0], n)).reshape(shape)


# MAE is piecewise linear and Huber piecewise quadratic or linear in the output: away from the kinks the third
# derivative is 0, so the central difference has no truncation error, only rounding (~1e-16 |L| / eps ~ 1e-10
# relative): the RTOL of gradcheck.py holds with a wide margin, while a wrong factor or sign is off by O(1).
@pytest.mark.parametrize("shape, target_shape", [((5, 1), (5,)), ((5, 1), (5, 1)), ((4, 3), (4, 3)),
                                                 ((2, 3, 2), (2, 3, 2))])
def test_mae_gradient(shape, target_shape):
    rng = np.random.default_rng(14)
    target = rng.standard_normal(target_shape)
    output = target.reshape(shape) + residuals_away_from_kinks(rng, shape)
    assert loss_gradient_error(MeanAbsoluteError(), output, target) < RTOL


@pytest.mark.parametrize("delta", [0.3, 1.0, 2.5])
@pytest.mark.parametrize("shape, target_shape", [((6, 1), (6,)), ((4, 3), (4, 3)), ((2, 3, 2), (2, 3, 2))])
def test_huber_gradient(delta, shape, target_shape):
    rng = np.random.default_rng(15)
    target = rng.standard_normal(target_shape)
    residual = residuals_away_from_kinks(rng, shape, kinks=(delta,))
    assert (np.abs(residual) < delta).any() and (np.abs(residual) > delta).any()  # both branches exercised
    assert loss_gradient_error(Huber(delta), target.reshape(shape) + residual, target) < RTOL


@pytest.mark.parametrize("batch, n_classes", [(1, 2), (6, 3), (9, 10)])
def test_softmax_cross_entropy_gradient_labels_and_rows(batch, n_classes):
    rng = np.random.default_rng(12)
    logits = 3 * rng.standard_normal((batch, n_classes))
    labels = rng.integers(0, n_classes, batch)
    rows = rng.dirichlet(np.ones(n_classes), size=batch)
    assert loss_gradient_error(SoftmaxCrossEntropy(), logits, labels) < RTOL
    assert loss_gradient_error(SoftmaxCrossEntropy(), logits, np.eye(n_classes)[labels]) < RTOL
    assert loss_gradient_error(SoftmaxCrossEntropy(), logits, rows) < RTOL


@pytest.mark.parametrize("output_shape, target_shape", [((7, 1), (7,)), ((7, 1), (7, 1)), ((5,), (5,)),
                                                        ((4, 3), (4, 3))])
def test_binary_cross_entropy_gradient(output_shape, target_shape):
    rng = np.random.default_rng(13)
    logits = 3 * rng.standard_normal(output_shape)
    hard = rng.integers(0, 2, target_shape).astype(float)
    soft = rng.uniform(size=target_shape)
    assert loss_gradient_error(BinaryCrossEntropy(), logits, hard) < RTOL
    assert loss_gradient_error(BinaryCrossEntropy(), logits, soft) < RTOL


def fixed_dropout(network):
    """before_forward hook re-seeding every Dropout layer, so the masks are the same in every forward."""
    def reset():
        for layer in network.layers:
            if isinstance(layer, Dropout):
                layer.rng = np.random.default_rng(99)
    return reset


NETWORKS = [  # (factory, input shape, loss, target maker)
    (lambda: mlp((6, 5), 3, activation="tanh", dropout=0.3), (4,), SoftmaxCrossEntropy(),
     lambda rng, n: rng.integers(0, 3, n)),
    (lambda: mlp((5,), 1, activation="softplus"), (3,), BinaryCrossEntropy(),
     lambda rng, n: rng.integers(0, 2, n)),
    (lambda: mlp((4, 4), 2, activation="elu"), (3,), MeanSquaredError(),
     lambda rng, n: rng.standard_normal((n, 2))),
    (lambda: mlp((), 2, activation="sigmoid"), (3,), MeanSquaredError(),
     lambda rng, n: rng.standard_normal((n, 2))),
    (lambda: cnn((3, 2), padding="periodic", activation="tanh", pool="avg", hidden_layer_sizes=(4,),
                 dropout=0.2), (1, 4, 4), SoftmaxCrossEntropy(), lambda rng, n: rng.integers(0, 2, n)),
    (lambda: cnn((2,), kernel_size=2, padding="zero", activation="sigmoid", global_pool=False),
     (2, 3, 3), MeanSquaredError(), lambda rng, n: rng.standard_normal((n, 2))),
    (lambda: Sequential([Conv2D(2, 3, padding="valid"), Activation("softplus"), MaxPool2D(2), Flatten(),
                         Dense(3), Activation("sigmoid"), Dense(1)]),
     (1, 6, 6), BinaryCrossEntropy(), lambda rng, n: rng.integers(0, 2, n)),
]


@pytest.mark.parametrize("index", range(len(NETWORKS)))
def test_network_gradients(index):
    factory, input_shape, loss, make_target = NETWORKS[index]
    rng = np.random.default_rng(14 + index)
    network = factory().build(input_shape, rng, "float64")
    for p in network.parameters():  # nonzero biases, so that they matter
        if not p.decay:
            p.value[...] = 0.1 * rng.standard_normal(p.value.shape)
    X = rng.standard_normal((3, *input_shape))
    assert_small(check_network(network, loss, X, make_target(rng, 3), fixed_dropout(network)))


def test_network_with_relu_gradients_and_input_grad_false():
    """ReLU and max pooling (kinks) in a whole CNN; skipping the input gradient leaves parameter grads equal."""
    rng = np.random.default_rng(30)
    network = cnn((3, 2), padding="periodic", pool="max", hidden_layer_sizes=(5,)).build((1, 4, 4), 0, "float64")
    X = distinct_values(rng, (2, 1, 4, 4)) - 0.4
    y = np.array([0, 1])
    loss = SoftmaxCrossEntropy()
    assert_small(check_network(network, loss, X, y))
    loss.forward(network.forward(X, training=True), y)
    network.backward(loss.backward())
    full = {p.name: p.grad.copy() for p in network.parameters()}
    assert network.backward(loss.backward(), input_grad=False) is None
    for p in network.parameters():
        np.testing.assert_array_equal(p.grad, full[p.name])
