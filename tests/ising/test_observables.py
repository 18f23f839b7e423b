"""Error analysis against processes whose autocorrelation is known exactly.

AR(1): x_t = phi x_{t-1} + eps_t, eps ~ N(0, 1), started in equilibrium.  rho(t) = phi^t,
tau_int = (1 + phi) / (2 (1 - phi)), and the asymptotic standard error of the mean of n samples is
1 / ((1 - phi) sqrt n).
"""

import math

import numpy as np
import pytest
from scipy.signal import lfilter

from physics.ising import exact as ex
from physics.ising import observables as ob


def ar1(phi, n, reps, seed):
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal((reps, n))
    x0 = rng.standard_normal(reps) / math.sqrt(1 - phi**2)  # stationary start
    return lfilter([1.0], [1.0, -phi], eps, axis=-1, zi=(phi * x0)[:, None])[0]  # (reps, n)


def tau_ar1(phi):
    return (1 + phi) / (2 * (1 - phi))


def test_autocorrelation_function_matches_direct_sum():
    x = np.random.default_rng(0).standard_normal(50).cumsum()
    d = x - x.mean()
    direct = np.array([np.sum(d[: 50 - t] * d[t:]) for t in range(50)]) / np.sum(d * d)
    np.testing.assert_allclose(ob.autocorrelation_function(x), direct, atol=1e-12)
    np.testing.assert_array_equal(ob.autocorrelation_function(np.full(10, 3.0)), np.eye(1, 10)[0])


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.8, 0.9])
def test_tau_int_unbiased_and_error_calibrated(phi):
    """200 independent series of 2^14 samples.  The ensemble mean must match the exact tau_int within
    4 standard errors of that mean plus the estimator's known O(tau W / n) bias (< 1 %); the
    Madras-Sokal error must describe the actual spread (it is a first-order formula, observed 5-35 %
    conservative, hence the window [0.85, 1.6])."""
    n, reps = 2**14, 200
    tau, window = ob.integrated_autocorrelation_time(ar1(phi, n, reps, seed=1))
    assert tau.shape == window.shape == (reps,)
    spread = tau.std(ddof=1)
    assert abs(tau.mean() - tau_ar1(phi)) < 4 * spread / math.sqrt(reps) + 0.01 * tau_ar1(phi)
    predicted = ob.tau_int_error(tau, window, n).mean()
    assert 0.85 < predicted / spread < 1.6


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_tau_int_single_series_within_its_error(seed):
    x = ar1(0.8, 2**16, 1, seed)[0]
    tau, window = ob.integrated_autocorrelation_time(x)
    assert isinstance(tau, float) and isinstance(window, int)
    assert window >= 6 * tau  # Sokal's criterion with c = 6
    assert abs(tau - tau_ar1(0.8)) < 3 * ob.tau_int_error(tau, window, x.size)


def test_tau_int_short_series_warns():
    with pytest.warns(ob.ErrorAnalysisWarning, match="too short"):
        ob.integrated_autocorrelation_time(ar1(0.99, 100, 1, seed=2)[0])


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.8, 0.95])
def test_binning_error_matches_exact_asymptotic_error(phi):
    """Mean ratio estimate/exact over 100 series of 2^14 samples within 4 standard errors of the
    ensemble mean, after the documented <= 2.5 % underestimate (blocks of >= 20 tau_int)."""
    n, reps = 2**14, 100
    series = ar1(phi, n, reps, seed=7)
    exact = 1.0 / ((1 - phi) * math.sqrt(n))
    ratios = np.array([ob.binning_error(s) for s in series]) / exact
    sem = ratios.std(ddof=1) / math.sqrt(reps)
    assert 1.0 - 0.025 - 4 * sem < ratios.mean() < 1.0 + 4 * sem


def test_binning_error_coverage():
    """|mean - 0| < 2 error must hold for ~95.4 % of 400 series: binomial sd 1.0 %, so >= 90 % is a
    > 5 sd margin for a calibrated estimator, while the naive error (ignoring tau = 9.5) covers ~40 %."""
    series = ar1(0.9, 2**13, 400, seed=8)
    results = [ob.blocking_analysis(s) for s in series]
    covered = np.mean([abs(r.mean) < 2 * r.error for r in results])
    assert covered >= 0.90
    naive = np.mean([abs(s.mean()) < 2 * s.std(ddof=1) / math.sqrt(s.size) for s in series])
    assert naive < 0.6


