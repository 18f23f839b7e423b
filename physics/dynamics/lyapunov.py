"""The largest Lyapunov exponent, by Benettin's method with the variational equations.

G. Benettin, L. Galgani, A. Giorgilli and J.-M. Strelcyn, "Lyapunov characteristic exponents for smooth
dynamical systems and for Hamiltonian systems; a method for computing all of them", Meccanica 15, 9 (1980):
integrate the state x together with a tangent vector v, ``v' = J(x) v``, renormalise v to unit length at
regular intervals tau, and average the logarithms of the growth factors: lambda = sum_i log |v(t_i)| / T.
"""
from __future__ import annotations

import math

import numpy as np

from core._validation import InvalidParameterError, check_choice, check_number, check_positive_int

from .integrate import integrate
from .simulate import describe
from .system import System

__all__ = ["largest_lyapunov_exponent"]

#: Budget of evaluations of the augmented right-hand side per renormalisation interval (Lorenz-63 needs
#: ~400 for an interval of 0.5 time units): it stops stiff or diverging systems within seconds.
_EVALUATIONS_PER_INTERVAL = 100_000


def largest_lyapunov_exponent(system: System, *, dt: float | None = None, n_steps: int = 10_000,
                              renormalise_every: int = 50, transient: float | None = None,
                              rng: np.random.Generator, n_segments: int = 8, rtol: float = 1e-9,
                              atol: float = 1e-9, method: str = "DOP853") -> tuple[float, float]:
    """Estimate the largest Lyapunov exponent of ``system`` and its standard error.

    ``n_segments`` independent trajectories (independent initial states and tangent vectors from ``rng``)
    are integrated together, each with its tangent vector, for ``n_steps * dt`` time units after the
    transient; each gives one time-averaged exponent, and their spread gives the standard error. Tangent
    vectors have no component along the system's :attr:`~System.clock` (a drive phase), so a periodic
    orbit of a driven system gets a negative exponent, not the drive phase's zero.

    Parameters
    ----------
    system : System
        The system.
    dt : float or None
        Time step of the bookkeeping (the integrator takes its own adaptive steps); None: ``system.default_dt``.
        Must be > 0.
    n_steps : int
        Measured time per segment, in steps of ``dt`` (rounded down to whole renormalisation intervals).
        Must be >= renormalise_every.
    renormalise_every : int
        The tangent vectors are renormalised every ``renormalise_every * dt`` time units (the result does
        not depend on it as long as the growth over one interval does not overflow). Must be >= 1.
    transient : float or None
        Time integrated first (state and tangent, which aligns the tangent vector with the most unstable
        direction) and not measured; None: ``system.default_transient`` plus 10 time units. Must be >= 0.
    rng : numpy.random.Generator
        Draws the initial states and tangent vectors.
    n_segments : int
        Number of independent trajectories. Must be >= 2.
    rtol : float
        solve_ivp's tolerances for the augmented system. Must be > 0.
    atol : float
        solve_ivp's tolerances for the augmented system. Must be > 0.
    method : str
        An explicit solve_ivp method (the augmented system's Jacobian is not provided).

    Returns
    -------
    estimate : float
        The mean of the segments' exponents, per system time unit.
    standard_error : float
        ``std(ddof=1) / sqrt(n_segments)`` of the segments' exponents, per system time unit.

    Raises
    ------
    InvalidParameterError
        A ValueError, for a bad argument.
    SimulationError
        When the integration fails or diverges.
    """
    owner = "largest_lyapunov_exponent"
    if not isinstance(system, System):
        raise InvalidParameterError(f"The 'system' parameter of {owner} must be a System. Got {system!r} instead.")
    dt = system.default_dt if dt is None else dt
    check_number(dt, "dt", owner, low=0, low_closed=False)
    renormalise_every = check_positive_int(renormalise_every, "renormalise_every", owner)
    n_steps = int(check_number(n_steps, "n_steps", owner, low=renormalise_every, integer=True))
    transient = system.default_transient + 10.0 if transient is None else transient
    check_number(transient, "transient", owner, low=0)
    n_segments = int(check_number(n_segments, "n_segments", owner, low=2, integer=True))
    check_number(rtol, "rtol", owner, low=0, low_closed=False)
    check_number(atol, "atol", owner, low=0, low_closed=False)
    check_choice(method, "method", owner, ("DOP853", "RK45", "RK23"))
    if not isinstance(rng, np.random.Generator):
        raise InvalidParameterError(f"The 'rng' parameter of {owner} must be a numpy Generator. Got {rng!r} instead.")

    d, m = system.dimension, n_segments
    states = np.stack([system.initial_state(rng) for _ in range(m)], axis=1)  # (d, m)
    tangents = rng.normal(size=(d, m))
    if system.clock is not None:
        tangents[system.clock] = 0.0  # stays 0: the clock's rhs does not depend on the state
    tangents /= np.linalg.norm(tangents, axis=0)
    tau = renormalise_every * dt
    n_measured = n_steps // renormalise_every
    n_transient = math.ceil(transient / tau)

    def augmented(t, y):
        x, v = y[:d * m].reshape(d, m), y[d * m:].reshape(d, m)
        return np.concatenate([system.rhs(t, x).ravel(), system.jvp(t, x, v).ravel()])

    def magnitude(y):
        return system.magnitude(y[:d * m].reshape(d, m))

    context = (f"the tangent dynamics of {describe(system)} with dt={dt!r}, "
               f"renormalise_every={renormalise_every}, n_segments={n_segments}, method={method!r}")
    growth = np.zeros(m)
    for interval in range(n_transient + n_measured):
        solution = integrate(augmented, (0.0, tau), np.concatenate([states.ravel(), tangents.ravel()]),
                             magnitude=magnitude, max_evaluations=_EVALUATIONS_PER_INTERVAL, context=context,
                             method=method, rtol=rtol, atol=atol)
        y = solution.y[:, -1]
        states, tangents = y[:d * m].reshape(d, m), y[d * m:].reshape(d, m)
        norms = np.linalg.norm(tangents, axis=0)
        tangents = tangents / norms
        if interval >= n_transient:
            growth += np.log(norms)
    exponents = growth / (n_measured * tau)
    return float(np.mean(exponents)), float(np.std(exponents, ddof=1) / np.sqrt(m))
