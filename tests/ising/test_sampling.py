"""sample()/simulate(): validation against exact results with binned error bars, burn-in/thinning, input checks.

Error bars: ``measure`` (physics.ising.observables) gives binned-jackknife standard errors that
account for autocorrelation.  Series of independent chains are concatenated (a chain boundary only
breaks correlations).  Agreement is required within 4 sigma: for a correct sampler a single
comparison fails with probability 6e-5, so the ~100 comparisons below have a ~0.6 % chance of any
false alarm; the seeds are fixed, so the outcome is reproducible.
"""

import math

import numpy as np
import pytest

from physics.ising import exact
from physics.ising import sampling as smp
from physics.ising.lattice import critical_temperature
from physics.ising.observables import measure
from physics.ising.sampling import EquilibrationWarning, choose_algorithm, sample, sample_with_info, simulate

T_C = critical_temperature("square")
ALGORITHMS = ["metropolis", "swendsen_wang", "wolff"]


def observables(L, T, n_sweeps, *, lattice="square", algorithm, n_chains, seed, burn_in=None):
    run = simulate(L, T, n_sweeps, lattice=lattice, algorithm=algorithm, seed=seed, n_chains=n_chains, burn_in=burn_in)
    return measure(run["energy"].ravel(), run["magnetization"].ravel(), T, L * L)


def assert_within_4_sigma(result, exact_values, names):
    for name in names:
        value, error = result[name]
        assert error > 0, name
        assert abs(value - exact_values[name]) <= 4 * error, (name, value, error, exact_values[name])


@pytest.mark.parametrize("T", [1.5, 2.27, 3.5])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_4x4_square_against_enumeration(algorithm, T):
    result = observables(4, T, 400, algorithm=algorithm, n_chains=64, seed=11)
    assert_within_4_sigma(result, exact.enumerate_observables(4, T), ["energy", "abs_magnetization", "m2", "binder"])


@pytest.mark.parametrize("T", [2.5, 3.64, 5.0])
@pytest.mark.parametrize("L", [3, 4])  # L = 3: 3-colour sub-grid path; L = 4 (not divisible by 3): greedy colouring
@pytest.mark.parametrize("algorithm", ["metropolis", "swendsen_wang"])
def test_small_triangular_against_enumeration(algorithm, L, T):
    result = observables(L, T, 300, lattice="triangular", algorithm=algorithm, n_chains=64, seed=12)
    assert_within_4_sigma(result, exact.enumerate_observables(L, T, "triangular"), ["energy", "abs_magnetization", "m2"])


@pytest.mark.parametrize("T", [2.0, T_C, 2.5])
@pytest.mark.parametrize("algorithm", ["metropolis", "swendsen_wang", "auto"])
def test_16x16_energy_against_exact_torus(algorithm, T):
    resolved = choose_algorithm(16, T) if algorithm == "auto" else algorithm
    n_sweeps = 1000 if resolved == "metropolis" else 400  # >= 16 blocks of ~20 tau_int for the binning
    result = observables(16, T, n_sweeps, algorithm=algorithm, n_chains=16, seed=13)
    value, error = result["energy"]
    assert abs(value - exact.torus_energy(16, T)) <= 4 * error, (value, error)


@pytest.mark.parametrize("T", [2.0, T_C, 2.5])
def test_32x32_energy_against_exact_torus(T):
    result = observables(32, T, 300, algorithm="auto", n_chains=16, seed=14)
    value, error = result["energy"]
    assert abs(value - exact.torus_energy(32, T)) <= 4 * error, (value, error)


@pytest.mark.slow
@pytest.mark.parametrize("T", [2.0, T_C, 2.5])
@pytest.mark.parametrize("algorithm", ["metropolis", "swendsen_wang", "wolff"])
def test_32x32_energy_against_exact_torus_each_algorithm(algorithm, T):
    n_sweeps = 300 if algorithm == "wolff" else 1000  # Wolff: tau_int ~ 1 sweep, but costly sweeps above T_c
    result = observables(32, T, n_sweeps, algorithm=algorithm, n_chains=16, seed=15)
    value, error = result["energy"]
    assert abs(value - exact.torus_energy(32, T)) <= 4 * error, (value, error)


