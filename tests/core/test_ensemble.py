"""SeedEnsembleRegressor / SeedEnsembleClassifier: scikit-learn's estimator checks, the seeding rule (determinism,
members that really differ), averaging, the gain over a single member, labels, nested parameters (GridSearchCV,
clone, Pipeline), bad parameters. Small networks and few epochs: the file runs in a few seconds."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from core._validation import InvalidParameterError
from core.ensemble import SeedEnsembleClassifier, SeedEnsembleRegressor, member_seed_sequences
from core.sklearn import NetClassifier, NetRegressor


def small(Estimator, **params):
    """A small, fast network (16 hidden units, 40 epochs of Adam at 1e-2)."""
    return Estimator(**{"hidden_layer_sizes": (16,), "learning_rate": 1e-2, "max_epochs": 40, **params})


# no expected failure; with sample_weight in fit the checks include the sample-weight ones
@parametrize_with_checks([SeedEnsembleRegressor(small(NetRegressor), n_members=2),
                          SeedEnsembleClassifier(small(NetClassifier), n_members=2)])
def test_check_estimator(estimator, check):
    check(estimator)


def regression_data(n, seed, noise=0.5):
    """y = sin(2 x0) + x1^2 / 2 + noise on [-2, 2]^2; returns X, the noise-free f(X) and the noisy y."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (n, 2))
    f = np.sin(2 * X[:, 0]) + 0.5 * X[:, 1] ** 2
    return X, f, f + noise * rng.standard_normal(n)


def test_same_random_state_same_members_other_random_state_other_members():
    X, _, y = regression_data(80, 0)
    ensemble = SeedEnsembleRegressor(small(NetRegressor, max_epochs=10), n_members=3, random_state=3)
    first = ensemble.fit(X, y).predict(X)
    seeds = ensemble.seeds_
    assert np.array_equal(clone(ensemble).fit(X, y).predict(X), first)  # bit-identical
    assert ensemble.fit(X, y).seeds_ == seeds and np.array_equal(ensemble.predict(X), first)  # refit: same
    other = clone(ensemble).set_params(random_state=4).fit(X, y)
    assert not np.array_equal(other.predict(X), first)
    assert not {s["random_state"] for s in other.seeds_} & {s["random_state"] for s in seeds}
    unseeded = [clone(ensemble).set_params(random_state=None).fit(X, y).predict(X) for _ in range(2)]
    assert not np.array_equal(*unseeded)  # None: fresh entropy at every fit


def test_seed_rule_and_seed_sequence_random_state():
    # member i: the uint32 words of SeedSequence(random_state).spawn(n)[i]; random_state first, init_random_state next
    X, _, y = regression_data(40, 1)
    ensemble = SeedEnsembleRegressor(small(NetRegressor, max_epochs=2), n_members=3, random_state=7).fit(X, y)
    for i, child in enumerate(np.random.SeedSequence(7).spawn(3)):
        words = child.generate_state(2, np.uint32)
        assert ensemble.seeds_[i] == {"random_state": int(words[0]), "init_random_state": int(words[1])}
        assert ensemble.estimators_[i].random_state == int(words[0])
    # member i does not depend on n_members
    grown = clone(ensemble).set_params(n_members=4).fit(X, y)
    assert grown.seeds_[:3] == ensemble.seeds_
    np.testing.assert_array_equal(grown.predict_members(X)[:3], ensemble.predict_members(X))
    # a SeedSequence is copied, not spawned from: the caller's is untouched and every fit gives the same members
    sequence = np.random.SeedSequence(7)
    a = clone(ensemble).set_params(random_state=sequence).fit(X, y)
    b = clone(ensemble).set_params(random_state=sequence).fit(X, y)
    assert sequence.n_children_spawned == 0 and a.seeds_ == b.seeds_ == ensemble.seeds_
    # a Generator is advanced: every fit new members (as for NetRegressor)
    rng = np.random.default_rng(0)
    assert member_seed_sequences(rng, 1)[0].entropy != member_seed_sequences(rng, 1)[0].entropy


