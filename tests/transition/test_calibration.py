"""Calibration of the finite-size-scaling errors over many synthetic repeats of the whole pipeline.

Each repeat is a synthetic pipeline with known T_c and nu: sizes 16/32/64, 5 independent replicas, pseudo-critical
temperatures ``T*(L) = T_c + a L^(-1/nu) + b L^-2 + noise`` and slopes ``c L^(1/nu) (1 + noise)`` (pure numpy, no
Monte Carlo), or, in the last test, noisy curves through the local crossing finder. An error bar is calibrated
when its intervals cover the truth as often as they claim.

Tolerances. With n = 200 repeats, a coverage of true probability p is measured with binomial SD sqrt(p (1-p) / n):
0.0154 for p = 0.95, 0.034 for p = 0.626. Bands are ±3 SD: [0.904, 0.996] around 0.95. Intervals of 5 replicas use
Student's t with 4 dof, so "within 1 combined σ" holds P(|t_4| < 1) = 0.626 (not the normal 0.683) of a purely
statistical error; it must be at least 0.626 - 3 SD = 0.52. The systematic error (the change of T_c under the b/L^2
correction, see physics.transition.scaling.extrapolate) contains the noise of the three-parameter fit as well as
the bias it measures, so it is conservative: the full T_c intervals over-cover (measured 0.985-0.995 at 95 %,
0.84-0.91 at 1σ), which the upper band edge 0.996 just allows; the statistical part alone is checked to be calibrated
(b = 0). A correction much larger than the noise (b = -2 here) is under-covered: 0.91 at 95 % over 2000 repeats.
"""
import dataclasses
import logging

import numpy as np
import pytest
from scipy.stats import binom

from physics.transition.crossing import local_crossings
from physics.transition.scaling import extrapolate

TC = 2.269185
SIZES = np.array([16, 32, 64])
N_REPEATS = 200
BAND_95 = (0.904, 0.996)  # 0.95 ± 3 sqrt(0.95 * 0.05 / 200)
MIN_1SIGMA = 0.52  # P(|t_4| < 1) = 0.626, minus 3 sqrt(0.626 * 0.374 / 200)


def test_band_edges():
    """The stated bands are the binomial ones (normal approximation checked against the exact binomial)."""
    assert binom.cdf(round(BAND_95[0] * N_REPEATS) - 1, N_REPEATS, 0.95) < 0.003
    assert binom.sf(round(BAND_95[1] * N_REPEATS), N_REPEATS, 0.95) < 0.003


def _repeats(rng, *, nu=1.0, a=0.6, b=-0.5, noise=0.002, slope_noise=0.05, n_replicas=5, fixed_nu=None):
    """N_REPEATS synthetic pipelines -> list of FSSResult."""
    results = []
    for _ in range(N_REPEATS):
        T_star = TC + a * SIZES ** (-1 / nu) + b * SIZES ** -2.0 + rng.normal(0, noise, (n_replicas, SIZES.size))
        slopes = -0.16 * SIZES ** (1 / nu) * (1 + rng.normal(0, slope_noise, (n_replicas, SIZES.size)))
        results.append(extrapolate(SIZES, T_star, slopes, L_min=16, method="synthetic", nu=fixed_nu))
    return results


def _coverage(results, nu=1.0):
    tc95 = np.mean([r.tc.covers(TC, 0.95) for r in results])
    tc1 = np.mean([r.tc.covers(TC) for r in results])
    stat95 = np.mean([dataclasses.replace(r.tc, sys=0.0).covers(TC, 0.95) for r in results])
    nu95 = np.mean([r.nu["ci95_low"] <= nu <= r.nu["ci95_high"] for r in results])
    nu1 = np.mean([abs(r.nu["value"] - nu) <= r.nu["stat"] for r in results])
    return tc95, tc1, stat95, nu95, nu1


@pytest.fixture(autouse=True)
def _quiet(caplog):
    caplog.set_level(logging.ERROR)


@pytest.mark.parametrize("nu, b", [(1.0, -0.5), (0.8, 0.3)])
def test_tc_and_nu_intervals_cover_the_truth(nu, b):
    """nu from the slopes of each replica, a correction to scaling b/L^2 of a realistic size (b/L^2 is 5 % of the
    leading shift at L = 16). Measured with these seeds: T_c 95 % 0.985 / 0.985, ν 95 % 0.920 / 0.920; over 2000
    repeats: T_c 0.989 / 0.989, ν 0.943 / 0.943 (the numbers are in the message on failure)."""
    tc95, tc1, stat95, nu95, nu1 = _coverage(_repeats(np.random.default_rng(100), nu=nu, b=b), nu)
    report = f"T_c: 95 % {tc95:.3f}, 1σ {tc1:.3f}, stat-only 95 % {stat95:.3f}; ν: 95 % {nu95:.3f}, 1σ {nu1:.3f}"
    assert BAND_95[0] <= tc95 <= BAND_95[1], report
    assert tc1 >= MIN_1SIGMA, report
    assert BAND_95[0] <= nu95 <= BAND_95[1], report
    assert nu1 >= MIN_1SIGMA, report


