"""The systems: derivatives, conserved quantities, boundedness, parameters and features."""
import re

import numpy as np
import pytest

from physics.dynamics import SYSTEMS, DrivenPendulum, Lorenz63, OscillatorBath, System, simulate

ALL_SYSTEMS = [Lorenz63(), DrivenPendulum(), DrivenPendulum.regime("periodic"), OscillatorBath(),
               OscillatorBath(n_oscillators=3, frequencies=(0.7, 1.3, 2.1), couplings=(0.3, -0.4, 0.5)),
               OscillatorBath(potential="harmonic", couplings=(0.3, 0.5))]


@pytest.mark.parametrize("system", ALL_SYSTEMS, ids=repr)
def test_jacobian_matches_central_differences_of_rhs(system):
    rng = np.random.default_rng(0)
    state = system.initial_state(rng)
    h = 1e-6
    columns = [(system.rhs(0.0, state + h * e) - system.rhs(0.0, state - h * e)) / (2 * h)
               for e in np.eye(system.dimension)]
    # central differences: truncation h^2 |f'''| ~ 1e-12 (states and derivatives O(10)), rounding
    # 1e-16 |f| / h ~ 1e-9 for |f| up to ~ 1e3.
    np.testing.assert_allclose(system.jacobian(0.0, state), np.stack(columns, axis=1), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("system", ALL_SYSTEMS, ids=repr)
def test_batched_rhs_jacobian_and_jvp_match_single_states(system):
    rng = np.random.default_rng(1)
    states = np.stack([system.initial_state(rng) for _ in range(4)], axis=1)  # (d, 4)
    tangents = rng.normal(size=states.shape)
    rhs, jac, jvp = system.rhs(0.0, states), system.jacobian(0.0, states), system.jvp(0.0, states, tangents)
    assert rhs.shape == states.shape and jac.shape == (system.dimension,) * 2 + (4,)
    for j in range(4):
        np.testing.assert_allclose(rhs[:, j], system.rhs(0.0, states[:, j]), rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(jac[..., j], system.jacobian(0.0, states[:, j]), rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(jvp[:, j], system.jacobian(0.0, states[:, j]) @ tangents[:, j],
                                   rtol=1e-12, atol=1e-12)


def test_energy_of_free_pendulum_is_conserved_and_damping_dissipates_it():
    free = DrivenPendulum(damping=0.0, drive_amplitude=0.0)
    trajectory = simulate(free, 2001, 0.1, rng=np.random.default_rng(0), transient=0, rtol=1e-10, atol=1e-10)
    energy = free.energy(trajectory.states)
    # DOP853 keeps each step's local error below ~1e-10 (rtol = atol = 1e-10, |state| ~ 1); over T = 200 it
    # takes ~700 steps, so even errors adding up secularly stay below 7e-8 relative to E ~ 0.4.
    assert np.max(np.abs(energy - energy[0])) / energy[0] < 1e-7
    damped = DrivenPendulum(damping=0.1, drive_amplitude=0.0)
    energy = damped.energy(simulate(damped, 500, 0.1, rng=np.random.default_rng(0), transient=0).states)
    # dE/dt = -damping omega^2 <= 0: non-increasing up to the integration error (1e-9), and it decays
    assert np.all(np.diff(energy) < 1e-9) and energy[-1] < 0.1 * energy[0]


@pytest.fixture(scope="module")
def bath_trajectory():
    bath = OscillatorBath()
    return simulate(bath, 6000, bath.default_dt, rng=np.random.default_rng(0), rtol=1e-10, atol=1e-10)


def test_bath_energy_is_conserved(bath_trajectory):
    energy = bath_trajectory.system.energy(bath_trajectory.states)
    # ~4000 DOP853 steps over T = 690 with local errors <~ 1e-10 (|state| ~ 1): at most ~4e-7 even if they
    # add up secularly, relative to E ~ 0.5.
    assert np.max(np.abs(energy - energy[0])) / abs(energy[0]) < 5e-7


def test_bath_trajectory_stays_inside_its_energy_surface(bath_trajectory):
    bath, states = bath_trajectory.system, bath_trajectory.states
    energy = bath.energy(states[0])
    # H >= p^2/2 + x^4/4 - a x^2/2 with a = 1 + sum c^2/w^2 (the q_j minimised out), so
    # x^2 <= a + sqrt(a^2 + 4E) and p^2 / 2 <= E + a^2 / 4.
    a = 1.0 + np.sum(np.square(bath.couplings) / np.square(bath.frequencies))
    assert np.max(np.abs(states[:, 0])) <= np.sqrt(a + np.sqrt(a**2 + 4 * energy)) + 1e-6
    assert np.max(np.abs(states[:, 1])) <= np.sqrt(2 * (energy + a**2 / 4)) + 1e-6
    assert np.mean(states[:, 0] > 0) > 0.1 and np.mean(states[:, 0] < 0) > 0.1  # it visits both wells


def test_bath_hidden_coordinate_is_a_nonlinear_function_of_the_visible_history(bath_trajectory):
    bath, states = bath_trajectory.system, bath_trajectory.states
    window = int(round(bath.time_unit / bath_trajectory.dt))  # one particle period of x's history
    x = bath.features(states)[:, bath.observed[0]]
    lagged = np.lib.stride_tricks.sliding_window_view(x, window)
    target = states[window - 1:, bath.hidden]
    split = len(target) * 2 // 3

    def test_r2(inputs):
        design = np.hstack([inputs, np.ones((len(inputs), 1))])
        coefficients = np.linalg.lstsq(design[:split], target[:split], rcond=None)[0]
        residual = target[split:] - design[split:] @ coefficients
        return 1 - residual.var() / target[split:].var()

    # q_1 solves two linear equations in (x, x^3) and their derivatives (bath module's notes): exact with
    # cubes of the window, clearly not from the window alone.
    assert test_r2(lagged) < 0.85
    assert test_r2(np.hstack([lagged, lagged**3])) > 0.99


@pytest.mark.parametrize("make, field", [
    (lambda: Lorenz63(sigma=-1.0), "sigma"),
    (lambda: Lorenz63(rho=float("nan")), "rho"),
    (lambda: Lorenz63(beta=0), "beta"),
    (lambda: DrivenPendulum(drive_frequency=0.0), "drive_frequency"),
    (lambda: DrivenPendulum(damping="0.5"), "damping"),
    (lambda: DrivenPendulum(drive_amplitude=float("inf")), "drive_amplitude"),
    (lambda: DrivenPendulum.regime("turbulent"), "regime"),
    (lambda: OscillatorBath(n_oscillators=0), "n_oscillators"),
    (lambda: OscillatorBath(frequencies=(1.0,)), "frequencies"),
    (lambda: OscillatorBath(frequencies=(1.0, -2.0)), "frequencies[1]"),
    (lambda: OscillatorBath(couplings=(0.5, None)), "couplings[1]"),
    (lambda: OscillatorBath(potential="quartic"), "potential"),
    (lambda: OscillatorBath(energy_scale=0.0), "energy_scale"),
    (lambda: OscillatorBath(potential="harmonic", couplings=(0.6, 1.6)), "couplings"),
])
def test_bad_parameters_raise_naming_the_field(make, field):
    with pytest.raises(ValueError, match=re.escape(f"'{field}'")):
        make()


def test_harmonic_bath_stability_condition_is_the_boundary():
    # sum c^2 / w^2 < 1 keeps the quadratic form positive definite; at 1 it is singular
    OscillatorBath(potential="harmonic", frequencies=(1.0, 2.0), couplings=(0.6, 1.59))
    with pytest.raises(ValueError, match="'couplings'"):
        OscillatorBath(potential="harmonic", frequencies=(1.0, 2.0), couplings=(0.6, 1.6))
    assert OscillatorBath(frequencies=[1.0, 2.0], couplings=[3.0, 5.0]).couplings == (3.0, 5.0)  # any for the well


def test_regimes_are_baker_and_gollub_parameters():
    chaotic, periodic = DrivenPendulum.regime("chaotic"), DrivenPendulum.regime("periodic")
    assert chaotic == DrivenPendulum()
    assert (periodic.damping, periodic.drive_amplitude, periodic.drive_frequency) == (0.5, 0.9, 2.0 / 3.0)
    assert periodic.time_unit == pytest.approx(3 * np.pi) and periodic.time_unit_name == "drive period"


@pytest.mark.parametrize("system", ALL_SYSTEMS, ids=repr)
def test_interface_is_consistent(system):
    assert isinstance(system, System) and SYSTEMS[system.name] is type(system)
    rng = np.random.default_rng(2)
    states = np.stack([system.initial_state(rng) for _ in range(5)])
    features = system.features(states)
    assert states.shape == (5, system.dimension) and len(system.state_labels) == system.dimension
    assert features.shape == (5, len(system.feature_names)) == (5, len(system.feature_labels))
    assert all(0 <= i < features.shape[1] for i in system.observed)
    assert system.hidden is None or 0 <= system.hidden < system.dimension
    assert system.time_unit > 0 and system.default_dt > 0 and system.default_transient >= 0
    assert hash(system) == hash(type(system)(**system.parameters))


def test_pendulum_features_do_not_wrap():
    pendulum = DrivenPendulum()
    state = np.array([0.3, -1.2, 1.0])
    shifted = state + np.array([2 * np.pi, 0.0, -4 * np.pi])
    np.testing.assert_allclose(pendulum.features(shifted), pendulum.features(state), atol=1e-12)
    assert pendulum.feature_names == ("sin_theta", "cos_theta", "omega", "sin_phi", "cos_phi")


def test_lorenz_time_unit_is_the_lyapunov_time_only_where_published():
    assert Lorenz63().lyapunov_exponent == 0.9056 and Lorenz63().time_unit == pytest.approx(1 / 0.9056)
    assert Lorenz63().time_unit_name == "Lyapunov time"
    assert Lorenz63(rho=35.0).lyapunov_exponent is None and Lorenz63(rho=35.0).time_unit == 1.0


def test_bath_observes_x_and_hides_q1():
    bath = OscillatorBath()
    assert bath.feature_names[bath.observed[0]] == "x" and bath.state_names[bath.hidden] == "q_1"
    assert bath.state_names == ("x", "p", "q_1", "q_2", "p_1", "p_2")
