"""``task=fit`` end to end: every built-in target on the debug settings, and the learning target on the 2D function."""
from __future__ import annotations

import json

import numpy as np
import pytest

from physics.app.runner import run
from physics.tasks.fit.config import TARGETS_1D, TARGETS_2D

FIGURES = ("fit.png", "loss.png", "test_error.png")


@pytest.mark.parametrize("target", TARGETS_1D + TARGETS_2D + ("smiley",))
def test_each_target_writes_metrics_figures_and_model(debug_config, tmp_path, target):
    result = run(debug_config([f"task.target={target}"]), tmp_path)
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert result.objective_name == "network.val_mse" and result.direction == "minimize"
    assert written["objective"] == pytest.approx(written["network.val_mse"])
    for model in ("network", "baselines.sklearn_mlp", "baselines.kernel_ridge", "baselines.random_forest",
                  "baselines.polynomial_ridge"):
        for key in ("train_mse", "test_mse", "train_r2", "test_r2", "fit_seconds"):
            assert np.isfinite(written[f"{model}.{key}"]), f"{model}.{key}"
    for figure in FIGURES:
        assert (tmp_path / "figures" / figure).stat().st_size > 10_000
    assert (tmp_path / "model.npz").exists() and (tmp_path / "model.json").exists()
    assert (tmp_path / "models.csv").read_text().startswith("model,")


def test_image_from_a_png_file(debug_config, tmp_path):
    import matplotlib.image

    picture = np.outer(np.linspace(0, 1, 20), np.ones(30))  # a vertical brightness ramp
    path = tmp_path / "ramp.png"
    matplotlib.image.imsave(path, picture, cmap="gray")
    run(debug_config(["task.target=image", f"task.image_path={path}"]), tmp_path / "run")
    assert (tmp_path / "run" / "figures" / "fit.png").exists()


def test_same_seed_gives_the_same_numbers(debug_config, tmp_path):
    overrides = ["task.target=sine"]
    run(debug_config(overrides), tmp_path / "a")
    run(debug_config(overrides), tmp_path / "b")
    first, second = (json.loads((tmp_path / name / "metrics.json").read_text()) for name in "ab")
    for key in ("network.test_mse", "network.val_mse", "baselines.random_forest.test_mse",
                "baselines.sklearn_mlp.test_mse"):
        assert first[key] == second[key], key


def test_the_test_score_is_an_objective_only_on_request(debug_config, tmp_path):
    result = run(debug_config(["task.objective=test_mse"]), tmp_path)
    assert result.objective_name == "network.test_mse"
    assert result.objective == result.metrics["network"]["test_mse"]


def test_network_learns_the_2d_target_and_beats_polynomial_ridge(compose_config, tmp_path):
    # exp(-5 r^2)|x0 + x1| has variance ~5e-3 on [-1, 1]^2; a test MSE of 5e-4 (R^2 ~ 0.9) against the
    # noise-free function means the kink along x0 = -x1 is resolved. Seeded; measured 9e-5 here (R^2 0.98),
    # the margin covers other BLAS builds' rounding. The polynomial ridge (degree 7) gets 9e-4.
    run(compose_config(["task.target=gaussian_abs", "task.n_samples=1500", "optimizer.lr=3e-3", "progress=false",
                        "~baseline.sklearn_mlp", "~baseline.random_forest", "~baseline.kernel_ridge"]), tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["network.test_mse"] < 5e-4
    assert metrics["network.test_mse"] <= metrics["baselines.polynomial_ridge.test_mse"]
