"""PCA over sizes and learning by confusion, on synthetic data with a known answer and on small Monte Carlo data."""
import logging
import math

import numpy as np
import pytest
from sklearn.tree import DecisionTreeClassifier

from physics.transition import plots
from physics.transition.crossing import group_means
from physics.transition.unsupervised import ConfusionResult, PCAScan, combine_pca_scans, confusion_scan, pca_by_size

TC_EXACT = 2.0 / math.log(1.0 + math.sqrt(2.0))


def _spins(rng, n, N, order):
    """n configurations of N spins ±1: each aligned with a random global sign with probability ``order``."""
    aligned = np.where(rng.random((n, N)) < order, 1.0, -1.0)
    return aligned * rng.choice([-1.0, 1.0], (n, 1))


def _dataset(rng, orders, n, L, T=None):
    """(X, T_grid, groups) with one temperature per entry of ``orders`` (default T = 1, 2, ...)."""
    X = np.concatenate([_spins(rng, n, L * L, q) for q in orders])
    T = np.arange(1.0, len(orders) + 1.0) if T is None else np.asarray(T, dtype=float)
    return X, T, np.repeat(np.arange(len(orders)), n)


# ---------------------------------------------------------------------------------------------------- PCA


def test_first_component_is_uniform_and_its_curves_are_the_magnetisation_and_its_binder_cumulant():
    """Ordered (95 % aligned), half-ordered and random spins: w1 uniform, <|p1|>/sqrt(N) = <|m|>, U_p from 2/3 to 0."""
    rng = np.random.default_rng(0)
    X, T, groups = _dataset(rng, [0.975, 0.8, 0.5], 400, 8)
    scan = pca_by_size({8: (X, T, groups)}, seed=0, n_components=3, n_boot=0)
    size = scan.by_size[8]
    assert size.uniformity > 0.99  # 1 - |cos| ~ 1e-3 from sampling noise at n = 1200
    assert scan.uniformity == {8: size.uniformity} and scan.explained_variance_ratio[8].shape == (3,)
    # <|m|> = 2q - 1 = 0.95, 0.6 (binomial spread sqrt(4q(1-q)/64) = 0.04 and 0.1 does not shift it for m > 3 sd);
    # random spins: sqrt(2/(pi N)) = 0.0997 (the discrete distribution of m for N = 64 shifts it by < 0.005).
    # Tolerance: 4 jackknife standard errors (<= 0.01) plus that discreteness.
    assert size.abs_p1[:2] == pytest.approx([0.95, 0.6], abs=4 * size.abs_p1_err.max())
    assert size.abs_p1[2] == pytest.approx(math.sqrt(2 / (math.pi * 64)), abs=4 * size.abs_p1_err[2] + 0.005)
    # U_p: 2/3 for a sharp ±m0 (here 1 - <m^4>/3<m^2>^2 = 2/3 - O(var/m0^2) = 0.665) and 0 for a Gaussian m;
    # tolerance 4 jackknife standard errors plus the O(1/N) non-Gaussian corrections for the random set (2/(3N))
    assert size.binder[0] == pytest.approx(2 / 3, abs=4 * size.binder_err[0] + 0.005)
    assert size.binder[2] == pytest.approx(0.0, abs=4 * size.binder_err[2] + 2 / (3 * 64))
    assert np.all(np.diff(size.binder) < 0)


def test_jackknife_errors_match_the_spread_over_independent_data_sets():
    """The per-temperature errors of chi_p and U_p against the SD of the curves over 60 independent data sets."""
    rng = np.random.default_rng(1)
    runs = [pca_by_size({4: _dataset(rng, [0.9, 0.75, 0.6], 300, 4)}, seed=k, n_components=2, n_boot=0).by_size[4]
            for k in range(60)]
    for name in ("chi", "binder"):
        spread = np.std([getattr(r, name) for r in runs], axis=0, ddof=1)
        jackknife = np.mean([getattr(r, f"{name}_err") for r in runs], axis=0)
        # the SD of 60 values has a relative standard error 1/sqrt(2 * 59) = 9 %; 30 % is over 3 of those
        np.testing.assert_allclose(jackknife, spread, rtol=0.3, err_msg=name)


