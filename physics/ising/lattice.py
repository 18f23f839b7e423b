"""Lattice geometry of the 2D Ising model: neighbours, energy, magnetisation.

Conventions (shared by the whole ``physics.ising`` package)
------------------------------------------------------------
* Hamiltonian ``H = -J sum_<ij> s_i s_j`` with ``J = k_B = 1``, no field, periodic boundaries.
* Spins are ``int8`` values ``+1``/``-1`` stored in arrays of shape ``(L, L)`` (one lattice) or
  ``(n, L, L)`` (a batch); any number of leading batch axes is accepted, the last two axes are the
  lattice rows (``y``, axis -2) and columns (``x``, axis -1).
* A neighbour offset ``(dy, dx)`` couples site ``(i, j)`` to ``((i + dy) % L, (j + dx) % L)``.
* ``"square"``: 4 neighbours ``(0, ±1), (±1, 0)``.
* ``"triangular"``: 6 neighbours ``(0, ±1), (±1, 0), (+1, +1), (-1, -1)`` -- the triangular lattice
  drawn as a sheared square lattice on the same ``L x L`` array.  It needs ``L >= 3`` (for ``L = 2``
  the diagonal neighbour coincides with a row/column neighbour).  A 3-colouring of the periodic
  triangular lattice (for checkerboard updates) exists only when ``L`` is divisible by 3; that is a
  concern of the Monte Carlo code, not of this module.

For ``L = 2`` on the square lattice the "right" and "left" neighbours are the same site, so that pair
is coupled twice; this is the same Hamiltonian that the exact finite-torus formulas and the brute-force
enumeration in :mod:`physics.ising.exact` use, so all three stay consistent.
"""

from __future__ import annotations

import math

import numpy as np

LATTICES = ("square", "triangular")

_OFFSETS = {
    "square": ((0, 1), (1, 0)),
    "triangular": ((0, 1), (1, 0), (1, 1)),
}

_MIN_SIZE = {"square": 2, "triangular": 3}


def check_lattice(lattice) -> str:
    """Return ``lattice`` if it is a known lattice name, else raise.

    Parameters
    ----------
    lattice : str
        Candidate lattice name; must be one of :data:`LATTICES` (``"square"``, ``"triangular"``).

    Returns
    -------
    lattice : str
        The same name, unchanged.

    Raises
    ------
    TypeError
        If ``lattice`` is not a string.
    ValueError
        If ``lattice`` is not one of :data:`LATTICES`.
    """
    if not isinstance(lattice, str):
        raise TypeError(
            f"The 'lattice' parameter must be a str in {LATTICES}. "
            f"Got {lattice!r} of type {type(lattice).__name__} instead."
        )
    if lattice not in _OFFSETS:
        raise ValueError(f"The 'lattice' parameter must be one of {LATTICES}. Got {lattice!r} instead.")
    return lattice


def neighbour_offsets(lattice: str) -> tuple[tuple[int, int], ...]:
    """Bond offsets ``(dy, dx)`` of ``lattice``, each bond counted once.

    Square: ``((0, 1), (1, 0))``; triangular: ``((0, 1), (1, 0), (1, 1))``.  The full neighbour set
    is these offsets together with their negatives.

    Parameters
    ----------
    lattice : {"square", "triangular"}
        Lattice name, one of :data:`LATTICES`.

    Returns
    -------
    offsets : tuple of tuple of int
        One ``(dy, dx)`` pair per bond direction (2 square, 3 triangular).
    """
    return _OFFSETS[check_lattice(lattice)]


def coordination(lattice: str) -> int:
    """Number of nearest neighbours ``z`` of a site: 4 (square) or 6 (triangular).

    Parameters
    ----------
    lattice : {"square", "triangular"}
        Lattice name, one of :data:`LATTICES`.

    Returns
    -------
    z : int
        Coordination number, 4 or 6.
    """
    return 2 * len(neighbour_offsets(lattice))


def min_size(lattice: str) -> int:
    """Smallest linear size ``L`` for which ``lattice`` is well defined (2 square, 3 triangular).

    Parameters
    ----------
    lattice : {"square", "triangular"}
        Lattice name, one of :data:`LATTICES`.

    Returns
    -------
    L_min : int
        2 for the square lattice, 3 for the triangular one.
    """
    return _MIN_SIZE[check_lattice(lattice)]


