"""Checkerboard (sublattice) Metropolis updates for a batch of Ising lattices.

Model: ``H = -sum_<ij> s_i s_j`` (J = k_B = 1), periodic boundaries, int8 spins ±1.

Update rule. The sites are split into colour classes such that no two sites of a class are
neighbours; one sweep visits the classes in a fixed order and proposes to flip *every* site of the
class at once.  Flipping site ``i`` costs ``dE = 2 h_i`` with the local field ``h_i = s_i sum_nn s_j``
(an even integer in ``[-z, z]``).  Acceptance probability ``A(h)``:

* ``h < 0``: 1;  ``h > 0``: ``exp(-2 beta h)``  (Metropolis, ``min(1, exp(-beta dE))``);
* ``h = 0``: ``(1 + exp(-4 beta)) / 2`` instead of Metropolis' 1.  Detailed balance only requires
  ``A(h) / A(-h) = exp(-2 beta h)``, which leaves ``A(0)`` free.  With ``A(0) = 1`` a fixed-order
  checkerboard sweep is *not ergodic*: zero-energy states such as period-4 diagonal stripes flip
  deterministically in closed cycles (on the 4x4 square lattice 36 such states form 18 closed
  classes, 29 classes on the 3x3 triangular lattice; checked by enumerating the transition graph).
  Any ``A(0) < 1`` removes them; this choice keeps ``A(0)`` close to 1 at high T, where ``h = 0`` is
  common, and keeps the thresholds monotone (``A(0) >= A(2)``).

Because the sites of a class do not interact, the simultaneous update equals a sequential one and
each class update satisfies detailed balance with respect to the Boltzmann distribution.

Acceptance test without floating point: for each lattice the probabilities ``A(h)`` for
``h = 0, 2, ..., z`` are precomputed once as 32-bit integer thresholds ``t_0 >= t_2 >= ...``
(:func:`._chain.uint32_threshold`).  Per site one random 32-bit word ``r`` gives the *level*
``k = #{j : r <= t_2j}``; the flip is accepted iff ``h < 2 k`` (so ``h < 0`` always is).  This needs
only integer comparisons and no table gather.

Layouts.
* Fast path (square lattice with even ``L``, triangular lattice with ``L % 3 == 0``): the lattice is
  stored as ``k * k`` contiguous sub-grids ``spins[a::k, b::k]`` (``k = 2`` square, ``k = 3``
  triangular), shape ``(k*k, B, L/k, L/k)``.  Site ``(a, b)`` sub-grids with ``(a + b) % k == c`` form
  colour ``c``; a neighbour sum is a sum of whole sub-grids shifted by at most one cell, done with
  contiguous copies into preallocated buffers instead of ``np.roll``.
* Fallback (any other ``L``): a greedy proper colouring of the periodic lattice (3 colours for odd
  ``L`` on the square lattice, up to 4 on the triangular one) with neighbour gathers by index.
  Slower, same Markov chain semantics.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._chain import MarkovChain, random_uint32, uint32_threshold
from .lattice import neighbour_offsets

_SUBGRID_FACTOR = {"square": 2, "triangular": 3}


def _full_offsets(lattice: str) -> tuple[tuple[int, int], ...]:
    """All ``z`` neighbour offsets ``(dy, dx)`` of a site (each bond offset and its negative)."""
    half = neighbour_offsets(lattice)
    return half + tuple((-dy, -dx) for dy, dx in half)


def acceptance_thresholds(beta, lattice: str = "square") -> np.ndarray:
    """Integer acceptance thresholds for local fields ``h = 0, 2, ..., z``.

    Parameters
    ----------
    beta : array_like of float
        Shape (B,).  Inverse temperatures in units of k_B/J.
    lattice : {"square", "triangular"}
        Lattice name.

    Returns
    -------
    thresholds : ndarray of uint32
        Shape (z // 2 + 1, B).  Row ``j`` is the threshold for ``h = 2 j``, i.e. for accepting a flip
        with ``dE = 4 j`` with probability ``A(0) = (1 + exp(-4 beta)) / 2`` (``j = 0``) or
        ``exp(-4 j beta)`` (``j >= 1``).  Rows are non-increasing.
    """
    beta = np.atleast_1d(np.asarray(beta, dtype=np.float64))
    fields = 2.0 * np.arange(0, len(neighbour_offsets(lattice)) + 1)  # h = 0, 2, 4 (, 6)
    prob = np.exp(-2.0 * fields[:, None] * beta[None, :])  # (z/2 + 1, B)
    prob[0] = 0.5 * (1.0 + prob[1])
    return uint32_threshold(prob)


@lru_cache(maxsize=32)
def _greedy_colouring(L: int, lattice: str) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Neighbour table (L*L, z) and a proper colouring of the periodic lattice as index arrays."""
    idx = np.arange(L * L).reshape(L, L)
    table = np.stack([np.roll(idx, (-dy, -dx), axis=(0, 1)).ravel() for dy, dx in _full_offsets(lattice)], axis=1)
    colour = np.full(L * L, -1)
    for site in range(L * L):  # row-major greedy colouring; runs once per (L, lattice)
        used = set(colour[table[site]].tolist())
        colour[site] = min(c for c in range(len(used) + 1) if c not in used)
    classes = tuple(np.flatnonzero(colour == c) for c in range(colour.max() + 1))
    return table, classes


class CheckerboardMetropolis(MarkovChain):
    """Checkerboard Metropolis for a batch of lattices, each at its own temperature.

    Parameters
    ----------
    spins : array_like of int8
        Shape (B, L, L) or (L, L); values +1 or -1.
    temperature : float or array_like of float
        Shape (B,) or scalar.  Temperature of each lattice in units of J/k_B, > 0.
    lattice : {"square", "triangular"}
        Lattice name.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> chain = CheckerboardMetropolis(np.ones((8, 16, 16), np.int8), temperature=2.0)
    >>> chain.sweep(rng, n_sweeps=100)
    >>> chain.energy_per_spin().shape
    (8,)
    """

    def _init_state(self, spins: np.ndarray) -> None:
        B, L = self.n_chains, self.L
        self._thresholds = acceptance_thresholds(self.beta, self.lattice)
        k = _SUBGRID_FACTOR[self.lattice]
        self.fast = L % k == 0
        if self.fast:
            m = L // k
            self._k = k
            self._grids = np.empty((k * k, B, m, m), dtype=np.int8)
            for a in range(k):
                for b in range(k):
                    self._grids[a * k + b] = spins[:, a::k, b::k]
            self._terms = [self._subgrid_terms(a, b) for a in range(k) for b in range(k)]
            self._order = [a * k + b for c in range(k) for a in range(k) for b in range(k) if (a + b) % k == c]
            shape, thr_shape = (B, m, m), (-1, B, 1, 1)
            self._buf = np.empty(shape, np.int8)
            self._buf2 = np.empty(shape, np.int8)
        else:
            self._flat = spins.reshape(B, L * L)
            self._table, self._classes = _greedy_colouring(L, self.lattice)
            shape, thr_shape = None, (-1, B, 1)
        self._thr = self._thresholds.reshape(thr_shape)
        if shape is not None:
            self._field = np.empty(shape, np.int8)
            self._level = np.empty(shape, np.uint8)
            self._mask = np.empty(shape, bool)

    def _subgrid_terms(self, a: int, b: int) -> list[tuple[int, int, int]]:
        """Neighbours of sub-grid (a, b): ``(source sub-grid, di, dj)`` with value ``src[I + di, J + dj]``."""
        k = self._k
        terms = []
        for dy, dx in _full_offsets(self.lattice):
            y, x = a + dy, b + dx
            terms.append(((y % k) * k + x % k, y // k, x // k))
        return sorted(terms, key=lambda t: (t[1] != 0) + (t[2] != 0))  # unshifted terms first

    @staticmethod
    def _shift(src: np.ndarray, di: int, dj: int, out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
        """``out[:, I, J] = src[:, (I + di) % m, (J + dj) % m]`` for ``di, dj`` in {-1, 0, 1}; returns ``out``.

        Shifts are flat contiguous copies of the (B, m*m) or (B*m*m,) views plus a fix-up of the
        wrapped row/column; ``tmp`` holds the intermediate result when both ``di`` and ``dj`` are set.
        """
        m = src.shape[-1]
        if di:
            dest = tmp if dj else out
            fo, fs = dest.reshape(dest.shape[0], -1), src.reshape(src.shape[0], -1)
            if di > 0:
                fo[:, :-m] = fs[:, m:]
                dest[:, -1] = src[:, 0]
            else:
                fo[:, m:] = fs[:, :-m]
                dest[:, 0] = src[:, -1]
            if not dj:
                return out
            src = tmp
        fo, fs = out.reshape(-1), src.reshape(-1)
        if dj > 0:
            fo[:-1] = fs[1:]
            out[..., -1] = src[..., 0]
        else:
            fo[1:] = fs[:-1]
            out[..., 0] = src[..., -1]
        return out

    def _neighbour_sum_fast(self, g: int, out: np.ndarray) -> np.ndarray:
        """Neighbour sum of every site of sub-grid ``g`` into ``out`` (B, m, m) int8."""
        grids, terms = self._grids, self._terms[g]
        (s0, di0, dj0), (s1, di1, dj1) = terms[:2]
        if not (di1 or dj1):  # terms are sorted: the first two are unshifted
            np.add(grids[s0], grids[s1], out=out)
            rest = terms[2:]
        else:
            self._shift(grids[s0], di0, dj0, out, self._buf2) if (di0 or dj0) else np.copyto(out, grids[s0])
            rest = terms[1:]
        for src, di, dj in rest:
            out += self._shift(grids[src], di, dj, self._buf, self._buf2) if (di or dj) else grids[src]
        return out

    def _flip(self, spins: np.ndarray, field: np.ndarray, rng: np.random.Generator, thr: np.ndarray) -> np.ndarray:
        """Metropolis accept/flip of the sites ``spins`` with neighbour sums ``field`` (overwritten).

        Returns the new spins (``spins`` itself is modified in place when it is a contiguous array).
        """
        level, mask = self._level_buffers(spins.shape)
        field *= spins  # local field h = s * sum_nn s, even, in [-z, z]
        r = random_uint32(rng, spins.shape)
        np.less_equal(r, thr[0], out=mask)
        np.copyto(level, mask.view(np.uint8))
        for t in thr[1:]:
            np.less_equal(r, t, out=mask)
            level += mask.view(np.uint8)
        level += level  # 2 k
        np.less(field, level.view(np.int8), out=mask)  # accept iff h < 2 k
        np.multiply(mask.view(np.uint8), np.uint8(254), out=level)  # 254 = bits that turn 1 into -1
        np.bitwise_xor(spins, level.view(np.int8), out=spins)
        return spins

    def _level_buffers(self, shape) -> tuple[np.ndarray, np.ndarray]:
        if self.fast:
            return self._level, self._mask
        return np.empty(shape, np.uint8), np.empty(shape, bool)

    def sweep(self, rng: np.random.Generator, n_sweeps: int = 1) -> None:
        """Advance every lattice by ``n_sweeps`` checkerboard sweeps (each site proposed once per sweep).

        Parameters
        ----------
        rng : numpy.random.Generator
            Source of randomness.
        n_sweeps : int
            Number of sweeps, >= 0.
        """
        for _ in range(int(n_sweeps)):
            if self.fast:
                for g in self._order:
                    self._flip(self._grids[g], self._neighbour_sum_fast(g, self._field), rng, self._thr)
            else:
                flat = self._flat
                for sites in self._classes:
                    field = flat[:, self._table[sites]].sum(axis=-1, dtype=np.int8)  # (B, n_c)
                    flat[:, sites] = self._flip(flat[:, sites], field, rng, self._thr)

    @property
    def spins(self) -> np.ndarray:
        if not self.fast:
            return self._flat.reshape(self.n_chains, self.L, self.L).copy()
        k, out = self._k, np.empty((self.n_chains, self.L, self.L), np.int8)
        for a in range(k):
            for b in range(k):
                out[:, a::k, b::k] = self._grids[a * k + b]
        return out

    def energy_per_spin(self) -> np.ndarray:
        """Energy per spin ``H / L^2`` of each lattice.

        Returns
        -------
        e : ndarray of float64
            Shape (B,), units of J.
        """
        if not self.fast:
            return super().energy_per_spin()
        total = np.zeros(self.n_chains, np.int64)
        for g in range(len(self._grids)):
            field = self._neighbour_sum_fast(g, self._field)
            field *= self._grids[g]
            total += field.sum(axis=(-2, -1), dtype=np.int64)
        return -0.5 * total / float(self.L * self.L)  # each bond counted from both ends

    def magnetization_per_spin(self) -> np.ndarray:
        """Signed magnetisation per spin of each lattice.

        Returns
        -------
        m : ndarray of float64
            Shape (B,), values in [-1, 1].
        """
        if not self.fast:
            return super().magnetization_per_spin()
        return self._grids.sum(axis=(0, 2, 3), dtype=np.int64) / float(self.L * self.L)
