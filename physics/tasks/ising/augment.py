"""Symmetry augmentation of Ising configurations (training sets only).

The Hamiltonian ``H = -J sum_<ij> s_i s_j`` on the periodic square lattice is invariant under the global spin
flip ``s -> -s``, the lattice translations and the 8 rotations and reflections of the square (the dihedral
group D4), so a configuration's phase label is too. Augmenting the training set with these images teaches a
classifier the invariances it would otherwise have to infer from data.

* ``"flip"``: every configuration and its flipped copy (x2).
* ``"translate"``: ``n_translations`` copies, each shifted by a random periodic translation (x(1 + n)).
* ``"dihedral"``: the 8 images under D4 (x8), the identity first.

Augmentations compose (the product of the factors). Spins: int8 ±1, shape (n, L, L).
"""
from __future__ import annotations

import math

import numpy as np

AUGMENTATIONS = ("flip", "translate", "dihedral")


def augmentation_factor(augment, n_translations: int = 1) -> int:
    """How many training configurations one configuration becomes under ``augment`` (a list of names)."""
    factor = 1
    for name in augment:
        factor *= {"flip": 2, "translate": 1 + n_translations, "dihedral": 8}[name]
    return factor


def training_set_bytes(n_samples: float, L: int, factor: float) -> float:
    """Memory of an augmented training set: int8 spins plus the float32 copy fed to the models (5 bytes/spin).

    A float, computed without overflow for any sizes (``inf`` beyond what a float counts): it is compared with
    a memory limit before anything is allocated.
    """
    try:
        n_spins = float(n_samples) * float(factor) * float(L) * float(L)
    except OverflowError:  # an int too large for a float
        return math.inf
    return n_spins * (1 + 4)


def dihedral_images(spins: np.ndarray) -> np.ndarray:
    """The 8 images of every configuration under the square's symmetry group: shape (8, n, L, L).

    Order: rotations by 0, 90, 180, 270 degrees, then the same after a transposition (reflection in the
    main diagonal).
    """
    transposed = np.swapaxes(spins, -1, -2)
    return np.stack([np.rot90(image, k, axes=(-2, -1)) for image in (spins, transposed) for k in range(4)])


def random_translations(spins: np.ndarray, n_translations: int, rng: np.random.Generator) -> np.ndarray:
    """``n_translations`` randomly translated copies of every configuration (periodic): (n_translations, n, L, L).

    Copy ``c`` of sample ``i`` is ``spins[i]`` rolled by an offset (dy, dx) drawn uniformly from {0..L-1}^2.
    """
    n, L = spins.shape[0], spins.shape[-1]
    shifts = rng.integers(0, L, size=(n_translations, n, 2))
    sites = np.arange(L)
    rows = (sites[None, None, :] + shifts[..., 0, None]) % L  # (n_translations, n, L)
    cols = (sites[None, None, :] + shifts[..., 1, None]) % L
    samples = np.arange(n)[None, :, None, None]
    return spins[samples, rows[..., :, None], cols[..., None, :]]


def augment(spins: np.ndarray, labels: np.ndarray, augment, *, n_translations: int = 1,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The training set with its symmetry images added.

    spins : int8 ndarray (n, L, L). labels : ndarray (n,). augment : sequence of names from
    :data:`AUGMENTATIONS` (applied in the order flip, translate, dihedral). Returns
    ``(spins (n * factor, L, L), labels (n * factor,))``, the original configurations first.
    """
    unknown = [name for name in augment if name not in AUGMENTATIONS]
    if unknown:
        raise ValueError(f"The 'augment' parameter must list names from {AUGMENTATIONS}. Got {unknown} instead.")
    spins, labels = np.asarray(spins), np.asarray(labels)
    if "flip" in augment:
        spins, labels = np.concatenate([spins, -spins]), np.concatenate([labels, labels])
    if "translate" in augment:
        copies = random_translations(spins, n_translations, rng)
        spins = np.concatenate([spins, copies.reshape(-1, *spins.shape[1:])])
        labels = np.tile(labels, 1 + n_translations)
    if "dihedral" in augment:
        spins = dihedral_images(spins).reshape(-1, *spins.shape[1:])
        labels = np.tile(labels, 8)
    return np.ascontiguousarray(spins), labels
