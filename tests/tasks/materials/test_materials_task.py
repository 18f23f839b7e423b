"""``task=materials`` end to end on tiny budgets: built-in data, a CSV file, grouped CV, tuning, bad rows, the
saved predictor, and config errors that stop the run before any work.

(That no test fold reaches preprocessing or models is tested on ``cross_validate`` itself in
tests/materials/test_cross_validation.py; the task only composes it.)
"""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from physics.app.config import validate
from physics.app.runner import run as run_config
from physics.app.schema import ConfigError
from physics.materials.dataset import miedema_dataset
from physics.materials.descriptors import magpie_features
from physics.tasks.materials import load_predictor
from physics.tasks.materials.predictor import OutsideDomainWarning

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 5-iteration sklearn MLP

BASE = ["task=materials"]  # its own default network (model=mlp_materials, adam with a cosine schedule)
MODELS = ("network", "dummy", "ridge", "random_forest", "kernel_ridge", "sklearn_mlp")
FIGURES = ("parity.png", "residuals.png", "learning_curve.png", "model_comparison.png", "paired_differences.png",
           "loss.png")


@pytest.fixture
def tiny(debug_config):
    """``tiny(*overrides)``: the validated ``debug=tiny task=materials`` config (120 alloys, 3 folds, 3 epochs,
    learning curve [0.4], small baselines) with ``overrides``."""
    return lambda *overrides: debug_config([*BASE, *overrides])


def run(cfg, run_dir):
    """Run the task; its flat metrics, as written to metrics.json (NaN kept as NaN)."""
    return run_config(cfg, run_dir).flat()


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def write_alloys(path, n, *, seed=1, bad_lines=()):
    """A Matbench-style CSV (composition, e_form, an extra column) of n Miedema alloys; rows listed in
    ``bad_lines`` (file line numbers, header = 1) are replaced by broken ones."""
    data = miedema_dataset(n, seed)
    broken = [("Xx2O3", "1.0"), ("Fe2O3", ""), ("NiAl", "abc"), ("Fe(Ni", "2.0")]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["material_id", "composition", "e_form"])
        for i, (formula, target) in enumerate(zip(data.formulas, data.target)):
            line = i + 2
            row = broken[bad_lines.index(line) % len(broken)] if line in bad_lines else (formula, f"{target:.6g}")
            writer.writerow([f"mp-{i}", *row])
    return data


