"""Simulated trajectories of ``task=dynamics``, cached on disk, and the windows every model is trained on.

Cache layout: ``<data_dir>/dynamics/<system>/<role>_<20 hex digits>.npz``, one file per trajectory; the hex
digits hash everything the trajectory depends on (system, parameters, dt, number of samples, transient, seed,
random stream, format version), which the file also stores as its key. A file is written atomically under an
advisory lock on ``<file>.lock`` (:mod:`core._atomic`), so concurrent runs never read half a file nor simulate the
same trajectory twice; a file that is not a complete npz archive, was written for other settings, has arrays of
the wrong shape or fails its checksum is never used: it is logged and simulated again. A cache folder that cannot
be written is logged and the trajectory used uncached.

Windows are time-major and flat: sample i of ``windows(series, W)`` is ``series[i], ..., series[i + W - 1]``,
features of each step together, shape (W * k,), the layout the networks reshape to (W, k).
"""
from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core._atomic import atomic_path, file_lock, temporaries_of
from physics.app.seeding import seed_sequence

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


# --------------------------------------------------------------------------------------------- trajectories
def trajectory_key(system, n_samples: int, dt: float, transient: float, seed: int, stream: str) -> dict:
    """Everything a simulated trajectory depends on, as JSON-ready values (floats as exact hex strings)."""
    parameters = {name: [float(v).hex() for v in value] if isinstance(value, tuple)
                  else float(value).hex() if isinstance(value, float) else value
                  for name, value in system.parameters.items()}
    return {"format_version": FORMAT_VERSION, "system": system.name, "parameters": parameters,
            "dt": float(dt).hex(), "n_samples": int(n_samples), "transient": float(transient).hex(),
            "seed": int(seed), "stream": stream}


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def _checksum(states: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(states).tobytes()).hexdigest()


def cache_path(cache_dir, key: dict) -> Path:
    """The cache file of the trajectory described by ``key`` (:func:`trajectory_key`)."""
    role = key["stream"].replace("data/", "").replace("/", "")
    return Path(cache_dir) / "dynamics" / key["system"] / f"{role}_{_digest(key)[:20]}.npz"


