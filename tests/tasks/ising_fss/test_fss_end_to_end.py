"""A tiny end-to-end run of task=ising_fss on the debug settings: metrics, figures, files."""
import json
import math

import pytest

from physics.app.runner import run


def test_finite_size_scaling(compose_config, fss_cache, tmp_path):
    # the debug settings: a grid of 0.1 through the window, where the Binder crossing is searched, and enough
    # configurations for the cumulants of L = 8 and 12 to differ significantly (their errors scale as 1/sqrt(n))
    result = run(compose_config(["debug=tiny", "task=ising_fss", "model.hidden=[16]", f"data_dir={fss_cache}"]),
                 tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["objective"] == result.objective
    for key in ["tc_infinite", "tc_infinite_stderr", "binder_tc", "binder_tc_stderr", "objective"]:
        assert math.isfinite(metrics[key]), key
    # the default objective: the networks' best validation loss, mean over sizes and seeds
    assert metrics["objective_name"] == "network.val_loss"
    sizes = (4, 6, 8, 12)
    assert metrics["objective"] == pytest.approx(sum(metrics[f"sizes.L{L}.val_loss"] for L in sizes) / 4)
    assert metrics["tc_infinite_error"] == pytest.approx(abs(metrics["tc_infinite"] - metrics["tc_exact"]))
    assert "fss.nu_free.nu" in metrics and metrics["fss.nu_fixed.nu"] == 1.0
    assert {f"sizes.L{L}.tc_estimate" for L in sizes} <= set(metrics)
    assert "baselines.magnetization_threshold.fss_tc_infinite" in metrics
    for name in ["finite_size_scaling", "collapse"]:
        assert (tmp_path / "figures" / f"{name}.png").stat().st_size > 1000
    assert (tmp_path / "tc_by_size.csv").exists() and (tmp_path / "model_L12.npz").exists()


def test_tc_infinite_error_objective(compose_config, fss_cache, tmp_path):
    """The old objective, |tc_infinite - tc_exact|, stays selectable (for reporting)."""
    result = run(compose_config(["debug=tiny", "task=ising_fss", "model.hidden=[8]", "task.n_seeds=1",
                                 "task.objective=tc_infinite_error", "baseline=none", f"data_dir={fss_cache}"]),
                 tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert result.objective_name == "tc_infinite_error"
    assert metrics["objective"] == pytest.approx(abs(metrics["tc_infinite"] - metrics["tc_exact"]))
