"""The scoring of task=dynamics on series with known answers: normalised error, valid prediction time, the
closed-loop forecaster on an exactly learnable linear map, windows and targets, and the trajectory cache."""
import json

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from physics.dynamics import Lorenz63
from physics.tasks.dynamics.data import (Target, cache_path, forecast_pairs, hidden_pairs, simulated_states,
                                         trajectory_key, windows)
from physics.tasks.dynamics.forecast import (closed_loop, error_scale, normalised_error, persistence,
                                             valid_prediction_time)


def test_error_scale_and_normalised_error_of_known_series():
    # points on a circle of radius 2 around (5, -3): every state is 2 from the mean state
    angle = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    circle = np.stack([5 + 2 * np.cos(angle), -3 + 2 * np.sin(angle)], axis=1)
    assert error_scale(circle) == pytest.approx(2.0, rel=1e-12)
    truth = np.zeros((2, 3, 2))
    prediction = truth + np.array([3.0, 4.0])  # ||(3, 4)|| = 5 at every step
    assert np.allclose(normalised_error(prediction, truth, 2.0), 2.5)
    prediction[1, 2] = np.nan  # a forecast that blew up has an infinite error
    assert normalised_error(prediction, truth, 2.0)[1, 2] == np.inf


def test_valid_prediction_time_of_exponential_error_growth():
    # e(t) = e0 exp(lambda t) crosses 0.4 at t* = ln(0.4 / e0) / lambda; steps of 0.01 time units
    step, e0, rate = 0.01, 1e-3, 0.9
    times = step * np.arange(1, 2001)
    errors = np.stack([e0 * np.exp(rate * times), 2 * e0 * np.exp(rate * times)])
    vpt, censored = valid_prediction_time(errors, 0.4, step)
    expected = np.log(0.4 / np.array([e0, 2 * e0])) / rate
    assert np.all(np.abs(vpt - expected) <= step)  # the grid resolves t* to one step
    assert not censored.any()


def test_valid_prediction_time_edge_cases():
    errors = np.array([[0.5, 0.1, 0.1],      # wrong at the first step: valid for 0
                       [0.1, 0.2, 0.3],      # never exceeds: censored at the horizon
                       [0.1, np.inf, 0.1],   # blew up at step 2: valid for one step, even if it returns
                       [0.1, 0.4, 0.41]])    # the threshold itself is still valid
    vpt, censored = valid_prediction_time(errors, 0.4, 0.5)
    assert vpt.tolist() == [0.0, 1.5, 0.5, 1.0]
    assert censored.tolist() == [False, True, False, False]


def rotation(angle=0.1, growth=1.0):
    """The linear map of a damped/undamped rotation of the plane (2, 2)."""
    c, s = np.cos(angle), np.sin(angle)
    return growth * np.array([[c, -s], [s, c]])


def test_closed_loop_of_an_exactly_learned_linear_map_is_exact():
    """A least-squares fit on windows of a linear recurrence is the recurrence itself, so its closed-loop
    forecast reproduces the series to rounding, for both targets."""
    A = rotation(0.1, 0.999)
    series = np.empty((300, 2))
    series[0] = [1.0, 0.0]
    for t in range(1, len(series)):
        series[t] = A @ series[t - 1]
    for kind in ("increment", "state"):
        target = Target.fit(kind, [series[:200]])
        X, y, _, _ = forecast_pairs(series[:200], series[:200], 3, target)
        model = LinearRegression().fit(X, y)
        history = np.stack([series[200 - 3:200], series[250 - 3:250]])
        forecast = closed_loop(model.predict, target.decode, history, 40)
        truth = np.stack([series[200:240], series[250:290]])
        # 40 steps of a contraction: rounding of ~1e-15 per step stays far below 1e-9
        assert np.max(np.abs(forecast - truth)) < 1e-9, kind


