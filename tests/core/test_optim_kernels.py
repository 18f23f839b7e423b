"""The fast paths of a training step against the plain code, bit for bit: the compiled one-pass optimizer kernels
(core._kernels), the losses' training path (``forward_backward(..., checked_target=True)`` and their mean) and the
activations' cached zero operand.

Every built-in rule is stepped on random gradients (magnitudes spread over many orders, float32 and float64), once
through the kernels, once through the optimizer's own numpy code (``core.optim.USE_KERNELS = False``) and once
through a reference written here from the rules in the docstrings of core.optim, with numpy's operation order and
NEP 50 scalar casting. The comparisons are exact (np.array_equal): the kernels promise bit-identical results, and
any difference, even one rounding, would let trajectories drift apart over an epoch.
"""

import math

import numpy as np
import pytest

import core.activations
import core.optim
from core.activations import get_activation
from core.losses import LOSSES, _mean, get_loss
from core.models import mlp
from core.network import Parameter
from core.optim import OPTIMIZERS, SGD, CosineSchedule, get_optimizer
from core.training import TrainingSettings, fit

DTYPES = (np.float32, np.float64)


@pytest.fixture(autouse=True)
def kernels_for_any_size(monkeypatch):
    """The kernels also for the small arrays of these tests (by default only runs of KERNEL_MIN_SIZE elements)."""
    monkeypatch.setattr(core.optim, "KERNEL_MIN_SIZE", 0)


def reference_update(name, value, grad, state, lr, t):
    """One step of the rule ``name`` in plain numpy: one operation at a time, Python floats cast to the array dtype
    by numpy (NEP 50), the same order of operations as the documented formulas evaluated left to right."""
    if name in ("sgd", "momentum", "nesterov"):
        momentum = 0.0 if name == "sgd" else 0.9
        if not momentum:
            value -= grad * lr
            return
        velocity = state.setdefault("velocity", np.zeros_like(value))
        velocity[...] = velocity * momentum + grad
        if name == "nesterov":
            value -= grad * lr
            value -= velocity * (lr * momentum)
        else:
            value -= velocity * lr
        return
    if name == "adagrad":
        sum_sq = state.setdefault("sum_sq", np.zeros_like(value))
        sum_sq += grad * grad
        value -= grad / (np.sqrt(sum_sq) + 1e-8) * lr
        return
    if name == "rmsprop":
        rho = 0.9
        mean_sq = state.setdefault("mean_sq", np.zeros_like(value))
        mean_sq[...] = mean_sq * rho + grad * grad * (1.0 - rho)
        value -= grad / (np.sqrt(mean_sq) + 1e-8) * lr
        return
    beta1, beta2, eps = 0.9, 0.999, 1e-8  # adam, adamw
    m = state.setdefault("m", np.zeros_like(value))
    v = state.setdefault("v", np.zeros_like(value))
    m[...] = m * beta1 + grad * (1.0 - beta1)
    v[...] = v * beta2 + grad * grad * (1.0 - beta2)
    root_correction = math.sqrt(1.0 - beta2**t)
    value -= m / (np.sqrt(v) + eps * root_correction) * (lr * root_correction / (1.0 - beta1**t))