def test_builtin_run_writes_every_model_figure_table_and_predictor(tiny, tmp_path):
    metrics = run(tiny(), tmp_path)
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["objective"] == metrics["models.network.mae_mean"]
    assert written["objective_name"] == "models.network.mae_mean" and written["objective_direction"] == "minimize"
    for model in MODELS:
        for key in ("mae_mean", "mae_std", "rmse_mean", "r2_mean", "max_error_mean", "mae_over_mad"):
            assert np.isfinite(written[f"models.{model}.{key}"]), f"{model}.{key}"
        assert written[f"models.{model}.max_error_mean"] >= written[f"models.{model}.rmse_mean"] >= \
            written[f"models.{model}.mae_mean"] > 0
    # MAE/MAD is 1 for a model predicting the whole-data mean; the dummy predicts its training-fold mean
    assert written["models.dummy.mae_over_mad"] == pytest.approx(1.0, abs=0.1)
    assert written["best_model"] in MODELS and written["dataset.n_samples"] == 120
    assert written["network.epochs_per_fold"] == [3, 3, 3] and written["network.final_epochs"] == 3
    for figure in FIGURES:
        assert (tmp_path / "figures" / figure).stat().st_size > 10_000, figure

    rows = read_csv(tmp_path / "oof_predictions.csv")
    assert len(rows) == 120
    assert {"composition", "chemical_system", "fold", "formation_enthalpy_ss",
            *(f"predicted_{m}" for m in MODELS)} <= set(rows[0])
    assert sorted({row["fold"] for row in rows}) == ["1", "2", "3"]
    truth = np.array([float(row["formation_enthalpy_ss"]) for row in rows])
    network = np.array([float(row["predicted_network"]) for row in rows])
    folds = np.array([int(row["fold"]) for row in rows])
    fold_mae = [np.mean(np.abs(network - truth)[folds == k]) for k in (1, 2, 3)]
    assert written["models.network.mae_mean"] == pytest.approx(np.mean(fold_mae), rel=1e-9)
    assert [row["model"] for row in read_csv(tmp_path / "models.csv")] == list(MODELS)
    curve = read_csv(tmp_path / "learning_curve.csv")
    assert len(curve) == 2 and float(curve[0]["train_size"]) < float(curve[1]["train_size"]) == 80.0
    assert set(curve[0]) == {"train_size", *(f"{m}_mean" for m in MODELS), *(f"{m}_std" for m in MODELS)}
    # the last learning-curve point is the cross-validation itself (its tuned fits)
    assert float(curve[1]["network_mean"]) == pytest.approx(written["models.network.mae_mean"], rel=1e-9)
    assert float(curve[1]["network_std"]) == pytest.approx(written["models.network.mae_std"], rel=1e-9)

    # every baseline against the network, paired over the same (grouped) folds
    assert written["cv.kind"] == "group" and [row["baseline"] for row in read_csv(tmp_path / "comparison.csv")] \
        == list(MODELS[1:])
    for model in MODELS[1:]:
        assert written[f"comparison.{model}.method"] == "Nadeau-Bengio corrected resampled t-test over 3 folds"
        assert 0.0 <= written[f"comparison.{model}.p_value"] <= 1.0
        assert written[f"comparison.{model}.mean_difference"] == pytest.approx(
            written["models.network.mae_mean"] - written[f"models.{model}.mae_mean"], abs=1e-9)
    # task.tune (default): every model with a main parameter, the network too, tuned on 3 values of it
    assert set(written["tuning.grids.network.learning_rate"]) == {0.0015, 0.003, 0.006}
    assert all(len(written[f"models.{m}.best_params"]) == 3 for m in MODELS if m != "dummy")

    predictor = load_predictor(tmp_path)
    chosen = [params["learning_rate"] for params in written["models.network.best_params"]]
    majority = max(chosen, key=chosen.count)  # the refit uses the setting most folds chose
    assert predictor.state["trained_on"] == f"all 120 samples, tuned setting {{'learning_rate': {majority}}}"
    # 120 alloys of 66 metals leave most binary systems unseen: Fe-Ni is beyond the descriptor-distance threshold
    with pytest.warns(OutsideDomainWarning, match=r"1 of 2 compositions .*: Fe0\.5Ni0\.5 \(descriptor distance"):
        prediction = predictor.predict([rows[0]["composition"], "Fe0.5Ni0.5"])
    assert prediction.shape == (2,) and np.all(np.isfinite(prediction))


def test_same_seed_same_numbers_other_seed_other_data(tiny, tmp_path):
    overrides = ["task.learning_curve=[]", "~baseline.sklearn_mlp", "~baseline.random_forest"]
    first = run(tiny(*overrides), tmp_path / "a")  # tuned: the inner splits are seeded too
    second = run(tiny(*overrides), tmp_path / "b")
    other = run(tiny(*overrides, "seed=1", "task.tune=false"), tmp_path / "c")
    assert first["models.network.mae_mean"] == second["models.network.mae_mean"]
    assert first["models.kernel_ridge.mae_mean"] == second["models.kernel_ridge.mae_mean"]
    assert first["models.network.best_params"] == second["models.network.best_params"]
    assert first["models.dummy.mae_mean"] != other["models.dummy.mae_mean"]
    assert not (tmp_path / "a" / "figures" / "learning_curve.png").exists()  # learning_curve=[] turns it off


