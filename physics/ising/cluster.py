"""Cluster updates for a batch of Ising lattices: Swendsen–Wang and Wolff.

Model: ``H = -sum_<ij> s_i s_j`` (J = k_B = 1), periodic boundaries, int8 spins ±1.

Both algorithms use the Fortuin–Kasteleyn bond representation: each *satisfied* bond (equal spins)
is activated independently with probability ``p = 1 - exp(-2 beta)``; unsatisfied bonds never are.
Flipping whole clusters of activated bonds satisfies detailed balance with respect to the Boltzmann
distribution and has a much smaller dynamic exponent than single-spin updates near ``T_c``
(Swendsen & Wang 1987; Wolff 1989).

* :class:`SwendsenWang` -- activates bonds, finds the clusters with a union-find and flips each
  cluster with probability 1/2, in compiled kernels (:mod:`._kernels`, numba) looping over the batch.
  Random words: first one per bond of the whole batch (``(B, L*L, k)``), then one per cluster, the
  clusters numbered lattice by lattice in the order of their smallest site -- the stream and the
  numbering of the earlier ``scipy.sparse.csgraph.connected_components`` version, so seeded runs
  are unchanged.  One sweep = one such update of every lattice.
* :class:`Wolff` -- grows one cluster from a random seed site (depth first, compiled kernel in
  :mod:`._kernels`, the lattices of the batch in turn) and always flips it.  Bonds are tested once
  each, when their first end joins the cluster.  One sweep = ``flips_per_sweep`` cluster flips,
  chosen per lattice so that on average about ``L*L`` spins are flipped per sweep.  Random words
  are drawn from the generator in bulk and used in order; the unused ones are kept for the next
  call with the same generator.
"""

from __future__ import annotations

import numpy as np

from ._chain import MarkovChain, random_uint32, uint32_threshold
from .lattice import neighbour_offsets


def _kernels():
    """The compiled kernels (:mod:`._kernels`), imported on first use: numba is slow to import."""
    from . import _kernels as kernels

    return kernels


def _neighbour_table(L: int, offsets) -> np.ndarray:
    """(L*L, len(offsets)) int32: flat index of ``(i + dy, j + dx) mod L`` for every site and offset."""
    idx = np.arange(L * L, dtype=np.int32).reshape(L, L)
    return np.stack([np.roll(idx, (-dy, -dx), axis=(0, 1)).ravel() for dy, dx in offsets], axis=1)


class _ClusterChain(MarkovChain):
    """State kept as a flat (B, L*L) int8 array and bond-activation thresholds per lattice."""

    def _init_state(self, spins: np.ndarray) -> None:
        self._flat = spins.reshape(self.n_chains, self.L * self.L)
        self.bond_probability = -np.expm1(-2.0 * self.beta)  # p = 1 - exp(-2 beta), (B,)
        self._bond_thr = uint32_threshold(self.bond_probability)

    @property
    def spins(self) -> np.ndarray:
        return self._flat.reshape(self.n_chains, self.L, self.L).copy()


class SwendsenWang(_ClusterChain):
    """Swendsen–Wang updates of a batch of lattices, each at its own temperature.

    Parameters
    ----------
    spins : array_like of int8
        Shape (B, L, L) or (L, L); values +1 or -1.
    temperature : float or array_like of float
        Shape (B,) or scalar.  Temperature of each lattice in units of J/k_B, > 0.
    lattice : {"square", "triangular"}
        Lattice name.
    """

    def _init_state(self, spins: np.ndarray) -> None:
        super()._init_state(spins)
        _kernels()  # numba is imported here; the kernels compile (or load from the disk cache) on first call
        self._partner = _neighbour_table(self.L, neighbour_offsets(self.lattice))  # (N, k) one end per bond
        self._labels = np.empty(self._flat.shape, np.int32)
        self._offsets = np.zeros(self.n_chains, np.int64)

    def sweep(self, rng: np.random.Generator, n_sweeps: int = 1) -> None:
        """Apply ``n_sweeps`` Swendsen–Wang updates to every lattice.

        Parameters
        ----------
        rng : numpy.random.Generator
            Source of randomness.
        n_sweeps : int
            Number of sweeps, >= 0.
        """
        B, N = self._flat.shape
        k = self._partner.shape[1]
        for _ in range(int(n_sweeps)):
            bond_words = random_uint32(rng, (B, N, k))
            counts = _kernels().sw_cluster_labels(self._flat, self._partner, bond_words, self._bond_thr, self._labels)
            np.cumsum(counts[:-1], out=self._offsets[1:])
            flip_words = random_uint32(rng, (int(counts.sum()),))
            _kernels().sw_flip_clusters(self._flat, self._labels, self._offsets, flip_words)


