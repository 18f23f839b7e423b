"""``ml4phys predict`` for ``task=ising``: the saved network (the first replica's) on new spin configurations.

Input: a ``.npy`` file of spin configurations, shape (n, L, L), values +1 and -1. ``protocol=extremes``: the
network trained at ``task.network_L`` (``model``) reads any L that is ``network_L`` times a power of 2 (times 3
at most once), blocked down to ``network_L`` by majority rule as in the run; ``protocol=labelled``: L must be
one of ``task.sizes`` (``model_L<L>``, or ``model`` for a single size). One row per configuration: ``row``
(from 0), ``p_ordered`` (the network's P(ordered)), ``label`` (ordered where p_ordered > 1/2, else
disordered). Only the first replica's network is saved: no uncertainty column; no outside_domain column (a
configuration has no training range; sizes the network cannot read are refused).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.losses import sigmoid, softmax
from core.serialize import load
from physics.app.predict import PredictError
from physics.tasks.ising.blocking import block_spins


def read_spins(input_path: Path) -> np.ndarray:
    """The configurations of the .npy file ``input_path``, int8 (n, L, L); PredictError("input") otherwise."""
    try:
        spins = np.load(input_path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise PredictError("input", f"{str(input_path)!r} is not a .npy array file ({error}).") from None
    if spins.ndim != 3 or spins.shape[1] != spins.shape[2] or len(spins) == 0:
        raise PredictError("input", f"{str(input_path)!r} must hold spin configurations of shape (n, L, L), n >= 1."
                                    f" Got shape {spins.shape}.")
    if not np.issubdtype(spins.dtype, np.number) or not np.all(np.isin(spins, (-1, 1))):
        raise PredictError("input", f"{str(input_path)!r} must hold spins +1 and -1 only.")
    return spins.astype(np.int8)


def _model_of(config, run_dir: Path, L: int, input_path: Path) -> tuple[Path, np.ndarray | None]:
    """The saved network that reads size L, and the block size it needs (None: the configurations as they are)."""
    task = config.task
    if task.protocol == "extremes":
        return run_dir / "model", task.network_L
    if L not in task.sizes:
        raise PredictError("input", f"{str(input_path)!r} holds L = {L}; this run (protocol=labelled) has networks "
                                    f"for L in {list(task.sizes)} only.")
    return run_dir / ("model" if len(task.sizes) == 1 else f"model_L{L}"), None


def predict_rows(config, run_dir: Path, input_path: Path) -> list[dict]:
    """The rows of the predictions CSV (see the module's docstring)."""
    spins = read_spins(input_path)
    path, block_to = _model_of(config, run_dir, spins.shape[1], input_path)
    if not path.with_suffix(".npz").is_file():
        raise PredictError("run", f"{str(run_dir)!r} has no {path.name}.npz (the ising run saved no network).")
    if block_to is not None:
        try:
            spins = block_spins(spins, block_to)
        except ValueError as error:
            raise PredictError("input", f"{str(input_path)!r}: {error}") from None
    network = load(path)
    X = spins.reshape(len(spins), *network.input_shape).astype(np.float32)
    output = network.predict(X)
    if config.task.loss == "softmax_cross_entropy":
        p = softmax(output)[:, 1].astype(np.float64)
    else:
        p = sigmoid(output[:, 0]).astype(np.float64)
    return [{"row": i, "p_ordered": float(value), "label": "ordered" if value > 0.5 else "disordered"}
            for i, value in enumerate(p)]
