"""Benettin's largest Lyapunov exponent against published values and the regimes' physics."""
import numpy as np
import pytest

from physics.dynamics import (LORENZ_LYAPUNOV_EXPONENT, DrivenPendulum, Lorenz63, SimulationError,
                              largest_lyapunov_exponent)


def test_lorenz_exponent_matches_sprott():
    estimate, error = largest_lyapunov_exponent(Lorenz63(), dt=0.01, n_steps=5000, rng=np.random.default_rng(0))
    # 8 segments of 50 time units: finite-time exponents of Lorenz-63 spread by ~0.03-0.04 over 50 time
    # units, so the standard error is ~0.01-0.015 and 5 % (0.045) is more than 3 of them.
    assert estimate == pytest.approx(LORENZ_LYAPUNOV_EXPONENT, rel=0.05)
    assert 0.002 < error < 0.03
    assert abs(estimate - LORENZ_LYAPUNOV_EXPONENT) < 4 * error + 0.005  # the error bar is honest


def test_chaotic_pendulum_has_a_clearly_positive_exponent():
    estimate, error = largest_lyapunov_exponent(DrivenPendulum.regime("chaotic"), n_steps=2000,
                                                rng=np.random.default_rng(0))
    assert estimate > 0.05 and estimate > 5 * error


def test_periodic_pendulum_has_a_negative_exponent_bounded_by_liouville():
    pendulum = DrivenPendulum.regime("periodic")
    estimate, error = largest_lyapunov_exponent(pendulum, n_steps=1000, rng=np.random.default_rng(0))
    # on an attracting periodic orbit the exponent is negative; the two exponents of the (theta, omega)
    # flow sum to the trace of the Jacobian, -damping, so the largest is at least -damping / 2.
    assert estimate < -5 * error < 0
    assert estimate > -pendulum.damping / 2 - 5 * error - 1e-3


def test_same_seed_same_estimate_and_segments_differ():
    kwargs = {"dt": 0.01, "n_steps": 500, "renormalise_every": 50, "n_segments": 3, "transient": 5.0}
    first = largest_lyapunov_exponent(Lorenz63(), rng=np.random.default_rng(4), **kwargs)
    assert first == largest_lyapunov_exponent(Lorenz63(), rng=np.random.default_rng(4), **kwargs)
    assert first[1] > 0


@pytest.mark.parametrize("kwargs, name", [
    ({"dt": 0.0}, "dt"),
    ({"n_steps": 10, "renormalise_every": 50}, "n_steps"),
    ({"renormalise_every": 0}, "renormalise_every"),
    ({"n_segments": 1}, "n_segments"),
    ({"transient": -1.0}, "transient"),
    ({"method": "Radau"}, "method"),
    ({"rng": None}, "rng"),
])
def test_bad_arguments_raise_naming_them(kwargs, name):
    arguments = {"rng": np.random.default_rng(0), **kwargs}
    with pytest.raises(ValueError, match=f"'{name}'"):
        largest_lyapunov_exponent(Lorenz63(), **arguments)


def test_diverging_system_raises_simulation_error():
    with pytest.raises(SimulationError, match="damping=-50.0.*diverged"):
        largest_lyapunov_exponent(DrivenPendulum(damping=-50.0), n_steps=200, renormalise_every=50,
                                  transient=0.0, n_segments=2, rng=np.random.default_rng(0))