class Wolff(_ClusterChain):
    """Wolff single-cluster updates of a batch of lattices, each at its own temperature.

    Parameters
    ----------
    spins : array_like of int8
        Shape (B, L, L) or (L, L); values +1 or -1.
    temperature : float or array_like of float
        Shape (B,) or scalar.  Temperature of each lattice in units of J/k_B, > 0.
    lattice : {"square", "triangular"}
        Lattice name.
    flips_per_sweep : int or array_like of int or None
        Shape (B,) or scalar, each >= 1.  Cluster flips that make one sweep of each lattice.
        ``None``: calibrated during the first call to :meth:`sweep` to ``round(L^2 / <cluster size>)`` and
        fixed afterwards, so the update is a fixed Markov kernel.  That call first flips clusters until
        ``3 L^2`` spins of each lattice have flipped (warm-up), then measures the mean cluster size over
        ``3 L^2`` more; it counts as six sweeps of burn-in.

    Attributes
    ----------
    mean_cluster_size : ndarray of float
        Shape (B,).  Average number of spins per flipped cluster since construction.
    """

    _CALIBRATION_SWEEPS = 3

    def __init__(self, spins, temperature, lattice: str = "square", flips_per_sweep=None):
        super().__init__(spins, temperature, lattice)
        if flips_per_sweep is not None:
            flips = np.broadcast_to(np.asarray(flips_per_sweep), (self.n_chains,))
            if not np.issubdtype(flips.dtype, np.integer) or np.any(flips < 1):
                raise ValueError(
                    f"The 'flips_per_sweep' parameter must be None or integers >= 1. Got {flips_per_sweep!r} instead."
                )
            flips_per_sweep = flips.astype(np.int64)
        self.flips_per_sweep = flips_per_sweep

    def _init_state(self, spins: np.ndarray) -> None:
        super()._init_state(spins)
        _kernels()  # numba is imported here; the kernels compile (or load from the disk cache) on first call
        half = neighbour_offsets(self.lattice)
        self._table = _neighbour_table(self.L, half + tuple((-dy, -dx) for dy, dx in half))  # (N, z)
        self._stack = np.empty(self.L * self.L, np.int32)
        self._flipped = np.zeros(self.n_chains, np.int64)
        self._n_clusters = np.zeros(self.n_chains, np.int64)
        self._words, self._pos, self._words_rng = np.empty(0, np.uint32), 0, None

    @property
    def mean_cluster_size(self) -> np.ndarray:
        return self._flipped / np.maximum(self._n_clusters, 1)

    def _refill(self, rng: np.random.Generator) -> None:
        """Append fresh words from ``rng`` to the unused ones (the buffer is dropped when ``rng`` changes)."""
        N, z = self._table.shape
        rest = self._words[self._pos :] if rng is self._words_rng else self._words[:0]
        chunk = max(z * N + 64, min(z * N * (self.n_chains + 1), 2**21))  # about a sweep's worth, <= 8 MB
        chunk += chunk % 2  # even: the buffered words continue rng's 32-bit stream exactly
        self._words, self._pos, self._words_rng = np.concatenate([rest, random_uint32(rng, (chunk,))]), 0, rng

    def _run(self, rng: np.random.Generator, jobs: np.ndarray) -> None:
        """Flip one cluster on lattice ``jobs[m]`` for each m in turn (compiled; words drawn in bulk)."""
        if rng is not self._words_rng:
            self._refill(rng)
        done = 0
        while done < jobs.size:
            done, self._pos = _kernels().wolff_flip_clusters(
                self._flat, self._table, self._bond_thr, jobs, done, self._words, self._pos, self._stack,
                self._flipped, self._n_clusters,
            )
            if done < jobs.size:
                self._refill(rng)

    def _flip_clusters(self, rng: np.random.Generator, lattices: np.ndarray) -> np.ndarray:
        """Grow and flip one cluster on each lattice index in ``lattices``; return sizes, shape (B,)."""
        before = self._flipped.copy()
        self._run(rng, np.asarray(lattices, dtype=np.int64))
        return self._flipped - before

    def _flip_until(self, rng: np.random.Generator, n_spins: int) -> tuple[np.ndarray, np.ndarray]:
        """Flip clusters on each lattice until it has flipped ``n_spins`` spins; return (flips, spins flipped)."""
        flipped = np.zeros(self.n_chains, np.int64)
        count = np.zeros(self.n_chains, np.int64)
        while np.any(flipped < n_spins):
            todo = np.flatnonzero(flipped < n_spins)
            flipped += self._flip_clusters(rng, todo)
            count[todo] += 1
        return count, flipped

    def _calibrate(self, rng: np.random.Generator) -> None:
        """Warm up (clusters flipping ``3 L^2`` spins), then measure the cluster size over ``3 L^2`` more.

        The warm-up matters: from random spins at T_c the first clusters are tiny, and a calibration
        on them would make one "sweep" many times ``L^2`` flipped spins in equilibrium.
        """
        N = self.L * self.L
        self._flip_until(rng, self._CALIBRATION_SWEEPS * N)
        count, flipped = self._flip_until(rng, self._CALIBRATION_SWEEPS * N)
        self.flips_per_sweep = np.maximum(1, np.rint(N * count / flipped)).astype(np.int64)

    def sweep(self, rng: np.random.Generator, n_sweeps: int = 1) -> None:
        """Apply ``n_sweeps`` sweeps (``flips_per_sweep`` cluster flips each) to every lattice.

        Parameters
        ----------
        rng : numpy.random.Generator
            Source of randomness.
        n_sweeps : int
            Number of sweeps, >= 0.
        """
        n_sweeps = int(n_sweeps)
        if self.flips_per_sweep is None and n_sweeps > 0:
            self._calibrate(rng)
            n_sweeps -= 2 * self._CALIBRATION_SWEEPS
        if n_sweeps <= 0:
            return
        fps = self.flips_per_sweep
        jobs = np.concatenate([np.flatnonzero(fps > j) for j in range(int(fps.max()))])  # round-robin
        for _ in range(n_sweeps):
            self._run(rng, jobs)
