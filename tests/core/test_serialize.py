"""save/load: .npz weights + .json architecture, bit-for-bit round trip, no pickle, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core import serialize
from core.models import cnn, mlp


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("factory, shape", [
    (lambda: mlp((16, 8), 3, activation="leaky_relu", dropout=0.2), (7,)),
    (lambda: cnn((4, 3), kernel_size=2, padding="zero", pool="max", hidden_layer_sizes=(5,)), (1, 8, 8)),
    (lambda: cnn((4,), padding="periodic", activation="elu", global_pool=False), (2, 6, 6)),
])
def test_round_trip_reproduces_predictions_bit_for_bit(tmp_path, dtype, factory, shape):
    network = factory().build(shape, 3, dtype)
    X = np.random.default_rng(0).standard_normal((11, *shape))
    expected = network.predict(X)
    serialize.save(network, tmp_path / "model")
    loaded = serialize.load(tmp_path / "model")
    assert loaded.dtype == np.dtype(dtype) and loaded.input_shape == shape
    assert loaded.get_config() == network.get_config()
    np.testing.assert_array_equal(loaded.predict(X), expected)
    for a, b in zip(network.parameters(), loaded.parameters()):
        assert a.name == b.name and a.value.dtype == b.value.dtype
        np.testing.assert_array_equal(a.value, b.value)


def test_files_are_plain_npz_and_json(tmp_path):
    network = mlp((4,), 2).build((3,), 0, "float64")
    weights_path, architecture_path = serialize.save(network, str(tmp_path / "net.npz"))
    assert (weights_path.name, architecture_path.name) == ("net.npz", "net.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.json", "net.npz"]  # no temporary files left
    with np.load(weights_path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["0.W", "0.b", "2.W", "2.b"]
        np.testing.assert_array_equal(archive["0.W"], network.parameters()[0].value)
    header = json.loads(architecture_path.read_text())
    assert header["format"] == serialize.FORMAT and header["version"] == serialize.VERSION
    assert header["dtype"] == "float64" and header["input_shape"] == [3]
    for suffix in ("", ".npz", ".json"):  # any spelling of the path loads the same network
        loaded = serialize.load(str(tmp_path / "net") + suffix)
        np.testing.assert_array_equal(loaded.parameters()[0].value, network.parameters()[0].value)


def test_saving_again_replaces_the_files(tmp_path):
    first, second = mlp((4,), 2).build((3,), 0), mlp((4,), 2).build((3,), 1)
    serialize.save(first, tmp_path / "m")
    serialize.save(second, tmp_path / "m")
    np.testing.assert_array_equal(serialize.load(tmp_path / "m").parameters()[0].value,
                                  second.parameters()[0].value)


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        serialize.load(tmp_path / "absent")
    network = mlp((4,), 2).build((3,), 0)
    _, architecture_path = serialize.save(network, tmp_path / "m")
    header = json.loads(architecture_path.read_text())
    architecture_path.write_text(json.dumps({**header, "version": 99}))
    with pytest.raises(ValueError, match="version 99"):
        serialize.load(tmp_path / "m")
    architecture_path.write_text(json.dumps({"weights": []}))
    with pytest.raises(ValueError, match="format"):
        serialize.load(tmp_path / "m")
    architecture_path.write_text(json.dumps({**header, "dtype": "float64"}))
    with pytest.raises(ValueError, match="dtype float32"):
        serialize.load(tmp_path / "m")


def test_save_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="'network'.*built"):
        serialize.save(mlp((4,), 2), tmp_path / "m")
    with pytest.raises(ValueError, match="existing folder"):
        serialize.save(mlp((4,), 2).build((3,), 0), tmp_path / "no" / "such" / "m")
    with pytest.raises(TypeError, match="'path'"):
        serialize.save(mlp((4,), 2).build((3,), 0), 42)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_damaged_weights_file_is_named_without_pickle_advice(tmp_path, damage):
    weights_path, _ = serialize.save(mlp((4,), 2).build((3,), 0), tmp_path / "m")
    raw = weights_path.read_bytes()
    weights_path.write_bytes({"garbage": b"\x80\x04this is no npz", "truncated": raw[: len(raw) // 2],
                              "empty": b""}[damage])
    with pytest.raises(ValueError, match="not a complete npz archive") as raised:
        serialize.load(tmp_path / "m")
    assert str(weights_path) in str(raised.value) and "pickle" not in str(raised.value)


def test_damaged_weights_inside_the_archive_are_named(tmp_path):
    weights_path, _ = serialize.save(mlp((4,), 2).build((3,), 0), tmp_path / "m")
    raw = bytearray(weights_path.read_bytes())
    start = raw.index(b"\x93NUMPY") + 200  # inside the first stored array: its CRC fails
    raw[start:start + 8] = bytes(b ^ 0xFF for b in raw[start:start + 8])
    weights_path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="damaged npz archive") as raised:
        serialize.load(tmp_path / "m")
    assert str(weights_path) in str(raised.value)


@pytest.mark.parametrize("content", [b"\xff\xfe not utf-8", b'{"format": '])
def test_unreadable_architecture_file_is_named(tmp_path, content):
    _, architecture_path = serialize.save(mlp((4,), 2).build((3,), 0), tmp_path / "m")
    architecture_path.write_bytes(content)
    with pytest.raises(ValueError, match="not valid UTF-8 JSON") as raised:
        serialize.load(tmp_path / "m")
    assert str(architecture_path) in str(raised.value)
