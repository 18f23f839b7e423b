"""What the project writes: file modes that a colleague can read, and the installed app working from a wheel."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from physics.app.runner import run
from physics.ising import generate_dataset
from tests.conftest import ROOT


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_results_are_readable_by_others_under_umask_022(debug_config, tmp_path, umask_022):
    run(debug_config(), tmp_path)
    written = [tmp_path / name for name in ("metrics.json", "models.csv", "history.csv", "model.npz", "model.json")]
    written += sorted((tmp_path / "figures").glob("*.png"))
    assert len(written) == 8
    assert {path.name: _mode(path) for path in written} == {path.name: 0o644 for path in written}


def test_ising_cache_files_are_shareable_under_umask_022(tmp_path, umask_022):
    generate_dataset(4, np.array([2.0, 3.0]), 4, seed=0, cache_dir=tmp_path, n_jobs=1, progress=False)
    cached = sorted(tmp_path.rglob("*.npz"))
    assert len(cached) == 2 and all(_mode(path) == 0o644 for path in cached)


def test_the_wheel_installs_an_app_that_runs_outside_the_clone(tmp_path):
    """A non-editable install: the configs travel in the package, ``ml4phys`` runs from any folder."""
    wheels, target, elsewhere = tmp_path / "dist", tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    wheel = next(wheels.glob("ml4phys-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=600)
    environment = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run([sys.executable, "-c", "import physics, importlib.metadata as m; print(physics.__file__);"
                            "print(m.metadata('ml4phys')['License-Expression'])"], cwd=elsewhere, env=environment,
                           capture_output=True, text=True, check=True).stdout.split()
    assert where[0].startswith(str(target)) and where[1] == "MIT"
    assert (target / "physics" / "materials" / "data" / "SOURCES.md").exists()
    result = subprocess.run([str(target / "bin" / "ml4phys"), "task=fit", "debug=tiny"], cwd=elsewhere,
                            env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert len(list(elsewhere.glob("outputs/fit/*/*/metrics.json"))) == 1
    notebook = ("from physics.app import compose, run\n"
                "result = run(compose(['task=fit', 'debug=tiny', 'task.target=sine']), 'notebook')\n"
                "print(result.objective_name)")
    composed = subprocess.run([sys.executable, "-c", notebook], cwd=elsewhere, env=environment, capture_output=True,
                              text=True, timeout=300)
    assert composed.stdout.split()[-1] == "network.val_mse", composed.stderr
    assert (elsewhere / "notebook" / "metrics.json").exists()


def test_an_earlier_verdict_in_the_folder_is_not_kept(debug_config, tmp_path):
    (tmp_path / "failure.json").write_text('{"status": "failed"}')
    run(debug_config(), tmp_path)
    assert not (tmp_path / "failure.json").exists() and (tmp_path / "metrics.json").exists()


def test_a_failed_rerun_leaves_none_of_the_earlier_results(debug_config, tmp_path):
    run(debug_config(), tmp_path)
    (tmp_path / ".hydra").mkdir()
    (tmp_path / "run.log").write_text("this run's log")
    with pytest.raises(FloatingPointError):
        run(debug_config(["optimizer=sgd", "optimizer.lr=1000"]), tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == [".hydra", "run.log"]


def test_a_folder_that_is_no_run_folder_is_left_alone(debug_config, tmp_path):
    (tmp_path / "notes.csv").write_text("mine")
    run(debug_config(), tmp_path)
    assert (tmp_path / "notes.csv").read_text() == "mine"
