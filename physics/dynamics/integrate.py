"""One guarded call of scipy's ``solve_ivp``: divergence event, evaluation budget, and failures turned into a
:class:`SimulationError` that names what to change."""
from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.integrate import solve_ivp

__all__ = ["SimulationError", "integrate", "DIVERGENCE_BOUND", "METHODS", "IMPLICIT_METHODS"]

#: solve_ivp's methods; the implicit ones need (and get) a Jacobian.
METHODS = ("DOP853", "RK45", "RK23", "Radau", "BDF", "LSODA")
IMPLICIT_METHODS = ("Radau", "BDF", "LSODA")
#: A state whose :meth:`System.magnitude` passes this has diverged.
DIVERGENCE_BOUND = 1e6


class SimulationError(ValueError):
    """The integration failed (diverged, became non-finite, or exceeded its evaluation budget); the message
    names the parameters to change."""


class _BudgetExceeded(Exception):
    pass


def integrate(fun: Callable, t_span: tuple[float, float], y0: np.ndarray, *, magnitude: Callable,
              max_evaluations: int, context: str, **options):
    """``solve_ivp(fun, t_span, y0, **options)``, stopped with a :class:`SimulationError` when
    ``magnitude(y)`` passes :data:`DIVERGENCE_BOUND`, when ``fun`` is evaluated more than ``max_evaluations``
    times (each column of a vectorised call counts), when the solver fails, or when the result is not finite.

    Parameters
    ----------
    fun : callable
        The right-hand side ``fun(t, y)``.
    t_span : tuple of float
        The interval (t0, t1).
    y0 : ndarray
        The initial state, shape (n,).
    magnitude : callable
        ``magnitude(y) -> float``, the size that a divergence makes large.
    max_evaluations : int
        The budget of evaluations of ``fun``.
    context : str
        What is integrated with which parameters ("Lorenz63(sigma=10, ...) with dt=0.01"), used in the messages.
    **options
        Passed to solve_ivp (method, t_eval, rtol, atol, jac, ...).

    Returns
    -------
    scipy.integrate.OdeResult
        scipy's result, with status 0 and finite ``y``.

    Raises
    ------
    SimulationError
        When the budget runs out, the state passes :data:`DIVERGENCE_BOUND`, the solver fails or the result is
        not finite.
    """
    evaluations = 0

    def counted(t, y):
        nonlocal evaluations
        evaluations += 1 if y.ndim == 1 else y.shape[1]
        if evaluations > max_evaluations:
            raise _BudgetExceeded
        return fun(t, y)

    def escaped(t, y):
        return DIVERGENCE_BOUND - magnitude(y)

    escaped.terminal = True
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            solution = solve_ivp(counted, t_span, y0, events=escaped, **options)
    except _BudgetExceeded:
        raise SimulationError(
            f"Integration of {context} needed more than max_evaluations={max_evaluations} right-hand-side "
            f"evaluations: the system is stiff or diverging for these parameters. Change the parameters, use "
            f"an implicit method (method='Radau'), or raise max_evaluations.") from None
    if solution.status == 1:
        raise SimulationError(
            f"Integration of {context} diverged: the state passed |state| > {DIVERGENCE_BOUND:g} at "
            f"t = {solution.t_events[0][0]:.4g}. Change the system's parameters (these are unstable).")
    if solution.status != 0:
        raise SimulationError(f"Integration of {context} failed: {solution.message} Change the system's "
                              f"parameters, the time step or the tolerances.")
    if not np.all(np.isfinite(solution.y)):
        raise SimulationError(f"Integration of {context} produced non-finite states. Change the system's "
                              f"parameters or the time step.")
    return solution
