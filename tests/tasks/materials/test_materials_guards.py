"""task=materials: the samples, a CSV file's estimated rows (from its size, before it is read), the baselines and
the tuning grids are checked against a memory estimate at validation; the target column never collides with a
column the task writes; non-finite settings are refused (issue 16)."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from physics.app.runner import run
from physics.app.schema import ConfigError
from physics.materials.dataset import miedema_dataset

BASE = ["task=materials"]
#: the cheapest baseline set a run can have (the network is compared with at least one model)
ONE_BASELINE = ["baseline=none", "+baseline.dummy._target_=sklearn.dummy.DummyRegressor"]


def big_csv(path, size):
    """A CSV whose first MiB holds real rows and whose size is ``size`` bytes (the rest a sparse hole: nothing
    is written, and the file is never parsed)."""
    row = "Fe0.5Ni0.5,1.25\n"
    path.write_text("composition,e_form\n" + row * (2 ** 20 // len(row)))
    with open(path, "r+b") as handle:
        handle.truncate(size)
    return path


def test_huge_n_samples_is_refused_naming_it(refused):
    error = refused([*BASE, "task.n_samples=1000000000"])
    assert error.key == "task.n_samples" and "GB" in error.message and "ML4PHYS_MEMORY_LIMIT_GB=4" in error.message


@pytest.mark.parametrize("extra", [[], ["baseline=none"]])
def test_big_csv_is_refused_before_it_is_read(refused, tmp_path, extra):
    path = big_csv(tmp_path / "big.csv", 50_000_000)  # once 12 GB and > 12 minutes without a word
    error = refused([*BASE, "task.dataset=csv", f"task.csv_path={path}", "task.target_column=e_form", *extra])
    assert error.key == "task.csv_path"
    assert "50 MB" in error.message and "rows" in error.message


def test_a_builtin_set_is_sized_by_its_own_rows(refused, compose_config):
    error = refused([*BASE, "task.dataset=aflow_band_gap", "task.cv=split"])  # kernel ridge on ~23,000 rows
    assert error.key == "task.dataset" and "baseline.kernel_ridge" in error.message and "GB" in error.message
    # without that baseline (as in experiment=materials_band_gap) the same data fits the same limit
    compose_config([*BASE, "task.dataset=aflow_band_gap", "task.cv=split", "baseline.kernel_ridge=null"])


def test_a_grid_search_of_too_many_candidates_is_refused(refused):
    values = "[" + ",".join(str(v) for v in range(1, 101)) + "]"
    error = refused([*BASE, *(f"+task.param_grids.kernel_ridge.{p}={values}" for p in ("alpha", "gamma", "degree",
                                                                                         "coef0"))])
    assert error.key == "task.param_grids.kernel_ridge"


@pytest.mark.parametrize("override, key", [
    ("task.variance_threshold=inf", "task.variance_threshold"),
    ("task.clip_z=nan", "task.clip_z"),
    ("task.noise=inf", "task.noise"),
    ("+task.param_grids.kernel_ridge.gamma=[0.001,inf]", "task.param_grids.kernel_ridge.gamma"),
])
def test_non_finite_settings_are_refused_naming_the_key(compose_config, override, key):
    with pytest.raises(ConfigError) as error:
        compose_config([*BASE, override])
    assert error.value.key == key


@pytest.mark.parametrize("target", ["fold", "index", "csv_line", "chemical_system", "predicted_network",
                                    "composition"])
def test_a_target_column_named_like_an_output_column_is_refused(compose_config, tmp_path, target):
    """Once such a column silently overwrote that column of oof_predictions.csv."""
    path = tmp_path / "data.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([["formula", target], ["FeNi", "1.0"]])
    with pytest.raises(ConfigError) as error:
        compose_config([*BASE, "task.dataset=csv", f"task.csv_path={path}", "task.composition_column=formula",
                        f"task.target_column={target}"])
    assert error.value.key == "task.target_column" and "oof_predictions.csv" in error.value.message


def test_a_run_with_every_kind_of_bad_row_skipped(debug_config, tmp_path):
    """Bad rows of every kind are listed with their lines and dropped; the run goes on with the rest."""
    data = miedema_dataset(60, seed=3)
    bad = {5: "Fe" + "x" * 140_000 + ",1.0", 9: "(" * 450 + "Fe" + ")" * 450 + ",1.0", 14: "Fe1e400Ni,1.0",
           20: "FeNi,1e300"}
    lines = ["composition,target"]
    for i, (formula, target) in enumerate(zip(data.formulas, data.target)):
        lines.append(bad.get(len(lines) + 1, f"{formula},{target:.6g}"))
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    overrides = [*BASE, "task.dataset=csv", f"task.csv_path={path}", "task.target_column=target",
                 "task.learning_curve=[]", "task.tune=false", "task.refit=false", *ONE_BASELINE]
    with pytest.raises(ValueError, match=r"4 bad row\(s\) of 60 .*line 5: a field is longer.*line 9: .*nested "
                                         r"deeper.*line 14: .*not a finite number.*line 20: target '1e300'"):
        run(debug_config(overrides), tmp_path / "stopped")
    metrics = run(debug_config([*overrides, "task.skip_bad_rows=true"]), tmp_path / "run").flat()
    assert metrics["dataset.n_samples"] == 56 and metrics["dataset.n_skipped_rows"] == 4
    assert 0.0 <= metrics["comparison.dummy.p_value"] <= 1.0  # the one baseline, compared with the network
    with open(tmp_path / "run" / "oof_predictions.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {int(row["csv_line"]) for row in rows}.isdisjoint(bad) and len(rows) == 56
    assert list(rows[0])[:6] == ["index", "composition", "chemical_system", "fold", "csv_line", "target"]


def test_a_run_without_baselines(debug_config, tmp_path):
    metrics = run(debug_config([*BASE, "baseline=none", "task.tune=false", "task.learning_curve=[]"]),
                  tmp_path).flat()
    assert np.isfinite(metrics["models.network.mae_mean"]) and metrics["best_model"] == "network"
    assert not any(key.startswith("comparison.") for key in metrics)
    assert not (tmp_path / "comparison.csv").exists()
    assert not (tmp_path / "figures" / "paired_differences.png").exists()
