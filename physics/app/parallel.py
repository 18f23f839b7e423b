"""The ``parallel`` node: which joblib backend and how many workers every joblib loop of a job uses.

:func:`joblib_backend` wraps a job (:func:`physics.app.cluster.job_context` does it for every command-line job) in
``joblib.parallel_config(backend, n_jobs)``: the Monte Carlo of :func:`physics.ising.generate_dataset`, the Binder
baseline's chains and any other ``joblib.Parallel`` without an explicit backend run there. A task's own
``task.n_jobs`` (the Ising tasks) wins over ``parallel.n_jobs``. Results never depend on the backend (each
temperature and chain has its own random stream).

``backend=dask`` needs ``dask.distributed`` (``pip install 'ml4phys[dask]'``, refused at validation otherwise): with
``parallel.scheduler_address`` the job connects to that scheduler (a cluster started with ``dask-scheduler`` /
``dask-jobqueue``); without, it starts a ``LocalCluster`` of ``n_jobs`` single-threaded worker processes (every
core when null) for the job and closes it at the end.
"""
from __future__ import annotations

import logging
from contextlib import ExitStack, contextmanager
from typing import Iterator

from joblib import cpu_count, parallel_config

from physics.app.schema import ParallelConfig

log = logging.getLogger(__name__)


@contextmanager
def joblib_backend(parallel: ParallelConfig) -> Iterator[None]:
    """Run the block with ``parallel``'s joblib backend and ``n_jobs`` as joblib's defaults.

    Parameters
    ----------
    parallel : ParallelConfig
        The validated ``parallel`` node.

    Yields
    ------
    None
    """
    with ExitStack() as stack:
        if parallel.backend == "dask":
            from dask.distributed import Client, LocalCluster

            if parallel.scheduler_address is not None:
                client = stack.enter_context(Client(parallel.scheduler_address))
            else:
                workers = parallel.n_jobs if parallel.n_jobs and parallel.n_jobs > 0 else cpu_count()
                cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                           dashboard_address=None))
                client = stack.enter_context(Client(cluster))
            log.info("joblib backend dask: %s", client)
        stack.enter_context(parallel_config(backend=parallel.backend, n_jobs=parallel.n_jobs))
        yield
