"""``task=materials`` checks every stage against the data before the first fit (physics.tasks.materials.stages):
a learning-curve fraction or a tuning split too small for a model is skipped with a warning (the issue: a
117-row file and scikit-learn's early-stopping MLP once died in the learning curve, after minutes of work);
an evaluation too small stops the run at once, naming the key. CSV mistakes come back as the config key that
fixes them. And with a given split, tuning and the final fit never see a test row (on ``cross_validate``)."""
from __future__ import annotations

import csv
import logging

import numpy as np
import pytest
from sklearn.neural_network import MLPRegressor

from physics.app.config import validate
from physics.app.runner import run as run_config
from physics.app.schema import ConfigError
from physics.materials.dataset import miedema_dataset
from physics.tasks.materials import stages
from physics.tasks.materials import task as materials_task
from physics.tasks.materials.stages import MIN_TRAIN_ROWS

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # tiny sklearn MLPs

BASE = ["task=materials"]


def write_alloys(path, n, *, seed=1, delimiter=",", target=None, split=None):
    """A CSV (composition, e_form[, split]) of n Miedema alloys; ``target(i, value)`` rewrites a target cell,
    ``split`` gives each row's split label. Returns the dataset."""
    data = miedema_dataset(n, seed)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(["composition", "e_form", *(["split"] if split is not None else [])])
        for i, (formula, value) in enumerate(zip(data.formulas, data.target)):
            cell = target(i, value) if target is not None else f"{value:.6g}"
            writer.writerow([formula, cell, *([split[i]] if split is not None else [])])
    return data


def csv_overrides(path):
    return [*BASE, "task.dataset=csv", f"task.csv_path={path}", "task.target_column=e_form"]


@pytest.fixture
def no_fit(monkeypatch):
    """Fails the test if the task starts evaluating any model."""
    def forbidden(*args, **kwargs):
        raise AssertionError("a model was fitted")
    monkeypatch.setattr(materials_task, "evaluate", forbidden)


# --- the issue: a learning-curve fraction too small for the early-stopping MLP

def test_the_issue_premise_scikit_learns_mlp_refuses_a_tiny_training_set():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="The validation set is too small"):
        MLPRegressor(early_stopping=True, max_iter=5).fit(rng.normal(size=(5, 3)), rng.normal(size=5))


def test_a_learning_curve_fraction_too_small_is_skipped_with_a_warning(debug_config, tmp_path, caplog):
    path = tmp_path / "alloys.csv"
    write_alloys(path, 117)
    overrides = [*csv_overrides(path), "task.n_splits=5", "task.learning_curve=[0.05,0.2]", "task.tune=false",
                 "baseline.ridge=null", "baseline.random_forest=null", "baseline.kernel_ridge=null"]
    config = debug_config(overrides)
    assert config.baseline.sklearn_mlp.early_stopping is True  # the issue's baseline, as configured
    with caplog.at_level(logging.WARNING, logger="physics.tasks.materials.stages"):
        metrics = run_config(config, tmp_path / "run").flat()
    # the run did not die: every model evaluated, the files written
    assert np.isfinite(metrics["models.sklearn_mlp.mae_mean"]) and np.isfinite(metrics["models.network.mae_mean"])
    assert (tmp_path / "run" / "model.npz").exists() and (tmp_path / "run" / "metrics.json").exists()
    why = metrics["stages.skipped.learning_curve"]
    assert why.startswith("fraction 0.05 (5 of 92 rows)") and f"at least {MIN_TRAIN_ROWS} training rows" in why
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any("learning curve skipped for every model" in message and "0.05" in message
               and "task.learning_curve" in message for message in warnings), warnings
    assert "stages.skipped.tuning" not in metrics
    # fraction 0.2 (18 rows) is enough for every model (the MLP needs floor(1 / 0.1) + 1 = 11): the curve has it
    # and the full training folds
    assert "0.2" not in why and len(metrics["learning_curve.train_sizes"]) == 2
    assert (tmp_path / "run" / "figures" / "learning_curve.png").exists()


def test_the_issue_fraction_the_mlp_can_fit_is_kept(compose_config, tmp_path):
    rng = np.random.default_rng(0)
    smallest_accepted = None
    for n in range(2, 40):  # what scikit-learn's MLP (validation_fraction=0.1) really accepts
        try:
            MLPRegressor(early_stopping=True, max_iter=1).fit(rng.normal(size=(n, 2)), rng.normal(size=n))
        except ValueError:
            continue
        smallest_accepted = n
        break
    assert smallest_accepted == 11
    mlp = MLPRegressor(early_stopping=True)
    assert stages.validation_rows_needed(mlp) == (smallest_accepted, "early_stopping")
    # the issue's case: 117 rows in 5 folds, fractions [0.05, 0.2]: 0.2 of the ~92-row folds is 18 rows
    path = tmp_path / "alloys.csv"
    write_alloys(path, 117)
    config = validate(compose_config([*csv_overrides(path), "task.learning_curve=[0.05,0.2]"]))
    data = materials_task.load_data(config.task, config.seed)
    _, splits = materials_task._settings(config.task, config.seed, data)
    plan = stages.plan(config.task, data.target, splits, {"sklearn_mlp": mlp}, grids={})
    assert plan.learning_curve == [0.2]


