"""Datasets of compositions and a target: generated from Miedema's model, or read from a CSV file.

Both give a :class:`MaterialsDataset` (no pandas): formula strings, the target array (numbers for regression,
str labels for classification), the chemical system of every sample ("Fe-Ni") for grouped cross-validation and,
when the file has one, a fixed train / val / test split.

CSV format (:func:`load_csv`): a header row, then one row per material; any delimiter the ``csv`` module
reads; one column holds a formula (anything :func:`physics.materials.composition.parse_formula` accepts) and
one the target: a number (``target_type="regression"``) or a class label (``target_type="classification"``);
optionally one column names each row's split (``split_column``). Other columns are ignored, so Matbench-style
files (``composition,e_form``) work as they are.
Rows whose formula cannot be parsed (including unknown elements, amounts that overflow, brackets nested too
deep), whose target is missing (or, for regression, not a number, not finite or beyond +-1e100,
:data:`MAX_ABS_TARGET`), whose split is missing, or that the csv module cannot split (a field longer than its
limit, 128 KiB; a stray NUL; bytes that are not UTF-8 become U+FFFD and fail the formula or target) are *bad
rows*: by default :func:`load_csv` raises one ``ValueError`` listing them with their line numbers; with
``skip_bad_rows=True`` it drops them and logs a warning with the same list. Two hints point at the usual
mistakes: a header that looks delimited by another character (``pass delimiter=';'``), and a regression target
column whose cells are mostly words (``pass target_type='classification'``).
:func:`estimate_csv_rows` sizes a file from its first MiB, before it is read.
"""
from __future__ import annotations

import csv
import gzip
import logging
import math
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core._validation import as_generator
from physics.materials.composition import chemical_system, parse_formula
from physics.materials.descriptors import Features, magpie_features
from physics.materials.miedema import GAMMA, formation_enthalpy, miedema_table

logger = logging.getLogger(__name__)

MAX_REPORTED_ROWS = 10
#: the largest |target| accepted: beyond it the squares of the target scaling overflow for large datasets
MAX_ABS_TARGET = 1e100
#: bytes read from the start of a CSV file by :func:`estimate_csv_rows`
SAMPLE_BYTES = 1 << 20
#: the values of ``load_csv(target_type=...)`` and of :attr:`MaterialsDataset.target_type`
TARGET_TYPES = ("regression", "classification")
#: characters that the delimiter hint of :func:`load_csv` looks for in a header that lacks a wanted column
DELIMITER_CANDIDATES = (";", "\t", "|", ",")
#: the regression hint "the column looks categorical" needs more than this fraction of rows failing only
#: because their target is not a number
CATEGORICAL_HINT_FRACTION = 0.5
_NOT_A_NUMBER = "is not a number"  # the end of the bad-row reason the categorical hint counts


@dataclass(frozen=True)
class BadRow:
    """One rejected CSV row: its 1-based line number (the header is line 1) and why.

    Parameters
    ----------
    line : int
        1-based line number in the file (the header is line 1).
    reason : str
        Why the row was rejected.
    """

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class MaterialsDataset:
    """Compositions with a target.

    Attributes
    ----------
    formulas : tuple of str
        Length n; one formula per sample.
    target : ndarray
        Shape (n,).  float64 numbers for regression, or str (or object array of str) class labels for
        classification (see :attr:`target_type`).
    groups : ndarray of str
        Shape (n,).  Chemical system of each sample ("Fe-Ni"), for grouped CV.
    target_name : str
        What the target is ("formation_enthalpy_ss" or the CSV column name).
    units : str
        Units of the target ("kJ/mol" for Miedema; "" when unknown or for class labels).
    source : str
        Where the data came from (generator parameters or the CSV path).
    line_numbers : ndarray of int or None
        Shape (n,).  CSV line of each sample; None for generated data.
    skipped : tuple of BadRow
        Rows dropped by ``load_csv(..., skip_bad_rows=True)``.
    split : ndarray of str or None
        Shape (n,).  The fixed split each sample belongs to ("train", "val", "test", as the file names
        them); None when the data has no fixed split.
    """

    formulas: tuple[str, ...]
    target: np.ndarray
    groups: np.ndarray
    target_name: str
    units: str = ""
    source: str = ""
    line_numbers: np.ndarray | None = None
    skipped: tuple[BadRow, ...] = field(default=())
    split: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.formulas)

    @property
    def target_type(self) -> str:
        """``"regression"`` when :attr:`target` is a float array, ``"classification"`` when it is a str (or
        object) array of class labels. Raises ``ValueError`` for any other dtype (ints, bools: make them float
        numbers or str labels)."""
        kind = np.asarray(self.target).dtype.kind
        if kind == "f":
            return "regression"
        if kind in "UO":
            return "classification"
        raise ValueError(f"MaterialsDataset.target must be a float array (regression) or a str/object array of "
                         f"labels (classification), one of {TARGET_TYPES}. Got dtype {np.asarray(self.target).dtype}.")

    def features(self, **options) -> Features:
        """Magpie descriptors of the formulas.

        Parameters
        ----------
        **options
            Keyword arguments of :func:`~physics.materials.descriptors.magpie_features`.

        Returns
        -------
        features : Features
            One row per formula.
        """
        return magpie_features(self.formulas, **options)