def load_cached(path: Path, key: dict, dimension: int) -> tuple[np.ndarray | None, str | None]:
    """``(states, None)`` for a valid cache file of ``key``, ``(None, reason)`` otherwise (reason None: absent)."""
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return None, None
    except OSError as error:
        return None, f"unreadable ({error.strerror})"
    with handle:
        try:
            if not zipfile.is_zipfile(handle):
                return None, "not a complete npz archive (truncated, or not written by this program)"
            handle.seek(0)
            with np.load(handle, allow_pickle=False) as archive:
                stored_key, checksum, states = str(archive["key"]), str(archive["checksum"]), archive["states"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
            return None, f"unreadable ({type(error).__name__}: {error})"
    if stored_key != json.dumps(key, sort_keys=True):
        return None, "written for other settings (key mismatch)"
    if states.dtype != np.float64 or states.shape != (key["n_samples"], dimension):
        return None, f"states of the wrong shape or type ({states.dtype}, {states.shape})"
    if _checksum(states) != checksum or not np.all(np.isfinite(states)):
        return None, "checksum mismatch"
    return states, None


def _write(path: Path, key: dict, states: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, key=np.str_(json.dumps(key, sort_keys=True)), checksum=np.str_(_checksum(states)),
                 states=states)


def simulated_states(system, n_samples: int, dt: float, *, seed: int, stream: str, cache_dir) -> np.ndarray:
    """States (n_samples, d) of ``system`` sampled every ``dt`` after its default transient, the initial state
    drawn from the random stream ``stream`` of ``seed`` (:func:`physics.app.seeding.seed_sequence`); cached in
    ``cache_dir`` (None: not cached).

    Raises
    ------
    physics.dynamics.SimulationError when the integration fails (never cached).
    """
    from physics.dynamics import simulate

    transient = float(system.default_transient)
    key = trajectory_key(system, n_samples, dt, transient, seed, stream)

    def run() -> np.ndarray:
        rng = np.random.default_rng(seed_sequence(seed, stream))
        return np.array(simulate(system, n_samples, dt, rng=rng, transient=transient).states, dtype=np.float64)

    if cache_dir is None:
        return run()
    path = cache_path(cache_dir, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(path):
            states, reason = load_cached(path, key, system.dimension)
            if states is not None:
                return states
            if reason is not None:
                log.warning("dynamics cache file %s is not used: %s; simulating it again", path, reason)
            for stale in temporaries_of(path):  # a killed writer's leftovers: under the lock nobody writes
                stale.unlink(missing_ok=True)
            states = run()
            _write(path, key, states)
            return states
    except OSError as error:
        log.warning("dynamics cache %s cannot be used (%s); simulating without it", path.parent,
                    error.strerror or error)
        return run()


# ----------------------------------------------------------------------------------------- standardisation
@dataclass(frozen=True)
class Scaler:
    """Per-column standardisation with training statistics: ``(x - mean) / scale`` (a constant column: scale 1)."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> "Scaler":
        """Statistics of ``x`` (n, k) over its rows."""
        scale = x.std(axis=0)
        return cls(mean=x.mean(axis=0), scale=np.where(scale > 0, scale, 1.0))

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.scale

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return z * self.scale + self.mean


# ------------------------------------------------------------------------------------------------- windows
def windows(series: np.ndarray, window: int) -> np.ndarray:
    """Every run of ``window`` consecutive rows of ``series`` (n, k), flat and time-major: shape
    (n - window + 1, window * k), row i = series[i : i + window].ravel()."""
    n, k = series.shape
    view = np.lib.stride_tricks.sliding_window_view(series, window, axis=0)  # (n - W + 1, k, W)
    return np.ascontiguousarray(view.transpose(0, 2, 1)).reshape(n - window + 1, window * k)


@dataclass(frozen=True)
class Target:
    """What a forecaster predicts from a window, in standardised feature units z.

    ``kind`` "increment": y = (z_{t+1} - z_t) / scale (scale: the SD of the training increments, per feature);
    "state": y = z_{t+1} (scale 1).
    """

    kind: str
    scale: np.ndarray

    @classmethod
    def fit(cls, kind: str, series: list) -> "Target":
        """The target of ``kind`` with its scale from the training series (a list of (n_i, k))."""
        if kind == "state":
            return cls(kind, np.ones(series[0].shape[1]))
        scale = np.concatenate([np.diff(z, axis=0) for z in series]).std(axis=0)
        return cls(kind, np.where(scale > 0, scale, 1.0))

    def encode(self, last: np.ndarray, following: np.ndarray) -> np.ndarray:
        """Targets (n, k) for windows ending at ``last`` (n, k) followed by ``following`` (n, k)."""
        return (following - last) / self.scale if self.kind == "increment" else following.copy()

    def decode(self, last: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The next state (n, k) from the window's last state ``last`` (n, k) and a prediction ``y`` (n, k)."""
        return last + y * self.scale if self.kind == "increment" else np.asarray(y, dtype=np.float64)


def forecast_pairs(inputs: np.ndarray, truth: np.ndarray, window: int, target: Target):
    """Windows of ``inputs`` (n, k: what the models see, possibly noisy) and the targets that lead to the next
    row of ``truth`` (n, k): X (n - window, window * k), y (n - window, k), the last input rows (n - window, k)
    and the true next rows (n - window, k)."""
    X = windows(inputs[:-1], window)
    last, following = inputs[window - 1:-1], truth[window:]
    return X, target.encode(last, following), last, following


def hidden_pairs(observed: np.ndarray, hidden: np.ndarray, window: int):
    """Windows of the observed features (n, k_obs) and the hidden coordinate (n,) at each window's last step:
    X (n - window + 1, window * k_obs), y (n - window + 1,)."""
    return windows(observed, window), hidden[window - 1:]
