"""Conv2D's optimised forward and backward (chunked, channel-last, row-stacked im2col; input gradient as the
flipped-kernel correlation) against a straightforward float64 reference: einsum over explicit windows forward,
col2im with explicit padding folds backward.

Tolerance: the float32 layer is fed float32 values and the reference computes in float64 from the very same values,
so the only differences are the float32 roundings of the n products and sums behind each entry. For any order of
summation (BLAS blocking, chunk partial sums) these are bounded by gamma_n * sum |terms| with
gamma_n = n u / (1 - n u), u = 2^-24 (Higham, Accuracy and Stability, 3.1); ``sum |terms|`` is the reference
computed on absolute values. A wrong index or a missing term is off by O(|terms|), far above that bound.
"""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import core.conv as conv
from core.activations import ReLU
from core.conv import Conv2D, GlobalAvgPool2D
from core.layers import Dense
from core.losses import get_loss
from core.models import cnn
from core.network import Sequential

UNIT_ROUNDOFF = 2.0 ** -24


def gamma(n: int) -> float:
    return n * UNIT_ROUNDOFF / (1 - n * UNIT_ROUNDOFF)


def padded(X, k, padding):
    """X (N, C, H, W) padded by (k - 1) // 2 in front and k // 2 behind (none for "valid"), as Conv2D pads."""
    if padding == "valid":
        return X
    widths = ((0, 0), (0, 0), ((k - 1) // 2, k // 2), ((k - 1) // 2, k // 2))
    return np.pad(X, widths, mode="wrap" if padding == "periodic" else "constant")


def reference_forward(X, W, b, padding):
    windows = sliding_window_view(padded(X, W.shape[-1], padding), W.shape[-2:], axis=(2, 3))
    return np.einsum("ncyxij,fcij->nfyx", windows, W) + b[:, None, None]


def reference_backward(X, W, dY, padding):
    """(dX, dW, db) by the textbook route: windows for dW, col2im of W^T dY and a fold of the padding for dX."""
    k = W.shape[-1]
    N, C, H, Wd = X.shape
    Xp = padded(X, k, padding)
    windows = sliding_window_view(Xp, (k, k), axis=(2, 3))
    dW = np.einsum("nfyx,ncyxij->fcij", dY, windows)
    db = dY.sum(axis=(0, 2, 3))
    Ho, Wo = dY.shape[2:]
    dXp = np.zeros_like(Xp)
    for i in range(k):
        for j in range(k):
            dXp[:, :, i:i + Ho, j:j + Wo] += np.einsum("nfyx,fc->ncyx", dY, W[:, :, i, j])
    if padding == "valid":
        return dXp, dW, db
    before = (k - 1) // 2
    if padding == "zero":
        return dXp[:, :, before:before + H, before:before + Wd], dW, db
    dX = np.zeros_like(X)
    rows = (np.arange(Xp.shape[2]) - before) % H
    columns = (np.arange(Xp.shape[3]) - before) % Wd
    np.add.at(dX, (slice(None), slice(None), rows[:, None], columns[None, :]), dXp)
    return dX, dW, db


def check_layer_against_reference(padding, batch, channels, filters, k, H, W, seed=0):
    rng = np.random.default_rng(seed)
    layer = Conv2D(filters, k, padding=padding)
    layer.build((channels, H, W), rng, "float32")
    layer.params["b"][...] = rng.standard_normal(filters)
    X = rng.standard_normal((batch, channels, H, W), dtype=np.float32)
    Y = layer.forward(X, training=True)
    dY = rng.standard_normal(Y.shape, dtype=np.float32)
    dX = layer.backward(dY)
    assert Y.dtype == dX.dtype == np.float32
    grads = {name: grad.copy() for name, grad in layer.grads.items()}
    assert layer.backward(dY, input_grad=False) is None  # the first layer of a network skips dX...
    for name, grad in grads.items():  # ...and gets the very same parameter gradients
        np.testing.assert_array_equal(layer.grads[name], grad)
    W64, b64, X64, dY64 = (a.astype(np.float64) for a in (layer.params["W"], layer.params["b"], X, dY))
    expected = {"Y": reference_forward(X64, W64, b64, padding)}
    expected["dX"], expected["dW"], expected["db"] = reference_backward(X64, W64, dY64, padding)
    scale = {"Y": reference_forward(abs(X64), abs(W64), abs(b64), padding)}
    scale["dX"], scale["dW"], scale["db"] = reference_backward(abs(X64), abs(W64), abs(dY64), padding)
    Ho, Wo = Y.shape[2:]
    terms = {"Y": channels * k * k + 1, "dX": filters * k * k, "dW": batch * Ho * Wo, "db": batch * Ho * Wo}
    actual = {"Y": Y, "dX": dX, "dW": layer.grads["W"], "db": layer.grads["b"]}
    for name in actual:
        assert actual[name].shape == expected[name].shape, name
        error = np.abs(actual[name] - expected[name])
        bound = gamma(terms[name]) * scale[name]
        assert np.all(error <= bound), f"{name}: max error / bound = {np.max(error / bound)}"


CASES = [  # (batch, in channels, filters, kernel, H, W)
    (3, 1, 16, 3, 8, 8),     # the default CNN's first layer (few channels: tap-major columns)
    (3, 16, 16, 3, 8, 8),    # its second layer (row-stacked columns)
    (2, 4, 5, 3, 6, 7),      # rectangular lattice, few channels
    (2, 6, 3, 2, 5, 6),      # even kernel: asymmetric padding
    (2, 8, 4, 4, 6, 5),      # even kernel, row-stacked
    (2, 5, 3, 1, 4, 4),      # 1 x 1 kernel
    (2, 3, 2, 5, 7, 6),      # 5 x 5 kernel
    (1, 12, 2, 3, 1, 5),     # one row
]


@pytest.mark.parametrize("padding, case", [(padding, case) for padding in ("periodic", "zero", "valid")
                                           for case in CASES if padding != "valid" or min(case[4:]) >= case[3]])
def test_conv2d_matches_the_straightforward_reference(padding, case):
    check_layer_against_reference(padding, *case)


@pytest.mark.parametrize("padding", ["periodic", "zero"])
@pytest.mark.parametrize("channels", [1, 8])
def test_kernel_wider_than_the_lattice(padding, channels):
    """k = 7 on a 3 x 4 lattice: the periodic padding wraps around the torus more than once."""
    check_layer_against_reference(padding, 2, channels, 3, 7, 3, 4)


@pytest.mark.parametrize("chunk_elements", [1, 200, 5000])
@pytest.mark.parametrize("channels", [1, 16])
def test_chunking_does_not_change_the_result(monkeypatch, chunk_elements, channels):
    """Tiny chunks: blocks of a few rows of one sample, or a few whole samples, instead of the default."""
    monkeypatch.setattr(conv, "_CHUNK_ELEMENTS", chunk_elements)
    for padding in ("periodic", "zero", "valid"):
        check_layer_against_reference(padding, 3, channels, 4, 3, 6, 5, seed=chunk_elements)


@pytest.mark.parametrize("min_run", [1, 10 ** 6])
def test_both_column_layouts_match_the_reference(monkeypatch, min_run):
    """Force the row-stacked layout (min_run 1) or the tap-major one (huge min_run) for every layer."""
    monkeypatch.setattr(conv, "_SITE_MAJOR_MIN_RUN", min_run)
    for padding in ("periodic", "zero", "valid"):
        check_layer_against_reference(padding, 2, 3, 4, 3, 5, 6, seed=min_run % 7)


def test_accepts_inputs_in_any_memory_layout():
    rng = np.random.default_rng(3)
    layer = Conv2D(4, 3, padding="periodic")
    layer.build((3, 5, 5), rng, "float64")
    X = rng.standard_normal((2, 5, 5, 3)).transpose(0, 3, 1, 2)  # channel-last memory
    Y = layer.forward(X).copy()
    np.testing.assert_array_equal(layer.forward(np.ascontiguousarray(X)), Y)
    dY = rng.standard_normal(Y.shape)
    dX = layer.backward(dY).copy()
    np.testing.assert_array_equal(layer.backward(np.asfortranarray(dY)), dX)


class ReferenceConv2D(Conv2D):
    """Conv2D computed by the float64 reference above (results cast to the layer dtype)."""

    def forward(self, X, training=False):
        self._X = X
        W, b = self.params["W"], self.params["b"]
        return reference_forward(X.astype(np.float64), W.astype(np.float64), b.astype(np.float64),
                                 self.padding).astype(X.dtype)

    def backward(self, dY, input_grad=True):
        dX, dW, db = reference_backward(self._X.astype(np.float64), self.params["W"].astype(np.float64),
                                        dY.astype(np.float64), self.padding)
        self.grads["W"][...] = dW
        self.grads["b"][...] = db
        return dX.astype(dY.dtype) if input_grad else None


def test_default_cnn_training_step_matches_the_reference_layers():
    """A whole step of ``cnn((16, 16))`` (float32, 16 x 16 lattices of spins): the loss and every gradient agree
    with the same network built from the reference layer. Tolerance: rounding differences of ~1e-7 relative per
    layer (bound above), through two ReLUs, pooling and a Dense layer; 1e-5 of each gradient's largest entry
    leaves a margin of ~10x while any wrong term would be O(1) off."""
    rng = np.random.default_rng(7)
    X = rng.choice(np.array([-1.0, 1.0], np.float32), size=(8, 1, 16, 16))
    y = rng.integers(0, 2, 8)
    fast = cnn((16, 16)).build((1, 16, 16), 1, "float32")
    layers = [ReferenceConv2D(16, 3, padding="periodic"), ReLU(), ReferenceConv2D(16, 3, padding="periodic"), ReLU(),
              GlobalAvgPool2D(), Dense(2)]
    slow = Sequential(layers).build((1, 16, 16), 1, "float32")
    slow.set_weights(fast.get_weights())
    results = []
    for network in (fast, slow):
        loss = get_loss("softmax_cross_entropy")
        value = loss(network.forward(X, training=True), y)
        network.backward(loss.backward(), input_grad=False)
        results.append((value, {p.name: p.grad.copy() for p in network.parameters()}))
    (loss_fast, grads_fast), (loss_slow, grads_slow) = results
    assert loss_fast == pytest.approx(loss_slow, rel=1e-6)
    assert grads_fast.keys() == grads_slow.keys()
    for name, grad in grads_fast.items():
        assert np.abs(grad).max() > 0, name
        np.testing.assert_allclose(grad, grads_slow[name], rtol=0, atol=1e-5 * np.abs(grads_slow[name]).max(),
                                   err_msg=name)


def test_copies_leave_the_scratch_buffers_behind():
    """Pickles and deep copies carry the weights, not the (large, reusable) buffers of the last forward pass."""
    import copy
    import pickle

    rng = np.random.default_rng(8)
    layer = Conv2D(16, 3, padding="periodic")
    layer.build((16, 6, 6), rng, "float32")
    X = rng.standard_normal((2, 16, 6, 6), dtype=np.float32)
    Y = layer.forward(X).copy()
    for clone in (pickle.loads(pickle.dumps(layer)), copy.deepcopy(layer)):
        assert clone._forward_buffers == {} and clone._columns is None
        np.testing.assert_array_equal(clone.forward(X), Y)
        assert clone.backward(np.ones_like(Y)).shape == X.shape


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("padding, k, H, W", [("periodic", 3, 9, 7), ("zero", 3, 9, 7), ("valid", 3, 9, 7),
                                              ("periodic", 4, 9, 7), ("zero", 4, 5, 6), ("periodic", 5, 2, 3)])
def test_compiled_row_stacks_equal_the_numpy_copy(dtype, padding, k, H, W, monkeypatch):
    """The compiled row stacks, read from the unpadded channel-last image (indices wrapped around, or zeros), equal
    numpy's copy from the padded image: the same forward and backward bit for bit. Includes an even kernel (more
    padding behind than in front) and one wider than the lattice (wrapping around more than once)."""
    rng = np.random.default_rng(8)
    # channel-last in memory, as inside a network: the compiled path needs C-contiguous (N, H, W, C) arrays
    X = rng.standard_normal((5, H, W, 3)).astype(dtype).transpose(0, 3, 1, 2)
    Ho, Wo = (H - k + 1, W - k + 1) if padding == "valid" else (H, W)
    dY = rng.standard_normal((5, Ho, Wo, 4)).astype(dtype).transpose(0, 3, 1, 2)
    results = []
    for compiled in (True, False):
        monkeypatch.setattr(conv, "USE_KERNELS", compiled)
        layer = Conv2D(4, k, padding=padding)
        layer.build((3, H, W), np.random.default_rng(0), dtype)
        Y = layer.forward(X).copy()
        assert isinstance(layer._columns, conv._RowStacked)
        columns = layer._columns
        assert columns.compiled is compiled and (columns.kept_input[0] is columns.image) is compiled
        dX = layer.backward(dY).copy()
        results.append([Y, dX, layer.grads["W"].copy(), layer.grads["b"].copy()])
    for compiled, numpy_copy in zip(*results):
        np.testing.assert_array_equal(compiled, numpy_copy)
