"""Built-in Miedema dataset and CSV loading with the bad-row report, the split column and class labels."""
import gzip
import logging

import numpy as np
import pytest

from physics.materials.composition import parse_formula
from physics.materials.dataset import MaterialsDataset, load_csv, miedema_dataset
from physics.materials.miedema import formation_enthalpy, miedema_table


def test_miedema_dataset_is_reproducible_and_self_consistent():
    data = miedema_dataset(500, seed=3)
    again = miedema_dataset(500, seed=np.random.default_rng(3))
    assert data.formulas == again.formulas
    np.testing.assert_array_equal(data.target, again.target)
    assert miedema_dataset(500, seed=4).formulas != data.formulas
    assert len(data) == 500 and data.units == "kJ/mol" and data.line_numbers is None
    metals = set(miedema_table().metals)
    for formula, group, target in zip(data.formulas[:100], data.groups[:100], data.target[:100]):
        composition = parse_formula(formula)
        (a, x_a), (b, x_b) = composition.amounts.items()
        assert a < b and a != b and {a, b} <= metals
        assert x_a + x_b == pytest.approx(1.0, abs=1e-12)  # the formula carries exactly the x used
        assert group == composition.chemical_system
        assert target == pytest.approx(float(formation_enthalpy(a, b, x_a)), rel=1e-12, abs=1e-12)


def test_miedema_dataset_options():
    data = miedema_dataset(200, seed=0, elements=["Fe", "Ni", "Al"], structure="inter", decimals=2)
    assert set(data.groups) <= {"Al-Fe", "Al-Ni", "Fe-Ni"}
    assert all(len(str(x).split(".")[-1]) <= 2 for f in data.formulas for x in parse_formula(f).amounts.values())
    assert data.target_name == "formation_enthalpy_inter"


