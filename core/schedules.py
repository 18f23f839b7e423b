"""Learning-rate schedules and the scalar-argument check shared by the optimizers and the training loop.

A schedule is a callable ``schedule(epoch) -> factor``: the optimizer's learning rate during an epoch is
``base_learning_rate * schedule(epoch)``, where ``epoch`` counts the epochs completed before it (0 for the first
epoch). All schedules return 1 at epoch 0.
"""

from __future__ import annotations

import math
import numbers

__all__ = [
    "Schedule",
    "ConstantSchedule",
    "StepSchedule",
    "ExponentialSchedule",
    "CosineSchedule",
    "SCHEDULES",
    "get_schedule",
    "check_number",
]


def check_number(value, name, owner, *, low=None, high=None, low_closed=True, high_closed=True, integer=False):
    """Return ``value`` if it is a real (or integral) number inside the interval, else raise.

    Parameters
    ----------
    value : object, the argument to check.
    name : str, the argument's name, used in the message.
    owner : str, the class or function the argument belongs to, used in the message.
    low, high : float or None, interval bounds (None = unbounded).
    low_closed, high_closed : bool, whether the bounds belong to the interval.
    integer : bool, require an integer (bool is rejected in both cases).

    Raises
    ------
    TypeError if the type is wrong, ValueError if the value is outside the interval or NaN. The message follows
    "The 'alpha' parameter of NetClassifier must be a float in [0, inf). Got -1 instead."
    """
    kind = "an int" if integer else "a float"
    left = ("[" if low_closed else "(") + ("-inf" if low is None else f"{low:g}")
    right = ("inf" if high is None else f"{high:g}") + ("]" if high_closed else ")")
    expected = f"The '{name}' parameter of {owner} must be {kind} in {left}, {right}. Got {value!r} instead."
    wanted_type = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, wanted_type):
        raise TypeError(expected)
    if math.isnan(value):
        raise ValueError(expected)
    if low is not None and (value < low or (value == low and not low_closed)):
        raise ValueError(expected)
    if high is not None and (value > high or (value == high and not high_closed)):
        raise ValueError(expected)
    return value


class Schedule:
    """Base class: ``schedule(epoch) -> float`` multiplies the base learning rate during that epoch."""

    def __call__(self, epoch: int) -> float:
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
    step_size : int >= 1, epochs between two reductions.
    gamma : float in (0, 1], reduction factor.
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
    gamma : float in (0, 1], decay factor per epoch.
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
    total_epochs : int >= 1, length of the annealing.
    min_factor : float in [0, 1], final factor.
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


def get_schedule(name: str, **kwargs) -> Schedule:
    """Build a schedule from its name in ``SCHEDULES`` ("constant", "step", "exponential", "cosine")."""
    if not isinstance(name, str) or name not in SCHEDULES:
        raise ValueError(f"The 'name' parameter of get_schedule must be one of {sorted(SCHEDULES)}. "
                         f"Got {name!r} instead.")
    return SCHEDULES[name](**kwargs)