def check_size(L, lattice: str = "square", name: str = "L") -> int:
    """Validate a linear lattice size and return it as ``int``.

    Parameters
    ----------
    L : int
        Linear size (sites per side); must be ``>= min_size(lattice)``.  Bools are rejected.
    lattice : {"square", "triangular"}
        Lattice the size is meant for; sets the minimum size.
    name : str
        Parameter name used in error messages.

    Returns
    -------
    L : int
        The size as a Python ``int``.

    Raises
    ------
    TypeError
        If ``L`` is not an integer (bools are rejected).
    ValueError
        If ``L`` is smaller than :func:`min_size` of ``lattice``.
    """
    lo = min_size(lattice)
    if isinstance(L, bool) or not isinstance(L, (int, np.integer)):
        raise TypeError(
            f"The '{name}' parameter must be an int >= {lo} for the {lattice} lattice. "
            f"Got {L!r} of type {type(L).__name__} instead."
        )
    if L < lo:
        raise ValueError(
            f"The '{name}' parameter must be an int >= {lo} for the {lattice} lattice. Got {L} instead."
        )
    return int(L)


def check_spins(spins, lattice: str = "square", name: str = "spins") -> np.ndarray:
    """Validate a spin array and return it as an ndarray (no copy when already an ndarray).

    Parameters
    ----------
    spins : array_like of int
        Shape (..., L, L).  Values must be +1 or -1; the last two axes must be equal and
        ``>= min_size(lattice)``.
    lattice : {"square", "triangular"}
        Lattice the spins live on; sets the minimum size.
    name : str
        Parameter name used in error messages.

    Returns
    -------
    spins : ndarray
        The spins as an ndarray, same shape and dtype as the input.

    Raises
    ------
    TypeError
        If ``spins`` is not of an integer dtype.
    ValueError
        If it has fewer than two axes, the last two differ or are too small, or a value is not ±1.
    """
    arr = np.asarray(spins)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(
            f"The '{name}' parameter must be an integer array (int8 ±1 spins). Got dtype {arr.dtype} instead."
        )
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(
            f"The '{name}' parameter must have shape (L, L) or (n, L, L). Got shape {arr.shape} instead."
        )
    check_size(arr.shape[-1], lattice, name=f"{name}.shape[-1]")
    if not np.all((arr == 1) | (arr == -1)):
        bad = arr[(arr != 1) & (arr != -1)].flat[0]
        raise ValueError(f"The '{name}' parameter must contain only +1 and -1. Found the value {bad} instead.")
    return arr


def check_temperatures(T, name: str = "T") -> np.ndarray:
    """Validate temperatures (units of J/k_B) and return them as a float64 array of the same shape.

    Parameters
    ----------
    T : float or array_like of float
        Temperatures in units of J/k_B; every entry finite and ``> 0``, at least one entry.
        Bools are rejected.
    name : str
        Parameter name used in error messages.

    Returns
    -------
    T : ndarray of float64
        The temperatures, same shape as the input.

    Raises
    ------
    TypeError
        If ``T`` is not real-valued numeric (bools are rejected).
    ValueError
        If ``T`` is empty or any entry is non-finite or ``<= 0``.
    """
    arr = np.asarray(T)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(
            f"The '{name}' parameter must be a positive finite float or array of floats. "
            f"Got {T!r} of dtype {arr.dtype} instead."
        )
    arr = arr.astype(np.float64)
    if arr.size == 0:
        raise ValueError(f"The '{name}' parameter must contain at least one temperature. Got an empty array.")
    bad = ~(np.isfinite(arr) & (arr > 0))
    if np.any(bad):
        raise ValueError(
            f"The '{name}' parameter must contain only positive finite temperatures. "
            f"Got {arr[bad].flat[0]!r} instead."
        )
    return arr


def _roll_to(spins: np.ndarray, offset: tuple[int, int]) -> np.ndarray:
    """Array whose entry ``[..., i, j]`` is ``spins[..., (i + dy) % L, (j + dx) % L]``."""
    dy, dx = offset
    return np.roll(spins, shift=(-dy, -dx), axis=(-2, -1))


