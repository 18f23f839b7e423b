"""Material-property regression data: formula parsing, Magpie descriptors, Miedema's alloy enthalpies,
CSV loading and honest cross-validation.

Modules: ``elements`` (element property table), ``composition`` (formula parser), ``descriptors``
(Magpie-style features), ``miedema`` (formation enthalpy model), ``dataset`` (built-in and CSV datasets),
``evaluation`` (cross-validation, learning curves).
"""
from physics.materials.composition import Composition, chemical_system, parse_formula
from physics.materials.dataset import BadRow, MaterialsDataset, load_csv, miedema_dataset
from physics.materials.descriptors import Features, fraction_matrix, magpie_features
from physics.materials.evaluation import (
    CVResult,
    LearningCurve,
    Preprocessing,
    ZScoreClipper,
    cross_validate,
    evaluate,
    learning_curve,
)
from physics.materials.miedema import binary_formation_enthalpy, formation_enthalpy, miedema_table

__all__ = [
    "BadRow", "CVResult", "Composition", "Features", "LearningCurve", "MaterialsDataset", "Preprocessing",
    "ZScoreClipper", "binary_formation_enthalpy", "chemical_system", "cross_validate", "evaluate", "formation_enthalpy",
    "fraction_matrix", "learning_curve", "load_csv", "magpie_features", "miedema_dataset", "miedema_table",
    "parse_formula",
]
