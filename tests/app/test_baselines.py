"""Baselines from the config: seeded, and predicting serially so the same config gives the same numbers."""
from __future__ import annotations

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from physics.app.baselines import build_baselines, serial_prediction


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