def neighbour_sum(spins, lattice: str = "square") -> np.ndarray:
    """Sum of the ``z`` nearest-neighbour spins of every site (periodic boundaries).

    Parameters
    ----------
    spins : ndarray of int
        Shape (..., L, L); values +1 or -1.
    lattice : {"square", "triangular"}
        Lattice name, one of :data:`LATTICES`.

    Returns
    -------
    h : ndarray of int
        Same shape and integer dtype as ``spins``; values in ``[-z, z]`` (fits int8).
    """
    arr = check_spins(spins, lattice)
    total = np.zeros_like(arr)
    for dy, dx in neighbour_offsets(lattice):
        total += _roll_to(arr, (dy, dx))
        total += _roll_to(arr, (-dy, -dx))
    return total


def bond_sum(spins, lattice: str = "square") -> np.ndarray:
    """``sum_<ij> s_i s_j`` over all bonds of each lattice.

    Parameters
    ----------
    spins : ndarray of int
        Shape (..., L, L); values +1 or -1.
    lattice : {"square", "triangular"}
        Lattice name, one of :data:`LATTICES`.

    Returns
    -------
    bonds : ndarray of int64
        Shape ``spins.shape[:-2]``; one bond sum per lattice.
    """
    return _bond_sum_unchecked(check_spins(spins, lattice), lattice)


def _bond_sum_unchecked(arr: np.ndarray, lattice: str) -> np.ndarray:
    """:func:`bond_sum` without validation; also accepts rectangular ``(..., M, L)`` arrays."""
    total = np.zeros(arr.shape[:-2], dtype=np.int64)
    for offset in neighbour_offsets(lattice):
        total += np.sum(arr * _roll_to(arr, offset), axis=(-2, -1), dtype=np.int64)
    return total


def energy_per_spin(spins, lattice: str = "square") -> np.ndarray:
    """Energy per spin ``e = H / N = -(1/N) sum_<ij> s_i s_j`` (J = 1).

    Parameters
    ----------
    spins : ndarray of int
        Shape (n, L, L) or (L, L) (any leading batch axes); values +1 or -1.
    lattice : {"square", "triangular"}
        Lattice name, one of :data:`LATTICES`.

    Returns
    -------
    e : ndarray of float64
        Shape ``spins.shape[:-2]`` (``(n,)`` for a batch, 0-d for one lattice), units of J.
        Ground state: ``-z/2`` (-2 square, -3 triangular).
    """
    arr = check_spins(spins, lattice)
    n_spins = arr.shape[-1] * arr.shape[-2]
    return -bond_sum(arr, lattice).astype(np.float64) / n_spins


def magnetization_per_spin(spins) -> np.ndarray:
    """Signed magnetisation per spin ``m = (1/N) sum_i s_i``.

    Parameters
    ----------
    spins : ndarray of int
        Shape (n, L, L) or (L, L); values +1 or -1.

    Returns
    -------
    m : ndarray of float64
        Shape ``spins.shape[:-2]``; values in [-1, 1].
    """
    arr = check_spins(spins)
    n_spins = arr.shape[-1] * arr.shape[-2]
    return np.sum(arr, axis=(-2, -1), dtype=np.int64).astype(np.float64) / n_spins


def critical_temperature(lattice: str = "square") -> float:
    """Exact critical temperature ``T_c`` (units of J/k_B) of the infinite 2D lattice.

    Square (Onsager 1944): ``T_c = 2 / ln(1 + sqrt 2) ~ 2.269185``.
    Triangular (Houtappel 1950; Wannier 1950): ``T_c = 4 / ln 3 ~ 3.640957``.

    Parameters
    ----------
    lattice : {"square", "triangular"}
        Lattice name, one of :data:`LATTICES`.

    Returns
    -------
    T_c : float
        Critical temperature in units of J/k_B.
    """
    if check_lattice(lattice) == "square":
        return 2.0 / math.log(1.0 + math.sqrt(2.0))
    return 4.0 / math.log(3.0)
