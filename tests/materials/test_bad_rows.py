"""Bad rows of every kind are reported with their line numbers, never as a traceback: fields beyond the csv
module's limit, formulas nested too deep, amounts and targets that overflow, bytes that are not UTF-8, a
truncated .gz (issue 16). The parser refuses what it cannot represent instead of returning NaN descriptors.
Hints for the usual mistakes: a header delimited by another character, a column of words read as numbers."""
import gzip
import sys

import numpy as np
import pytest

from physics.materials.composition import MAX_NESTING, parse_formula
from physics.materials.dataset import estimate_csv_rows, load_csv
from physics.materials.descriptors import magpie_features

DEEP = "(" * 450 + "Fe" + ")" * 450  # once a RecursionError


@pytest.mark.parametrize("formula, fragment", [
    ("Fe1e400", "position 2: the amount '1e400' is not a finite number"),  # once accepted with NaN descriptors
    ("Fe1e-400Ni", "position 2: the amount '1e-400' underflows to 0"),
    ("(Fe1e200)1e200", "the amounts overflow (the amount of Fe is not finite)"),
    ("Fe1e308Ni1e308", "the amounts overflow when summed"),
    (DEEP, f"position {MAX_NESTING}: brackets nested deeper than {MAX_NESTING} levels"),
])
def test_parser_refuses_what_it_cannot_represent(formula, fragment):
    with pytest.raises(ValueError) as info:
        parse_formula(formula)
    assert fragment in str(info.value)
    assert len(str(info.value)) < 400  # a long formula is shortened in the message


def test_nesting_up_to_the_limit_parses_even_from_a_deep_stack():
    formula = "(" * MAX_NESTING + "Fe" + ")" * MAX_NESTING + "Ni"
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # the parser needs ~2 frames per level, far below any stack
    try:
        assert dict(parse_formula(formula).amounts) == {"Fe": 1.0, "Ni": 1.0}
    finally:
        sys.setrecursionlimit(limit)


def test_no_descriptor_is_nan_for_an_accepted_formula():
    assert np.isfinite(magpie_features(["Fe1e300Ni1e300", "Fe1e-300Ni"]).values).all()


def test_every_kind_of_bad_row_is_reported_with_its_line(tmp_path):
    path = tmp_path / "bad.csv"
    lines = ["composition,target", "FeNi,1.0",                    # 1, 2
             "Fe" + "x" * 200_000 + ",2.0",                         # 3: a field beyond 128 KiB (once _csv.Error)
             f"{DEEP},1.0",                                          # 4: nested ~450 deep (once RecursionError)
             "Fe1e400,1.0",                                          # 5: overflowing amount (once NaN features)
             "NiAl,1e300",                                           # 6: a target whose square overflows
             "NiAl,-1e999",                                          # 7: an overflowing target
             "CuZn,3.0"]                                             # 8
    path.write_bytes(("\n".join(lines) + "\n").encode() + b"Fe\xffNi,1.0\nAlNi,2.0\n")  # 9: not UTF-8; 10
    with pytest.raises(ValueError) as info:
        load_csv(path, "composition", "target")
    message = str(info.value)
    assert "6 bad row(s) of 9" in message and len(message) < 3000
    for fragment in ["line 3: a field is longer than 131072 characters", "line 4: Cannot parse formula",
                     "line 4", "nested deeper", "line 5: Cannot parse formula 'Fe1e400' at position 2",
                     "line 6: target '1e300' is beyond", "line 7: target '-1e999' is not finite",
                     "line 9: Cannot parse formula 'Fe\ufffdNi' at position 2: unexpected character"]:
        assert fragment in message
    data = load_csv(path, "composition", "target", skip_bad_rows=True)
    assert data.formulas == ("FeNi", "CuZn", "AlNi")
    np.testing.assert_array_equal(data.line_numbers, [2, 8, 10])
    assert [row.line for row in data.skipped] == [3, 4, 5, 6, 7, 9]


def test_a_truncated_gzip_is_a_value_error_naming_the_file(tmp_path):
    path = tmp_path / "cut.csv.gz"
    whole = gzip.compress(("composition,target\n" + "FeNi,1.0\n" * 20000).encode())
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match="cut.csv.gz' cannot be read after line"):
        load_csv(path, "composition", "target")


