"""The Houdayer–Hartmann collapse quality and fit on synthetic scaling curves with known T_c and nu."""
import numpy as np
import pytest

from physics.transition.collapse import EXACT_2D_ISING, fit_collapse, quality

TC = EXACT_2D_ISING["tc"]
FINE = np.round(np.arange(2.0, 2.6 + 1e-9, 0.01), 6)


def _curves(rng, T=FINE, sizes=(16, 32, 64), nu=1.0, zeta=0.0, n=2000, width=1.6):
    """y_L(T) = L^zeta F((T - T_c) L^(1/nu)), F logistic, from n binomial draws per point, with its exact standard
    error; only points with 0.02 < F < 0.98 (where the binomial is near-Gaussian: n F (1 - F) > 39)."""
    curves = {}
    for L in sizes:
        F = 1 / (1 + np.exp((T - TC) * L ** (1 / nu) / width))
        keep = (F > 0.02) & (F < 0.98)
        y = rng.binomial(n, F[keep]) / n
        curves[L] = (T[keep], y * L ** zeta, np.sqrt(F[keep] * (1 - F[keep]) / n) * L ** zeta)
    return curves


def test_quality_by_hand():
    """Two sizes, nu = 1, T_c = 0: x = T for L = 1 and x = 2 T for L = 2. Each point enclosed by the other size
    is compared with the linear interpolation (variance 0.5 midway between unit errors): three terms of
    (1/2)^2 / (1 + 1/2) = 1/6 each, the two points of L = 1 outside the other's range left out."""
    curves = {1: ([0.0, 1.0, 2.0], [0.0, 1.0, 2.0], [1.0, 1.0, 1.0]),
              2: ([0.25, 0.75], [1.0, 2.0], [1.0, 1.0])}
    assert quality(curves, 0.0, 1.0) == pytest.approx(1 / 6, rel=1e-12)
    assert quality(curves, 0.0, 1.0, master="mean") == pytest.approx(1 / 6, rel=1e-12)
    assert np.isnan(quality(curves, 10.0, 1.0))  # no overlap at all


def test_quality_is_about_one_at_the_truth_and_large_elsewhere():
    """At the true values S is a reduced chi^2 of ~200 terms: measured 1.04 +- 0.15 over 40 samples, so
    [0.6, 1.6] is ~3.5 SD. Off by 0.01 in T_c or 0.3 in nu, S was at least 5.9 and 14.7 in those 40 samples."""
    curves = _curves(np.random.default_rng(0))
    assert 0.6 < quality(curves, TC, 1.0) < 1.6
    assert quality(curves, TC + 0.01, 1.0) > 4
    assert quality(curves, TC, 1.3) > 8


def test_zeta_rescales_the_observable():
    curves = _curves(np.random.default_rng(1), zeta=0.5)
    assert 0.6 < quality(curves, TC, 1.0, zeta=0.5) < 1.6  # tolerance as above
    assert quality(curves, TC, 1.0) > 100  # unscaled, the L = 64 curve is 2x the L = 16 one


@pytest.mark.parametrize("master", ["paper", "mean"])
def test_fit_collapse_recovers_tc_and_nu(master):
    """The scatter of the fitted values over 30 samples was 0.00047 (T_c) and 0.008 (nu), with biases below
    0.00015 and 0.003: the tolerances are ~4-5 SD. The quoted errors (width of the minimum) are only checked to be
    finite and of the right order: they were 1.3-1.6 times smaller than that scatter (see fit_collapse)."""
    curves = _curves(np.random.default_rng(2))
    fit = fit_collapse(curves, 2.28, 1.2, bounds=((2.2, 2.35), (0.5, 2.0)), master=master)
    assert fit["tc"] == pytest.approx(TC, abs=0.002)
    assert fit["nu"] == pytest.approx(1.0, abs=0.045)
    assert fit["S_min"] <= quality(curves, TC, 1.0, master=master) + 1e-12
    assert 0.0001 < fit["tc_err"] < 0.001 and 0.001 < fit["nu_err"] < 0.02  # measured medians 0.00035, 0.005
    assert fit["tc_interval"] == pytest.approx((fit["tc"] - fit["tc_err"], fit["tc"] + fit["tc_err"]))
    assert fit["n_terms"] > 100 and fit["master"] == master