def test_64x64_abs_magnetization_approaches_yang_and_algorithms_agree():
    """Below T_c, <|m|> on a 64x64 torus is Yang's spontaneous magnetisation up to finite-size terms.

    The leading finite-size shift is ``<|m|> - m_0 ~ var(m) / (2 m_0)`` (from ``<|m|> ~ sqrt(m_0^2 +
    var(m))``, ~1e-4 here, far below the ~1e-3 shift at L = 16); the tolerance allows twice that on
    top of 4 sigma.  The two algorithms must agree within 4 combined sigma.
    """
    T = 2.0
    m_yang = float(exact.yang_magnetization(T))
    values = {}
    for algorithm in ("metropolis", "swendsen_wang"):
        run = simulate(64, T, 300, algorithm=algorithm, n_chains=8, seed=16)
        m = run["magnetization"].ravel()
        value, error = measure(run["energy"].ravel(), m, T, 64 * 64)["abs_magnetization"]
        finite_size = m.var() / m_yang
        assert abs(value - m_yang) <= 4 * error + finite_size, (algorithm, value, error, m_yang)
        values[algorithm] = (value, error)
    (a, ea), (b, eb) = values.values()
    assert abs(a - b) <= 4 * math.hypot(ea, eb)


def test_pilot_autocorrelation_time_and_thinning():
    """Metropolis at T_c (L = 16), the slowest case sample() handles: the pilot's tau_int(|m|) agrees
    with a long reference run and sets burn-in and thinning accordingly."""
    info = sample_with_info(16, T_C, 64, algorithm="metropolis", seed=3, n_chains=64)
    reference = simulate(16, T_C, 4000, algorithm="metropolis", seed=4, n_chains=16, burn_in=2000)
    tau_ref, err_ref = smp.pooled_tau_int(np.abs(reference["magnetization"]))
    # Scatter of the pilot estimate (64 chains, 20 tau analysed): ~15 % (measured over seeds and over
    # segments of long runs); allow 3 of those plus 2 errors of the reference.
    assert abs(info.tau_abs_magnetization - tau_ref) <= 3 * 0.15 * tau_ref + 2 * err_ref, (info, tau_ref)
    tau = max(info.tau_energy, info.tau_abs_magnetization)
    assert info.thin >= smp.THIN_FACTOR * tau
    assert info.burn_in >= smp.BURN_IN_FACTOR * tau
    assert tau_ref > 10  # Metropolis at T_c really is slow: the estimate is not trivially small


def test_thinning_factor_doubles_for_metropolis_below_tc():
    """Metropolis' |m| has a tail with tau_exp ~ 2 tau_int below T_c, so its thinning factor doubles there."""
    assert smp._thin_factor("metropolis", 2.0, "square") == 2 * smp.THIN_FACTOR
    assert smp._thin_factor("metropolis", 2.5, "square") == smp.THIN_FACTOR
    assert smp._thin_factor("swendsen_wang", 2.1, "square") == smp.THIN_FACTOR
    info = sample_with_info(16, 1.8, 32, algorithm="metropolis", seed=0)
    tau = max(info.tau_energy, info.tau_abs_magnetization)
    assert info.thin >= 2 * smp.THIN_FACTOR * tau


def test_explicit_burn_in_and_thin_skip_the_pilot():
    info = sample_with_info(8, 2.0, 10, algorithm="metropolis", seed=0, burn_in=7, thin=3, n_chains=5)
    assert (info.burn_in, info.thin, info.n_chains) == (7, 3, 5)
    assert math.isnan(info.tau_energy)
    info = sample_with_info(8, 2.0, 10, algorithm="metropolis", seed=0, burn_in=7)  # thin from a pilot
    assert info.burn_in > 7 and info.thin >= 1 and not math.isnan(info.tau_energy)


