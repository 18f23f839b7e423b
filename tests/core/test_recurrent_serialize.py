"""Recurrent layers in the layer registry: complete get_config, save/load round trip, weight decay of W and U."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core import serialize
from core.layers import LAYERS
from core.models import rnn
from core.recurrent import GRU, LSTM, SimpleRNN, TimeDense

LAYER_CASES = [
    lambda: SimpleRNN(4, activation="relu", return_sequences=True, truncate=3, init="he", recurrent_init="glorot"),
    lambda: LSTM(5, truncate=2, init="lecun_uniform", forget_bias=0.5),
    lambda: GRU(3, return_sequences=True),
    lambda: TimeDense(2, init="he", use_bias=False),
]


@pytest.mark.parametrize("index", range(len(LAYER_CASES)))
def test_registered_layers_rebuild_from_their_json_config(index):
    layer = LAYER_CASES[index]()
    config = json.loads(json.dumps(layer.get_config()))
    clone = LAYERS[type(layer).__name__](**config)
    assert clone.get_config() == layer.get_config()
    # every constructor argument is in the config: clones draw the same initial weights from the same seed
    for a, b in ((layer, 0), (clone, 0)):
        a.build((6, 3), np.random.default_rng(b), "float64")
    for name, value in layer.params.items():
        np.testing.assert_array_equal(clone.params[name], value)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", [
    {"cell": "lstm", "units": (4, 3), "n_outputs": 2, "hidden_layer_sizes": (5,), "truncate": 2},
    {"cell": "gru", "units": 3, "head": "sequence", "hidden_layer_sizes": (2,), "activation": "tanh"},
    {"cell": "rnn", "units": (3,), "n_outputs": 3, "head": "sequence", "init": "glorot_uniform"},
])
def test_rnn_round_trip_reproduces_predictions_bit_for_bit(tmp_path, dtype, kwargs):
    network = rnn(**kwargs).build((6, 2), 3, dtype)
    X = np.random.default_rng(0).standard_normal((9, 6, 2))
    expected = network.predict(X)
    serialize.save(network, tmp_path / "model")
    loaded = serialize.load(tmp_path / "model")
    assert loaded.dtype == np.dtype(dtype) and loaded.input_shape == (6, 2)
    assert loaded.get_config() == network.get_config()
    np.testing.assert_array_equal(loaded.predict(X), expected)
    for a, b in zip(network.parameters(), loaded.parameters()):
        assert a.name == b.name and a.value.dtype == b.value.dtype
        np.testing.assert_array_equal(a.value, b.value)


def test_input_and_recurrent_weights_are_decayed_biases_are_not():
    network = rnn("lstm", 3, hidden_layer_sizes=(2,)).build((4, 2), 0)
    decay = {p.name: p.decay for p in network.parameters()}
    assert decay == {"0.W": True, "0.U": True, "0.b": False, "1.W": True, "1.b": False, "3.W": True, "3.b": False}
