"""One buffer for all parameters of a network (and one for their gradients), the optimizers' vectorised update
over it, and the fused loss-and-gradient call of the training loop: same numbers as one array at a time."""

import copy
import pickle

import numpy as np
import pytest

from core.losses import MeanSquaredError, SoftmaxCrossEntropy
from core.models import mlp
from core.network import Parameter
from core.optim import SGD, AdaGrad, Adam, AdamW, RMSprop


def built(seed=0):
    return mlp([5, 4], 3).build((6,), seed)


def test_parameters_are_views_into_one_buffer_in_order():
    net = built()
    parameters = net.parameters()
    values, grads = parameters[0].value.base, parameters[0].grad.base
    assert values.size == grads.size == net.n_parameters()
    offset = 0
    for p in parameters:
        assert p.value.base is values and p.grad.base is grads
        assert np.shares_memory(p.value, values[offset:offset + p.value.size])
        offset += p.value.size


def test_set_weights_and_deepcopy_keep_one_buffer():
    net = built()
    weights = built(seed=1).get_weights()
    net.set_weights(weights)
    clone = copy.deepcopy(net)
    restored = pickle.loads(pickle.dumps(net))
    for other in (clone, restored):
        parameters = other.parameters()
        assert all(p.value.base is parameters[0].value.base for p in parameters)
        assert all(p.value is layer_value for p, layer_value in
                   zip(parameters, [v for layer in other.layers for v in layer.params.values()]))
        for name, value in other.get_weights().items():
            np.testing.assert_array_equal(value, weights[name])  # copied exactly
        assert not np.shares_memory(parameters[0].value, net.parameters()[0].value)


def separate_copies(parameters):
    """The same parameters as separate arrays (the per-parameter path of the optimizers)."""
    return [Parameter(p.name, p.value.copy(), p.grad.copy(), p.decay) for p in parameters]


@pytest.mark.parametrize("make", [
    lambda: SGD(0.1),
    lambda: SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda: AdaGrad(0.1, decoupled_weight_decay=0.1),
    lambda: RMSprop(0.01, clip_norm=0.5),
    lambda: Adam(0.01, weight_decay=0.01),
    lambda: AdamW(0.01),
], ids=["sgd", "nesterov-l2", "adagrad-decoupled", "rmsprop-clip", "adam-l2", "adamw"])
def test_one_buffer_update_equals_per_parameter_update_bit_for_bit(make):
    net = built()
    flat = net.parameters()
    apart = separate_copies(flat)
    flat_optimizer, apart_optimizer = make(), make()
    rng = np.random.default_rng(3)
    for _ in range(4):
        for p, q in zip(flat, apart):
            p.grad[...] = rng.standard_normal(p.grad.shape)
            q.grad[...] = p.grad
        flat_optimizer.step(flat)
        apart_optimizer.step(apart)
    assert len(flat_optimizer._runs) == 1 and len(apart_optimizer._runs) == len(apart)
    for p, q in zip(flat, apart):
        np.testing.assert_array_equal(p.value, q.value)  # the same arithmetic element by element


def test_a_new_parameter_list_with_the_same_shapes_is_regrouped():
    net, other = built(), built(seed=1)
    optimizer = SGD(0.1, momentum=0.5)
    optimizer.step(net.parameters())
    before = other.get_weights()
    for p in other.parameters():
        p.grad[...] = 1.0
    optimizer.step(other.parameters())  # same shapes: allowed, and must update `other`, not `net`
    for p in other.parameters():
        assert not np.array_equal(p.value, before[p.name])


def test_softmax_cross_entropy_forward_backward_equals_forward_then_backward():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((7, 3)).astype(np.float32)
    labels = rng.integers(0, 3, 7).astype(np.intp)
    loss = SoftmaxCrossEntropy()
    expected_value, expected_grad = loss.forward(logits, labels), loss.backward()
    for checked in (True, False):
        value, grad = SoftmaxCrossEntropy().forward_backward(logits, labels, checked_target=checked)
        assert value == expected_value
        np.testing.assert_array_equal(grad, expected_grad)
    with pytest.raises(ValueError, match="labels in"):  # unchecked targets are still checked
        loss.forward_backward(logits, labels + 3)


def test_weighted_forward_backward_goes_through_forward():
    rng = np.random.default_rng(1)
    output, target, w = rng.standard_normal((5, 2)), rng.standard_normal((5, 2)), rng.random(5)
    loss = MeanSquaredError()
    expected = loss.forward(output, target, sample_weight=w), loss.backward()
    value, grad = MeanSquaredError().forward_backward(output, target, w, checked_target=True)
    assert value == expected[0]
    np.testing.assert_array_equal(grad, expected[1])


def test_a_copied_optimizer_continues_like_the_original():
    net = built()
    optimizer = Adam(0.01)
    rng = np.random.default_rng(4)

    def step(network, opt, grads):
        for p, g in zip(network.parameters(), grads):
            p.grad[...] = g
        opt.step(network.parameters())

    grads = [[rng.standard_normal(p.grad.shape) for p in net.parameters()] for _ in range(3)]
    step(net, optimizer, grads[0])
    net_copy, optimizer_copy = pickle.loads(pickle.dumps((net, optimizer)))
    assert all(s["m"].base is optimizer_copy._flat_state["m"] for s in optimizer_copy._states)
    for g in grads[1:]:
        step(net, optimizer, g)
        step(net_copy, optimizer_copy, g)
    for name, value in net.get_weights().items():
        np.testing.assert_array_equal(net_copy.get_weights()[name], value)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_softmax_cross_entropy_value_is_bit_identical_over_many_batches(dtype):
    rng = np.random.default_rng(5)
    for n in (1, 2, 31, 128, 1000):
        logits = (rng.standard_normal((n, 4)) * 5).astype(dtype)
        labels = rng.integers(0, 4, n).astype(np.intp)
        value, _ = SoftmaxCrossEntropy().forward_backward(logits, labels, checked_target=True)
        assert value == SoftmaxCrossEntropy().forward(logits, labels)
