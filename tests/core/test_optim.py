"""Optimizers, schedules and clipping against closed-form updates on tiny problems.

The problem: f(w) = sum(w^2), gradient g = 2 w, starting from w = 1 (one weight with decay=True and one bias with
decay=False, so weight decay can be seen acting on one and not the other). Expected values are written out by hand
from the update rules in the docstrings of core.optim. Comparisons use float64 and rtol=1e-12: the arithmetic is
the same up to the order of a few roundings.
"""

import math

import numpy as np
import pytest

from core._validation import InvalidParameterError
from core.network import Parameter
from core.optim import (
    OPTIMIZERS,
    SGD,
    AdaGrad,
    Adam,
    AdamW,
    RMSprop,
    clip_grad_norm,
    get_optimizer,
    optimizer_keywords,
)
from core.schedules import (
    SCHEDULES,
    ConstantSchedule,
    CosineSchedule,
    ExponentialSchedule,
    StepSchedule,
    get_schedule,
    schedule_keywords,
)

RTOL = 1e-12


def make_params(w0=1.0, b0=1.0, dtype=np.float64):
    weight = Parameter("0.W", np.array([w0], dtype=dtype), np.zeros(1, dtype=dtype), True)
    bias = Parameter("0.b", np.array([b0], dtype=dtype), np.zeros(1, dtype=dtype), False)
    return [weight, bias]


def run_steps(optimizer, n_steps, params=None):
    """Take n_steps on f = sum(w^2); return the trajectory of (weight, bias) after each step."""
    params = make_params() if params is None else params
    trajectory = []
    for _ in range(n_steps):
        for p in params:
            p.grad[...] = 2.0 * p.value
        optimizer.step(params)
        trajectory.append((params[0].value[0], params[1].value[0]))
    return np.array(trajectory)


def test_sgd_closed_form():
    # w <- w - 0.1 * 2w = 0.8 w
    np.testing.assert_allclose(run_steps(SGD(0.1), 3)[:, 0], [0.8, 0.64, 0.512], rtol=RTOL)


def test_momentum_closed_form():
    # v1 = 2, w1 = 1 - 0.2 = 0.8; v2 = 0.9*2 + 1.6 = 3.4, w2 = 0.8 - 0.34 = 0.46;
    # v3 = 0.9*3.4 + 0.92 = 3.98, w3 = 0.46 - 0.398 = 0.062
    np.testing.assert_allclose(run_steps(SGD(0.1, momentum=0.9), 3)[:, 0], [0.8, 0.46, 0.062], rtol=RTOL)


def test_nesterov_closed_form():
    # v1 = 2, w1 = 1 - 0.1 (2 + 0.9*2) = 0.62; g2 = 1.24, v2 = 1.8 + 1.24 = 3.04,
    # w2 = 0.62 - 0.1 (1.24 + 0.9*3.04) = 0.2224
    traj = run_steps(SGD(0.1, momentum=0.9, nesterov=True), 2)
    np.testing.assert_allclose(traj[:, 0], [0.62, 0.2224], rtol=RTOL)


def test_l2_weight_decay_acts_on_weights_only():
    # weight: g = 2w + 0.5w = 2.5 w -> w1 = 0.75, w2 = 0.5625; bias: plain SGD 0.8, 0.64
    traj = run_steps(SGD(0.1, weight_decay=0.5), 2)
    np.testing.assert_allclose(traj[:, 0], [0.75, 0.5625], rtol=RTOL)
    np.testing.assert_allclose(traj[:, 1], [0.8, 0.64], rtol=RTOL)


def test_decoupled_weight_decay_sgd():
    # w <- w - lr*wd*w - lr*g(w_old) = w (1 - 0.1*0.5 - 0.2) = 0.75 w for the weight, 0.8 w for the bias
    traj = run_steps(SGD(0.1, decoupled_weight_decay=0.5), 2)
    np.testing.assert_allclose(traj[:, 0], [0.75, 0.5625], rtol=RTOL)
    np.testing.assert_allclose(traj[:, 1], [0.8, 0.64], rtol=RTOL)


