"""Magpie-style composition descriptors (Ward et al., npj Comput. Mater. 2, 16028 (2016)).

For every element property x (the 22 columns of ``data/elements.csv``) and every composition with atomic
fractions f_i, six statistics over the elements i present (f_i > 0):

=========  ==========================================================================================
minimum    min_i x_i
maximum    max_i x_i
range      max_i x_i - min_i x_i
mean       fraction-weighted mean, mu = sum_i f_i x_i
avg_dev    average absolute deviation, sum_i f_i |x_i - mu|
mode       x of the element with the largest fraction; ties (fractions equal within a relative 1e-9)
           go to the smallest x among the tied elements, as in matminer's ``PropertyStats.mode``
=========  ==========================================================================================

Feature names follow matminer: ``"MagpieData mean Electronegativity"``; order: property-major, the
statistics in the order above (132 features for the full set). Optionally the element-fraction vector is
appended (103 columns ``"frac H"`` .. ``"frac Lr"``).

**Missing values** (He, Ne, Ar, Rn have no electronegativity, He and Fr no melting point, At-Fr no space group,
some actinides no covalent radius). ``missing="ignore"`` (default): an element without a value is left out of
that property's statistics and the fractions of the other elements are renormalised to sum to 1; only when no
element of the composition has a value are that property's six features NaN. ``missing="nan"``: a property's
features are NaN as soon as one element lacks the value. NaNs are left for the model pipeline to impute
(``physics.materials.evaluation`` fills them with the training-fold column mean, so no test row leaks in).

Everything is vectorised: compositions become padded arrays ``index (n, k)`` / ``fraction (n, k)`` with k the
largest number of elements in one composition, so the statistics are a few array reductions over (n, k, p).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence, Union

import numpy as np

from physics.materials.composition import Composition, parse_formula
from physics.materials.elements import ELEMENT_SYMBOLS, MAGPIE_PROPERTIES, element_index, element_table

STATISTICS: tuple[str, ...] = ("minimum", "maximum", "range", "mean", "avg_dev", "mode")
MISSING_POLICIES = ("ignore", "nan")
_TIE_RTOL = 1e-9  # fractions equal to this relative precision count as a tie for the mode

CompositionLike = Union[str, Composition, Mapping[str, float]]


@dataclass(frozen=True)
class Features:
    """A descriptor matrix and its column names.

    Attributes
    ----------
    values : ndarray of float64
        Shape (n_compositions, n_features); NaN where a value is missing.
    names : tuple of str
        Length n_features; the column names.
    """

    values: np.ndarray
    names: tuple[str, ...]


def as_composition(item: CompositionLike) -> Composition:
    """A :class:`Composition` from a formula string, a Composition, or a mapping element -> amount.

    Parameters
    ----------
    item : str or Composition or Mapping
        A formula, a :class:`Composition` (returned as is), or a mapping element symbol -> amount
        (amounts finite, >= 0, positive total).

    Returns
    -------
    composition : Composition
        The parsed composition.
    """
    if isinstance(item, Composition):
        return item
    if isinstance(item, str):
        return parse_formula(item)
    if isinstance(item, Mapping):
        amounts = {}
        for symbol, amount in item.items():
            element_index(symbol)
            amount = float(amount)
            if not np.isfinite(amount) or amount < 0:
                raise ValueError(f"Amounts must be finite and >= 0. Got {symbol}: {amount} in {dict(item)!r}.")
            if amount > 0:
                amounts[symbol] = amount
        if not amounts:
            raise ValueError(f"A composition needs a positive total amount. Got {dict(item)!r}.")
        return Composition(formula=str(dict(item)), amounts=amounts)
    raise TypeError(
        f"A composition must be a formula str, a Composition or a mapping element -> amount. "
        f"Got {type(item).__name__} instead."
    )


def padded_fractions(compositions: Iterable[CompositionLike]) -> tuple[np.ndarray, np.ndarray]:
    """Element indices and atomic fractions of each composition, padded to the longest one.

    Parameters
    ----------
    compositions : iterable of str or Composition or Mapping
        Length n.  Formula strings, :class:`Composition` objects or mappings element -> amount.

    Returns
    -------
    index : ndarray of int64
        Shape (n, k).  Element index (Z - 1); 0 in padding slots.
    fraction : ndarray of float64
        Shape (n, k).  Atomic fractions (each row sums to 1); 0 in padding slots.
    """
    parsed = [as_composition(item).fractions for item in compositions]
    if not parsed:
        raise ValueError("Expected at least one composition. Got an empty sequence.")
    width = max(len(fractions) for fractions in parsed)
    index = np.zeros((len(parsed), width), dtype=np.int64)  # (n, k)
    fraction = np.zeros((len(parsed), width), dtype=np.float64)  # (n, k)
    for row, fractions in enumerate(parsed):
        index[row, : len(fractions)] = [element_index(symbol) for symbol in fractions]
        fraction[row, : len(fractions)] = list(fractions.values())
    return index, fraction


def fraction_matrix(compositions: Iterable[CompositionLike]) -> np.ndarray:
    """Element-fraction vectors, columns H..Lr, rows sum to 1.

    Parameters
    ----------
    compositions : iterable of str or Composition or Mapping
        Length n.  Formula strings, :class:`Composition` objects or mappings element -> amount.

    Returns
    -------
    matrix : ndarray of float64
        Shape (n, 103); column ``Z - 1`` is the atomic fraction of element ``Z``.
    """
    index, fraction = padded_fractions(compositions)
    matrix = np.zeros((index.shape[0], len(ELEMENT_SYMBOLS)))  # (n, 103)
    rows = np.broadcast_to(np.arange(index.shape[0])[:, None], index.shape)
    np.add.at(matrix, (rows, index), fraction)  # padding slots add 0 to column 0
    return matrix


def feature_names(
    properties: Sequence[str] = MAGPIE_PROPERTIES,
    statistics: Sequence[str] = STATISTICS,
    element_fractions: bool = False,
) -> tuple[str, ...]:
    """Names of the columns :func:`magpie_features` returns, in the same order.

    Parameters
    ----------
    properties : sequence of str
        Element properties (columns of ``data/elements.csv``); default all 22.
    statistics : sequence of str
        Subset of :data:`STATISTICS`; default all six.
    element_fractions : bool
        Whether the 103 ``frac <symbol>`` columns are appended.

    Returns
    -------
    names : tuple of str
        ``"MagpieData <statistic> <property>"`` (property-major), then ``"frac <symbol>"`` if asked.
    """
    names = [f"MagpieData {stat} {prop}" for prop in properties for stat in statistics]
    if element_fractions:
        names += [f"frac {symbol}" for symbol in ELEMENT_SYMBOLS]
    return tuple(names)


def magpie_features(
    compositions: Iterable[CompositionLike],
    *,
    properties: Sequence[str] = MAGPIE_PROPERTIES,
    statistics: Sequence[str] = STATISTICS,
    missing: str = "ignore",
    element_fractions: bool = False,
) -> Features:
    """Magpie descriptors of many compositions at once.

    Parameters
    ----------
    compositions : iterable of str or Composition or Mapping
        Length n.  Formula strings, :class:`Composition` objects or mappings element -> amount.
    properties : sequence of str
        Element properties to use (names of ``data/elements.csv`` columns); default all 22.
    statistics : sequence of str
        Non-empty subset of :data:`STATISTICS`; default all six.
    missing : {"ignore", "nan"}
        The missing-value policy (module docstring).
    element_fractions : bool
        Whether to append the 103 atomic fractions H..Lr.

    Returns
    -------
    features : Features
        ``values`` of shape (n, len(properties) * len(statistics) [+ 103]) and the column ``names``.
    """
    if missing not in MISSING_POLICIES:
        raise ValueError(f"The 'missing' parameter must be one of {MISSING_POLICIES}. Got {missing!r} instead.")
    unknown = [stat for stat in statistics if stat not in STATISTICS]
    if unknown or not statistics:
        raise ValueError(f"The 'statistics' parameter must be a non-empty subset of {STATISTICS}. Got {list(statistics)!r}.")
    table = element_table()
    columns = [table.properties.index(prop) if prop in table.properties else -1 for prop in properties]
    if -1 in columns or not columns:
        raise ValueError(f"The 'properties' parameter must be a non-empty subset of {table.properties}. Got {list(properties)!r}.")
    compositions = list(compositions)
    index, fraction = padded_fractions(compositions)
    stats = property_statistics(index, fraction, table.values[:, columns], missing=missing)  # (n, p, 6)
    chosen = [STATISTICS.index(stat) for stat in statistics]
    values = stats[:, :, chosen].reshape(index.shape[0], -1)  # (n, p * s), property-major
    if element_fractions:
        values = np.hstack([values, fraction_matrix(compositions)])
    return Features(values=values, names=feature_names(properties, statistics, element_fractions))


def property_statistics(index: np.ndarray, fraction: np.ndarray, table: np.ndarray, *, missing: str = "ignore") -> np.ndarray:
    """The six statistics of every property for padded compositions.

    Parameters
    ----------
    index : ndarray of int64
        Shape (n, k).  Element indices from :func:`padded_fractions`.
    fraction : ndarray of float64
        Shape (n, k).  Atomic fractions from :func:`padded_fractions`.
    table : ndarray of float64
        Shape (n_elements, p).  Property values per element (NaN = missing).
    missing : {"ignore", "nan"}
        The missing-value policy (module docstring).

    Returns
    -------
    stats : ndarray of float64
        Shape (n, p, 6).  Statistics in the order of :data:`STATISTICS`.
    """
    values = table[index]  # (n, k, p)
    present = (fraction > 0)[:, :, None]  # (n, k, 1)
    known = present & ~np.isnan(values)  # (n, k, p)
    weight = np.where(known, fraction[:, :, None], 0.0)  # (n, k, p)
    total = weight.sum(axis=1)  # (n, p)
    usable = total > 0
    if missing == "nan":
        usable &= ~(present & np.isnan(values)).any(axis=1)
    total = np.where(usable, total, 1.0)
    filled = np.where(known, values, 0.0)  # (n, k, p)
    mean = (weight * filled).sum(axis=1) / total  # (n, p)
    avg_dev = (weight * np.abs(filled - mean[:, None, :])).sum(axis=1) / total
    minimum = np.where(known, values, np.inf).min(axis=1)
    maximum = np.where(known, values, -np.inf).max(axis=1)
    largest = np.where(known, fraction[:, :, None], -1.0).max(axis=1)  # (n, p)
    tied = known & (fraction[:, :, None] >= largest[:, None, :] * (1.0 - _TIE_RTOL))
    mode = np.where(tied, values, np.inf).min(axis=1)
    stats = np.stack([minimum, maximum, maximum - minimum, mean, avg_dev, mode], axis=-1)  # (n, p, 6)
    stats[~usable] = np.nan
    return stats
