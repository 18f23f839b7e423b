"""Save and load networks as ``<path>.npz`` (weights) + ``<path>.json`` (architecture). Never pickle.

The JSON file holds ``{"format": "ml4phys.core.Sequential", "version": 1, "dtype": ..., "input_shape": [...],
"config": network.get_config()}`` (an autoencoder's config names its ``"class"``, which :func:`load` rebuilds); the npz file one array per parameter, keyed as in
``Sequential.get_weights()`` ("0.W", "0.b", ...). Both files are written atomically (temporary file in the
same folder, then ``os.replace``: :func:`core._atomic.atomic_path`), the weights first, so an interrupted save
never leaves a corrupt file; they get the usual mode of a new file (0o644 under umask 022).
Loading uses ``np.load(..., allow_pickle=False)`` and reproduces predictions bit for bit; a file that is not
UTF-8 JSON or not a complete npz archive (garbage, truncated) is a ValueError naming it.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from core._atomic import atomic_path
from core._validation import InvalidParameterError
from core.network import Sequential

__all__ = ["save", "load", "FORMAT", "VERSION"]

FORMAT = "ml4phys.core.Sequential"
VERSION = 1


def _base_path(path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidParameterError(f"The 'path' parameter must be a str or os.PathLike. Got {path!r} instead.")
    path = Path(path)
    return path.with_suffix("") if path.suffix in (".npz", ".json") else path


def _write_atomically(target: Path, write) -> None:
    """Call ``write(file)`` on a binary file that replaces ``target`` atomically (see :mod:`core._atomic`)."""
    with atomic_path(target) as temporary, open(temporary, "wb") as file:
        write(file)


def _read_weights(path: Path) -> dict:
    """The arrays of the npz file ``path``; a file that is not a complete npz archive is a ValueError naming it
    (``np.load`` would advise ``allow_pickle=True`` for garbage)."""
    with open(path, "rb") as file:
        if not zipfile.is_zipfile(file):
            raise ValueError(f"{str(path)!r} is not a complete npz archive (truncated, or not written by save); "
                             "save the network again.")
        file.seek(0)
        try:
            with np.load(file, allow_pickle=False) as archive:
                return {name: archive[name] for name in archive.files}
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
            raise ValueError(f"{str(path)!r} is a damaged npz archive ({type(error).__name__}: {error}); "
                             "save the network again.") from None


def save(network: Sequential, path) -> tuple[Path, Path]:
    """Write ``network`` (built) to ``<path>.npz`` and ``<path>.json``; return both paths.

    Parameters
    ----------
    network : Sequential
        A built network.
    path : str or path-like
        The file name, with the suffix ".npz" or ".json" or none; its folder must exist.

    Returns
    -------
    tuple of Path
        ``(<path>.npz, <path>.json)``: the weights and the architecture, each written atomically.
    """
    if not isinstance(network, Sequential) or not network.built:
        raise InvalidParameterError(f"The 'network' parameter of save must be a built core.network.Sequential. "
                         f"Got {network!r} instead.")
    base = _base_path(path)
    if not base.parent.is_dir():
        raise InvalidParameterError(f"The 'path' parameter of save must lie in an existing folder. "
                                    f"Got {str(path)!r} instead.")
    weights_path, architecture_path = base.with_name(base.name + ".npz"), base.with_name(base.name + ".json")
    header = {
        "format": FORMAT,
        "version": VERSION,
        "dtype": network.dtype.name,
        "input_shape": list(network.input_shape),
        "config": network.get_config(),
    }
    text = json.dumps(header, indent=2).encode()
    weights = network.get_weights()
    _write_atomically(weights_path, lambda file: np.savez(file, **weights))
    _write_atomically(architecture_path, lambda file: file.write(text))
    return weights_path, architecture_path


def _architecture_class(config) -> type:
    """The class that rebuilds ``config``: Sequential, or the autoencoder its ``"class"`` names (both are
    Sequentials, saved the same way)."""
    name = config.get("class") if isinstance(config, dict) else None
    if name is None:
        return Sequential
    from core.autoencoder import Autoencoder, VariationalAutoencoder

    classes = {cls.__name__: cls for cls in (Autoencoder, VariationalAutoencoder)}
    if name not in classes:
        raise ValueError(f"A saved network of class {name!r} cannot be loaded; known: Sequential, "
                         f"{', '.join(classes)}.")
    return classes[name]


def load(path, seed_or_rng=0) -> Sequential:
    """Rebuild the network saved at ``path`` (with or without suffix): built, weights set.

    Parameters
    ----------
    path : str or path-like
        What :func:`save` was given, with or without the suffix.
    seed_or_rng : None, int, SeedSequence or Generator
        Seeds the rebuilt network's Generator, which matters only for dropout masks drawn when the loaded
        network is trained further (the saved weights overwrite the initial ones).

    Returns
    -------
    Sequential
        Built, with the saved weights; its predictions equal the saved network's bit for bit.
    """
    base = _base_path(path)
    weights_path, architecture_path = base.with_name(base.name + ".npz"), base.with_name(base.name + ".json")
    for required in (weights_path, architecture_path):
        if not required.is_file():
            raise FileNotFoundError(f"Cannot load a network from {str(path)!r}: {str(required)!r} is missing.")
    try:
        header = json.loads(architecture_path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{str(architecture_path)!r} is not a saved {FORMAT}: not valid UTF-8 JSON "
                         f"({error}).") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{str(architecture_path)!r} is not a saved {FORMAT} (no matching 'format' field).")
    if header.get("version") != VERSION:
        raise ValueError(f"{str(architecture_path)!r} has format version {header.get('version')!r}; "
                         f"this code reads version {VERSION}.")
    network = _architecture_class(header["config"]).from_config(header["config"])
    network.build(tuple(header["input_shape"]), seed_or_rng, header["dtype"])
    weights = _read_weights(weights_path)
    for name, value in weights.items():
        if value.dtype != network.dtype:
            raise ValueError(f"Weight {name!r} in {str(weights_path)!r} has dtype {value.dtype}, but the "
                             f"architecture says {network.dtype}.")
    network.set_weights(weights)
    return network
