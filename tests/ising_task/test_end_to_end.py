"""Tiny end-to-end runs of task=ising (MLP, CNN, BCE + augmentation) and task=ising_fss: metrics, figures, files."""
import json
import math

import pytest

from physics.tasks import run

FIGURES = ["configurations", "ordered_probability", "accuracy_by_temperature", "models", "loss",
           "learned_features", "filters", "pca", "confusion", "transfer_triangular"]
BASELINES = ["logistic_regression", "random_forest", "sklearn_mlp", "magnetization_threshold"]


def _check_common(metrics, run_dir):
    for key in ["accuracy_test", "accuracy_critical", "tc_estimate", "tc_stderr", "objective"]:
        assert math.isfinite(metrics[key]), key
    assert metrics["tc_exact"] == pytest.approx(2.269185, abs=1e-6)
    assert metrics["objective_direction"] == "minimize"
    assert json.loads((run_dir / "metrics.json").read_text())["tc_estimate"] == metrics["tc_estimate"]
    assert (run_dir / "model.npz").exists() and (run_dir / "model.json").exists()
    assert (run_dir / "model_seed1.npz").exists()
    header = (run_dir / "per_temperature.csv").read_text().splitlines()[0]
    assert "network_p_ordered" in header and "magnetization_threshold_accuracy" in header


def test_mlp_with_pca_confusion_and_transfer(compose_config, tiny, tmp_path):
    metrics = run(compose_config(tiny("model=mlp", "model.hidden=[16]")), tmp_path)
    _check_common(metrics, tmp_path)
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
    metrics = run(compose_config(tiny("model=cnn", "model.channels=[4]", "task.epochs=15", "optimizer.lr=0.01",
                                      "task.pca.enabled=false",
                                      "task.confusion.enabled=false", "task.transfer.enabled=false",
                                      "task.objective=critical_error")), tmp_path)
    _check_common(metrics, tmp_path)
    assert metrics["objective"] == pytest.approx(1 - metrics["accuracy_critical"])
    assert "pca.tc_estimate" not in metrics
    assert (tmp_path / "figures" / "filters.png").exists()


def test_binary_cross_entropy_with_augmentation(compose_config, tiny, tmp_path):
    metrics = run(compose_config(tiny("model.hidden=[8]", "task.loss=binary_cross_entropy",
                                      "task.augment=[flip,dihedral]", "task.pca.enabled=false",
                                      "task.confusion.enabled=false", "task.transfer.enabled=false",
                                      "~baseline.random_forest", "~baseline.sklearn_mlp")), tmp_path)
    _check_common(metrics, tmp_path)
    # 11 temperatures outside the window of 2.0..2.5 with 32 training configurations each, times 16 images
    assert metrics["n_train"] == 8 * 32 * 16


def test_finite_size_scaling(compose_config, ising_cache, tmp_path):
    # a grid of 0.1 through the window, where the Binder crossing is searched, and enough configurations for the
    # cumulants of L = 8 and 12 to differ significantly (their errors scale as 1/sqrt(n))
    overrides = ["task=ising_fss", "task.sizes=[4,6,8,12]", "task.temperature_step=0.25", "task.dense_range=[2.0,2.5]",
                 "task.dense_step=0.1", "task.n_per_temperature=200", "task.n_seeds=2", "task.n_bootstrap=50",
                 "task.epochs=3",
                 "task.n_jobs=1", "model.hidden=[16]", "progress=false", f"data_dir={ising_cache}"]
    metrics = run(compose_config(overrides), tmp_path)
    for key in ["tc_infinite", "tc_infinite_stderr", "binder_tc", "binder_tc_stderr", "objective"]:
        assert math.isfinite(metrics[key]), key
    assert metrics["objective"] == pytest.approx(abs(metrics["tc_infinite"] - metrics["tc_exact"]))
    assert "fss.nu_free.nu" in metrics and metrics["fss.nu_fixed.nu"] == 1.0
    assert {f"sizes.L{L}.tc_estimate" for L in (4, 6, 8, 12)} <= set(metrics)
    assert "baselines.magnetization_threshold.fss_tc_infinite" in metrics
    for name in ["finite_size_scaling", "collapse"]:
        assert (tmp_path / "figures" / f"{name}.png").stat().st_size > 1000
    assert (tmp_path / "tc_by_size.csv").exists() and (tmp_path / "model_L12.npz").exists()
