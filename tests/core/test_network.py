"""Sequential and the model factories: parameters, weights, config, determinism, dtype, in-place safety."""

from __future__ import annotations

import numpy as np
import pytest

from core.activations import ReLU, Tanh
from core.layers import (Activation, AvgPool2D, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D, MaxPool2D)
from core.losses import MeanSquaredError, SoftmaxCrossEntropy
from core.models import cnn, mlp
from core.network import Parameter, Sequential


def small_mlp(dtype="float32", seed=0):
    return mlp((8, 6), 3, activation="relu").build((5,), seed, dtype)


def test_parameters_are_the_layers_arrays_in_fixed_order():
    network = small_mlp()
    parameters = network.parameters()
    assert [p.name for p in parameters] == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    assert [p.decay for p in parameters] == [True, False] * 3
    assert all(isinstance(p, Parameter) for p in parameters)
    again = network.parameters()
    assert all(a is b for a, b in zip(parameters, again))
    assert parameters[0].value is network.layers[0].params["W"]
    assert parameters[0].grad is network.layers[0].grads["W"]
    assert network.n_parameters() == 5 * 8 + 8 + 8 * 6 + 6 + 6 * 3 + 3


def test_in_place_update_of_parameter_changes_the_output_and_backward_overwrites_grads():
    network = small_mlp("float64")
    X = np.random.default_rng(0).standard_normal((4, 5))
    before = network.forward(X).copy()
    value = network.parameters()[-1].value
    value += 1.0  # what an optimizer does
    np.testing.assert_allclose(network.forward(X), before + 1.0)
    loss = MeanSquaredError()
    loss.forward(network.forward(X), np.zeros((4, 3)))
    network.backward(loss.backward())
    first = [p.grad.copy() for p in network.parameters()]
    loss.forward(network.forward(X), np.zeros((4, 3)))
    network.backward(loss.backward())
    for grad, p in zip(first, network.parameters()):  # overwritten, not accumulated
        np.testing.assert_array_equal(p.grad, grad)


def test_get_and_set_weights_round_trip():
    network, other = small_mlp(seed=1), small_mlp(seed=2)
    X = np.random.default_rng(0).standard_normal((7, 5))
    assert not np.array_equal(network.predict(X), other.predict(X))
    weights = network.get_weights()
    assert set(weights) == {p.name for p in network.parameters()}
    other.set_weights(weights)
    np.testing.assert_array_equal(network.predict(X), other.predict(X))
    weights["0.W"][...] = 0  # copies: the network is unaffected
    assert np.any(network.parameters()[0].value != 0)
    with pytest.raises(ValueError, match="'weights'.*keys"):
        other.set_weights({"0.W": weights["0.W"]})
    with pytest.raises(ValueError, match="'weights' entry '0.W'.*shape"):
        other.set_weights({**weights, "0.W": np.zeros((2, 2))})


@pytest.mark.parametrize("factory, shape", [
    (lambda: mlp((16, 8), 2, dropout=0.1), (10,)),
    (lambda: cnn((4, 4), pool="max", hidden_layer_sizes=(6,), dropout=0.2), (1, 8, 8)),
])
def test_same_seed_same_network_and_predictions(factory, shape):
    X = np.random.default_rng(3).standard_normal((6, *shape))
    first, second, other = factory().build(shape, 42), factory().build(shape, 42), factory().build(shape, 43)
    for a, b in zip(first.parameters(), second.parameters()):
        np.testing.assert_array_equal(a.value, b.value)
    np.testing.assert_array_equal(first.forward(X, training=True), second.forward(X, training=True))
    assert not np.array_equal(first.predict(X), other.predict(X))


def test_config_round_trip_gives_identical_architecture():
    network = cnn((3, 2), kernel_size=2, padding="zero", activation="leaky_relu", pool="avg",
                  global_pool=False, hidden_layer_sizes=(4,), dropout=0.3)
    clone = Sequential.from_config(network.get_config())
    assert clone.get_config() == network.get_config()
    with pytest.raises(ValueError, match="'Spline'"):
        Sequential.from_config({"layers": [{"class": "Spline", "config": {}}]})
    with pytest.raises(ValueError, match="'config'"):
        Sequential.from_config({"layer": []})


