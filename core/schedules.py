"""Learning-rate schedules.

A schedule is a callable ``schedule(epoch) -> factor``: the optimizer's learning rate during an epoch is
``base_learning_rate * schedule(epoch)``, where ``epoch`` counts the epochs completed before it (0 for the first
epoch). All schedules return 1 at epoch 0.
"""

from __future__ import annotations

import inspect
import math

from core._validation import InvalidParameterError, check_choice, check_number

__all__ = [
    "Schedule",
    "ConstantSchedule",
    "StepSchedule",
    "ExponentialSchedule",
    "CosineSchedule",
    "SCHEDULES",
    "get_schedule",
    "schedule_keywords",
]


class Schedule:
    """Base class: ``schedule(epoch) -> float`` multiplies the base learning rate during that epoch."""

    def __call__(self, epoch: int) -> float:
        """The learning-rate factor during an epoch.

        Parameters
        ----------
        epoch : int
            Number of epochs completed before this one (0 for the first epoch).

        Returns
        -------
        float
            The factor multiplying the base learning rate; 1 at epoch 0.
        """
        raise NotImplementedError

    def get_config(self) -> dict:
        """JSON-able constructor arguments."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class ConstantSchedule(Schedule):
    """factor(epoch) = 1."""

    def __call__(self, epoch: int) -> float:
        return 1.0


class StepSchedule(Schedule):
    """factor(epoch) = gamma ** floor(epoch / step_size): multiply the rate by ``gamma`` every ``step_size`` epochs.

    Parameters
    ----------
    step_size : int, default 10
        Epochs between two reductions, >= 1.
    gamma : float, default 0.1
        Reduction factor, in (0, 1].
    """

    def __init__(self, step_size: int = 10, gamma: float = 0.1):
        self.step_size = check_number(step_size, "step_size", "StepSchedule", low=1, integer=True)
        self.gamma = check_number(gamma, "gamma", "StepSchedule", low=0, low_closed=False, high=1)

    def __call__(self, epoch: int) -> float:
        return self.gamma ** (epoch // self.step_size)

    def get_config(self) -> dict:
        return {"step_size": self.step_size, "gamma": self.gamma}


class ExponentialSchedule(Schedule):
    """factor(epoch) = gamma ** epoch.

    Parameters
    ----------
    gamma : float, default 0.95
        Decay factor per epoch, in (0, 1].
    """

    def __init__(self, gamma: float = 0.95):
        self.gamma = check_number(gamma, "gamma", "ExponentialSchedule", low=0, low_closed=False, high=1)

    def __call__(self, epoch: int) -> float:
        return self.gamma**epoch

    def get_config(self) -> dict:
        return {"gamma": self.gamma}


class CosineSchedule(Schedule):
    """Cosine annealing (Loshchilov & Hutter, SGDR, without restarts):

    factor(epoch) = min_factor + (1 - min_factor) * (1 + cos(pi * min(epoch, total_epochs) / total_epochs)) / 2,

    i.e. 1 at epoch 0, ``min_factor`` from epoch ``total_epochs`` on.

    Parameters
    ----------
    total_epochs : int
        Length of the annealing in epochs, >= 1.
    min_factor : float, default 0.0
        Final factor, in [0, 1].
    """

    def __init__(self, total_epochs: int, min_factor: float = 0.0):
        self.total_epochs = check_number(total_epochs, "total_epochs", "CosineSchedule", low=1, integer=True)
        self.min_factor = check_number(min_factor, "min_factor", "CosineSchedule", low=0, high=1)

    def __call__(self, epoch: int) -> float:
        progress = min(epoch, self.total_epochs) / self.total_epochs
        return self.min_factor + (1.0 - self.min_factor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def get_config(self) -> dict:
        return {"total_epochs": self.total_epochs, "min_factor": self.min_factor}


SCHEDULES: dict[str, type[Schedule]] = {
    "constant": ConstantSchedule,
    "step": StepSchedule,
    "exponential": ExponentialSchedule,
    "cosine": CosineSchedule,
}


def schedule_keywords(name: str) -> tuple[str, ...]:
    """The constructor keywords of a schedule.

    Parameters
    ----------
    name : str
        A key of ``SCHEDULES``: "constant", "step", "exponential", "cosine".

    Returns
    -------
    tuple of str
        The keywords, sorted; e.g. ("gamma", "step_size").

    Raises
    ------
    InvalidParameterError
        For an unknown name.
    """
    check_choice(name, "schedule", None, sorted(SCHEDULES))
    return tuple(sorted(p for p in inspect.signature(SCHEDULES[name]).parameters))


def get_schedule(name: str, **kwargs) -> Schedule:
    """Build a schedule from its name.

    Parameters
    ----------
    name : str
        A key of ``SCHEDULES``: "constant", "step", "exponential", "cosine".
    **kwargs
        Constructor keywords of that schedule (see :func:`schedule_keywords`); those without a default are
        required (``total_epochs`` of "cosine").

    Returns
    -------
    Schedule
        A new schedule.

    Raises
    ------
    InvalidParameterError
        For an unknown name, a keyword the schedule does not take, or a required keyword that is missing.
    """
    check_choice(name, "name", "get_schedule", sorted(SCHEDULES))
    allowed = schedule_keywords(name)
    for key in kwargs:
        if key not in allowed:
            raise InvalidParameterError(
                f"The {name!r} schedule takes no parameter {key!r}; its parameters are "
                f"{', '.join(map(repr, allowed)) or 'none'}."
            )
    for key, p in inspect.signature(SCHEDULES[name]).parameters.items():
        if p.default is inspect.Parameter.empty and key not in kwargs:
            raise InvalidParameterError(f"The {name!r} schedule needs the parameter {key!r}.")
    return SCHEDULES[name](**kwargs)
