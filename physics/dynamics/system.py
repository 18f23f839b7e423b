"""The interface every simulated system implements: :class:`System`.

A system is a frozen dataclass whose fields are its physical parameters (checked on construction). It gives
the right-hand side ``f`` of the autonomous ODE ``state' = f(state)`` (time-dependent drives are made
autonomous with a phase coordinate), its Jacobian, a generic initial state, the time unit in which forecast
horizons are measured, and the features a forecaster sees.

Array conventions: one state has shape (d,); :meth:`System.rhs` and :meth:`System.jacobian` also accept a
batch of m states as shape (d, m) (scipy's ``vectorized`` convention) and return (d, m) and (d, d, m).
A trajectory's states have shape (n, d) and its features shape (n, k).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

__all__ = ["System"]


@dataclass(frozen=True)
class System:
    """Base class of the simulated systems; subclasses add their parameters as dataclass fields.

    Subclasses implement :attr:`state_names`, :meth:`rhs`, :meth:`jacobian`, :meth:`initial_state`,
    :meth:`check`, :attr:`time_unit`, :attr:`time_unit_name` and :attr:`default_dt`, and override the
    feature map (:meth:`features`, :attr:`feature_names`) where the identity is not what a forecaster should
    see (angles that wrap).
    """

    name: ClassVar[str] = ""

    def __post_init__(self):
        self.check()

    # -- the ODE -------------------------------------------------------------------------------------------
    @property
    def state_names(self) -> tuple[str, ...]:
        """Short names of the d state coordinates, in state order."""
        raise NotImplementedError

    @property
    def state_labels(self) -> tuple[str, ...]:
        """Words for the state coordinates in figures (defaults to :attr:`state_names`)."""
        return self.state_names

    @property
    def dimension(self) -> int:
        """d, the number of state coordinates."""
        return len(self.state_names)

    def rhs(self, t: float, state: np.ndarray) -> np.ndarray:
        """The time derivative of ``state``.

        Parameters
        ----------
        t : float
            Time (unused by the autonomous systems here; kept for scipy's ``fun(t, y)`` signature).
        state : ndarray
            Shape (d,) or (d, m): one state, or m states as columns.

        Returns
        -------
        ndarray
            The derivative, of the shape of ``state``.
        """
        raise NotImplementedError

    def jacobian(self, t: float, state: np.ndarray) -> np.ndarray:
        """The Jacobian ``J[i, j] = d rhs_i / d state_j``.

        Parameters
        ----------
        t : float
            Time (unused by the autonomous systems here).
        state : ndarray
            Shape (d,) or (d, m): one state, or m states as columns.

        Returns
        -------
        ndarray
            Shape (d, d) or (d, d, m).
        """
        raise NotImplementedError

    def jvp(self, t: float, state: np.ndarray, tangent: np.ndarray) -> np.ndarray:
        """The Jacobian applied to tangent vectors, ``J(state) @ tangent`` (the variational equation's rhs).

        Parameters
        ----------
        t : float
            Time (unused by the autonomous systems here).
        state : ndarray
            Shape (d,) or (d, m): one state, or m states as columns.
        tangent : ndarray
            Tangent vectors, of the shape of ``state``.

        Returns
        -------
        ndarray
            J(state) @ tangent, of the shape of ``tangent``.
        """
        jac = self.jacobian(t, state)
        return np.einsum("ij...,j...->i...", jac, tangent)

    def initial_state(self, rng: np.random.Generator) -> np.ndarray:
        """A generic initial state (in the basin of the attractor, or at a typical energy), shape (d,).

        Parameters
        ----------
        rng : numpy.random.Generator
            The only source of randomness.

        Returns
        -------
        ndarray
            Shape (d,).
        """
        raise NotImplementedError

    def check(self) -> None:
        """Raise a ValueError naming the field when a parameter is invalid (called on construction)."""
        raise NotImplementedError

    @property
    def clock(self) -> int | None:
        """Index of a phase coordinate that only advances time (a periodic drive made autonomous), or None.
        Perturbing it shifts the time, not the state: Lyapunov exponents are measured with tangent vectors
        orthogonal to it, so that a periodic orbit gets its negative exponent, not the clock's zero."""
        return None

    def magnitude(self, state: np.ndarray) -> float:
        """The size of a state that a diverging integration makes large: ``max |state_i|`` by default;
        systems with a coordinate that grows without bound in normal motion (an angle, a drive phase) leave
        it out.

        Parameters
        ----------
        state : ndarray
            Shape (d,) or (d, m) (then the largest over the m states).

        Returns
        -------
        float
            The size.
        """
        return float(np.max(np.abs(state)))

    @property
    def parameters(self) -> dict:
        """The physical parameters, field name -> value."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    # -- units ----------------------------------------------------------------------------------------------
    @property
    def time_unit(self) -> float:
        """The physical unit of forecast horizons, in the system's time units (see :attr:`time_unit_name`)."""
        raise NotImplementedError

    @property
    def time_unit_name(self) -> str:
        """What :attr:`time_unit` is, in words ("Lyapunov time", "drive period", ...)."""
        raise NotImplementedError

    @property
    def lyapunov_exponent(self) -> float | None:
        """The published largest Lyapunov exponent (per system time unit) for these parameters, else None."""
        return None

    @property
    def default_dt(self) -> float:
        """A sensible sampling step for forecasting, in system time units."""
        raise NotImplementedError

    @property
    def default_transient(self) -> float:
        """Time discarded before recording so that the state has reached the attractor (0 for a Hamiltonian
        system, which has none)."""
        return 0.0

    # -- what a forecaster sees -----------------------------------------------------------------------------
    def features(self, states: np.ndarray) -> np.ndarray:
        """The k features a forecaster sees and predicts (the identity by default).

        Parameters
        ----------
        states : ndarray
            Shape (n, d), or (d,) for one state.

        Returns
        -------
        ndarray
            Shape (n, k) (or (k,)), float64.
        """
        return np.array(states, dtype=float)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Names of the k columns of :meth:`features`."""
        return self.state_names

    @property
    def feature_labels(self) -> tuple[str, ...]:
        """Words for the features in figures (defaults to :attr:`feature_names`)."""
        return self.feature_names

    @property
    def observed(self) -> tuple[int, ...]:
        """Indices into :meth:`features` visible to a hidden-variable model (all of them by default)."""
        return tuple(range(len(self.feature_names)))

    @property
    def hidden(self) -> int | None:
        """Index into the state of the hidden coordinate a model infers from :attr:`observed`, or None."""
        return None