def test_adagrad_closed_form():
    # G1 = 4, w1 = 1 - 0.1*2/(2 + eps); g2 = 2 w1, G2 = 4 + g2^2, w2 = w1 - 0.1 g2/(sqrt(G2) + eps)
    eps = 1e-8
    w1 = 1 - 0.1 * 2 / (2 + eps)
    g2 = 2 * w1
    w2 = w1 - 0.1 * g2 / (math.sqrt(4 + g2**2) + eps)
    np.testing.assert_allclose(run_steps(AdaGrad(0.1, eps=eps), 2)[:, 0], [w1, w2], rtol=RTOL)


def test_rmsprop_closed_form():
    # v1 = 0.1*4 = 0.4, w1 = 1 - 0.01*2/(sqrt(0.4)+eps); v2 = 0.9*0.4 + 0.1*g2^2
    eps = 1e-8
    w1 = 1 - 0.01 * 2 / (math.sqrt(0.4) + eps)
    g2 = 2 * w1
    v2 = 0.9 * 0.4 + 0.1 * g2**2
    w2 = w1 - 0.01 * g2 / (math.sqrt(v2) + eps)
    np.testing.assert_allclose(run_steps(RMSprop(0.01, rho=0.9, eps=eps), 2)[:, 0], [w1, w2], rtol=RTOL)


def adam_reference(n_steps, lr, beta1, beta2, eps, decoupled=0.0):
    """Scalar Adam/AdamW on f = w^2 from w = 1, straight from Kingma & Ba (Algorithm 1) / Loshchilov & Hutter."""
    w, m, v, out = 1.0, 0.0, 0.0, []
    for t in range(1, n_steps + 1):
        g = 2 * w
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        w = w - lr * decoupled * w - lr * m_hat / (math.sqrt(v_hat) + eps)
        out.append(w)
    return out


def test_adam_closed_form():
    traj = run_steps(Adam(0.01), 3)
    # first step: m_hat = g, v_hat = g^2 -> w1 = 1 - lr * g/(|g| + eps) ~ 1 - lr
    assert traj[0, 0] == pytest.approx(1 - 0.01 * 2 / (2 + 1e-8), rel=RTOL)
    np.testing.assert_allclose(traj[:, 0], adam_reference(3, 0.01, 0.9, 0.999, 1e-8), rtol=RTOL)


def test_adamw_closed_form_and_bias_not_decayed():
    traj = run_steps(AdamW(0.01, decoupled_weight_decay=0.1), 3)
    np.testing.assert_allclose(traj[:, 0], adam_reference(3, 0.01, 0.9, 0.999, 1e-8, decoupled=0.1), rtol=RTOL)
    np.testing.assert_allclose(traj[:, 1], adam_reference(3, 0.01, 0.9, 0.999, 1e-8), rtol=RTOL)
    assert AdamW().decoupled_weight_decay == 0.01


def test_updates_in_place_and_keep_float32():
    for name in OPTIMIZERS:
        params = make_params(dtype=np.float32)
        arrays = [p.value for p in params]
        run_steps(get_optimizer(name, weight_decay=0.01), 2, params)
        for p, array in zip(params, arrays):
            assert p.value is array and p.value.dtype == np.float32, name


def test_schedule_values():
    assert [ConstantSchedule()(e) for e in range(3)] == [1.0, 1.0, 1.0]
    assert [StepSchedule(2, 0.5)(e) for e in range(5)] == [1, 1, 0.5, 0.5, 0.25]
    np.testing.assert_allclose([ExponentialSchedule(0.9)(e) for e in range(4)], [1, 0.9, 0.81, 0.729], rtol=RTOL)
    cosine = CosineSchedule(4, min_factor=0.1)
    # 0.1 + 0.9 * (1 + cos(pi e / 4)) / 2
    expected = [1.0, 0.1 + 0.45 * (1 + math.sqrt(0.5)), 0.55, 0.1 + 0.45 * (1 - math.sqrt(0.5)), 0.1, 0.1]
    np.testing.assert_allclose([cosine(e) for e in range(6)], expected, rtol=RTOL)
    assert isinstance(get_schedule("step", step_size=3), StepSchedule)


