"""The package's version, stated once in ``pyproject.toml`` (``version = "0.1.0"``).

Installed (also editable), it comes from the installed distribution's metadata; in a clone that was never
installed, from the ``pyproject.toml`` beside ``core/``; failing both, ``"0+unknown"``.
"""
from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "ml4phys"
#: the version reported when neither the metadata nor pyproject.toml can be read (PEP 440: a local version of 0)
UNKNOWN = "0+unknown"


def _from_pyproject(path: Path) -> str | None:
    """``version = "..."`` of the ``[project]`` table of ``path``, or None (no file, no such line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    project = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, flags=re.MULTILINE | re.DOTALL)
    if project is None or not re.search(rf'^name\s*=\s*"{DISTRIBUTION}"', project.group(1), flags=re.MULTILINE):
        return None
    version = re.search(r'^version\s*=\s*"([^"]+)"', project.group(1), flags=re.MULTILINE)
    return version.group(1) if version else None


def package_version() -> str:
    """The version of ml4phys: the installed metadata, else the clone's pyproject.toml, else ``"0+unknown"``."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return _from_pyproject(Path(__file__).resolve().parents[1] / "pyproject.toml") or UNKNOWN


