"""Applicability domain: unseen elements, the Mahalanobis distance and its training-quantile threshold, the JSON
round trip, and the shape errors."""
import json

import numpy as np
import pytest
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from physics.materials.dataset import miedema_dataset
from physics.materials.descriptors import magpie_features
from physics.materials.domain import ApplicabilityDomain, DomainReport, _percentile

METALS = ["Al", "Co", "Cr", "Cu", "Fe", "Mn", "Ni", "Ti", "V", "Zn"]


@pytest.fixture(scope="module")
def metals():
    """A "model" trained on 1000 binary alloys of ten metals: formulas, the fitted preprocessing, the domain."""
    data = miedema_dataset(1000, seed=0, elements=METALS)
    preprocess = make_pipeline(SimpleImputer(), StandardScaler())
    X = preprocess.fit_transform(magpie_features(data.formulas).values)
    return data.formulas, X, preprocess, ApplicabilityDomain().fit(data.formulas, X)


def features(preprocess, formulas):
    return preprocess.transform(magpie_features(formulas).values)


def test_an_unseen_element_is_flagged(metals):
    _, _, preprocess, domain = metals
    assert domain.elements_ == ("Al", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn")  # order of Z
    report = domain.check(["Fe2O3", "SiO2", "FeNi"], features(preprocess, ["Fe2O3", "SiO2", "FeNi"]))
    assert report.unseen_elements == (("O",), ("Si", "O"), ())  # in formula order
    assert list(report.in_domain) == [False, False, True]
    reasons = report.reasons()
    assert reasons[0].startswith("elements never seen in training: O")
    assert reasons[1].startswith("elements never seen in training: Si, O") and reasons[2] == ""


def test_seen_elements_with_typical_fractions_are_in_domain(metals):
    _, _, preprocess, domain = metals
    formulas = ["Fe0.5Ni0.5", "Al0.3Ni0.7", "Cu0.6Zn0.4"]
    report = domain.check(formulas, features(preprocess, formulas))
    assert report.in_domain.all() and report.reasons() == ["", "", ""]
    assert (report.distance < report.threshold).all()
    fresh = miedema_dataset(500, seed=1, elements=METALS)  # new draws from the training distribution
    report = domain.check(fresh.formulas, features(preprocess, fresh.formulas))
    assert report.in_domain.mean() > 0.95  # about 1 % beyond the threshold, plus a margin for sampling


def test_an_extreme_descriptor_vector_is_flagged_by_distance(metals):
    formulas, X, _, domain = metals
    extreme = X[:1] + 10.0  # 10 training standard deviations along every descriptor
    report = domain.check(formulas[:1], extreme)
    assert report.unseen_elements == ((),) and not report.in_domain[0]
    assert report.distance[0] > 3 * report.threshold
    reason = report.reasons()[0]
    assert reason.startswith("descriptor distance ") and reason.endswith(" (99th percentile of training)")
    assert reason.split()[2] == f"{report.distance[0]:.1f}" and "elements never seen" not in reason


def test_about_one_percent_of_the_training_rows_exceed_the_threshold(metals):
    formulas, X, _, domain = metals
    report = domain.check(formulas, X)
    # linear interpolation puts the 0.99 quantile of 1000 distances between the 990th and 991st largest:
    # exactly 10 rows lie beyond it (the distances are continuous, no ties)
    assert np.count_nonzero(report.distance > report.threshold) == 10
    assert report.threshold == pytest.approx(np.quantile(report.distance, 0.99), rel=1e-12)
    wide = ApplicabilityDomain(quantile=0.95, margin=2.0).fit(formulas, X)
    assert wide.threshold_ == pytest.approx(2.0 * np.quantile(report.distance, 0.95), rel=1e-9)
    assert "(2 x the 95th percentile of training)" in wide.check(formulas[:1], X[:1] + 10.0).reasons()[0]


def test_distance_is_the_mahalanobis_distance_when_every_axis_is_kept():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4)) @ np.array([[2.0, 0.5, 0, 0], [0, 1.0, 0.3, 0], [0, 0, 0.2, 0.1], [0, 0, 0, 3.0]])
    formulas = ["FeNi"] * 300
    domain = ApplicabilityDomain(explained_variance=1.0).fit(formulas, X)
    assert domain.components_.shape == (4, 4)
    new = rng.standard_normal((20, 4)) * 3
    centred = new - X.mean(axis=0)
    expected = np.sqrt(np.einsum("ij,jk,ik->i", centred, np.linalg.inv(np.cov(X, rowvar=False)), centred))
    np.testing.assert_allclose(domain.check(formulas[:20], new).distance, expected, rtol=1e-10)