def test_a_maximum_at_the_edge_of_the_grid_is_not_a_peak(caplog):
    """chi_p still rising at the last temperature: NaN, the reason logged and kept, and no Binder crossing."""
    rng = np.random.default_rng(2)
    # var(m) = 4 q (1 - q) / N grows by 25 % or more from one temperature to the next (17-fold from q = 0.99 to
    # 0.78) while T grows by 1 %: chi_p rises by many times its 6 % errors at every step
    orders = [0.99, 0.98, 0.96, 0.94, 0.91, 0.88, 0.84, 0.78]
    X, T, groups = _dataset(rng, orders, 800, 4, T=2.0 + 0.02 * np.arange(8))
    with caplog.at_level(logging.WARNING, logger="physics.transition.unsupervised"):
        scan = pca_by_size({4: (X, T, groups)}, seed=0, n_components=2, n_boot=20)
    assert np.isnan(scan.peak_T[4])
    assert "edge of the grid" in scan.failures[4] and "edge of the grid" in caplog.text
    assert scan.binder_crossings == {}  # one size: no pair


def test_binder_curves_that_never_separate_give_no_crossing():
    """Two 'sizes' drawn from the same distributions at every temperature: U_p agree, so no crossing (NaN)."""
    rng = np.random.default_rng(3)
    orders = [0.95, 0.9, 0.85, 0.8, 0.75, 0.7]
    scan = pca_by_size({4: _dataset(rng, orders, 200, 4), 5: _dataset(rng, orders, 200, 5)}, seed=0,
                       n_components=2, n_boot=0)
    # the 5x5 lattice has the same aligned fractions, hence the same m distribution up to its discreteness: the
    # difference can still be 2 sigma somewhere by chance, so only the outcome "no crossing or a reason" is fixed
    if np.isnan(scan.binder_crossings[(4, 5)]):
        assert "no crossing" in scan.failures[(4, 5)]


def test_combining_replicas_gives_the_mean_and_its_standard_error():
    def scan(peak, crossing, err=0.01):
        return PCAScan(sizes=(8, 16), by_size={}, peak_T={8: peak, 16: peak - 0.1}, peak_T_err={8: err, 16: err},
                       binder_crossings={(8, 16): crossing}, binder_crossings_err={(8, 16): err},
                       failures={} if np.isfinite(crossing) else {(8, 16): "no crossing: test"}, n_boot=50)

    values = [2.40, 2.42, 2.44, 2.46]
    combined = combine_pca_scans([scan(v, c) for v, c in zip(values, [2.27, 2.28, np.nan, 2.26])])
    peak = combined.peaks[8]
    assert peak.kind == "T*(L)" and peak.sizes == (8,) and peak.n_replicas == 4 and peak.dof == 3
    assert peak.value == pytest.approx(2.43) and peak.stat == pytest.approx(np.std(values, ddof=1) / 2)
    assert combined.peaks[16].value == pytest.approx(2.33)
    crossing = combined.crossings[(8, 16)]
    assert crossing.n_failed == 1 and crossing.value == pytest.approx(2.27) and crossing.dof == 2
    assert crossing.sizes == (8, 16) and "replicas" in crossing.stat_source
    one = combine_pca_scans([scan(2.4, 2.27, err=0.02)])
    assert one.peaks[8].stat == 0.02 and "bootstrap" in one.peaks[8].stat_source  # one replica: its bootstrap
    none = combine_pca_scans([scan(2.4, np.nan), scan(2.4, np.nan)])
    assert not none.crossings[(8, 16)].ok and "no crossing" in none.crossings[(8, 16)].failure
    with pytest.raises(ValueError, match="same sizes"):
        combine_pca_scans([scan(2.4, 2.27), PCAScan((8,), {}, {8: 2.4}, {8: 0.1}, {}, {})])


