"""Layers and activations: forward values against direct formulas, symmetry, dtype, initialisation, bad input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.special import expit

from core.activations import ACTIVATIONS, default_init, get_activation
from core.init import INITIALIZERS, initialize
from core.layers import (LAYERS, Activation, AvgPool2D, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D,
                         MaxPool2D)


def build(layer, input_shape, dtype="float64", seed=0):
    layer.build(input_shape, np.random.default_rng(seed), dtype)
    return layer


REFERENCE_ACTIVATIONS = {
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "relu": lambda x: np.where(x > 0, x, 0.0),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.01 * x),
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1),
    "softplus": lambda x: np.log(1 + np.exp(x)),
    "identity": lambda x: x,
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_values_match_formula(name):
    X = np.linspace(-5, 5, 41).reshape(1, -1)
    layer = build(get_activation(name), (41,))
    np.testing.assert_allclose(layer.forward(X), REFERENCE_ACTIVATIONS[name](X), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activations_finite_and_dtype_preserving_at_extreme_inputs(name, dtype):
    X = np.array([[-1e30, -1e4, -100.0, 0.0, 100.0, 1e4, 1e30]], dtype=dtype)
    layer = build(get_activation(name), (7,), dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow / invalid-value warning either
        Y = layer.forward(X)
        dX = layer.backward(np.ones_like(X))
    assert Y.dtype == dX.dtype == np.dtype(dtype)
    assert np.all(np.isfinite(Y)) and np.all(np.isfinite(dX))
    if name == "sigmoid":  # atol: float32 may flush the subnormal sigmoid(-100) ~ 4e-44 to zero
        np.testing.assert_allclose(Y, expit(X.astype(np.float64)).astype(dtype), rtol=1e-6, atol=1e-40)


def test_activation_table_and_default_init():
    assert set(ACTIVATIONS) == {"sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "identity"}
    assert [default_init(n) for n in ("relu", "leaky_relu", "elu")] == ["he"] * 3
    assert [default_init(n) for n in ("sigmoid", "tanh", "softplus", "identity")] == ["glorot"] * 4
    with pytest.raises(ValueError, match="'activation'.*relu.*Got 'rellu'"):
        get_activation("rellu")
    with pytest.raises(ValueError, match="negative_slope"):
        get_activation("leaky_relu", negative_slope=-0.1)
    with pytest.raises(ValueError, match="alpha"):
        Activation("elu", alpha=0.0)
    assert isinstance(Activation("leaky_relu", negative_slope=0.2).get_config()["negative_slope"], float)


def test_dense_forward_is_affine_map():
    rng = np.random.default_rng(0)
    layer = build(Dense(3), (4,))
    layer.params["b"][...] = rng.standard_normal(3)
    X = rng.standard_normal((5, 4))
    np.testing.assert_allclose(layer.forward(X), X @ layer.params["W"] + layer.params["b"], rtol=1e-14)


def reference_conv(X, W, b, padding):
    """Direct definition: Y[n,f,y,x] = b[f] + sum_{c,i,j} W[f,c,i,j] Xp[n,c,y+i,x+j], periodic via index mod."""
    N, C, H, Wd = X.shape
    F, _, k, _ = W.shape
    before = (k - 1) // 2 if padding != "valid" else 0
    Ho, Wo = (H - k + 1, Wd - k + 1) if padding == "valid" else (H, Wd)
    Y = np.zeros((N, F, Ho, Wo)) + b[None, :, None, None]
    for y in range(Ho):
        for x in range(Wo):
            for i in range(k):
                for j in range(k):
                    r, s = y + i - before, x + j - before
                    if padding == "periodic":
                        r, s = r % H, s % Wd
                    elif not (0 <= r < H and 0 <= s < Wd):
                        continue
                    Y[:, :, y, x] += X[:, :, r, s] @ W[:, :, i, j].T
    return Y


@pytest.mark.parametrize("padding", ["zero", "valid", "periodic"])
@pytest.mark.parametrize("channels, filters, k, H, W", [(1, 2, 3, 5, 6), (2, 3, 2, 4, 5), (3, 1, 5, 5, 5)])
def test_conv2d_matches_direct_definition(padding, channels, filters, k, H, W):
    rng = np.random.default_rng(1)
    layer = build(Conv2D(filters, k, padding=padding), (channels, H, W))
    layer.params["b"][...] = rng.standard_normal(filters)
    X = rng.standard_normal((2, channels, H, W))
    Y = layer.forward(X)
    assert Y.shape == (2, *layer.output_shape)
    np.testing.assert_allclose(Y, reference_conv(X, layer.params["W"], layer.params["b"], padding),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_periodic_conv2d_is_translation_equivariant(k):
    """Rolling the lattice rolls the output identically (float64: up to summation-order rounding)."""
    rng = np.random.default_rng(2)
    layer = build(Conv2D(4, k, padding="periodic"), (2, 6, 7))
    X = rng.standard_normal((3, 2, 6, 7))
    Y = layer.forward(X).copy()
    for shift in [(1, 0), (0, 3), (-2, 5), (6, 7)]:
        rolled = layer.forward(np.roll(X, shift, axis=(2, 3)))
        np.testing.assert_allclose(rolled, np.roll(Y, shift, axis=(2, 3)), rtol=1e-12, atol=1e-13)


def test_zero_padding_is_not_equivariant():
    """Control for the test above: with zero padding a roll does change the border outputs."""
    rng = np.random.default_rng(3)
    layer = build(Conv2D(2, 3, padding="zero"), (1, 5, 5))
    X = rng.standard_normal((1, 1, 5, 5))
    Y = layer.forward(X).copy()
    assert not np.allclose(layer.forward(np.roll(X, 1, axis=2)), np.roll(Y, 1, axis=2))


def test_global_avg_pool_of_periodic_conv_is_translation_invariant():
    rng = np.random.default_rng(4)
    conv, pool = build(Conv2D(3, 3, padding="periodic"), (1, 8, 8)), build(GlobalAvgPool2D(), (3, 8, 8))
    X = rng.standard_normal((2, 1, 8, 8))
    reference = pool.forward(conv.forward(X))
    shifted = pool.forward(conv.forward(np.roll(X, (3, -2), axis=(2, 3))))
    np.testing.assert_allclose(shifted, reference, rtol=1e-12)


def test_pooling_values():
    X = np.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(build(MaxPool2D(2), (1, 4, 4)).forward(X)[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(build(AvgPool2D(2), (1, 4, 4)).forward(X)[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_array_equal(build(GlobalAvgPool2D(), (1, 4, 4)).forward(X), [[7.5]])
    assert build(Flatten(), (1, 4, 4)).forward(X).shape == (1, 16)


def test_dropout_training_statistics_and_inference_identity():
    layer = build(Dropout(0.25), (1000,), "float32")
    X = np.ones((50, 1000), dtype=np.float32)
    assert layer.forward(X, training=False) is X
    Y = layer.forward(X, training=True)
    kept = Y != 0
    # 50,000 Bernoulli(0.75) draws: std of the kept fraction is sqrt(0.75*0.25/5e4) ~ 0.0019; 5 sigma = 0.01
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(Y[kept], 1 / 0.75, rtol=1e-6)  # inverted dropout keeps the mean
    assert Y.dtype == np.float32
    np.testing.assert_array_equal(layer.backward(np.ones_like(X)), Y)  # dX = dY * mask / (1 - rate)


def test_dropout_same_seed_same_mask():
    X = np.ones((4, 30))
    first = build(Dropout(0.5), (30,), seed=7).forward(X, training=True)
    second = build(Dropout(0.5), (30,), seed=7).forward(X, training=True)
    np.testing.assert_array_equal(first, second)


LAYER_CASES = [
    (lambda: Dense(5), (6,)),
    (lambda: Conv2D(3, 3, padding="periodic"), (2, 6, 6)),
    (lambda: Conv2D(3, 2, padding="zero"), (2, 6, 6)),
    (lambda: Conv2D(3, 3, padding="valid"), (2, 6, 6)),
    (lambda: MaxPool2D(2), (2, 6, 6)),
    (lambda: AvgPool2D(3), (2, 6, 6)),
    (lambda: GlobalAvgPool2D(), (2, 6, 6)),
    (lambda: Flatten(), (2, 6, 6)),
    (lambda: Dropout(0.5), (2, 6, 6)),
    *[(lambda name=name: Activation(name), (2, 6, 6)) for name in sorted(ACTIVATIONS)],
]


@pytest.mark.parametrize("index", range(len(LAYER_CASES)))
def test_float32_forward_and_backward_stay_float32(index):
    factory, input_shape = LAYER_CASES[index]
    layer = build(factory(), input_shape, "float32")
    X = np.random.default_rng(5).standard_normal((3, *input_shape)).astype(np.float32)
    Y = layer.forward(X, training=True)
    dX = layer.backward(np.ones_like(Y))
    assert Y.dtype == dX.dtype == np.float32
    assert Y.shape == (3, *layer.output_shape) and dX.shape == X.shape
    for name, value in layer.params.items():
        assert value.dtype == layer.grads[name].dtype == np.float32


def test_layers_table_rebuilds_every_layer_from_config():
    for factory, _ in LAYER_CASES:
        layer = factory()
        clone = LAYERS[type(layer).__name__](**layer.get_config())
        assert clone.get_config() == layer.get_config()


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_initializer_variance(name):
    fan_in, fan_out = 400, 100
    W = initialize(name, (fan_in, fan_out), fan_in, fan_out, np.random.default_rng(6), np.float64)
    expected = {"glorot": 2 / (fan_in + fan_out), "he": 2 / fan_in, "lecun": 1 / fan_in}[name.split("_")[0]]
    # 40,000 draws: relative std of the sample variance is sqrt(2/n) (normal) or sqrt(0.8/n) (uniform),
    # at most 0.0071; 5 sigma -> 0.036
    assert abs(W.var() / expected - 1) < 0.036
    assert abs(W.mean()) < 5 * math.sqrt(expected / W.size)
    if name.endswith("_uniform"):
        assert np.abs(W).max() <= math.sqrt(3 * expected)


def test_dense_init_is_overridable_and_defaults_to_glorot():
    rng = np.random.default_rng(7)
    he = Dense(200, init="he")
    he.build((800,), rng, "float64")
    assert abs(he.params["W"].std() / math.sqrt(2 / 800) - 1) < 0.02  # 160,000 draws, ~6 sigma
    plain = Dense(200)
    plain.build((800,), rng, "float64")
    assert abs(plain.params["W"].std() / math.sqrt(2 / 1000) - 1) < 0.02


@pytest.mark.parametrize("make, match", [
    (lambda: Dense(0), "'units' parameter of Dense"),
    (lambda: Dense(3.5), "'units'"),
    (lambda: Dense(3, init="xavier"), "'init' parameter of Dense"),
    (lambda: Conv2D(4, 3, padding="reflect"), "'padding' parameter of Conv2D"),
    (lambda: Conv2D(4, 0), "'kernel_size'"),
    (lambda: Conv2D(0, 3), "'filters'"),
    (lambda: MaxPool2D(0), "'pool_size' parameter of MaxPool2D"),
    (lambda: Dropout(1.0), "'rate' parameter of Dropout"),
    (lambda: Dropout(-0.1), "'rate'"),
])
def test_bad_constructor_arguments_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("layer, input_shape, match", [
    (Dense(3), (2, 4, 4), "Flatten"),
    (Conv2D(2, 3), (16,), "channels, height, width"),
    (Conv2D(2, 5, padding="valid"), (1, 4, 4), "kernel_size=5"),
    (MaxPool2D(3), (1, 4, 4), "divisible by 3"),
    (AvgPool2D(2), (1, 4, 5), "divisible by 2"),
    (GlobalAvgPool2D(), (4,), "channels, height, width"),
])
def test_incompatible_input_shapes_raise_value_error(layer, input_shape, match):
    with pytest.raises(ValueError, match=match):
        build(layer, input_shape)


def test_bad_dtype_raises_value_error():
    with pytest.raises(ValueError, match="'dtype'.*float16"):
        build(Dense(2), (3,), "float16")
