"""The compiled Swendsen–Wang kernels: same clusters, same random words and same spins as the scipy version."""

import numba
import numpy as np
import pytest
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components
from scipy.stats import chisquare

from physics.ising import _kernels
from physics.ising._chain import random_uint32, uint32_threshold
from physics.ising.cluster import SwendsenWang, _neighbour_table
from physics.ising.lattice import neighbour_offsets


def scipy_sweep(spins, beta, lattice, rng):
    """One Swendsen–Wang update of (B, L, L) spins as the engine did it before numba (connected_components)."""
    B, L = spins.shape[0], spins.shape[-1]
    N = L * L
    partner = _neighbour_table(L, neighbour_offsets(lattice))
    s = spins.reshape(B, N).copy()
    active = s[:, :, None] == s[:, partner]
    active &= random_uint32(rng, active.shape) <= uint32_threshold(-np.expm1(-2.0 * beta))[:, None, None]
    rows = np.broadcast_to(np.arange(B * N)[:, None], (B * N, partner.shape[1]))[active.reshape(B * N, -1)]
    cols = (np.arange(B)[:, None, None] * N + partner[None]).reshape(B * N, -1)[active.reshape(B * N, -1)]
    graph = csr_array((np.ones(cols.size, np.int8), (rows, cols)), shape=(B * N, B * N))
    n_clusters, labels = connected_components(graph, directed=True, connection="weak")
    flip = (random_uint32(rng, (n_clusters,)) & 1).astype(bool)
    s[flip[labels].reshape(B, N)] *= -1
    return s.reshape(spins.shape)


@pytest.mark.parametrize(
    "lattice, L, T",
    [("square", 8, [1.5, 2.0, 2.27, 3.0, 1e9]), ("square", 7, 2.27), ("triangular", 6, 3.64), ("triangular", 5, [2.0, 3.0, 3.64, 6.0, 9.0])],
)
def test_swendsen_wang_matches_scipy_version_bit_for_bit(lattice, L, T):
    # Same seed, same random words consumed in the same order, same cluster numbering: identical spins and
    # identical generator state after every sweep (odd L*L*k on the triangular lattice checks the word padding).
    start = np.where(np.random.default_rng(3).random((5, L, L)) < 0.5, 1, -1).astype(np.int8)
    chain = SwendsenWang(start, T, lattice)
    rng_engine, rng_scipy = np.random.default_rng(11), np.random.default_rng(11)
    expected = start
    for _ in range(6):
        chain.sweep(rng_engine)
        expected = scipy_sweep(expected, chain.beta, lattice, rng_scipy)
        np.testing.assert_array_equal(chain.spins, expected)
        assert rng_engine.bit_generator.state == rng_scipy.bit_generator.state


def test_cluster_labels_are_ordered_by_smallest_site():
    # 1 x 4 "lattice" as a chain of bonds i -> i+1 (periodic): bonds 0-1 and 2-3 active, the others not.
    spins = np.ones((1, 4), np.int8)
    partner = np.array([[1], [2], [3], [0]], np.int32)
    words = np.array([[[0], [9], [0], [9]]], np.uint32)
    labels = np.empty((1, 4), np.int32)
    counts = _kernels.sw_cluster_labels(spins, partner, words, np.array([5], np.uint32), labels)
    np.testing.assert_array_equal(counts, [2])
    np.testing.assert_array_equal(labels, [[0, 0, 1, 1]])
    spins[0, 1] = -1  # unsatisfied bonds stay inactive whatever their word
    counts = _kernels.sw_cluster_labels(spins, partner, words, np.array([5], np.uint32), labels)
    np.testing.assert_array_equal(labels, [[0, 1, 2, 2]])


def test_kernels_compile_in_memory_without_a_writable_cache(monkeypatch):
    # numba refuses cache=True when no cache location is writable (read-only install, no writable home):
    # simulate that by offering numba no cache locator at all.
    caching = numba.core.caching
    monkeypatch.setattr(getattr(caching, "CacheImpl", None) or caching._CacheImpl, "_locator_classes", [])

    def twice(x):
        return 2 * x

    with pytest.raises(RuntimeError, match="cannot cache"):
        numba.njit(cache=True)(twice)
    assert _kernels._jit(twice)(21) == 42


def wolff_inputs(B, L, lattice="square"):
    half = neighbour_offsets(lattice)
    table = _neighbour_table(L, half + tuple((-dy, -dx) for dy, dx in half))
    spins = np.where(np.random.default_rng(4).random((B, L * L)) < 0.5, 1, -1).astype(np.int8)
    threshold = uint32_threshold(-np.expm1(-2.0 / np.linspace(1.5, 4.0, B)))
    return spins, table, threshold, np.empty(L * L, np.int32), np.zeros(B, np.int64), np.zeros(B, np.int64)


def test_wolff_kernel_resumes_exactly_where_the_words_ran_out():
    # The same jobs and the same word stream, given all at once or in pieces that run low mid-way, give the
    # same spins and statistics: a job is never started without enough words, so nothing is half done.
    spins, table, thr, stack, flipped, counts = wolff_inputs(3, 6)
    jobs = np.tile(np.arange(3), 40)
    words = random_uint32(np.random.default_rng(7), (200_000,))
    whole = spins.copy()
    done, pos = _kernels.wolff_flip_clusters(whole, table, thr, jobs, 0, words, 0, stack, flipped, counts)
    assert done == jobs.size and 0 < pos < words.size
    pieces, f2, c2, done2, start = spins.copy(), np.zeros(3, np.int64), np.zeros(3, np.int64), 0, 0
    size = 4 * 36 + 64 + 50  # just above the words one job may need
    while done2 < jobs.size:
        chunk = words[start : start + size]
        done2, used = _kernels.wolff_flip_clusters(pieces, table, thr, jobs, done2, chunk, 0, stack, f2, c2)
        start += used
    np.testing.assert_array_equal(pieces, whole)
    np.testing.assert_array_equal(f2, flipped)
    np.testing.assert_array_equal(c2, counts)
    assert start == pos


def test_wolff_seed_sites_are_uniform():
    # With threshold 0 a bond joins only on the word 0, which the stream below lacks: each job flips
    # just its seed site, so the flipped site of a fresh lattice shows the seed draw.
    _, table, _, stack, flipped, counts = wolff_inputs(1, 3)
    words = random_uint32(np.random.default_rng(8), (300_000,))
    words[words == 0] = 1
    seeds = []
    for _ in range(2700):
        spins = np.ones((1, 9), np.int8)
        done, pos = _kernels.wolff_flip_clusters(spins, table, np.zeros(1, np.uint32), np.zeros(1, np.int64), 0,
                                                 words, 0, stack, flipped, counts)
        assert done == 1 and np.sum(spins == -1) == 1
        seeds.append(int(np.argmin(spins[0])))
        words = words[pos:]
    assert chisquare(np.bincount(seeds, minlength=9)).pvalue > 1e-4  # fixed seed; 1-in-10^4 for a correct draw
