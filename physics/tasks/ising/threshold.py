"""Single-feature classifiers of Ising configurations: what one physical quantity gives for free.

scikit-learn classifiers on flattened spin configurations (shape (n, L*L), values ±1, L*L a square):

* :class:`MagnetizationThreshold`: the best threshold on the order parameter ``|m| = |mean(s)|``;
* :class:`EnergyThreshold`: the best threshold on the energy per spin ``e = -sum_<ij> s_i s_j / N`` (periodic
  square lattice, J = 1): energy is a sufficient statistic for T, so any labelled boundary is learnable from it;
* :class:`AbsMagnetizationLogistic`: a logistic regression on |m| (a soft threshold).

A network that does no better than these on the same data has learned nothing beyond one number.
"""
from __future__ import annotations

import math

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted, validate_data


def abs_magnetization(X: np.ndarray) -> np.ndarray:
    """|m| per sample from flattened spins X, shape (n, N): ``|sum_i s_i| / N``."""
    return np.abs(np.asarray(X, dtype=np.float64).mean(axis=1))


def energy_per_spin(X: np.ndarray) -> np.ndarray:
    """Energy per spin ``-sum_<ij> s_i s_j / N`` (periodic square lattice, J = 1) from flattened spins X (n, L*L)."""
    X = np.asarray(X, dtype=np.float64)
    L = math.isqrt(X.shape[1])
    if L * L != X.shape[1]:
        raise ValueError(f"The configurations must be flattened L x L lattices. Got {X.shape[1]} features instead.")
    s = X.reshape(len(X), L, L)
    return -(s * (np.roll(s, 1, axis=1) + np.roll(s, 1, axis=2))).mean(axis=(1, 2))


class _FeatureThreshold(ClassifierMixin, BaseEstimator):
    """Two-class threshold classifier on one feature of the configuration (:meth:`feature`): the class with the
    larger mean feature is predicted above the threshold, which is the one that classifies the training set best.

    Attributes (after fit): ``classes_`` (2,), ``threshold_`` (float, in the feature's units), ``ordered_class_``
    (the class predicted above the threshold), ``n_features_in_``.
    """

    @staticmethod
    def feature(X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if self.classes_.size != 2:
            raise ValueError(f"{type(self).__name__} needs exactly 2 classes in 'y'. "
                             f"Got {self.classes_.size} instead.")
        m = self.feature(X)
        high = int(m[codes == 1].mean() >= m[codes == 0].mean())  # the code predicted above the threshold
        order = np.argsort(m, kind="stable")
        m_sorted, is_high = m[order], codes[order] == high
        # predicting "high" for the samples from position k on gets right: the low ones before k + the high ones after
        correct = (np.concatenate([[0], np.cumsum(~is_high)])
                   + np.concatenate([np.cumsum(is_high[::-1])[::-1], [0]]))
        # a cut only between distinct values; the threshold is the midpoint of the gap
        valid = np.concatenate([[True], m_sorted[1:] > m_sorted[:-1], [True]])
        k = int(np.argmax(np.where(valid, correct, -1)))
        edges = np.concatenate([[m_sorted[0] - 1.0], m_sorted, [m_sorted[-1] + 1.0]])
        self.threshold_ = float(0.5 * (edges[k] + edges[k + 1]))
        self.ordered_class_ = self.classes_[high]
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Hard probabilities: the column of the class predicted above the threshold is 1 where the feature
        exceeds ``threshold_``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        above = self.feature(X) > self.threshold_
        high = int(self.classes_[1] == self.ordered_class_)
        proba = np.zeros((X.shape[0], 2))
        proba[above, high] = 1.0
        proba[~above, 1 - high] = 1.0
        return proba

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class MagnetizationThreshold(_FeatureThreshold):
    __doc__ = "The best threshold on |m|. " + _FeatureThreshold.__doc__
    feature = staticmethod(abs_magnetization)


class EnergyThreshold(_FeatureThreshold):
    __doc__ = "The best threshold on the energy per spin (ordered below it). " + _FeatureThreshold.__doc__

    @staticmethod
    def feature(X: np.ndarray) -> np.ndarray:
        return -energy_per_spin(X)  # the ordered phase has the lower energy: above the threshold of -e


class AbsMagnetizationLogistic(ClassifierMixin, BaseEstimator):
    """Logistic regression on the single feature |m|.

    Parameters
    ----------
    C : float > 0, default=1.0
        Inverse regularisation strength of :class:`sklearn.linear_model.LogisticRegression`.

    Attributes (after fit): ``classes_``, ``model_`` (the fitted LogisticRegression on |m|), ``n_features_in_``.
    """

    def __init__(self, C: float = 1.0):
        self.C = C

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64)
        self.model_ = LogisticRegression(C=self.C).fit(abs_magnetization(X)[:, None], y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.model_.predict_proba(abs_magnetization(X)[:, None])

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
