"""Run one task from a composed config: validate -> the task's ``run`` -> ``metrics.json``.

:func:`run` is what the command line calls for each job and what tests and notebooks call without Hydra.
A result that is not a result (a non-finite objective, an exception) is never written as ``metrics.json``:
:func:`run_job` writes ``failure.json`` instead, and in a sweep returns NaN so that the other jobs go on.
"""
from __future__ import annotations

import logging
import math
import shutil
import time
import traceback
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from threadpoolctl import threadpool_limits

from core.training import TrainingDivergedError
from core._atomic import remove_stale_temporaries
from physics.app.config import validate
from physics.app.io import write_json
from physics.app.result import TaskResult
from physics.app import plots, tracking
from physics.app.schema import ConfigError
from physics.tasks import task_module

log = logging.getLogger(__name__)

#: errors a user can cause (bad values, bad data, diverging training): reported in one line, no traceback
USER_ERRORS = (ValueError, TypeError, FloatingPointError, OSError)
#: the optimizer keyword a TrainingDivergedError blames -> the config key that sets it (physics/app/training.py)
CONFIG_KEYS = {"learning_rate": "optimizer.lr", "weight_decay": "optimizer.weight_decay",
               "decoupled_weight_decay": "optimizer.decoupled_weight_decay"}


def divergence_hint(error: BaseException, cfg: DictConfig) -> str:
    """For a training that diverged (a TrainingDivergedError in ``error``'s chain of causes): the config key to
    change, e.g. `` (config: optimizer.lr = 1000000.0; try a smaller optimizer.lr or set optimizer.clip_norm)``;
    otherwise ""."""
    seen = set()
    while error is not None and not isinstance(error, TrainingDivergedError) and id(error) not in seen:
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    key = CONFIG_KEYS.get(error.parameter) if isinstance(error, TrainingDivergedError) else None
    if key is None:
        return ""
    value = OmegaConf.select(cfg, key, default=error.value)
    advice = f"try a smaller {key}"
    if key == "optimizer.lr":
        clip = OmegaConf.select(cfg, "optimizer.clip_norm", default=None)
        advice += " or set optimizer.clip_norm" if clip is None else f" or optimizer.clip_norm (= {clip})"
    return f" (config: {key} = {value}; {advice})"


#: what a run folder holds besides the task's outputs: Hydra's record of the config and the log of this run
_KEPT = {".hydra", "run.log"}


def clear_previous_run(run_dir: Path) -> None:
    """Remove an earlier run's outputs from ``run_dir``, so nothing stale is read as this run's.

    Only a folder that an earlier run marked as its own (``metrics.json`` or ``failure.json``) is cleared, and
    only of what is not Hydra's (``.hydra/``, ``run.log``): a folder of anything else is left alone.
    """
    if not ((run_dir / "metrics.json").exists() or (run_dir / "failure.json").exists()):
        return
    for path in run_dir.iterdir():
        if path.name not in _KEPT:
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()


def run(cfg: DictConfig, run_dir: str | Path, *, job: tracking.Job | None = None) -> TaskResult:
    """Validate ``cfg``, run its task with outputs in ``run_dir``, write ``metrics.json`` there; return the result.

    The task's figures are drawn with the settings of the ``figures`` node (:func:`plots.figure_settings`).
    Every network's epochs are gathered into ``epochs.csv`` and the run is logged to the ``logger`` node's tracker
    (:mod:`physics.app.tracking`), as failed when the task raises; ``job`` names the run there (None: a run
    outside Hydra, named after ``run_dir``).
    Raises ConfigError before any work (and before ``run_dir`` is created) when the config is invalid, and
    FloatingPointError, writing no ``metrics.json``, when the objective is not finite.
    """
    config = validate(cfg)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    clear_previous_run(run_dir)
    if (run_dir / "figures").is_dir():  # a killed run's half-written figures (SIGKILL cannot be caught)
        remove_stale_temporaries(run_dir / "figures")
    start = time.perf_counter()
    figures = config.figures
    try:
        with threadpool_limits(limits=config.trainer.blas_threads, user_api="blas"), \
                plots.figure_settings(figures.format, figures.scale, figures.size), tracking.active_run(run_dir):
            result = task_module(config.task.name).run(config, run_dir)
        if not result.finite:
            raise FloatingPointError(f"the objective {result.objective_name} of task {config.task.name!r} is "
                                     f"{result.objective}: the results are not finite and were not written as "
                                     f"metrics")
    except Exception:
        tracking.log_run(config.logger, cfg, run_dir, job=job, failed=True)
        raise
    metrics = result.flat({"task": config.task.name, "seed": config.seed})
    metrics["run_seconds"] = time.perf_counter() - start
    write_json(run_dir / "metrics.json", metrics)
    log.info("metrics written to %s (objective %s = %.6g, %s)", run_dir / "metrics.json", result.objective_name,
             result.objective, result.direction)
    tracking.log_run(config.logger, cfg, run_dir, job=job, metrics=metrics)
    return result


def run_job(cfg: DictConfig, run_dir: str | Path, *, in_sweep: bool) -> float:
    """:func:`run` for the command line; returns the objective.

    A failure is logged and written to ``failure.json`` (never ``metrics.json``). In a sweep any failure is
    recorded and the job returns NaN, so the other jobs go on and the summary lists it. Alone, a user error
    exits with status 1 and a one-line message; any other error (a bug) raises with its traceback.
    """
    start = time.perf_counter()
    try:
        return run(cfg, run_dir, job=tracking.hydra_job()).objective
    except Exception as error:
        return failed_job(error, run_dir, start, in_sweep=in_sweep, hint=divergence_hint(error, cfg))


def failed_job(error: Exception, run_dir: str | Path, start: float, *, in_sweep: bool, hint: str = "") -> float:
    """Log ``error`` and write ``failure.json`` in ``run_dir`` (never ``metrics.json``); return NaN in a sweep,
    else exit with status 1 for a user error (one line) or re-raise anything else (a bug, with its traceback).

    Parameters
    ----------
    error : Exception
        What stopped the job (call from its ``except`` block: a bug is re-raised with ``raise``).
    run_dir : str or Path
        The job's folder.
    start : float
        ``time.perf_counter()`` when the job started (for ``run_seconds``).
    in_sweep : bool
        Whether the job is one of a sweep.
    hint : str, default ""
        Appended to the message (e.g. :func:`divergence_hint`).
    """
    user_error = isinstance(error, USER_ERRORS)
    message = (str(error) if isinstance(error, ConfigError) else f"{type(error).__name__}: {error}") + hint
    if user_error:
        log.error("%s", message)
        log.debug("%s", traceback.format_exc())
    else:
        log.exception("the job failed")
    write_json(Path(run_dir) / "failure.json", {"status": "failed", "error": message, "error_type": type(error).__name__,
                                                "run_seconds": time.perf_counter() - start})
    if in_sweep:
        return math.nan
    if user_error:
        raise SystemExit(1) from None
    raise error