@pytest.mark.parametrize("init_random_state", [None, 0])
def test_members_really_differ_even_with_a_fixed_init_random_state(init_random_state):
    X, _, y = regression_data(80, 2)
    estimator = small(NetRegressor, max_epochs=5, init_random_state=init_random_state)
    ensemble = SeedEnsembleRegressor(estimator, n_members=3, random_state=0).fit(X, y)
    assert len(ensemble.estimators_) == 3 and all(m is not estimator for m in ensemble.estimators_)
    assert estimator.init_random_state == init_random_state and not hasattr(estimator, "network_")  # untouched
    members = ensemble.predict_members(X)
    for i in range(3):
        for j in range(i):
            assert not np.array_equal(members[i], members[j])
    # the initial weights differ too (not only the minibatch order): with a learning rate of 1e-12 the trained
    # weights are the initial ones to ~1e-11, while two He initialisations differ by O(1)
    frozen = clone(ensemble).set_params(estimator__learning_rate=1e-12).fit(X, y)
    weights = [m.network_.get_weights()["0.W"] for m in frozen.estimators_]
    for i in range(3):
        for j in range(i):
            assert np.abs(weights[i] - weights[j]).max() > 0.1


def test_predict_is_the_mean_of_the_members_also_for_two_outputs():
    X, f, y = regression_data(60, 3)
    ensemble = SeedEnsembleRegressor(small(NetRegressor, max_epochs=5), n_members=4, random_state=0)
    members = ensemble.fit(X, y).predict_members(X)
    assert members.shape == (4, 60) and members.dtype == np.float64
    np.testing.assert_array_equal(ensemble.predict(X), members.mean(axis=0))
    for member, row in zip(ensemble.estimators_, members):
        np.testing.assert_array_equal(member.predict(X), row)
    members = ensemble.fit(X, np.column_stack([y, f])).predict_members(X)
    assert members.shape == (4, 60, 2) and ensemble.predict(X).shape == (60, 2)
    assert ensemble.n_features_in_ == 2 and not hasattr(ensemble, "feature_names_in_")  # (X without names)
    np.testing.assert_array_equal(ensemble.predict(X), members.mean(axis=0))


def test_ensemble_of_five_beats_the_average_member_on_noisy_data():
    # Ambiguity decomposition (Krogh & Vedelsby 1995): for any target t, the ensemble mean m = mean_i f_i has
    # mean (m - t)^2 = mean_i mean (f_i - t)^2 - mean_i mean (f_i - m)^2, so it is never worse than the average
    # member and better by exactly the members' spread. A net of 2 x 32 units on 120 noisy samples (noise SD 0.5)
    # is high-variance: the spread measured 13-49% of the average member's MSE (4 data/ensemble seeds), so the
    # bound ratio < 0.95 (a spread of >= 5%) holds with a wide margin, while members that did not differ fail it.
    X, _, y = regression_data(120, 0)
    X_test, f_test, y_test = regression_data(500, 100)
    ensemble = SeedEnsembleRegressor(NetRegressor(hidden_layer_sizes=(32, 32), learning_rate=1e-2, max_epochs=60,
                                                  alpha=0.0, batch_size=16), n_members=5, random_state=0).fit(X, y)
    members = ensemble.predict_members(X_test)
    for target in (f_test, y_test):  # the noise-free function and noisy test targets
        member_mse = ((members - target) ** 2).mean(axis=1)
        ensemble_mse = ((ensemble.predict(X_test) - target) ** 2).mean()
        spread = ((members - members.mean(axis=0)) ** 2).mean()
        assert ensemble_mse == pytest.approx(member_mse.mean() - spread, rel=1e-10)
        assert ensemble_mse < member_mse.mean()
    f_member_mse = ((members - f_test) ** 2).mean(axis=1)
    assert ((ensemble.predict(X_test) - f_test) ** 2).mean() < 0.95 * f_member_mse.mean()


