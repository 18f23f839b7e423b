"""Multirun: every point runs in its own folder, failures are recorded, the sweep is summarised, the exit status
says whether any job worked. (Every task through every launcher: test_launchers.py.)"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import yaml
from omegaconf import OmegaConf

from physics.app.aggregate import AggregateCallback, aggregate, main as aggregate_main
from physics.app.cli import _exit_after_sweep
from tests.conftest import ROOT

TINY = ["task=fit", "debug=tiny", "baseline=none"]


def _multirun(sweep_dir, *overrides, timeout=300):
    return subprocess.run([sys.executable, str(ROOT / "run.py"), "-m", f"hydra.sweep.dir={sweep_dir}", *TINY,
                           *overrides], cwd=sweep_dir.parent, capture_output=True, text=True, timeout=timeout)


def _last_line(text):
    return text.strip().splitlines()[-1]


def test_a_failing_point_is_recorded_and_the_others_still_run(tmp_path):
    sweep = tmp_path / "sweep"
    # SGD at lr=1000 diverges in the first epoch; lr=0.05 trains normally
    result = _multirun(sweep, "optimizer=sgd", "optimizer.lr=0.05,1000")
    assert result.returncode == 0, result.stderr
    assert _last_line(result.stderr) == f"1 of 2 jobs failed, see {sweep / 'summary.csv'}"
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


def test_a_sweep_whose_jobs_all_failed_exits_with_status_1(tmp_path):
    sweep = tmp_path / "sweep"
    result = _multirun(sweep, "optimizer=sgd", "optimizer.lr=1000,2000")
    assert result.returncode == 1
    assert _last_line(result.stderr) == f"2 of 2 jobs failed, see {sweep / 'summary.csv'}"
    summary = json.loads((sweep / "summary.json").read_text())
    assert (summary["jobs"], summary["failed"]) == (2, 2)
    # as if the sweep had been interrupted before job 1: Hydra's multirun.yaml still lists it
    shutil.rmtree(sweep / "1")
    rows = aggregate(sweep)
    assert [(row["job"], row["status"], row["optimizer.lr"]) for row in rows] == [("0", "failed", 1000),
                                                                                 ("1", "not started", 2000)]


def test_a_rerun_into_the_same_sweep_folder_reports_the_point_that_now_fails(tmp_path):
    sweep = tmp_path / "sweep"
    first = _multirun(sweep, "optimizer=sgd", "optimizer.lr=0.05")
    assert first.returncode == 0 and (sweep / "0" / "metrics.json").exists(), first.stderr
    rerun = _multirun(sweep, "optimizer=sgd", "optimizer.lr=1000,0.05")  # job 0 now diverges
    assert rerun.returncode == 0, rerun.stderr
    assert _last_line(rerun.stderr) == f"1 of 2 jobs failed, see {sweep / 'summary.csv'}"
    rows = json.loads((sweep / "summary.json").read_text())["rows"]
    assert [(row["optimizer.lr"], row["status"]) for row in rows] == [(1000, "failed"), (0.05, "ok")]
    assert (sweep / "0" / "failure.json").exists() and not (sweep / "0" / "metrics.json").exists()


def _fake_sweep(sweep, points):
    """Job folders as Hydra and run.py leave them: overrides, and metrics.json or failure.json."""
    for job, (overrides, objective) in enumerate(points):
        folder = sweep / str(job)
        (folder / ".hydra").mkdir(parents=True)
        (folder / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(list(overrides)))
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


def test_overrides_are_parsed_as_hydra_parses_them(tmp_path):
    sweep = tmp_path / "sweep"
    labels = ["%percent", "@at", "*star", "|pipe", r"$\frac$", "1e-3"]
    lrs = ["1e-3", "1e-2", "0.1", "1", "1E1", "2e-4"]
    _fake_sweep(sweep, [([f"optimizer.lr={lr}", f"task.label={label if label != '1e-3' else repr(label)}",
                          "model.hidden=[32,32]"], float(lr)) for lr, label in zip(lrs, labels)])
    rows = aggregate(sweep)
    assert [row["optimizer.lr"] for row in rows] == [0.001, 0.01, 0.1, 1, 10.0, 0.0002]
    assert all(isinstance(row["optimizer.lr"], (int, float)) for row in rows)
    assert [row["task.label"] for row in rows] == labels  # '1e-3' was quoted: a string
    assert rows[0]["model.hidden"] == [32, 32]
    summary = json.loads((sweep / "summary.json").read_text())
    assert summary["ok"] == 6 and summary["swept"] == ["optimizer.lr", "task.label"]
    assert (sweep / "figures" / "objective_heatmap.png").exists()  # a label with $...$ is not typeset


def test_a_job_file_that_cannot_be_read_is_a_broken_row_and_the_others_are_summarised(tmp_path):
    sweep = tmp_path / "sweep"
    _fake_sweep(sweep, [([f"seed={seed}"], 0.5) for seed in range(5)] + [(["seed=5"], None)])
    broken = {"1": sweep / "1" / "metrics.json", "2": sweep / "2" / ".hydra" / "overrides.yaml",
              "3": sweep / "3" / "metrics.json", "4": sweep / "4" / "metrics.json"}
    broken["1"].write_text('{"objective": 0.')               # truncated
    broken["2"].write_text("- optimizer.lr=[1,\n")           # not an override
    broken["3"].write_bytes(b"\xff\xfe{}")                   # not text
    broken["4"].write_text("[0.5]")                          # not an object
    rows = aggregate(sweep)
    assert [row["status"] for row in rows] == ["ok", "broken", "broken", "broken", "broken", "failed"]
    for row in rows[1:5]:
        assert row["error"].startswith(f"cannot read {broken[row['job']]}: "), row["error"]
    summary = json.loads((sweep / "summary.json").read_text())
    assert (summary["jobs"], summary["ok"], summary["broken"], summary["failed"]) == (6, 1, 4, 1)
    assert len((sweep / "summary.csv").read_text().splitlines()) == 7


def test_aggregate_command_lists_the_jobs_an_interrupted_sweep_never_started(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    # the grid as Hydra's basic sweeper expands it: the sweeper's params first, then the command line
    sweep.mkdir()
    OmegaConf.save({"hydra": {"sweeper": {"_target_": "hydra._internal.core_plugins.basic_sweeper.BasicSweeper",
                                          "max_batch_size": None, "params": {"seed": "range(0,2)"}},
                              "overrides": {"task": ["task=fit", "model=glob(mlp*)", "optimizer.lr=1e-3,1e-2"]}}},
                   sweep / "multirun.yaml")
    _fake_sweep(sweep, [(["seed=0", "task=fit", "model=mlp", "optimizer.lr=1e-3"], 0.5)])
    (sweep / "1" / ".hydra").mkdir(parents=True)  # job 1 started and never finished
    (sweep / "1" / ".hydra" / "overrides.yaml").write_text(
        yaml.safe_dump(["seed=0", "task=fit", "model=mlp", "optimizer.lr=1e-2"]))
    aggregate_main([str(sweep)])
    assert "8 jobs summarised" in capsys.readouterr().out
    rows = json.loads((sweep / "summary.json").read_text())["rows"]
    assert [row["status"] for row in rows] == ["ok", "incomplete"] + ["not started"] * 6
    assert [row["job"] for row in rows] == [str(n) for n in range(8)]
    assert {key: rows[6][key] for key in ("seed", "task", "model", "optimizer.lr")} == {
        "seed": 1, "task": "fit", "model": "mlp_materials", "optimizer.lr": 0.001}


def test_aggregate_command_exits_1_when_no_job_is_ok(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    _fake_sweep(sweep, [(["seed=0"], None), (["seed=1"], None)])
    with pytest.raises(SystemExit) as stop:
        aggregate_main([str(sweep)])
    assert stop.value.code == 1 and "(2 of 2 not ok)" in capsys.readouterr().out
    _fake_sweep(tmp_path / "partly", [(["seed=0"], None), (["seed=1"], 0.5)])
    aggregate_main([str(tmp_path / "partly")])  # one job ok: a summary, no failure


def test_aggregate_refuses_a_folder_that_is_not_a_sweep(tmp_path):
    with pytest.raises(SystemExit):
        aggregate_main([str(tmp_path)])


@pytest.mark.parametrize("objectives,status,message", [
    ([None, None], 1, "2 of 2 jobs failed, see {summary}"),
    ([0.5, None], 0, "1 of 2 jobs failed, see {summary}"),
    ([0.5, 0.5], 0, ""),
    ([], 1, "the sweep summary {summary} could not be written: ValueError: "),  # no job: no summary
])
def test_the_exit_status_of_a_sweep_follows_its_jobs(tmp_path, capsys, objectives, status, message):
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    _fake_sweep(sweep, [([f"seed={seed}"], objective) for seed, objective in enumerate(objectives)])
    AggregateCallback().on_multirun_end(OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep)}}}))
    if status:
        with pytest.raises(SystemExit) as exit_:
            _exit_after_sweep()
        assert exit_.value.code == status
    else:
        _exit_after_sweep()
    err = capsys.readouterr().err
    assert err.startswith(message.format(summary=sweep / "summary.csv")) if message else err == ""
    _exit_after_sweep()  # the outcome is read once: a later command in this process is not affected
    assert capsys.readouterr().err == ""
