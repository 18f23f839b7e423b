"""Chemical-formula parser: ``"Ag(AuS)2"``, ``"Fe0.620C0.000953Mn0.000521"``, ``"CuSO4·5H2O"`` -> amounts.

Grammar (whitespace between tokens is ignored, Unicode subscript digits are read as digits)::

    formula  := part (SEP part)*
    part     := [number] unit+            # a leading number multiplies the part (hydrates: 5H2O)
    unit     := Element [number] | OPEN formula CLOSE [number]
    OPEN     := "(" | "[" | "{"          # each closed by its own partner
    number   := 12 | 0.5 | .5 | 6.16e-05  # non-negative decimal, optional exponent

Only the first part may not start with a number (``"2H2O"`` is rejected: write ``"H4O2"`` or ``"(H2O)2"``).

The hydrate separators are ``·`` (U+00B7), ``•``, ``∙``, ``⋅``, ``*`` and, by the rule below, the ASCII ``.``.
**Decimal point or hydrate dot?** An ASCII ``.`` is read as a hydrate separator when

1. it is followed by an optional integer and the water formula ``H2O`` that ends the part, and it does not
   follow a number whose integer part is 0 (``"CuSO4.5H2O"`` = ``"CuSO4·5H2O"``, ``"CaSO4.H2O"``,
   but ``"Cu0.5H2O"`` is Cu 0.5, H 2, O 1), or
2. it is not followed by a digit, so it cannot be a decimal point (``"KCl.MgCl2"``);

otherwise it is a decimal point (``"Fe0.5Ni0.5"``, ``"Al2.5Fe"``, ``"Fe.5Ni.5"``). So ``"Cu1.5H2O"`` reads as
``Cu·5H2O``: write hydrates with ``·`` or ``*``, and put such decimals in brackets (``"Cu1.5(H2O)"``), whenever
a formula could be read both ways.

Errors are ``ValueError`` naming the formula, the position (0-based index into the string) and the reason:
unknown element, unbalanced or mismatched brackets, brackets nested deeper than :data:`MAX_NESTING`, a number
where an element is expected, a minus sign (negative amounts), an amount that is not a finite number
(``Fe1e400``) or that underflows to 0 (``Fe1e-400``), amounts whose products or sum overflow, an empty formula
or part, a total amount of zero. (An amount written as 0 drops its element: ``Fe0Ni1`` is ``Ni``.)
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping

from physics.materials.elements import is_element

#: deepest bracket nesting accepted (real formulas use 2-3 levels; each level costs two stack frames)
MAX_NESTING = 32
#: formulas up to this length are cached (a cache of long formulas could hold gigabytes)
_CACHED_LENGTH = 256

_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"\d+")
_WATER_AFTER_DOT = re.compile(r"\.\d*H2O(?=$|[\s)\]}·•∙⋅*.])")
_SEPARATORS = frozenset("·•∙⋅*")
_CLOSING = {"(": ")", "[": "]", "{": "}"}
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


@dataclass(frozen=True)
class Composition:
    """A parsed formula.

    Attributes
    ----------
    formula : str, the text as given.
    amounts : mapping element -> amount (atoms per formula unit, summed over repeats), in order of first
        appearance; elements whose total amount is zero are left out.
    """

    formula: str
    amounts: Mapping[str, float]

    @property
    def elements(self) -> tuple[str, ...]:
        """Element symbols in order of first appearance."""
        return tuple(self.amounts)

    @property
    def fractions(self) -> dict[str, float]:
        """Atomic fractions, element -> amount / total amount (they sum to 1)."""
        total = sum(self.amounts.values())
        return {element: amount / total for element, amount in self.amounts.items()}

    @property
    def chemical_system(self) -> str:
        """Elements sorted alphabetically and joined by '-', e.g. ``"Fe-Ni"`` (the group for grouped CV)."""
        return chemical_system(self.amounts)


def chemical_system(elements) -> str:
    """``"A-B-..."`` with the element symbols sorted alphabetically (``["Ni", "Fe"]`` -> ``"Fe-Ni"``).

    Parameters
    ----------
    elements : iterable of str
        Element symbols (a mapping contributes its keys).

    Returns
    -------
    system : str
        The sorted symbols joined by ``"-"``.
    """
    return "-".join(sorted(elements))


def parse_formula(formula: str) -> Composition:
    """Parse a chemical formula into element amounts (see the module docstring for the grammar).

    Parameters
    ----------
    formula : str
        Chemical formula, e.g. ``"Fe2O3"``, ``"Ag(AuS)2"``, ``"CuSO4·5H2O"``, ``"Fe0.620C0.000953Mn0.000521"``.

    Returns
    -------
    composition : Composition
        With ``amounts`` (raw) and ``fractions`` (normalised).

    Raises
    ------
    TypeError
        If ``formula`` is not a string.
    ValueError
        Naming the formula and position, if it cannot be read.

    Examples
    --------
    >>> composition = parse_formula("CuSO4·5H2O")
    >>> {element: round(fraction, 4) for element, fraction in composition.fractions.items()}
    {'Cu': 0.0476, 'S': 0.0476, 'O': 0.4286, 'H': 0.4762}
    """
    if not isinstance(formula, str):
        raise TypeError(f"A formula must be a str. Got {type(formula).__name__} ({formula!r}) instead.")
    return _parse_cached(formula) if len(formula) <= _CACHED_LENGTH else _parse(formula)


def _parse(formula: str) -> Composition:
    parser = _Parser(formula)
    amounts = parser.parse()
    overflow = [element for element, amount in amounts.items() if not math.isfinite(amount)]
    if overflow or not math.isfinite(sum(amounts.values())):
        raise ValueError(f"Cannot parse formula {_shown(formula)}: the amounts overflow"
                         f"{f' (the amount of {overflow[0]} is not finite)' if overflow else ' when summed'}.")
    amounts = {element: amount for element, amount in amounts.items() if amount > 0.0}
    if not amounts:
        raise ValueError(f"Cannot parse formula {_shown(formula)}: the total amount of all elements is zero.")
    return Composition(formula=formula, amounts=MappingProxyType(amounts))


_parse_cached = lru_cache(maxsize=65536)(_parse)


class _Parser:
    """Recursive-descent parser over one formula string; ``pos`` is the index of the next character."""

    def __init__(self, formula: str):
        self.formula = formula
        self.text = formula.translate(_SUBSCRIPTS)
        self.pos = 0
        self.depth = 0  # brackets open at pos

    def fail(self, reason: str, pos: int | None = None) -> ValueError:
        at = self.pos if pos is None else pos
        return ValueError(f"Cannot parse formula {_shown(self.formula)} at position {at}: {reason}.")

    def parse(self) -> dict[str, float]:
        self.skip_space()
        if self.pos == len(self.text):
            raise ValueError(f"Cannot parse formula {_shown(self.formula)}: the formula is empty.")
        amounts = self.parse_formula(closing=None)
        if self.pos != len(self.text):
            raise self.fail(f"unbalanced {self.text[self.pos]!r} with no opening bracket")
        return amounts

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def at_separator(self) -> bool:
        """Is the character at ``pos`` a hydrate separator (see the module docstring for the '.' rule)?"""
        char = self.text[self.pos]
        if char in _SEPARATORS:
            return True
        if char != ".":
            return False
        nxt = self.text[self.pos + 1] if self.pos + 1 < len(self.text) else ""
        return not nxt.isdigit() or _WATER_AFTER_DOT.match(self.text, self.pos) is not None

    def parse_formula(self, closing: str | None) -> dict[str, float]:
        """``part (SEP part)*`` up to ``closing`` (not consumed) or the end of the text."""
        total = self.parse_part(closing, first=True)
        while self.pos < len(self.text) and self.at_separator():
            self.pos += 1
            _add(total, self.parse_part(closing, first=False))
        return total

    def parse_part(self, closing: str | None, first: bool) -> dict[str, float]:
        """``[number] unit+``: stops at a separator, a closing bracket or the end."""
        self.skip_space()
        coefficient = 1.0
        if not first:
            match = _NUMBER.match(self.text, self.pos)
            if match:
                coefficient = self.read_number(match)
                self.skip_space()
        amounts: dict[str, float] = {}
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == closing or self.at_separator():
                break
            if char in _CLOSING:
                opened_at = self.pos
                if self.depth == MAX_NESTING:
                    raise self.fail(f"brackets nested deeper than {MAX_NESTING} levels")
                self.pos += 1
                self.depth += 1
                inner = self.parse_formula(closing=_CLOSING[char])
                self.depth -= 1
                if self.pos >= len(self.text):
                    raise self.fail(f"unbalanced {char!r}: no closing {_CLOSING[char]!r}", pos=opened_at)
                self.pos += 1
                _add(amounts, inner, self.parse_amount())
            elif char in ")]}":
                raise self.fail(
                    f"unbalanced {char!r}" if closing is None else f"mismatched bracket: expected {closing!r}, got {char!r}"
                )
            elif char.isupper():
                symbol = self.read_symbol()
                amounts[symbol] = amounts.get(symbol, 0.0) + self.parse_amount()
            elif char == "-":
                raise self.fail("negative amounts are not allowed ('-')")
            elif char.isdigit() or char == ".":
                raise self.fail(f"a number must follow an element symbol or a closing bracket, got {char!r}")
            elif char.isspace():
                self.skip_space()
                continue
            else:
                raise self.fail(f"unexpected character {char!r}")
            self.skip_space()
        if not amounts:
            raise self.fail("expected an element symbol or an opening bracket" + (" after the separator" if not first else ""))
        if coefficient != 1.0:
            amounts = {element: coefficient * amount for element, amount in amounts.items()}
        return amounts

    def read_symbol(self) -> str:
        start = self.pos
        two = self.text[start:start + 2]
        if len(two) == 2 and two[1].islower():
            if is_element(two):
                self.pos += 2
                return two
            raise self.fail(f"unknown element {two!r} (known: H..Lr, Z = 1-103)")
        one = self.text[start]
        if not is_element(one):
            raise self.fail(f"unknown element {one!r} (known: H..Lr, Z = 1-103)")
        self.pos += 1
        return one

    def parse_amount(self) -> float:
        """The number after an element or closing bracket (1 when there is none)."""
        match = _NUMBER.match(self.text, self.pos)
        if match is None:
            if self.pos < len(self.text) and self.text[self.pos] == "-":
                raise self.fail("negative amounts are not allowed ('-')")
            return 1.0
        dot = self.text.find(".", match.start(), match.end())
        if dot >= 0:
            self.pos = dot
            integer = _INTEGER.match(self.text, match.start(), dot)
            if self.at_separator() and (integer is None or float(integer.group()) > 0):
                # the '.' is a hydrate dot: the amount is the integer before it (1 when there is none)
                self.pos = match.start()
                return self.read_number(integer) if integer else 1.0
            self.pos = match.start()
        return self.read_number(match)

    def read_number(self, match: re.Match) -> float:
        """The number matched, finite, and 0 only when written as 0."""
        text = match.group()
        value = float(text)
        if not math.isfinite(value):
            raise self.fail(f"the amount {text!r} is not a finite number", pos=match.start())
        if value == 0.0 and any(digit in "123456789" for digit in text.split("e")[0].split("E")[0]):
            raise self.fail(f"the amount {text!r} underflows to 0", pos=match.start())
        self.pos = match.end()
        return value


def _shown(formula: str) -> str:
    """``repr(formula)``, shortened in the middle beyond 100 characters (error messages list many rows)."""
    if len(formula) <= 100:
        return repr(formula)
    return f"{formula[:60] + '...' + formula[-20:]!r} ({len(formula)} characters)"


def _add(total: dict[str, float], amounts: Mapping[str, float], factor: float = 1.0) -> None:
    for element, amount in amounts.items():
        total[element] = total.get(element, 0.0) + factor * amount