def test_csv_run_keeps_line_numbers_and_groups_by_chemical_system(tiny, tmp_path):
    path = tmp_path / "alloys.csv"
    data = write_alloys(path, 90)
    overrides = ["task.dataset=csv", f"task.csv_path={path}", "task.target_column=e_form", "task.cv=group",
                 "task.refit=false", "task.objective=cv_rmse", "task.tune=false"]
    metrics = run(tiny(*overrides), tmp_path / "run")
    assert metrics["objective"] == metrics["models.network.rmse_mean"]
    assert metrics["objective_name"] == "models.network.rmse_mean"
    assert metrics["dataset.n_samples"] == 90 and metrics["dataset.target"] == "e_form"
    assert metrics["cv.kind"] == "group"
    rows = read_csv(tmp_path / "run" / "oof_predictions.csv")
    assert [int(row["csv_line"]) for row in rows] == list(range(2, 92))
    assert [row["composition"] for row in rows] == list(data.formulas)
    folds_of_system = {}
    for row in rows:
        folds_of_system.setdefault(row["chemical_system"], set()).add(row["fold"])
    assert all(len(folds) == 1 for folds in folds_of_system.values())  # leave-cluster-out
    assert load_predictor(tmp_path / "run").state["trained_on"] == "the training rows of fold 3 of 3"


def test_bad_rows_stop_the_run_before_training_unless_skipped(tiny, tmp_path):
    path = tmp_path / "broken.csv"
    write_alloys(path, 60, bad_lines=(3, 10, 25))
    overrides = ["task.dataset=csv", f"task.csv_path={path}", "task.target_column=e_form", "task.tune=false"]
    with pytest.raises(ValueError, match=r"3 bad row\(s\) of 60 .*line 3: .*unknown element 'Xx'.*line 10: "
                                         r"missing target.*line 25: target 'abc' is not a number") as error:
        run(tiny(*overrides), tmp_path / "stopped")
    assert "set task.skip_bad_rows=true to drop them" in str(error.value)
    assert not list((tmp_path / "stopped").glob("*"))  # nothing trained, nothing written

    metrics = run(tiny(*overrides, "task.skip_bad_rows=true"), tmp_path / "skipped")
    assert metrics["dataset.n_samples"] == 57 and metrics["dataset.n_skipped_rows"] == 3
    lines = {int(row["csv_line"]) for row in read_csv(tmp_path / "skipped" / "oof_predictions.csv")}
    assert lines.isdisjoint({3, 10, 25}) and len(lines) == 57


def test_the_grids_given_are_tuned_inside_the_folds_the_network_included(tiny, tmp_path):
    # task.tune=false: only the models named in task.param_grids are tuned, each on exactly its own grid
    overrides = ["task.tune=false", "task.extend_grids=false", "task.learning_curve=[]", "~baseline.sklearn_mlp", "~baseline.random_forest",
                 "+task.param_grids.kernel_ridge.gamma=[0.001,0.01]", "+task.param_grids.ridge.alpha=[0.1,10.0]",
                 "+task.param_grids.network.learning_rate=[0.001,0.01]"]
    metrics = run(tiny(*overrides), tmp_path)
    for name, key, grid in (("kernel_ridge", "gamma", {0.001, 0.01}), ("ridge", "alpha", {0.1, 10.0}),
                            ("network", "learning_rate", {0.001, 0.01})):
        chosen = metrics[f"models.{name}.best_params"]
        assert len(chosen) == 3 and all(set(params) == {key} and params[key] in grid for params in chosen)
        assert set(metrics[f"tuning.grids.{name}.{key}"]) == set(metrics[f"tuning.searched.{name}.{key}"]) == grid
    assert "models.dummy.best_params" not in metrics and not any(key.startswith("tuning.grids.dummy")
                                                                 for key in metrics)
    # the network's grid names its own parameter (through the target scaling); the refit uses the majority
    chosen = [params["learning_rate"] for params in metrics["models.network.best_params"]]
    assert load_predictor(tmp_path).state["trained_on"] == \
        f"all 120 samples, tuned setting {{'learning_rate': {max(chosen, key=chosen.count)}}}"