def test_a_tuning_split_too_small_is_skipped_for_every_model(debug_config, tmp_path, caplog):
    path = tmp_path / "alloys.csv"
    split = ["val"] * 30 + ["train"] * 8 + ["test"] * 20  # 8 train rows: no candidate can be fitted
    write_alloys(path, len(split), split=split)
    overrides = [*csv_overrides(path), "task.split_column=split", "task.cv=split", "task.learning_curve=[]",
                 "baseline=none", "+baseline.ridge._target_=sklearn.linear_model.Ridge"]
    with caplog.at_level(logging.WARNING, logger="physics.tasks.materials.stages"):
        metrics = run_config(debug_config(overrides), tmp_path / "run").flat()
    assert "inner training sets of ~8 rows" in metrics["stages.skipped.tuning"]
    assert any("tuning skipped for every model" in record.getMessage() for record in caplog.records)
    assert "models.network.best_params" not in metrics and "models.ridge.best_params" not in metrics
    assert metrics["cv.n_test"] == 20 and np.isfinite(metrics["models.network.mae_mean"])


# --- an evaluation too small stops the run before any fit, naming the key

@pytest.mark.parametrize("n, extra, key", [
    (12, ["task.cv=kfold", "task.n_splits=3"], "task.n_splits"),  # training folds of 8 rows
    (30, ["task.cv=split", "task.split_column=split"], "task.dataset"),  # 6 train + val rows
])
def test_an_evaluation_too_small_stops_before_any_fit_naming_the_key(debug_config, tmp_path, no_fit, n, extra, key):
    path = tmp_path / "small.csv"
    split = ["train"] * 4 + ["val"] * 2 + ["test"] * (n - 6)
    write_alloys(path, n, split=split if "task.cv=split" in extra else None)
    with pytest.raises(ConfigError) as error:
        run_config(debug_config([*csv_overrides(path), *extra]), tmp_path / "run")
    assert error.value.key == key
    assert "the evaluation cannot run on this data" in error.value.message
    assert f"at least {MIN_TRAIN_ROWS} training rows" in error.value.message
    assert not (tmp_path / "run" / "metrics.json").exists() and not (tmp_path / "run" / "model.npz").exists()


def test_a_class_with_one_training_row_stops_before_any_fit(debug_config, tmp_path, no_fit):
    path = tmp_path / "labels.csv"
    labels = ["a", "b"] * 20 + ["rare"]  # "rare" cannot be in a training fold twice
    write_alloys(path, len(labels), target=lambda i, value: labels[i])
    overrides = [*csv_overrides(path), "task.target_type=classification", "baseline=materials_classifiers",
                 "task.objective=cv_balanced_error", "task.cv=kfold"]
    with pytest.raises(ConfigError) as error:
        run_config(debug_config(overrides), tmp_path / "run")
    assert error.value.key == "task.n_splits" and "the evaluation cannot run on this data" in error.value.message
    assert "every class of the data (3) needs at least 2 training rows" in error.value.message


# --- CSV mistakes come back as the config key that fixes them

@pytest.mark.parametrize("delimiter, advice", [(";", "set task.delimiter=';'"), ("\t", "set task.delimiter=tab"),
                                               ("|", "set task.delimiter='|'")])
def test_a_file_with_another_delimiter_names_task_delimiter(debug_config, tmp_path, no_fit, delimiter, advice):
    path = tmp_path / "alloys.csv"
    write_alloys(path, 20, delimiter=delimiter)
    with pytest.raises(ValueError) as error:
        run_config(debug_config(csv_overrides(path)), tmp_path / "run")
    assert advice in str(error.value) and "pass delimiter" not in str(error.value)
    assert "The composition_column 'composition' is not a column" in str(error.value)


def test_following_the_delimiter_advice_reads_the_file(compose_config, tmp_path):
    path = tmp_path / "alloys.csv"
    data = write_alloys(path, 20, delimiter=";")
    config = validate(compose_config([*csv_overrides(path), "task.delimiter=';'"]))
    loaded = materials_task.load_data(config.task, config.seed)
    assert loaded.formulas == data.formulas and len(loaded) == 20


def test_following_the_tab_advice_as_printed_reads_the_file(compose_config, tmp_path):
    path = tmp_path / "alloys.csv"
    write_alloys(path, 20, delimiter="\t")
    for value in ("tab", r"'\t'"):  # as printed, and backslash + t as a shell passes it
        config = validate(compose_config([*csv_overrides(path), f"task.delimiter={value}"]))
        assert len(materials_task.load_data(config.task, config.seed)) == 20


def test_a_categorical_target_names_task_target_type(debug_config, tmp_path, no_fit):
    path = tmp_path / "labels.csv"
    write_alloys(path, 30, target=lambda i, value: "metal" if i % 3 else "semiconductor")
    with pytest.raises(ValueError) as error:
        run_config(debug_config(csv_overrides(path)), tmp_path / "run")
    message = str(error.value)
    assert "30 of 30 rows fail only because their target is not a number" in message
    assert "set task.target_type=classification" in message and "set task.skip_bad_rows=true" in message
    assert "pass " not in message  # load_csv's argument names are all rewritten into config keys
    # following it: the labels are read as classes
    config = validate(debug_config([*csv_overrides(path), "task.target_type=classification",
                                    "baseline=materials_classifiers", "task.objective=cv_balanced_error"]))
    loaded = materials_task.load_data(config.task, config.seed)
    assert sorted(set(loaded.target)) == ["metal", "semiconductor"]
