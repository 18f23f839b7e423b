"""Run one task from a composed config: validate -> the task's ``run_task`` -> ``metrics.json``.

``run(cfg, run_dir)`` is what ``run.py`` calls and what tests call without Hydra. Every task module exposes
``run_task(config: AppConfig, run_dir: Path) -> dict`` returning nested metrics with an ``objective`` (a float,
lower is better unless ``objective_direction`` says "maximize") and writes its figures and CSV files itself.
"""
from __future__ import annotations

import importlib
import logging
import math
import time
import traceback
from pathlib import Path
from typing import Any

from omegaconf import DictConfig
from threadpoolctl import threadpool_limits

from physics.config import TASK_MODULES, ConfigError, validate
from physics.io import flatten, write_json

log = logging.getLogger(__name__)

#: errors a user can cause (bad values, bad data, diverging training): reported in one line, no traceback
USER_ERRORS = (ValueError, TypeError, FloatingPointError, OSError)


def run(cfg: DictConfig, run_dir: str | Path) -> dict[str, Any]:
    """Validate ``cfg``, run its task with outputs in ``run_dir`` and write ``metrics.json`` there.

    Returns the flat metrics (keys like ``baselines.random_forest.test_mse``).
    """
    config = validate(cfg)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    task = importlib.import_module(TASK_MODULES[config.task.name])
    start = time.perf_counter()
    with threadpool_limits(limits=config.task.blas_threads, user_api="blas"):
        metrics = task.run_task(config, run_dir)
    metrics = {"task": config.task.name, "seed": config.seed, **flatten(metrics),
               "run_seconds": time.perf_counter() - start}
    if not math.isfinite(metrics["objective"]):
        raise FloatingPointError(f"the objective of task {config.task.name!r} is {metrics['objective']}: "
                                 "the results are not finite and were not written as metrics")
    write_json(run_dir / "metrics.json", metrics)
    log.info("metrics written to %s (objective %s = %.6g)", run_dir / "metrics.json",
             metrics.get("objective_name", "objective"), metrics["objective"])
    return metrics


def run_job(cfg: DictConfig, run_dir: str | Path, *, in_sweep: bool) -> float:
    """``run`` for the command line: returns the objective.

    A failure is logged and written to ``failure.json`` (never ``metrics.json``). In a sweep any failure is
    recorded and the job returns NaN, so the other jobs go on and the summary lists it. Alone, a user error
    (bad value, bad data, diverging training) exits with status 1 and a one-line message; any other error
    (a bug) raises with its traceback.
    """
    start = time.perf_counter()
    try:
        return float(run(cfg, run_dir)["objective"])
    except Exception as error:
        user_error = isinstance(error, USER_ERRORS)
        message = str(error) if isinstance(error, ConfigError) else f"{type(error).__name__}: {error}"
        if user_error:
            log.error("%s", message)
            log.debug("%s", traceback.format_exc())
        else:
            log.exception("the job failed")
        write_json(Path(run_dir) / "failure.json",
                   {"status": "failed", "error": message, "error_type": type(error).__name__,
                    "run_seconds": time.perf_counter() - start})
        if in_sweep:
            return math.nan
        if user_error:
            raise SystemExit(1) from None
        raise
