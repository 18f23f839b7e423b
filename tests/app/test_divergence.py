"""A diverged training is a failure, never a result: ``run`` raises, ``run_job`` writes failure.json (naming the
config key to change) and no metrics.json; non-finite hyper-parameters are refused before any work."""
from __future__ import annotations

import json
import math

import pytest

from core.training import TrainingDivergedError
from physics.app.runner import run, run_job
from physics.app.schema import ConfigError


@pytest.mark.parametrize("task", ["ising", "fit"])
def test_huge_learning_rate_raises_and_writes_nothing(debug_config, tmp_path, task):
    # task=ising optimizer.lr=1e6 used to end with a validation loss of 4.7e19, exit 0 and a metrics.json
    with pytest.raises(TrainingDivergedError, match=r"Training diverged at epoch \d+.*learning rate \(currently "
                                                    r"1e\+06\)") as info:
        run(debug_config([f"task={task}", "optimizer.lr=1e6"]), tmp_path)
    assert info.value.parameter == "learning_rate"
    assert not (tmp_path / "metrics.json").exists()


@pytest.mark.parametrize("task", ["ising", "fit", "materials"])
def test_run_job_writes_failure_naming_the_config_key(debug_config, tmp_path, task):
    cfg = debug_config([f"task={task}", "optimizer.lr=1e6"])
    with pytest.raises(SystemExit) as exit_info:
        run_job(cfg, tmp_path, in_sweep=False)
    assert exit_info.value.code == 1
    assert not (tmp_path / "metrics.json").exists()
    failure = json.loads((tmp_path / "failure.json").read_text())
    assert failure["status"] == "failed"
    assert failure["error"].endswith("(config: optimizer.lr = 1000000.0; try a smaller optimizer.lr or set "
                                     "optimizer.clip_norm)")
    assert "Training diverged at epoch" in failure["error"]


def test_in_a_sweep_a_divergence_is_nan_and_a_failure(debug_config, tmp_path):
    cfg = debug_config(["task=ising", "optimizer.lr=1e6", "optimizer.clip_norm=2.5"])
    assert math.isnan(run_job(cfg, tmp_path, in_sweep=True))
    failure = json.loads((tmp_path / "failure.json").read_text())
    assert "or optimizer.clip_norm (= 2.5)" in failure["error"]
    assert not (tmp_path / "metrics.json").exists()


def test_decoupled_weight_decay_is_named_not_the_learning_rate(debug_config, tmp_path):
    # lr * decoupled_weight_decay = 0.01 * 1000 = 10 > 2: w <- (1 - 10) w grows the weights at every step
    cfg = debug_config(["task=fit", "optimizer=adamw", "optimizer.lr=0.01", "optimizer.decoupled_weight_decay=1000"])
    assert math.isnan(run_job(cfg, tmp_path, in_sweep=True))
    error = json.loads((tmp_path / "failure.json").read_text())["error"]
    assert "Try a smaller decoupled_weight_decay" in error and "learning rate (currently" not in error
    assert error.endswith("(config: optimizer.decoupled_weight_decay = 1000.0; try a smaller "
                          "optimizer.decoupled_weight_decay)")


def test_sane_settings_still_write_metrics(debug_config, tmp_path):
    assert math.isfinite(run_job(debug_config(["task=fit"]), tmp_path, in_sweep=False))
    assert (tmp_path / "metrics.json").exists() and not (tmp_path / "failure.json").exists()


@pytest.mark.parametrize("overrides, key", [
    (["task=fit", "optimizer.eps=inf"], "optimizer.eps"),
    (["task=fit", "optimizer.weight_decay=inf"], "optimizer.weight_decay"),
    (["task=fit", "optimizer.decoupled_weight_decay=inf"], "optimizer.decoupled_weight_decay"),
    (["task=fit", "optimizer.lr=inf"], "optimizer.lr"),
    (["task=fit", "optimizer.lr=nan"], "optimizer.lr"),
    (["task=fit", "optimizer.clip_norm=inf"], "optimizer.clip_norm"),
    (["task=fit", "optimizer.beta2=nan"], "optimizer.beta2"),
    (["task=ising", "optimizer=momentum", "optimizer.momentum=inf"], "optimizer.momentum"),
    (["task=ising", "optimizer=rmsprop", "optimizer.rho=nan"], "optimizer.rho"),
    (["task=fit", "schedule=step", "schedule.gamma=inf"], "schedule.gamma"),
    (["task=fit", "schedule=cosine", "schedule.min_factor=nan"], "schedule.min_factor"),
])
def test_non_finite_hyper_parameters_are_refused_at_validation(compose_config, overrides, key):
    with pytest.raises(ConfigError, match=rf"Invalid config value for '{key}': must be a float in .*Got (inf|nan)"):
        compose_config(["debug=tiny", *overrides])