def classification_data(n=150, n_classes=3, seed=0):
    return make_classification(n_samples=n, n_features=5, n_informative=3, n_redundant=0, n_classes=n_classes,
                               n_clusters_per_class=1, class_sep=1.5, random_state=seed)


def test_classifier_probabilities_and_string_labels():
    X, y = classification_data()
    names = np.array(["ordered", "critical", "disordered"])
    ensemble = SeedEnsembleClassifier(small(NetClassifier), n_members=3, random_state=0).fit(X, names[y])
    assert list(ensemble.classes_) == ["critical", "disordered", "ordered"]  # sorted, as scikit-learn does
    proba = ensemble.predict_proba(X)
    assert proba.shape == (len(X), 3) and proba.dtype == np.float64 and (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)  # mean of float64 distributions
    members = ensemble.predict_proba_members(X)
    assert members.shape == (3, len(X), 3)
    np.testing.assert_array_equal(proba, members.mean(axis=0))
    for member, row in zip(ensemble.estimators_, members):
        np.testing.assert_array_equal(member.predict_proba(X), row)
        assert np.array_equal(member.classes_, ensemble.classes_)
    predicted = ensemble.predict(X)
    assert predicted.dtype.kind == "U" and np.array_equal(predicted, ensemble.classes_[proba.argmax(axis=1)])
    assert ensemble.score(X, names[y]) > 0.85  # well-separated clusters (a single such network scores ~0.9)
    binary = SeedEnsembleClassifier(small(NetClassifier, loss="binary_cross_entropy"), n_members=2,
                                    random_state=0).fit(*classification_data(n_classes=2))
    assert binary.predict_proba(X).shape == (len(X), 2)


def test_nested_parameters_and_grid_search_over_estimator_alpha():
    ensemble = SeedEnsembleRegressor(NetRegressor())
    assert ensemble.set_params(estimator__alpha=1e-3) is ensemble and ensemble.estimator.alpha == 1e-3
    params = ensemble.get_params(deep=True)
    assert {"estimator", "n_members", "random_state", "estimator__alpha", "estimator__learning_rate"} <= set(params)
    assert set(ensemble.get_params(deep=False)) == {"estimator", "n_members", "random_state"}
    X, _, y = regression_data(60, 4)
    grid = GridSearchCV(SeedEnsembleRegressor(small(NetRegressor, max_epochs=5), n_members=2, random_state=0),
                        {"estimator__alpha": [0.0, 1e-2], "estimator__learning_rate": [1e-3, 1e-2]}, cv=2)
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert set(grid.best_params_) == {"estimator__alpha", "estimator__learning_rate"}
    best = grid.best_estimator_
    assert best.estimator.alpha == grid.best_params_["estimator__alpha"]
    assert all(m.alpha == best.estimator.alpha for m in best.estimators_)


def test_clone_and_pipeline_members():
    ensemble = SeedEnsembleRegressor(make_pipeline(StandardScaler(), small(NetRegressor, max_epochs=3)), n_members=2,
                                     random_state=1)
    copied = clone(ensemble)
    assert copied.estimator is not ensemble.estimator and copied.get_params()["n_members"] == 2
    assert copied.estimator.get_params()["netregressor__max_epochs"] == 3 and not hasattr(copied, "estimators_")
    X, _, y = regression_data(40, 5)
    copied.fit(X, y)
    assert set(copied.seeds_[0]) == {"netregressor__random_state", "netregressor__init_random_state"}
    assert copied.estimators_[0][-1].random_state == copied.seeds_[0]["netregressor__random_state"]
    assert copied.n_features_in_ == 2 and not hasattr(ensemble, "estimators_")
    with pytest.raises(NotFittedError):
        ensemble.predict_members(X)


@pytest.mark.parametrize("value, expected", [
    (0, "Got 0 instead"), (-1, "Got -1 instead"), (2.0, "Got 2.0 instead"), (True, "Got True instead"),
    ("5", "Got '5' instead"), (None, "Got None instead"),
])
@pytest.mark.parametrize("Ensemble, Estimator", [(SeedEnsembleRegressor, NetRegressor),
                                                 (SeedEnsembleClassifier, NetClassifier)])
