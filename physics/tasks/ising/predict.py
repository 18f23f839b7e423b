"""``ml4phys predict`` for ``task=ising``: the saved networks of every replica on new spin configurations.

Input: a ``.npy`` file of spin configurations, shape (n, L, L), values +1 and -1. ``protocol=extremes``: the
networks trained at ``task.network_L`` read any L that is ``network_L`` times a power of 2 (times 3 at most once),
blocked down to ``network_L`` by majority rule as in the run; ``protocol=labelled``: L must be one of
``task.sizes``. The run saves one network per replica (and per size, labelled with several sizes) under
``models/`` (:func:`model_path`). One row per configuration: ``row`` (from 0), ``p_ordered`` (P(ordered), the
mean over the replicas' networks), ``uncertainty`` (their sample SD: with two replicas or more), ``label``
(ordered where p_ordered > 1/2, else disordered), and with several replicas ``p_ordered_replica<r>`` (each
replica's network). No outside_domain column: a configuration has no training range, and sizes the networks
cannot read are refused.
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


def model_path(run_dir: Path, replica: int, L: int | None = None) -> Path:
    """Where a run saves (without the ``.npz`` suffix) the network of replica ``replica`` that reads size ``L``
    (None: the replica's only network)."""
    return Path(run_dir) / "models" / (f"replica{replica}" if L is None else f"replica{replica}_L{L}")


def _models_of(config, run_dir: Path, L: int, input_path: Path) -> tuple[list[Path], int | None]:
    """The saved networks (one per replica) that read size L, and the block size they need (None: the
    configurations as they are)."""
    task = config.task
    if task.protocol == "extremes":
        size, block_to = None, task.network_L
    elif L not in task.sizes:
        raise PredictError("input", f"{str(input_path)!r} holds L = {L}; this run (protocol=labelled) has networks "
                                    f"for L in {list(task.sizes)} only.")
    else:
        size, block_to = (None if len(task.sizes) == 1 else L), None
    paths = [model_path(run_dir, r, size) for r in range(task.n_replicas)]
    missing = [p.name for p in paths if not p.with_suffix(".npz").is_file()]
    if missing:
        raise PredictError("run", f"{str(run_dir)!r} lacks the saved network(s) {', '.join(missing)} under models/ "
                                  f"(a run of an older version, or an unfinished one).")
    return paths, block_to


def predict_rows(config, run_dir: Path, input_path: Path) -> list[dict]:
    """The rows of the predictions CSV (see the module's docstring)."""
    spins = read_spins(input_path)
    paths, block_to = _models_of(config, run_dir, spins.shape[1], input_path)
    if block_to is not None:
        try:
            spins = block_spins(spins, block_to)
        except ValueError as error:
            raise PredictError("input", f"{str(input_path)!r}: {error}") from None
    members = np.stack([ordered_probability(load(path), spins, config.task.loss) for path in paths])
    p = members.mean(axis=0)
    rows = []
    for i, value in enumerate(p):
        row = {"row": i, "p_ordered": float(value)}
        if len(members) > 1:
            row["uncertainty"] = float(np.std(members[:, i], ddof=1))
        row["label"] = "ordered" if value > 0.5 else "disordered"
        if len(members) > 1:
            row.update({f"p_ordered_replica{r}": float(member[i]) for r, member in enumerate(members)})
        rows.append(row)
    return rows


def ordered_probability(network, spins: np.ndarray, loss: str) -> np.ndarray:
    """P(ordered) of a saved ``network`` for configurations ``spins`` (n, L', L') as it reads them; float64 (n,)."""
    output = network.predict(spins.reshape(len(spins), *network.input_shape).astype(np.float32))
    if loss == "softmax_cross_entropy":
        return softmax(output)[:, 1].astype(np.float64)
    return sigmoid(output[:, 0]).astype(np.float64)
