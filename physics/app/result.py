"""What every task returns: :class:`TaskResult`, written by the runner as ``metrics.json``."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from physics.app.io import flatten

DIRECTIONS = ("minimize", "maximize")


@dataclass
class TaskResult:
    """The outcome of one run of a task.

    A dataclass: each parameter is kept as the attribute of that name.

    Parameters
    ----------
    objective : float
        The number a sweep optimises; something a user can optimise honestly (a validation loss, never a distance
        to a known exact answer nor a test-set score).
    objective_name : str
        What it is, as a metric key (e.g. ``network.val_loss``).
    direction : {"minimize", "maximize"}
        Whether a sweep minimises or maximises the objective.
    metrics : dict, default {}
        Nested metrics (written with dotted keys: ``{"a": {"b": 1}}`` -> ``a.b``).
    timings : dict of str to float, default {}
        Seconds per stage (written as ``seconds.<stage>``).
    """

    objective: float
    objective_name: str
    direction: str = "minimize"
    metrics: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"The 'direction' of a TaskResult must be one of {DIRECTIONS}. "
                             f"Got {self.direction!r} instead.")
        self.objective = float(self.objective)

    @property
    def finite(self) -> bool:
        return math.isfinite(self.objective)

    def flat(self, header: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The flat ``metrics.json`` mapping: ``header``, the objective, the metrics, ``seconds.*``.

        Parameters
        ----------
        header : mapping or None, default None
            Entries put first (e.g. the task and the seed).

        Returns
        -------
        dict
            Flat, dotted keys.
        """
        return {**(header or {}), "objective": self.objective, "objective_name": self.objective_name,
                "objective_direction": self.direction, **flatten(self.metrics),
                **flatten({"seconds": self.timings})}