@pytest.mark.parametrize("datasets, match", [
    ({8: (np.ones((6, 63)), np.arange(3.0), np.repeat(np.arange(3), 2))}, "shape"),
    ({8: (np.ones((6, 64)), np.array([1.0, 3.0, 2.0]), np.repeat(np.arange(3), 2))}, "increasing"),
    ({8: (np.ones((6, 64)), np.arange(3.0), np.array([0, 0, 1, 1, 2, 3]))}, "groups"),
    ({8: (np.ones((6, 64)), np.arange(3.0), np.array([0, 0, 1, 1, 1, 2]))}, "at least 2 configurations"),
    ({}, "at least one lattice size"),
])
def test_malformed_datasets_are_rejected(datasets, match):
    with pytest.raises(ValueError, match=match):
        pca_by_size(datasets, seed=0, n_components=2)


@pytest.mark.slow
def test_pca_on_monte_carlo_data_peaks_above_tc_and_binder_cumulants_cross_near_it():
    """L = 8 and 16, 2.0 <= T <= 2.8: the chi_p peaks lie above T_c and move towards it with L; U_p cross near T_c."""
    from physics.ising import generate_dataset

    T = np.round(np.arange(2.0, 2.801, 0.05), 2)
    datasets = {}
    for L in (8, 16):
        data = generate_dataset(L, T, 300, seed=5, cache_dir=False, n_jobs=1, progress=False)
        datasets[L] = (data.spins.reshape(len(data.spins), -1).astype(np.float64), data.temperatures,
                       np.searchsorted(data.temperatures, data.temperature))
    scan = pca_by_size(datasets, seed=0, n_components=4, n_boot=100)
    for L in (8, 16):
        # the chi' peak of the 2D Ising model lies near T_c + 2.2/L (0.28 and 0.14 here; (T* - T_c) L = 1.9 - 2.4
        # measured at L = 16 - 64); 4 bootstrap errors (0.05 at L = 8, 0.02 at L = 16) and 30 % of the shift for the
        # corrections to scaling at these small sizes make the band
        assert scan.peak_T[L] == pytest.approx(TC_EXACT + 2.2 / L, abs=4 * scan.peak_T_err[L] + 2.2 / L * 0.3)
    assert scan.peak_T[16] < scan.peak_T[8]
    # the U_4 crossing of L = 8 and 16 is within ~0.01 of T_c (corrections to scaling ~ L^-2); 4 bootstrap
    # errors (about 0.03 at 300 configurations per temperature on a 0.05 grid) on top
    crossing, error = scan.binder_crossings[(8, 16)], scan.binder_crossings_err[(8, 16)]
    assert crossing == pytest.approx(TC_EXACT, abs=4 * error + 0.01)


# ---------------------------------------------------------------------------------------------------- confusion


def _magnetisation_data(rng, n_per_T=60, tc=2.3):
    """|m| per configuration on 1.6 <= T <= 3.0 (step 0.05): ordered m0(T) = (1 - (T/tc)^4)^(1/8) with a spread
    of 0.05 below tc, a half-normal of scale 0.15 above; tc at the middle of the range."""
    T = np.round(np.arange(1.6, 3.0001, 0.05), 2)
    temperature = np.repeat(T, n_per_T)
    m0 = np.clip(1.0 - (temperature / tc) ** 4, 0.0, None) ** 0.125
    ordered = temperature < tc
    x = np.where(ordered, m0 + 0.05 * rng.standard_normal(temperature.size),
                 np.abs(0.15 * rng.standard_normal(temperature.size)))
    test = rng.random(temperature.size) < 0.4
    return x[~test, None], temperature[~test], x[test, None], temperature[test]


def _stump(X_train, X_test):
    """A threshold on |m| (a depth-1 tree) fitted to a random 70 % of the training set drawn with the seed."""
    def train_and_score(seed, y_train, y_test):
        pick = np.random.default_rng(seed).random(y_train.size) < 0.7
        tree = DecisionTreeClassifier(max_depth=1, random_state=seed).fit(X_train[pick], y_train[pick])
        return float(np.mean(tree.predict(X_test) == y_test))
    return train_and_score


