"""Compiled (numba) kernels of the cluster updates of :mod:`.cluster`.

* Swendsen–Wang: bond activation and union-find (:func:`sw_cluster_labels`), cluster flips
  (:func:`sw_flip_clusters`); they consume exactly the words of the earlier numpy/scipy version.
* Wolff: depth-first growth and flip of one cluster per job (:func:`wolff_flip_clusters`).

The random numbers are drawn by the caller from a numpy ``Generator`` (raw 32-bit words, see
:func:`._chain.random_uint32`) and passed in, so one seed drives the whole run.

Compilation: the kernels are cached on disk (``cache=True``: ``__pycache__`` next to this file, or
numba's user-wide cache, or ``NUMBA_CACHE_DIR``).  Where no cache location is writable numba refuses
``cache=True``; the kernels are then compiled in memory in each process (about a second, once).
"""

from __future__ import annotations

import logging

import numba
import numpy as np

logger = logging.getLogger(__name__)


def _jit(function):
    """``numba.njit(cache=True, nogil=True)``, or without the disk cache when no cache location is writable."""
    try:
        return numba.njit(cache=True, nogil=True)(function)
    except RuntimeError as err:  # numba: "cannot cache function ...: no locator available for file ..."
        logger.debug("numba disk cache unavailable for %s (%s); compiling in memory", function.__name__, err)
        return numba.njit(cache=False, nogil=True)(function)


@_jit
def _find(parent, i):
    """Root of ``i`` with path halving; roots are the smallest index of their tree (``parent[x] <= x``)."""
    while True:
        p = parent[i]
        if p == i:
            return i
        gp = parent[p]
        parent[i] = gp
        i = gp


@_jit
def sw_cluster_labels(spins, partner, words, threshold, labels):
    """Activate bonds and label the Fortuin–Kasteleyn clusters of every lattice.

    Parameters
    ----------
    spins : ndarray of int8
        Shape (B, N); values ±1, N = L*L sites in row-major order.
    partner : ndarray of int32
        Shape (N, k).  ``partner[i, d]`` is the other end of bond ``d`` of site ``i`` (each bond once).
    words : ndarray of uint32
        Shape (B, N, k).  Uniform random words; a satisfied bond is active iff ``words <= threshold``.
    threshold : ndarray of uint32
        Shape (B,).  Bond-activation threshold per lattice (:func:`._chain.uint32_threshold` of
        ``p = 1 - exp(-2 beta)``).
    labels : ndarray of int32
        Shape (B, N), overwritten: the cluster of each site, numbered per lattice ``0, 1, ...`` in
        the order of each cluster's smallest site index (the numbering of
        ``scipy.sparse.csgraph.connected_components``).

    Returns
    -------
    counts : ndarray of int64
        Shape (B,).  Number of clusters of each lattice.
    """
    n_lattices, n_sites = spins.shape
    n_bonds = partner.shape[1]
    counts = np.empty(n_lattices, np.int64)
    for b in range(n_lattices):
        s, w, parent, t = spins[b], words[b], labels[b], threshold[b]
        for i in range(n_sites):
            parent[i] = i
        for i in range(n_sites):
            si = s[i]
            for d in range(n_bonds):
                j = partner[i, d]
                if s[j] == si and w[i, d] <= t:
                    ri = _find(parent, i)
                    rj = _find(parent, j)
                    if ri < rj:
                        parent[rj] = ri
                    elif rj < ri:
                        parent[ri] = rj
        # parent[i] <= i, so a scan in index order meets every parent before its children:
        # a root opens the next label, any other site copies its (already relabelled) parent's.
        n = 0
        for i in range(n_sites):
            p = parent[i]
            if p == i:
                parent[i] = n
                n += 1
            else:
                parent[i] = parent[p]
        counts[b] = n
    return counts


@_jit
def sw_flip_clusters(spins, labels, offsets, words):
    """Flip every cluster whose random word is odd.

    Parameters
    ----------
    spins : ndarray of int8
        Shape (B, N); modified in place.
    labels : ndarray of int32
        Shape (B, N).  Cluster of each site within its lattice (from :func:`sw_cluster_labels`).
    offsets : ndarray of int64
        Shape (B,).  Index of lattice ``b``'s first cluster in ``words``.
    words : ndarray of uint32
        Shape (sum of cluster counts,).  One random word per cluster; the cluster flips iff it is odd.
    """
    n_lattices, n_sites = spins.shape
    for b in range(n_lattices):
        s, lab, off = spins[b], labels[b], offsets[b]
        for i in range(n_sites):
            if words[off + lab[i]] & 1:
                s[i] = -s[i]


@_jit
def wolff_flip_clusters(spins, table, threshold, jobs, first, words, pos, stack, flipped, n_clusters):
    """Grow and flip one Wolff cluster for each job ``jobs[first:]`` in turn, until the words run low.

    Parameters
    ----------
    spins : ndarray of int8
        Shape (B, N); modified in place.
    table : ndarray of int32
        Shape (N, z).  The ``z`` neighbours of every site.
    threshold : ndarray of uint32
        Shape (B,).  Bond-activation threshold per lattice; a bond to an equal spin joins iff its word
        is ``<= threshold``.
    jobs : ndarray of int64
        Shape (M,).  Lattice of each cluster flip, in the order they are done.
    first : int
        First job to do.
    words : ndarray of uint32
        Shape (W,).  Uniform random words, consumed in order from ``pos``: the seed site (unbiased
        bounded integer, Lemire's multiply-and-reject), then one word per bond from a cluster site
        to an equal spin outside the cluster.
    pos : int
        Index of the next unused word.
    stack : ndarray of int32
        Shape (N,), scratch.
    flipped, n_clusters : ndarray of int64
        Shape (B,), incremented by each flipped cluster's size and by one.

    Returns
    -------
    done : int
        Index of the first job not done: ``M``, or a job stopped before it started because fewer than
        ``z * N + 64`` words were left (a cluster uses at most ``z * N`` bond words).
    pos : int
        Index of the next unused word.
    """
    n_sites, z = table.shape
    n = np.uint64(n_sites)
    reject_below = (np.uint64(2**32) - n) % n  # Lemire: rejecting low parts below this makes the draw exact
    for m in range(first, jobs.size):
        if words.size - pos < z * n_sites + 64:
            return m, pos
        while True:  # seed site, uniform in [0, N)
            product = np.uint64(words[pos]) * n
            pos += 1
            if (product & np.uint64(0xFFFFFFFF)) >= reject_below:
                break
            if pos == words.size:  # out of words before the cluster changed anything: redo the job later
                return m, pos
        b = jobs[m]
        s, t = spins[b], threshold[b]
        seed = np.int64(product >> np.uint64(32))
        c = s[seed]
        s[seed] = -c  # flipping on joining also marks a site as taken
        stack[0] = seed
        top, size = 1, 1
        while top:
            top -= 1
            i = stack[top]
            for d in range(z):
                j = table[i, d]
                if s[j] == c:
                    if words[pos] <= t:
                        s[j] = -c
                        stack[top] = j
                        top += 1
                        size += 1
                    pos += 1
        flipped[b] += size
        n_clusters[b] += 1
    return jobs.size, pos

