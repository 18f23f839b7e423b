"""Tiny end-to-end runs of task=ising (MLP, CNN, BCE + augmentation) on the debug settings: metrics, figures,
files."""
import json
import math

import pytest

from physics.app.runner import run

FIGURES = ["configurations", "ordered_probability", "accuracy_by_temperature", "models", "loss",
           "learned_features", "filters", "pca", "confusion", "transfer_triangular"]
BASELINES = ["logistic_regression", "random_forest", "sklearn_mlp", "magnetization_threshold"]


def _run(config, run_dir):
    """Run the task; return its flat metrics as written to metrics.json."""
    result = run(config, run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["objective"] == result.objective
    return metrics


def _check_common(metrics, run_dir):
    for key in ["accuracy_test", "accuracy_critical", "tc_estimate", "tc_stderr", "objective", "network.val_loss"]:
        assert math.isfinite(metrics[key]), key
    assert metrics["tc_exact"] == pytest.approx(2.269185, abs=1e-6)
    assert metrics["objective_direction"] == "minimize"
    assert json.loads((run_dir / "metrics.json").read_text())["tc_estimate"] == metrics["tc_estimate"]
    assert (run_dir / "model.npz").exists() and (run_dir / "model.json").exists()
    assert (run_dir / "model_seed1.npz").exists()
    header = (run_dir / "per_temperature.csv").read_text().splitlines()[0]
    assert "network_p_ordered" in header and "magnetization_threshold_accuracy" in header


def test_mlp_with_pca_confusion_and_transfer(compose_config, tiny, tmp_path):
    metrics = _run(compose_config(tiny("model=mlp", "model.hidden=[16]")), tmp_path)
    _check_common(metrics, tmp_path)
    # the default objective: the networks' best validation loss, mean over seeds (never a test score)
    assert metrics["objective_name"] == "network.val_loss"
    assert metrics["objective"] == metrics["network.val_loss"] > 0
    # L = 8 is far from the thermodynamic limit, and 40 configurations per temperature are few: only sanity bounds
    assert metrics["accuracy_test"] > 0.8
    assert 1.8 < metrics["tc_estimate"] < 2.8
    for name in BASELINES:
        assert 0 <= metrics[f"baselines.{name}.accuracy_critical"] <= 1
        assert f"baselines.{name}.tc_estimate" in metrics
    assert metrics["pca.uniformity"] > 0.9
    assert 1.0 < metrics["pca.tc_estimate"] < 3.5
    assert "confusion.tc_estimate" in metrics and metrics["confusion.n_trained"] == 5
    assert metrics["transfer.tc_exact"] == pytest.approx(3.640957, abs=1e-6)
    assert "transfer.tc_estimate" in metrics
    assert abs(metrics["learned.output_abs_m_spearman"]) > 0.5
    for name in FIGURES:
        assert (tmp_path / "figures" / f"{name}.png").stat().st_size > 1000, name
    assert (tmp_path / "confusion.csv").exists()


def test_cnn(compose_config, tiny, tmp_path):
    metrics = _run(compose_config(tiny("model=cnn", "model.channels=[4]", "trainer.epochs=15", "optimizer.lr=0.01",
                                       "task.pca.enabled=false",
                                       "task.confusion.enabled=false", "task.transfer.enabled=false",
                                       "task.objective=critical_error")), tmp_path)
    _check_common(metrics, tmp_path)
    assert metrics["objective"] == pytest.approx(1 - metrics["accuracy_critical"])
    assert metrics["objective_name"] == "critical_error"
    assert "pca.tc_estimate" not in metrics
    assert (tmp_path / "figures" / "filters.png").exists()


def test_binary_cross_entropy_with_augmentation(compose_config, tiny, tmp_path):
    metrics = _run(compose_config(tiny("model.hidden=[8]", "task.loss=binary_cross_entropy",
                                       "task.augment=[flip,dihedral]", "task.pca.enabled=false",
                                       "task.confusion.enabled=false", "task.transfer.enabled=false",
                                       "task.objective=tc_error",
                                       "~baseline.random_forest", "~baseline.sklearn_mlp")), tmp_path)
    _check_common(metrics, tmp_path)
    assert metrics["objective"] == metrics["tc_error"] and metrics["objective_name"] == "tc_error"
    # 8 of the 11 temperatures outside the window of 2.0..2.5, 32 training configurations each, times 16 images
    assert metrics["n_train"] == 8 * 32 * 16