def test_saved_predictor_reproduces_the_pipeline(tiny, tmp_path):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.preprocessing import StandardScaler

    from physics.app.training import network_estimator
    from physics.materials.evaluation import Preprocessing, make_pipeline
    from physics.tasks.materials.predictor import save_predictor

    config = validate(tiny("trainer.epochs=20"))
    data = miedema_dataset(80, 3)
    options = {"element_fractions": True, "missing": "nan"}  # "nan": some columns need imputation
    features = data.features(**options)
    network = network_estimator(config, "regressor", None)
    pipeline = make_pipeline(TransformedTargetRegressor(network, transformer=StandardScaler()),
                             Preprocessing(clip_z=1.5))  # a tight clip, so clipping is exercised
    pipeline.fit(features.values, data.target)
    save_predictor(pipeline, tmp_path, formulas=data.formulas, X=features.values, feature_names=features.names,
                   descriptor_options=options, target_name=data.target_name, units=data.units, trained_on="test")
    formulas = ["Al0.3Ni0.7", "Cu0.5Zr0.5", "Fe0.25Pt0.75", "He0.5Fe0.5"]  # He: no electronegativity -> NaN
    expected = pipeline.predict(magpie_features(formulas, **options).values)
    # the same float64 preprocessing in the same order, then the same float32 network: equal to rounding
    with pytest.warns(OutsideDomainWarning, match="He0.5Fe0.5"):  # He: in no training alloy
        predicted = load_predictor(tmp_path).predict(formulas)
    np.testing.assert_allclose(predicted, expected, rtol=1e-6, atol=1e-6)


def test_diverging_network_is_a_floating_point_error_naming_model_and_fold(tiny, tmp_path):
    with pytest.raises(FloatingPointError, match=r"Model 'network' failed on fold 0"):
        run(tiny("optimizer.lr=1e6", "schedule=constant", "trainer.epochs=30"), tmp_path)
    assert not (tmp_path / "metrics.json").exists()


def test_defaults(compose_config):
    config = validate(compose_config(BASE))
    defaults = {"dataset": "miedema", "n_samples": 5000, "structure": "ss", "noise": 0.0, "elements": None,
                "csv_path": None, "composition_column": "composition", "target_column": None, "target_type": None,
                "split_column": None, "delimiter": ",", "skip_bad_rows": False, "element_fractions": True,
                "missing": "ignore", "cv": "group", "n_splits": 5, "cv_random_state": None,
                "variance_threshold": 1e-8, "standardize": True, "clip_z": 5.0, "scale_target": True,
                "target_transform": "none", "loss": "squared_error", "ensemble_size": 1,
                "learning_curve": [0.05, 0.2], "tune": True, "param_grids": {}, "inner_splits": 1, "refit": True}
    assert {key: getattr(config.task, key) for key in defaults} == defaults
    assert config.task.kind == "regression"
    assert list(config.baseline) == list(MODELS[1:])
    assert (config.trainer.epochs, config.trainer.batch_size, config.trainer.validation_fraction,
            config.trainer.early_stopping, config.trainer.patience, config.trainer.blas_threads) == \
        (200, 64, 0.1, False, 30, 1)
    assert (config.model.name, config.model.hidden, config.model.activation) == ("mlp", [96, 96], "softplus")
    assert (config.optimizer.name, config.optimizer.lr, config.schedule.name, config.schedule.min_factor) == \
        ("adam", 0.003, "cosine", 0.0)
    assert config.task.objective == "cv_mae"


@pytest.mark.parametrize("overrides,key,expected", [
    (["task.dataset=csv"], "task.csv_path", "must name a CSV file"),
    (["task.dataset=csv", "task.csv_path=/no/such/file.csv", "task.target_column=y"], "task.csv_path",
     "does not exist"),
    (["task.n_splits=1"], "task.n_splits", "must be an int in [2, inf)"),
    (["task.n_samples=20", "task.n_splits=30"], "task.n_splits", "must not exceed task.n_samples"),
    (["task.cv=loo"], "task.cv", "'kfold', 'group'"),
    (["task.standardize=false"], "task.clip_z", "needs task.standardize=true"),
    (["task.learning_curve=[0.5,1.0]"], "task.learning_curve[1]", "must be in (0.0, 1.0)"),
    (["task.elements=[Fe,Xx]"], "task.elements", "unknown: ['Xx']"),
    (["task.structure=glass"], "task.structure", "'ss', 'amor', 'inter', 'liquid'"),
    (["task.cv=split"], "task.cv", "split needs a dataset with a train/val/test column"),
    (["task.target_type=classification"], "task.target_type", "applies to task.dataset=csv only"),
    (["task.objective=cv_balanced_error"], "task.objective", "is for classification"),
    (["task.dataset=aflow_metal", "baseline=materials_classifiers"], "task.objective",
     "must be cv_balanced_error for classification"),
    (["task.dataset=aflow_metal", "baseline=materials_classifiers", "task.objective=cv_balanced_error",
      "task.loss=huber"], "task.loss", "applies to regression only"),
    (["task.loss=hinge"], "task.loss", "'squared_error', 'absolute_error', 'huber'"),
    (["task.target_transform=sqrt"], "task.target_transform", "'none', 'log'"),
    (["task.ensemble_size=0"], "task.ensemble_size", "must be an int in [1, inf)"),
    (["task.inner_splits=0"], "task.inner_splits", "must be an int in [1, inf)"),
    (["+task.param_grids.ridge.alpha=[]"], "task.param_grids.ridge.alpha", "non-empty list"),
    (["+task.param_grids.sklearn_mlp.learning_rate_int=[0.001]"], "task.param_grids.sklearn_mlp.learning_rate_int",
     "sklearn_mlp"),
    (["task.objective=test_mae"], "task.objective", "'cv_mae', 'cv_rmse'"),
])
def test_bad_values_are_config_errors_naming_the_key(compose_config, overrides, key, expected):
    with pytest.raises(ConfigError) as error:
        compose_config([*BASE, *overrides])  # composing validates: refused before any work
    assert error.value.key == key
    assert expected in str(error.value)


