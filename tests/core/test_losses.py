"""Loss values against direct formulas, numerical stability, dtype and bad targets."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from core.losses import (LOSSES, BinaryCrossEntropy, MeanSquaredError, SoftmaxCrossEntropy, get_loss, sigmoid,
                         softmax)


def test_mse_value_and_gradient_scale():
    output = np.array([[1.0, 2.0], [3.0, 5.0]])
    target = np.array([[1.0, 0.0], [0.0, 1.0]])
    loss = MeanSquaredError()
    assert loss.forward(output, target) == pytest.approx((0 + 4 + 9 + 16) / 4)
    np.testing.assert_allclose(loss.backward(), 2 * (output - target) / 4)


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
    (SoftmaxCrossEntropy(), np.ones((4, 3), np.float32), np.array([0, 1, 2, 0])),
    (SoftmaxCrossEntropy(), np.ones((4, 3), np.float32), np.eye(3)[[0, 1, 2, 0]]),
    (BinaryCrossEntropy(), np.ones((4, 1), np.float32), np.array([0.0, 1.0, 1.0, 0.0])),
])
def test_float64_targets_do_not_upcast_float32_gradients(loss, output, target):
    assert isinstance(loss.forward(output, target), float)
    assert loss.backward().dtype == np.float32


@pytest.mark.parametrize("loss, output, target, match", [
    (MeanSquaredError(), np.ones((4, 2)), np.ones(4), "'target' of MeanSquaredError.*shape"),
    (MeanSquaredError(), np.ones((4, 1)), np.array([1, 2, np.nan, 0]), "NaN"),
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
    assert set(LOSSES) == {"mse", "softmax_cross_entropy", "binary_cross_entropy"}
    assert isinstance(get_loss("mse"), MeanSquaredError)
    with pytest.raises(ValueError, match="'loss'.*mse.*Got 'l2'"):
        get_loss("l2")
