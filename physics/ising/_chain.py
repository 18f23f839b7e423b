"""Pieces shared by the Monte Carlo updaters (:mod:`.metropolis`, :mod:`.cluster`).

Every updater holds a batch of ``B`` lattices, each at its own temperature, and exposes the same
small interface (see :class:`MarkovChain`), so :mod:`.sampling` can drive any of them.

Random numbers: acceptance tests compare raw 32-bit words ``r`` drawn from the ``Generator``'s bit
generator with integer thresholds, ``accept iff r <= t`` with ``t = ceil(p * 2**32) - 1``; the
acceptance probability realised is ``ceil(p * 2**32) / 2**32``, i.e. ``p`` to within ``2**-32``.
"""

from __future__ import annotations

import numpy as np

from core._validation import as_generator as _as_generator

from .lattice import (
    _bond_sum_unchecked,
    check_lattice,
    check_size,
    check_spins,
    check_temperatures,
    critical_temperature,
)

_TWO_32 = float(2**32)


def as_generator(seed) -> np.random.Generator:
    """:func:`core._validation.as_generator` with the parameter named 'seed' in its error messages."""
    return _as_generator(seed, "seed")


def uint32_threshold(probability) -> np.ndarray:
    """Integer thresholds ``t`` with ``P(r <= t) = ceil(p * 2**32) / 2**32`` for uniform 32-bit ``r``.

    Parameters
    ----------
    probability : array_like of float in [0, 1]

    Returns
    -------
    ndarray of uint32, same shape. ``p = 0`` maps to 0 (accepted with probability ``2**-32``).
    """
    p = np.clip(np.asarray(probability, dtype=np.float64), 0.0, 1.0)
    return np.maximum(np.ceil(p * _TWO_32) - 1.0, 0.0).astype(np.uint32)


def random_uint32(rng: np.random.Generator, shape) -> np.ndarray:
    """Uniform 32-bit words of the given shape, taken straight from ``rng.bit_generator`` (fastest path)."""
    n = int(np.prod(shape, dtype=np.int64))
    return rng.bit_generator.random_raw((n + 1) // 2).view(np.uint32)[:n].reshape(shape)


def initial_spins(n_chains: int, L: int, temperature, lattice: str, rng: np.random.Generator) -> np.ndarray:
    """Starting configurations, shape (n_chains, L, L) int8.

    Below the lattice's critical temperature a chain starts ordered (all spins equal, the sign drawn
    at random per chain, so both ordered states are represented); at or above it, from random spins.
    Ordered starts avoid the long-lived stripe states that a quench from random spins leaves at low T.
    """
    T = np.broadcast_to(np.asarray(temperature, dtype=np.float64), (n_chains,))
    hot = rng.integers(0, 2, size=(n_chains, L, L), dtype=np.int8) * 2 - 1
    sign = rng.integers(0, 2, size=(n_chains, 1, 1), dtype=np.int8) * 2 - 1
    cold = np.broadcast_to(sign, hot.shape)
    return np.where((T < critical_temperature(lattice))[:, None, None], cold, hot).astype(np.int8)


class MarkovChain:
    """A batch of ``B`` Ising lattices evolved by a Boltzmann-preserving update.

    Parameters
    ----------
    spins : array_like of int8 ±1, shape (B, L, L) or (L, L)
        Starting configurations (copied).
    temperature : float or array_like, shape (B,)
        Temperature of each lattice in units of J/k_B (broadcast over the batch).
    lattice : {"square", "triangular"}

    Subclasses implement :meth:`sweep` (one Monte Carlo sweep of every lattice) and keep the state in
    whatever layout suits them; :attr:`spins` returns it as (B, L, L) int8.
    """

    def __init__(self, spins, temperature, lattice: str = "square"):
        self.lattice = check_lattice(lattice)
        arr = check_spins(spins, lattice)
        if arr.ndim == 2:
            arr = arr[None]
        if arr.ndim != 3:
            raise ValueError(f"The 'spins' parameter must have shape (L, L) or (B, L, L). Got {arr.shape} instead.")
        self.L = check_size(arr.shape[-1], lattice)
        self.n_chains = arr.shape[0]
        T = check_temperatures(temperature, name="temperature")
        if T.ndim > 1 or T.size not in (1, self.n_chains):
            raise ValueError(
                f"The 'temperature' parameter must be a scalar or have shape ({self.n_chains},). "
                f"Got shape {T.shape} instead."
            )
        self.temperature = np.broadcast_to(T.reshape(-1), (self.n_chains,)).copy()
        self.beta = 1.0 / self.temperature
        self._init_state(arr.astype(np.int8, copy=True))

    def _init_state(self, spins: np.ndarray) -> None:
        raise NotImplementedError

    @property
    def spins(self) -> np.ndarray:
        """Current configurations, a new (B, L, L) int8 array."""
        raise NotImplementedError

    def sweep(self, rng: np.random.Generator, n_sweeps: int = 1) -> None:
        """Advance every lattice by ``n_sweeps`` sweeps."""
        raise NotImplementedError

    def energy_per_spin(self) -> np.ndarray:
        """Energy per spin ``H / L^2`` of each lattice, float64 (B,)."""
        return -_bond_sum_unchecked(self.spins, self.lattice) / float(self.L * self.L)

    def magnetization_per_spin(self) -> np.ndarray:
        """Signed magnetisation per spin of each lattice, float64 (B,)."""
        return np.sum(self.spins, axis=(-2, -1), dtype=np.int64) / float(self.L * self.L)
