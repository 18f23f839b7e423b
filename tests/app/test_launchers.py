"""Every task through every local launcher, as real ``python run.py -m`` subprocesses; the SLURM preset composed.

Each sweep is ``debug=tiny`` with two seeds (two jobs of a few seconds); the Monte Carlo data of the Ising tasks
comes from one cache for this module. The objective of each job must be the one the same point gives when run
alone in this process: a job's numbers do not depend on the launcher or the worker that ran it.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from physics.app.aggregate import expected_jobs
from physics.tasks import TASKS
from tests.conftest import ROOT

LAUNCHERS = {"joblib": ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
             "submitit_local": ["hydra/launcher=submitit_local"]}
#: every task with every launcher; half of them ``slow``, alternately, so that the default run still covers each
#: task and each launcher (the whole matrix took 2 min 45 s to 4 min 15 s on the shared 2-core machine)
MATRIX = [pytest.param(task, launcher, id=f"{task}-{launcher}", marks=[] if (i + j) % 2 else [pytest.mark.slow])
          for i, task in enumerate(TASKS) for j, launcher in enumerate(LAUNCHERS)]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """One data cache for every sweep of this module (each Monte Carlo configuration is made once)."""
    return tmp_path_factory.mktemp("launcher_cache")


@pytest.fixture(scope="module")
def alone(compose_config, data_dir, tmp_path_factory):
    """``alone(task)``: the objective of ``debug=tiny seed=1`` of ``task`` run in this process (once per task)."""
    from physics.app.runner import run

    objectives = {}

    def objective(task):
        if task not in objectives:
            cfg = compose_config([f"task={task}", "debug=tiny", "seed=1", f"data_dir={data_dir}"])
            objectives[task] = run(cfg, tmp_path_factory.mktemp(f"alone_{task}")).objective
        return objectives[task]
    return objective


@pytest.mark.parametrize("task,launcher", MATRIX)
def test_every_task_runs_through_every_launcher(tmp_path, task, launcher, data_dir, alone):
    if launcher == "submitit_local":
        pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="needs the cluster extra")
    sweep = tmp_path / "sweep"
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), "-m", f"hydra.sweep.dir={sweep}",
                             f"task={task}", "debug=tiny", "seed=0,1", f"data_dir={data_dir}", *LAUNCHERS[launcher]],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    if launcher == "joblib":
        assert "Joblib.Parallel(n_jobs=2" in result.stdout + result.stderr
    summary = json.loads((sweep / "summary.json").read_text())
    assert (summary["jobs"], summary["ok"]) == (2, 2), [row["error"] for row in summary["rows"]]
    rows = {row["seed"]: row for row in summary["rows"]}
    assert sorted(rows) == [0, 1] and all(row["metrics.task"] == task for row in rows.values())
    assert len(expected_jobs(sweep)) == 2  # the real multirun.yaml lists both jobs of the grid
    assert "jobs failed" not in result.stderr
    # a job's random streams depend only on its own config, not on the process (or launcher) that ran it
    assert rows[1]["metrics.objective"] == alone(task)


@pytest.mark.parametrize("task", TASKS)
def test_slurm_preset_composes_with_every_task(compose_config, task):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="needs the cluster extra")
    cfg = compose_config([f"task={task}", "debug=tiny", "hydra/launcher=slurm"], return_hydra_config=True)
    assert cfg.task.name == task
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert launcher.timeout_min == 60 and launcher.cpus_per_task == 1 and launcher.mem_gb == 8
    assert launcher.array_parallelism == 32 and launcher.partition is None
    assert launcher.submitit_folder == f"{cfg.hydra.sweep.dir}/.submitit/%j"
    assert any("OMP_NUM_THREADS" in line for line in launcher.setup)
    assert cfg.hydra.callbacks.aggregate._target_ == "physics.app.aggregate.AggregateCallback"
