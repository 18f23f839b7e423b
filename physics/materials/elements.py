"""Element symbols and the Magpie element-property table (``data/elements.csv``).

The table is read once, on first use (never at import), and cached. Rows are the elements H (Z = 1) to
Lr (Z = 103) in order of atomic number; columns are the 22 Magpie properties of Ward et al.,
npj Comput. Mater. 2, 16028 (2016). Sources and units of every column are in the CSV header and in
``data/SOURCES.md``. A value missing from the source table is NaN.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "data"

#: Symbols of Z = 1..103 (index = Z - 1), the elements covered by the property table and the parser.
ELEMENT_SYMBOLS: tuple[str, ...] = (
    "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar",
    "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr",
    "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I", "Xe",
    "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu",
    "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn",
    "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr",
)

#: Magpie property names, in the order of matminer's ``ElementProperty.from_preset("magpie")``.
MAGPIE_PROPERTIES: tuple[str, ...] = (
    "Number", "MendeleevNumber", "AtomicWeight", "MeltingT", "Column", "Row", "CovalentRadius",
    "Electronegativity", "NsValence", "NpValence", "NdValence", "NfValence", "NValence", "NsUnfilled",
    "NpUnfilled", "NdUnfilled", "NfUnfilled", "NUnfilled", "GSvolume_pa", "GSbandgap", "GSmagmom",
    "SpaceGroupNumber",
)

_INDEX = {symbol: i for i, symbol in enumerate(ELEMENT_SYMBOLS)}


def element_index(symbol: str) -> int:
    """Row of ``symbol`` in :data:`ELEMENT_SYMBOLS` (= Z - 1).

    Parameters
    ----------
    symbol : str
        An element symbol, H..Lr (Z = 1-103), case-sensitive.

    Returns
    -------
    index : int
        Z - 1, in 0..102.

    Raises
    ------
    ValueError
        For an unknown symbol.
    """
    try:
        return _INDEX[symbol]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown element symbol {symbol!r}: expected one of H..Lr (Z = 1-103), case-sensitive."
        ) from None


def is_element(symbol: str) -> bool:
    """Whether ``symbol`` is one of :data:`ELEMENT_SYMBOLS`.

    Parameters
    ----------
    symbol : str
        The candidate symbol (case-sensitive).

    Returns
    -------
    known : bool
        True when ``symbol`` is an element of H..Lr.
    """
    return symbol in _INDEX


def read_commented_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV file whose lines starting with ``#`` are comments (the data files' headers).

    Parameters
    ----------
    path : Path
        The CSV file, UTF-8; the first non-comment line is the header.

    Returns
    -------
    rows : list of dict
        One dict column name -> value (str, unconverted) per data row, in file order.
    """
    with open(path, newline="", encoding="utf-8") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return list(csv.DictReader(lines))


@dataclass(frozen=True)
class ElementTable:
    """Element properties as one array.

    Attributes
    ----------
    symbols : tuple of str
        Length n_elements (103); element symbols in order of Z.
    properties : tuple of str
        Length n_properties; property names (columns of ``values``).
    values : ndarray of float64
        Shape (n_elements, n_properties); NaN where the source has no value.
    """

    symbols: tuple[str, ...]
    properties: tuple[str, ...]
    values: np.ndarray

    def column(self, prop: str) -> np.ndarray:
        """Values of one property for all elements.

        Parameters
        ----------
        prop : str
            One of :attr:`properties`.

        Returns
        -------
        column : ndarray of float64
            Shape (n_elements,), in order of Z; NaN where the value is missing. A read-only view.

        Raises
        ------
        ValueError
            For an unknown property name.
        """
        if prop not in self.properties:
            raise ValueError(f"Unknown element property {prop!r}: expected one of {list(self.properties)}.")
        return self.values[:, self.properties.index(prop)]

    def value(self, symbol: str, prop: str) -> float:
        """One property of one element.

        Parameters
        ----------
        symbol : str
            The element symbol, H..Lr (case-sensitive).
        prop : str
            One of :attr:`properties`.

        Returns
        -------
        value : float
            The property value; NaN when the source table has none.
        """
        return float(self.column(prop)[element_index(symbol)])


@lru_cache(maxsize=1)
def element_table() -> ElementTable:
    """The Magpie property table from ``data/elements.csv`` (read on first call, then cached).

    Returns
    -------
    table : ElementTable
        All 103 elements and the 22 :data:`MAGPIE_PROPERTIES`; ``values`` is read-only.

    Raises
    ------
    RuntimeError
        When the data file does not list H..Lr in order of Z.
    """
    rows = read_commented_csv(DATA_DIR / "elements.csv")
    symbols = tuple(row["symbol"] for row in rows)
    if symbols != ELEMENT_SYMBOLS:
        raise RuntimeError("data/elements.csv does not list H..Lr in order of Z; the data file is corrupt.")
    values = np.array(
        [[float(row[p]) if row[p].strip() else np.nan for p in MAGPIE_PROPERTIES] for row in rows],
        dtype=np.float64,
    )  # (n_elements, n_properties)
    values.setflags(write=False)
    return ElementTable(symbols=ELEMENT_SYMBOLS, properties=MAGPIE_PROPERTIES, values=values)
