"""The parameter checks of :mod:`core`, and its one error type for a bad parameter.

Every check raises :class:`InvalidParameterError` (a ``ValueError`` and a ``TypeError``, as in scikit-learn) with
a message in scikit-learn's template::

    The 'alpha' parameter of NetClassifier must be a float in [0, inf). Got -1 instead.

The constraint classes (:class:`Interval`, :class:`Options`, :class:`Boolean`, ...) describe one admissible kind
of value each; :func:`check_params` checks a dict of parameters against a dict of constraint lists (what the
scikit-learn estimators declare in ``_parameter_constraints``). The plain functions (:func:`check_number`,
:func:`check_choice`, ...) are the one-constraint shortcuts used by the layers, optimizers and training loop.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "InvalidParameterError",
    "Interval",
    "Options",
    "Boolean",
    "InstanceOf",
    "Seed",
    "check_params",
    "check_number",
    "check_positive_int",
    "check_bool",
    "check_choice",
    "check_dtype",
    "is_real",
    "as_generator",
]

DTYPES = ("float32", "float64")


class InvalidParameterError(ValueError, TypeError):
    """A parameter has the wrong type or a value outside its admissible set (like scikit-learn's error of the
    same name: it is both a ``ValueError`` and a ``TypeError``, so either ``except`` catches it)."""


def _subject(name: str, owner: str | None) -> str:
    return f"The '{name}' parameter" + (f" of {owner}" if owner else "")


def _fail(name, owner, expected: str, value):
    """The error for ``value`` of parameter ``name``: "... must be <expected>. Got <value!r> instead."."""
    return InvalidParameterError(f"{_subject(name, owner)} must be {expected}. Got {value!r} instead.")


def is_real(value) -> bool:
    """True for a finite real number (Python or numpy int/float), False for bools, NaN, inf and the rest."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and math.isfinite(value)


class Interval:
    """Real (or integral) numbers in an interval; bools are never numbers here.

    Parameters
    ----------
    low, high : float or None
        Bounds; None means unbounded on that side.
    low_closed, high_closed : bool
        Whether the bound belongs to the interval.
    integer : bool
        Require an integer (``numbers.Integral``: int or a numpy integer; 2.0 is refused).
    """

    def __init__(self, low=None, high=None, *, low_closed=True, high_closed=True, integer=False):
        self.low, self.high, self.low_closed, self.high_closed = low, high, low_closed, high_closed
        self.integer = integer

    def is_satisfied_by(self, value) -> bool:
        wanted = numbers.Integral if self.integer else numbers.Real
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, wanted):
            return False
        if not isinstance(value, numbers.Integral):  # (a huge Python int would overflow math.isnan)
            if math.isnan(value) or (math.isinf(value) and (self.low if value < 0 else self.high) is None):
                return False  # NaN, or the open end of "[0, inf)"
        if self.low is not None and (value < self.low or (value == self.low and not self.low_closed)):
            return False
        return self.high is None or not (value > self.high or (value == self.high and not self.high_closed))

    def __str__(self) -> str:
        left = ("[" if self.low_closed and self.low is not None else "(") + (
            "-inf" if self.low is None else f"{self.low:g}")
        right = ("inf" if self.high is None else f"{self.high:g}") + (
            "]" if self.high_closed and self.high is not None else ")")
        return f"{'an int' if self.integer else 'a float'} in {left}, {right}"


class Options:
    """One of a fixed set of values (compared with ``==``; a bool never equals a non-bool option)."""

    def __init__(self, choices):
        self.choices = tuple(choices)

    def is_satisfied_by(self, value) -> bool:
        return any(_same(value, choice) for choice in self.choices)

    def __str__(self) -> str:
        return "one of " + ", ".join(map(repr, self.choices))


def _same(value, choice) -> bool:
    if isinstance(value, (bool, np.bool_)) != isinstance(choice, (bool, np.bool_)):
        return False
    if value is None or choice is None:
        return value is choice
    try:
        return bool(value == choice)
    except (TypeError, ValueError):  # e.g. an array compared with a string
        return False


class Boolean:
    """A Python or numpy bool."""

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, (bool, np.bool_))

    def __str__(self) -> str:
        return "a bool"


class InstanceOf:
    """An instance of ``types``, described as ``description`` (e.g. "a dict", "a str")."""

    def __init__(self, types, description: str):
        self.types, self.description = types, description

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, self.types)

    def __str__(self) -> str:
        return self.description


