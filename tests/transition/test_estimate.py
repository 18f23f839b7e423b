"""TcEstimate: what an estimate says about itself (kind, errors, intervals, no estimate)."""
import math

import pytest
from scipy.stats import t as student_t

from physics.transition.estimate import TcEstimate


def _estimate(**fields):
    base = dict(method="test", kind="T_c(inf)", value=2.27, stat=0.003, stat_source="replicas", sys=0.004,
                sys_source="correction")
    return TcEstimate(**{**base, **fields})


def test_combined_error_and_intervals():
    e = _estimate(dof=3)
    assert e.error == pytest.approx(0.005)
    low, high = e.interval(0.95)
    half = math.hypot(student_t.ppf(0.975, 3) * 0.003, 1.959964 * 0.004)  # t for the statistical part only
    assert (low, high) == pytest.approx((2.27 - half, 2.27 + half))
    assert e.covers(2.274) and not e.covers(2.2755) and e.covers(2.2755, 0.95)


def test_no_estimate_is_not_a_number():
    e = TcEstimate.none("test", "T*(L)", "no crossing in any of the 4 replicas", n_replicas=4, n_failed=4)
    assert not e.ok and not e.covers(2.27) and math.isnan(e.value)
    d = e.as_dict()
    assert d["no_estimate"] and d["failure"].startswith("no crossing") and d["n_failed"] == 4
    assert "no estimate (no crossing" in e.describe()


def test_describe_names_the_kind_and_compares_only_extrapolations_with_the_exact_value():
    assert "combined σ off" in _estimate().describe(exact=2.269185)
    pseudo = _estimate(kind="T*(L)", sys=0.0)
    text = pseudo.describe(exact=2.269185)
    assert text.startswith("T*(L) = 2.2700") and "σ off" not in text and "(sys)" not in text
    assert "not assessed" in _estimate(sys=math.nan).describe()


def test_kind_is_checked():
    with pytest.raises(ValueError, match="'kind'"):
        _estimate(kind="Tc")
