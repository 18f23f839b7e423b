"""core._validation: the one error type, the message template, the checks, and as_generator."""

from __future__ import annotations

import numpy as np
import pytest

import core
from core._validation import (
    Boolean,
    InstanceOf,
    Interval,
    InvalidParameterError,
    Options,
    as_generator,
    check_bool,
    check_choice,
    check_dtype,
    check_number,
    check_params,
    check_positive_int,
    is_real,
)
from core.layers import Dense, Dropout
from core.models import cnn, mlp
from core.optim import SGD, get_optimizer
from core.schedules import get_schedule


def test_error_is_both_value_error_and_type_error_and_exported():
    assert issubclass(InvalidParameterError, ValueError) and issubclass(InvalidParameterError, TypeError)
    assert core.InvalidParameterError is InvalidParameterError and core.as_generator is as_generator
    for exc in (ValueError, TypeError):
        with pytest.raises(exc):
            check_number(-1, "alpha", "NetClassifier", low=0)


@pytest.mark.parametrize("value, kwargs, message", [
    (-1, {"low": 0}, "The 'alpha' parameter of NetClassifier must be a float in [0, inf). Got -1 instead."),
    (0.0, {"low": 0, "low_closed": False}, "must be a float in (0, inf). Got 0.0 instead."),
    (1, {"low": 0, "high": 1, "high_closed": False}, "must be a float in [0, 1). Got 1 instead."),
    (2.0, {"low": 1, "integer": True}, "must be an int in [1, inf). Got 2.0 instead."),
    (True, {"low": 0}, "Got True instead."),
    ("0.1", {}, "must be a float in (-inf, inf). Got '0.1' instead."),
    (float("nan"), {}, "Got nan instead."),
    (float("inf"), {"low": 0}, "Got inf instead."),
])
def test_check_number_messages(value, kwargs, message):
    with pytest.raises(InvalidParameterError) as info:
        check_number(value, "alpha", "NetClassifier", **kwargs)
    assert str(info.value).endswith(message)


def test_check_number_accepts_and_returns():
    assert check_number(np.float32(0.5), "x", "f", low=0, high=1) == np.float32(0.5)
    assert check_number(np.int64(3), "n", "f", low=1, integer=True) == 3
    assert check_number(1, "x", "f", low=0, high=1) == 1  # closed bounds
    assert check_positive_int(np.int32(4), "n", "f") == 4 and type(check_positive_int(np.int32(4), "n", "f")) is int
    with pytest.raises(InvalidParameterError, match=r"^The 'units' parameter of Dense must be an int in \[1, inf\)"):
        check_positive_int(0, "units", "Dense")


def test_check_choice_bool_dtype():
    assert check_choice("adam", "optimizer", "fit", ["adam", "sgd"]) == "adam"
    with pytest.raises(InvalidParameterError) as info:
        check_choice("x", "optimizer", "fit", ["a", "b"])
    assert str(info.value) == "The 'optimizer' parameter of fit must be one of 'a', 'b'. Got 'x' instead."
    assert check_choice(None, "pool", "cnn", (None, "max")) is None
    for bad in (True, 1, ["a"], np.array(["a", "b"])):
        with pytest.raises(InvalidParameterError):
            check_choice(bad, "pool", "cnn", ("a", 1.5))
    assert check_bool(np.bool_(True), "flag", "f") is True
    with pytest.raises(InvalidParameterError, match="'flag' parameter of f must be a bool. Got 1 instead."):
        check_bool(1, "flag", "f")
    assert check_dtype("float32") == np.float32 and check_dtype(np.float64) == np.float64
    for bad in ("float16", "int32", None, "nonsense", object()):
        with pytest.raises(InvalidParameterError, match="'dtype' parameter of build must be one of 'float32', "):
            check_dtype(bad, owner="build")


def test_is_real():
    assert is_real(1) and is_real(np.float32(2.5)) and is_real(np.int8(3))
    assert not any(is_real(v) for v in (True, np.bool_(False), float("nan"), float("inf"), "1", None))