def test_blocking_result_fields_and_iid_case():
    x = np.random.default_rng(9).standard_normal(2**12)
    res = ob.blocking_analysis(x)
    assert res.n_blocks * res.block_size <= x.size and res.level_errors.shape[0] == 12
    assert res.mean == pytest.approx(x.mean())
    # independent data: every level estimates the same error; 256 blocks -> ~4.4 % scatter
    assert res.error == pytest.approx(x.std(ddof=1) / math.sqrt(x.size), rel=0.2)
    with pytest.warns(ob.ErrorAnalysisWarning, match="too short"):
        ob.blocking_analysis(ar1(0.99, 64, 1, seed=1)[0])


def test_jackknife_linear_function_is_the_standard_error():
    x = np.random.default_rng(10).standard_normal(1000)
    value, error = ob.jackknife(lambda a: a, x)
    assert value == pytest.approx(x.mean(), abs=1e-14)
    assert error == pytest.approx(x.std(ddof=1) / math.sqrt(x.size), rel=1e-12)
    blocks = x.reshape(50, 20).mean(axis=1)
    _, error_b = ob.jackknife(lambda a: 2.0 * a, x, block_size=20)
    assert error_b == pytest.approx(2.0 * blocks.std(ddof=1) / math.sqrt(50), rel=1e-12)


def test_jackknife_square_of_mean():
    """For f = xbar^2 the bias-corrected jackknife equals xbar^2 - s^2/n exactly (the unbiased
    estimator of mu^2), and its error is the delta-method 2 |xbar| s / sqrt n to O(s / (xbar sqrt n))."""
    x = np.random.default_rng(11).normal(3.0, 1.0, 4000)
    n, mean, s2 = x.size, x.mean(), x.var(ddof=1)
    value, error = ob.jackknife(lambda a: a * a, x)
    assert value == pytest.approx(mean**2 - s2 / n, rel=1e-12)
    assert error == pytest.approx(2 * abs(mean) * math.sqrt(s2 / n), rel=1e-2)
    raw, _ = ob.jackknife(lambda a: a * a, x, bias_correction=False)
    assert raw == pytest.approx(mean**2, rel=1e-14)


def test_jackknife_bad_input():
    x = np.arange(10.0)
    with pytest.raises(ValueError, match="elementwise"):
        ob.jackknife(lambda a: np.sum(a), x)
    with pytest.raises(ValueError, match="block_size"):
        ob.jackknife(lambda a: a, x, block_size=6)
    with pytest.raises(ValueError, match="same length"):
        ob.jackknife(lambda a, b: a + b, x, x[:5])
    with pytest.raises(ValueError, match="NaN"):
        ob.jackknife(lambda a: a, np.array([1.0, np.nan, 2.0]))


# ------------------------------------------------------------------ measure() on exact samples

L, N = 4, 16
STAY = 0.9  # lazy chain: keep the previous state with probability STAY, else draw a fresh one
TAU_LAZY = (1 + STAY) / (2 * (1 - STAY))  # rho(t) = STAY^t for every observable: tau_int = 9.5


def lazy_exact_chain(T, n, rng):
    """Markov chain whose stationary law is the exact L = 4 Boltzmann distribution of (E, M)."""
    energies, magnets, counts = ex.energy_magnetization_histogram(L)
    w = counts * np.exp(-(energies - energies.min()) / T)
    fresh = rng.choice(w.size, size=n, p=w / w.sum())
    refresh = rng.random(n) >= STAY
    refresh[0] = True
    k = fresh[np.maximum.accumulate(np.where(refresh, np.arange(n), 0))]
    return energies[k] / N, magnets[k] / N


KEYS = ["energy", "abs_magnetization", "m2", "m4", "binder", "specific_heat", "susceptibility",
        "susceptibility_zero_field"]


