"""``task=materials`` on tiny samples of the real AFLOW data, end to end: the given train / val / test split
(``task.cv=split``: tuned on val, refitted on train + val, tested once), the paired t-test over the test rows,
a seed ensemble trained with the absolute error, classification of metal / non-metal, and the saved predictor
reproducing the run's test predictions. The full built-in sets and the experiments only compose here (their
runs take minutes)."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from physics.app.config import validate
from physics.app.runner import run as run_config
from physics.materials.builtin import METAL, NON_METAL, builtin_dataset
from physics.tasks.materials import load_predictor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # tiny sklearn MLPs

BASE = ["task=materials"]
#: rows drawn from each split of aflow_band_gap (240 in all)
SAMPLED = {"train": 150, "val": 45, "test": 45}
BASELINES = ("dummy", "ridge", "random_forest", "kernel_ridge", "sklearn_mlp")
CLASSIFIERS = ("dummy", "logistic_regression", "random_forest", "sklearn_mlp")


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def band_gaps(tmp_path_factory):
    """A CSV of 240 AFLOW band gaps sampled (seed 0) from every split of the built-in set: columns formula,
    band_gap (eV), metal ("metal" where the gap is 0, else "non-metal") and split; and its rows as dicts with
    their file line (the header is line 1)."""
    data = builtin_dataset("aflow_band_gap")
    rng = np.random.default_rng(0)
    rows = np.concatenate([rng.choice(np.flatnonzero(data.split == split), n, replace=False)
                           for split, n in SAMPLED.items()])
    rows = rng.permutation(rows)  # splits interleaved, as in the real file
    path = tmp_path_factory.mktemp("aflow") / "band_gap.csv"
    records = []
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["formula", "band_gap", "metal", "split"])
        for line, i in enumerate(rows, start=2):
            record = {"formula": data.formulas[i], "band_gap": repr(float(data.target[i])),
                      "metal": METAL if data.target[i] == 0.0 else NON_METAL, "split": str(data.split[i]),
                      "line": line}
            writer.writerow([record[key] for key in ("formula", "band_gap", "metal", "split")])
            records.append(record)
    labels = {record["metal"] for record in records if record["split"] != "test"}
    assert labels == {METAL, NON_METAL}  # both classes to train on
    return path, records


def csv_overrides(path, target):
    return [*BASE, "task.dataset=csv", f"task.csv_path={path}", "task.composition_column=formula",
            f"task.target_column={target}", "task.split_column=split", "task.cv=split"]


@pytest.fixture(scope="module")
def regression_run(debug_config, band_gaps, tmp_path_factory):
    """The band gap on the sample's split: a 2-network ensemble trained with the absolute error, every model
    tuned on the val rows; (run folder, flat metrics)."""
    path, _ = band_gaps
    run_dir = tmp_path_factory.mktemp("band_gap_run")
    cfg = debug_config([*csv_overrides(path, "band_gap"), "task.loss=absolute_error", "task.ensemble_size=2"])
    return run_dir, run_config(cfg, run_dir).flat()


@pytest.fixture(scope="module")
def classification_run(debug_config, band_gaps, tmp_path_factory):
    """Metal / non-metal on the sample's split with the classifier baselines; (run folder, flat metrics)."""
    path, _ = band_gaps
    run_dir = tmp_path_factory.mktemp("metal_run")
    cfg = debug_config([*csv_overrides(path, "metal"), "task.target_type=classification",
                        "baseline=materials_classifiers", "task.objective=cv_balanced_error",
                        "task.learning_curve=[]"])
    return run_dir, run_config(cfg, run_dir).flat()


