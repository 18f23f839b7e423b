"""Named random streams derived from the config's one ``seed``.

Each purpose ("data", "split", "network", ...) gets its own stream, so adding a draw in one place never shifts
the numbers of another, and a job's streams depend only on its own config, not on which process runs it.
"""
from __future__ import annotations

import zlib

import numpy as np


def seed_sequence(seed: int, purpose: str) -> np.random.SeedSequence:
    """The SeedSequence of stream ``purpose`` under the global ``seed`` (``purpose`` hashed with CRC-32).

    Parameters
    ----------
    seed : int
        The global seed (``config.seed``).
    purpose : str
        Name of the stream, e.g. "network", "training".

    Returns
    -------
    numpy.random.SeedSequence
        ``SeedSequence([seed, crc32(purpose)])``.
    """
    return np.random.SeedSequence([int(seed), zlib.crc32(purpose.encode())])


def generator(seed: int, purpose: str) -> np.random.Generator:
    """A fresh ``numpy.random.Generator`` for one purpose.

    Parameters
    ----------
    seed : int
        The global seed (``config.seed``).
    purpose : str
        Name of the stream, e.g. "network", "training".

    Returns
    -------
    numpy.random.Generator
        Started from :func:`seed_sequence`.
    """
    return np.random.default_rng(seed_sequence(seed, purpose))


def integer_seed(seed: int, purpose: str) -> int:
    """A 31-bit integer seed, for libraries that take ``random_state=int`` (scikit-learn).

    Parameters
    ----------
    seed : int
        The global seed (``config.seed``).
    purpose : str
        Name of the stream, e.g. "network", "training".

    Returns
    -------
    int
        In [0, 2^31), from :func:`seed_sequence`.
    """
    return int(seed_sequence(seed, purpose).generate_state(1)[0] >> 1)