def test_sample_shape_values_and_reproducibility():
    spins = sample(8, 2.5, 30, seed=5)
    assert spins.shape == (30, 8, 8) and spins.dtype == np.int8
    assert set(np.unique(spins)) <= {-1, 1}
    np.testing.assert_array_equal(spins, sample(8, 2.5, 30, seed=5))
    assert not np.array_equal(spins, sample(8, 2.5, 30, seed=6))
    np.testing.assert_array_equal(spins, sample(8, 2.5, 30, seed=np.random.default_rng(5)))


def test_samples_of_both_ordered_states_below_tc():
    info = sample_with_info(16, 1.5, 64, seed=2)  # 64 chains, each started ordered with a random sign
    assert np.any(info.magnetization > 0.9) and np.any(info.magnetization < -0.9)


def test_simulate_shapes():
    run = simulate(8, 3.0, 50, algorithm="metropolis", seed=1, burn_in=10)
    assert run["energy"].shape == (50,) and run["magnetization"].shape == (50,)
    assert run["algorithm"] == "metropolis" and run["burn_in"] == 10
    run = simulate(8, 3.0, 20, algorithm="wolff", seed=1, n_chains=3)
    assert run["energy"].shape == (3, 20) and run["burn_in"] > 0


def test_auto_algorithm_choice():
    assert choose_algorithm(32, T_C) == "swendsen_wang"
    # from t = T/T_c - 1 = -0.10 upward (Metropolis' pilot misses the slow |m| tail below T_c), to t = 0.08
    assert choose_algorithm(32, 0.91 * T_C) == "swendsen_wang" and choose_algorithm(32, 0.89 * T_C) == "metropolis"
    assert choose_algorithm(32, 1.07 * T_C) == "swendsen_wang" and choose_algorithm(32, 1.09 * T_C) == "metropolis"
    assert choose_algorithm(32, 1.0) == "metropolis" and choose_algorithm(32, 3.5) == "metropolis"
    assert choose_algorithm(4, T_C) == "metropolis"  # tiny lattices: Metropolis is cheap enough
    assert choose_algorithm(30, critical_temperature("triangular"), "triangular") == "swendsen_wang"
    assert sample_with_info(16, T_C, 4, seed=0).algorithm == "swendsen_wang"


def test_pilot_limit_warns(monkeypatch):
    monkeypatch.setattr(smp, "MAX_PILOT_SWEEPS", 150)
    with pytest.warns(EquilibrationWarning, match="pilot run reached 150 sweeps"):
        sample(32, T_C, 4, algorithm="metropolis", seed=0, n_chains=4)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"L": 1}, "L"), ({"L": 2, "lattice": "triangular"}, "L"), ({"temperature": 0.0}, "temperature"),
        ({"temperature": -1.0}, "temperature"), ({"temperature": float("nan")}, "temperature"),
        ({"temperature": float("inf")}, "temperature"), ({"temperature": [1.0, 2.0]}, "temperature"),
        ({"n_samples": 0}, "n_samples"), ({"lattice": "hexagonal"}, "lattice"), ({"algorithm": "glauber"}, "algorithm"),
        ({"burn_in": -1}, "burn_in"), ({"thin": 0}, "thin"), ({"n_chains": 0}, "n_chains"),
    ],
)  # fmt: skip
def test_sample_rejects_bad_input(kwargs, name):
    args = {"L": 8, "temperature": 2.0, "n_samples": 4, **kwargs}
    L, T, n = args.pop("L"), args.pop("temperature"), args.pop("n_samples")
    with pytest.raises(ValueError, match=f"'{name}'"):
        sample(L, T, n, **args)


def test_simulate_rejects_bad_input():
    with pytest.raises(ValueError, match="'n_sweeps'"):
        simulate(8, 2.0, 0)
    with pytest.raises(ValueError, match="'algorithm'"):
        simulate(8, 2.0, 10, algorithm=None)
    with pytest.raises(TypeError, match="'seed'"):
        simulate(8, 2.0, 10, seed="abc")
