"""The Lorenz-63 system: ``x' = sigma (y - x)``, ``y' = x (rho - z) - y``, ``z' = x y - beta z``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from core._validation import check_number

from .system import System

__all__ = ["Lorenz63", "LORENZ_LYAPUNOV_EXPONENT"]

#: Largest Lyapunov exponent of Lorenz-63 at (sigma, rho, beta) = (10, 28, 8/3): J. C. Sprott, "Chaos and
#: Time-Series Analysis" (Oxford University Press, 2003), Appendix A.1 (spectrum 0.9056, 0, -14.5723).
LORENZ_LYAPUNOV_EXPONENT = 0.9056
_CLASSIC = (10.0, 28.0, 8.0 / 3.0)


@dataclass(frozen=True)
class Lorenz63(System):
    """Lorenz's (1963) convection model; chaotic at the classic parameters (10, 28, 8/3).

    Parameters
    ----------
    sigma : float
        Prandtl number. Must be > 0.
    rho : float
        Rayleigh number relative to its critical value. Must be > 0.
    beta : float
        Geometric factor of the convection cell. Must be > 0.
    """

    sigma: float = 10.0
    rho: float = 28.0
    beta: float = 8.0 / 3.0

    name: ClassVar[str] = "lorenz"

    def check(self) -> None:
        for field in ("sigma", "rho", "beta"):
            check_number(getattr(self, field), field, "Lorenz63", low=0, low_closed=False)

    @property
    def state_names(self) -> tuple[str, ...]:
        return ("x", "y", "z")

    def rhs(self, t, state):
        x, y, z = state
        return np.array([self.sigma * (y - x), x * (self.rho - z) - y, x * y - self.beta * z])

    def jacobian(self, t, state):
        x, y, z = state
        one, zero = np.ones_like(x), np.zeros_like(x)
        return np.array([
            [-self.sigma * one, self.sigma * one, zero],
            [self.rho - z, -one, -x],
            [y, x, -self.beta * one],
        ])

    def jvp(self, t, state, tangent):
        x, y, z = state
        u, v, w = tangent
        return np.array([self.sigma * (v - u), (self.rho - z) * u - v - x * w, y * u + x * v - self.beta * w])

    def initial_state(self, rng):
        # A point near the attractor's extent; the transient removes the memory of it.
        return np.array([0.0, 0.0, 25.0]) + rng.normal(scale=8.0, size=3)

    @property
    def lyapunov_exponent(self) -> float | None:
        classic = np.allclose((self.sigma, self.rho, self.beta), _CLASSIC, rtol=1e-12, atol=0)
        return LORENZ_LYAPUNOV_EXPONENT if classic else None

    @property
    def time_unit(self) -> float:
        """The Lyapunov time ``1 / lambda_max`` at the classic parameters; elsewhere the system's own time
        unit (1), since no published exponent exists for them (measure one with
        :func:`~physics.dynamics.largest_lyapunov_exponent`)."""
        exponent = self.lyapunov_exponent
        return 1.0 if exponent is None else 1.0 / exponent

    @property
    def time_unit_name(self) -> str:
        return "time unit" if self.lyapunov_exponent is None else "Lyapunov time"

    @property
    def default_dt(self) -> float:
        return 0.01

    @property
    def default_transient(self) -> float:
        return 20.0
