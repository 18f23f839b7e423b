"""Combining independent replicas into one estimate: mean, SD/sqrt(n), failures counted."""
import math

import numpy as np
import pytest
from scipy.stats import t as student_t

from physics.transition.replicas import combine


def test_mean_and_standard_error_of_the_replicas():
    values = np.array([2.270, 2.268, 2.271, 2.266, 2.269])
    estimate = combine(values, method="synthetic", kind="T_c(inf)", sizes=(16, 32, 64))
    assert estimate.value == pytest.approx(values.mean(), abs=1e-12)
    assert estimate.stat == pytest.approx(values.std(ddof=1) / math.sqrt(5), abs=1e-12)
    assert estimate.dof == 4 and estimate.n_replicas == 5 and estimate.n_failed == 0
    assert estimate.sys == 0.0 and estimate.sizes == (16, 32, 64) and estimate.extra["n_ok"] == 5
    assert estimate.stat_source == "SD/sqrt(n) over n = 5 independent replicas of the whole pipeline"
    low, high = estimate.interval(0.95)  # Student's t with 4 dof, not the normal 1.96
    assert high - estimate.value == pytest.approx(student_t.ppf(0.975, 4) * estimate.stat, rel=1e-12)


def test_failed_replicas_are_counted_and_left_out():
    estimate = combine([2.27, np.nan, 2.26, np.nan], method="m", kind="T*(L)", sizes=(32,), extra={"L": 32})
    assert estimate.value == pytest.approx(2.265)
    assert estimate.n_replicas == 4 and estimate.n_failed == 2 and estimate.dof == 1
    assert estimate.extra == {"L": 32, "n_ok": 2}
    assert "2 of 4 replicas without a crossing" in estimate.describe()


def test_no_replica_crossed_gives_no_estimate():
    estimate = combine([np.nan, np.nan, np.nan], method="m", kind="T_c(inf)")
    assert not estimate.ok and math.isnan(estimate.value) and math.isnan(estimate.stat)
    assert estimate.failure == "no crossing in any of the 3 replicas"
    assert estimate.n_failed == 3 and estimate.n_replicas == 3


def test_one_replica_has_no_statistical_error():
    estimate = combine([2.27, np.nan], method="m", kind="T*(L)", what="replicas")
    assert estimate.value == 2.27 and math.isnan(estimate.stat) and estimate.dof is None
    assert estimate.stat_source == "no statistical error can be given from one replica (replicas)"


def test_combine_rejects_bad_shapes():
    with pytest.raises(ValueError, match="'values' parameter"):
        combine(np.ones((2, 2)), method="m", kind="T*(L)")
    with pytest.raises(ValueError, match="'values' parameter"):
        combine([], method="m", kind="T*(L)")
    with pytest.raises(ValueError, match="'kind' parameter"):
        combine([1.0, 2.0], method="m", kind="Tc")