def test_csv_columns_must_be_given(compose_config, tmp_path):
    path = tmp_path / "a.csv"
    write_alloys(path, 12)
    with pytest.raises(ConfigError) as error:
        compose_config([*BASE, "task.dataset=csv", f"task.csv_path={path}"])
    assert error.value.key == "task.target_column"


@pytest.mark.parametrize("overrides,key,expected", [
    (["+task.param_grids.lasso.alpha=[1.0]"], "task.param_grids.lasso",
     "names no model; models: network, dummy, ridge, random_forest, kernel_ridge, sklearn_mlp"),
    (["~baseline.ridge", "+task.param_grids.ridge.alpha=[1.0]"], "task.param_grids.ridge", "names no model"),
    (["baseline.ridge=null", "+task.param_grids.ridge.alpha=[1.0]"], "task.param_grids.ridge", "names no model"),
    (["+baseline.network._target_=sklearn.linear_model.Ridge"], "baseline.network", "is the numpy network's"),
    # classification needs classifiers, regression regressors: the first misfit baseline is named
    (["task.dataset=aflow_metal", "task.objective=cv_balanced_error"], "baseline.dummy",
     "every baseline must be one of the classifiers; sklearn.dummy.DummyRegressor is not. Use "
     "baseline=materials_classifiers"),
    (["baseline=materials_classifiers"], "baseline.dummy", "every baseline must be one of the regressors"),
])
def test_rules_across_nodes_are_checked_at_validation(compose_config, overrides, key, expected):
    with pytest.raises(ConfigError) as error:
        compose_config([*BASE, *overrides])
    assert error.value.key == key and expected in str(error.value)


def test_a_null_baseline_is_dropped_and_the_network_may_have_a_grid(compose_config):
    config = validate(compose_config([*BASE, "baseline.kernel_ridge=null", "baseline.sklearn_mlp=null",
                                      "+task.param_grids.network.learning_rate=[0.001,0.003]"]))
    assert list(config.baseline) == ["dummy", "ridge", "random_forest"]
    assert config.task.param_grids == {"network": {"learning_rate": [0.001, 0.003]}}


def test_cnn_is_refused_at_validation_naming_model(compose_config):
    with pytest.raises(ConfigError) as error:
        compose_config([*BASE, "model=cnn"])
    assert error.value.key == "model"
    assert "task=materials supports mlp networks" in str(error.value) and "model=cnn" in str(error.value)


def test_too_few_chemical_systems_stop_the_run_before_training(tiny, tmp_path):
    # the number of chemical systems is known only once the data is drawn: checked before any training
    with pytest.raises(ConfigError) as error:
        run(tiny("task.cv=group", "task.elements=[Fe,Ni,Cu]", "task.n_splits=4"), tmp_path)
    assert error.value.key == "task.n_splits" and "distinct groups" in str(error.value)
    assert not (tmp_path / "metrics.json").exists() and not (tmp_path / "model.npz").exists()
