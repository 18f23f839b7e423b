"""Finding the transition without phase labels: PCA (Wang 2016) and learning by confusion (van Nieuwenburg,
Liu & Huber, Nature Physics 13, 435 (2017)).

PCA: the leading principal component of raw Ising configurations is close to the uniform vector
``w1 = ±(1, ..., 1)/sqrt(N)``, so the projection ``p1 = w1 . s`` is ``±sqrt(N) m`` and ``<|p1|>/sqrt(N)``
against T reproduces the magnetisation curve. The fluctuation of the projection,
``chi_p(T) = (<p1^2> - <|p1|>^2) / T`` (= the finite-lattice susceptibility ``N beta (<m^2> - <|m|>^2)``
when w1 is exactly uniform), peaks at a pseudo-critical temperature: that is the PCA estimate of T_c.

Confusion: relabel the data with a guessed critical temperature T' (ordered iff T < T') and train a
classifier for each guess. The test accuracy against T' is 1 at both ends (one class only), dips in
between, and rises to a peak where T' matches the true transition, since only there do the labels follow a
change of the data: the W shape. The estimate is that middle peak.

Temperatures in units of J/k_B.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np
from sklearn.decomposition import PCA

from physics.transition.crossing import group_means, parabolic_peak

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PCAResult:
    """Principal components of flattened configurations.

    explained_variance_ratio : (k,). components : (k, N), unit rows. projections : (n, k).
    T : (n_T,). abs_p1 : (n_T,), ``<|p1|>/sqrt(N)`` per temperature. fluctuation : (n_T,), ``chi_p(T)``.
    tc_estimate : float, peak of ``chi_p`` (J/k_B). uniformity : float, ``|cos|`` of the angle between w1
    and the uniform vector (1 = exactly uniform).
    """

    explained_variance_ratio: np.ndarray
    components: np.ndarray
    projections: np.ndarray
    T: np.ndarray
    abs_p1: np.ndarray
    fluctuation: np.ndarray
    tc_estimate: float
    uniformity: float


def pca_analysis(X: np.ndarray, T: np.ndarray, groups: np.ndarray, n_components: int, seed: int) -> PCAResult:
    """PCA of configurations X (n, N) (spins ±1 as floats) drawn at temperatures ``T[groups]``."""
    n_spins = X.shape[1]
    pca = PCA(n_components=n_components, svd_solver="randomized", random_state=seed)
    projections = pca.fit_transform(X)
    p1 = projections[:, 0]
    moments = group_means(np.stack([np.abs(p1), p1 ** 2]), groups, T.size)
    fluctuation = (moments[1] - moments[0] ** 2) / T
    uniformity = float(abs(pca.components_[0].sum()) / np.sqrt(n_spins))
    log.info("PCA: explained variance ratio of the first components %s, |cos(w1, uniform)| = %.4f",
             np.array2string(pca.explained_variance_ratio_[:3], precision=4), uniformity)
    return PCAResult(explained_variance_ratio=pca.explained_variance_ratio_, components=pca.components_,
                     projections=projections, T=T, abs_p1=moments[0] / np.sqrt(n_spins),
                     fluctuation=fluctuation, tc_estimate=parabolic_peak(T, fluctuation), uniformity=uniformity)


def confusion_guesses(T_min: float, T_max: float, n_guesses: int) -> np.ndarray:
    """``n_guesses`` equally spaced guesses of T_c from half a spacing below ``T_min`` to half above ``T_max``.

    The first and the last guess put every sample in one class, which makes the trivial ends of the W.
    """
    spacing = (T_max - T_min) / (n_guesses - 2)
    return T_min - spacing / 2 + spacing * np.arange(n_guesses)


@dataclass(frozen=True)
class ConfusionResult:
    """guesses : (k,) guessed T_c'. accuracy : (k,) test accuracy per guess. trivial : (k,) bool, one class
    only (accuracy 1 by construction, no training). tc_estimate : float, the middle peak of the W."""

    guesses: np.ndarray
    accuracy: np.ndarray
    trivial: np.ndarray
    tc_estimate: float


def learning_by_confusion(guesses: np.ndarray, T_train: np.ndarray, T_test: np.ndarray,
                          train_and_score: Callable[[int, np.ndarray, np.ndarray], float]) -> ConfusionResult:
    """Scan the guesses; ``train_and_score(k, y_train, y_test) -> accuracy`` trains a fresh classifier on the
    labels of guess ``k`` (1 = ordered = T < T') and returns its test accuracy.

    The estimate is the middle peak of the W: the guess whose accuracy rises furthest above the deeper of
    the lowest accuracies on its left and on its right (its topographic prominence), refined by a parabola
    through it and its neighbours; NaN when no guess rises above both sides.
    """
    accuracy, trivial = np.empty(guesses.size), np.zeros(guesses.size, bool)
    for k, guess in enumerate(guesses):
        y_train, y_test = (T_train < guess).astype(np.int64), (T_test < guess).astype(np.int64)
        if np.unique(y_train).size < 2:
            trivial[k], accuracy[k] = True, float(np.mean(y_test == y_train[0]))
        else:
            accuracy[k] = train_and_score(k, y_train, y_test)
        log.info("confusion: guess T' = %.3f -> test accuracy %.4f%s", guess, accuracy[k],
                 " (one class)" if trivial[k] else "")
    estimate = float("nan")
    left_low = np.minimum.accumulate(accuracy)
    right_low = np.minimum.accumulate(accuracy[::-1])[::-1]
    prominence = accuracy[1:-1] - np.maximum(left_low[:-2], right_low[2:])  # for guesses 1 .. k-2
    if prominence.size and prominence.max() > 0:
        peak = 1 + int(np.argmax(prominence))
        estimate = parabolic_peak(guesses[peak - 1:peak + 2], accuracy[peak - 1:peak + 2])
    if not np.isfinite(estimate):
        log.warning("confusion: no W shape found (need a dip on each side of a peak); no estimate")
    return ConfusionResult(guesses=guesses, accuracy=accuracy, trivial=trivial, tc_estimate=estimate)
