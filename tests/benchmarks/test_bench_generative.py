"""The generative benchmark compares like with like: the scikit-learn RBM given core's weights has core's conditional
probabilities and Gibbs steps, the RBM benchmark configuration computes no exact log-likelihoods, and the
scikit-learn MLP reference runs exactly the epochs asked for (like fit_autoencoder).
(Speed itself is measured by `python benchmarks/bench_generative.py`, never by a test.)"""

import numpy as np
import pytest

from benchmarks.bench_generative import (
    N_HIDDEN,
    N_VISIBLE,
    core_autoencoder,
    core_rbm,
    fit_core_autoencoder,
    fit_sklearn,
    ising_like_spins,
    sklearn_gibbs,
    sklearn_mlp,
    sklearn_rbm,
    sklearn_rbm_with_weights,
)
from core.rbm import RBM, spins_to_visible


class FixedUniform:
    """A stand-in for scikit-learn's RandomState: ``uniform(size)`` returns the given numbers."""

    def __init__(self, u):
        self.u = u

    def uniform(self, size):
        assert size == self.u.shape
        return self.u


def random_rbm(seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    return core_rbm(1).set_weights(scale * rng.standard_normal((N_VISIBLE, N_HIDDEN)),
                                   rng.standard_normal(N_VISIBLE), rng.standard_normal(N_HIDDEN))


def test_data_are_float64_spins_of_64_units():
    spins = ising_like_spins(300)
    assert spins.shape == (300, N_VISIBLE) and spins.dtype == np.float64
    assert set(np.unique(spins)) == {-1.0, 1.0}
    assert np.abs(spins.mean(axis=1)).mean() > 0.5  # ordered-like
    np.testing.assert_array_equal(ising_like_spins(300), spins)  # seeded


def test_sklearn_rbm_with_core_weights_has_the_core_conditional_probabilities():
    core = random_rbm()
    reference = sklearn_rbm_with_weights(core)
    rng = np.random.default_rng(1)
    V = (rng.random((50, N_VISIBLE)) < 0.5).astype(np.float64)
    H = (rng.random((50, N_HIDDEN)) < 0.5).astype(np.float64)
    p_hidden = core.hidden_probabilities(V)
    np.testing.assert_allclose(reference.transform(V), p_hidden, rtol=1e-12, atol=1e-15)
    # sklearn's samples are uniform < p: with fixed uniforms they give p exactly where the uniforms sit
    p_visible = core.visible_probabilities(H)
    for p, sample in ((p_hidden, lambda u: reference._sample_hiddens(V, FixedUniform(u))),
                      (p_visible, lambda u: reference._sample_visibles(H, FixedUniform(u)))):
        for _ in range(3):
            u = rng.random(p.shape)
            np.testing.assert_array_equal(sample(u), u < p)
        np.testing.assert_array_equal(sample(p - 1e-12), np.ones(p.shape, bool))
        np.testing.assert_array_equal(sample(p + 1e-12), np.zeros(p.shape, bool))


def test_sklearn_gibbs_with_core_weights_matches_core_when_deterministic():
    # W = +-60, biases +-30: every pre-activation is 60 * integer +- 30, |x| >= 30, p within 1e-13 of 0 or 1
    rng = np.random.default_rng(2)
    core = core_rbm(1).set_weights(60.0 * rng.choice([-1.0, 1.0], (N_VISIBLE, N_HIDDEN)),
                                   30.0 * rng.choice([-1.0, 1.0], N_VISIBLE), 30.0 * rng.choice([-1.0, 1.0], N_HIDDEN))
    V0 = (np.random.default_rng(3).random((20, N_VISIBLE)) < 0.5).astype(np.float64)
    expected = core.gibbs(V0, 5, random_state=0)
    assert 0 < expected.mean() < 1
    np.testing.assert_array_equal(sklearn_gibbs(sklearn_rbm_with_weights(core), V0, 5), expected)


def test_rbm_settings_match_and_core_computes_no_exact_log_likelihood(monkeypatch):
    core, reference = core_rbm(2), sklearn_rbm(2)
    assert core.n_hidden == reference.n_components and core.batch_size == reference.batch_size
    assert core.learning_rate == reference.learning_rate and core.epochs == reference.n_iter == 2
    assert core.k == 1 and not core.persistent and core.optimizer == "sgd" and core.weight_decay == 0

    def forbidden(*args, **kwargs):
        raise AssertionError("exact log-likelihood computed")

    monkeypatch.setattr(RBM, "_log_likelihood", forbidden)
    core.fit(spins_to_visible(ising_like_spins(200)))
    assert len(core.history_.epoch) == 2 and np.isnan(core.history_.log_likelihood).all()


@pytest.mark.parametrize("epochs", [1, 2])
def test_sklearn_mlp_reference_runs_exactly_the_epochs_asked_for(epochs):
    X = ising_like_spins(150)
    reference = fit_sklearn(sklearn_mlp(epochs), X, X)
    assert reference.n_iter_ == epochs and len(reference.loss_curve_) == epochs
    assert [w.shape for w in reference.coefs_] == [(64, 64), (64, 2), (2, 64), (64, 64)]
    assert reference.coefs_[0].dtype == np.float64


@pytest.mark.parametrize("variational", [False, True])
def test_core_autoencoders_are_float64_and_train_one_epoch(variational):
    X = ising_like_spins(150)
    model = core_autoencoder(variational)
    assert all(p.value.dtype == np.float64 for p in model.parameters())
    fitted = fit_core_autoencoder(variational, X, 1)
    assert all(p.value.dtype == np.float64 for p in fitted.parameters())
    # same seed, same initial weights; one epoch moves them
    assert any(not np.allclose(a.value, b.value) for a, b in zip(model.parameters(), fitted.parameters()))
