"""One version everywhere: pyproject.toml states it; the packages, the command line, CITATION.cff and the
changelog report the same; CITATION.cff has what Citation File Format 1.2.0 requires."""
from __future__ import annotations

import datetime
import re
import subprocess
import sys

import yaml

import core
import physics
from core import _version
from tests.conftest import ROOT

PYPROJECT = ROOT / "pyproject.toml"


def _pyproject_version() -> str:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the same line, read by the package's own fallback
        return _version._from_pyproject(PYPROJECT)
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["version"]


VERSION = _pyproject_version()


def test_the_packages_report_the_version_of_pyproject():
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION)
    assert core.__version__ == physics.__version__ == VERSION
    assert _version._from_pyproject(PYPROJECT) == VERSION  # the fallback of a clone that was never installed


def test_the_fallback_without_metadata_or_pyproject(tmp_path, monkeypatch):
    from importlib import metadata

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    assert _version.package_version() == VERSION  # read from the clone's pyproject.toml
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "other"\nversion = "9.9.9"\n')
    assert _version._from_pyproject(tmp_path / "pyproject.toml") is None  # another project's file is not ours
    assert _version._from_pyproject(tmp_path / "missing.toml") is None
    monkeypatch.setattr(_version, "_from_pyproject", lambda path: None)
    assert _version.package_version() == _version.UNKNOWN == "0+unknown"


def test_the_command_line_prints_the_version_without_composing_a_config(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), "--version", "task=nosuch"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr  # task=nosuch would be refused if a config were composed
    assert result.stdout.strip() == f"ml4phys {VERSION}"
    assert not any(tmp_path.iterdir())


def test_citation_cff_is_valid_and_has_the_version():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert {"cff-version", "message", "title", "authors"} <= set(citation)  # required by CFF 1.2.0
    assert citation["cff-version"] == "1.2.0" and citation["type"] == "software"
    assert str(citation["version"]) == VERSION
    datetime.date.fromisoformat(str(citation["date-released"]))
    assert citation["license"] == "MIT" and all("name" in a or "family-names" in a for a in citation["authors"])
    for reference in citation["references"]:
        assert {"type", "title", "authors"} <= set(reference)  # required of every CFF reference


def test_the_changelog_has_this_version_and_an_unreleased_section():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert "## [Unreleased]" in changelog
    assert f"## [{VERSION}] - {citation['date-released']}" in changelog
