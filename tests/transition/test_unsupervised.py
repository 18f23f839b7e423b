"""PCA and learning by confusion on synthetic data with a known answer."""
import numpy as np
import pytest

from physics.transition.unsupervised import confusion_guesses, learning_by_confusion, pca_analysis


def test_guesses_bracket_the_range():
    guesses = confusion_guesses(1.0, 3.5, 15)
    assert guesses[0] < 1.0 and guesses[-1] > 3.5
    assert np.allclose(np.diff(guesses), 2.5 / 13)


def test_confusion_finds_the_middle_peak_of_a_w():
    """A scorer whose accuracy is the W of van Nieuwenburg et al.: 1 at the ends, dips, peak at T_c = 2.3."""
    T = np.repeat(np.linspace(1.0, 3.5, 26), 4)
    guesses = confusion_guesses(1.0, 3.5, 15)

    def score(k, y_train, y_test):
        g = guesses[k]
        return 1.0 - 0.3 * np.sin(np.pi * np.clip((g - 1.0) / 1.3, 0, 1)) - 0.3 * np.sin(
            np.pi * np.clip((g - 2.3) / 1.2, 0, 1))

    result = learning_by_confusion(guesses, T, T, score)
    assert result.trivial[0] and result.trivial[-1]
    assert not result.trivial[1:-1].any()
    assert result.accuracy[0] == result.accuracy[-1] == 1.0
    assert result.tc_estimate == pytest.approx(2.3, abs=0.05)  # the parabola through the grid points near the kink


def test_confusion_without_a_w_gives_nan():
    T = np.repeat(np.linspace(1.0, 3.5, 26), 4)
    guesses = confusion_guesses(1.0, 3.5, 7)
    result = learning_by_confusion(guesses, T, T, lambda k, a, b: 0.8)  # flat: no peak between dips
    assert np.isnan(result.tc_estimate)


def test_pca_leading_component_is_uniform_for_ordered_and_disordered_configurations():
    rng = np.random.default_rng(0)
    n, N = 200, 64
    ordered = np.where(rng.random((n, N)) < 0.95, 1.0, -1.0) * rng.choice([-1.0, 1.0], (n, 1))
    disordered = rng.choice([-1.0, 1.0], (n, N))
    X = np.concatenate([ordered, disordered]).astype(np.float32)
    T = np.array([1.0, 3.0])
    result = pca_analysis(X, T, np.repeat([0, 1], n), 3, seed=0)
    assert result.uniformity > 0.99
    # <|p1|>/sqrt(N) is <|m|>: 0.9 for the ordered set, ~ sqrt(2/(pi N)) = 0.1 for the disordered one
    assert result.abs_p1[0] == pytest.approx(0.9, abs=0.02)
    assert result.abs_p1[1] == pytest.approx(0.1, abs=0.03)
