"""Cluster updates for a batch of Ising lattices: Swendsen–Wang and Wolff.

Model: ``H = -sum_<ij> s_i s_j`` (J = k_B = 1), periodic boundaries, int8 spins ±1.

Both algorithms use the Fortuin–Kasteleyn bond representation: each *satisfied* bond (equal spins)
is activated independently with probability ``p = 1 - exp(-2 beta)``; unsatisfied bonds never are.
Flipping whole clusters of activated bonds satisfies detailed balance with respect to the Boltzmann
distribution and has a much smaller dynamic exponent than single-spin updates near ``T_c``
(Swendsen & Wang 1987; Wolff 1989).

* :class:`SwendsenWang` -- activates bonds on every lattice of the batch at once, finds the clusters
  of the whole batch as the connected components of one sparse graph
  (``scipy.sparse.csgraph.connected_components``) and flips each cluster with probability 1/2.
  One sweep = one such update of every lattice.
* :class:`Wolff` -- grows one cluster per lattice from a random seed site (breadth first,
  vectorised over the batch and over the cluster's frontier) and always flips it.  Bonds are
  tested once each, when their first end joins the cluster.  One sweep = ``flips_per_sweep``
  cluster flips, chosen per lattice so that on average about ``L*L`` spins are flipped per sweep.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components

from ._chain import MarkovChain, random_uint32, uint32_threshold
from .lattice import neighbour_offsets


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
        B, N = self.n_chains, self.L * self.L
        if B * N >= 2**31:
            raise ValueError(
                f"A batch of {B} lattices of {N} spins is too large for one cluster graph; use fewer chains."
            )
        self._partner = _neighbour_table(self.L, neighbour_offsets(self.lattice))  # (N, k) one end per bond
        offset = (np.arange(B, dtype=np.int32) * N)[:, None, None]
        self._partner_global = (offset + self._partner[None]).reshape(B * N, -1)  # (B*N, k)
        self._indptr = np.zeros(B * N + 1, dtype=np.int32)

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
            s = self._flat
            active = s[:, :, None] == s[:, self._partner]  # satisfied bonds, (B, N, k)
            active &= random_uint32(rng, active.shape) <= self._bond_thr[:, None, None]
            active = active.reshape(B * N, k)
            # CSR graph with one row per site, listing its activated bonds; rows come out sorted.
            np.cumsum(active.sum(axis=1, dtype=np.int32), out=self._indptr[1:])
            cols = self._partner_global[active]
            graph = csr_array((np.ones(cols.size, np.int8), cols, self._indptr), shape=(B * N, B * N))
            n_clusters, labels = connected_components(graph, directed=True, connection="weak")
            flip = (random_uint32(rng, (n_clusters,)) & 1).astype(np.uint8) * np.uint8(254)  # 254: 1 <-> -1
            np.bitwise_xor(s, flip[labels].view(np.int8).reshape(B, N), out=s)


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
        B, N = self.n_chains, self.L * self.L
        half = neighbour_offsets(self.lattice)
        table = _neighbour_table(self.L, half + tuple((-dy, -dx) for dy, dx in half))  # (N, z)
        self._table = (np.arange(B, dtype=np.int64)[:, None, None] * N + table[None]).reshape(B * N, -1)
        self._stamp = np.empty(B * N, np.int64)  # scratch for de-duplicating a frontier without sorting
        self._flipped = np.zeros(B, np.int64)
        self._n_clusters = np.zeros(B, np.int64)

    @property
    def mean_cluster_size(self) -> np.ndarray:
        return self._flipped / np.maximum(self._n_clusters, 1)

    def _flip_clusters(self, rng: np.random.Generator, lattices: np.ndarray) -> np.ndarray:
        """Grow and flip one cluster on each lattice index in ``lattices``; return sizes, shape (B,)."""
        B, N = self._flat.shape
        s, stamp = self._flat.reshape(-1), self._stamp
        frontier = lattices * N + rng.integers(0, N, size=lattices.size)  # seed sites, global indices
        cluster_spin = np.zeros(B, np.int8)
        cluster_spin[lattices] = s[frontier]
        s[frontier] = -s[frontier]  # flipping on joining also marks a site as taken
        sizes = np.zeros(B, np.int64)
        sizes[lattices] = 1
        while frontier.size:
            owner = frontier // N
            cand = self._table[frontier]  # (F, z) neighbours
            grow = s[cand] == cluster_spin[owner][:, None]
            grow &= random_uint32(rng, cand.shape) <= self._bond_thr[owner][:, None]
            joined = cand[grow]
            # A site reached through several bonds joins once: keep the entry whose position survived
            # in ``stamp`` (repeated fancy assignment stores one of the positions).
            stamp[joined] = np.arange(joined.size)
            frontier = joined[stamp[joined] == np.arange(joined.size)]
            s[frontier] = -s[frontier]
            sizes += np.bincount(frontier // N, minlength=B)
        self._flipped += sizes
        self._n_clusters[lattices] += 1
        return sizes

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
        for _ in range(max(n_sweeps, 0)):
            for j in range(int(self.flips_per_sweep.max())):
                self._flip_clusters(rng, np.flatnonzero(self.flips_per_sweep > j))