def test_predict_in_chunks_equals_one_forward():
    network = small_mlp("float64")
    X = np.random.default_rng(4).standard_normal((23, 5))
    np.testing.assert_array_equal(network.predict(X, batch_size=4), network.forward(X))
    assert network.predict(X[:0]).shape == (0, 3)
    # Conv2D reuses its scratch buffers while the batch size stays the same: chunks of 4, 4, 3 samples
    conv_net = cnn((3, 2), pool="max", hidden_layer_sizes=(4,)).build((1, 4, 4), 0, "float64")
    images = np.random.default_rng(5).standard_normal((11, 1, 4, 4))
    np.testing.assert_allclose(conv_net.predict(images, batch_size=4), conv_net.forward(images), rtol=1e-13)


@pytest.mark.parametrize("factory, shape", [
    (lambda: mlp((8,), 2, activation="tanh", dropout=0.2), (6,)),
    (lambda: cnn((4, 3), pool="max", hidden_layer_sizes=(5,)), (1, 8, 8)),
])
def test_float32_network_stays_float32(factory, shape):
    network = factory().build(shape, 0, "float32")
    X = np.random.default_rng(5).standard_normal((4, *shape))  # float64 input: cast once to float32
    loss = SoftmaxCrossEntropy()
    output = network.forward(X, training=True)
    loss.forward(output, np.array([0, 1, 1, 0]))
    dX = network.backward(loss.backward())
    assert output.dtype == dX.dtype == np.float32
    assert all(p.value.dtype == p.grad.dtype == np.float32 for p in network.parameters())
    assert network.predict(X).dtype == np.float32


def test_float64_network_and_input_not_modified():
    network = Sequential([ReLU(), Dense(4), Activation("relu"), Dropout(0.5), Dense(2), Tanh()])
    network.build((3,), 0, "float64")
    X = np.random.default_rng(6).standard_normal((5, 3))
    X_copy = X.copy()
    d_output = np.ones((5, 2))
    network.forward(X, training=True)
    network.backward(d_output)
    np.testing.assert_array_equal(X, X_copy)  # the first layer never works in place on the caller's array
    np.testing.assert_array_equal(d_output, np.ones((5, 2)))


def test_default_init_follows_the_next_activation():
    network = Sequential([Dense(4), ReLU(), Dense(4), Activation("tanh"), Dense(2), Dense(3, init="lecun")])
    network.build((3,), 0)
    assert [layer.fallback_init for layer in network.layers if isinstance(layer, Dense)] == \
        ["he", "glorot", "glorot", "glorot"]
    conv = Sequential([Conv2D(2, 3), Activation("elu"), GlobalAvgPool2D(), Dense(1)]).build((1, 4, 4), 0)
    assert conv.layers[0].fallback_init == "he"


def test_mlp_and_cnn_layouts():
    layers = mlp((8, 4), 1, activation="elu", dropout=0.5).layers
    assert [type(layer).__name__ for layer in layers] == ["Dense", "ELU", "Dropout", "Dense", "ELU", "Dropout",
                                                          "Dense"]
    assert [type(layer).__name__ for layer in mlp((), 2).layers] == ["Dense"]
    layers = cnn((4, 8, 8), pool="max", hidden_layer_sizes=(16,), n_outputs=2).layers
    assert [type(layer) for layer in layers] == [Conv2D, ReLU, MaxPool2D, Conv2D, ReLU, MaxPool2D, Conv2D, ReLU,
                                                 GlobalAvgPool2D, Dense, ReLU, Dense]
    assert isinstance(cnn(pool="avg", channels=(2, 2)).layers[2], AvgPool2D)
    assert isinstance(cnn(global_pool=False).layers[2], Flatten)
    network = cnn().build((1, 16, 16), 0)
    assert network.output_shape == (2,)