def random_gradients(rng, shape, dtype, n_steps):
    """Normal draws times log-uniform magnitudes from 1e-6 to 1e3 (float32 squares reach its subnormal range)."""
    return [(rng.standard_normal(shape) * 10.0 ** rng.uniform(-6, 3, shape)).astype(dtype) for _ in range(n_steps)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_kernels_equal_numpy_and_reference_bit_for_bit(name, dtype, monkeypatch):
    rng = np.random.default_rng(0)
    n_steps, shape = 12, (300,)
    start = rng.standard_normal(shape).astype(dtype)
    grads = random_gradients(rng, shape, dtype, n_steps)
    # one parameter per call (not a flat run): the reference needs no decay, so decay=False
    results = {}
    for mode in ("kernel", "numpy"):
        monkeypatch.setattr(core.optim, "USE_KERNELS", mode == "kernel")
        optimizer = get_optimizer(name, learning_rate=0.01, schedule=CosineSchedule(12))
        param = Parameter("0.b", start.copy(), np.empty_like(start), False)
        for step, grad in enumerate(grads):
            optimizer.set_epoch(step)
            param.grad[...] = grad
            optimizer.step([param])
        assert optimizer._runs[0][3] is not None  # the arrays suit the kernels: USE_KERNELS picks the path
        results[mode] = param.value
    reference = start.copy()
    state = {}
    schedule = get_optimizer(name, learning_rate=0.01, schedule=CosineSchedule(12))
    for step, grad in enumerate(grads):
        reference_update(name, reference, grad.copy(), state, schedule.set_epoch(step), step + 1)
    assert results["kernel"].dtype == dtype
    assert np.array_equal(results["kernel"], results["numpy"])
    assert np.array_equal(results["kernel"], reference)
    assert not np.array_equal(results["kernel"], start)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_kernels_equal_numpy_on_flat_runs_with_decay_and_clipping(name, dtype, monkeypatch):
    rng = np.random.default_rng(1)
    grads = random_gradients(rng, (6 * 5 + 5 + 5,), dtype, 8)
    results = {}
    for mode in ("kernel", "numpy"):
        monkeypatch.setattr(core.optim, "USE_KERNELS", mode == "kernel")
        values, gradients = np.random.default_rng(2).standard_normal(35).astype(dtype), np.empty(35, dtype)
        strided = np.zeros(10, dtype)
        strided[::2] = np.random.default_rng(4).standard_normal(5)
        # W (6, 5) and b (5,) in one buffer (a flat run for the kernels), then a strided parameter (the numpy code)
        params = [Parameter("0.W", values[:30].reshape(6, 5), gradients[:30].reshape(6, 5), True),
                  Parameter("0.b", values[30:], gradients[30:], False),
                  Parameter("1.W", strided[::2], np.empty(5, dtype), True)]
        optimizer = get_optimizer(name, learning_rate=0.02, weight_decay=1e-3, decoupled_weight_decay=1e-2,
                                  clip_norm=5.0)
        for grad in grads:
            gradients[:] = grad[:35]
            params[2].grad[...] = grad[35:]
            optimizer.step(params)
        results[mode] = [p.value.copy() for p in params]
    for kernel, numpy_ in zip(results["kernel"], results["numpy"]):
        assert np.array_equal(kernel, numpy_)


class _OwnRule(SGD):
    """A subclass with its own rule: the kernel of SGD must not replace it."""

    def _update(self, value, grad, state, lr):
        value -= 2 * lr * grad


def test_subclass_overriding_update_runs_its_own_rule():
    param = Parameter("0.b", np.ones(4), np.ones(4), False)
    _OwnRule(0.1).step([param])
    assert np.array_equal(param.value, np.full(4, 0.8))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_small_fit_equal_with_kernels_on_and_off(name, dtype, monkeypatch):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 6))
    y = np.sin(X.sum(axis=1))
    fitted = {}
    for mode in ("kernel", "numpy"):
        monkeypatch.setattr(core.optim, "USE_KERNELS", mode == "kernel")
        network = mlp((8, 8), activation="softplus").build(6, 0, dtype)
        history = fit(network, "mse", get_optimizer(name, learning_rate=0.01), X, y,
                      TrainingSettings(epochs=3, batch_size=16), rng=0)
        fitted[mode] = (network.get_weights(), history.loss)
    weights, losses = fitted["kernel"]
    assert losses == fitted["numpy"][1]
    assert all(np.array_equal(weights[key], fitted["numpy"][0][key]) for key in weights)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (64, 1), (37, 5), (1000, 3)])
def test_loss_mean_is_np_mean_bit_for_bit(shape, dtype):
    rng = np.random.default_rng(5)
    values = (rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 3, shape)).astype(dtype)
    scale = rng.uniform(0, 2, shape[0]).astype(dtype)
    assert _mean(values, None) == float(np.mean(values))
    assert _mean(values, scale) == float(np.mean(values * scale[:, None]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(set(LOSSES) - {"softmax_cross_entropy"}))
def test_checked_target_training_path_equals_forward_and_backward(name, dtype):
    rng = np.random.default_rng(6)
    output = rng.standard_normal((50, 2)).astype(dtype)
    target = rng.uniform(0, 1, (50, 2)).astype(dtype)
    weights = rng.uniform(0, 2, 50)
    for sample_weight in (None, weights):
        fast, slow = get_loss(name), get_loss(name)
        value, grad = fast.forward_backward(output, target, sample_weight, checked_target=True)
        assert value == slow.forward(output, target, sample_weight)
        assert np.array_equal(grad, slow.backward()) and grad.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["relu", "softplus", "elu"])
def test_activations_with_cached_zero_operand_equal_scalar_zero(name, dtype, monkeypatch):
    # special values included: -0.0, +-inf, nan, subnormals
    X = np.random.default_rng(7).standard_normal((33, 7)).astype(dtype) * 30
    X[0, :6] = [-0.0, 0.0, np.inf, -np.inf, np.nan, np.finfo(dtype).smallest_subnormal]
    layer = get_activation(name)
    layer.inplace_forward = layer.inplace_backward = False
    with np.errstate(all="ignore"):
        fast = layer.forward(X.copy())
        monkeypatch.setattr(core.activations, "_ZEROS_MAX_SIZE", -1)  # the scalar 0 (the former code)
        plain = get_activation(name)
        plain.inplace_forward = plain.inplace_backward = False
        assert fast.tobytes() == plain.forward(X.copy()).tobytes()


