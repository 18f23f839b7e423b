"""The data stage of the cluster workflow: generate a task's Monte Carlo data into the shared cache, then train.

``ml4phys data <overrides>`` is ``ml4phys stage=data <overrides>``: the job composes the same config as training
(presets, ``debug=tiny``, a site file) and fills ``data_dir`` with exactly the sets the task would load, for all
its replicas (:func:`data_requests`), through :func:`physics.ising.dataset.cache_dataset` (per-temperature files,
written atomically under ``flock``, so array jobs that share a cache split the work and never write a file twice).
``data.size=<L>`` keeps the sets of one lattice size and ``data.part=i data.parts=n`` one n-th of each temperature
list, so ``ml4phys data -m task=ising data.size=16,32 hydra/launcher=slurm`` is a SLURM array of two jobs. Each
job writes ``metrics.json`` (``generated``, ``read``: temperatures) like a training job; a sweep's summary lists
them. Training jobs then run with ``data.cache=read``: a missing file is an error naming the size, the
temperatures, the seed and the command that generates it, never a silent generation.

Covered: ``task=ising`` (every replica, the confusion and transfer sets), ``ising_autoencoder`` and
``ising_generative`` (training and held-out sets). The Binder baseline of ``task=ising`` keeps its own cache
(``data_dir/binder``), computed by the first training job that needs it.

:func:`register_resolvers` defines the resolvers of ``conf/hydra/launcher/slurm.yaml``: ``${ml4phys_cpus:}``, the
CPUs of a SLURM job from the config's own worker and thread counts, and ``${ml4phys_setup:}``, the site's setup lines
followed by thread variables consistent with them.
"""
from __future__ import annotations

import logging
import shlex
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

from omegaconf import DictConfig, OmegaConf

from physics.app.schema import AppConfig, ConfigError

log = logging.getLogger(__name__)

STAGES = ("train", "data")
#: the tasks whose Monte Carlo data ``ml4phys data`` generates
DATA_TASKS = ("ising", "ising_autoencoder", "ising_generative")
#: thread variables of the numerical libraries, set by ``${ml4phys_setup:}`` in every SLURM job
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def data_requests(config: AppConfig) -> list:
    """Every Monte Carlo set the configured task loads (:class:`physics.tasks.ising.data.DataRequest`).

    Raises ConfigError (key ``stage``) for a task without Monte Carlo data.
    """
    from physics.tasks.ising.data import DataRequest, data_requests as ising_requests

    name = config.task.name
    if name in ("ising", "ising_autoencoder"):
        return ising_requests(config)
    if name == "ising_generative":  # physics/tasks/ising_generative/models.py, load_sets
        from physics.tasks.ising_generative.models import heldout_seed

        task = config.task
        T = tuple(float(t) for t in task.temperatures)
        return [DataRequest(task.L, T, task.n_train, seed) for seed in (config.seed, heldout_seed(config.seed))]
    raise ConfigError("stage", f"task={name} has no Monte Carlo data to generate: stage=data (ml4phys data) is for "
                               f"task={', task='.join(DATA_TASKS)}.")


def selected_requests(config: AppConfig) -> list:
    """:func:`data_requests` restricted to ``data.size`` and to part ``data.part`` of ``data.parts`` of each
    temperature list (every ``parts``-th temperature from the ``part``-th: each part mixes cheap and critical ones)."""
    from dataclasses import replace

    data = config.data
    requests = [r for r in data_requests(config) if data.size is None or r.L == data.size]
    if data.part is None:
        return requests
    parts = [replace(r, temperatures=r.temperatures[data.part::data.parts]) for r in requests]
    return [r for r in parts if r.temperatures]


def check_stage(config: AppConfig) -> None:
    """The ``stage`` and ``data`` nodes against the task (part of validation). Raises ConfigError."""
    data = config.data
    if config.stage not in STAGES:
        raise ConfigError("stage", f"must be one of {', '.join(map(repr, STAGES))}. Got {config.stage!r} instead.")
    if config.stage == "train":
        for key, value in (("size", data.size), ("part", data.part)):
            if value is not None:
                raise ConfigError(f"data.{key}", f"selects what stage=data (ml4phys data) generates; a training run "
                                                 f"reads every set it needs. Got data.{key}={value} with stage=train.")
        return
    if data.cache == "read":
        raise ConfigError("data.cache", "read forbids generating, which is all stage=data does: use "
                                        "data.cache=generate (the default) with ml4phys data.")
    sizes = sorted({r.L for r in data_requests(config)})
    if data.size is not None and data.size not in sizes:
        raise ConfigError("data.size", f"must be one of the lattice sizes task={config.task.name} loads: "
                                       f"{', '.join(map(str, sizes))} (or null: all). Got {data.size} instead.")