def test_confusion_finds_the_transition_of_a_threshold_classifier():
    X_train, T_train, X_test, T_test = _magnetisation_data(np.random.default_rng(4))
    result = confusion_scan(T_train, T_test, _stump(X_train, X_test), coarse_step=0.1, n_seeds=6, size=16)
    assert isinstance(result, ConfusionResult)
    assert result.one_class[0] and result.one_class[-1] and not result.one_class[1:-1].any()
    assert np.all(np.diff(result.guesses) > 0) and (~result.coarse).any()
    assert np.all(result.excess_mean[result.one_class] <= 1e-12)  # one class: exactly the trivial accuracy
    estimate = result.tc
    assert estimate.kind == "T*(L)" and estimate.sizes == (16,) and estimate.n_failed == 0 and estimate.dof == 5
    assert "training seeds" in estimate.stat_source
    # the labels can only change between neighbouring data temperatures (0.05 apart): the synthetic transition at
    # 2.3 lies between labellings 2.275 and 2.325; one grid spacing plus 4 standard errors is the tolerance
    assert estimate.value == pytest.approx(2.3, abs=0.05 + 4 * estimate.stat)


def test_balanced_confusion_finds_a_transition_far_from_the_median_temperature():
    """With plain accuracy the excess over max(p, 1 - p) is pulled towards the test set's median temperature; the
    balanced accuracy (baseline 1/2 at every guess) is not: a transition at 2.0 on the grid 1.6 ... 3.0 (median
    2.3) is found at 2.0."""
    rng = np.random.default_rng(6)
    X_train, T_train, X_test, T_test = _magnetisation_data(rng, tc=2.0)

    def balanced(seed, y_train, y_test):
        pick = np.random.default_rng(seed).random(y_train.size) < 0.7
        tree = DecisionTreeClassifier(max_depth=1, random_state=seed).fit(X_train[pick], y_train[pick])
        predicted = tree.predict(X_test)
        return 0.5 * (np.mean(predicted[y_test == 1] == 1) + np.mean(predicted[y_test == 0] == 0))

    result = confusion_scan(T_train, T_test, balanced, coarse_step=0.1, n_seeds=4, score="balanced_accuracy")
    assert "balanced" in result.tc.method
    # one grid spacing (0.05: where the labels can change) plus 4 standard errors
    assert result.tc.value == pytest.approx(2.0, abs=0.05 + 4 * result.tc.stat)
    with pytest.raises(ValueError, match="'score'"):
        confusion_scan(T_train, T_test, balanced, coarse_step=0.1, score="f1")


def test_confusion_estimate_does_not_depend_on_the_number_of_coarse_guesses():
    """14, 15, 16 and 27 coarse guesses (the counts that moved the old estimate by 0.06) agree within errors."""
    X_train, T_train, X_test, T_test = _magnetisation_data(np.random.default_rng(5))
    span = 3.0 - 1.6
    estimates = [confusion_scan(T_train, T_test, _stump(X_train, X_test), coarse_step=span / (n - 1), n_seeds=5,
                                fine_halfwidth=0.15).tc for n in (14, 15, 16, 27)]
    values = np.array([e.value for e in estimates])
    errors = np.array([e.stat for e in estimates])
    assert np.all(np.isfinite(values)) and np.all(errors > 0)
    # the same data and seeds: any two estimates differ by less than their combined standard error (they share the
    # labellings around the peak, so are in fact equal unless a coarse peak lands more than 0.15 away)
    for a in range(len(values)):
        for b in range(a):
            assert abs(values[a] - values[b]) <= math.hypot(errors[a], errors[b])


