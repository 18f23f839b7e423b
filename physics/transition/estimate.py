"""What an estimate of a critical temperature is: its value, its statistical and systematic errors, and how it
was obtained.

Every number the suite reports for a transition is a :class:`TcEstimate`. ``kind`` says what it estimates: the
critical temperature of the infinite lattice (``"T_c(inf)"``, after finite-size scaling) or a pseudo-critical
temperature of finite lattices (``"T*(L)"``: one size, or a pair of sizes), which is never to be compared with
the exact T_c on its statistical error alone. An estimate that does not exist (a curve that never crosses) has
``value = NaN`` and says why in ``failure``; it is reported as such, never as a number.

Temperatures in units of J/k_B.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from scipy.stats import norm, t as student_t

#: what ``kind`` may be
KINDS = ("T_c(inf)", "T*(L)")


@dataclass(frozen=True)
class TcEstimate:
    """A critical-temperature estimate with its errors, each stated.

    Parameters
    ----------
    method : str
        How it was obtained, in words (e.g. ``"network output, crossings of 1/2 on block-spin lattices, FSS"``).
    kind : str
        "T_c(inf)": extrapolated critical temperature, or "T*(L)": pseudo-critical temperature of the finite
        ``sizes``.
    value : float
        The estimate (J/k_B); NaN when there is none (``failure`` says why).
    stat : float
        Statistical standard error (J/k_B); ``stat_source`` says what it contains.
    stat_source : str
        E.g. ``"SD / sqrt(n) over 5 independent replicas of the whole pipeline"``.
    sys : float, default 0
        Systematic error (J/k_B), e.g. the change under the next correction to scaling.
    sys_source : str, default ""
        What ``sys`` contains ("" when it is 0 because nothing was assessed: then say so in ``stat_source``).
    sizes : tuple of int
        Lattice sizes that entered.
    n_replicas : int, default 1
        Independent replicas (or bootstrap replicates) the statistical error comes from.
    n_failed : int, default 0
        Of those, how many gave no estimate (no crossing) and were left out.
    dof : int or None
        Degrees of freedom of ``stat`` (replicas - 1): intervals use Student's t; None: normal.
    failure : str, default ""
        Why there is no value ("no crossing: ..."); empty when there is one.
    extra : dict
        Further numbers of the method (e.g. ``nu``, ``U4_at_crossing``), JSON-serialisable.
    """

    method: str
    kind: str
    value: float
    stat: float
    stat_source: str
    sys: float = 0.0
    sys_source: str = ""
    sizes: tuple = ()
    n_replicas: int = 1
    n_failed: int = 0
    dof: int | None = None
    failure: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"The 'kind' parameter must be one of {KINDS}. Got {self.kind!r} instead.")

    @classmethod
    def none(cls, method: str, kind: str, failure: str, **fields) -> "TcEstimate":
        """An estimate that does not exist: NaN value and errors, ``failure`` saying why.

        Parameters
        ----------
        method : str
            How it was to be obtained, in words.
        kind : str
            "T_c(inf)" or "T*(L)".
        failure : str
            Why there is no value.
        **fields
            Further fields of :class:`TcEstimate` (e.g. ``sizes``, ``n_replicas``).

        Returns
        -------
        TcEstimate
            With NaN value, stat and sys.
        """
        return cls(method=method, kind=kind, value=math.nan, stat=math.nan, stat_source="", sys=math.nan,
                   failure=failure, **fields)

    @property
    def ok(self) -> bool:
        """Whether there is a finite value."""
        return math.isfinite(self.value)

    @property
    def error(self) -> float:
        """Combined standard error ``sqrt(stat^2 + sys^2)`` (J/k_B)."""
        return math.hypot(self.stat, self.sys)

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """Central interval of probability ``level``: ``value ± sqrt((q_t stat)^2 + (q_z sys)^2)``, with q_t the
        quantile of Student's t (``dof`` degrees of freedom; normal when None) and q_z the normal one.

        Parameters
        ----------
        level : float, default 0.95
            Probability of the interval, in (0, 1).

        Returns
        -------
        tuple of float
            (low, high), J/k_B.
        """
        q = 0.5 + level / 2
        q_stat = student_t.ppf(q, self.dof) if self.dof else norm.ppf(q)
        half = math.hypot(q_stat * self.stat, norm.ppf(q) * self.sys)
        return self.value - half, self.value + half

    def covers(self, exact: float, level: float | None = None) -> bool:
        """Whether a value lies within the combined 1σ error or an interval.

        Parameters
        ----------
        exact : float
            The reference value (J/k_B).
        level : float or None, default None
            None: the combined 1σ error; else the probability of the interval (see :meth:`interval`).

        Returns
        -------
        bool
            False when there is no estimate.
        """
        if not self.ok:
            return False
        if level is None:
            return abs(self.value - exact) <= self.error
        low, high = self.interval(level)
        return low <= exact <= high

    def describe(self, exact: float | None = None) -> str:
        """One line for logs: ``T_c(inf) = 2.2690 ± 0.0020 (stat) ± 0.0010 (sys), 95 % interval [a, b] [method]``;
        with ``exact``, the deviation in units of the combined error (only for ``T_c(inf)``: a pseudo-critical point
        is not T_c).

        Parameters
        ----------
        exact : float or None, default None
            The exact value (J/k_B) to compare with.

        Returns
        -------
        str
            The line.
        """
        if not self.ok:
            return f"{self.kind}: no estimate ({self.failure}) [{self.method}]"
        text = f"{self.kind} = {self.value:.4f} ± {self.stat:.4f} (stat)"
        if self.sys and math.isfinite(self.sys):
            text += f" ± {self.sys:.4f} (sys)"
        elif not math.isfinite(self.sys):
            text += " (systematic error not assessed)"
        if self.n_failed:
            text += f", {self.n_failed} of {self.n_replicas} replicas without a crossing"
        if math.isfinite(self.error) and self.error > 0:
            low, high = self.interval(0.95)
            text += f", 95 % interval [{low:.4f}, {high:.4f}]"
        if exact is not None and self.kind == "T_c(inf)" and self.error > 0:
            text += f"; exact {exact:.4f}, {abs(self.value - exact) / self.error:.1f} combined σ off"
        return f"{text} [{self.method}]"

    def as_dict(self) -> dict:
        """Flat, JSON-friendly: value, stat, sys, error, ci95_low/high, and the descriptions."""
        low, high = self.interval(0.95) if self.ok else (math.nan, math.nan)
        return {"value": self.value, "stat": self.stat, "sys": self.sys, "error": self.error if self.ok else math.nan,
                "ci95_low": low, "ci95_high": high, "kind": self.kind, "method": self.method,
                "stat_source": self.stat_source, "sys_source": self.sys_source, "sizes": list(self.sizes),
                "n_replicas": self.n_replicas, "n_failed": self.n_failed, "no_estimate": not self.ok,
                "failure": self.failure, **self.extra}
