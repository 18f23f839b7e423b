"""``ml4phys predict`` for ``task=fit``: the saved network (``model.npz/.json``) at new input points.

Input: a CSV with columns ``x0`` (and ``x1`` for a 2D or image target), the points in the network's input
coordinates (the training inputs lie in [-1, 1]^d; an image's pixel centres too); other columns are ignored.
One row per point: ``row`` (from 0), the coordinates, ``prediction``, ``outside_domain`` (a coordinate outside
[-1, 1]: an extrapolation). One network: no uncertainty column.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.serialize import load
from physics.app.predict import PredictError, read_columns
from physics.tasks.fit.config import TARGETS_1D


def predict_rows(config, run_dir: Path, input_path: Path) -> list[dict]:
    """The rows of the predictions CSV (see the module's docstring)."""
    if not (run_dir / "model.npz").is_file():
        raise PredictError("run", f"{str(run_dir)!r} has no model.npz (the fit run saved no network).")
    dim = 1 if config.task.target in TARGETS_1D else 2
    columns = [f"x{i}" for i in range(dim)]
    X = read_columns(input_path, columns)
    network = load(run_dir / "model")
    prediction = network.predict(X.astype(network.dtype)).astype(np.float64)[:, 0]
    outside = np.any(np.abs(X) > 1.0, axis=1)
    return [{"row": i, **dict(zip(columns, x.tolist())), "prediction": float(p), "outside_domain": bool(o)}
            for i, (x, p, o) in enumerate(zip(X, prediction, outside))]
