"""Built-in real datasets: AFLOW bulk modulus and band gap with the CrabNet benchmark's train / val / test split.

The two files in ``data/aflow/`` are DFT results of the AFLOW project (Curtarolo et al., Comput. Mater. Sci. 58,
218 (2012)) as collected (one row per formula) and split by the CrabNet authors (Wang, Kauwe, Murdock,
Sparks, npj Comput. Mater. 7, 77 (2021); repository anthony-wang/CrabNet, ``data/benchmark_data``, MIT licence:
``data/aflow/LICENSE``). They are shipped gzip-compressed, content unchanged; ``data/aflow/SOURCES.md`` has
the provenance, checksums, row counts and the published test MAEs.

=====================  ==============  ======  =====================================  ======  =====  =====
name                   kind            units   target                                 train   val    test
=====================  ==============  ======  =====================================  ======  =====  =====
aflow_bulk_modulus     regression      GPa     bulk modulus (AEL, Voigt-Reuss-Hill)   3428    732    736
aflow_band_gap         regression      eV      band gap                               19330   4125   4122
aflow_metal            classification  --      "metal" / "non-metal" from the gap     19330   4125   4122
=====================  ==============  ======  =====================================  ======  =====  =====

``aflow_metal`` is derived from the band-gap file: label ``"metal"`` when the band gap is exactly 0 (the file
writes ``0.0``; no gap lies in (0, 0.0017) eV), ``"non-metal"`` otherwise. Class balance (metal / non-metal):
13667 / 13910 overall (49.6 % metals); train 9615 / 9715, val 2069 / 2056, test 1983 / 2139.

The published MAEs (:attr:`BuiltinSpec.published`) were computed by the CrabNet authors on test sets of 732
(bulk modulus) and 4110 (band gap) rows, a few rows fewer than the files' test splits: compare with care.

Example:

>>> data = builtin_dataset("aflow_bulk_modulus")
>>> train = data.split == "train"
>>> sorted(set(data.split.tolist()))
['test', 'train', 'val']
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import numpy as np

from physics.materials.dataset import MaterialsDataset, load_csv
from physics.materials.elements import DATA_DIR

#: the folder of the AFLOW files, inside the package
AFLOW_DIR = DATA_DIR / "aflow"
#: the labels of ``aflow_metal``
METAL, NON_METAL = "metal", "non-metal"

_CITATION = (
    "A. Y.-T. Wang, S. K. Kauwe, R. J. Murdock, T. D. Sparks, \"Compositionally restricted attention-based "
    "network for materials property predictions\", npj Comput. Mater. 7, 77 (2021) (the CrabNet benchmark split); "
    "S. Curtarolo et al., \"AFLOW: an automatic framework for high-throughput materials discovery\", "
    "Comput. Mater. Sci. 58, 218 (2012) (the DFT data)."
)
_LICENCE = "MIT, see data/aflow/LICENSE"


@dataclass(frozen=True)
class BuiltinSpec:
    """What one built-in dataset is and where it comes from.

    Attributes
    ----------
    name : str
        The key in :data:`BUILTIN_DATASETS`.
    file : str
        The data file relative to ``physics/materials/data/`` (e.g. ``"aflow/bulk_modulus.csv.gz"``).
    target_type : str
        "regression" or "classification".
    target_name : str
        The dataset's ``target_name``.
    units : str
        Units of the target ("GPa", "eV"; "" for class labels).
    description : str
        The property in words.
    title : str
        A short name for :attr:`source` ("bulk modulus").
    citation : str
        The references to cite.
    licence : str
        The licence of the data file.
    published : Mapping
        Model name -> test-split MAE (in ``units``) published for exactly this split (regression only;
        empty for classification).
    label_rule : str
        How class labels are derived from the file's numeric target ("" for regression).
    """

    name: str
    file: str
    target_type: str
    target_name: str
    units: str
    description: str
    title: str
    citation: str = _CITATION
    licence: str = _LICENCE
    published: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    label_rule: str = ""

    @property
    def path(self) -> Path:
        """Absolute path of the data file."""
        return DATA_DIR / self.file

    @property
    def source(self) -> str:
        """The readable ``source`` of the loaded dataset: what it is and the file inside the package."""
        return f"AFLOW {self.title} (CrabNet benchmark split), physics/materials/data/{self.file}"


#: the built-in datasets, name -> :class:`BuiltinSpec`
BUILTIN_DATASETS: Mapping[str, BuiltinSpec] = MappingProxyType({
    "aflow_bulk_modulus": BuiltinSpec(
        name="aflow_bulk_modulus", file="aflow/bulk_modulus.csv.gz", target_type="regression",
        target_name="bulk_modulus", units="GPa", description="bulk modulus (AEL, Voigt-Reuss-Hill)",
        title="bulk modulus",
        published=MappingProxyType({"CrabNet": 8.69, "HotCrab": 9.10, "Roost": 8.82, "ElemNet": 12.12,
                                    "random forest (Magpie)": 11.91, "predict the mean": 54.0}),
    ),
    "aflow_band_gap": BuiltinSpec(
        name="aflow_band_gap", file="aflow/band_gap.csv.gz", target_type="regression",
        target_name="band_gap", units="eV", description="band gap", title="band gap",
        published=MappingProxyType({"CrabNet": 0.301, "HotCrab": 0.316, "Roost": 0.337, "ElemNet": 0.372,
                                    "random forest (Magpie)": 0.384, "predict the mean": 1.40}),
    ),
    "aflow_metal": BuiltinSpec(
        name="aflow_metal", file="aflow/band_gap.csv.gz", target_type="classification",
        target_name="metal", units="", description="metal or non-metal (from the band gap)",
        title="metal / non-metal",
        label_rule=f"{METAL!r} when the band gap is exactly 0 eV, {NON_METAL!r} otherwise",
    ),
})


def builtin_dataset(name: str) -> MaterialsDataset:
    """Load one of :data:`BUILTIN_DATASETS`, with its fixed train / val / test split.

    Parameters
    ----------
    name : str
        "aflow_bulk_modulus", "aflow_band_gap" or "aflow_metal" (the keys of :data:`BUILTIN_DATASETS`).

    Returns
    -------
    dataset : MaterialsDataset
        With ``split`` (str "train" / "val" / "test" per sample), ``target`` float64 in ``units``
        (regression) or str labels "metal" / "non-metal" (``aflow_metal``), ``target_name``, ``units`` and
        a readable ``source`` from the spec, and ``line_numbers`` of the file (line 1 is its header).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the allowed ones).
    """
    spec = BUILTIN_DATASETS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ValueError(f"Unknown built-in dataset {name!r}: expected one of {sorted(BUILTIN_DATASETS)}.")
    data = load_csv(spec.path, "formula", "target", split_column="split")
    target = data.target
    if spec.target_type == "classification":
        target = np.where(data.target == 0.0, METAL, NON_METAL)
    return dataclasses.replace(data, target=target, target_name=spec.target_name, units=spec.units,
                               source=spec.source)
