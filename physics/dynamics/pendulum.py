"""The damped, sinusoidally driven pendulum, made autonomous with the drive phase as a third coordinate.

``theta'' + damping theta' + sin(theta) = drive_amplitude cos(phi)``, ``phi' = drive_frequency``, with the
state (theta, omega = theta', phi), in units where the small-oscillation frequency sqrt(g / l) is 1.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from core._validation import check_choice, check_number

from .system import System

__all__ = ["DrivenPendulum", "PENDULUM_REGIMES"]

#: Parameters of G. L. Baker and J. P. Gollub, "Chaotic Dynamics: An Introduction" (2nd ed., Cambridge
#: University Press, 1996), ch. 3: quality factor q = 2 (damping 1/q = 0.5), drive frequency omega_D = 2/3,
#: drive amplitude g = 0.9 (period-one motion) and g = 1.5 (chaotic attractor). This package's own
#: largest Lyapunov exponents confirm the regimes (tests/dynamics/test_dynamics_lyapunov.py).
PENDULUM_REGIMES = {
    "chaotic": {"damping": 0.5, "drive_amplitude": 1.5, "drive_frequency": 2.0 / 3.0},
    "periodic": {"damping": 0.5, "drive_amplitude": 0.9, "drive_frequency": 2.0 / 3.0},
}


@dataclass(frozen=True)
class DrivenPendulum(System):
    """A damped pendulum driven by a periodic torque; chaotic at the defaults (Baker and Gollub's g = 1.5).

    Parameters
    ----------
    damping : float
        Friction coefficient (1/q). Negative values pump energy in: the motion then diverges, which
        :func:`~physics.dynamics.simulate` reports as a :class:`~physics.dynamics.SimulationError`.
    drive_amplitude : float
        Amplitude of the driving torque, in units of the maximal gravitational torque.
    drive_frequency : float
        Angular frequency of the drive, in units of the small-oscillation frequency. Must be > 0.
    """

    damping: float = 0.5
    drive_amplitude: float = 1.5
    drive_frequency: float = 2.0 / 3.0

    name: ClassVar[str] = "pendulum"

    @classmethod
    def regime(cls, name: str) -> "DrivenPendulum":
        """The pendulum with Baker and Gollub's parameters for a regime.

        Parameters
        ----------
        name : str
            "chaotic" or "periodic" (a key of ``PENDULUM_REGIMES``).

        Returns
        -------
        DrivenPendulum
            The pendulum with those parameters.
        """
        check_choice(name, "regime", "DrivenPendulum", PENDULUM_REGIMES)
        return cls(**PENDULUM_REGIMES[name])

    def check(self) -> None:
        check_number(self.damping, "damping", "DrivenPendulum")
        check_number(self.drive_amplitude, "drive_amplitude", "DrivenPendulum")
        check_number(self.drive_frequency, "drive_frequency", "DrivenPendulum", low=0, low_closed=False)

    @property
    def state_names(self) -> tuple[str, ...]:
        return ("theta", "omega", "phi")

    @property
    def state_labels(self) -> tuple[str, ...]:
        return ("angle θ", "angular velocity ω", "drive phase φ")

    def rhs(self, t, state):
        theta, omega, phi = state
        return np.array([
            omega,
            -self.damping * omega - np.sin(theta) + self.drive_amplitude * np.cos(phi),
            np.full_like(omega, self.drive_frequency),
        ])

    def jacobian(self, t, state):
        theta, omega, phi = state
        one, zero = np.ones_like(theta), np.zeros_like(theta)
        return np.array([
            [zero, one, zero],
            [-np.cos(theta), -self.damping * one, -self.drive_amplitude * np.sin(phi)],
            [zero, zero, zero],
        ])

    def jvp(self, t, state, tangent):
        theta, _, phi = state
        u, v, w = tangent
        return np.array([
            v,
            -np.cos(theta) * u - self.damping * v - self.drive_amplitude * np.sin(phi) * w,
            np.zeros_like(w),
        ])

    def initial_state(self, rng):
        return np.array([rng.uniform(-np.pi, np.pi), rng.normal(), rng.uniform(0.0, 2.0 * np.pi)])

    def energy(self, states: np.ndarray) -> np.ndarray:
        """Kinetic plus potential energy ``omega^2 / 2 + 1 - cos(theta)``, conserved when damping and drive
        vanish.

        Parameters
        ----------
        states : ndarray
            Shape (n, 3), or (3,) for one state.

        Returns
        -------
        ndarray
            Shape (n,), or a 0-d array for one state.
        """
        states = np.asarray(states, dtype=float)
        return 0.5 * states[..., 1] ** 2 + 1.0 - np.cos(states[..., 0])

    @property
    def clock(self) -> int | None:
        return 2

    def magnitude(self, state):
        # theta (rotations) and phi (the drive's clock) grow without bound in normal motion.
        return float(np.max(np.abs(state[1])))

    @property
    def drive_period(self) -> float:
        """``2 pi / drive_frequency``."""
        return 2.0 * np.pi / self.drive_frequency

    @property
    def time_unit(self) -> float:
        """The drive period in both regimes (no published Lyapunov exponent exists for these parameters;
        measure one with :func:`~physics.dynamics.largest_lyapunov_exponent`)."""
        return self.drive_period

    @property
    def time_unit_name(self) -> str:
        return "drive period"

    @property
    def default_dt(self) -> float:
        # 64 samples per drive period (about 42 per free small oscillation at the defaults)
        return self.drive_period / 64.0

    @property
    def default_transient(self) -> float:
        # ten drive periods, and at least ten amplitude decay times 2 / damping to reach the attractor
        relaxation = 20.0 / self.damping if self.damping > 0 else 0.0
        return min(max(10.0 * self.drive_period, relaxation), 1e4)

    def features(self, states):
        states = np.asarray(states, dtype=float)
        theta, omega, phi = states[..., 0], states[..., 1], states[..., 2]
        return np.stack([np.sin(theta), np.cos(theta), omega, np.sin(phi), np.cos(phi)], axis=-1)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return ("sin_theta", "cos_theta", "omega", "sin_phi", "cos_phi")

    @property
    def feature_labels(self) -> tuple[str, ...]:
        return ("sin θ", "cos θ", "angular velocity ω", "sin φ", "cos φ")
