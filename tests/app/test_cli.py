"""``python run.py`` as a user runs it: a subprocess, the real Hydra, the real output folders."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _run(tmp_path, *overrides):
    return subprocess.run([sys.executable, str(ROOT / "run.py"), f"hydra.run.dir={tmp_path}/run",
                           "progress=false", *overrides], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)


def test_run_py_task_fit_end_to_end(tmp_path):
    result = _run(tmp_path, "task=fit", "task.epochs=20", "task.n_samples=400")
    assert result.returncode == 0, result.stderr
    run_dir = tmp_path / "run"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["task"] == "fit" and metrics["objective"] > 0
    assert (run_dir / ".hydra" / "config.yaml").exists()
    log = (run_dir / "run.log").read_text()
    for stage in ("data: done", "training: done", "baselines: done", "figures: done"):
        assert stage in log
    assert sorted(p.name for p in (run_dir / "figures").iterdir()) == ["fit.png", "loss.png", "test_error.png"]


@pytest.mark.parametrize("override,message", [
    ("task=nosuch", "Could not find 'task/nosuch'"),
    ("task.typo=1", "Key 'typo' not in 'FitTaskConfig'"),
    ("optimizer.lr=-1", "'optimizer.lr': must be in (0.0, inf). Got -1.0 instead."),
    ("task.n_samples=0", "'task.n_samples'"),
    ("task.target=image", "'task.image_path': must name a PNG or JPEG file"),
])
def test_bad_input_exits_nonzero_with_one_clear_message(tmp_path, override, message):
    result = _run(tmp_path, override)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert message in output
    assert "Traceback" not in output
    assert not (tmp_path / "run" / "metrics.json").exists()