def generate_command(cfg: DictConfig | None = None) -> str:
    """The command that fills the cache of the running job: ``ml4phys data`` with the job's overrides (those of
    Hydra's launcher kept, ``data.cache`` dropped), or a generic one outside Hydra."""
    overrides = None
    try:
        from hydra.core.hydra_config import HydraConfig

        overrides = list(HydraConfig.get().overrides.task)
    except (ImportError, ValueError):
        pass
    if overrides is None:
        name = OmegaConf.select(cfg, "task.name", default="<task>") if cfg is not None else "<task>"
        return f"ml4phys data task={name} <this run's overrides>"
    kept = [o for o in overrides if not o.lstrip("+~").startswith(("data.cache=", "stage="))]
    return " ".join(["ml4phys", "data", *map(shlex.quote, kept)])


@contextmanager
def job_context(config: AppConfig, cfg: DictConfig | None = None) -> Iterator[None]:
    """What every command-line job runs inside: the ``parallel`` node's joblib backend, and with
    ``data.cache=read`` a read-only Ising cache whose errors name :func:`generate_command`."""
    from physics.app.parallel import joblib_backend
    from physics.ising.dataset import read_only_cache

    with ExitStack() as stack:
        stack.enter_context(joblib_backend(config.parallel))
        if config.data.cache == "read":
            stack.enter_context(read_only_cache(f"Generate them first: {generate_command(cfg)}"))
        yield


def generate_data(config: AppConfig) -> dict:
    """Fill the cache with :func:`selected_requests`; return the job's metrics (temperatures generated and read).

    Raises ConfigError for a task without Monte Carlo data, IsingCacheError for a cache it cannot write.
    """
    from physics.ising.dataset import cache_dataset

    task, requests = config.task, selected_requests(config)
    totals = {"generated": 0, "read": 0}
    for request in requests:
        report = cache_dataset(request.L, request.temperatures, request.n_per_temperature, seed=request.seed,
                               lattice=request.lattice, algorithm=task.algorithm, cache_dir=config.data_dir,
                               n_jobs=getattr(task, "n_jobs", None), progress=config.progress)
        totals["generated"] += report.generated
        totals["read"] += report.read
    log.info("data: %d sets (sizes %s), %d temperatures generated, %d read, in %s", len(requests),
             sorted({r.L for r in requests}), totals["generated"], totals["read"], config.data_dir)
    return {"task": task.name, "stage": "data", "seed": config.seed, "sets": len(requests),
            "sizes": sorted({r.L for r in requests}), **totals, "objective": float(totals["generated"]),
            "objective_name": "temperatures_generated", "direction": "minimize"}


def data_job(cfg: DictConfig, run_dir: str | Path, *, in_sweep: bool) -> float:
    """The data stage of one command-line job: validate, :func:`generate_data`, ``metrics.json`` in ``run_dir``;
    returns the number of temperatures generated. Failures as :func:`physics.app.runner.run_job`: ``failure.json``,
    NaN in a sweep, exit status 1 alone for a user error."""
    from physics.app.config import validate
    from physics.app.io import write_json
    from physics.app.runner import failed_job

    start, run_dir = time.perf_counter(), Path(run_dir)
    try:
        config = validate(cfg)
        with job_context(config, cfg):
            metrics = generate_data(config)
        metrics["run_seconds"] = time.perf_counter() - start
        write_json(run_dir / "metrics.json", metrics)
        return metrics["objective"]
    except Exception as error:
        return failed_job(error, run_dir, start, in_sweep=in_sweep)


# -- resolvers of conf/hydra/launcher/slurm.yaml --------------------------------------------------------------
def job_cpus(root: DictConfig) -> int:
    """CPUs of one SLURM job: the job's joblib workers (``task.n_jobs``, else ``parallel.n_jobs``; when neither is
    a positive count, ``local.cpus_per_task``) or its BLAS threads (``trainer.blas_threads``), whichever is more.
    Inside the job a null ``n_jobs`` means every CPU of the allocation, so the two agree."""
    n_jobs = OmegaConf.select(root, "task.n_jobs", default=None)
    if n_jobs is None:
        n_jobs = OmegaConf.select(root, "parallel.n_jobs", default=None)
    fallback = OmegaConf.select(root, "local.cpus_per_task", default=1) or 1
    workers = n_jobs if isinstance(n_jobs, int) and n_jobs > 0 else fallback
    threads = OmegaConf.select(root, "trainer.blas_threads", default=None)
    return int(max(workers, threads or 1))


def job_setup(root: DictConfig) -> list[str]:
    """Setup lines of one SLURM job: the site's (``local.setup``), then each of :data:`THREAD_VARIABLES` set to
    ``trainer.blas_threads`` (all the job's CPUs when null). Joblib's loky workers cap their own threads."""
    threads = OmegaConf.select(root, "trainer.blas_threads", default=None) or job_cpus(root)
    site = OmegaConf.select(root, "local.setup", default=None) or []
    return [str(line) for line in site] + [f"export {name}={threads}" for name in THREAD_VARIABLES]


def register_resolvers() -> None:
    """Register ``ml4phys_cpus`` and ``ml4phys_setup`` (idempotent)."""
    for name, function in (("ml4phys_cpus", job_cpus), ("ml4phys_setup", job_setup)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, lambda *, _root_, _f=function: _f(_root_))


register_resolvers()  # also when a SLURM job unpickles this module's callers before any config is composed
