"""``ml4phys predict`` for ``task=dynamics``: the saved networks (``models/network_seed<i>``) on a new time series.

Input: a CSV time series sampled at the run's time step, one row per step, one column per feature of the
system in its own units, named as ``system.feature_names`` (forecast mode: every feature; hidden mode: the
observed ones); other columns are ignored. Every full window of ``task.window`` consecutive rows gives one row
of output: ``row`` (the window's last input row, from 0), then in forecast mode ``next_<feature>`` (the
predicted next step of each feature, in its units) and ``uncertainty_<feature>``, in hidden mode
``prediction`` (the hidden coordinate at the window's last step, in its units) and ``uncertainty``; the
uncertainty is the sample SD over the ``task.n_seeds`` networks (present when there are several), the
prediction their mean; ``outside_domain``: a value of the window lies outside the range of the (noisy)
training features.

The standardisations come from the run's ``models/standardisation.json``
(:func:`physics.tasks.dynamics.task.save_standardisation`): the data are not needed again.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from core.serialize import load
from physics.app.predict import PredictError, read_columns
from physics.tasks.dynamics.data import Scaler, Target, windows
from physics.tasks.dynamics.task import STANDARDISATION

log = logging.getLogger(__name__)


def load_networks(run_dir: Path, n_seeds: int) -> list:
    """The networks ``models/network_seed0 .. n_seeds - 1`` saved by the run."""
    paths = [run_dir / "models" / f"network_seed{i}" for i in range(n_seeds)]
    missing = [p.name for p in paths if not p.with_suffix(".npz").is_file()]
    if missing:
        raise PredictError("run", f"{str(run_dir)!r} lacks the saved network(s) {', '.join(missing)} under models/.")
    return [load(path) for path in paths]


def _outside(z: np.ndarray, low: np.ndarray, high: np.ndarray, window: int) -> np.ndarray:
    """For every full window of ``z`` (n, k): whether a value lies outside [low, high] (per column)."""
    row_outside = np.any((z < low) | (z > high), axis=1)
    return np.lib.stride_tricks.sliding_window_view(row_outside, window).any(axis=1)


def predict_rows(config, run_dir: Path, input_path: Path) -> list[dict]:
    """The rows of the predictions CSV (see the module's docstring)."""
    task = config.task
    system = task.build_system()
    mode = task.resolved_mode()
    W = task.window
    columns = list(range(len(system.feature_names))) if mode == "forecast" else list(system.observed)
    names = [system.feature_names[i] for i in columns]
    values = read_columns(input_path, names)
    if len(values) < W:
        raise PredictError("input", f"{str(input_path)!r} has {len(values)} rows; a window of this run needs "
                                    f"task.window = {W}.")
    networks = load_networks(run_dir, task.n_seeds)
    path = run_dir / STANDARDISATION
    if not path.is_file():
        raise PredictError("run", f"{str(run_dir)!r} lacks {STANDARDISATION} (written by task=dynamics runs since "
                                  "it saves them; rerun the task).")
    record = {key: np.asarray(value) if isinstance(value, list) else value
              for key, value in json.loads(path.read_text()).items()}
    scaler = Scaler(mean=record["feature_mean"], scale=record["feature_scale"])
    z = (values - scaler.mean[columns]) / scaler.scale[columns]
    outside = _outside(z, record["seen_min"][columns], record["seen_max"][columns], W)
    X = windows(z, W)
    outputs = np.stack([network.predict(X.reshape(len(X), *network.input_shape).astype(network.dtype))
                        .astype(np.float64) for network in networks])                     # (seeds, m, outputs)
    if mode == "forecast":
        target = Target(record["target_kind"], record["target_scale"])
        last = z[W - 1:]
        predicted = np.stack([scaler.inverse(target.decode(last, y)) for y in outputs])  # (seeds, m, k)
        labels = [f"next_{name}" for name in names]
    else:
        hidden = Scaler(mean=record["hidden_mean"], scale=record["hidden_scale"])
        predicted = np.stack([hidden.inverse(y[:, :1]) for y in outputs])                     # (seeds, m, 1)
        labels = ["prediction"]
    mean_prediction = predicted.mean(axis=0)
    spread = predicted.std(axis=0, ddof=1) if len(networks) > 1 else None
    rows = []
    for j in range(len(X)):
        row = {"row": j + W - 1, **{label: float(v) for label, v in zip(labels, mean_prediction[j])}}
        if spread is not None:
            row.update({label.replace("next_", "uncertainty_") if label != "prediction" else "uncertainty":
                        float(s) for label, s in zip(labels, spread[j])})
        row["outside_domain"] = bool(outside[j])
        rows.append(row)
    return rows