def test_regression_on_a_split_scores_every_model_and_compares_on_the_test_rows(regression_run):
    run_dir, metrics = regression_run
    assert metrics["cv.kind"] == "split" and metrics["cv.n_splits"] == 1
    assert metrics["cv.n_test"] == SAMPLED["test"] and metrics["dataset.n_samples"] == sum(SAMPLED.values())
    assert metrics["dataset.kind"] == "regression" and metrics["network.ensemble_size"] == 2
    assert metrics["objective_name"] == "models.network.mae_mean"
    for model in ("network", *BASELINES):
        assert np.isfinite(metrics[f"models.{model}.mae_mean"]) and metrics[f"models.{model}.mae_mean"] > 0, model
        if model != "dummy":  # (it has nothing to tune)
            assert len(metrics[f"models.{model}.best_params"]) == 1, model  # tuned once, on the val rows
    assert "models.dummy.best_params" not in metrics
    assert metrics["models.network.mae_std"] == 0.0  # one test set: no spread over folds
    (chosen,) = metrics["models.network.best_params"]
    assert set(metrics["tuning.grids.network.learning_rate"]) == {0.0015, 0.003, 0.006}  # around optimizer.lr
    assert chosen["learning_rate"] in metrics["tuning.searched.network.learning_rate"]
    assert all(edge.startswith("task.param_grids.") for edge in metrics["tuning.edges"])
    for baseline in BASELINES:
        prefix = f"comparison.{baseline}."
        assert 0.0 <= metrics[prefix + "p_value"] <= 1.0, baseline
        assert "paired t-test" in metrics[prefix + "method"] and metrics[prefix + "n"] == SAMPLED["test"]
        assert metrics[prefix + "model_a"] == "network" and metrics[prefix + "model_b"] == baseline
        # the paired differences of |error| over the test rows average to the difference of the MAEs
        assert metrics[prefix + "mean_difference"] == pytest.approx(
            metrics["models.network.mae_mean"] - metrics[f"models.{baseline}.mae_mean"], abs=1e-9)
    assert [row["baseline"] for row in read_csv(run_dir / "comparison.csv")] == list(BASELINES)
    assert not any(key.startswith("published.") for key in metrics)  # a CSV file has no published results


def test_regression_on_a_split_predicts_exactly_the_test_rows(regression_run, band_gaps):
    run_dir, metrics = regression_run
    _, records = band_gaps
    rows = read_csv(run_dir / "oof_predictions.csv")
    test = [record for record in records if record["split"] == "test"]
    assert len(rows) == len(test) and {row["split"] for row in rows} == {"test"}
    assert sorted(int(row["csv_line"]) for row in rows) == [record["line"] for record in test]
    assert sorted(row["composition"] for row in rows) == sorted(record["formula"] for record in test)
    truth = np.array([float(row["band_gap"]) for row in rows])
    network = np.array([float(row["predicted_network"]) for row in rows])
    assert metrics["models.network.mae_mean"] == pytest.approx(np.mean(np.abs(network - truth)), rel=1e-9)


def test_regression_on_a_split_draws_every_figure(regression_run):
    run_dir, _ = regression_run
    for figure in ("parity.png", "residuals.png", "model_comparison.png", "paired_differences.png",
                   "learning_curve.png", "loss.png"):
        assert (run_dir / "figures" / figure).stat().st_size > 10_000, figure
    assert not (run_dir / "figures" / "confusion.png").exists()
    curve = read_csv(run_dir / "learning_curve.csv")
    assert {"train_size", "network_mean", "network_std", "ridge_mean"} <= set(curve[0])


def test_the_saved_ensemble_reproduces_the_test_predictions_of_the_run(regression_run):
    run_dir, _ = regression_run
    assert (run_dir / "model.npz").exists() and (run_dir / "model_1.npz").exists()
    assert not (run_dir / "model_2.npz").exists()
    predictor = load_predictor(run_dir)
    assert predictor.state["networks"] == ["model", "model_1"] and len(predictor.networks) == 2
    assert predictor.state["trained_on"] == f"the {SAMPLED['train'] + SAMPLED['val']} train + val rows"
    rows = read_csv(run_dir / "oof_predictions.csv")
    expected = np.array([float(row["predicted_network"]) for row in rows])
    table = predictor.predict_table([row["composition"] for row in rows])
    # The saved networks are the evaluated ones (trained on train + val): the same float64 preprocessing, the
    # same float32 networks; only the order of averaging the members and undoing the target scaling differs,
    # a few float32 roundings of O(1) outputs times the target's scale (~1 eV), so ~1e-6 eV.
    np.testing.assert_allclose([row["prediction"] for row in table], expected, rtol=1e-5, atol=1e-5)
    assert {row["formula"] for row in table} == {row["composition"] for row in rows}


