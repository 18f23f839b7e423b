"""The docstring examples (``>>>``) of core and physics, run as doctests: an example that no longer works fails
here. Each listed module must hold at least one example; every module with an example must be listed."""
from __future__ import annotations

import doctest
import importlib

import pytest

from tests.conftest import ROOT

#: the modules whose examples run (each in well under a second or two on 2 cores)
MODULES = (
    "core",
    "core.ensemble",
    "core.sklearn_conv",
    "physics.app.plots",
    "physics.dynamics",
    "physics.ising",
    "physics.ising.dataset",
    "physics.ising.metropolis",
    "physics.ising.sampling",
    "physics.materials.builtin",
    "physics.materials.composition",
    "physics.transition",
)
#: modules with ``>>>`` lines that do not run yet, and why
NOT_YET: dict[str, str] = {}
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.setenv("ML4PHYS_CACHE_DIR", str(tmp_path / "cache"))  # an example that caches data stays here
    monkeypatch.chdir(tmp_path)
    result = doctest.testmod(importlib.import_module(name), optionflags=OPTIONS, verbose=False)
    assert result.attempted > 0, f"{name} has no docstring example"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed (output above)"


def test_every_module_with_examples_is_listed():
    with_examples = set()
    for folder in ("core", "physics"):
        for path in (ROOT / folder).rglob("*.py"):
            if ">>> " in path.read_text(encoding="utf-8"):
                parts = path.relative_to(ROOT).with_suffix("").parts
                with_examples.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    assert with_examples - set(MODULES) - set(NOT_YET) == set()
