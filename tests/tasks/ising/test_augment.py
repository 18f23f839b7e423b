"""Symmetry augmentation: every image is a symmetry of the Hamiltonian (same energy, same |m|, same label)."""
import numpy as np
import pytest

from physics.tasks.ising.augment import augment, augmentation_factor, dihedral_images, random_translations
from physics.ising.lattice import energy_per_spin, magnetization_per_spin


@pytest.fixture
def configurations():
    rng = np.random.default_rng(0)
    return rng.choice(np.array([-1, 1], np.int8), size=(5, 6, 6)), np.array([1, 0, 1, 0, 1])


def test_factor():
    assert augmentation_factor([]) == 1
    assert augmentation_factor(["flip", "dihedral"]) == 16
    assert augmentation_factor(["translate"], n_translations=3) == 4


@pytest.mark.parametrize("names", [["flip"], ["translate"], ["dihedral"], ["flip", "translate", "dihedral"]])
def test_images_are_symmetries(configurations, names):
    spins, labels = configurations
    out, out_labels = augment(spins, labels, names, n_translations=2, rng=np.random.default_rng(1))
    factor = augmentation_factor(names, 2)
    assert out.shape == (5 * factor, 6, 6) and out.dtype == np.int8
    assert out_labels.shape == (5 * factor,)
    # image k of sample i sits at k * 5 + i
    energy = energy_per_spin(out).reshape(factor, 5)
    abs_m = np.abs(magnetization_per_spin(out)).reshape(factor, 5)
    assert np.array_equal(energy, np.broadcast_to(energy_per_spin(spins), (factor, 5)))
    assert np.array_equal(abs_m, np.broadcast_to(np.abs(magnetization_per_spin(spins)), (factor, 5)))
    assert np.array_equal(out_labels.reshape(factor, 5), np.broadcast_to(labels, (factor, 5)))
    assert np.array_equal(out[:5], spins)  # originals first


def test_dihedral_images_are_the_eight_distinct_symmetries():
    lattice = np.arange(16).reshape(1, 4, 4)  # no symmetry: all 8 images differ
    images = dihedral_images(lattice)
    assert images.shape == (8, 1, 4, 4)
    assert len({image.tobytes() for image in images}) == 8
    assert np.array_equal(images[0], lattice)


def test_translations_are_periodic_shifts():
    lattice = np.arange(9).reshape(1, 3, 3)
    shifted = random_translations(lattice, 20, np.random.default_rng(0))[:, 0]
    rolls = {np.roll(lattice[0], (-dy, -dx), axis=(0, 1)).tobytes() for dy in range(3) for dx in range(3)}
    assert all(image.tobytes() in rolls for image in shifted)


def test_unknown_augmentation():
    with pytest.raises(ValueError, match="'augment' parameter"):
        augment(np.ones((1, 4, 4), np.int8), np.ones(1), ["rotate"], rng=np.random.default_rng(0))