def test_degenerate_axes_are_dropped():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((200, 3))
    X = np.hstack([a, a[:, :1] - a[:, 1:2]])  # an exact linear relation, like range = maximum - minimum
    domain = ApplicabilityDomain(explained_variance=1.0).fit(["FeNi"] * 200, X)
    assert domain.components_.shape == (4, 3)  # the round-off axis is not divided by
    assert np.isfinite(domain.check(["FeNi"], X[:1] + 1.0).distance).all()
    kept = ApplicabilityDomain(explained_variance=0.5).fit(["FeNi"] * 200, X)
    share = kept.variances_.sum() / (np.var(X, axis=0, ddof=1).sum())
    assert share >= 0.5 and kept.components_.shape[1] < 3


def test_to_dict_from_dict_round_trip_gives_identical_reports(metals):
    formulas, X, preprocess, domain = metals
    state = json.loads(json.dumps(domain.to_dict()))
    assert state["version"] == 1 and len(state["components"]) == X.shape[1]
    assert len(state["components"][0]) == len(state["variances"]) == domain.components_.shape[1]
    again = ApplicabilityDomain.from_dict(state)
    new = ["Fe2O3", "Fe0.5Ni0.5", *formulas[:50]]
    X_new = np.vstack([features(preprocess, new[:2]), X[:50] + np.linspace(0, 3, 50)[:, None]])
    first, second = domain.check(new, X_new), again.check(new, X_new)
    np.testing.assert_array_equal(first.distance, second.distance)
    np.testing.assert_array_equal(first.in_domain, second.in_domain)
    assert first.unseen_elements == second.unseen_elements and first.threshold == second.threshold
    assert first.reasons() == second.reasons() and repr(again) == repr(domain)


def test_shape_and_state_errors(metals):
    formulas, X, _, domain = metals
    with pytest.raises(ValueError, match="3 formulas but X has 2 rows"):
        ApplicabilityDomain().fit(formulas[:3], X[:2])
    with pytest.raises(ValueError, match="2 formulas but X has 3 rows"):
        domain.check(formulas[:2], X[:3])
    with pytest.raises(ValueError, match=f"X has 5 columns, the domain was fitted on {X.shape[1]}"):
        domain.check(formulas[:2], X[:2, :5])
    with pytest.raises(ValueError, match="must be a 2-D array"):
        domain.check(formulas[:1], X[0])
    with pytest.raises(ValueError, match="NaN or infinite"):
        domain.check(formulas[:1], np.full((1, X.shape[1]), np.nan))
    with pytest.raises(ValueError, match="at least 2 training rows"):
        ApplicabilityDomain().fit(formulas[:1], X[:1])
    with pytest.raises(ValueError, match="no variance"):
        ApplicabilityDomain().fit(formulas[:3], np.ones((3, 4)))
    with pytest.raises(ValueError, match="not fitted yet"):
        ApplicabilityDomain().check(formulas[:1], X[:1])
    with pytest.raises(ValueError, match="Cannot parse formula"):
        domain.check(["Fe2O)3"], X[:1])
    with pytest.raises(ValueError, match="missing keys"):
        ApplicabilityDomain.from_dict({"version": 1})
    state = domain.to_dict()
    state["components"] = state["components"][:-1]
    with pytest.raises(ValueError, match="'components' must be"):
        ApplicabilityDomain.from_dict(state)


@pytest.mark.parametrize("kwargs, name", [({"quantile": 0.0}, "quantile"), ({"quantile": 1.5}, "quantile"),
                                          ({"margin": 0}, "margin"), ({"margin": float("inf")}, "margin"),
                                          ({"explained_variance": True}, "explained_variance")])
def test_bad_parameters(kwargs, name):
    with pytest.raises(ValueError, match=f"The '{name}' parameter of ApplicabilityDomain"):
        ApplicabilityDomain(**kwargs)


def test_report_wording():
    report = DomainReport(in_domain=np.array([True, False]), unseen_elements=((), ("O",)),
                          distance=np.array([1.0, 14.23]), threshold=5.1)
    assert report.reasons() == ["", "elements never seen in training: O; descriptor distance 14.2 > 5.1 "
                                    "(99th percentile of training)"]
    assert [_percentile(q) for q in (0.99, 0.95, 0.999, 0.91, 0.92, 0.93, 0.5, 0.975, 0.11)] == \
        ["99th", "95th", "99.9th", "91st", "92nd", "93rd", "50th", "97.5th", "11th"]
