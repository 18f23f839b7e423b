"""Splitting a layer's work over the threads that BLAS may use.

numpy's matrix products run on BLAS threads, but the products of a convolution chunk are too small for a second
BLAS thread to help (it spends more time waiting than multiplying), and numpy's elementwise work never uses one.
So the layers of :mod:`core.conv` and :mod:`core.activations` split their chunks or samples over as many threads
as numpy's BLAS may use (``threadpoolctl.threadpool_limits``, ``OMP_NUM_THREADS``, ``trainer.blas_threads`` of the
app) -- in contiguous parts, or handed out one at a time -- run them at the same time in a pool of Python threads
(numpy releases the GIL inside products and copies), and keep BLAS single-threaded meanwhile. Every part writes its
own slice of the result, so the numbers do not depend on how many threads there are. Work below
``MIN_SPLIT_SIZE`` elements is not split: waking a thread and waiting for it costs more.
"""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

from threadpoolctl import ThreadpoolController

__all__ = ["thread_count", "split_work", "single_threaded_blas", "MIN_SPLIT_SIZE"]

_state = threading.local()
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_pid = _pool_size = 0
_controller: ThreadpoolController | None = None


def _blas() -> ThreadpoolController:
    """numpy's BLAS library (the one the layers' products run on; every loaded BLAS library if none can be told
    apart as numpy's), found once: scanning the loaded libraries takes ~1 ms."""
    global _controller
    if _controller is None:  # at the first split, long after numpy (and its BLAS) was imported
        libraries = ThreadpoolController().select(user_api="blas")
        numpy_own = [library.filepath for library in libraries.lib_controllers if "numpy" in library.filepath]
        _controller = libraries.select(filepath=numpy_own) if numpy_own else libraries
    return _controller


def thread_count() -> int:
    """How many threads the layers may use: numpy's BLAS thread count (1 inside a part of :func:`split_work`, or
    when no BLAS library is found)."""
    if getattr(_state, "inside", False):
        return 1
    counts = [library.num_threads for library in _blas().lib_controllers]
    return max(1, max(counts, default=1))


def single_threaded_blas():
    """A context in which BLAS uses one thread (a no-op when it does already): for products that must give the same
    numbers whatever the thread count."""
    return _blas().limit(limits=1) if thread_count() > 1 else nullcontext()


def _executor(workers: int) -> ThreadPoolExecutor:
    """The shared pool, with at least ``workers`` threads; a new one in a forked child (whose copy of the parent's
    pool has no threads)."""
    global _pool, _pool_pid, _pool_size
    with _lock:
        if _pool is None or _pool_pid != os.getpid() or _pool_size < workers:
            if _pool is not None and _pool_pid == os.getpid():
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="core-layer")
            _pool_pid, _pool_size = os.getpid(), workers
        return _pool


def _run_part(work, start: int, stop: int, part: int) -> None:
    _state.inside = True
    try:
        work(start, stop, part)
    finally:
        _state.inside = False


#: elements (read plus written) below which a split costs more than it saves (waking a thread and waiting for it
#: take ~0.1-0.2 ms; numpy streams ~2 M float32 elements in that time)
MIN_SPLIT_SIZE = 1 << 21


def split_work(work, n_items: int, dynamic: bool = False, size: int | None = None) -> None:
    """Call ``work(start, stop, part)`` on contiguous ranges covering ``range(n_items)``, at the same time.

    Parameters
    ----------
    work : callable
        ``work(start, stop, part)`` processes items ``start`` to ``stop - 1``; ``part`` (0, 1, ...) tells it
        which scratch buffers are its own. It must write only its own items' results.
    n_items : int
        Number of items (chunks, samples, ...); nothing is called when it is 0.
    dynamic : bool, default False
        Hand out the items one at a time (``work(i, i + 1, part)``), each to the first part that is free: for a
        few items of uneven cost, e.g. convolution chunks, so that no thread waits long for another.
    size : int or None, default None
        The elements the whole work reads and writes; below ``MIN_SPLIT_SIZE`` it runs as one part. None: always
        split.

    Notes
    -----
    The parts are ``thread_count()`` near-equal ranges (fewer when there are few items); part 0 runs in the calling
    thread, the others in a shared pool, with BLAS limited to one thread until all have finished (even with a
    single part, so that the products, whose rounding depends on BLAS's thread count, do not). An exception in
    any part is raised after all parts have stopped.
    """
    if n_items <= 0:
        return
    threads = thread_count()
    if threads == 1:
        work(0, n_items, 0)
        return
    parts = 1 if size is not None and size < MIN_SPLIT_SIZE else min(threads, n_items)
    bounds = [n_items * p // parts for p in range(parts + 1)]
    if dynamic:
        items, whole = itertools.count(), work

        def work(start, stop, part):  # noqa: F811 -- the items of ``whole`` as they come, whatever the bounds
            while (item := next(items)) < n_items:  # next() on a count is atomic under the GIL
                whole(item, item + 1, part)

    with _blas().limit(limits=1):  # also for a single part: BLAS results change with its thread count
        futures = [_executor(parts - 1).submit(_run_part, work, bounds[p], bounds[p + 1], p)
                   for p in range(1, parts)]
        try:
            _run_part(work, bounds[0], bounds[1], 0)
        finally:
            for future in futures:
                future.exception()  # wait for every part, even when one has failed
        for future in futures:
            future.result()
