"""Tiny end-to-end runs of task=ising_generative: every metric key, the figures and files, finite deviations, the
same numbers for the same seed, and the run without its baseline."""
import json
import math

import numpy as np
import pytest

from physics.app.runner import run

FIGURES = ["observables", "deviations", "configurations", "training", "critical", "symmetry"]
OBSERVABLES = ["e", "abs_m", "c", "chi"]
TEMPERATURES = ["T1_5", "T2_269185", "T3_5"]
RBMS = ["rbm_h2_cd1", "rbm_h8_cd1"]
BASELINES = ["sklearn_rbm_h2", "sklearn_rbm_h8"]


def _run(config, run_dir):
    """Run the task; return its flat metrics as written to metrics.json."""
    result = run(config, run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["objective"] == result.objective
    return metrics


@pytest.fixture(scope="module")
def tiny_run(compose_config, generative_cache, tmp_path_factory):
    """One tiny run (seed 0) shared by the tests that only read it: (metrics, run folder)."""
    run_dir = tmp_path_factory.mktemp("generative_run")
    config = compose_config(["debug=tiny", "task=ising_generative", f"data_dir={generative_cache}"])
    return _run(config, run_dir), run_dir


def test_every_metric_key_figure_and_file(tiny_run):
    metrics, run_dir = tiny_run
    assert metrics["task"] == "ising_generative" and metrics["L"] == 4 and metrics["n_visible"] == 16
    assert metrics["sources"] == ["mc", "mc_heldout", *RBMS, *BASELINES]
    assert metrics["exact_observables"] == OBSERVABLES  # L = 4: |m| and chi by enumeration too
    assert metrics["headline"] == "rbm_h8_cd1"
    for source in ["mc", "mc_heldout", "exact", *RBMS, *BASELINES]:
        for T in TEMPERATURES:
            for obs in OBSERVABLES:
                value = metrics[f"observables.{source}.{T}.{obs}.value"]
                assert math.isfinite(value), (source, T, obs)
                if source != "exact":
                    assert metrics[f"observables.{source}.{T}.{obs}.error"] >= 0
    for source in [*RBMS, *BASELINES]:
        for T in TEMPERATURES:
            for obs in OBSERVABLES:
                for reference in ("vs_mc", "vs_heldout", "vs_exact"):
                    assert math.isfinite(metrics[f"deviation.{source}.{T}.{obs}.{reference}"]), (source, T, obs)
            training = f"training.{source}.{T}"
            assert metrics[f"{training}.log_likelihood_method"] == "exact"  # min(16, n_hidden) <= 16
            for key in ("log_likelihood_train", "log_likelihood_heldout", "reconstruction_error", "drift_e",
                        "drift_abs_m", "fit_seconds", "sample_seconds"):
                assert math.isfinite(metrics[f"{training}.{key}"]), (training, key)
            assert metrics[f"{training}.log_likelihood_train"] < 0
        assert math.isfinite(metrics[f"summary.{source}.mean_abs_deviation_vs_heldout"])
        assert math.isfinite(metrics[f"symmetry.{source}.max_abs_deviation_from_zero"])
        for T in TEMPERATURES:
            assert 0 <= metrics[f"symmetry.{source}.{T}.up_fraction"] <= 1
            assert math.isfinite(metrics[f"symmetry.{source}.{T}.deviation_from_zero"])
        assert isinstance(metrics[f"target.{source}.met_vs_heldout"], bool)
        assert isinstance(metrics[f"target.{source}.met_vs_mc"], bool)
    # the two Monte Carlo sets against each other and against the exact values
    assert math.isfinite(metrics["deviation.mc_heldout.T1_5.e.vs_mc"])
    assert math.isfinite(metrics["deviation.mc.T3_5.c.vs_exact"])
    assert "vs_mc" not in {key.rsplit(".", 1)[1] for key in metrics if key.startswith("deviation.mc.")}
    # the target and the summary at T_c
    assert metrics["target.temperatures"] == [1.5, 3.5] and metrics["target.sigma"] == 2.0
    assert metrics["target.observables"] == ["e", "abs_m"]
    assert isinstance(metrics["target.met"], bool) and isinstance(metrics["target.met_vs_mc"], bool)
    assert metrics["critical.T"] == 2.269185 and metrics["critical.reference"] == "mc_heldout"
    assert metrics["critical.trend.rbm_cd1.n_hidden"] == [2, 8]
    assert metrics["critical.trend.sklearn_rbm.n_hidden"] == [2, 8]
    assert isinstance(metrics["critical.trend.rbm_cd1.shrinks"], bool)
    assert len(metrics["critical.trend.rbm_cd1.mean_abs_deviation"]) == 2
    # the objective: the headline RBM's mean |deviation| from the held-out Monte Carlo set
    assert metrics["objective_name"] == "summary.rbm_h8_cd1.mean_abs_deviation_vs_heldout"
    assert metrics["objective"] == metrics["summary.rbm_h8_cd1.mean_abs_deviation_vs_heldout"] > 0
    assert metrics["objective_direction"] == "minimize"
    for name in FIGURES:
        assert (run_dir / "figures" / f"{name}.png").stat().st_size > 1000, name
    header = (run_dir / "observables.csv").read_text().splitlines()[0]
    assert header == "source,T,observable,value,error,vs_mc,vs_heldout,vs_exact"
    assert (run_dir / "training_history.csv").read_text().startswith("source,T,epoch,reconstruction_error")
    weights = np.load(run_dir / "models.npz")
    assert weights["rbm_h8_cd1/T1_5/W"].shape == (16, 8) and weights["sklearn_rbm_h2/T3_5/b"].shape == (2,)
    assert metrics["run_seconds"] < 20  # the tiny run is a test's budget


def test_the_same_seed_gives_the_same_numbers(compose_config, generative, tiny_run, tmp_path):
    first, _ = tiny_run
    again = _run(compose_config(generative()), tmp_path / "again")
    other = _run(compose_config(generative("seed=1")), tmp_path / "other")
    timing = ("seconds", "run_seconds")
    numbers = {key: value for key, value in first.items() if not any(word in key for word in timing)}
    assert {key: again[key] for key in numbers} == numbers
    assert other["objective"] != first["objective"]
    assert other["observables.mc.T2_269185.e.value"] != first["observables.mc.T2_269185.e.value"]


def test_without_the_baseline_with_two_k_and_the_likelihood_objective(compose_config, generative, tmp_path):
    metrics = _run(compose_config(generative("baseline=none", "task.k=[1,2]", "task.methods=[cd,pcd]",
                                             "task.n_hidden=[4]", "task.log_likelihood=ais",
                                             "task.objective=nll")), tmp_path)
    assert metrics["objective_name"] == "summary.rbm_h4_cd1.nll_heldout"
    assert metrics["objective"] == metrics["summary.rbm_h4_cd1.nll_heldout"] > 0
    assert metrics["sources"] == ["mc", "mc_heldout", "rbm_h4_cd1", "rbm_h4_pcd1", "rbm_h4_cd2", "rbm_h4_pcd2"]
    assert metrics["headline"] == "rbm_h4_cd1"
    assert metrics["training.rbm_h4_pcd2.T1_5.log_likelihood_method"] == "ais"
    assert metrics["critical.trend.rbm_pcd2.shrinks"] is None  # one n_hidden: no trend
    assert not any(key.startswith("observables.sklearn") for key in metrics)
    assert (tmp_path / "figures" / "critical.png").exists()