@pytest.mark.parametrize("fused_gemm", [False, True], ids=["separate step", "step inside the product"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("build", ["mlp", "cnn"])
def test_layerwise_sgd_equals_the_optimizer_step(build, dtype, fused_gemm, monkeypatch):
    """Plain SGD applied layer by layer inside backward gives the numbers of backward followed by ``step``
    (layers of more than KERNEL_MIN_SIZE weights take the compiled kernel, the others numpy), bit for bit; with a
    Dense layer's W updated inside its weight-gradient product (``core.layers.FUSED_SGD``, BLAS gemm with
    beta = 1), up to that product's rounding: its multiply-add rounds once where the separate step rounds twice,
    half an ulp of w per step at most. Over 18 steps, also through the changed activations, the largest
    difference seen was 0 (float32) and 2.4e-16 of the weights' scale (float64); the bounds, 1e-5 and 1e-13 of
    each weight's scale, allow for a few ulp amplified ~100x."""
    import core.layers
    from core.models import cnn

    monkeypatch.setattr(core.layers, "FUSED_SGD", fused_gemm)
    rng = np.random.default_rng(5)
    if build == "mlp":
        X, shape = rng.standard_normal((96, 130)), 130
        y = np.sin(X[:, :4].sum(axis=1))
    else:
        X, shape = rng.choice([-1.0, 1.0], size=(24, 1, 6, 6)), (1, 6, 6)
        y = X.mean(axis=(1, 2, 3))
    fitted = {}
    for mode in ("layerwise", "step"):
        if mode == "step":
            monkeypatch.setattr(SGD, "layerwise_rate", lambda self: None)
        network = (mlp((160, 16)) if build == "mlp" else cnn((4, 4), n_outputs=1)).build(shape, 0, dtype)
        optimizer = SGD(0.01, schedule=CosineSchedule(3))
        history = fit(network, "mse", optimizer, X, y, TrainingSettings(epochs=3, batch_size=16), rng=0)
        fitted[mode] = (network.get_weights(), history.loss, optimizer.iterations)
    weights, step_weights = fitted["layerwise"][0], fitted["step"][0]
    assert fitted["layerwise"][2] == fitted["step"][2]
    if not fused_gemm:
        assert fitted["layerwise"][1] == fitted["step"][1]
        assert all(np.array_equal(weights[key], step_weights[key]) for key in weights)
        return
    scale = 1e-5 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(fitted["layerwise"][1], fitted["step"][1], rtol=scale)
    for key in weights:
        np.testing.assert_allclose(weights[key], step_weights[key], rtol=0,
                                   atol=scale * np.abs(step_weights[key]).max(), err_msg=key)


def test_only_plain_sgd_steps_layer_by_layer():
    assert SGD(0.1).layerwise_rate() == 0.1
    for optimizer in (SGD(0.1, momentum=0.9), SGD(0.1, weight_decay=1e-4), SGD(0.1, clip_norm=1.0),
                      get_optimizer("adam", learning_rate=0.1), _OwnRule(0.1)):
        assert optimizer.layerwise_rate() is None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dense_steps_sgd_inside_its_weight_gradient_product(dtype, monkeypatch):
    """Dense.backward(dY, sgd_rate=lr): dX from the old weights and b's step exactly as the separate step; W within
    one rounding of it (2 ulp of the largest |W|: the multiply-add rounds once, the separate step twice); the same
    bits at 1 and 2 BLAS threads (gemm splits the output, not the sums). Non-contiguous inputs take the separate
    step."""
    import copy

    import core.layers
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(11)
    layer = core.layers.Dense(384)
    layer.build((256,), rng, dtype)
    X = rng.standard_normal((128, 256)).astype(dtype)
    dY = rng.standard_normal((128, 384)).astype(dtype)
    results = {}
    for mode, fused, threads, inputs in [("separate", False, 1, X), ("fused", True, 1, X), ("fused 2", True, 2, X),
                                         ("strided", True, 1, np.asfortranarray(X))]:
        monkeypatch.setattr(core.layers, "FUSED_SGD", fused)
        clone = copy.deepcopy(layer)
        clone.forward(inputs)
        with threadpool_limits(threads):
            dX = clone.backward(dY, sgd_rate=0.05)
        results[mode] = (clone.params["W"].copy(), clone.params["b"].copy(), dX)
    W, b, dX = results["separate"]
    eps = np.finfo(dtype).eps
    for mode in ("fused", "fused 2", "strided"):
        np.testing.assert_array_equal(results[mode][1], b)
        np.testing.assert_array_equal(results[mode][2], dX)
    np.testing.assert_allclose(results["fused"][0], W, rtol=0, atol=2 * eps * np.abs(W).max())
    assert not np.array_equal(results["fused"][0], layer.params["W"])  # the step was taken
    np.testing.assert_array_equal(results["fused 2"][0], results["fused"][0])
    np.testing.assert_array_equal(results["strided"][0], W)