def test_check_params_with_alternatives():
    constraints = {"a": [None, Interval(0, None, low_closed=False)], "b": [Boolean(), InstanceOf(str, "a str")],
                   "c": [Options(("x", "y"))]}
    check_params({"a": None, "b": "label", "c": "x", "other": object()}, constraints, "Est")
    check_params({"a": 2.0, "b": False}, constraints, "Est")
    with pytest.raises(InvalidParameterError) as info:
        check_params({"a": 0}, constraints, "Est")
    assert str(info.value) == "The 'a' parameter of Est must be None or a float in (0, inf). Got 0 instead."
    with pytest.raises(InvalidParameterError, match="must be a bool or a str. Got 3 instead."):
        check_params({"b": 3}, constraints, "Est")


@pytest.mark.parametrize("call, name", [
    (lambda: Dense(0), "units"),
    (lambda: Dense(3, use_bias=1), "use_bias"),
    (lambda: Dense(3, init="orthogonal"), "init"),
    (lambda: Dropout(1.0), "rate"),
    (lambda: mlp((4,), 2, activation="swish"), "activation"),
    (lambda: cnn(padding="same"), "padding"),
    (lambda: cnn(global_pool="yes"), "global_pool"),
    (lambda: SGD(0.1, nesterov=True), "nesterov"),
    (lambda: SGD(0.1, schedule=3), "schedule"),
    (lambda: get_optimizer("adamx"), "optimizer"),
    (lambda: get_optimizer("adam", momentum=0.9), "momentum"),
    (lambda: get_schedule("linear"), "name"),
    (lambda: get_schedule("step", total_epochs=3), "total_epochs"),
    (lambda: get_schedule("cosine"), "total_epochs"),
    (lambda: mlp((4,), 2).build((3,), seed_or_rng="seed"), "seed_or_rng"),
    (lambda: mlp((4,), 2).build((0,)), "input_shape"),
    (lambda: mlp((4,), 2).build((3,), dtype="float16"), "dtype"),
])
def test_core_raises_invalid_parameter_error_for_bad_parameters(call, name):
    with pytest.raises(InvalidParameterError, match=f"'{name}'"):
        call()


# ------------------------------------------------------------------------------------------------ as_generator
def test_as_generator_accepts_seeds():
    rng = np.random.default_rng(0)
    assert as_generator(rng) is rng  # returned as is: draws advance the caller's stream
    assert isinstance(as_generator(None), np.random.Generator)
    first = as_generator(7).random(3)
    np.testing.assert_array_equal(first, np.random.default_rng(7).random(3))
    np.testing.assert_array_equal(as_generator(np.int64(7)).random(3), first)
    np.testing.assert_array_equal(as_generator(np.uint8(7)).random(3), first)
    sequence = np.random.SeedSequence(5)
    expected = np.random.default_rng(np.random.SeedSequence(5)).random(2)
    np.testing.assert_array_equal(as_generator(sequence).random(2), expected)


def test_as_generator_draws_one_seed_from_a_random_state():
    legacy, twin = np.random.RandomState(3), np.random.RandomState(3)
    rng = as_generator(legacy)
    expected = np.random.default_rng(twin.randint(np.iinfo(np.int32).max))
    np.testing.assert_array_equal(rng.random(3), expected.random(3))
    assert legacy.randint(10**6) == twin.randint(10**6)  # exactly one draw was taken


@pytest.mark.parametrize("bad", [-1, True, np.bool_(False), 1.0, "0", [1, 2], object(), np.random.PCG64(0)])
def test_as_generator_rejects_everything_else(bad):
    with pytest.raises(InvalidParameterError) as info:
        as_generator(bad, "seed", "sample")
    message = str(info.value)
    assert message.startswith("The 'seed' parameter of sample must be None, an int in [0, inf), a numpy SeedSequence")
    assert message.endswith(f"Got {bad!r} instead.")


def test_as_generator_default_name():
    with pytest.raises(InvalidParameterError, match=r"^The 'random_state' parameter must be None"):
        as_generator("x")
