"""Scoring forecasts of a dynamical system: the normalised error, the valid prediction time, closed-loop runs.

Conventions (Pathak et al., "Hybrid forecasting of chaotic processes: using machine learning in conjunction
with a knowledge-based model", Chaos 28, 041101 (2018); Vlachas et al., "Backpropagation algorithms and
Reservoir Computing in Recurrent Neural Networks for the forecasting of complex spatiotemporal dynamics",
Neural Networks 126, 191 (2020)):

* the normalised error of a prediction x_hat of the state x is ``e = ||x_hat - x|| / sqrt(<||x - <x>||^2>)``,
  the average ``<.>`` over the training trajectory (Pathak et al. divide by ``sqrt(<||x||^2>)``; subtracting the
  mean is stricter where a coordinate has a large mean, as Lorenz-63's z ~ 23.5);
* the valid prediction time is how long a closed-loop forecast stays within ``e <= threshold`` (0.4 in Pathak
  et al.): the number of steps before the first one whose error exceeds the threshold, times the step (so a
  forecast wrong at its first step has a valid time of 0; one that never exceeds it is censored at the horizon).
"""
from __future__ import annotations

from typing import Callable

import numpy as np


def error_scale(reference: np.ndarray) -> float:
    """``sqrt(<||x - <x>||^2>)`` over the rows of ``reference`` (n, k): the typical distance of a state from the
    mean state."""
    reference = np.asarray(reference, dtype=np.float64)
    return float(np.sqrt(np.mean(np.sum((reference - reference.mean(axis=0)) ** 2, axis=-1))))


def normalised_error(prediction: np.ndarray, truth: np.ndarray, scale: float) -> np.ndarray:
    """``||prediction - truth|| / scale`` along the last axis (the features): shape of the inputs without it.
    A non-finite prediction (a closed-loop forecast that blew up) has an infinite error."""
    with np.errstate(over="ignore", invalid="ignore"):
        error = np.linalg.norm(np.asarray(prediction, float) - np.asarray(truth, float), axis=-1) / scale
    return np.where(np.isfinite(error), error, np.inf)


def valid_prediction_time(errors: np.ndarray, threshold: float, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Valid prediction times of forecasts whose normalised errors are ``errors`` (m, H) at steps 1 ... H.

    Parameters
    ----------
    errors : ndarray, shape (m, H), the error of each of m forecasts at each of its H steps.
    threshold : float > 0, the error that ends the valid time.
    step : float > 0, the time of one step in the unit wanted (dt / time unit).

    Returns
    -------
    times : ndarray, shape (m,), ``step * (steps before the first error > threshold)``; ``step * H`` for a
        forecast that never exceeds it (a lower bound).
    censored : ndarray of bool, shape (m,), whether that forecast never exceeded the threshold.
    """
    errors = np.asarray(errors, dtype=np.float64)
    exceeded = ~(errors <= threshold)  # a NaN error (a forecast that blew up) counts as exceeded
    censored = ~exceeded.any(axis=1)
    steps = np.where(censored, errors.shape[1], exceeded.argmax(axis=1))
    return step * steps, censored


def closed_loop(predict: Callable[[np.ndarray], np.ndarray], decode: Callable[[np.ndarray, np.ndarray], np.ndarray],
                history: np.ndarray, n_steps: int) -> np.ndarray:
    """Run a one-step forecaster autoregressively: each prediction is appended to the window it is fed next.

    Parameters
    ----------
    predict : callable, flat windows (m, W * k) (time-major) -> predictions (m, k) in target units.
    decode : callable, (last state (m, k), prediction (m, k)) -> the next state (m, k)
        (:meth:`physics.tasks.dynamics.data.Target.decode`).
    history : ndarray, shape (m, W, k), the m starting windows (the last row is the state at the start).
    n_steps : int >= 1, steps to forecast.

    Returns
    -------
    ndarray, shape (m, n_steps, k): the forecast states at steps 1 ... n_steps after the start. A forecast
    that leaves the floating-point range is NaN from there on (its error then exceeds any threshold; see
    :func:`normalised_error`).
    """
    buffer = np.array(history, dtype=np.float64)
    m, window, k = buffer.shape
    states = np.empty((m, n_steps, k))
    dead = np.zeros(m, dtype=bool)
    with np.errstate(over="ignore", invalid="ignore"):
        for j in range(n_steps):
            following = decode(buffer[:, -1], np.asarray(predict(buffer.reshape(m, window * k))).reshape(m, k))
            dead |= ~np.all(np.isfinite(following), axis=1)
            following[dead] = np.nan
            states[:, j] = following
            buffer[:, :-1] = buffer[:, 1:]
            buffer[:, -1] = np.where(dead[:, None], 0.0, following)  # keeps the model's input finite
    return states


def persistence(history: np.ndarray, n_steps: int) -> np.ndarray:
    """The persistence forecast x(t + h) = x(t): the last state of each window (m, W, k) repeated, (m, n_steps, k)."""
    history = np.asarray(history, dtype=np.float64)
    return np.repeat(history[:, -1:, :], n_steps, axis=1)


def summary(values: np.ndarray) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1) of per-seed values; the SD is NaN for a single value."""
    values = np.asarray(values, dtype=np.float64)
    sd = float(values.std(ddof=1)) if values.size > 1 else float("nan")
    return float(values.mean()), sd
