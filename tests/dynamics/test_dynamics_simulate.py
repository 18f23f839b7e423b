"""simulate(): sampling, reproducibility, argument checks and integration failures."""
import numpy as np
import pytest

from physics.dynamics import DrivenPendulum, Lorenz63, OscillatorBath, SimulationError, Trajectory, simulate


def test_samples_on_a_regular_grid_after_the_transient():
    trajectory = simulate(Lorenz63(), 300, 0.02, rng=np.random.default_rng(0))
    assert isinstance(trajectory, Trajectory) and len(trajectory) == 300
    np.testing.assert_allclose(trajectory.times, 0.02 * np.arange(300))
    assert trajectory.states.shape == (300, 3) and trajectory.features.shape == (300, 3)
    assert not trajectory.states.flags.writeable
    # after the transient the state is on the attractor: z stays inside (0, 50)
    assert 0 < trajectory.states[:, 2].min() and trajectory.states[:, 2].max() < 50


def test_continuing_from_the_last_sample_reproduces_the_trajectory():
    system = DrivenPendulum()
    whole = simulate(system, 201, 0.1, rng=np.random.default_rng(3))
    second = simulate(system, 101, 0.1, rng=np.random.default_rng(9), transient=0,
                      initial_state=whole.states[100])
    # chaotic (lambda ~ 0.11) over T = 10: tolerance-level (1e-10) differences grow by e^1.1 at most
    np.testing.assert_allclose(second.states, whole.states[100:], rtol=0, atol=1e-7)


@pytest.mark.parametrize("system", [Lorenz63(), DrivenPendulum(), OscillatorBath()], ids=repr)
def test_same_seed_same_trajectory(system):
    first, second, other = (simulate(system, 50, system.default_dt, rng=np.random.default_rng(seed))
                            for seed in (7, 7, 8))
    np.testing.assert_array_equal(first.states, second.states)
    assert not np.allclose(first.states, other.states)


@pytest.mark.parametrize("kwargs, name", [
    ({"n_samples": 1}, "n_samples"),
    ({"n_samples": 10.0}, "n_samples"),
    ({"dt": 0.0}, "dt"),
    ({"dt": -0.1}, "dt"),
    ({"transient": -1.0}, "transient"),
    ({"method": "Euler"}, "method"),
    ({"rtol": 0.0}, "rtol"),
    ({"initial_state": [1.0, 2.0]}, "initial_state"),
    ({"initial_state": [1.0, np.nan, 2.0]}, "initial_state"),
    ({"rng": 0}, "rng"),
    ({"max_evaluations": 0}, "max_evaluations"),
])
def test_bad_arguments_raise_naming_them(kwargs, name):
    arguments = {"n_samples": 10, "dt": 0.01, "rng": np.random.default_rng(0), **kwargs}
    with pytest.raises(ValueError, match=f"'{name}'"):
        simulate(Lorenz63(), **arguments)


def test_diverging_pendulum_raises_naming_its_parameters():
    # negative damping pumps energy in exponentially (omega ~ e^{20 t}): |omega| passes 1e6 within t ~ 1
    with pytest.raises(SimulationError, match="diverged") as error:
        simulate(DrivenPendulum(damping=-20.0), 100, 0.1, rng=np.random.default_rng(0), transient=0)
    assert "damping=-20.0" in str(error.value) and "dt=0.1" in str(error.value)


def test_stiff_system_exhausts_the_evaluation_budget():
    # sigma = 1e5 makes Lorenz-63 stiff: an explicit method needs steps ~ 1 / sigma
    stiff = Lorenz63(sigma=1e5)
    with pytest.raises(SimulationError, match="sigma=100000.0.*max_evaluations=20000"):
        simulate(stiff, 100, 0.01, rng=np.random.default_rng(0), transient=0, max_evaluations=20_000)
    # an implicit method (with the analytic Jacobian) integrates it
    trajectory = simulate(stiff, 100, 0.01, rng=np.random.default_rng(0), transient=0, method="Radau",
                          rtol=1e-6, atol=1e-6)
    assert np.all(np.isfinite(trajectory.states))

