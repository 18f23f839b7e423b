"""Result files written atomically (whole or not at all, with the mode the umask gives): JSON, CSV, flat keys.

The one atomic writer of the project is :func:`core._atomic.atomic_path`; this module re-exports it.
"""
from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from core._atomic import atomic_path

__all__ = ["atomic_path", "write_json", "write_csv", "flatten"]


def _json_ready(value: Any) -> Any:
    """numpy scalars/arrays -> Python; non-finite floats -> None (JSON has no NaN)."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: str | os.PathLike, data: Mapping[str, Any]) -> Path:
    """Write ``data`` as indented JSON, atomically. NaN/inf become null.

    Parameters
    ----------
    path : str or path-like
        The file to write.
    data : mapping
        JSON-able data (numpy scalars and arrays included).

    Returns
    -------
    Path
        ``path``.
    """
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_json_ready(data), indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return Path(path)


def write_csv(path: str | os.PathLike, rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> Path:
    """Write a list of dicts as CSV with a header, atomically.

    Parameters
    ----------
    path : str or path-like
        The file to write.
    rows : sequence of mapping
        One dict per row.
    columns : sequence of str or None, default None
        The columns, in order; keys not in it are left out. None: the union of the rows' keys in order.

    Returns
    -------
    Path
        ``path``.
    """
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows({k: _json_ready(v) for k, v in row.items()} for row in rows)
    return Path(path)


def flatten(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}`` (for CSV tables and sweep summaries).

    Parameters
    ----------
    metrics : mapping
        Nested mappings.
    prefix : str, default ""
        Prepended to every key.

    Returns
    -------
    dict
        Flat, dotted keys.
    """
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, prefix=f"{name}."))
        else:
            flat[name] = value
    return flat
