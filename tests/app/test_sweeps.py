"""Multirun: every point runs in its own folder, failures are recorded, the sweep is summarised."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from physics.app.aggregate import aggregate, main as aggregate_main
from tests.conftest import ROOT

TINY = ["task=fit", "debug=tiny", "baseline=none"]


def _multirun(sweep_dir, *overrides, timeout=300):
    return subprocess.run([sys.executable, str(ROOT / "run.py"), "-m", f"hydra.sweep.dir={sweep_dir}", *TINY,
                           *overrides], cwd=sweep_dir.parent, capture_output=True, text=True, timeout=timeout)


def test_a_failing_point_is_recorded_and_the_others_still_run(tmp_path):
    sweep = tmp_path / "sweep"
    # SGD at lr=1000 diverges in the first epoch; lr=0.05 trains normally
    result = _multirun(sweep, "optimizer=sgd", "optimizer.lr=0.05,1000")
    assert result.returncode == 0, result.stderr
    rows = json.loads((sweep / "summary.json").read_text())["rows"]
    by_lr = {row["optimizer.lr"]: row for row in rows}
    assert by_lr[0.05]["status"] == "ok" and by_lr[0.05]["metrics.objective"] > 0
    assert by_lr[1000]["status"] == "failed"
    log = (sweep / "1" / "run.log").read_text()
    assert "[job 1]" in log and "[job 0]" not in log  # parallel jobs' lines can be told apart
    assert "Training diverged at epoch 1" in by_lr[1000]["error"]
    assert not (sweep / "1" / "metrics.json").exists()
    assert (sweep / "summary.csv").read_text().splitlines()[0].startswith("job,status,error,run_seconds")
    assert (sweep / "figures" / "objective_vs_optimizer.lr.png").stat().st_size > 10_000


def _fake_sweep(sweep, points):
    """Job folders as Hydra and run.py leave them: overrides, and metrics.json or failure.json."""
    for job, (overrides, objective) in enumerate(points):
        folder = sweep / str(job)
        (folder / ".hydra").mkdir(parents=True)
        (folder / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
        if objective is None:
            (folder / "failure.json").write_text(json.dumps({"status": "failed", "error": "diverged"}))
        else:
            (folder / "metrics.json").write_text(json.dumps({"objective": objective, "run_seconds": 1.0,
                                                             "objective_name": "network.test_mse"}))


def test_two_swept_parameters_and_seeds_give_a_heatmap_and_mean_std_lines(tmp_path):
    sweep = tmp_path / "sweep"
    points = [([f"optimizer.lr={lr}", f"model.hidden={width}", f"seed={seed}"], lr * width + seed)
              for lr in (0.001, 0.01) for width in (8, 16) for seed in (0, 1)]
    points[-1] = (points[-1][0], None)  # one failed job
    _fake_sweep(sweep, points)
    rows = aggregate(sweep)
    summary = json.loads((sweep / "summary.json").read_text())
    assert summary["jobs"] == 8 and summary["ok"] == 7 and summary["failed"] == 1
    assert summary["swept"] == ["optimizer.lr", "model.hidden", "seed"]
    assert rows[0]["optimizer.lr"] == 0.001 and rows[0]["model.hidden"] == 8
    figures = {path.name for path in (sweep / "figures").iterdir()}
    assert figures == {"objective_heatmap.png", "objective_vs_optimizer.lr.png", "objective_vs_model.hidden.png"}


def test_joblib_launcher_runs_a_sweep_in_worker_processes(tmp_path, compose_config):
    from physics.app.runner import run

    sweep = tmp_path / "sweep"
    result = _multirun(sweep, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "seed=0,1")
    assert result.returncode == 0, result.stderr
    assert "Joblib.Parallel(n_jobs=2" in result.stdout + result.stderr
    summary = json.loads((sweep / "summary.json").read_text())
    assert summary["ok"] == 2
    # a job's random streams depend only on its own config, not on the worker process that ran it
    alone = run(compose_config([*TINY, "seed=1"]), tmp_path / "alone")
    assert [row for row in summary["rows"] if row["seed"] == 1][0]["metrics.objective"] == alone.objective


def test_submitit_local_launcher_runs_a_sweep(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="needs the cluster extra")
    sweep = tmp_path / "sweep"
    result = _multirun(sweep, "hydra/launcher=submitit_local", "seed=0,1")
    assert result.returncode == 0, result.stderr
    assert json.loads((sweep / "summary.json").read_text())["ok"] == 2


def test_slurm_preset_composes_with_its_fields(compose_config):
    launcher = compose_config(["hydra/launcher=slurm"], return_hydra_config=True).hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert launcher.timeout_min == 60 and launcher.cpus_per_task == 2 and launcher.mem_gb == 8
    assert launcher.array_parallelism == 32 and launcher.partition is None
    assert any("OMP_NUM_THREADS" in line for line in launcher.setup)


def test_aggregate_command_on_an_interrupted_sweep(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    for job, overrides in enumerate((["seed=0"], ["seed=1"])):
        (sweep / str(job) / ".hydra").mkdir(parents=True)
        (sweep / str(job) / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    (sweep / "0" / "metrics.json").write_text(json.dumps({"objective": 0.5, "run_seconds": 1.0}))
    aggregate_main([str(sweep)])  # job 1 never finished
    rows = aggregate(sweep)
    assert [row["status"] for row in rows] == ["ok", "incomplete"]
    assert "2 jobs summarised" in capsys.readouterr().out


def test_aggregate_refuses_a_folder_that_is_not_a_sweep(tmp_path):
    with pytest.raises(SystemExit):
        aggregate_main([str(tmp_path)])