def test_rows_are_estimated_from_the_first_mebibyte(tmp_path):
    plain = tmp_path / "rows.csv"
    plain.write_text("composition,target\n" + "Fe0.5Ni0.5,1.25\n" * 100_000)
    rows, size = estimate_csv_rows(plain)
    assert rows == pytest.approx(100_000, rel=0.01) and size == plain.stat().st_size
    packed = tmp_path / "rows.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert estimate_csv_rows(packed) == pytest.approx((rows, size), rel=0.01)


@pytest.mark.parametrize("text, delimiter, hint", [
    ("formula;target\nFeNi;1.0\n", ",", "the header looks delimited by ';': pass delimiter=';'"),
    ("formula\ttarget\nFeNi\t1.0\n", ",", "the header looks delimited by '\\t': pass delimiter='\\t'"),
    ("formula|target\nFeNi|1.0\n", ",", "the header looks delimited by '|': pass delimiter='|'"),
    ('"formula";"target"\nFeNi;1.0\n', ",", "the header looks delimited by ';': pass delimiter=';'"),  # quoted names
    ("formula,target\nFeNi,1.0\n", ";", "the header looks delimited by ',': pass delimiter=','"),
    ("id;x|formula|target\n1;2|FeNi|1.0\n", ",", "pass delimiter='|'"),  # the split that finds the columns wins
])
def test_a_header_delimited_otherwise_gets_a_hint(tmp_path, text, delimiter, hint):
    path = tmp_path / "data.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match="is not a column of") as info:
        load_csv(path, "formula", "target", delimiter=delimiter)
    assert hint in str(info.value)
    assert "pass delimiter=" in str(info.value)  # the task layer rewrites exactly this phrase into its config key


def test_no_delimiter_hint_when_the_column_is_just_absent(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("formula,y\nFeNi,1.0\n")
    with pytest.raises(ValueError) as info:
        load_csv(path, "composition", "y")
    assert "delimited" not in str(info.value) and str(info.value).endswith("Columns: ['formula', 'y'].")


def test_a_column_of_words_gets_the_categorical_hint(tmp_path, caplog):
    path = tmp_path / "labels.csv"
    path.write_text("formula,kind\nFe2O3,oxide\nNaCl,salt\nFeNi,metal\nCuZn,0.5\nAl2O3, oxide \n")
    hint = "4 of 5 rows fail only because their target is not a number, so the column looks categorical: " \
           "pass target_type='classification'."
    with pytest.raises(ValueError) as info:
        load_csv(path, "formula", "kind")
    assert hint in str(info.value) and "pass skip_bad_rows=True" in str(info.value)
    with caplog.at_level("WARNING", logger="physics.materials.dataset"):
        load_csv(path, "formula", "kind", skip_bad_rows=True)
    assert "the column looks categorical" in caplog.text
    assert list(load_csv(path, "formula", "kind", target_type="classification").target) == \
        ["oxide", "salt", "metal", "0.5", "oxide"]


def test_the_categorical_hint_needs_most_rows_to_fail_only_on_the_target(tmp_path):
    half = tmp_path / "half.csv"  # 2 of 4 rows are words: not most
    half.write_text("formula,kind\nFe2O3,oxide\nNaCl,salt\nFeNi,1\nCuZn,2\n")
    with pytest.raises(ValueError, match="2 bad row") as info:
        load_csv(half, "formula", "kind")
    assert "looks categorical" not in str(info.value)
    unparsable = tmp_path / "unparsable.csv"  # words everywhere, but the formulas fail too: not only the target
    unparsable.write_text("formula,kind\nQq,oxide\nXx,salt\nFeNi,metal\n")
    with pytest.raises(ValueError, match="3 bad row") as info:
        load_csv(unparsable, "formula", "kind")
    assert "looks categorical" not in str(info.value)
    words = tmp_path / "words.csv"  # every row dropped: the "no usable rows" error carries the hint too
    words.write_text("formula,kind\nFe,a\nNi,b\n")
    with pytest.raises(ValueError, match="no usable data rows.*the column looks categorical"):
        load_csv(words, "formula", "kind", skip_bad_rows=True)