class Seed:
    """What :func:`as_generator` accepts: None, an int >= 0, a SeedSequence, a Generator or a RandomState."""

    def is_satisfied_by(self, value) -> bool:
        if value is None or isinstance(value, (np.random.Generator, np.random.RandomState, np.random.SeedSequence)):
            return True
        return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and value >= 0

    def __str__(self) -> str:
        return ("None, an int in [0, inf), a numpy SeedSequence, a numpy Generator or a numpy RandomState "
                "(legacy; a seed is drawn from it)")


def _describe(constraints) -> str:
    names = ["None" if c is None else str(c) for c in constraints]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def check_params(params: dict, constraints: dict, owner: str) -> None:
    """Check every ``params[name]`` against ``constraints[name]``, a list of admissible kinds (``None`` = the
    value None); raise :class:`InvalidParameterError` for the first one that fits none of them.

    Parameters
    ----------
    params : dict, parameter name -> value (e.g. ``estimator.get_params(deep=False)``).
    constraints : dict, parameter name -> list of constraint objects (``is_satisfied_by(value)`` and ``str``) or
        None. Parameters without an entry are not checked.
    owner : str, the class or function the parameters belong to, used in the message.
    """
    for name, allowed in constraints.items():
        if name not in params:
            continue
        value = params[name]
        if not any(value is None if c is None else c.is_satisfied_by(value) for c in allowed):
            raise _fail(name, owner, _describe(allowed), value)


def check_number(value, name, owner, *, low=None, high=None, low_closed=True, high_closed=True, integer=False):
    """Return ``value`` if it is a real (or integral) number inside the interval, else raise.

    Parameters
    ----------
    value : object, the argument to check.
    name : str, the argument's name, used in the message.
    owner : str or None, the class or function the argument belongs to, used in the message.
    low, high : float or None, interval bounds (None = unbounded).
    low_closed, high_closed : bool, whether the bounds belong to the interval.
    integer : bool, require an integer (bool is rejected in both cases).

    Raises
    ------
    InvalidParameterError for a wrong type, NaN or a value outside the interval:
    "The 'alpha' parameter of NetClassifier must be a float in [0, inf). Got -1 instead."
    """
    interval = Interval(low, high, low_closed=low_closed, high_closed=high_closed, integer=integer)
    if not interval.is_satisfied_by(value):
        raise _fail(name, owner, str(interval), value)
    return value


def check_positive_int(value, name: str, owner: str | None) -> int:
    """Return ``value`` as int if it is an integer >= 1 (not a bool), else raise InvalidParameterError."""
    return int(check_number(value, name, owner, low=1, integer=True))


def check_bool(value, name: str, owner: str | None) -> bool:
    """Return ``value`` as bool if it is a Python or numpy bool, else raise InvalidParameterError."""
    if not isinstance(value, (bool, np.bool_)):
        raise _fail(name, owner, "a bool", value)
    return bool(value)


def check_choice(value, name: str, owner: str | None, choices):
    """Return ``value`` if it is one of ``choices`` (an iterable; a dict gives its keys), else raise
    InvalidParameterError: "The 'optimizer' parameter of fit must be one of 'adam', 'sgd'. Got 'x' instead."."""
    options = Options(choices)
    if not options.is_satisfied_by(value):
        raise _fail(name, owner, str(options), value)
    return value


def check_dtype(dtype, name: str = "dtype", owner: str | None = None) -> np.dtype:
    """Return ``np.dtype(dtype)`` if it is float32 or float64 (given as a name, type or dtype), else raise
    InvalidParameterError."""
    resolved = None
    if dtype is not None:
        try:
            resolved = np.dtype(dtype)
        except (TypeError, ValueError):
            pass
    if resolved is None or resolved.name not in DTYPES:
        raise _fail(name, owner, "one of 'float32', 'float64'", dtype)
    return resolved


def as_generator(seed, name: str = "random_state", owner: str | None = None) -> np.random.Generator:
    """The one seed-to-Generator conversion of the project.

    Parameters
    ----------
    seed : None, int >= 0 (Python or numpy), numpy.random.SeedSequence, numpy.random.Generator or legacy
        numpy.random.RandomState. A Generator is returned as is (draws from it advance the caller's stream);
        a RandomState gives ``default_rng(seed.randint(2**31 - 1))`` (one draw from it); anything else is passed
        to ``np.random.default_rng`` (None: fresh OS entropy).
    name, owner : str, the parameter and its owner, named in the error message.

    Raises
    ------
    InvalidParameterError for anything else (bools, negative ints, floats, strings, ...).
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(np.iinfo(np.int32).max))
    if not Seed().is_satisfied_by(seed):
        raise _fail(name, owner, str(Seed()), seed)
    return np.random.default_rng(seed if seed is None or isinstance(seed, np.random.SeedSequence) else int(seed))
