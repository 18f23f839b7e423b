"""Built-in AFLOW datasets: row counts per split as documented, finite targets, the metal / non-metal rule, the
unchanged and reproducible .gz files, and package data that a wheel carries."""
import gzip
import hashlib
import time
from pathlib import Path

import numpy as np
import pytest

import physics
from physics.materials.builtin import AFLOW_DIR, BUILTIN_DATASETS, METAL, NON_METAL, builtin_dataset
from tests.conftest import ROOT

SPLITS = {  # counted in the files; also in data/aflow/SOURCES.md and the module docstring
    "aflow_bulk_modulus": {"train": 3428, "val": 732, "test": 736},
    "aflow_band_gap": {"train": 19330, "val": 4125, "test": 4122},
    "aflow_metal": {"train": 19330, "val": 4125, "test": 4122},
}
UNITS = {"aflow_bulk_modulus": "GPa", "aflow_band_gap": "eV", "aflow_metal": ""}
CONTENT_SHA256 = {  # of the uncompressed files: the shared tables, unchanged
    "bulk_modulus.csv.gz": "b875912d4f2effce301af48437fc2a19164fc63a319fc4cc371801f757695c05",
    "band_gap.csv.gz": "a21ccb09226159ab57b5cc5bf81b3536f80c69f7288434bd603234a261c8be0a",
}


@pytest.fixture(scope="module")
def loaded():
    return {name: builtin_dataset(name) for name in BUILTIN_DATASETS}


@pytest.mark.parametrize("name", sorted(SPLITS))
def test_each_builtin_dataset_loads_with_its_documented_splits(loaded, name):
    data, spec = loaded[name], BUILTIN_DATASETS[name]
    assert spec.name == name and data.units == spec.units == UNITS[name]
    assert data.target_name == spec.target_name and data.target_type == spec.target_type
    values, counts = np.unique(data.split, return_counts=True)
    assert dict(zip(values.tolist(), counts.tolist())) == SPLITS[name]
    assert len(data) == len(data.target) == len(data.groups) == len(data.split) == sum(SPLITS[name].values())
    assert len(set(data.formulas)) == len(data)  # one row per formula
    assert data.skipped == () and data.line_numbers[0] == 2
    assert data.source == f"AFLOW {spec.title} (CrabNet benchmark split), physics/materials/data/{spec.file}"
    assert "Wang" in spec.citation and "Curtarolo" in spec.citation and spec.licence == "MIT, see data/aflow/LICENSE"


@pytest.mark.parametrize("name, low, high", [("aflow_bulk_modulus", 0.5, 410.0), ("aflow_band_gap", 0.0, 18.0)])
def test_regression_targets_are_finite_and_in_range(loaded, name, low, high):
    data, spec = loaded[name], BUILTIN_DATASETS[name]
    assert data.target.dtype == np.float64 and np.isfinite(data.target).all()
    assert low <= data.target.min() and data.target.max() <= high
    assert set(spec.published) == {"CrabNet", "HotCrab", "Roost", "ElemNet", "random forest (Magpie)",
                                   "predict the mean"}
    assert spec.published["CrabNet"] < spec.published["random forest (Magpie)"] < spec.published["predict the mean"]
    test = data.split == "test"  # the documented "predict the mean" MAE is what the train mean scores here
    baseline = np.abs(data.target[test] - data.target[data.split == "train"].mean()).mean()
    assert baseline == pytest.approx(spec.published["predict the mean"], rel=0.01)


def test_metal_labels_are_exactly_the_zero_gaps(loaded):
    metal, gap = loaded["aflow_metal"], loaded["aflow_band_gap"]
    assert metal.formulas == gap.formulas and np.array_equal(metal.split, gap.split)
    assert set(metal.target.tolist()) == {METAL, NON_METAL} and metal.target_type == "classification"
    np.testing.assert_array_equal(metal.target == METAL, gap.target == 0.0)
    assert np.count_nonzero(metal.target == METAL) == 13667 and np.count_nonzero(metal.target == NON_METAL) == 13910
    assert gap.target[gap.target > 0].min() == 0.0017  # no tiny gap that a tolerance would have to decide
    assert dict(BUILTIN_DATASETS["aflow_metal"].published) == {}


def test_band_gap_loads_fast():
    start = time.process_time()  # CPU time of this process: other jobs on the machine do not count
    builtin_dataset("aflow_band_gap")
    assert time.process_time() - start < 2.0


@pytest.mark.parametrize("name", ["aflow_bulk", "AFLOW_BAND_GAP", "", None])
def test_unknown_name_lists_the_allowed_ones(name):
    with pytest.raises(ValueError, match=r"Unknown built-in dataset .*expected one of \['aflow_band_gap', "
                                         r"'aflow_bulk_modulus', 'aflow_metal'\]"):
        builtin_dataset(name)


def test_the_gz_files_are_the_shared_tables_unchanged_and_reproducible():
    for file, digest in CONTENT_SHA256.items():
        raw = (AFLOW_DIR / file).read_bytes()
        assert hashlib.sha256(gzip.decompress(raw)).hexdigest() == digest
        assert raw[3] & 0x08 == 0 and raw[4:8] == b"\0\0\0\0"  # gzip -n: no file name, no time stamp
    sources = (AFLOW_DIR / "SOURCES.md").read_text(encoding="utf-8")
    assert all(digest in sources for digest in CONTENT_SHA256.values())
    for counts in SPLITS.values():
        assert all(f"{count:,}" in sources for count in counts.values())
    licence = (AFLOW_DIR / "LICENSE").read_text(encoding="utf-8")
    assert "Copyright (c) 2019-2020 Anthony Yu-Tung Wang and Steven K. Kauwe" in licence
    assert "bulk_modulus.csv.gz" in licence and "band_gap.csv.gz" in licence


def test_package_data_includes_the_aflow_files():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    package = Path(physics.__file__).resolve().parent
    assert AFLOW_DIR == package / "materials" / "data" / "aflow"
    wanted = {AFLOW_DIR / spec.file.split("/", 1)[1] for spec in BUILTIN_DATASETS.values()}
    wanted |= {AFLOW_DIR / "SOURCES.md", AFLOW_DIR / "LICENSE"}
    assert all(path.is_file() for path in wanted)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["physics"]
    included = {path.resolve() for pattern in patterns for path in package.glob(pattern)}
    assert wanted <= included, sorted(str(path) for path in wanted - included)