@pytest.mark.parametrize("fixed_nu", [None, 1.0])
def test_without_corrections_the_statistical_interval_is_exact(fixed_nu):
    """b = 0: T*(L) follows the leading form exactly, so the statistical interval alone (Student's t over the
    replicas) must cover 95 %. The systematic error is then pure noise of the corrected fit and the full interval
    over-covers (measured 0.995 / 0.995; 0.994 / 0.993 over 2000 repeats): conservative, never below the band."""
    results = _repeats(np.random.default_rng(101), b=0.0, fixed_nu=fixed_nu)
    tc95, tc1, stat95, nu95, _ = _coverage(results)
    report = f"T_c: 95 % {tc95:.3f}, 1σ {tc1:.3f}, stat-only 95 % {stat95:.3f}; ν 95 % {nu95:.3f}"
    assert BAND_95[0] <= stat95 <= BAND_95[1], report
    assert tc95 >= BAND_95[0] and tc1 >= MIN_1SIGMA, report
    if fixed_nu is None:
        assert BAND_95[0] <= nu95 <= BAND_95[1], report


def test_missing_crossings_do_not_spoil_the_coverage():
    """5 % of the crossings missing (NaN): those replicas are left out and counted; the rest stays calibrated."""
    rng = np.random.default_rng(102)
    results, failed = [], 0
    for _ in range(N_REPEATS):
        T_star = TC + 0.6 / SIZES - 0.5 / SIZES ** 2 + rng.normal(0, 0.002, (5, 3))
        T_star[rng.random((5, 3)) < 0.05] = np.nan
        slopes = 0.16 * SIZES * (1 + rng.normal(0, 0.05, (5, 3)))
        result = extrapolate(SIZES, T_star, slopes, L_min=16, method="synthetic")
        failed += result.tc.n_failed
        assert result.tc.n_failed == int(np.any(np.isnan(T_star), axis=1).sum())
        if result.tc.dof:  # at least 2 complete replicas
            results.append(result)
    coverage = np.mean([r.tc.covers(TC, 0.95) for r in results])
    assert failed > 0 and len(results) > 0.95 * N_REPEATS
    assert BAND_95[0] <= coverage <= BAND_95[1], f"T_c 95 % coverage {coverage:.3f} over {len(results)} repeats"


def test_noisy_curves_through_the_crossing_finder():
    """The whole chain on noisy logistic curves F(((T - T_c) L - x0) / 1.6), x0 = 0.6 + N(0, 0.05) per replica (the
    spread between trainings), binomial noise of 1000 samples per point, 0.01 grid, local cubic over 8 points.
    Measured: T_c 95 % 0.990, 1σ 0.805; ν 95 % 0.915, 1σ 0.630 (ν = 1.03 on average: the finder's slope biases
    of a few %). On the 0.02 grid the 8-point cubic flattens the L = 64 slope by ~8 % and ν = 1.07 on average,
    covered by its 95 % interval only 73 % of the time (T_c: 0.97): see test_crossing.py."""
    rng = np.random.default_rng(103)
    T = np.round(np.arange(2.0, 2.6 + 1e-9, 0.01), 6)
    results = []
    for _ in range(N_REPEATS):
        T_star, slopes = np.empty((5, 3)), np.empty((5, 3))
        for r in range(5):
            x0 = 0.6 + rng.normal(0, 0.05)
            for k, L in enumerate(SIZES):
                curve = rng.binomial(1000, 1 / (1 + np.exp(((T - TC) * L - x0) / 1.6))) / 1000
                (T_star[r, k],), (slopes[r, k],) = local_crossings(T, curve)
        results.append(extrapolate(SIZES, T_star, slopes, L_min=16, method="synthetic"))
    tc95, tc1, _, nu95, nu1 = _coverage(results)
    report = f"T_c: 95 % {tc95:.3f}, 1σ {tc1:.3f}; ν: 95 % {nu95:.3f}, 1σ {nu1:.3f}"
    assert BAND_95[0] <= tc95 <= BAND_95[1] and tc1 >= MIN_1SIGMA, report
    assert BAND_95[0] <= nu95 <= BAND_95[1] and nu1 >= MIN_1SIGMA, report