def test_miedema_dataset_noise_has_the_requested_spread():
    clean = miedema_dataset(4000, seed=11)
    noisy = miedema_dataset(4000, seed=11, noise=2.0)
    assert noisy.formulas == clean.formulas  # noise is drawn after the compositions
    residual = noisy.target - clean.target
    # sample std of 4000 normal draws has relative standard error 1/sqrt(2 * 4000) = 1.1 %: 5 % is > 4 sigma
    assert residual.std() == pytest.approx(2.0, rel=0.05)
    assert abs(residual.mean()) < 5 * 2.0 / np.sqrt(4000)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"n_samples": 0, "seed": 0}, "'n_samples' parameter"),
        ({"n_samples": 10, "seed": -1}, "'seed' parameter"),
        ({"n_samples": 10, "seed": 0, "noise": -1.0}, "'noise' parameter"),
        ({"n_samples": 10, "seed": 0, "structure": "glass"}, "'structure' parameter"),
        ({"n_samples": 10, "seed": 0, "elements": ["Fe"]}, ">= 2 distinct elements"),
        ({"n_samples": 10, "seed": 0, "elements": ["Fe", "O"]}, "not among them"),
        ({"n_samples": 10, "seed": 0, "decimals": 0}, "'decimals' parameter"),
    ],
)
def test_miedema_dataset_bad_parameters(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        miedema_dataset(**kwargs)


MATBENCH_STYLE = """mbid,composition,e_form
mb-1,Fe2O3,-1.5
mb-2,NaCl,-2.1
mb-3,Ag(AuS)2,-0.25
mb-4,CuSO4·5H2O,-1.1

mb-5,Fe0.620C0.000953Mn0.000521,0.01
"""


def test_load_matbench_style_csv(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text(MATBENCH_STYLE, encoding="utf-8")
    data = load_csv(path, "composition", "e_form")
    assert data.formulas == ("Fe2O3", "NaCl", "Ag(AuS)2", "CuSO4·5H2O", "Fe0.620C0.000953Mn0.000521")
    np.testing.assert_array_equal(data.target, [-1.5, -2.1, -0.25, -1.1, 0.01])
    np.testing.assert_array_equal(data.line_numbers, [2, 3, 4, 5, 7])  # the blank line 6 is skipped
    assert list(data.groups) == ["Fe-O", "Cl-Na", "Ag-Au-S", "Cu-H-O-S", "C-Fe-Mn"]
    assert data.target_name == "e_form" and data.skipped == ()
    features = data.features()
    assert features.values.shape == (5, 132)


def test_load_gzip_and_other_delimiter(tmp_path):
    path = tmp_path / "data.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("formula;y\nFeNi;1.0\nAl3Ni;2.0\n")
    data = load_csv(path, "formula", "y", delimiter=";")
    assert data.formulas == ("FeNi", "Al3Ni")


BAD_ROWS = """composition,target
Fe2O3,1.0
Xx2O,2.0
NaCl,
Fe2O)3,1.5
MgO,abc
"Al2O3",nan
CaO,3.0
Ni-2,1.0
,1.0
Cu
"""


def test_bad_rows_are_reported_with_line_numbers(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_ROWS)
    with pytest.raises(ValueError) as info:
        load_csv(path, "composition", "target")
    message = str(info.value)
    assert "8 bad row(s) of 10" in message
    for fragment in [
        "line 3: Cannot parse formula 'Xx2O' at position 0: unknown element 'Xx'",
        "line 4: missing target",
        "line 5: Cannot parse formula 'Fe2O)3' at position 4: unbalanced ')'",
        "line 6: target 'abc' is not a number",
        "line 7: target 'nan' is not finite",
        "line 9: Cannot parse formula 'Ni-2' at position 2: negative amounts",
        "line 10: missing composition",
        "line 11: the row has 1 fields, the header has 2",
        "skip_bad_rows=True",
    ]:
        assert fragment in message


def test_skip_bad_rows_logs_them(tmp_path, caplog):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_ROWS)
    with caplog.at_level(logging.WARNING, logger="physics.materials.dataset"):
        data = load_csv(path, "composition", "target", skip_bad_rows=True)
    assert data.formulas == ("Fe2O3", "CaO")
    np.testing.assert_array_equal(data.line_numbers, [2, 8])
    assert [row.line for row in data.skipped] == [3, 4, 5, 6, 7, 9, 10, 11]
    assert "8 bad row(s)" in caplog.text and "line 3:" in caplog.text and "Dropping them" in caplog.text


def test_report_lists_at_most_ten_rows(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("composition,target\n" + "".join(f"Zz{i},1\n" for i in range(25)))
    with pytest.raises(ValueError, match=r"25 bad row\(s\) of 25.*line 11: .*; \.\.\. and 15 more") as info:
        load_csv(path, "composition", "target")
    assert "line 12:" not in str(info.value)


def test_csv_structure_errors(tmp_path):
    path = tmp_path / "cols.csv"
    path.write_text("formula,y\nFeNi,1\n")
    with pytest.raises(ValueError, match=r"composition_column 'composition' is not a column .*\['formula', 'y'\]"):
        load_csv(path, "composition", "y")
    with pytest.raises(ValueError, match="target_column 'e_form'"):
        load_csv(path, "formula", "e_form")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        load_csv(empty, "formula", "y")
    with pytest.raises(FileNotFoundError):
        load_csv(tmp_path / "missing.csv", "formula", "y")
    only_bad = tmp_path / "only_bad.csv"
    only_bad.write_text("formula,y\nQq,1\n")
    with pytest.raises(ValueError, match="no usable data rows"):
        load_csv(only_bad, "formula", "y", skip_bad_rows=True)


def test_csv_to_cross_validation_end_to_end(tmp_path):
    from sklearn.linear_model import Ridge

    from physics.materials.evaluation import cross_validate

    alloys = miedema_dataset(120, seed=2)
    path = tmp_path / "alloys.csv"
    path.write_text("composition,dH\n" + "".join(f"{f},{float(t)!r}\n" for f, t in zip(alloys.formulas, alloys.target)))
    data = load_csv(path, "composition", "dH")
    np.testing.assert_array_equal(data.target, alloys.target)  # repr round-trips floats exactly
    np.testing.assert_array_equal(data.groups, alloys.groups)
    result = cross_validate({"ridge": Ridge()}, data.features().values, data.target, cv="group", groups=data.groups)
    summary = result.summary()["ridge"]
    assert np.isfinite(summary["mae_mean"]) and summary["mae_over_mad"] < 1.0  # better than predicting the mean


SPLIT_AND_LABELS = """formula,kind,split,extra
Fe2O3, oxide ,train,1
NaCl,salt, val ,2
FeNi,metal,test,3
CuZn,1.5,train,4
"""


def test_split_column_and_classification_labels(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text(SPLIT_AND_LABELS)
    data = load_csv(path, "formula", "kind", split_column="split", target_type="classification")
    assert data.target_type == "classification" and data.target.dtype.kind == "U"
    assert list(data.target) == ["oxide", "salt", "metal", "1.5"]  # stripped; a number is a label like any other
    assert list(data.split) == ["train", "val", "test", "train"]  # stripped
    np.testing.assert_array_equal(data.line_numbers, [2, 3, 4, 5])
    numeric = load_csv(path, "formula", "extra", split_column="split")
    assert numeric.target_type == "regression" and numeric.target.dtype == np.float64
    np.testing.assert_array_equal(numeric.target, [1.0, 2.0, 3.0, 4.0])
    assert load_csv(path, "formula", "extra").split is None  # no split_column, no split
    assert miedema_dataset(5, seed=0).split is None and miedema_dataset(5, seed=0).target_type == "regression"


def test_missing_split_and_label_cells_are_bad_rows(tmp_path):
    path = tmp_path / "holes.csv"
    path.write_text("formula,kind,split\nFe2O3,oxide,train\nNaCl,,val\nFeNi,metal,  \nCuZn,metal\nAl,metal,test\n")
    with pytest.raises(ValueError) as info:
        load_csv(path, "formula", "kind", split_column="split", target_type="classification")
    message = str(info.value)
    assert "3 bad row(s) of 5" in message
    for fragment in ["line 3: missing target", "line 4: missing split", "line 5: the row has 2 fields, the header has 3"]:
        assert fragment in message
    data = load_csv(path, "formula", "kind", split_column="split", target_type="classification", skip_bad_rows=True)
    assert data.formulas == ("Fe2O3", "Al") and list(data.split) == ["train", "test"]
    with pytest.raises(ValueError, match=r"The split_column 'fold' is not a column .*\['formula', 'kind', 'split'\]"):
        load_csv(path, "formula", "kind", split_column="fold")


def test_classification_needs_two_labels(tmp_path):
    path = tmp_path / "one_label.csv"
    path.write_text("formula,kind\nFe2O3,oxide\nAl2O3, oxide\nQq,metal\n")
    with pytest.raises(ValueError, match=r"at least 2 distinct labels in the target_column 'kind'\. "
                                         r"Got only 'oxide' in all 2 usable rows"):
        load_csv(path, "formula", "kind", target_type="classification", skip_bad_rows=True)  # Qq's label is lost


@pytest.mark.parametrize("target_type", ["categorical", "Regression", None])
def test_target_type_must_be_one_of_the_allowed_values(tmp_path, target_type):
    path = tmp_path / "data.csv"
    path.write_text("formula,y\nFeNi,1\n")
    with pytest.raises(ValueError, match=r"'target_type' parameter of load_csv must be one of "
                                         r"\('regression', 'classification'\)"):
        load_csv(path, "formula", "y", target_type=target_type)


def test_target_type_follows_the_target_dtype():
    def dataset(target):
        return MaterialsDataset(formulas=("Fe", "Ni"), target=target, groups=np.array(["Fe", "Ni"]), target_name="t")

    assert dataset(np.array([1.0, 2.0])).target_type == "regression"
    assert dataset(np.array(["a", "b"])).target_type == "classification"
    assert dataset(np.array(["a", "b"], dtype=object)).target_type == "classification"
    with pytest.raises(ValueError, match=r"float array \(regression\) or a str/object array.*Got dtype int"):
        dataset(np.array([1, 2])).target_type
