"""Tiny end-to-end runs of task=ising on the debug settings (``debug=tiny``: the network at L = 4 read on block
spins of L = 8 and 16, two replicas, a short Binder baseline): metrics, figures, files, for both protocols, the
CNN, one size, and a model that never crosses."""
import json
import math

import pytest

from physics.app.runner import run

FIGURES = ["configurations", "ordered_probability", "finite_size_scaling", "collapse", "models", "loss",
           "learned_features", "filters", "pca"]
BASELINES = ["logistic_regression", "random_forest", "sklearn_mlp", "magnetization_threshold", "energy_threshold",
             "abs_m_logistic"]


def _run(config, run_dir):
    """Run the task; return its flat metrics as written to metrics.json."""
    result = run(config, run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["objective"] == result.objective
    return metrics


def test_extremes_protocol_with_every_analysis(compose_config, tiny, tmp_path):
    metrics = _run(compose_config(tiny("model=mlp", "model.hidden=[16]", "task.confusion.enabled=true",
                                       "task.transfer.enabled=true")), tmp_path)
    assert metrics["protocol"] == "extremes" and metrics["tc_exact"] == pytest.approx(2.269185, abs=1e-6)
    # two sizes >= L_min = 8: an extrapolation, named for what it is, with both errors stated
    assert metrics["tc.kind"] == "T_c(inf)"
    assert metrics["tc.n_replicas"] == 2 and "replicas" in metrics["tc.stat_source"]
    assert isinstance(metrics["tc.sys_source"], str)  # two sizes: no room for the b/L^2 correction
    assert "far from" in metrics["tc.method"] or "only on T" in metrics["tc.method"]
    for L in (8, 16):
        assert metrics[f"pseudo_critical.L{L}.kind"] == "T*(L)"
    # the objective: the networks' best validation loss, mean over replicas (never a test score or the answer)
    assert metrics["objective_name"] == "network.val_loss"
    assert metrics["objective"] == metrics["network.val_loss"] > 0
    for name in BASELINES:
        assert f"baselines.{name}.tc.kind" in metrics, name
    # one pair of sizes (4, 8): the pair's pseudo-critical temperature, its drift to T_c(inf) not assessed
    assert metrics["binder.tc.kind"] == "T*(L)" and "jackknife" in metrics["binder.tc.stat_source"]
    assert "not assessed" in metrics["binder.tc.sys_source"]
    assert metrics["pca.uniformity"] > 0.8
    assert metrics["confusion.tc.kind"] == "T*(L)"
    assert metrics["transfer.tc_exact"] == pytest.approx(3.640957, abs=1e-6)
    assert "transfer.pseudo_critical.L12.kind" in metrics
    for name in FIGURES + ["confusion", "transfer_triangular"]:
        assert (tmp_path / "figures" / f"{name}.png").stat().st_size > 1000, name
    saved = sorted(path.name for path in (tmp_path / "models").glob("replica*.npz"))
    assert len(saved) == metrics["tc.n_replicas"]  # one network per replica
    assert all((tmp_path / "models" / name.replace(".npz", ".json")).exists() for name in saved)
    header = (tmp_path / "tc_by_size.csv").read_text().splitlines()[0]
    assert header == "model,L,replica,T_star,slope"
    assert "network_L16_p_ordered" in (tmp_path / "per_temperature.csv").read_text().splitlines()[0]


def test_one_size_is_a_pseudo_critical_temperature(compose_config, tiny, tmp_path):
    metrics = _run(compose_config(tiny("task.sizes=[16]", "task.binder.sizes=null", "task.pca.enabled=false")),
                   tmp_path)
    assert metrics["tc.kind"] == "T*(L)"
    assert metrics["binder.tc.sizes"] == [8, 16] and metrics["binder.tc.kind"] == "T*(L)"  # the pair L/2, L
    assert "tc_error" not in metrics  # a pseudo-critical temperature is not compared with the exact T_c
    assert metrics["tc.sizes"] == [16]


def test_a_curve_that_never_crosses_is_reported_as_no_crossing(compose_config, tiny, tmp_path):
    """A scan entirely in the disordered phase: every output stays below 1/2, so there is no estimate, not a
    number."""
    metrics = _run(compose_config(tiny("task.scan_range=[2.8,3.1]", "task.binder.enabled=false",
                                       "task.pca.enabled=false")), tmp_path)
    assert metrics["tc.no_estimate"] is True and metrics["tc.value"] is None
    assert "no crossing" in metrics["pseudo_critical.L16.failure"]
    assert metrics["pseudo_critical.L16.n_failed"] == 2


def test_labelled_protocol_with_the_cnn(compose_config, tiny, tmp_path):
    metrics = _run(compose_config(tiny("task.protocol=labelled", "task.sizes=[8]", "model=cnn", "model.channels=[4]",
                                       "task.temperature_step=0.25", "task.dense_range=null",
                                       "task.hold_out_window=true", "task.pca.enabled=false",
                                       "task.binder.enabled=false", "task.objective=critical_error")), tmp_path)
    assert "labels T < T_c" in metrics["tc.method"] and "contain the answer" in metrics["tc.method"]
    assert metrics["objective"] == pytest.approx(1 - metrics["accuracy_critical"])
    for name in ("abs_m_logistic", "energy_threshold"):
        assert 0 <= metrics[f"baselines.{name}.L8.accuracy_critical"] <= 1
        assert math.isfinite(metrics[f"baselines.{name}.L8.accuracy_critical_sd"])
    assert (tmp_path / "figures" / "accuracy_by_temperature_L8.png").exists()
    assert (tmp_path / "figures" / "accuracy_L8.png").exists()
    assert sorted((tmp_path / "models").glob("replica0*.npz"))  # the first replica's network(s)


def test_binary_cross_entropy_with_augmentation(compose_config, tiny, tmp_path):
    metrics = _run(compose_config(tiny("model.hidden=[8]", "task.loss=binary_cross_entropy",
                                       "task.augment=[flip,dihedral]", "task.pca.enabled=false",
                                       "task.binder.enabled=false", "task.objective=tc_error",
                                       "~baseline.random_forest", "~baseline.sklearn_mlp")), tmp_path)
    assert metrics["objective_name"] == "tc_error"
    assert metrics["objective"] == metrics["tc_error"] or metrics["tc.no_estimate"]