def test_bad_n_members(Ensemble, Estimator, value, expected):
    X, y = classification_data(n=30)
    ensemble = Ensemble(Estimator(max_epochs=1), n_members=value)  # __init__ only stores
    with pytest.raises(InvalidParameterError, match=rf"^The 'n_members' parameter of {Ensemble.__name__} must be an "
                                                    rf"int in \[1, inf\)\. {expected}\.$"):
        ensemble.fit(X, y)


@pytest.mark.parametrize("ensemble, fragment", [
    (SeedEnsembleRegressor(NetRegressor(), random_state=-1), "'random_state' parameter of SeedEnsembleRegressor"),
    (SeedEnsembleRegressor(NetRegressor(), random_state=1.5), "'random_state'"),
    (SeedEnsembleRegressor(LinearRegression()),
     r"'estimator' parameter of SeedEnsembleRegressor must have a 'random_state' parameter .*Got LinearRegression"),
    (SeedEnsembleRegressor(NetRegressor), "'estimator' parameter of SeedEnsembleRegressor must be a regressor with"),
    (SeedEnsembleRegressor("NetRegressor"), "'estimator'.*Got 'NetRegressor' instead"),
    (SeedEnsembleClassifier(NetRegressor()),
     r"'estimator' parameter of SeedEnsembleClassifier must be a classifier with fit, predict, predict_proba"),
])
def test_bad_estimator_and_random_state(ensemble, fragment):
    X, y = classification_data(n=30)
    with pytest.raises(InvalidParameterError, match=fragment):
        ensemble.fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Ensemble, Estimator", [(SeedEnsembleRegressor, NetRegressor),
                                                 (SeedEnsembleClassifier, NetClassifier)])
def test_sample_weight_reaches_every_member_and_equals_repeated_rows(Ensemble, Estimator):
    X, y = make_classification(n_samples=40, n_features=4, n_informative=3, n_redundant=0, random_state=0)
    weights = np.random.default_rng(0).integers(0, 4, size=len(X))
    # full batch (batch_size > every n), plain SGD, float64 (the default): both fits take the same steps
    member = small(Estimator, optimizer="sgd", learning_rate=0.05, batch_size=500, max_epochs=20)
    weighted = Ensemble(member, n_members=3, random_state=0).fit(X, y, sample_weight=weights)
    repeated = Ensemble(member, n_members=3, random_state=0).fit(X.repeat(weights, axis=0), y.repeat(weights))
    assert weighted.seeds_ == repeated.seeds_
    for a, b in zip(weighted.estimators_, repeated.estimators_):
        assert a.loss_curve_[-1] < a.loss_curve_[0]  # it trained
        # only the order of the float64 sums differs (the shuffle of a full batch): ~1e-16 per step, 20 steps
        for p, q in zip(a.network_.parameters(), b.network_.parameters()):
            np.testing.assert_allclose(p.value, q.value, rtol=0, atol=1e-10)
    # and the weights matter: the unweighted ensemble is another model
    plain = Ensemble(member, n_members=3, random_state=0).fit(X, y)
    assert not np.allclose(plain.estimators_[0].coefs_[0], weighted.estimators_[0].coefs_[0])


def test_sample_weight_is_checked_by_the_members_and_refused_without_support():
    X, y = regression_data(30, 0)[0], regression_data(30, 0)[2]
    with pytest.raises(ValueError, match="sample_weight"):
        SeedEnsembleRegressor(small(NetRegressor), n_members=2).fit(X, y, sample_weight=-np.ones(len(X)))
    pipeline = make_pipeline(StandardScaler(), small(NetRegressor))
    with pytest.raises(TypeError, match="takes no 'sample_weight' argument"):
        SeedEnsembleRegressor(pipeline, n_members=2).fit(X, y, sample_weight=np.ones(len(X)))
