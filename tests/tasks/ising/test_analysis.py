"""The headline estimator of task=ising, the collapse fitted in every replica, on synthetic curves with a known
T_c and nu: recovered within its interval, and the interval calibrated over repeats."""
import numpy as np
import pytest

from physics.tasks.ising.analysis import collapse
from physics.tasks.ising.replica import SizeCurves

TC, NU = 2.2692, 1.0
T = np.round(np.arange(2.23, 2.335, 0.01), 6)
SIZES = [16, 32, 64]


def _replicas(rng, n_replicas=4, noise=0.01, correction=0.0):
    """Per size, n_replicas noisy curves 1 / (1 + exp(x / 0.6)), x = (T - T_c) L^(1/nu), with an optional
    correction to scaling correction / L (a shift of the curve's centre)."""
    per_replica = {}
    for L in SIZES:
        x = (T - TC) * L ** (1 / NU) + correction / L * L ** (1 / NU)
        exact = 1.0 / (1.0 + np.exp(x / 0.6))
        per_replica[L] = [SizeCurves(mean=exact + rng.normal(0.0, noise, T.size), sem=np.full(T.size, noise))
                          for _ in range(n_replicas)]
    means = {L: (np.mean([c.mean for c in curves], axis=0), np.full(T.size, noise / np.sqrt(len(curves))))
             for L, curves in per_replica.items()}
    return per_replica, means


def test_collapse_recovers_tc_and_nu_with_stated_errors():
    per_replica, means = _replicas(np.random.default_rng(0))
    result = collapse(T, per_replica, means, SIZES, "synthetic", np.full(4, 2.27))
    tc = result["tc"]
    assert tc.kind == "T_c(inf)" and tc.n_replicas == 4 and tc.dof == 3
    assert "replicas" in tc.stat_source and "smallest size is dropped" in tc.sys_source
    assert tc.covers(TC, 0.95)
    assert result["nu"]["value"] == pytest.approx(NU, abs=4 * result["nu"]["stat"] + 0.02)
    # a perfect scaling function: S about 1 at the truth (noise as stated), not much lower at the fit
    assert 0.3 < result["quality_at_exact"] < 3.0
    assert result["quality_at_fit"] <= result["quality_at_exact"] + 0.5


def test_two_sizes_leave_the_systematic_error_unassessed():
    per_replica, means = _replicas(np.random.default_rng(1))
    result = collapse(T, {L: per_replica[L] for L in SIZES[1:]}, means, SIZES[1:], "synthetic", np.full(4, np.nan))
    assert result["tc"].sys == 0.0 and "not assessed" in result["tc"].sys_source


@pytest.mark.slow
def test_collapse_intervals_are_calibrated():
    """40 synthetic runs of 4 replicas: the 95 % interval covers the true T_c in at least 34 (a binomial(40, 0.95)
    falls below 34 with probability 1.4 %; the systematic part makes the interval conservative, not narrower)."""
    rng = np.random.default_rng(2)
    covered = 0
    for _ in range(40):
        per_replica, means = _replicas(rng, correction=0.05)
        covered += collapse(T, per_replica, means, SIZES, "synthetic", np.full(4, 2.27))["tc"].covers(TC, 0.95)
    assert covered >= 34


def test_width_floor_raises_only_a_spread_smaller_than_one_fit_implies():
    """Four replicas that agree to 1e-4 while each fit's minimum has a half-width 0.002 (rise 1): the statistical
    error becomes sqrt(2 * 0.002^2 / 4) = 0.0014 with Student's t of 3 dof kept; replicas that scatter more than
    that keep SD/sqrt(n)."""
    from physics.tasks.ising.analysis import WIDTH_RISE, with_width_floor
    from physics.transition.replicas import combine

    close = combine([2.2700, 2.2701, 2.2702, 2.2701], method="m", kind="T_c(inf)")
    floored = with_width_floor(close, [0.002, 0.002, np.nan, 0.002])  # a NaN width is left out
    assert floored.stat == pytest.approx(np.sqrt(WIDTH_RISE * 0.002 ** 2 / 4), rel=1e-12) and floored.dof == 3
    assert floored.extra["stat_replica_spread"] == close.stat and "half-width" in floored.stat_source
    assert floored.value == close.value
    spread = combine([2.266, 2.270, 2.274, 2.268], method="m", kind="T_c(inf)")
    kept = with_width_floor(spread, [0.002] * 4)
    assert kept.stat == spread.stat and kept.stat_source == spread.stat_source
    assert with_width_floor(spread, [np.nan] * 4) == spread
