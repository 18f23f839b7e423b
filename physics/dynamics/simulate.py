"""Trajectories of a :class:`~physics.dynamics.system.System`, integrated with scipy's ``solve_ivp``."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core._validation import InvalidParameterError, check_choice, check_number, check_positive_int

from .integrate import IMPLICIT_METHODS, METHODS, integrate
from .system import System

__all__ = ["Trajectory", "simulate", "describe", "check_state"]

#: Default budget of right-hand-side evaluations per recorded sample (DOP853 at rtol 1e-10 needs about 25
#: per sample for Lorenz-63 at dt = 0.01), plus a fixed allowance for the transient.
_EVALUATIONS_PER_SAMPLE = 2000
_EVALUATIONS_FIXED = 2_000_000


@dataclass(frozen=True, eq=False)
class Trajectory:
    """A sampled trajectory.

    A dataclass: each parameter is kept as the attribute of that name.

    Parameters
    ----------
    times : ndarray
        Shape (n,). Sample times, ``dt * arange(n)``, counted from the end of the discarded transient.
    states : ndarray
        Shape (n, d). The states at ``times`` (read-only).
    system : System
        The system that produced them.
    dt : float
        The sampling step.
    """

    times: np.ndarray
    states: np.ndarray
    system: System
    dt: float

    @property
    def features(self) -> np.ndarray:
        """``system.features(states)``, shape (n, k)."""
        return self.system.features(self.states)

    def __len__(self) -> int:
        return len(self.times)


def describe(system: System) -> str:
    """``Name(field=value, ...)``: the system's parameters, for error messages.

    Parameters
    ----------
    system : System
        The system.

    Returns
    -------
    str
        The description.
    """
    fields = ", ".join(f"{key}={value!r}" for key, value in system.parameters.items())
    return f"{type(system).__name__}({fields})"


def check_state(state, system: System, name: str = "initial_state") -> np.ndarray:
    """``state`` as a finite float array of shape (d,).

    Parameters
    ----------
    state : array_like
        The state to check.
    system : System
        The system whose dimension d the state must have.
    name : str, default "initial_state"
        The parameter's name, quoted in the error message.

    Returns
    -------
    ndarray
        Shape (d,), float.

    Raises
    ------
    InvalidParameterError
        If ``state`` is not a finite 1-d array of d numbers; the message names ``name``.
    """
    array = np.asarray(state, dtype=float) if np.ndim(state) == 1 else None
    if array is None or array.shape != (system.dimension,) or not np.all(np.isfinite(array)):
        raise InvalidParameterError(
            f"The '{name}' parameter of simulate must be a finite array of shape ({system.dimension},) "
            f"(the state {system.state_names}). Got {state!r} instead.")
    return array


def simulate(system: System, n_samples: int, dt: float, *, rng: np.random.Generator,
             transient: float | None = None, initial_state=None, rtol: float = 1e-10, atol: float = 1e-10,
             method: str = "DOP853", max_evaluations: int | None = None) -> Trajectory:
    """Integrate ``system`` and sample it ``n_samples`` times every ``dt``.

    Parameters
    ----------
    system : System
        The system to integrate.
    n_samples : int
        Number of recorded states. Must be >= 2.
    dt : float
        Sampling step, in system time units (the integrator chooses its own, smaller, steps; samples come
        from its dense output). Must be > 0.
    rng : numpy.random.Generator
        Draws the initial state (unused when ``initial_state`` is given).
    transient : float or None
        Time integrated and discarded before the first sample; None: ``system.default_transient``. Must be >= 0.
    initial_state : array or None
        Shape (d,).
        The state at the start of the transient; None: ``system.initial_state(rng)``.
    rtol : float
        solve_ivp's relative and absolute tolerances. Must be > 0.
    atol : float
        solve_ivp's relative and absolute tolerances. Must be > 0.
    method : str
        A solve_ivp method, one of :data:`METHODS`; implicit ones use ``system.jacobian``.
    max_evaluations : int or None
        Budget of right-hand-side evaluations (a stiff system forces an explicit method into tiny steps);
        None: ``2000 n_samples + 2e6``. Must be >= 1.

    Returns
    -------
    Trajectory
        The sampled trajectory.

    Raises
    ------
    InvalidParameterError
        A ValueError, for a bad argument, naming it.
    physics.dynamics.integrate.SimulationError
        When solve_ivp fails, the state becomes non-finite or leaves ``|.| <= 1e6`` (:meth:`System.magnitude`), or
        the evaluation budget runs out; the message names the system's parameters, ``dt``, ``n_samples`` and what
        to change.
    """
    if not isinstance(system, System):
        raise InvalidParameterError(f"The 'system' parameter of simulate must be a System. Got {system!r} instead.")
    n_samples = int(check_number(n_samples, "n_samples", "simulate", low=2, integer=True))
    check_number(dt, "dt", "simulate", low=0, low_closed=False)
    transient = system.default_transient if transient is None else transient
    check_number(transient, "transient", "simulate", low=0)
    check_number(rtol, "rtol", "simulate", low=0, low_closed=False)
    check_number(atol, "atol", "simulate", low=0, low_closed=False)
    check_choice(method, "method", "simulate", METHODS)
    if max_evaluations is None:
        max_evaluations = _EVALUATIONS_PER_SAMPLE * n_samples + _EVALUATIONS_FIXED
    max_evaluations = check_positive_int(max_evaluations, "max_evaluations", "simulate")
    if not isinstance(rng, np.random.Generator):
        raise InvalidParameterError(f"The 'rng' parameter of simulate must be a numpy Generator. Got {rng!r} instead.")
    y0 = system.initial_state(rng) if initial_state is None else check_state(initial_state, system)

    t_eval = transient + dt * np.arange(n_samples)
    context = (f"{describe(system)} with dt={dt!r}, n_samples={n_samples}, transient={transient!r}, "
               f"method={method!r}")
    options = {"jac": system.jacobian} if method in IMPLICIT_METHODS else {}
    solution = integrate(system.rhs, (0.0, float(t_eval[-1])), y0, magnitude=system.magnitude,
                         max_evaluations=max_evaluations, context=context, method=method, t_eval=t_eval,
                         rtol=rtol, atol=atol, **options)
    states = np.ascontiguousarray(solution.y.T)
    states.flags.writeable = False
    times = dt * np.arange(n_samples)
    times.flags.writeable = False
    return Trajectory(times=times, states=states, system=system, dt=float(dt))