def test_fit_collapse_with_another_exponent():
    """nu = 0.7 with sizes 8/16/32 on a 0.005 grid (x = (T - T_c) L^(1/0.7) grows fast: a coarser grid leaves the
    L = 32 curve with a few points, which linear interpolation cannot follow). Fitted within 0.002 and 0.02 of the
    truth in 4 of 4 samples tried by hand (the largest deviations 0.00026 and 0.007)."""
    T = np.round(np.arange(2.0, 2.6 + 1e-9, 0.005), 6)
    curves = _curves(np.random.default_rng(3), T=T, sizes=(8, 16, 32), nu=0.7)
    fit = fit_collapse(curves, 2.27, 1.0, bounds=((2.2, 2.35), (0.4, 1.6)))
    assert fit["tc"] == pytest.approx(TC, abs=0.002)
    assert fit["nu"] == pytest.approx(0.7, abs=0.02)


def test_collapse_rejects_bad_input():
    good = (np.array([2.2, 2.3]), np.array([0.6, 0.4]), np.array([0.01, 0.01]))
    with pytest.raises(ValueError, match="at least 2 sizes"):
        quality({16: good}, TC, 1.0)
    with pytest.raises(ValueError, match="dy > 0"):
        quality({16: good, 32: (good[0], good[1], np.zeros(2))}, TC, 1.0)
    with pytest.raises(ValueError, match="strictly increasing"):
        quality({16: good, 32: (good[0][::-1], good[1], good[2])}, TC, 1.0)
    with pytest.raises(ValueError, match="'master' parameter"):
        quality({16: good, 32: good}, TC, 1.0, master="spline")
    with pytest.raises(ValueError, match="'rise' parameter"):
        fit_collapse({16: good, 32: good}, 2.25, 1.0, bounds=((2.2, 2.3), (0.5, 2.0)), rise=0)
    with pytest.raises(ValueError, match="'bounds' parameter"):
        fit_collapse({16: good, 32: good}, 2.5, 1.0, bounds=((2.2, 2.3), (0.5, 2.0)))


def test_taper_by_hand():
    """The curves of test_quality_by_hand with taper=True. Each of the three enclosed points lies half an interval
    inside the other size's range, so its term (1/6, as untapered) gets the weight 1/2 and N = 3/2: S = 1/6 again.
    Moved a quarter interval from its partner's end, a point counts with weight 1/4."""
    curves = {1: ([0.0, 1.0, 2.0], [0.0, 1.0, 2.0], [1.0, 1.0, 1.0]),
              2: ([0.25, 0.75], [1.0, 2.0], [1.0, 1.0])}
    assert quality(curves, 0.0, 1.0, master="mean", taper=True) == pytest.approx(1 / 6, rel=1e-12)
    # L = 2 at x = 0.25 and 1.5: x = 0.25 (weight 1/4 against L = 1; interpolation 0.25, variance 0.625, term
    # 0.75^2 / 1.625) and x = 1.5 (weight 1/2, term 1/6); L = 1 at x = 1 (against L = 2's one interval [0.25, 1.5]:
    # weight min(0.75, 0.5) / 1.25 = 0.4, t = 0.6, interpolation 1.6, variance 0.52, term 0.36 / 1.52)
    shifted = {1: curves[1], 2: ([0.125, 0.75], [1.0, 2.0], [1.0, 1.0])}
    expected = (0.25 * 0.75 ** 2 / 1.625 + 0.5 / 6 + 0.4 * 0.36 / 1.52) / (0.25 + 0.5 + 0.4)
    assert quality(shifted, 0.0, 1.0, master="mean", taper=True) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="'taper' parameter needs master='mean'"):
        quality(curves, 0.0, 1.0, taper=True)


def test_taper_makes_the_quality_continuous():
    """On a 0.01 grid with sizes 16/32/64, at nu = 1 and T_c on a grid temperature, points of several sizes enter and
    leave the other sizes' ranges together: the hard-edged S jumps there (by 0.06-0.16 for the random states 3, 4,
    5). Tapered, its largest change per 1e-5 in T_c was 0.0007-0.0015 (the slope of S, ~100 per unit T_c this
    close to its minimum with 200 samples per point): 0.01 is several times that, and several times below a jump."""
    curves = _curves(np.random.default_rng(3), T=np.round(np.arange(2.23, 2.33 + 1e-9, 0.01), 6), n=200)
    tcs = 2.27 + np.arange(-40, 41) * 1e-5
    hard = np.array([quality(curves, t, 1.0, master="mean") for t in tcs])
    smooth = np.array([quality(curves, t, 1.0, master="mean", taper=True) for t in tcs])
    assert np.abs(np.diff(hard)).max() > 0.02
    assert np.abs(np.diff(smooth)).max() < 0.01
