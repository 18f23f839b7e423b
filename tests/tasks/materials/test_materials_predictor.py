"""The predictor saved by ``task=materials`` knows its applicability domain: a composition with an element never
seen in training (or descriptors far from every training row) is predicted with an OutsideDomainWarning, and
``predict_table`` says the same per row; compositions like the training ones pass silently.

The run draws 120 Miedema alloys from a pool of four metals, so that every binary system of the pool is well
covered and a new alloy of the pool lies inside the domain (with the 66-metal default, 120 alloys leave most
systems unseen and most new alloys beyond the descriptor-distance threshold)."""
from __future__ import annotations

import csv
import warnings

import numpy as np
import pytest

from physics.app.runner import run as run_config
from physics.tasks.materials import load_predictor
from physics.tasks.materials.predictor import OutsideDomainWarning

POOL = ("Fe", "Ni", "Cu", "Al")
#: new alloys of the pool (not among the run's compositions)
INSIDE = ["Fe0.5Ni0.5", "Cu0.25Al0.75", "Al0.3Ni0.7"]


@pytest.fixture(scope="module")
def run_dir(debug_config, tmp_path_factory):
    """A debug=tiny run on 120 alloys of POOL (the network refitted on all of them); its folder."""
    folder = tmp_path_factory.mktemp("metals")
    run_config(debug_config(["task=materials", f"task.elements=[{','.join(POOL)}]", "task.tune=false",
                             "task.learning_curve=[]", "baseline=none",
                             "+baseline.dummy._target_=sklearn.dummy.DummyRegressor"]), folder)
    return folder


@pytest.fixture(scope="module")
def predictor(run_dir):
    return load_predictor(run_dir)


def training_formulas(run_dir):
    with open(run_dir / "oof_predictions.csv", newline="") as handle:
        return [row["composition"] for row in csv.DictReader(handle)]


def test_an_oxide_is_predicted_with_a_warning_naming_the_unseen_element(predictor):
    with pytest.warns(OutsideDomainWarning, match=r"1 of 1 compositions lie outside the training domain .*"
                                                  r"Fe2O3 \(elements never seen in training: O"):
        prediction = predictor.predict(["Fe2O3"])
    assert prediction.shape == (1,) and np.isfinite(prediction[0])  # still predicted: an extrapolation


def test_predict_table_marks_the_oxide_outside_with_a_note(predictor):
    with warnings.catch_warnings():
        warnings.simplefilter("error", OutsideDomainWarning)  # the table says it; no warning
        (row,) = predictor.predict_table(["Fe2O3"])
    assert row["formula"] == "Fe2O3" and row["in_domain"] is False
    assert row["domain_note"].startswith("elements never seen in training: O")
    assert np.isfinite(row["prediction"]) and row["descriptor_distance"] > 0
    assert row["prediction"] == pytest.approx(predictor.predict_table(["Fe2O3"])[0]["prediction"])


def test_an_unseen_metal_is_outside_too(predictor):
    (row,) = predictor.predict_table(["Ti0.5Ni0.5"])
    assert row["in_domain"] is False and "elements never seen in training: Ti" in row["domain_note"]


def test_alloys_of_the_training_pool_are_inside_without_a_warning(predictor, run_dir):
    trained = training_formulas(run_dir)
    assert len(trained) == 120 and not set(INSIDE) & set(trained)
    formulas = [*INSIDE, trained[0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error", OutsideDomainWarning)
        prediction = predictor.predict(formulas)
    assert prediction.shape == (len(formulas),) and np.all(np.isfinite(prediction))
    table = predictor.predict_table(formulas)
    assert [row["in_domain"] for row in table] == [True] * len(formulas)
    assert all(row["domain_note"] == "" for row in table)
    assert all(row["descriptor_distance"] <= predictor.domain.threshold_ for row in table)
    np.testing.assert_allclose([row["prediction"] for row in table], prediction, rtol=1e-12)
    # about 1 % of the training rows lie beyond the 99th-percentile threshold, by construction
    outside = sum(not row["in_domain"] for row in predictor.predict_table(trained))
    assert outside <= 3


def test_a_mixed_batch_warns_once_naming_only_the_outsiders(predictor):
    formulas = ["Fe0.5Ni0.5", "Fe2O3", "Cu0.25Al0.75", "Ti0.5Ni0.5"]
    with pytest.warns(OutsideDomainWarning) as record:
        prediction = predictor.predict(formulas)
    assert len(record) == 1 and prediction.shape == (4,)
    message = str(record[0].message)
    assert message.startswith("2 of 4 compositions lie outside the training domain of this predictor "
                              "(all 120 samples)")
    assert "Fe2O3 (" in message and "Ti0.5Ni0.5 (" in message
    assert "Fe0.5Ni0.5" not in message and "Cu0.25Al0.75" not in message
    assert [row["in_domain"] for row in predictor.predict_table(formulas)] == [True, False, True, False]
