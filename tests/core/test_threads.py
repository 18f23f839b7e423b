"""Layers split over threads (core._threads): the split covers every item once, failures surface, and the
convolutional layers give bit-for-bit the same numbers with one thread and with two (every part writes its own
slice, the weight gradient is a sum of per-chunk sums in chunk order, BLAS runs single-threaded inside)."""

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import core.activations
from core import _threads
from core.losses import get_loss
from core.models import cnn


def _two_threads_available() -> bool:
    with threadpool_limits(2, user_api="blas"):
        return _threads.thread_count() == 2


needs_two = pytest.mark.skipif(not _two_threads_available(), reason="no BLAS library whose thread count can be set")


@needs_two
@pytest.mark.parametrize("n_items", [0, 1, 2, 7])
def test_split_covers_every_item_once_in_contiguous_parts(n_items):
    seen, threads = [], set()

    def work(start, stop, part):
        seen.extend((part, item) for item in range(start, stop))
        threads.add(threading.get_ident())
        assert _threads.thread_count() == 1  # a part never splits again

    with threadpool_limits(2, user_api="blas"):
        _threads.split_work(work, n_items)
    assert sorted(item for _, item in seen) == list(range(n_items))
    parts = {part for part, _ in seen}
    assert len(threads) == len(parts) == min(2, n_items)


@needs_two
def test_a_failing_part_raises_after_the_others_finish():
    finished = []

    def work(start, stop, part):
        if part == 1:
            raise ValueError("part 1 failed")
        finished.append(part)

    with threadpool_limits(2, user_api="blas"), pytest.raises(ValueError, match="part 1 failed"):
        _threads.split_work(work, 4)
    assert finished == [0]


def _training_step(threads, channels, padding, L, batch, dtype, activation):
    network = cnn(channels, padding=padding, activation=activation).build((1, L, L), 3, dtype)
    rng = np.random.default_rng(4)
    X = rng.choice(np.array([-1.0, 1.0], dtype), size=(batch, 1, L, L))
    y = rng.integers(0, 2, batch)
    with threadpool_limits(threads, user_api="blas"):
        output = network.forward(X, training=True)
        _, d_output = get_loss("softmax_cross_entropy").forward_backward(output, y)
        dX = network.backward(d_output)
    return [output, dX] + [p.grad.copy() for p in network.parameters()]


@needs_two
@pytest.mark.parametrize("channels, padding, L, batch, dtype, activation", [
    ((16, 16), "periodic", 32, 64, "float32", "relu"),  # the default CNN: many chunks, both column layouts
    ((16, 16), "zero", 12, 9, "float32", "relu"),       # one chunk
    ((3, 16, 2), "valid", 13, 5, "float32", "tanh"),    # the weight gradient from the input's columns
    ((8, 8), "periodic", 20, 7, "float64", "softplus"),
])
def test_one_and_two_threads_give_identical_numbers(channels, padding, L, batch, dtype, activation, monkeypatch):
    monkeypatch.setattr(_threads, "MIN_SPLIT_SIZE", 0)  # split every piece of work, however small
    monkeypatch.setattr(core.activations, "MIN_SPLIT_SIZE", 0)
    one = _training_step(1, channels, padding, L, batch, dtype, activation)
    two = _training_step(2, channels, padding, L, batch, dtype, activation)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


@needs_two
@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_gets_its_own_pool():
    import multiprocessing

    def work(start, stop, part):
        pass

    with threadpool_limits(2, user_api="blas"):
        _threads.split_work(work, 2)  # the parent's pool exists now
        child = multiprocessing.get_context("fork").Process(target=_threads.split_work, args=(work, 2))
        child.start()
        child.join(timeout=30)
    if child.is_alive():  # hung on the parent's pool, which has no threads in the child
        child.kill()
    assert child.exitcode == 0
