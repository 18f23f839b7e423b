"""Tiny end-to-end runs of task=dynamics: forecast mode (Lorenz-63, the LSTM and a network without memory) and
hidden mode (the bath): every metric key, figure and file, and the same numbers for the same seed."""
import json
import math

import pytest

from physics.app.runner import run

BASELINES = ("linear_ar", "sklearn_mlp")
FORECAST_FIGURES = ("trajectories", "attractor", "error_vs_horizon", "valid_prediction_time", "loss")


def _run(config, run_dir):
    """Run the task; return its flat metrics as written to metrics.json."""
    result = run(config, run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["objective"] == result.objective
    return metrics


@pytest.fixture(scope="module")
def forecast_run(compose_config, dynamics_cache, tmp_path_factory):
    """One tiny forecast run (seed 0) shared by the tests that only read it: (metrics, run folder)."""
    run_dir = tmp_path_factory.mktemp("dynamics_forecast")
    config = compose_config(["debug=tiny", "task=dynamics", f"data_dir={dynamics_cache}"])
    return _run(config, run_dir), run_dir


def test_forecast_metrics_figures_and_files(forecast_run):
    metrics, run_dir = forecast_run
    assert metrics["task"] == "dynamics" and metrics["mode"] == "forecast" and metrics["target"] == "increment"
    assert metrics["objective_name"] == "network.val_loss_mean" and metrics["objective"] > 0
    assert metrics["system.name"] == "lorenz" and metrics["system.lyapunov_exponent"] == 0.9056
    assert metrics["system.time_unit_name"] == "Lyapunov time" and metrics["system.dt"] == 0.01
    assert math.isclose(metrics["system.time_unit"], 1 / 0.9056)
    assert metrics["n_forecasts"] == 4 and metrics["horizon_steps"] == 56  # ceil(0.5 / 0.9056 / 0.01)
    horizon = metrics["horizon_steps"] * 0.01 * 0.9056  # in Lyapunov times
    for prefix in ("network", *(f"baselines.{name}" for name in BASELINES), "persistence"):
        assert 0 <= metrics[f"{prefix}.vpt_mean"] <= horizon + 1e-9, prefix
        assert 0 < metrics[f"{prefix}.one_step_nrmse_mean"] < 10, prefix
        assert 0 <= metrics[f"{prefix}.censored_fraction"] <= 1, prefix
    assert metrics["network.vpt_sd"] is None  # one seed: no spread (JSON null)
    assert metrics["persistence.vpt_sd"] == 0.0
    assert metrics["network.epochs_mean"] == 2 and len(metrics["network.vpt_per_seed"]) == 1
    for name in FORECAST_FIGURES:
        assert (run_dir / "figures" / f"{name}.png").stat().st_size > 1000, name
    assert (run_dir / "models" / "network_seed0.npz").is_file()
    rows = (run_dir / "models.csv").read_text().splitlines()
    assert rows[0].startswith("model,seed,vpt,one_step_nrmse") and len(rows) == 1 + 1 + len(BASELINES) + 1
    curve = (run_dir / "error_vs_horizon.csv").read_text().splitlines()
    assert len(curve) == 1 + metrics["horizon_steps"] and curve[0].startswith("time,network_mean")


def test_the_same_seed_gives_the_same_numbers(forecast_run, compose_config, dynamics_cache, tmp_path):
    metrics, _ = forecast_run
    again = _run(compose_config(["debug=tiny", "task=dynamics", f"data_dir={dynamics_cache}"]), tmp_path)
    for key, value in metrics.items():
        if not key.startswith(("seconds.", "run_seconds")) and not key.endswith("fit_seconds_mean"):
            assert again[key] == value, key


def test_a_network_without_memory_and_two_seeds(compose_config, dynamics, tmp_path):
    metrics = _run(compose_config(dynamics("model=mlp", "task.n_seeds=2", "~baseline.sklearn_mlp")), tmp_path)
    assert len(metrics["network.vpt_per_seed"]) == 2 and metrics["network.vpt_sd"] >= 0
    assert metrics["baselines.linear_ar.vpt_sd"] == 0.0  # ridge is deterministic: the same fit for every seed
    assert "baselines.sklearn_mlp.vpt_mean" not in metrics


def test_hidden_mode_on_the_bath(compose_config, dynamics, tmp_path):
    metrics = _run(compose_config(dynamics("task.system=bath")), tmp_path)
    assert metrics["mode"] == "hidden" and metrics["hidden"] == "q_1" and metrics["observed"] == ["x"]
    assert metrics["system.name"] == "bath" and metrics["system.lyapunov_exponent"] is None
    assert metrics["n_train_windows"] == 300
    for prefix in ("network", *(f"baselines.{name}" for name in BASELINES)):
        assert math.isfinite(metrics[f"{prefix}.r2_mean"]) and metrics[f"{prefix}.r2_mean"] <= 1, prefix
        assert metrics[f"{prefix}.rmse_mean"] > 0, prefix
    assert "persistence.vpt_mean" not in metrics
    assert (tmp_path / "figures" / "hidden.png").stat().st_size > 1000
    assert (tmp_path / "models.csv").read_text().startswith("model,seed,r2,rmse")