def test_classification_on_a_split_scores_labels_and_draws_the_confusion_matrix(classification_run):
    run_dir, metrics = classification_run
    assert metrics["dataset.kind"] == "classification" and metrics["objective_name"] == \
        "models.network.balanced_error"
    assert metrics["objective"] == pytest.approx(1.0 - metrics["models.network.balanced_accuracy_mean"])
    for model in ("network", *CLASSIFIERS):
        for metric in ("accuracy", "balanced_accuracy", "f1_macro"):
            assert 0.0 <= metrics[f"models.{model}.{metric}_mean"] <= 1.0, (model, metric)
    assert metrics["models.dummy.balanced_accuracy_mean"] == pytest.approx(0.5)  # always the majority class
    assert np.isfinite(metrics["models.network.log_loss_mean"]) and 0 <= metrics["models.network.roc_auc_mean"] <= 1
    assert "mae_mean" not in " ".join(metrics)
    for baseline in CLASSIFIERS:
        assert 0.0 <= metrics[f"comparison.{baseline}.p_value"] <= 1.0, baseline
        assert "paired t-test" in metrics[f"comparison.{baseline}.method"]
    figures = run_dir / "figures"
    assert (figures / "confusion.png").stat().st_size > 10_000
    assert (figures / "paired_differences.png").exists() and (figures / "model_comparison.png").exists()
    assert not (figures / "parity.png").exists() and not (figures / "residuals.png").exists()
    rows = read_csv(run_dir / "oof_predictions.csv")
    assert len(rows) == SAMPLED["test"]
    assert {row[f"predicted_{model}"] for row in rows for model in ("network", *CLASSIFIERS)} <= {METAL, NON_METAL}


def test_the_saved_classifier_predicts_labels(classification_run):
    run_dir, _ = classification_run
    rows = read_csv(run_dir / "oof_predictions.csv")
    predictor = load_predictor(run_dir)
    assert sorted(predictor.state["classes"]) == [METAL, NON_METAL] and "target" not in predictor.state
    labels = predictor.predict_table([row["composition"] for row in rows])
    # the same probabilities as the run (equal to float32 rounding), so the same most probable class
    assert [row["prediction"] for row in labels] == [row["predicted_network"] for row in rows]


def test_the_builtin_sets_and_the_real_data_experiments_compose(compose_config):
    config = validate(compose_config([*BASE, "task.dataset=aflow_bulk_modulus", "task.cv=split"]))
    assert config.task.dataset == "aflow_bulk_modulus" and config.task.kind == "regression"
    assert validate(compose_config([*BASE, "task.dataset=aflow_metal", "baseline=materials_classifiers",
                                    "task.objective=cv_balanced_error"])).task.kind == "classification"
    bulk = validate(compose_config(["experiment=materials_bulk_modulus"]))
    assert (bulk.task.dataset, bulk.task.cv, bulk.task.target_transform, bulk.task.loss) == \
        ("aflow_bulk_modulus", "split", "log", "absolute_error")
    gap = validate(compose_config(["experiment=materials_band_gap"]))
    assert (gap.task.dataset, gap.task.cv) == ("aflow_band_gap", "split") and "kernel_ridge" not in gap.baseline
    metal = validate(compose_config(["experiment=materials_metal"]))
    assert (metal.task.dataset, metal.task.kind, metal.task.objective) == \
        ("aflow_metal", "classification", "cv_balanced_error")
    assert "logistic_regression" in metal.baseline


def test_subsample_draws_each_split_in_proportion(compose_config):
    from physics.app.seeding import generator
    from physics.tasks.materials import task as materials_task

    config = validate(compose_config(["task=materials", "task.dataset=aflow_bulk_modulus", "task.cv=split",
                                      "task.subsample=490"]))
    full = builtin_dataset("aflow_bulk_modulus")
    data = materials_task.load_data(config.task, config.seed)
    counts = {label: int(np.sum(data.split == label)) for label in ("train", "val", "test")}
    assert counts == {"train": 343, "val": 73, "test": 74}  # 3,428 / 732 / 736 of 4,896, scaled to 490
    rows = [full.formulas.index(formula) for formula in data.formulas]
    assert rows == sorted(rows) and np.array_equal(full.target[rows], data.target)  # the original rows, in order
    again = materials_task.subsample(full, 490, generator(config.seed, "subsample"))
    assert again.formulas == data.formulas  # the seed fixes the draw
