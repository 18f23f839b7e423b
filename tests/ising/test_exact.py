"""Exact results: finite torus vs brute force, torus -> Onsager, Onsager/Yang identities, enumeration."""

import math

import numpy as np
import pytest
from scipy.special import gamma as gamma_fn
from scipy.special import logsumexp

from physics.ising import exact as ex
from physics.ising import lattice as lat

TC = ex.onsager_critical_temperature()
KC = 1.0 / TC
# Temperatures below, at and above T_c, plus the low/high-T ends.
T_GRID = np.array([0.5, 1.0, 1.8, 2.0, 2.2, TC, 2.35, 2.5, 3.5, 10.0, 100.0])
# Both sides are exact; they differ only by double rounding of sums of O(N) terms (~1e-14 seen).
EXACT_ATOL = 1e-10


@pytest.mark.parametrize("L, M", [(4, None), (2, None), (3, None), (3, 5), (5, 3), (2, 6), (4, 3)])
def test_torus_matches_enumeration(L, M):
    enum = ex.enumerate_observables(L, T_GRID, M=M)
    np.testing.assert_allclose(ex.torus_energy(L, T_GRID, M=M), enum["energy"], rtol=0, atol=EXACT_ATOL)
    heat = ex.torus_specific_heat(L, T_GRID, M=M)
    np.testing.assert_allclose(heat, enum["specific_heat"], rtol=0, atol=EXACT_ATOL)
    energies, _, counts = ex.energy_magnetization_histogram(L, M=M)
    log_z = [logsumexp(np.log(counts) - energies / t) for t in T_GRID]
    np.testing.assert_allclose(ex.torus_log_partition(L, T_GRID, M=M), log_z, rtol=1e-13, atol=0)


