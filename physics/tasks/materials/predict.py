"""``ml4phys predict`` for ``task=materials``: the saved predictor (:mod:`physics.tasks.materials.predictor`) on a
CSV of compositions.

Input: a CSV with a composition column, named as the run's ``task.composition_column`` (default
``composition``) or ``formula``; other columns are ignored. One row per input row: ``formula``, ``prediction``
(the target in its units, or the class label), ``uncertainty`` (the sample SD over the members of a seed
ensemble, of the prediction for regression or of the predicted class's probability for classification; only
when the run saved more than one network), ``outside_domain``, ``domain_note``, ``descriptor_distance`` (the
run's :class:`~physics.materials.domain.ApplicabilityDomain`).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from core.losses import softmax
from physics.app.predict import PredictError
from physics.tasks.materials.predictor import Predictor, load_predictor


def read_formulas(input_path: Path, column: str) -> list[str]:
    """The formulas of ``input_path``'s column ``column`` (or ``formula``); PredictError("input") otherwise."""
    try:
        with open(input_path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            name = next((c for c in (column, "formula") if c in header), None)
            if name is None:
                raise PredictError("input", f"{str(input_path)!r} has no column {column!r} or 'formula' "
                                            f"(columns: {', '.join(header) or 'none'}).")
            formulas = [row[name].strip() if row[name] else "" for row in reader]
    except UnicodeDecodeError:
        raise PredictError("input", f"{str(input_path)!r} is not a UTF-8 CSV file.") from None
    empty = [i + 2 for i, formula in enumerate(formulas) if not formula]
    if empty:
        raise PredictError("input", f"{str(input_path)!r} has an empty {name!r} on line(s) "
                                    f"{', '.join(map(str, empty[:5]))}.")
    if not formulas:
        raise PredictError("input", f"{str(input_path)!r} has no rows.")
    return formulas


def member_spread(predictor: Predictor, formulas: list[str], labels: list) -> np.ndarray:
    """Sample SD over the ensemble members: of each member's prediction (regression, in the target's units) or
    of each member's probability of the ensemble's label (classification); shape (n,)."""
    X = predictor._features(formulas)
    if "classes" in predictor.state:
        index = {label: i for i, label in enumerate(predictor.state["classes"])}
        column = np.array([index[str(label)] for label in labels])
        members = [softmax(network.predict(X.astype(network.dtype)).astype(np.float64))[np.arange(len(X)), column]
                   for network in predictor.networks]
    else:
        members = [Predictor(networks=[network], state=predictor.state)._predict(X) for network in predictor.networks]
    return np.std(members, axis=0, ddof=1)


def predict_rows(config, run_dir: Path, input_path: Path) -> list[dict]:
    """The rows of the predictions CSV (see the module's docstring)."""
    if not (run_dir / "predictor.json").is_file():
        raise PredictError("run", f"{str(run_dir)!r} has no predictor.json (the materials run saved no model).")
    predictor = load_predictor(run_dir)
    formulas = read_formulas(input_path, config.task.composition_column)
    try:
        table = predictor.predict_table(formulas)
    except (ValueError, KeyError) as error:
        raise PredictError("input", f"a composition of {str(input_path)!r} cannot be read: {error}") from None
    spread = (member_spread(predictor, formulas, [row["prediction"] for row in table])
              if len(predictor.networks) > 1 else None)
    rows = []
    for i, row in enumerate(table):
        out = {"formula": row["formula"], "prediction": row["prediction"]}
        if spread is not None:
            out["uncertainty"] = float(spread[i])
        out.update({"outside_domain": not row["in_domain"], "domain_note": row["domain_note"],
                    "descriptor_distance": row["descriptor_distance"]})
        rows.append(out)
    return rows