def test_set_epoch_applies_schedule():
    opt = SGD(0.1, schedule=StepSchedule(1, 0.5))
    assert opt.set_epoch(0) == pytest.approx(0.1)
    assert opt.set_epoch(2) == pytest.approx(0.025)
    assert opt.learning_rate == pytest.approx(0.025)
    # the scheduled rate is the one used: w <- w - 0.025 * 2w
    np.testing.assert_allclose(run_steps(opt, 1)[0, 0], 0.95, rtol=RTOL)


def test_clip_grad_norm():
    params = make_params()
    params[0].grad[...] = 3.0
    params[1].grad[...] = 4.0
    assert clip_grad_norm(params, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose([params[0].grad[0], params[1].grad[0]], [0.6, 0.8], rtol=RTOL)
    assert clip_grad_norm(params, 10.0) == pytest.approx(1.0)  # below the limit: unchanged
    np.testing.assert_allclose([params[0].grad[0], params[1].grad[0]], [0.6, 0.8], rtol=RTOL)


def test_optimizer_clips_before_update():
    # g = (2, 2), norm 2 sqrt 2, clipped to norm 1: g = (1/sqrt2, 1/sqrt2); w1 = 1 - 0.1/sqrt2
    traj = run_steps(SGD(0.1, clip_norm=1.0), 1)
    np.testing.assert_allclose(traj[0], [1 - 0.1 / math.sqrt(2)] * 2, rtol=RTOL)


def test_get_optimizer_names_and_defaults():
    assert type(get_optimizer("sgd")) is SGD and get_optimizer("sgd").momentum == 0
    assert get_optimizer("momentum").momentum == 0.9 and not get_optimizer("momentum").nesterov
    assert get_optimizer("nesterov").nesterov
    assert get_optimizer("momentum", momentum=0.5).momentum == 0.5
    assert type(get_optimizer("adamw")) is AdamW
    assert get_optimizer("adam", learning_rate=0.1).learning_rate == 0.1
    opt = Adam()
    assert get_optimizer(opt) is opt


@pytest.mark.parametrize(
    "factory, exc, fragment",
    [
        (lambda: SGD(0.0), ValueError, "'learning_rate'"),
        (lambda: SGD(-1.0), ValueError, "'learning_rate'"),
        (lambda: SGD(float("nan")), ValueError, "'learning_rate'"),
        (lambda: SGD("0.1"), TypeError, "'learning_rate'"),
        (lambda: SGD(True), TypeError, "'learning_rate'"),
        (lambda: SGD(0.1, momentum=1.0), ValueError, "'momentum'"),
        (lambda: SGD(0.1, nesterov=True), ValueError, "'nesterov'"),
        (lambda: SGD(0.1, weight_decay=-1), ValueError, "'weight_decay'"),
        (lambda: SGD(0.1, clip_norm=0), ValueError, "'clip_norm'"),
        (lambda: SGD(0.1, schedule=3), TypeError, "'schedule'"),
        (lambda: Adam(beta1=1.0), ValueError, "'beta1'"),
        (lambda: Adam(eps=0), ValueError, "'eps'"),
        (lambda: RMSprop(rho=-0.1), ValueError, "'rho'"),
        (lambda: get_optimizer("adamx"), ValueError, "'optimizer'"),
        (lambda: get_schedule("linear"), ValueError, "'name'"),
        (lambda: StepSchedule(0), ValueError, "'step_size'"),
        (lambda: CosineSchedule(10, min_factor=2.0), ValueError, "'min_factor'"),
    ],
)
def test_bad_hyperparameters_raise(factory, exc, fragment):
    with pytest.raises(exc, match=fragment):
        factory()


NON_NUMERIC_KEYWORDS = {"nesterov", "schedule"}


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize("name, keyword", [(name, keyword) for name in sorted(OPTIMIZERS)
                                           for keyword in optimizer_keywords(name)
                                           if keyword not in NON_NUMERIC_KEYWORDS])
def test_every_numeric_optimizer_keyword_refuses_inf_and_nan(name, keyword, value):
    # issue 16: Adam(eps=inf) trained nothing and saved the untrained network as a result
    with pytest.raises(InvalidParameterError, match=rf"The '{keyword}' parameter of \w+ must be .*Got -?(inf|nan)"):
        get_optimizer(name, **{keyword: value})


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize("name, keyword", [(name, keyword) for name in sorted(SCHEDULES)
                                           for keyword in schedule_keywords(name)])
def test_every_schedule_keyword_refuses_inf_and_nan(name, keyword, value):
    kwargs = {"total_epochs": 10} if name == "cosine" else {}
    with pytest.raises(InvalidParameterError, match=rf"The '{keyword}' parameter of \w+ must be .*Got -?(inf|nan)"):
        get_schedule(name, **{**kwargs, keyword: value})


@pytest.mark.parametrize("value", [math.inf, math.nan])
def test_clipping_early_stopping_and_settings_refuse_inf_and_nan(value):
    from core.callbacks import EarlyStopping
    from core.training import TrainingSettings

    for make, keyword in [(lambda v: clip_grad_norm(make_params(), v), "max_norm"),
                          (lambda v: EarlyStopping(min_delta=v), "min_delta"),
                          (lambda v: EarlyStopping(patience=v), "patience"),
                          (lambda v: TrainingSettings(epochs=v), "epochs"),
                          (lambda v: TrainingSettings(batch_size=v), "batch_size"),
                          (lambda v: TrainingSettings(validation_fraction=v), "validation_fraction")]:
        with pytest.raises(InvalidParameterError, match=f"'{keyword}'"):
            make(value)


def test_adam_eps_inf_refused_at_construction():
    with pytest.raises(InvalidParameterError, match=r"The 'eps' parameter of Adam must be a float in \(0, inf\)\. "
                                                    r"Got inf instead\."):
        Adam(eps=math.inf)


def test_a_schedule_returning_inf_is_refused_when_used():
    optimizer = SGD(0.1, schedule=lambda epoch: math.inf)
    with pytest.raises(ValueError, match="returned factor inf for epoch 0"):
        optimizer.set_epoch(0)


def test_step_with_other_parameters_raises():
    opt = SGD(0.1, momentum=0.9)
    run_steps(opt, 1)
    other = [Parameter("0.W", np.ones(3), np.ones(3), True)]
    with pytest.raises(ValueError, match="reset"):
        opt.step(other)
    opt.reset()
    opt.step(other)
    assert opt.iterations == 1


@pytest.mark.parametrize("nesterov", [False, True])
def test_non_contiguous_parameters_are_updated_in_place_alike(nesterov):
    rng = np.random.default_rng(0)
    base, grads = rng.normal(size=(4, 3)), [rng.normal(size=(3, 4)) for _ in range(3)]
    contiguous = [Parameter("0.W", np.ascontiguousarray(base.T), np.zeros((3, 4)), True)]
    strided = [Parameter("0.W", base.copy().T, np.zeros((3, 4)), True)]  # F-ordered view
    assert not strided[0].value.flags.c_contiguous
    for params in (contiguous, strided):
        opt = SGD(0.1, momentum=0.9, nesterov=nesterov)
        value = params[0].value
        for g in grads:
            params[0].grad[...] = g
            opt.step(params)
        assert params[0].value is value  # updated in place
    np.testing.assert_allclose(strided[0].value, contiguous[0].value, rtol=RTOL)


def test_optimizer_keywords_and_strict_get_optimizer():
    from core.schedules import schedule_keywords

    assert optimizer_keywords("adam") == ("beta1", "beta2", "clip_norm", "decoupled_weight_decay", "eps",
                                          "learning_rate", "schedule", "weight_decay")
    assert {"momentum", "nesterov"} <= set(optimizer_keywords("nesterov"))
    assert schedule_keywords("step") == ("gamma", "step_size") and schedule_keywords("constant") == ()
    with pytest.raises(InvalidParameterError, match="'adam' optimizer takes no parameter 'momentum'; its parameters "
                                                    "are 'beta1', 'beta2'"):
        get_optimizer("adam", momentum=0.9)
    with pytest.raises(InvalidParameterError, match="keyword arguments"):
        get_optimizer(Adam(), learning_rate=0.1)
    assert get_schedule("cosine", total_epochs=4).total_epochs == 4
