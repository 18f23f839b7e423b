"""``python run.py`` / ``ml4phys`` as a user runs them: a subprocess, the real Hydra, the real output folders."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from physics.tasks import TASKS
from tests.conftest import ROOT


def _run(tmp_path, *arguments, timeout=300):
    return subprocess.run([sys.executable, str(ROOT / "run.py"), f"hydra.run.dir={tmp_path}/run", *arguments],
                          cwd=tmp_path, capture_output=True, text=True, timeout=timeout)


def test_run_py_task_fit_end_to_end(tmp_path):
    result = _run(tmp_path, "task=fit", "debug=tiny", "progress=true")
    assert result.returncode == 0, result.stderr
    run_dir = tmp_path / "run"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["task"] == "fit" and metrics["objective"] > 0 and metrics["objective_name"] == "network.val_mse"
    assert (run_dir / ".hydra" / "config.yaml").exists()
    log = (run_dir / "run.log").read_text()
    for stage in ("data: done", "training: done", "baselines: done", "figures: done"):
        assert stage in log
    assert sorted(p.name for p in (run_dir / "figures").iterdir()) == ["fit.png", "loss.png", "test_error.png"]
    # progress=true, but stderr is a pipe: no progress-bar frames anywhere
    assert "\r" not in result.stdout + result.stderr + log


@pytest.mark.parametrize("arguments,key,given", [
    (["+task.epoch=10"], "task.epoch", "given 10"),
    (["optimizer=adam", "optimizer.momentum=0.9"], "optimizer.momentum", "given 0.9"),
    (["model=cnn", "task=materials"], "model", "Got model=cnn"),
    (["task=nosuch"], "task", "'nosuch'"),
    (["optimizer.lr=-1"], "optimizer.lr", "Got -1.0 instead"),
    (["task.target=image"], "task.image_path", "Got None instead"),
])
def test_bad_input_is_refused_before_any_work(tmp_path, arguments, key, given):
    result = _run(tmp_path, *arguments)
    assert result.returncode == 1
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert f"Invalid config value for '{key}'" in lines[0] and given in lines[0]
    assert not (tmp_path / "run").exists()  # no run folder left behind
    assert not (tmp_path / "outputs").exists()


def test_a_sweep_with_a_bad_key_starts_no_job(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), "-m", f"hydra.sweep.dir={tmp_path}/sweep",
                             "trainer.epoch=1,2"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "'trainer.epoch'" in result.stderr
    assert not (tmp_path / "sweep").exists()


def test_help_lists_the_tasks_and_every_key_of_the_chosen_task(tmp_path):
    general = _run(tmp_path, "--help")
    assert general.returncode == 0
    for name in TASKS:
        assert f"  {name} " in general.stdout
    for group in ("model", "optimizer", "schedule", "experiment", "debug"):
        assert f"  {group} " in general.stdout
    fit = _run(tmp_path, "task=fit", "--help")
    assert "task.target = gaussian_abs" in fit.stdout and "[one of: sine, lorentzian" in fit.stdout
    assert "trainer.epochs = 400" in fit.stdout and "optimizer.beta2 = 0.999" in fit.stdout
    assert "model.init = null" in fit.stdout and "he_uniform" in fit.stdout
    assert not (tmp_path / "run").exists()