def miedema_dataset(
    n_samples: int,
    seed: int | np.random.Generator,
    *,
    elements=None,
    structure: str = "ss",
    noise: float = 0.0,
    decimals: int = 3,
    volume_correction: bool = True,
    elastic: bool = False,
) -> MaterialsDataset:
    """Random binary alloys A_x B_(1-x) with their Miedema formation enthalpy (kJ/mol of atoms) as target.

    Each sample draws an unordered pair of distinct elements uniformly from ``elements`` and x uniformly from
    the grid {1, 2, ..., 10^decimals - 1} / 10^decimals, so the formula string ("Fe0.25Ni0.75", elements in
    alphabetical order) carries exactly the composition the target was computed for.

    Parameters
    ----------
    n_samples : int
        Number of alloys, >= 1.
    seed : int or numpy.random.Generator
        Every draw (pairs, x, noise) comes from it.
    elements : iterable of str or None
        The pool of element symbols (>= 2 elements of the Miedema table); None (default): the 66 metals
        whose reference state is metallic (``miedema_table().metals``).
    structure : {"ss", "amor", "inter", "liquid"}
        Structure of the alloy (see :mod:`physics.materials.miedema`).
    noise : float
        Standard deviation (kJ/mol) of Gaussian noise added to the target, >= 0.
    decimals : int
        Digits of the atomic fractions, in [1, 6].
    volume_correction : bool
        Passed to :func:`~physics.materials.miedema.formation_enthalpy`.
    elastic : bool
        Passed to :func:`~physics.materials.miedema.formation_enthalpy`.

    Returns
    -------
    dataset : MaterialsDataset
        Float64 target in kJ/mol, groups by chemical system, no line numbers and no split.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"The 'n_samples' parameter of miedema_dataset must be an int >= 1. Got {n_samples!r} instead.")
    if not isinstance(noise, (int, float)) or not math.isfinite(noise) or noise < 0:
        raise ValueError(f"The 'noise' parameter of miedema_dataset must be a float in [0, inf). Got {noise!r} instead.")
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)) or not 1 <= decimals <= 6:
        raise ValueError(f"The 'decimals' parameter of miedema_dataset must be an int in [1, 6]. Got {decimals!r} instead.")
    if structure not in GAMMA:
        raise ValueError(f"The 'structure' parameter of miedema_dataset must be one of {sorted(GAMMA)}. Got {structure!r} instead.")
    rng = _generator(seed)
    table = miedema_table()
    pool = np.array(sorted(set(table.metals if elements is None else elements)), dtype=object)
    table.index(pool)  # ValueError for elements without Miedema parameters
    if len(pool) < 2:
        raise ValueError(f"The 'elements' parameter of miedema_dataset needs >= 2 distinct elements. Got {list(pool)}.")
    first = rng.integers(0, len(pool), size=n_samples)
    second = rng.integers(0, len(pool) - 1, size=n_samples)
    second = second + (second >= first)  # a distinct partner, uniform over the others
    lo, hi = np.minimum(first, second), np.maximum(first, second)  # alphabetical order (pool is sorted)
    scale = 10 ** int(decimals)
    steps = rng.integers(1, scale, size=n_samples)  # x_A = steps / scale
    x_a = steps / scale
    target = formation_enthalpy(pool[lo], pool[hi], x_a, structure=structure,
                                volume_correction=volume_correction, elastic=elastic)
    if noise > 0:
        target = target + noise * rng.standard_normal(n_samples)
    formulas = tuple(
        f"{a}{_decimal(k, decimals)}{b}{_decimal(scale - k, decimals)}" for a, b, k in zip(pool[lo], pool[hi], steps)
    )
    groups = np.array([f"{a}-{b}" for a, b in zip(pool[lo], pool[hi])])
    source = (f"miedema_dataset(n_samples={n_samples}, structure={structure!r}, noise={noise}, "
              f"volume_correction={volume_correction}, elastic={elastic}, n_elements={len(pool)})")
    return MaterialsDataset(formulas=formulas, target=np.asarray(target, dtype=np.float64), groups=groups,
                            target_name=f"formation_enthalpy_{structure}", units="kJ/mol", source=source)


def load_csv(
    path: str | os.PathLike,
    composition_column: str = "composition",
    target_column: str = "target",
    *,
    skip_bad_rows: bool = False,
    delimiter: str = ",",
    split_column: str | None = None,
    target_type: str = "regression",
) -> MaterialsDataset:
    """Read compositions and a target from a CSV file (``.csv`` or gzip-compressed ``.csv.gz``).

    Parameters
    ----------
    path : str or os.PathLike
        The file (``.csv`` or ``.csv.gz``).
    composition_column : str
        Header name of the formula column.
    target_column : str
        Header name of the target column.
    skip_bad_rows : bool
        Whether to drop bad rows with a logged warning instead of raising.
    delimiter : str
        Field separator.
    split_column : str or None
        Header name of a column that names each row's split (any non-empty text, stripped, e.g.
        "train", "val", "test"), returned as :attr:`MaterialsDataset.split`; a row with an empty split cell is
        bad. None (default): no split is read and ``split`` is None.
    target_type : str
        One of :data:`TARGET_TYPES`. "regression" (default): the target is a finite number, the
        dataset's ``target`` is float64. "classification": the target cell, stripped, is a class label (any
        non-empty text; empty is a bad row), ``target`` is a str array, and the usable rows must hold at least
        2 distinct labels.

    Returns
    -------
    dataset : MaterialsDataset
        With ``target_name`` = ``target_column``, ``source`` = the path, ``line_numbers`` and ``skipped``
        filled, ``split`` as above, ``units`` "".

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If ``target_type`` is not one of
    :data:`TARGET_TYPES`, a column is missing (with the hint "the header looks delimited by ';': pass
    delimiter=';'" when splitting the header on another of :data:`DELIMITER_CANDIDATES` would find it), the file
    has no data rows, bad rows exist and ``skip_bad_rows`` is False (the message lists up to 10 with line
    numbers, and the count; for regression it adds "the column looks categorical: pass
    target_type='classification'" when more than half the rows fail only because their target is not a
    number), no good row is left, or a classification target has fewer than 2 distinct labels.
    """
    if target_type not in TARGET_TYPES:
        raise ValueError(f"The 'target_type' parameter of load_csv must be one of {TARGET_TYPES}. "
                         f"Got {target_type!r} instead.")
    classification = target_type == "classification"
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"CSV file not found: {str(path)!r}.")
    opener = gzip.open if path.suffix == ".gz" else open
    formulas, targets, groups, lines, splits, bad = [], [], [], [], [], []
    categorical = 0  # regression rows whose only fault is a target that is not a number
    previous_end = 0
    try:  # bytes that are not UTF-8 become U+FFFD: the row fails its formula or target check, with its line
        with opener(path, "rt", newline="", encoding="utf-8-sig", errors="replace") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            try:
                header = next(reader, None)
            except csv.Error as error:
                raise ValueError(f"CSV file {str(path)!r}: cannot read the header row ({error}).") from None
            if header is None:
                raise ValueError(f"CSV file {str(path)!r} is empty: expected a header row with columns "
                                 f"{composition_column!r} and {target_column!r}.")
            header = [name.strip() for name in header]
            wanted = [(composition_column, "composition_column"), (target_column, "target_column")]
            if split_column is not None:
                wanted.append((split_column, "split_column"))
            for name, role in wanted:
                if name not in header:
                    hint = _delimiter_hint(header, delimiter, [column for column, _ in wanted if column not in header])
                    raise ValueError(f"The {role} {name!r} is not a column of {str(path)!r}. Columns: "
                                     f"{_short(str(header))}{hint}.")
            ci, ti = header.index(composition_column), header.index(target_column)
            si = None if split_column is None else header.index(split_column)
            previous_end = reader.line_num
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as error:  # e.g. a field longer than csv.field_size_limit(): the row is bad
                    line, previous_end = previous_end + 1, reader.line_num
                    reason = (f"a field is longer than {csv.field_size_limit()} characters (the csv module's limit)"
                              if "field limit" in str(error) else f"the csv module cannot split the row ({error})")
                    bad.append(BadRow(line, reason))
                    continue
                line, previous_end = previous_end + 1, reader.line_num
                if not row or all(not cell.strip() for cell in row):
                    continue  # blank line
                problem = _row_problem(row, ci, ti, len(header), si=si, classification=classification)
                if problem is None:
                    try:
                        composition = parse_formula(row[ci].strip())
                    except ValueError as error:
                        problem = str(error)
                elif problem.endswith(_NOT_A_NUMBER) and _parses(row[ci]):
                    categorical += 1
                if problem is not None:
                    bad.append(BadRow(line, problem))
                    continue
                formulas.append(row[ci].strip())
                targets.append(row[ti].strip() if classification else float(row[ti]))
                groups.append(chemical_system(composition.amounts))
                lines.append(line)
                if si is not None:
                    splits.append(row[si].strip())
    except (OSError, EOFError, zlib.error) as error:  # a truncated or corrupt .gz, a read error
        raise ValueError(f"CSV file {str(path)!r} cannot be read after line {previous_end}: {error}.") from None
    n_rows = len(formulas) + len(bad)
    hint = ""
    if categorical > CATEGORICAL_HINT_FRACTION * n_rows:
        hint = (f" {categorical} of {n_rows} rows fail only because their target is not a number, so the column "
                f"looks categorical: pass target_type='classification'.")
    if bad:
        report = _bad_row_report(path, bad, n_rows) + hint
        if not skip_bad_rows:
            raise ValueError(report + " Fix them, or pass skip_bad_rows=True to drop them.")
        logger.warning("%s Dropping them (skip_bad_rows=True).", report)
    if not formulas:
        raise ValueError(f"CSV file {str(path)!r} has no usable data rows ({n_rows} rows read, {len(bad)} bad).{hint}")
    if classification:
        if len(set(targets)) < 2:
            raise ValueError(f"CSV file {str(path)!r}: target_type='classification' needs at least 2 distinct labels "
                             f"in the target_column {target_column!r}. Got only {_short(repr(targets[0]))} in all "
                             f"{len(targets)} usable rows.")
        target = np.array(targets, dtype=str)
    else:
        target = np.array(targets, dtype=np.float64)
    return MaterialsDataset(formulas=tuple(formulas), target=target, groups=np.array(groups),
                            target_name=target_column, source=str(path), line_numbers=np.array(lines, dtype=np.int64),
                            skipped=tuple(bad), split=np.array(splits, dtype=str) if si is not None else None)



def _row_problem(row: list[str], ci: int, ti: int, n_columns: int, *, si: int | None = None,
                 classification: bool = False) -> str | None:
    """Why a row's target, split or shape is unusable (None if fine); the formula is checked by the parser."""
    if max(ci, ti, -1 if si is None else si) >= len(row):
        return f"the row has {len(row)} fields, the header has {n_columns}"
    text = row[ti].strip()
    if not text:
        return "missing target"
    if not classification:
        try:
            value = float(text)
        except ValueError:
            return f"target {_short(repr(text))} {_NOT_A_NUMBER}"
        if not math.isfinite(value):
            return f"target {text!r} is not finite"
        if abs(value) > MAX_ABS_TARGET:
            return f"target {text!r} is beyond +-{MAX_ABS_TARGET:g} (its square would overflow in the scaling)"
    if not row[ci].strip():
        return "missing composition"
    if si is not None and not row[si].strip():
        return "missing split"
    return None


def _parses(formula: str) -> bool:
    """True when ``formula`` (stripped) is a formula :func:`parse_formula` reads."""
    try:
        parse_formula(formula.strip())
    except ValueError:
        return False
    return True


def _delimiter_hint(header: list[str], delimiter: str, missing: list[str]) -> str:
    """``"; the header looks delimited by ';': pass delimiter=';'"`` when splitting the header on another of
    :data:`DELIMITER_CANDIDATES` finds a ``missing`` column name, or when the header is a single field holding
    one of them; "" otherwise. (The task layer rewrites "pass delimiter=" into its config key: keep the phrase.)"""
    others = [candidate for candidate in DELIMITER_CANDIDATES if candidate != delimiter]
    line = delimiter.join(header)
    for candidate in others:
        names = {name.strip().strip("'\"").strip() for name in line.split(candidate)}
        if any(name in names for name in missing):
            return f"; the header looks delimited by {candidate!r}: pass delimiter={candidate!r}"
    if len(header) == 1:
        for candidate in others:
            if candidate in header[0]:
                return f"; the header looks delimited by {candidate!r}: pass delimiter={candidate!r}"
    return ""


def estimate_csv_rows(path: str | os.PathLike) -> tuple[float, float]:
    """``(rows, bytes)``: about how many data rows a CSV file (``.csv`` or ``.csv.gz``) holds, and its
    uncompressed size, from its first :data:`SAMPLE_BYTES` (the mean line length there) -- read before the file
    is, so that a file too large for memory is refused before it is parsed. For ``.gz`` the uncompressed size is
    the gzip trailer's (modulo 4 GiB), at least the compressed size.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file (``.csv`` or ``.csv.gz``).

    Returns
    -------
    rows : float
        Estimated number of data rows.
    size : float
        Uncompressed size in bytes.
    """
    path = Path(path)
    size = float(path.stat().st_size)
    if path.suffix == ".gz":
        with open(path, "rb") as handle:
            handle.seek(max(int(size) - 4, 0))
            trailer = handle.read(4)
        size = max(size, float(int.from_bytes(trailer, "little")) if len(trailer) == 4 else 0.0)
        opener = gzip.open
    else:
        opener = open
    try:
        with opener(path, "rb") as handle:
            sample = handle.read(SAMPLE_BYTES)
    except (OSError, EOFError, zlib.error):
        sample = b""
    if not sample:
        return 0.0, size
    line_bytes = len(sample) / max(sample.count(b"\n"), 1)
    return max(size / line_bytes - 1.0, 1.0), size


def _short(text: str, limit: int = 100) -> str:
    """``text`` shortened in the middle beyond ``limit`` characters (reports list many rows)."""
    return text if len(text) <= limit else f"{text[:60]}...{text[-20:]} ({len(text)} characters)"


def _bad_row_report(path: Path, bad: list[BadRow], n_rows: int) -> str:
    shown = "; ".join(str(row) for row in bad[:MAX_REPORTED_ROWS])
    more = f"; ... and {len(bad) - MAX_REPORTED_ROWS} more" if len(bad) > MAX_REPORTED_ROWS else ""
    return f"{len(bad)} bad row(s) of {n_rows} in {str(path)!r}: {shown}{more}."


def _decimal(steps: int, decimals: int) -> str:
    """``steps / 10**decimals`` written exactly, trailing zeros dropped (250, 3 -> "0.25")."""
    return f"{steps // 10 ** decimals}.{steps % 10 ** decimals:0{decimals}d}".rstrip("0").rstrip(".")


def _generator(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"The 'seed' parameter must be a non-negative int or a numpy Generator. Got {seed!r} instead.")
    return as_generator(seed, "seed")
