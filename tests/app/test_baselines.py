"""Baselines from the config: seeded, and predicting serially so the same config gives the same numbers."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from physics.app.baselines import build_baselines, check_specs, fit_and_predict, serial_prediction
from physics.app.schema import ConfigError
from tests.conftest import ROOT


def test_serial_prediction_reaches_every_fitted_forest():
    # the materials task wraps each model in a TransformedTargetRegressor: its *fitted* regressor_ predicted with
    # n_jobs=-1 before, so the forest's last digits changed between runs of the same config
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), rng.normal(size=60)
    wrapped = TransformedTargetRegressor(regressor=RandomForestRegressor(n_estimators=4, n_jobs=-1),
                                         transformer=StandardScaler())
    searched = GridSearchCV(wrapped, {"regressor__min_samples_leaf": [1, 2]}, cv=2)
    pipeline = serial_prediction(make_pipeline(StandardScaler(), searched).fit(X, y))
    best = pipeline.steps[-1][1].best_estimator_
    assert best.regressor_.n_jobs == 1 and best.regressor.n_jobs == 1


def test_baselines_get_their_own_seed_unless_the_config_sets_one():
    specs = {"forest": {"_target_": "sklearn.ensemble.RandomForestRegressor", "n_estimators": 3},
             "fixed": {"_target_": "sklearn.ensemble.RandomForestRegressor", "random_state": 5}}
    first, second = build_baselines(specs, 0), build_baselines(specs, 1)
    assert first["forest"].random_state != second["forest"].random_state
    assert first["fixed"].random_state == second["fixed"].random_state == 5


@pytest.mark.parametrize("spec,key", [
    ({"_target_": "builtins.open", "file": "x"}, "baseline.x._target_"),
    ({"_target_": "numpy.savetxt", "fname": "x"}, "baseline.x._target_"),
    ({"_target_": "os.system", "command": "true"}, "baseline.x._target_"),
    ({"_target_": "sklearn.utils.shuffle"}, "baseline.x._target_"),
    ({"_target_": "sklearn.linear_model.Ridge", "_args_": [1]}, "baseline.x._args_"),
    ({"_target_": "sklearn.linear_model.Ridge", "_partial_": True}, "baseline.x._partial_"),
    ({"_target_": "sklearn.ensemble.BaggingRegressor", "estimator": {"_target_": "builtins.open"}},
     "baseline.x.estimator._target_"),
    ({"_target_": "sklearn.nosuch.Model"}, "baseline.x._target_"),
])
def test_a_config_can_only_name_estimators(spec, key):
    with pytest.raises(ConfigError) as error:
        build_baselines({"x": spec}, 0)
    assert error.value.key == key


def test_a_target_outside_the_allowed_packages_is_not_even_imported():
    with pytest.raises(ConfigError, match="must be a scikit-learn estimator class"):
        check_specs({"x": {"_target_": "antigravity.fly"}})
    assert "antigravity" not in sys.modules


def test_nested_estimators_and_project_factories_are_allowed():
    built = build_baselines({"bag": {"_target_": "sklearn.ensemble.BaggingRegressor", "n_estimators": 2,
                                     "estimator": {"_target_": "sklearn.linear_model.Ridge", "alpha": 2.0}},
                             "poly": {"_target_": "physics.app.baselines.polynomial_ridge", "degree": 2}}, 0)
    assert built["bag"].estimator.alpha == 2.0 and built["poly"].steps[-1][1].alpha == 1e-3


def test_the_file_a_config_names_is_never_touched(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), "+baseline.x._target_=builtins.open",
                             f"+baseline.x.file={victim}", "+baseline.x.mode=w", f"hydra.run.dir={tmp_path}/run"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "baseline.x._target_" in result.stderr
    assert victim.read_text() == "keep" and not (tmp_path / "run").exists()


def test_a_baseline_error_names_the_baseline():
    estimators = build_baselines({"mlp": {"_target_": "sklearn.neural_network.MLPRegressor", "early_stopping": True,
                                          "validation_fraction": 0.1}}, 0)
    with pytest.raises(ValueError, match=r"baseline\.mlp \(MLPRegressor\) on 5 training samples"):
        fit_and_predict(estimators, np.zeros((5, 2)), np.zeros(5), lambda m, X: m.predict(X), {})
