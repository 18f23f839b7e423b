"""Magpie descriptors: values computed by hand, the missing-value policies, and agreement of the vectorised
statistics with a plain per-composition loop."""
import numpy as np
import pytest

from physics.materials.composition import parse_formula
from physics.materials.descriptors import STATISTICS, feature_names, fraction_matrix, magpie_features
from physics.materials.elements import ELEMENT_SYMBOLS, MAGPIE_PROPERTIES, element_table

EN_FE, EN_O, EN_NI = 1.83, 3.44, 1.91  # Pauling electronegativities in data/elements.csv (Magpie table)


def features_of(formula, **options):
    result = magpie_features([formula], **options)
    return dict(zip(result.names, result.values[0]))


def test_element_table_spot_values():
    table = element_table()
    assert table.values.shape == (103, 22)
    assert table.symbols[0] == "H" and table.symbols[-1] == "Lr" and len(ELEMENT_SYMBOLS) == 103
    assert table.value("Fe", "Number") == 26
    assert table.value("Fe", "Electronegativity") == EN_FE
    assert table.value("O", "AtomicWeight") == 15.9994
    assert np.isnan(table.value("He", "Electronegativity"))  # missing in the source
    np.testing.assert_array_equal(table.column("Number"), np.arange(1, 104))


def test_fe2o3_by_hand():
    features = features_of("Fe2O3")
    f_fe, f_o = 0.4, 0.6
    mean = f_fe * EN_FE + f_o * EN_O  # 2.796
    assert features["MagpieData mean Electronegativity"] == pytest.approx(2.796, rel=1e-12)
    assert features["MagpieData mean Electronegativity"] == pytest.approx(mean, rel=1e-12)
    assert features["MagpieData avg_dev Electronegativity"] == pytest.approx(
        f_fe * abs(EN_FE - mean) + f_o * abs(EN_O - mean), rel=1e-12)  # 0.7728
    assert features["MagpieData minimum Electronegativity"] == EN_FE
    assert features["MagpieData maximum Electronegativity"] == EN_O
    assert features["MagpieData range Electronegativity"] == pytest.approx(EN_O - EN_FE)
    assert features["MagpieData mode Electronegativity"] == EN_O  # O has the larger fraction
    assert features["MagpieData mean AtomicWeight"] == pytest.approx(0.4 * 55.845 + 0.6 * 15.9994, rel=1e-12)
    assert features["MagpieData mean NdValence"] == pytest.approx(0.4 * 6, rel=1e-12)


def test_mode_tie_takes_smallest_value():
    features = features_of("FeNi")  # equal fractions: tie
    assert features["MagpieData mode Electronegativity"] == EN_FE  # min(1.83, 1.91)
    assert features["MagpieData mode Number"] == 26


def test_missing_values_ignore_policy():
    # He has no electronegativity: it is left out and O's fraction renormalised to 1
    features = features_of("HeO2")
    # (2/3 * 3.44) / (2/3) differs from 3.44 by rounding only: relative 1e-12
    assert features["MagpieData mean Electronegativity"] == pytest.approx(EN_O, rel=1e-12)
    assert features["MagpieData avg_dev Electronegativity"] == pytest.approx(0.0, abs=1e-12)
    assert features["MagpieData minimum Electronegativity"] == EN_O
    assert features["MagpieData mode Electronegativity"] == EN_O
    assert features["MagpieData mean Number"] == pytest.approx((2 + 2 * 8) / 3)  # other properties unaffected
    # no element with a value: the property's features are NaN
    alone = features_of("He")
    assert all(np.isnan(alone[f"MagpieData {stat} Electronegativity"]) for stat in STATISTICS)
    assert alone["MagpieData mean Number"] == 2


def test_missing_values_nan_policy():
    features = features_of("HeO2", missing="nan")
    assert all(np.isnan(features[f"MagpieData {stat} Electronegativity"]) for stat in STATISTICS)
    assert features["MagpieData mean Number"] == pytest.approx(6.0)


def test_names_shapes_and_element_fractions():
    names = feature_names()
    assert len(names) == 22 * 6
    assert names[:2] == ("MagpieData minimum Number", "MagpieData maximum Number")
    result = magpie_features(["Fe2O3", "NaCl", "Fe0.620C0.000953Mn0.000521"], element_fractions=True)
    assert result.values.shape == (3, 132 + 103)
    fractions = result.values[:, 132:]
    np.testing.assert_allclose(fractions.sum(axis=1), 1.0, atol=1e-15)
    assert fractions[0, ELEMENT_SYMBOLS.index("Fe")] == pytest.approx(0.4)
    assert result.names[132] == "frac H"
    np.testing.assert_array_equal(fraction_matrix(["Fe2O3"]), fractions[:1])


def reference_statistics(formula, prop):
    """Plain-Python statistics of one composition (the definitions, element by element)."""
    fractions = parse_formula(formula).fractions
    table = element_table()
    pairs = [(f, table.value(el, prop)) for el, f in fractions.items() if not np.isnan(table.value(el, prop))]
    total = sum(f for f, _ in pairs)
    weights = [f / total for f, _ in pairs]
    values = [x for _, x in pairs]
    mean = sum(w * x for w, x in zip(weights, values))
    avg_dev = sum(w * abs(x - mean) for w, x in zip(weights, values))
    top = max(f for f, _ in pairs)
    mode = min(x for f, x in pairs if f == top)
    return [min(values), max(values), max(values) - min(values), mean, avg_dev, mode]


def test_vectorised_statistics_match_a_plain_loop():
    rng = np.random.default_rng(7)
    formulas = []
    for _ in range(40):
        k = rng.integers(1, 6)
        elements = rng.choice(94, size=k, replace=False)
        amounts = rng.integers(1, 20, size=k) / 4
        formulas.append("".join(f"{ELEMENT_SYMBOLS[e]}{a}" for e, a in zip(elements, amounts)))
    result = magpie_features(formulas)
    for row, formula in enumerate(formulas):
        for p, prop in enumerate(MAGPIE_PROPERTIES):
            expected = reference_statistics(formula, prop)
            # same arithmetic up to summation order: relative 1e-12 (abs 1e-9 for sums that cancel to ~0)
            np.testing.assert_allclose(result.values[row, 6 * p: 6 * p + 6], expected, rtol=1e-12, atol=1e-9,
                                       err_msg=f"{formula} {prop}")


def test_accepts_mappings_and_subsets():
    result = magpie_features([{"Fe": 2, "O": 3}], properties=["Electronegativity"], statistics=["mean", "mode"])
    assert result.names == ("MagpieData mean Electronegativity", "MagpieData mode Electronegativity")
    np.testing.assert_allclose(result.values, [[2.796, EN_O]], rtol=1e-12)


@pytest.mark.parametrize(
    "options, fragment",
    [
        ({"missing": "drop"}, "'missing' parameter"),
        ({"statistics": ["median"]}, "'statistics' parameter"),
        ({"properties": ["Colour"]}, "'properties' parameter"),
    ],
)
def test_bad_options(options, fragment):
    with pytest.raises(ValueError, match=fragment):
        magpie_features(["Fe2O3"], **options)


def test_bad_compositions():
    with pytest.raises(ValueError, match="finite and >= 0"):
        magpie_features([{"Fe": -1.0}])
    with pytest.raises(ValueError, match="at least one composition"):
        magpie_features([])
    with pytest.raises(TypeError, match="formula str"):
        magpie_features([42])
