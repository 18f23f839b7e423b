"""Lattice geometry: neighbours, energy and magnetisation against explicit site loops."""

import math

import numpy as np
import pytest

from physics.ising import lattice as lat


def random_spins(shape, seed):
    return np.random.default_rng(seed).choice(np.array([-1, 1], dtype=np.int8), size=shape)


def explicit_neighbours(L, lattice):
    """Full neighbour list of every site, written out by hand from the documented geometry."""
    full = {"square": [(0, 1), (0, -1), (1, 0), (-1, 0)],
            "triangular": [(0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, -1)]}[lattice]
    return {(i, j): [((i + dy) % L, (j + dx) % L) for dy, dx in full] for i in range(L) for j in range(L)}


def test_offsets_and_coordination():
    assert lat.LATTICES == ("square", "triangular")
    assert lat.neighbour_offsets("square") == ((0, 1), (1, 0))
    assert lat.neighbour_offsets("triangular") == ((0, 1), (1, 0), (1, 1))
    assert lat.coordination("square") == 4 and lat.coordination("triangular") == 6
    assert lat.min_size("square") == 2 and lat.min_size("triangular") == 3


@pytest.mark.parametrize("lattice", lat.LATTICES)
@pytest.mark.parametrize("L", [4, 5])
def test_neighbour_sum_and_energy_match_site_loops(lattice, L):
    spins = random_spins((3, L, L), seed=L)
    neighbours = explicit_neighbours(L, lattice)
    expected_sum = np.zeros_like(spins, dtype=int)
    for (i, j), nbrs in neighbours.items():
        expected_sum[:, i, j] = sum(spins[:, a, b].astype(int) for a, b in nbrs)
    got = lat.neighbour_sum(spins, lattice)
    assert got.dtype == spins.dtype and got.shape == spins.shape
    np.testing.assert_array_equal(got, expected_sum)
    # each bond appears twice in sum_i s_i h_i
    bonds = 0.5 * (spins.astype(int) * expected_sum).sum(axis=(1, 2))
    np.testing.assert_allclose(lat.energy_per_spin(spins, lattice), -bonds / L**2, rtol=0, atol=1e-15)
    assert lat.bond_sum(spins, lattice).tolist() == bonds.astype(int).tolist()


@pytest.mark.parametrize("lattice, ground, top", [("square", -2.0, 2.0), ("triangular", -3.0, 1.0)])
def test_ground_state_and_most_frustrated_energies(lattice, ground, top):
    L = 6
    up = np.ones((L, L), dtype=np.int8)
    assert lat.energy_per_spin(up, lattice) == ground
    assert lat.energy_per_spin(-up, lattice) == ground
    # square: Neel state (all bonds broken); triangular: row stripes (2 of 3 bonds per triangle broken)
    rows = np.where(np.arange(L)[:, None] % 2 == 0, 1, -1) * np.ones((1, L), dtype=np.int8)
    state = rows * np.where(np.arange(L)[None, :] % 2 == 0, 1, -1) if lattice == "square" else rows
    assert lat.energy_per_spin(state.astype(np.int8), lattice) == top


@pytest.mark.parametrize("lattice", lat.LATTICES)
def test_energy_symmetries(lattice):
    """Invariance under translations, global spin flip and the lattice's reflection (transpose)."""
    spins = random_spins((4, 6, 6), seed=11)
    e = lat.energy_per_spin(spins, lattice)
    np.testing.assert_array_equal(lat.energy_per_spin(np.roll(spins, (2, 5), axis=(1, 2)), lattice), e)
    np.testing.assert_array_equal(lat.energy_per_spin(-spins, lattice), e)
    np.testing.assert_array_equal(lat.energy_per_spin(np.swapaxes(spins, 1, 2), lattice), e)
    if lattice == "square":
        np.testing.assert_array_equal(lat.energy_per_spin(np.rot90(spins, axes=(1, 2)), lattice), e)


def test_magnetization_and_shapes():
    spins = random_spins((5, 4, 4), seed=3)
    np.testing.assert_allclose(lat.magnetization_per_spin(spins), spins.mean(axis=(1, 2)), atol=1e-15)
    single = lat.energy_per_spin(spins[0])
    assert single.shape == () and single.dtype == np.float64
    assert lat.magnetization_per_spin(spins[:, None]).shape == (5, 1)  # any leading batch axes


def test_critical_temperatures():
    tc_sq, tc_tri = lat.critical_temperature("square"), lat.critical_temperature("triangular")
    assert tc_sq == pytest.approx(2.269185314213022, abs=1e-14)
    assert tc_tri == pytest.approx(3.6409569065073493, abs=1e-14)
    assert math.sinh(2.0 / tc_sq) == pytest.approx(1.0, abs=1e-14)  # Kramers-Wannier self-duality
    assert math.exp(4.0 / tc_tri) == pytest.approx(3.0, abs=1e-14)  # Houtappel: exp(4 K_c) = 3


def test_bad_input():
    with pytest.raises(ValueError, match="'lattice'.*square"):
        lat.check_lattice("hexagonal")
    with pytest.raises(TypeError, match="'lattice'"):
        lat.coordination(4)
    with pytest.raises(TypeError, match="integer array"):
        lat.energy_per_spin(np.ones((4, 4)))
    with pytest.raises(ValueError, match=r"\+1 and -1"):
        lat.energy_per_spin(np.zeros((4, 4), dtype=np.int8))
    with pytest.raises(ValueError, match="shape"):
        lat.energy_per_spin(np.ones((4, 5), dtype=np.int8))
    with pytest.raises(ValueError, match=">= 3 for the triangular"):
        lat.energy_per_spin(np.ones((2, 2), dtype=np.int8), "triangular")
    with pytest.raises(ValueError, match=">= 2"):
        lat.check_size(1)
    with pytest.raises(TypeError, match="'L'"):
        lat.check_size(4.0)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf, [1.0, -2.0], []])
def test_check_temperatures_rejects(bad):
    with pytest.raises(ValueError, match="'T'"):
        lat.check_temperatures(bad)


@pytest.mark.parametrize("bad", ["2.0", True, 1 + 2j])
def test_check_temperatures_type(bad):
    with pytest.raises(TypeError, match="'T'"):
        lat.check_temperatures(bad)


def test_check_temperatures_keeps_shape():
    out = lat.check_temperatures([[1, 2], [3, 4]])
    assert out.dtype == np.float64 and out.shape == (2, 2)