def test_a_classifier_no_better_than_the_class_proportions_gives_no_estimate(caplog):
    """Predicting the training majority: accuracy = the trivial baseline everywhere, so no peak, all seeds fail."""
    T_train = np.repeat(np.linspace(1.0, 3.5, 11), 5)
    T_test = np.repeat(np.linspace(1.0, 3.5, 11), 3)

    def majority(seed, y_train, y_test):
        return float(np.mean(y_test == np.round(y_train.mean())))

    with caplog.at_level(logging.WARNING, logger="physics.transition.unsupervised"):
        result = confusion_scan(T_train, T_test, majority, coarse_step=0.5, n_seeds=3)
    ordered = np.array([np.mean(T_test < g) for g in result.guesses])
    np.testing.assert_allclose(result.trivial, np.maximum(ordered, 1 - ordered))
    assert not result.tc.ok and result.tc.n_failed == 3 and np.isnan(result.tc_estimate)
    assert "never above the trivial accuracy" in caplog.text


def test_guesses_within_one_temperature_interval_are_one_labelling():
    """A fine step far below the data spacing adds no labellings: each is evaluated once, at its interval's middle."""
    T = np.repeat(np.array([1.0, 2.0, 3.0, 4.0]), 4)
    calls = []

    def score(seed, y_train, y_test):
        calls.append(int(y_train.sum()))
        return 1.0

    result = confusion_scan(T, T, score, coarse_step=0.5, fine_step=0.01, fine_halfwidth=1.0, n_seeds=2)
    # labelling j (the j lowest temperatures ordered) sits between the j-th and (j+1)-th temperature;
    # j = 0 and 4 are one class
    np.testing.assert_allclose(result.guesses, [0.5, 1.5, 2.5, 3.5, 4.5])
    assert sorted(calls) == [4, 4, 8, 8, 12, 12]  # three two-class labellings, two seeds each, no repeats


@pytest.mark.parametrize("kwargs, match", [({"coarse_step": 0.0}, "coarse_step"),
                                           ({"coarse_step": 0.1, "n_seeds": 0}, "n_seeds"),
                                           ({"coarse_step": 0.1, "fine_step": -1.0}, "fine_step")])
def test_confusion_rejects_bad_steps(kwargs, match):
    T = np.repeat(np.linspace(1.0, 3.0, 5), 2)
    with pytest.raises(ValueError, match=match):
        confusion_scan(T, T, lambda s, a, b: 1.0, **kwargs)


# ---------------------------------------------------------------------------------------------------- figures


def test_figures_of_the_new_results(tmp_path):
    rng = np.random.default_rng(6)
    orders = [0.98, 0.95, 0.9, 0.8, 0.7, 0.6, 0.55, 0.5]
    scan = pca_by_size({4: _dataset(rng, orders, 100, 4), 6: _dataset(rng, orders, 100, 6)}, seed=0,
                       n_components=3, n_boot=10)
    assert plots.pca_summary(scan, TC_EXACT, tmp_path / "pca.png", estimates=combine_pca_scans([scan])).exists()
    X_train, T_train, X_test, T_test = _magnetisation_data(rng, n_per_T=20)
    result = confusion_scan(T_train, T_test, _stump(X_train, X_test), coarse_step=0.2, n_seeds=3)
    assert plots.confusion_w(result, TC_EXACT, tmp_path / "confusion.png").exists()


def test_figures_draw_abs_m_and_reject_other_results(tmp_path):
    rng = np.random.default_rng(7)
    X, T, groups = _dataset(rng, [0.95, 0.9, 0.8, 0.7, 0.6, 0.5], 100, 4)
    scan = pca_by_size({4: (X, T, groups)}, seed=0, n_components=3, n_boot=0)
    abs_m = {4: group_means(np.abs(X.mean(axis=1)), groups, T.size)}
    assert plots.pca_summary(scan, TC_EXACT, tmp_path / "pca_abs_m.png", abs_m=abs_m).exists()
    with pytest.raises(ValueError, match="'scan' parameter must be a PCAScan"):
        plots.pca_summary(scan.by_size[4], TC_EXACT, tmp_path / "wrong.png")
    with pytest.raises(ValueError, match="'result' parameter must be a ConfusionResult"):
        plots.confusion_w(scan, TC_EXACT, tmp_path / "wrong.png")
