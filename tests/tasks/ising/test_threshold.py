"""The |m| threshold classifier (physics baseline)."""
import numpy as np
import pytest
from sklearn.base import clone

from physics.tasks.ising.threshold import MagnetizationThreshold, abs_magnetization


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
