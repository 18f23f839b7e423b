"""The physics baseline: classify a configuration by its order parameter |m| alone.

:class:`MagnetizationThreshold` is a scikit-learn classifier on flattened spin configurations
(shape (n, L*L), values ±1): it computes ``|m| = |mean(s)|`` and learns the threshold on |m| that
classifies the training set best. It shows what the order parameter gives for free: a network that does
no better has learned nothing beyond |m|.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data


def abs_magnetization(X: np.ndarray) -> np.ndarray:
    """|m| per sample from flattened spins X, shape (n, N): ``|sum_i s_i| / N``."""
    return np.abs(np.asarray(X, dtype=np.float64).mean(axis=1))


class MagnetizationThreshold(ClassifierMixin, BaseEstimator):
    """Two-class threshold classifier on ``|m|``: the class with the larger mean |m| is predicted above it.

    Attributes (after fit): ``classes_`` (2,), ``threshold_`` (float, in |m| units), ``ordered_class_``
    (the class predicted above the threshold), ``n_features_in_``.
    """

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if self.classes_.size != 2:
            raise ValueError(f"MagnetizationThreshold needs exactly 2 classes in 'y'. "
                             f"Got {self.classes_.size} instead.")
        m = abs_magnetization(X)
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
        """Hard probabilities: column of the class predicted above the threshold is 1 where ``|m| > threshold_``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        above = abs_magnetization(X) > self.threshold_
        high = int(self.classes_[1] == self.ordered_class_)
        proba = np.zeros((X.shape[0], 2))
        proba[above, high] = 1.0
        proba[~above, 1 - high] = 1.0
        return proba

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