def test_closed_loop_feeds_its_own_predictions_back():
    """With a model that adds 1 to the last value of the window, the forecast counts up from the start."""
    history = np.zeros((2, 3, 1))
    history[1, -1] = 10.0
    forecast = closed_loop(lambda X: X[:, -1:] + 1.0, Target("state", np.ones(1)).decode, history, 4)
    assert forecast[:, :, 0].tolist() == [[1, 2, 3, 4], [11, 12, 13, 14]]


def test_closed_loop_marks_a_forecast_that_blows_up():
    history = np.ones((2, 2, 1))
    history[1] = 1e-3
    forecast = closed_loop(lambda X: X[:, -1:] * 1e200, Target("state", np.ones(1)).decode, history, 3)
    assert np.isnan(forecast[0, 1:]).all() and np.isfinite(forecast[1, 0]) and np.isnan(forecast[1, 2:]).all()


def test_persistence_repeats_the_last_state():
    history = np.arange(12.0).reshape(2, 3, 2)
    forecast = persistence(history, 4)
    assert forecast.shape == (2, 4, 2) and np.all(forecast == history[:, -1:, :])


def test_windows_are_flat_and_time_major():
    series = np.arange(10.0).reshape(5, 2)  # row t = (2t, 2t + 1)
    assert windows(series, 2).tolist() == [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7], [6, 7, 8, 9]]
    X, y = hidden_pairs(series[:, :1], np.arange(5.0), 3)
    assert X.tolist() == [[0, 2, 4], [2, 4, 6], [4, 6, 8]] and y.tolist() == [2, 3, 4]


def test_increment_target_round_trips():
    rng = np.random.default_rng(0)
    series = np.cumsum(rng.normal(size=(50, 3)), axis=0)
    target = Target.fit("increment", [series])
    X, y, last, following = forecast_pairs(series, series, 4, target)
    assert X.shape == (46, 12) and y.shape == (46, 3)
    assert np.allclose(y.std(axis=0), 1.0, atol=0.2)  # in units of the increments' SD (46 of the 49 increments)
    assert np.allclose(target.decode(last, y), following, atol=1e-12)


def test_the_cache_is_reused_and_a_corrupt_or_foreign_file_is_never_used(tmp_path, monkeypatch, caplog):
    system = Lorenz63()
    kwargs = dict(seed=3, stream="data/train/0", cache_dir=tmp_path)
    first = simulated_states(system, 50, 0.01, **kwargs)
    path = cache_path(tmp_path, trajectory_key(system, 50, 0.01, system.default_transient, 3, "data/train/0"))
    assert path.is_file() and first.shape == (50, 3)

    import physics.dynamics
    calls = []
    original = physics.dynamics.simulate
    monkeypatch.setattr(physics.dynamics, "simulate", lambda *a, **k: calls.append(1) or original(*a, **k))
    assert np.array_equal(simulated_states(system, 50, 0.01, **kwargs), first) and calls == []  # read back

    path.write_bytes(path.read_bytes()[:100])  # cut short
    assert np.array_equal(simulated_states(system, 50, 0.01, **kwargs), first) and calls == [1]
    assert "not a complete npz archive" in caplog.text

    with np.load(path) as archive:  # a file of other settings under this name
        stored = dict(archive)
    key = json.loads(str(stored["key"]))
    stored["key"] = np.str_(json.dumps({**key, "seed": 4}, sort_keys=True))
    np.savez(path, **stored)
    assert np.array_equal(simulated_states(system, 50, 0.01, **kwargs), first) and calls == [1, 1]
    assert "key mismatch" in caplog.text

    with np.load(path) as archive:  # tampered states
        stored = dict(archive)
    stored["states"] = stored["states"] + 1.0
    np.savez(path, **stored)
    assert np.array_equal(simulated_states(system, 50, 0.01, **kwargs), first) and calls == [1, 1, 1]
    assert "checksum mismatch" in caplog.text
    other = simulated_states(system, 50, 0.01, seed=3, stream="data/test/0", cache_dir=tmp_path)
    assert not np.allclose(other, first)  # another stream: another initial state
