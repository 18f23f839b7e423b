"""Loss values against direct formulas, numerical stability, dtype and bad targets."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from core._validation import InvalidParameterError
from core.losses import (LOSSES, BinaryCrossEntropy, Huber, MeanAbsoluteError, MeanSquaredError, SoftmaxCrossEntropy,
                         get_loss, sigmoid, softmax)


def test_mse_value_and_gradient_scale():
    output = np.array([[1.0, 2.0], [3.0, 5.0]])
    target = np.array([[1.0, 0.0], [0.0, 1.0]])
    loss = MeanSquaredError()
    assert loss.forward(output, target) == pytest.approx((0 + 4 + 9 + 16) / 4)
    np.testing.assert_allclose(loss.backward(), 2 * (output - target) / 4)


def test_mae_value_and_gradient_by_hand():
    output = np.array([[1.0, 2.0], [3.0, -5.0]])
    target = np.array([[1.0, 0.0], [0.0, 1.0]])  # residuals 0, 2, 3, -6
    loss = MeanAbsoluteError()
    assert loss.forward(output, target) == pytest.approx((0 + 2 + 3 + 6) / 4)
    # sign(r) / 4, and the subgradient 0 where the residual is exactly 0
    np.testing.assert_array_equal(loss.backward(), np.array([[0.0, 1.0], [1.0, -1.0]]) / 4)


def test_huber_value_and_gradient_by_hand():
    output = np.array([[1.0, 2.0], [3.0, -5.0], [0.5, -1.0]])
    target = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])  # residuals 0, 2, 3, -6, 0.5, -1
    loss = Huber(delta=2.0)
    # inside (|r| <= 2): r^2 / 4 -> 0, 1 (at |r| = delta both branches give 1), 0.0625, 0.25
    # outside: |r| - 1 -> 2 (r = 3), 5 (r = -6)
    assert loss.forward(output, target) == pytest.approx((0 + 1 + 2 + 5 + 0.0625 + 0.25) / 6)
    # clip(r / 2, -1, 1) / 6
    np.testing.assert_array_equal(loss.backward(), np.array([[0.0, 1.0], [1.0, -1.0], [0.25, -0.5]]) / 6)
    assert Huber().delta == 1.0
    assert Huber(1.0).forward(np.array([[-1.5]]), np.array([0.0])) == pytest.approx(1.0)


def test_huber_is_continuous_with_continuous_gradient_at_delta():
    delta, eps = 0.7, 1e-9
    values, grads = [], []
    for r in (delta - eps, delta, delta + eps):
        loss = Huber(delta)
        values.append(loss.forward(np.array([[r]]), np.array([0.0])))
        grads.append(loss.backward()[0, 0])
    np.testing.assert_allclose(values, delta / 2, rtol=0, atol=2 * eps)  # slope 1 near the joint
    np.testing.assert_allclose(grads, 1.0, rtol=0, atol=2 * eps / delta)  # d2h/dr2 = 1/delta inside, 0 outside


def test_huber_tends_to_mae_for_small_delta_and_to_scaled_mse_for_large_delta():
    rng = np.random.default_rng(0)
    target = rng.standard_normal((50, 3))
    residual = rng.standard_normal((50, 3))
    residual += np.where(residual >= 0, 0.01, -0.01)  # every |r| >= 0.01
    output = target + residual
    mae = MeanAbsoluteError()
    mae_value = mae.forward(output, target)
    mae_grad = mae.backward()
    for delta in (0.3, 1.0, 3.0):  # any delta: MAE - delta/2 <= Huber <= MAE (elementwise, hence for the means)
        assert mae_value - delta / 2 - 1e-12 <= Huber(delta).forward(output, target) <= mae_value + 1e-12
    for delta in (1e-3, 1e-6):  # every |r| > delta: Huber = MAE - delta/2 exactly, with the MAE's gradient
        huber = Huber(delta)
        assert huber.forward(output, target) == pytest.approx(mae_value - delta / 2, rel=1e-12)
        np.testing.assert_array_equal(huber.backward(), mae_grad)
    mse = MeanSquaredError()
    mse_value = mse.forward(output, target)
    mse_grad = mse.backward()
    for delta in (10.0, 1e3):  # every |r| <= delta (|r| < 5 here): Huber = MSE / (2 delta)
        huber = Huber(delta)
        assert huber.forward(output, target) == pytest.approx(mse_value / (2 * delta), rel=1e-12)
        np.testing.assert_allclose(huber.backward(), mse_grad / (2 * delta), rtol=1e-12)


@pytest.mark.parametrize("delta", [0, -1.0, float("inf"), float("nan"), "1", None, True])
def test_huber_delta_must_be_a_finite_positive_float(delta):
    with pytest.raises(InvalidParameterError,
                       match=r"^The 'delta' parameter of Huber must be a float in \(0, inf\)\. Got .* instead\.$"):
        Huber(delta)
    with pytest.raises(ValueError, match="'delta'"):  # InvalidParameterError is a ValueError
        Huber(delta)


def test_softmax_cross_entropy_value():
    logits = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]])
    labels = np.array([1, 2])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = -(np.log(p[0, 1]) + np.log(p[1, 2])) / 2
    assert SoftmaxCrossEntropy().forward(logits, labels) == pytest.approx(expected, rel=1e-12)
    assert SoftmaxCrossEntropy().forward(logits, np.eye(3)[labels]) == pytest.approx(expected, rel=1e-12)
    assert SoftmaxCrossEntropy().forward(logits, labels.astype(float)) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(softmax(logits), p, rtol=1e-12)


def test_binary_cross_entropy_value():
    logits = np.array([[2.0], [-1.0], [0.3]])
    target = np.array([1, 0, 1])
    s = 1 / (1 + np.exp(-logits[:, 0]))
    expected = -np.mean(target * np.log(s) + (1 - target) * np.log(1 - s))
    assert BinaryCrossEntropy().forward(logits, target) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(sigmoid(logits[:, 0]), s, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_huge_logits_give_finite_exact_losses(dtype):
    logits = np.array([[1e4, -1e4], [-1e4, 1e4], [3e38, 0.0]], dtype=dtype if dtype == "float32" else float)
    labels = np.array([0, 0, 0])
    sce = SoftmaxCrossEntropy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = sce.forward(logits, labels)
        grad = sce.backward()
    # sample 0 is right with margin 2e4 (loss 0), sample 1 wrong by 2e4 (loss 2e4), sample 2 right (loss 0)
    assert value == pytest.approx(2e4 / 3, rel=1e-6)
    assert np.all(np.isfinite(grad)) and grad.dtype == np.dtype(dtype)

    bce = BinaryCrossEntropy()
    z = np.array([1e4, -1e4, 1e4, -1e4], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = bce.forward(z, np.array([1, 0, 0, 1]))
        grad = bce.backward()
    assert value == pytest.approx(2e4 / 4, rel=1e-6)
    np.testing.assert_allclose(grad, np.array([0, 0, 1, -1]) / 4)
    assert grad.dtype == np.dtype(dtype)


@pytest.mark.parametrize("loss, output, target", [
    (MeanSquaredError(), np.ones((4, 1), np.float32), np.zeros(4)),
    (MeanAbsoluteError(), np.ones((4, 1), np.float32), np.zeros(4)),
    (MeanAbsoluteError(), np.ones((4, 2), np.float32), np.zeros((4, 2))),
    (Huber(), np.ones((4, 1), np.float32), np.array([0.0, 0.5, 3.0, -2.0])),
    (Huber(0.1), np.ones((4, 2), np.float32), np.zeros((4, 2), np.int64)),
    (SoftmaxCrossEntropy(), np.ones((4, 3), np.float32), np.array([0, 1, 2, 0])),
    (SoftmaxCrossEntropy(), np.ones((4, 3), np.float32), np.eye(3)[[0, 1, 2, 0]]),
    (BinaryCrossEntropy(), np.ones((4, 1), np.float32), np.array([0.0, 1.0, 1.0, 0.0])),
])
def test_float64_targets_do_not_upcast_float32_gradients(loss, output, target):
    assert isinstance(loss.forward(output, target), float)
    assert loss.backward().dtype == np.float32


@pytest.mark.parametrize("loss", [MeanAbsoluteError(), Huber(0.5)])
def test_robust_losses_in_float32_match_float64(loss):
    rng = np.random.default_rng(1)
    output, target = rng.standard_normal((8, 2)), rng.standard_normal((8, 2))
    value64 = loss.forward(output, target)
    grad64 = loss.backward()
    value32 = loss.forward(output.astype(np.float32), target)
    grad32 = loss.backward()
    assert grad64.dtype == np.float64 and grad32.dtype == np.float32
    # float32 rounding of the inputs and residuals: ~1e-7 relative (no residual sits within 1e-6 of a kink here)
    assert value32 == pytest.approx(value64, rel=1e-6)
    np.testing.assert_allclose(grad32, grad64, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("loss, output, target, match", [
    (MeanSquaredError(), np.ones((4, 2)), np.ones(4), "'target' of MeanSquaredError.*shape"),
    (MeanSquaredError(), np.ones((4, 1)), np.array([1, 2, np.nan, 0]), "NaN"),
    (MeanAbsoluteError(), np.ones((4, 2)), np.ones(4), "'target' of MeanAbsoluteError.*shape"),
    (MeanAbsoluteError(), np.ones((4, 1)), np.array([1, 2, np.inf, 0]), "'target' of MeanAbsoluteError.*inf"),
    (MeanAbsoluteError(), np.ones((2, 1)), np.array(["a", "b"]), "'target' of MeanAbsoluteError must be numeric"),
    (Huber(), np.ones((4, 2)), np.ones((2, 4)), "'target' of Huber.*shape"),
    (Huber(), np.ones((4, 1)), np.array([1, 2, np.nan, 0]), "'target' of Huber.*NaN"),
    (Huber(), np.ones((2, 1)), np.array(["a", "b"]), "'target' of Huber must be numeric"),
    (Huber(), np.ones((0, 1)), np.ones(0), "'output'.*batch >= 1"),
    (SoftmaxCrossEntropy(), np.ones((4, 3)), np.array([0, 1, 3, 0]), r"labels in \[0, 3\)"),
    (SoftmaxCrossEntropy(), np.ones((4, 3)), np.array([0, -1, 1, 0]), r"labels in \[0, 3\)"),
    (SoftmaxCrossEntropy(), np.ones((4, 3)), np.array([0, 1, 1]), "one label per sample"),
    (SoftmaxCrossEntropy(), np.ones((4, 3)), np.array([0, 0.5, 1, 0]), "integer class labels"),
    (SoftmaxCrossEntropy(), np.ones((2, 3)), np.array([[0.5, 0.6, 0], [1, 0, 0]]), "probability"),
    (SoftmaxCrossEntropy(), np.ones((2, 3)), np.array([["a", "b"]]), "'target'"),
    (SoftmaxCrossEntropy(), np.ones(3), np.array([0, 1, 2]), "'output'.*logits"),
    (BinaryCrossEntropy(), np.ones((3, 1)), np.array([0, 2, 1]), r"\[0, 1\]"),
    (BinaryCrossEntropy(), np.ones((3, 2)), np.array([0, 1, 1]), "'target' of BinaryCrossEntropy.*shape"),
])
def test_targets_that_do_not_fit_raise_value_error(loss, output, target, match):
    with pytest.raises(ValueError, match=match):
        loss.forward(output, target)


def test_loss_table():
    assert set(LOSSES) == {"mse", "mae", "huber", "softmax_cross_entropy", "binary_cross_entropy"}
    assert isinstance(get_loss("mse"), MeanSquaredError)
    assert isinstance(get_loss("mae"), MeanAbsoluteError)
    assert isinstance(get_loss("huber"), Huber) and get_loss("huber").delta == 1.0
    with pytest.raises(ValueError, match="'loss'.*mse.*Got 'l2'"):
        get_loss("l2")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_softmax_cross_entropy_agrees_with_numpy(dtype, monkeypatch):
    """The one-pass kernel (integer labels, unweighted) against numpy's log_softmax path: the same values up to the
    last bits of exp and log (a few ulp; 8 ulp of each gradient entry is a bound with margin, and the loss, summed in
    float64 by the kernel, within 4 ulp of the dtype), for ordinary, huge and tied logits; a NaN logit gives a NaN
    loss either way; ``backward`` after ``forward`` returns the gradient of ``forward_backward`` bit for bit."""
    import core.losses

    rng = np.random.default_rng(9)
    logits = (rng.standard_normal((64, 5)) * [[1, 10, 100, 1e3, 1e4]]).astype(dtype)
    logits[0] = 0.0  # all tied
    logits[1] = [1e30, -1e30, 0.0, 5.0, 1e30]  # two tied huge ones
    labels = rng.integers(0, 5, 64).astype(np.intp)
    eps = float(np.finfo(dtype).eps)
    results = {}
    for compiled in (True, False):
        monkeypatch.setattr(core.losses, "USE_KERNELS", compiled)
        loss = SoftmaxCrossEntropy()
        results[compiled] = (loss.forward(logits, labels), loss.backward(), loss.forward_backward(logits, labels))
    (value, grad, (fb_value, fb_grad)), (np_value, np_grad, _) = results[True], results[False]
    assert fb_value == value and fb_grad.tobytes() == grad.tobytes()
    assert np.isfinite(value) and value == pytest.approx(np_value, rel=4 * eps)
    np.testing.assert_allclose(grad, np_grad, rtol=0, atol=8 * eps / len(logits))
    logits[3, 2] = np.nan
    assert np.isnan(SoftmaxCrossEntropy().forward(logits, labels))
