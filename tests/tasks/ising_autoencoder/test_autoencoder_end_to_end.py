"""Tiny end-to-end runs of task=ising_autoencoder on the debug settings (``debug=tiny``: L = 4, 6, 8, a coarse grid,
30 configurations per temperature, two replicas, 5 epochs): every metric key, the figures and tables, the same
numbers for the same seed."""
import json
import math

import pytest

from physics.app.runner import run

FIGURES = ["reconstruction", "latent_histograms", "latent_vs_m", "cumulants", "estimates", "training", "pca"]
MODELS = ["ae", "vae", "pca"]
ESTIMATE_KEYS = ["value", "stat", "sys", "error", "ci95_low", "ci95_high", "kind", "method", "stat_source",
                 "sys_source", "sizes", "n_replicas", "n_failed", "no_estimate", "failure"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One Monte Carlo cache for the module: each tiny data set is simulated once."""
    return tmp_path_factory.mktemp("ising_autoencoder_cache")


@pytest.fixture
def tiny(cache):
    return lambda *extra: ["task=ising_autoencoder", "debug=tiny", f"data_dir={cache}", *extra]


def _run(config, run_dir):
    result = run(config, run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["objective"] == pytest.approx(result.objective)
    return metrics


def test_every_metric_figure_and_table(compose_config, tiny, tmp_path):
    metrics = _run(compose_config(tiny()), tmp_path)
    assert metrics["task"] == "ising_autoencoder" and metrics["sizes"] == [4, 6, 8]
    assert metrics["tc_exact"] == pytest.approx(2.269185, abs=1e-6)
    n_T = metrics["n_temperatures"]
    assert len(metrics["temperatures"]) == n_T and metrics["temperatures"] == sorted(metrics["temperatures"])
    for model in MODELS:
        for key in ESTIMATE_KEYS:
            assert f"{model}.tc.{key}" in metrics, (model, key)
        assert metrics[f"{model}.tc.kind"] in ("T_c(inf)", "T*(L)")
        for key in ("tc_error", "tc_covers_exact", "tc_ci95_covers_exact"):
            assert f"{model}.{key}" in metrics
        for pair in ("L4_L6", "L6_L8"):
            assert metrics[f"{model}.crossings.{pair}.kind"] == "T*(L)"
            assert "value" in {key.rsplit(".", 1)[1] for key in metrics if key.startswith(f"{model}.crossings.{pair}")}
        for L in (4, 6, 8):
            assert 0 <= metrics[f"{model}.correlation.L{L}"] <= 1
            assert f"{model}.correlation_sd.L{L}" in metrics
        assert 0 <= metrics[f"correlation.{model}"] <= 1
    for model in ("ae", "vae"):
        assert metrics[f"{model}.val_loss"] > 0 and metrics[f"{model}.epochs"] >= 1
        for L in (4, 6, 8):
            curve = metrics[f"{model}.reconstruction.L{L}"]
            assert len(curve) == n_T and all(value > 0 for value in curve)  # nats per spin
            assert 0 <= metrics[f"{model}.odd_correlation.L{L}"] <= 1
            assert metrics[f"{model}.val_loss_by_size.L{L}"] > 0
        assert "odd under the global spin flip" in metrics[f"{model}.tc.method"]
    # a T_c(inf) is compared with the exact value; a pseudo-critical temperature is not
    for model in MODELS:
        if metrics[f"{model}.tc.kind"] == "T_c(inf)" and not metrics[f"{model}.tc.no_estimate"]:
            assert metrics[f"{model}.tc_error"] >= 0 and isinstance(metrics[f"{model}.tc_ci95_covers_exact"], bool)
        else:
            assert metrics[f"{model}.tc_error"] is None and metrics[f"{model}.tc_ci95_covers_exact"] is None
    assert "pca.uniformity" in metrics and "pca.peaks.L8.kind" in metrics  # task=ising's PCA analysis
    # the objective: the autoencoder's best validation loss, never the distance to the answer
    assert metrics["objective_name"] == "ae.val_loss" and metrics["objective"] == metrics["ae.val_loss"]
    for name in FIGURES:
        assert (tmp_path / "figures" / f"{name}.png").stat().st_size > 1000, name
    header = (tmp_path / "crossings.csv").read_text().splitlines()[0]
    assert header == "model,L_small,L_large,replica,T_cross,bootstrap_sd"
    assert "ae_L8_U" in (tmp_path / "per_temperature.csv").read_text().splitlines()[0]
    assert "ci95_low" in (tmp_path / "estimates.csv").read_text().splitlines()[0]
    assert len((tmp_path / "per_temperature.csv").read_text().splitlines()) == n_T + 1


def _numbers(metrics: dict) -> dict:
    return {key: value for key, value in metrics.items() if "seconds" not in key}


def test_the_same_seed_gives_the_same_numbers(compose_config, tiny, tmp_path):
    overrides = tiny("task.pca.enabled=false", "task.n_replicas=1", "task.sizes=[4,6]", "seed=5")
    first = _numbers(_run(compose_config(overrides), tmp_path / "first"))
    second = _numbers(_run(compose_config(overrides), tmp_path / "second"))
    assert first == second
    other = _numbers(_run(compose_config(tiny("task.pca.enabled=false", "task.n_replicas=1", "task.sizes=[4,6]",
                                              "seed=6")), tmp_path / "other"))
    assert other["ae.val_loss"] != first["ae.val_loss"]
    # two sizes: one crossing, a pseudo-critical temperature, never compared with the exact T_c
    assert first["ae.tc.kind"] == "T*(L)" and first["ae.tc.sizes"] == [4, 6] and first["ae.tc_error"] is None
    assert "pca.tc.kind" not in first


def test_latent_two_and_a_reported_objective(compose_config, tiny, tmp_path):
    metrics = _run(compose_config(tiny("task.latent=2", "task.pca.enabled=false", "task.n_replicas=1",
                                       "task.sizes=[4,8]", "task.objective=vae_val_loss")), tmp_path)
    assert metrics["latent"] == 2 and "leading principal axis" in metrics["vae.tc.method"]
    assert metrics["objective_name"] == "vae.val_loss" and math.isfinite(metrics["objective"])