def test_torus_is_symmetric_in_rows_and_columns():
    np.testing.assert_allclose(
        ex.torus_specific_heat(6, T_GRID, M=9), ex.torus_specific_heat(9, T_GRID, M=6), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("T", [1.5, 2.0, 3.0])
def test_torus_converges_to_onsager_away_from_tc(T):
    """Off criticality the correlation length is ~1-2 spacings here, so finite-size corrections on the
    torus are exponentially small (~exp(-L/xi)); at L = 256 only rounding (~1e-15) remains."""
    assert ex.torus_energy(256, T) == pytest.approx(ex.onsager_energy(T), abs=1e-12)
    assert ex.torus_specific_heat(256, T) == pytest.approx(ex.onsager_specific_heat(T), abs=1e-10)


@pytest.mark.parametrize("T", [2.2, 2.3])
def test_torus_approaches_onsager_monotonically_near_tc(T):
    sizes = [16, 32, 64, 128, 256]
    gaps = [abs(ex.torus_energy(L, T) - ex.onsager_energy(T)) for L in sizes]
    assert all(a > b for a, b in zip(gaps, gaps[1:]))
    assert gaps[-1] < 1e-3


def test_torus_energy_at_tc_has_ferdinand_fisher_1_over_L_correction():
    """Ferdinand & Fisher (1969): e_L(T_c) = -sqrt 2 - (2/L) th2 th3 th4 / (th2 + th3 + th4) + O(L^-2),
    Jacobi thetas at nome exp(-pi): th3 = pi^(1/4)/Gamma(3/4), th2 = th4 = 2^(-1/4) th3."""
    th3 = math.pi**0.25 / gamma_fn(0.75)
    th2 = th4 = 2**-0.25 * th3
    amplitude = -2.0 * th2 * th3 * th4 / (th2 + th3 + th4)  # -0.6224...
    for L in (64, 128, 256):
        scaled = L * (ex.torus_energy(L, TC) + math.sqrt(2.0))
        assert scaled == pytest.approx(amplitude, abs=1.0 / L**2 * 10)  # next order: O(1/L^2) in e


def test_torus_specific_heat_at_tc_grows_as_log_L():
    """C_L(T_c) = A0 ln L + B0 + O(ln L / L) with A0 = 8 K_c^2 / pi (Ferdinand & Fisher 1969);
    the slope between L and 2L reaches A0 up to ~0.12/L here, bounded by 0.25/L."""
    a0 = 8.0 * KC**2 / math.pi
    for L in (64, 128, 256):
        slope = (ex.torus_specific_heat(2 * L, TC) - ex.torus_specific_heat(L, TC)) / math.log(2.0)
        assert slope == pytest.approx(a0, abs=0.25 / L)


def test_onsager_energy_limits():
    assert ex.onsager_energy(TC) == pytest.approx(-math.sqrt(2.0), abs=1e-12)
    assert ex.onsager_energy(0.1) == pytest.approx(-2.0, abs=1e-30)
    K = 1e-3  # high-T series u = -2 tanh K + O(K^3) (no odd loops on the square lattice)
    assert ex.onsager_energy(1.0 / K) == pytest.approx(-2.0 * math.tanh(K), abs=1e-8)
    u = ex.onsager_energy(np.linspace(0.5, 6.0, 200))
    assert np.all(np.diff(u) > 0)  # energy rises with temperature (C > 0)


def test_onsager_specific_heat_is_derivative_of_energy():
    """Central difference with h = 1e-5 T: truncation ~h^2 u''' and rounding ~1e-16/h, both < 1e-7
    relative away from T_c."""
    for T in (0.8, 1.5, 2.0, 2.2, 2.35, 2.6, 4.0, 20.0):
        h = 1e-5 * T
        numeric = (ex.onsager_energy(T + h) - ex.onsager_energy(T - h)) / (2.0 * h)
        assert ex.onsager_specific_heat(T) == pytest.approx(numeric, rel=1e-6)


def test_specific_heats_are_positive_and_diverge_at_tc():
    temps = np.linspace(0.3, 10.0, 500)
    assert np.all(ex.onsager_specific_heat(temps) > 0)
    assert np.all(ex.torus_specific_heat(32, temps) > 0)
    assert np.all(ex.onsager_specific_heat(np.array([0.02, 0.05, 0.1])) >= 0)
    # C ~ -(8 K_c^2 / pi) ln|t|: slope between |t| = 1e-4 and 1e-6, corrections O(t ln t)
    a0 = 8.0 * KC**2 / math.pi
    for side in (-1.0, 1.0):
        c4, c6 = ex.onsager_specific_heat(TC * (1 + side * np.array([1e-4, 1e-6])))
        assert (c6 - c4) / math.log(100.0) == pytest.approx(a0, rel=1e-2)


def test_yang_magnetization():
    assert ex.yang_magnetization(0.02) == 1.0
    # low-T series m = 1 - 2 u^2 - 8 u^3 - ..., u = exp(-4K): 1 - 2u^2 holds to ~1e-9 at T = 0.5
    u = math.exp(-4.0 / 0.5)
    assert ex.yang_magnetization(0.5) == pytest.approx(1.0 - 2.0 * u**2, abs=1e-9)
    np.testing.assert_array_equal(ex.yang_magnetization([TC, 2.5, 10.0]), 0.0)
    # m ~ t^(1/8) as T -> T_c^-: log-slope between t = 1e-6 and 1e-8
    m6, m8 = ex.yang_magnetization(TC * (1 - np.array([1e-6, 1e-8])))
    assert math.log(m6 / m8) / math.log(100.0) == pytest.approx(0.125, rel=1e-3)
    m = ex.yang_magnetization(np.linspace(0.1, TC - 1e-9, 300))
    assert np.all(np.diff(m) <= 0) and m[-1] < 0.1  # saturates at 1.0 in float64 below T ~ 0.5


def test_ground_state_regime_is_continuous():
    """Below T = 1/40 the functions return ground-state values; they must join the formulas smoothly."""
    for f in (ex.torus_energy, ex.torus_specific_heat):
        below, above = f(16, [1 / 40.5, 1 / 39.5])
        assert below == pytest.approx(above, abs=1e-100)
    assert ex.torus_energy(16, 0.01) == -2.0 and ex.torus_specific_heat(16, 0.01) == 0.0
    assert ex.torus_log_partition(4, 0.01) == pytest.approx(2 * 16 * 100 + math.log(2.0), rel=1e-15)
    assert ex.onsager_energy(0.01) == -2.0 and ex.onsager_specific_heat(0.01) == 0.0


def test_shapes():
    temps = np.full((2, 3), 2.5)
    for f in (ex.torus_energy, ex.torus_specific_heat, ex.torus_log_partition):
        assert f(8, temps).shape == (2, 3)
        assert isinstance(f(8, 2.5), float)
    for f in (ex.onsager_energy, ex.onsager_specific_heat, ex.yang_magnetization):
        assert f(temps).shape == (2, 3) and isinstance(f(2.5), float)
    assert ex.enumerate_observables(3, temps)["binder"].shape == (2, 3)


# ------------------------------------------------------------------ enumeration


def test_density_of_states_square_4x4():
    energies, magnets, counts = ex.energy_magnetization_histogram(4)
    assert counts.sum() == 2**16
    assert counts[energies == -32].sum() == 2  # two ground states
    assert counts[energies == -24].sum() == 32  # one flipped spin, N * 2
    assert counts[energies == -28].sum() == 0  # no excitation costs 4 on the square lattice
    g = {(e, m): c for e, m, c in zip(energies, magnets, counts)}
    assert all(g[(e, -m)] == c for (e, m), c in g.items())  # spin-flip symmetry
    g_e = {e: counts[energies == e].sum() for e in np.unique(energies)}
    assert all(g_e[-e] == c for e, c in g_e.items())  # bipartite: g(E) = g(-E)


@pytest.mark.parametrize("lattice, L", [("square", 3), ("triangular", 3), ("triangular", 4)])
def test_enumeration_matches_direct_sum(lattice, L):
    """Independent path: decode every state, energies from lattice.energy_per_spin, plain averages."""
    n = L * L
    states = np.arange(2**n)[:, None] >> np.arange(n) & 1
    spins = (2 * states - 1).astype(np.int8).reshape(-1, L, L)
    e, m = lat.energy_per_spin(spins, lattice), lat.magnetization_per_spin(spins)
    for T in (1.0, 3.0, 6.0):
        w = np.exp(-n * (e - e.min()) / T)
        w /= w.sum()
        got = ex.enumerate_observables(L, T, lattice)
        assert got["energy"] == pytest.approx(w @ e, abs=1e-13)
        assert got["m2"] == pytest.approx(w @ m**2, abs=1e-13)
        assert got["abs_magnetization"] == pytest.approx(w @ np.abs(m), abs=1e-13)
        var_e = w @ (e - w @ e) ** 2
        assert got["specific_heat"] == pytest.approx(n * var_e / T**2, rel=1e-10)


def test_triangular_high_temperature_series():
    """ln Z / N = ln 2 + 3 ln cosh K + 2 t^3 + O(t^4) (2N triangles; wrap-around loops have length
    >= 4 for L = 4), so e = -3t - 6t^2 (1 - t^2) + O(t^3): at K = 1e-3 the remainder is ~1e-8."""
    K = 1e-3
    t = math.tanh(K)
    got = ex.enumerate_observables(4, 1.0 / K, "triangular")["energy"]
    assert got == pytest.approx(-3 * t - 6 * t**2 * (1 - t**2), abs=1e-7)
    energies, _, counts = ex.energy_magnetization_histogram(4, "triangular")
    assert energies.min() == -3 * 16 and counts[energies == energies.min()].sum() == 2
    assert energies.max() == 16  # frustration: at most 2 of 3 bonds per triangle broken


def test_enumeration_conventions():
    hot = ex.enumerate_observables(4, 1e6)
    assert hot["binder"] == pytest.approx(2.0 / (3 * 16), abs=1e-5)  # independent spins: U4 = 2/(3N)
    assert hot["m2"] == pytest.approx(1.0 / 16, abs=1e-5)
    cold = ex.enumerate_observables(4, 0.2)
    assert cold["binder"] == pytest.approx(2.0 / 3.0, abs=1e-12)
    assert cold["abs_magnetization"] == pytest.approx(1.0, abs=1e-12)
    mid = ex.enumerate_observables(4, 2.5)
    assert mid["magnetization"] == pytest.approx(0.0, abs=1e-15)
    beta_n = 16 / 2.5
    assert mid["susceptibility"] == pytest.approx(beta_n * (mid["m2"] - mid["abs_magnetization"] ** 2), rel=1e-12)
    assert mid["susceptibility_zero_field"] == pytest.approx(beta_n * mid["m2"], rel=1e-14)


def test_exact_bad_input():
    with pytest.raises(ValueError, match="'L'"):
        ex.torus_energy(1, 2.0)
    with pytest.raises(TypeError, match="'L'"):
        ex.torus_energy(4.5, 2.0)
    with pytest.raises(ValueError, match="'M'"):
        ex.torus_specific_heat(4, 2.0, M=1)
    with pytest.raises(ValueError, match="'T'"):
        ex.onsager_energy([2.0, -1.0])
    with pytest.raises(ValueError, match="'T'"):
        ex.torus_log_partition(4, np.nan)
    with pytest.raises(ValueError, match="L \\* M <= 24"):
        ex.enumerate_observables(5, 2.0)
    with pytest.raises(ValueError, match="'lattice'"):
        ex.enumerate_observables(3, 2.0, lattice="kagome")