def test_periodic_cnn_with_global_pool_is_translation_invariant():
    network = cnn((4, 4), padding="periodic").build((1, 8, 8), 0, "float64")
    X = np.random.default_rng(7).choice([-1.0, 1.0], size=(3, 1, 8, 8))  # Ising-like spins
    np.testing.assert_allclose(network.predict(np.roll(X, (2, 5), axis=(2, 3))), network.predict(X), rtol=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: mlp((8, 0), 2), "'hidden_layer_sizes' parameter of mlp"),
    (lambda: mlp((8,), 0), "'n_outputs' parameter of mlp"),
    (lambda: mlp((8,), 2, activation="swish"), "'activation'.*swish"),
    (lambda: mlp((8,), 2, dropout=1.5), "'dropout' parameter of mlp"),
    (lambda: mlp((8,), 2, init="orthogonal"), "'init' parameter of mlp"),
    (lambda: cnn(channels=()), "'channels' parameter of cnn"),
    (lambda: cnn(padding="same"), "'padding' parameter of cnn"),
    (lambda: cnn(pool="min"), "'pool' parameter of cnn"),
    (lambda: small_mlp().forward(np.zeros((4, 6))), r"'X' input must have shape \(batch, 5,\)"),
    (lambda: small_mlp().predict(np.full((2, 5), np.nan)), "NaN"),
    (lambda: small_mlp().predict(np.zeros((2, 5)), batch_size=0), "'batch_size'"),
    (lambda: mlp((4,), 2).build((0,)), "'input_shape'"),
    (lambda: mlp((4,), 2).build((3,), dtype="int32"), "'dtype'"),
    (lambda: Sequential([Dense(2), Dense(2)]).build((2, 2)), "Flatten"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_misuse_raises_clear_errors():
    with pytest.raises(TypeError, match="'layers'"):
        Sequential([Dense(2), "relu"])
    shared = Dense(2)
    with pytest.raises(ValueError, match="same layer instance"):
        Sequential([shared, shared])
    with pytest.raises(RuntimeError, match="build"):
        mlp((2,), 1).forward(np.zeros((1, 3)))
    with pytest.raises(TypeError, match="'seed_or_rng'"):
        mlp((2,), 1).build((3,), seed_or_rng="seed")


@pytest.mark.parametrize("factory, shape, width", [
    (lambda: mlp((8, 6), 3, dropout=0.3), (5,), 6),
    (lambda: cnn((4, 3), pool="max", hidden_layer_sizes=(5,), dropout=0.2), (1, 8, 8), 5),
    (lambda: cnn((4,), global_pool=False), (1, 4, 4), 4 * 4 * 4),
    (lambda: mlp((), 2), (5,), 5),  # a linear model: the readout sees the input itself
])
def test_hidden_features_are_the_input_of_the_last_dense(factory, shape, width):
    network = factory().build(shape, 0, "float64")
    X = np.random.default_rng(8).standard_normal((11, *shape))
    features = network.hidden_features(X, batch_size=4)
    assert features.shape == (11, width) and features.dtype == np.float64
    last = network.layers[-1]
    # the readout applied to the features gives the network's output (inference mode: dropout off)
    np.testing.assert_allclose(features @ last.params["W"] + last.params["b"], network.predict(X), rtol=1e-12)
    float32 = factory().build(shape, 0, "float32")
    assert float32.hidden_features(X).dtype == np.float64
    assert network.hidden_features(X[:0]).shape == (0, width)


def test_hidden_features_errors():
    with pytest.raises(RuntimeError, match="build"):
        mlp((2,), 1).hidden_features(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="'batch_size'"):
        small_mlp().hidden_features(np.zeros((2, 5)), batch_size=0)
    with pytest.raises(ValueError, match="NaN"):
        small_mlp().hidden_features(np.full((2, 5), np.nan))
