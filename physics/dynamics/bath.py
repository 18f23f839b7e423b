"""A particle in a one-dimensional potential, coupled linearly to a few harmonic oscillators.

The example of F. Marquardt's lecture "Machine Learning for Physicists" (recurrent networks): a network sees
the particle's coordinate x and must infer a bath coordinate q_1 it never sees. The Hamiltonian

    H = p^2 / 2 + V(x) + sum_j [ p_j^2 / 2 + omega_j^2 q_j^2 / 2 + c_j x q_j ],

with V(x) = x^4 / 4 - x^2 / 2 ("double_well") or x^2 / 2 ("harmonic"), gives
``x'' = -V'(x) - sum_j c_j q_j`` and ``q_j'' = -omega_j^2 q_j - c_j x``. The state is
(x, p, q_1, ..., q_M, p_1, ..., p_M).

Boundedness: minimising H over the q_j at fixed x leaves the effective potential
V(x) - x^2 sum_j c_j^2 / (2 omega_j^2). For the double well its quartic term keeps it bounded below for any
couplings, so H is coercive and every trajectory stays bounded (energy conservation). For the harmonic
potential it is bounded below only if ``sum_j c_j^2 / omega_j^2 < 1``, which :meth:`OscillatorBath.check`
demands.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from core._validation import InvalidParameterError, check_choice, check_number, check_positive_int

from .system import System

__all__ = ["OscillatorBath", "POTENTIALS"]

POTENTIALS = ("double_well", "harmonic")


@dataclass(frozen=True)
class OscillatorBath(System):
    """A particle (x, p) in a double well (or harmonic) potential, coupled to M harmonic oscillators.

    Parameters
    ----------
    n_oscillators : int
        M, the number of bath oscillators. Must be >= 1.
    frequencies : tuple of M floats > 0
        The oscillators' angular frequencies omega_j.
    couplings : tuple of M floats
        The linear couplings c_j (the term c_j x q_j in H). For the harmonic potential,
        sum_j c_j^2 / omega_j^2 must be < 1 (otherwise H is unbounded below and the motion runs away).
    potential : {"double_well", "harmonic"}
        V(x) = x^4 / 4 - x^2 / 2 (minima at x = +-1, barrier 1/4) or x^2 / 2.
    energy_scale : float
        Typical energy of :meth:`initial_state`, relative to the well's depth (the double-well barrier is
        1/4 above the minima; the harmonic well has its minimum at 0). Must be > 0.

    Notes
    -----
    Features are the whole state (a forecaster needs a Markovian state); ``observed`` is x only (feature 0),
    ``hidden`` is q_1 (state and feature index 2). With two or more oscillators of distinct frequencies, q_1
    is a nonlinear function of x and its first four time derivatives (from x'' = -V'(x) - sum_j c_j q_j and
    its second derivative), so a short window of x's history fixes it, but not linearly: V'(x) = x^3 - x.
    """

    n_oscillators: int = 2
    frequencies: tuple = (0.8, 1.7)
    couplings: tuple = (0.5, 0.7)
    potential: str = "double_well"
    energy_scale: float = 0.5

    name: ClassVar[str] = "bath"

    def __post_init__(self):
        for field in ("frequencies", "couplings"):
            value = getattr(self, field)
            if isinstance(value, (list, np.ndarray)):
                object.__setattr__(self, field, tuple(np.asarray(value).tolist()))
        super().__post_init__()

    def check(self) -> None:
        owner = "OscillatorBath"
        m = check_positive_int(self.n_oscillators, "n_oscillators", owner)
        check_choice(self.potential, "potential", owner, POTENTIALS)
        check_number(self.energy_scale, "energy_scale", owner, low=0, low_closed=False)
        for field in ("frequencies", "couplings"):
            value = getattr(self, field)
            if not isinstance(value, tuple) or len(value) != m:
                raise InvalidParameterError(
                    f"The '{field}' parameter of {owner} must be a sequence of n_oscillators = {m} numbers. "
                    f"Got {value!r} instead.")
            for j, entry in enumerate(value):
                check_number(entry, f"{field}[{j}]", owner, low=0 if field == "frequencies" else None,
                             low_closed=False)
        if self.potential == "harmonic":
            strength = float(np.sum(np.square(self.couplings) / np.square(self.frequencies)))
            if strength >= 1.0:
                raise InvalidParameterError(
                    f"The 'couplings' parameter of {owner} must satisfy sum_j couplings[j]^2 / frequencies[j]^2"
                    f" < 1 with the harmonic potential (otherwise the energy is unbounded below and the "
                    f"particle runs away). Got {self.couplings!r} (sum = {strength:.4g}) instead.")

    # -- the ODE -------------------------------------------------------------------------------------------
    @property
    def state_names(self) -> tuple[str, ...]:
        m = range(1, self.n_oscillators + 1)
        return ("x", "p", *(f"q_{j}" for j in m), *(f"p_{j}" for j in m))

    @property
    def state_labels(self) -> tuple[str, ...]:
        m = range(1, self.n_oscillators + 1)
        return ("particle position x", "particle momentum p", *(f"bath coordinate q_{j}" for j in m),
                *(f"bath momentum p_{j}" for j in m))

    @property
    def _linear(self) -> np.ndarray:
        """The (d, d) matrix of the linear part of the equations of motion: all of them but the double
        well's -x^3 force (built once per instance)."""
        cached = self.__dict__.get("_linear_matrix")
        if cached is None:
            m, d = self.n_oscillators, self.dimension
            c, w2 = np.asarray(self.couplings, dtype=float), np.square(np.asarray(self.frequencies, dtype=float))
            q_index, pq_index = np.arange(2, 2 + m), np.arange(2 + m, d)
            cached = np.zeros((d, d))
            cached[0, 1] = 1.0
            cached[1, 0] = 1.0 if self.potential == "double_well" else -1.0
            cached[1, q_index] = -c
            cached[q_index, pq_index] = 1.0
            cached[pq_index, q_index] = -w2
            cached[pq_index, 0] = -c
            object.__setattr__(self, "_linear_matrix", cached)
        return cached

    def potential_energy(self, x: np.ndarray) -> np.ndarray:
        """V(x), elementwise.

        Parameters
        ----------
        x : ndarray
            Particle positions, any shape.

        Returns
        -------
        ndarray
            V(x), of the shape of ``x``.
        """
        return x**4 / 4.0 - x**2 / 2.0 if self.potential == "double_well" else x**2 / 2.0

    def force(self, x: np.ndarray) -> np.ndarray:
        """-V'(x), elementwise.

        Parameters
        ----------
        x : ndarray
            Particle positions, any shape.

        Returns
        -------
        ndarray
            -V'(x), of the shape of ``x``.
        """
        return x - x**3 if self.potential == "double_well" else -x

    def curvature(self, x: np.ndarray) -> np.ndarray:
        """V''(x), elementwise.

        Parameters
        ----------
        x : ndarray
            Particle positions, any shape.

        Returns
        -------
        ndarray
            V''(x), of the shape of ``x``.
        """
        return 3.0 * x**2 - 1.0 if self.potential == "double_well" else np.ones_like(x)

    def rhs(self, t, state):
        derivative = self._linear @ state
        if self.potential == "double_well":
            derivative[1] -= state[0] ** 3
        return derivative

    def jacobian(self, t, state):
        state = np.asarray(state, dtype=float)
        jac = np.repeat(self._linear[..., None], int(np.prod(state.shape[1:])), axis=-1)
        jac = jac.reshape(self._linear.shape + state.shape[1:])
        if self.potential == "double_well":
            jac[1, 0] -= 3.0 * state[0] ** 2
        return jac

    def jvp(self, t, state, tangent):
        product = self._linear @ tangent
        if self.potential == "double_well":
            product[1] -= 3.0 * state[0] ** 2 * tangent[0]
        return product

    def energy(self, states: np.ndarray) -> np.ndarray:
        """The Hamiltonian H (conserved).

        Parameters
        ----------
        states : ndarray
            Shape (n, d), or (d,) for one state.

        Returns
        -------
        ndarray
            Shape (n,), or a 0-d array for one state.
        """
        states = np.asarray(states, dtype=float)
        m = self.n_oscillators
        x, p = states[..., 0], states[..., 1]
        q, pq = states[..., 2:2 + m], states[..., 2 + m:]
        c, w2 = np.asarray(self.couplings, dtype=float), np.square(np.asarray(self.frequencies, dtype=float))
        bath = np.sum(0.5 * pq**2 + 0.5 * w2 * q**2 + c * x[..., None] * q, axis=-1)
        return 0.5 * p**2 + self.potential_energy(x) + bath

    def initial_state(self, rng):
        """Random positions and momenta with each degree of freedom holding about ``energy_scale``: the
        particle starts in the double well's range and the oscillators with random phases.

        Parameters
        ----------
        rng : numpy.random.Generator
            The only source of randomness.

        Returns
        -------
        ndarray
            Shape (d,) = (2 + 2 n_oscillators,): x, p, the oscillators' q, then their momenta.
        """
        m = self.n_oscillators
        frequencies = np.asarray(self.frequencies, dtype=float)
        scale = np.sqrt(2.0 * self.energy_scale)
        x = rng.uniform(-1.5, 1.5) if self.potential == "double_well" else rng.normal(scale=scale)
        p = rng.normal(scale=scale)
        q = rng.normal(scale=scale / frequencies, size=m)
        pq = rng.normal(scale=scale, size=m)
        return np.concatenate([[x, p], q, pq])

    # -- units and features ---------------------------------------------------------------------------------
    @property
    def particle_frequency(self) -> float:
        """The bare particle's small-oscillation frequency sqrt(V'') at the potential's minimum: sqrt(2) in
        the double well (at x = +-1), 1 in the harmonic potential."""
        return float(np.sqrt(2.0)) if self.potential == "double_well" else 1.0

    @property
    def time_unit(self) -> float:
        """The period 2 pi / sqrt(V''(x_min)) of the bare particle's small oscillation in its well."""
        return 2.0 * np.pi / self.particle_frequency

    @property
    def time_unit_name(self) -> str:
        return "particle period"

    @property
    def default_dt(self) -> float:
        # 32 samples per period of the fastest of the particle and the oscillators
        fastest = max(self.particle_frequency, *self.frequencies)
        return 2.0 * np.pi / fastest / 32.0

    @property
    def observed(self) -> tuple[int, ...]:
        return (0,)

    @property
    def hidden(self) -> int | None:
        return 2
