"""The one-number classifiers (physics baselines): thresholds on |m| and on E, logistic regression on |m|."""
import numpy as np
import pytest
from sklearn.base import clone

from physics.tasks.ising.threshold import (AbsMagnetizationLogistic, EnergyThreshold, MagnetizationThreshold,
                                         abs_magnetization, energy_per_spin)


def _spins(m_values, n_spins=100, rng=None):
    """Flattened configurations with exactly the requested magnetisations (random site order)."""
    rows = []
    for m in m_values:
        n_up = int(round((1 + m) / 2 * n_spins))
        row = np.array([1] * n_up + [-1] * (n_spins - n_up), dtype=float)
        rows.append(rng.permutation(row))
    return np.array(rows)


def test_separable_data_is_classified_perfectly():
    rng = np.random.default_rng(0)
    m = np.concatenate([rng.uniform(0.6, 1.0, 50) * rng.choice([-1, 1], 50), rng.uniform(-0.3, 0.3, 50)])
    X, y = _spins(m, rng=rng), np.repeat([1, 0], 50)
    model = MagnetizationThreshold().fit(X, y)
    assert model.score(X, y) == 1.0
    assert 0.3 <= model.threshold_ <= 0.6
    assert model.ordered_class_ == 1
    proba = model.predict_proba(X)
    assert set(np.unique(proba)) <= {0.0, 1.0} and np.all(proba.sum(axis=1) == 1)
    assert abs_magnetization(X) == pytest.approx(np.abs(m), abs=0.011)


def test_threshold_is_best_on_overlapping_data():
    rng = np.random.default_rng(1)
    X = _spins(np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), rng=rng)
    y = np.array([0, 0, 1, 0, 1, 1])  # best cut: above 0.2 (one error) or above 0.4 (one error)
    model = clone(MagnetizationThreshold()).fit(X, y)
    assert model.score(X, y) == pytest.approx(5 / 6)


def test_needs_two_classes():
    with pytest.raises(ValueError, match="exactly 2 classes"):
        MagnetizationThreshold().fit(np.ones((3, 4)), [0, 1, 2])


def test_energy_per_spin_of_known_configurations():
    L = 4
    up = np.ones((1, L * L))
    checkerboard = np.indices((L, L)).sum(axis=0) % 2 * 2 - 1.0
    assert energy_per_spin(up) == pytest.approx([-2.0])  # 2 bonds per spin, all satisfied
    assert energy_per_spin(checkerboard.reshape(1, -1)) == pytest.approx([2.0])  # all frustrated
    with pytest.raises(ValueError, match="L x L"):
        energy_per_spin(np.ones((1, 10)))


def test_energy_threshold_predicts_the_low_energy_class_as_ordered():
    rng = np.random.default_rng(2)
    ordered = np.ones((20, 64))
    ordered[:, :3] = -1  # a few defects: e between -2 and -1.6
    disordered = rng.choice([-1.0, 1.0], size=(20, 64))  # e near 0
    X, y = np.concatenate([ordered, disordered]), np.repeat([1, 0], 20)
    model = EnergyThreshold().fit(X, y)
    assert model.score(X, y) == 1.0 and model.ordered_class_ == 1


def test_logistic_regression_on_abs_m_uses_the_sign_free_order_parameter():
    rng = np.random.default_rng(3)
    m = np.concatenate([rng.uniform(0.7, 1.0, 40) * rng.choice([-1, 1], 40), rng.uniform(-0.2, 0.2, 40)])
    X, y = _spins(m, rng=rng), np.repeat([1, 0], 40)
    model = AbsMagnetizationLogistic(C=10.0).fit(X, y)
    assert model.score(X, y) == 1.0  # a plain logistic regression on the spins cannot: m has either sign
    proba = model.predict_proba(X)
    assert proba.shape == (80, 2) and np.allclose(proba.sum(axis=1), 1)