@pytest.mark.parametrize("T", [ex.onsager_critical_temperature(), 3.0])
def test_measure_matches_enumeration(T):
    """One long chain: every observable within 4 sigma of the exact value; tau_int within 4 sigma.
    Then 60 short chains: each observable's 2-sigma coverage must be >= 80 % (expected 95 %;
    binomial sd 2.8 %, so 80 % is a 5 sd margin)."""
    exact = ex.enumerate_observables(L, T)
    rng = np.random.default_rng(12)
    e, m = lazy_exact_chain(T, 2**16, rng)
    res = ob.measure(e, m, T, N)
    for key in KEYS:
        value, error = res[key]
        assert abs(value - exact[key]) < 4 * error, key
    for key in ("tau_int_energy", "tau_int_abs_magnetization"):
        assert abs(res[key][0] - TAU_LAZY) < 4 * res[key][1]
    # honest size: error of <e> near the exact sqrt(2 tau var / n) (blocking leaves <= 2.5 % low)
    var_e = exact["specific_heat"] * T**2 / N
    assert res["energy"][1] == pytest.approx(math.sqrt(2 * TAU_LAZY * var_e / e.size), rel=0.15)

    hits = {key: 0 for key in KEYS}
    for _ in range(60):
        res = ob.measure(*lazy_exact_chain(T, 2**13, rng), T, N)
        for key in KEYS:
            hits[key] += abs(res[key][0] - exact[key]) < 2 * res[key][1]
    assert min(hits.values()) >= 48, hits


def test_measure_bad_input():
    e = np.zeros(100)
    with pytest.raises(ValueError, match="equal length"):
        ob.measure(e, np.zeros(99), 2.0, 16)
    with pytest.raises(ValueError, match="'T'"):
        ob.measure(e, e, -1.0, 16)
    with pytest.raises(ValueError, match="'n_spins'"):
        ob.measure(e, e, 2.0, 0)
    with pytest.raises(TypeError, match="'energies'"):
        ob.measure(np.array(["a"] * 100), e, 2.0, 16)


def test_parameter_validation_and_fixed_block_size():
    x = ar1(0.5, 2**10, 1, seed=13)[0]
    with pytest.raises(ValueError, match="'c'"):
        ob.integrated_autocorrelation_time(x, c=0)
    with pytest.raises(ValueError, match="'block_factor'"):
        ob.blocking_analysis(x, block_factor=-1.0)
    with pytest.raises(ValueError, match="'alpha'"):
        ob.blocking_analysis(x, alpha=1.5)
    with pytest.raises(ValueError, match="length >= 2"):
        ob.autocorrelation_function([1.0])
    e, m = lazy_exact_chain(3.0, 2**12, np.random.default_rng(14))
    fixed = ob.measure(e, m, 3.0, N, block_size=64)
    assert fixed["energy"][1] == pytest.approx(ob.jackknife(lambda a: a, e, block_size=64)[1], rel=1e-12)


def test_sokal_window_is_the_window_of_both_estimators():
    """One implementation of Sokal's automatic window: the smallest W >= c tau(W), else the last lag."""
    tau_of_window = np.array([[0.5, 1.0, 1.2, 1.3, 1.3, 1.3, 1.3, 1.3, 1.3, 1.3],
                              [0.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]])
    tau, window, found = ob.sokal_window(tau_of_window, 6.0)
    np.testing.assert_array_equal(window, [8, 9])  # 8 >= 6 * 1.3; the second never meets the criterion
    np.testing.assert_array_equal(found, [True, False])
    np.testing.assert_array_equal(tau, [1.3, 10.0])
    tau, window, found = ob.sokal_window(tau_of_window[0], 6.0)
    assert tau.ndim == window.ndim == 0 and float(tau) == 1.3 and int(window) == 8 and bool(found)
    x = ar1(0.8, 2**12, 1, seed=6)[0]
    tau, window = ob.integrated_autocorrelation_time(x)
    rho = ob.autocorrelation_function(x)
    assert (tau, window) == tuple(v.item() for v in ob.sokal_window(0.5 + np.cumsum(rho) - 1.0, 6.0)[:2])
