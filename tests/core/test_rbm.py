"""Restricted Boltzmann machine: free energy, partition function and likelihood gradient against brute force, the
CD-k / PCD estimators against the exact gradient, training on a distribution with a known answer, AIS against the
exact log Z, sampling against the enumerated model distribution, bad input and reproducibility."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import chi2

from core._validation import InvalidParameterError
from core.rbm import RBM, AISEstimate, spins_to_visible, visible_to_spins
from tests.core.gradcheck import RTOL, numerical_gradient, relative_error


def all_states(n: int) -> np.ndarray:
    """All 2^n binary rows (2^n, n), float64."""
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def random_rbm(n_visible, n_hidden, scale=1.0, seed=0, **kwargs) -> RBM:
    """An RBM with W ~ scale * N(0, 1), biases ~ 0.5 * N(0, 1)."""
    rng = np.random.default_rng(seed)
    rbm = RBM(n_visible, n_hidden, random_state=seed, **kwargs)
    return rbm.set_weights(scale * rng.standard_normal((n_visible, n_hidden)), 0.5 * rng.standard_normal(n_visible),
                           0.5 * rng.standard_normal(n_hidden))


def energy(rbm: RBM, v: np.ndarray, h: np.ndarray) -> float:
    """E(v, h) = -a.v - b.h - v^T W h, straight from the definition."""
    return float(-rbm.a_ @ v - rbm.b_ @ h - v @ rbm.W_ @ h)


def flat(grads: dict) -> np.ndarray:
    return np.concatenate([grads[name].ravel() for name in ("W", "a", "b")])


def exact_distribution(rbm: RBM, states: np.ndarray) -> np.ndarray:
    """p(v) for every row of ``states`` (all 2^n_visible configurations)."""
    return np.exp(rbm.log_probability_exact(states))


# ------------------------------------------------------------------------------------- 1, 2: brute force
def test_free_energy_and_conditionals_match_brute_force():
    rbm = random_rbm(5, 3, seed=1)
    V, H = all_states(5), all_states(3)
    brute = np.array([-logsumexp([-energy(rbm, v, h) for h in H]) for v in V])
    np.testing.assert_allclose(rbm.free_energy(V), brute, rtol=1e-12, atol=1e-12)
    # p(h_j = 1 | v) and p(v_i = 1 | h) from the joint Boltzmann weights
    joint = np.exp([[-energy(rbm, v, h) for h in H] for v in V])          # (32, 8)
    p_h_given_v = (joint @ H) / joint.sum(axis=1, keepdims=True)
    p_v_given_h = (joint.T @ V) / joint.sum(axis=0)[:, None]
    np.testing.assert_allclose(rbm.hidden_probabilities(V), p_h_given_v, rtol=1e-12)
    np.testing.assert_allclose(rbm.visible_probabilities(H), p_v_given_h, rtol=1e-12)


def test_log_partition_exact_matches_brute_force_over_both_layers():
    rbm = random_rbm(5, 3, seed=2)
    V, H = all_states(5), all_states(3)
    brute = logsumexp([-energy(rbm, v, h) for v in V for h in H])
    for over in ("auto", "visible", "hidden"):
        assert rbm.log_partition_exact(over) == pytest.approx(brute, rel=1e-13)
    np.testing.assert_allclose(exact_distribution(rbm, V).sum(), 1.0, rtol=1e-13)
    # a layout where the visible layer is the smaller one: "auto" enumerates it
    wide = random_rbm(3, 6, seed=3)
    brute = logsumexp([-energy(wide, v, h) for v in all_states(3) for h in all_states(6)])
    assert wide.log_partition_exact() == pytest.approx(brute, rel=1e-13)
    assert wide.log_partition_exact("hidden") == pytest.approx(brute, rel=1e-13)


def test_pseudo_log_likelihood_matches_conditionals_of_exact_free_energy():
    rbm = random_rbm(5, 3, seed=4)
    V = all_states(5)[::3]
    expected = 0.0
    for v in V:
        for i in range(5):
            w = v.copy()
            w[i] = 1 - w[i]
            f_v, f_w = rbm.free_energy(np.stack([v, w]))
            expected += -np.logaddexp(0.0, f_v - f_w)       # log p(v_i | v_-i) = log e^-F(v) / (e^-F(v) + e^-F(w))
    assert rbm.pseudo_log_likelihood(V) == pytest.approx(expected / len(V), rel=1e-12)


# ---------------------------------------------------------------------------- 3: exact gradient vs FD
@pytest.mark.parametrize("over", ["visible", "hidden"])
def test_exact_log_likelihood_gradient_matches_finite_differences(over):
    # Tolerance as in gradcheck.py: eps = 1e-6 central differences of an O(1) float64 objective are accurate to
    # ~1e-9 relative (truncation eps^2, rounding 1e-16/eps); a wrong term (sign, missing data or model part,
    # transposed W) is off by O(1). RTOL = 1e-6 separates the two.
    rbm = random_rbm(5, 4, seed=5)
    data = (np.random.default_rng(6).random((30, 5)) < 0.4).astype(float)
    analytic = rbm.log_likelihood_gradient_exact(data, over=over)
    for name, array in (("W", rbm.W_), ("a", rbm.a_), ("b", rbm.b_)):
        numeric = numerical_gradient(lambda: rbm.log_likelihood_exact(data), array)
        assert relative_error(analytic[name], numeric) < RTOL, name


# ------------------------------------------------------------------------------ 4: the CD / PCD estimators
def test_gradients_are_the_documented_estimator():
    rbm = random_rbm(6, 4, seed=7, k=3)
    data = (np.random.default_rng(8).random((50, 6)) < 0.5).astype(float)
    P = rbm.hidden_probabilities(data)

    def estimator(chains):
        Q = rbm.hidden_probabilities(chains)
        return {"W": data.T @ P / len(data) - chains.T @ Q / len(chains),
                "a": data.mean(0) - chains.mean(0), "b": P.mean(0) - Q.mean(0)}

    # CD-k: the chains are k Gibbs steps from the data, the same draws as gibbs() with the same seed
    chains = rbm.gibbs(data, 3, random_state=11)
    np.testing.assert_allclose(flat(rbm.gradients(data, random_state=11)), flat(estimator(chains)), rtol=1e-12)
    # PCD: the negative phase is the state stored in chains_ after the call
    rbm.set_params(persistent=True, n_chains=17)
    rbm.gradients(data, random_state=12)
    assert rbm.chains_.shape == (17, 6)
    grads = rbm.gradients(data, random_state=13)
    np.testing.assert_allclose(flat(grads), flat(estimator(rbm.chains_)), rtol=1e-12)


def z_scores(estimates: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|mean - exact| / standard error of the mean, per component, from independent estimates (rows)."""
    return np.abs(estimates.mean(0) - exact) / (estimates.std(0, ddof=1) / math.sqrt(len(estimates)))


# 19 components (4x3 + 4 + 3) are tested at once: at 5 sigma the chance that an unbiased estimator fails anywhere
# is below 19 * 2 * P(t_39 > 5) ~ 5e-4, while a wrong negative phase is off by tens of sigma (CD-1 below).
Z_MAX = 5.0


def test_cd_with_many_gibbs_steps_is_unbiased_and_cd1_is_not():
    # Strong couplings (W ~ N(0, 1.5^2)) so that one Gibbs step is far from equilibrium; 200 steps are many
    # mixing times of this 4 x 3 machine. 40 calls x 500 chains.
    rbm = random_rbm(4, 3, scale=1.5, seed=9)
    data = np.tile(all_states(4)[[0, 5, 10, 15]], (125, 1))
    exact = flat(rbm.log_likelihood_gradient_exact(data))
    for k, expect_unbiased in ((200, True), (1, False)):
        rbm.set_params(k=k)
        estimates = np.array([flat(rbm.gradients(data, random_state=s)) for s in range(40)])
        z = z_scores(estimates, exact)
        assert (z.max() < Z_MAX) == expect_unbiased, (k, z.max())


def test_pcd_chains_sample_the_model_and_give_the_exact_gradient():
    # Parameters fixed: the persistent chains are a Markov chain with the model as its stationary law. Successive
    # calls (k = 1 step apart) are correlated, so the standard error comes from means over blocks of 10 calls
    # (10 steps is many mixing times here: neighbouring blocks are nearly independent).
    rbm = random_rbm(4, 3, scale=1.0, seed=10, k=1, persistent=True, n_chains=2000)
    data = np.tile(all_states(4)[[1, 6, 11, 12]], (25, 1))
    exact = flat(rbm.log_likelihood_gradient_exact(data))
    rng = np.random.default_rng(14)
    for _ in range(20):  # burn-in
        rbm.gradients(data, random_state=rng)
    calls = np.array([flat(rbm.gradients(data, random_state=rng)) for _ in range(200)])
    blocks = calls.reshape(20, 10, -1).mean(axis=1)
    assert z_scores(blocks, exact).max() < Z_MAX


def test_cd1_points_along_the_exact_gradient_for_weak_couplings():
    # For a weakly coupled machine (|W| ~ 0.3, as early in training) one Gibbs step forgets most of its start:
    # CD-k's bias <.>_{p_k} - <.>_model shrinks like lambda^k with lambda = O(|W|^2) the mixing rate of the Gibbs
    # chain, while the gradient itself is O(1) because the data (two noisy prototypes) differ from the model. So
    # the expected CD-1 direction must stay close to the exact one: cosine > 0.9 (measured 0.999). Averaging 20
    # calls over 2000 rows puts the sampling noise at ~0.003 per component, far below the gradient's components.
    rbm = random_rbm(6, 4, scale=0.3, seed=15)
    data = prototype_data(2000, seed=16)
    exact = flat(rbm.log_likelihood_gradient_exact(data))
    mean_cd1 = np.mean([flat(rbm.gradients(data, random_state=s)) for s in range(20)], axis=0)
    cosine = exact @ mean_cd1 / (np.linalg.norm(exact) * np.linalg.norm(mean_cd1))
    assert cosine > 0.9
    large = np.abs(exact) > 0.2 * np.abs(exact).max()
    assert np.all(np.sign(mean_cd1[large]) == np.sign(exact[large]))


# ------------------------------------------------------------------------------- 5: a known distribution
PROTOTYPES = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], dtype=float)
FLIP = 0.1


def prototype_probabilities(states: np.ndarray) -> np.ndarray:
    """q(v) = 1/2 sum_c prod_i FLIP^[v_i != c_i] (1 - FLIP)^[v_i == c_i]: two prototypes with bit-flip noise."""
    distance = np.abs(states[:, None, :] - PROTOTYPES[None]).sum(axis=2)
    return 0.5 * (FLIP ** distance * (1 - FLIP) ** (6 - distance)).sum(axis=1)


def prototype_data(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    clean = PROTOTYPES[rng.integers(0, 2, n)]
    return np.abs(clean - (rng.random(clean.shape) < FLIP))


@pytest.mark.parametrize("settings", [
    dict(k=1, optimizer="adam", learning_rate=0.005, epochs=80),                      # CD-1
    dict(k=1, persistent=True, n_chains=500, optimizer="sgd", learning_rate=0.05, epochs=60),  # PCD-1
], ids=["cd1-adam", "pcd1-sgd"])
def test_training_recovers_a_known_distribution(settings):
    # q is a mixture of two product distributions, which an RBM represents exactly (one hidden unit already
    # suffices), so the only error left is the finite sample (N = 2000: KL ~ (#free states)/(2N) ~ 0.02 for the
    # empirical distribution itself) and the optimisation. Measured: KL 0.013 (CD-1), 0.010 (PCD) from 1.54 at
    # initialisation; mean training log-likelihood -2.688 vs the empirical bound -H_emp = -2.664.
    states = all_states(6)
    q = prototype_probabilities(states)
    data = prototype_data(2000, seed=0)
    rbm = RBM(6, 4, batch_size=64, random_state=0, **settings)

    def kl() -> float:
        return float(np.sum(q * (np.log(q) - rbm.log_probability_exact(states))))

    rbm.initialize(data)  # the starting point of fit (same random_state)
    kl_initial = kl()
    rbm.fit(data)
    kl_final = kl()
    assert kl_final < 0.05 and kl_final < kl_initial / 20, (kl_initial, kl_final)
    counts = np.unique(data, axis=0, return_counts=True)[1] / len(data)
    empirical_entropy = -np.sum(counts * np.log(counts))
    ll = rbm.history_.log_likelihood
    assert ll[-1] == pytest.approx(rbm.log_likelihood_exact(data), rel=1e-12)
    assert -empirical_entropy - 0.05 < ll[-1] <= -empirical_entropy  # the empirical entropy bounds it from above
    assert ll[-1] > ll[0] and rbm.history_.epoch == list(range(1, settings["epochs"] + 1))
    assert rbm.history_.reconstruction_error[-1] < rbm.history_.reconstruction_error[0]


# ------------------------------------------------------------------------------------------------- 6: AIS
def test_ais_log_partition_agrees_with_exact_value():
    # 12 visible, 8 hidden, W ~ N(0, 0.5^2): log Z ~ 14, enumerable over the 2^8 hidden states. Measured errors
    # were within 1.3 standard errors (SE ~ 0.003) for 5 seeds; the test asks 3 SE for 3 seeds, each seed a
    # deterministic check, and also an SE small enough for the comparison to mean something.
    rbm = random_rbm(12, 8, scale=0.5, seed=1)
    exact = rbm.log_partition_exact()
    for seed in range(3):
        estimate = rbm.log_partition_ais(random_state=seed)
        assert isinstance(estimate, AISEstimate)
        log_z, se = estimate
        assert 0 < se < 0.05 and abs(log_z - exact) < 3 * se, (seed, log_z, exact, se)
    data_rates = np.clip(np.random.default_rng(2).random(12), 0.1, 0.9)
    log_z, se = rbm.log_partition_ais(n_chains=200, base_visible_bias=np.log(data_rates / (1 - data_rates)),
                                      random_state=3)
    assert abs(log_z - exact) < 3 * se


# ---------------------------------------------------------------------------------------------- 7: sampling
def total_variation(samples: np.ndarray, p: np.ndarray) -> tuple[float, np.ndarray]:
    index = samples.astype(int) @ (1 << np.arange(samples.shape[1])[::-1])   # row of all_states()
    counts = np.bincount(index, minlength=len(p))
    return 0.5 * float(np.abs(counts / len(samples) - p).sum()), counts


def test_sample_reproduces_the_exact_distribution():
    # 16 states, N = 20000 independent samples: E[TV] <= 1/2 sqrt(2/(pi N)) sum_v sqrt(p_v) <= 0.011 with a spread
    # of ~0.002, so TV < 0.025 fails only for a wrong sampler; the chi-square test (15 dof) at p > 1e-3 likewise.
    rbm = random_rbm(4, 3, scale=1.0, seed=17)
    p = exact_distribution(rbm, all_states(4))
    samples = rbm.sample(20000, n_steps=100, random_state=18)
    assert samples.shape == (20000, 4) and set(np.unique(samples)) <= {0.0, 1.0}
    tv, counts = total_variation(samples, p)
    statistic = np.sum((counts - 20000 * p) ** 2 / (20000 * p))
    assert tv < 0.025 and chi2.sf(statistic, df=15) > 1e-3, (tv, statistic)
    # fewer chains, thinned, started at data: correlated samples (effective N smaller), looser bound
    start = np.tile(all_states(4)[[0]], (5, 1))
    thinned = rbm.sample(20000, n_steps=50, n_chains=400, thin=5, init=start, random_state=19)
    assert total_variation(thinned, p)[0] < 0.03


# ------------------------------------------------------------------------------------------ 8: bad input
@pytest.mark.parametrize("name, value", [
    ("n_visible", 0), ("n_hidden", 0), ("n_hidden", 2.0), ("k", 0), ("persistent", "yes"), ("learning_rate", 0.0),
    ("learning_rate", -1.0), ("learning_rate", math.nan), ("batch_size", 0), ("epochs", 0), ("optimizer", "lbfgs"),
    ("weight_decay", -0.1), ("n_chains", 0), ("init_scale", 0.0), ("random_state", -1), ("dtype", "int8"),
])
def test_bad_constructor_parameter_is_named(name, value):
    kwargs = {"n_visible": 4, "n_hidden": 3, name: value}
    n_visible, n_hidden = kwargs.pop("n_visible"), kwargs.pop("n_hidden")
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of RBM must be"):
        RBM(n_visible, n_hidden, **kwargs)
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of RBM must be"):
        RBM(4, 3).set_params(**{name: value})


@pytest.mark.parametrize("V, match", [
    (np.array([[1.0, -1.0, 1.0, -1.0]]), r"0/1 values.*\{-1, 1\}.*spins_to_visible"),
    (np.array([[0.0, 0.5, 1.0, 1.0]]), r"0/1 values.*0\.5"),
    (np.array([[0.0, np.nan, 1.0, 1.0]]), r"0/1 values.*non-finite"),
    (np.zeros((3, 5)), r"n_visible=4.*shape \(3, 5\)"),
    (np.zeros(4), r"shape \(4,\).*reshape\(1, -1\)"),
    (np.zeros((0, 4)), r"n_visible=4"),
    (np.array([["a", "b", "c", "d"]]), r"dtype <U1"),
])
def test_bad_data_is_refused_before_any_work(V, match):
    rbm = RBM(4, 3, random_state=0)
    with pytest.raises(InvalidParameterError, match=r"'V' parameter of RBM\.fit must be .*" + match):
        rbm.fit(V)
    assert rbm.W_ is None and rbm.history_.epoch == []
    with pytest.raises(InvalidParameterError, match=r"'V' parameter of RBM\.free_energy"):
        random_rbm(4, 3).free_energy(V)


def test_other_bad_arguments():
    rbm = random_rbm(4, 3)
    with pytest.raises(RuntimeError, match="call fit"):
        RBM(4, 3).free_energy(np.zeros((1, 4)))
    with pytest.raises(InvalidParameterError, match="'H' parameter of RBM.visible_probabilities.*values in"):
        rbm.visible_probabilities(np.full((2, 3), 1.5))
    rbm.hidden_probabilities(np.full((2, 4), 0.3))  # mean-field input in [0, 1] is fine here
    with pytest.raises(InvalidParameterError, match="'steps' parameter of RBM.gibbs"):
        rbm.gibbs(np.zeros((1, 4)), 0)
    for kwargs, name in (({"n_samples": 0}, "n_samples"), ({"n_samples": 5, "n_steps": 0}, "n_steps"),
                         ({"n_samples": 5, "thin": 0}, "thin"), ({"n_samples": 5, "init": "zeros"}, "init"),
                         ({"n_samples": 5, "init": np.ones((2, 3))}, "init"),
                         ({"n_samples": 5, "random_state": "x"}, "random_state")):
        with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of RBM.sample"):
            rbm.sample(**kwargs)
    with pytest.raises(InvalidParameterError, match="'n_chains' parameter of RBM.log_partition_ais"):
        rbm.log_partition_ais(n_chains=1)
    with pytest.raises(InvalidParameterError, match="'base_visible_bias'"):
        rbm.log_partition_ais(base_visible_bias=np.zeros(3))
    with pytest.raises(InvalidParameterError, match=r"'W' parameter of RBM.set_weights.*\(4, 3\)"):
        RBM(4, 3).set_weights(np.zeros((3, 4)), np.zeros(4), np.zeros(3))
    with pytest.raises(InvalidParameterError, match="'over' parameter"):
        rbm.log_partition_exact("both")
    with pytest.raises(InvalidParameterError, match="no parameter 'alpha'"):
        rbm.set_params(alpha=1)
    with pytest.raises(InvalidParameterError, match="'progress' parameter of RBM.fit"):
        RBM(4, 3).fit(np.zeros((2, 4)), progress="yes")


def test_exact_methods_refuse_large_models_before_any_work():
    big = RBM(30, 25)  # no parameters: the size check comes first
    for method in (big.log_partition_exact, lambda: big.log_likelihood_exact(np.zeros((1, 30))),
                   lambda: big.log_likelihood_gradient_exact(np.zeros((1, 30))),
                   lambda: big.log_probability_exact(np.zeros((1, 30)))):
        with pytest.raises(ValueError, match=r"n_visible=30 and n_hidden=25: more visible units than enumeration "
                                             r"allows.*log_partition_ais.*n_hidden <= 20"):
            method()
    tall = random_rbm(22, 3)  # enumerable over its hidden layer only
    assert math.isfinite(tall.log_partition_exact())
    with pytest.raises(ValueError, match=r"2\^22 states.*n_visible=22.*log_partition_ais"):
        tall.log_partition_exact("visible")


def test_spin_conversion():
    spins = np.array([[-1, 1, 1], [1, -1, -1]])
    visible = spins_to_visible(spins)
    np.testing.assert_array_equal(visible, [[0, 1, 1], [1, 0, 0]])
    np.testing.assert_array_equal(visible_to_spins(visible), spins)
    with pytest.raises(InvalidParameterError, match="'spins' parameter of spins_to_visible.*-1/\\+1"):
        spins_to_visible(visible)
    with pytest.raises(InvalidParameterError, match="'visible' parameter of visible_to_spins"):
        visible_to_spins(spins)


# -------------------------------------------------------------------------- divergence and reproducibility
def test_divergence_raises_floating_point_error_naming_the_epoch():
    data = prototype_data(200, seed=1)
    wide = np.tile(data, (1, 4))  # 24 visible, 20 hidden: no exact likelihood, the parameter check fires
    with pytest.raises(FloatingPointError, match=r"diverged at epoch 1, batch \d+: non-finite parameters.*"
                                                 r"learning_rate") as info:
        # (momentum: plain SGD stalls at |W| ~ 1e308, finite, once the saturated units stop the gradient)
        RBM(24, 20, learning_rate=1e308, optimizer="momentum", random_state=0).fit(wide)
    assert info.value.epoch == 1
    with pytest.raises(FloatingPointError, match="diverged at epoch 1: exact log-likelihood"):
        RBM(6, 3, learning_rate=1e308, random_state=0).fit(data)


@pytest.mark.parametrize("persistent", [False, True])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_same_random_state_gives_bit_identical_results(persistent, dtype):
    data = prototype_data(300, seed=2)

    def run(seed):
        rbm = RBM(6, 4, k=2, persistent=persistent, epochs=3, batch_size=32, optimizer="momentum",
                  random_state=seed, dtype=dtype).fit(data)
        return rbm, rbm.sample(50, n_steps=20, random_state=5), rbm.sample(50, n_steps=20)

    first, second, other = run(3), run(3), run(4)
    for x, y in zip((*first[0].get_weights(), *first[1:]), (*second[0].get_weights(), *second[1:])):
        assert x.dtype == np.dtype(dtype) and np.array_equal(x, y)
    assert first[0].history_ == second[0].history_
    assert not np.array_equal(first[0].W_, other[0].W_)
    refit = first[0].fit(data)  # fit restarts from random_state: the same result again
    assert np.array_equal(refit.W_, second[0].W_)


def test_partial_fit_continues_training():
    data = prototype_data(200, seed=3)
    rbm = RBM(6, 4, learning_rate=0.05, random_state=0, persistent=True)
    rbm.partial_fit(data).partial_fit(data)
    assert rbm.history_.epoch == [1, 2] and rbm.n_iter_ == 2 * math.ceil(200 / 64)
    assert rbm.chains_.shape == (64, 6)
    fitted = RBM(6, 4, learning_rate=0.05, random_state=0, persistent=True, epochs=2).fit(data)
    assert np.array_equal(fitted.W_, rbm.W_)  # two partial_fit epochs = fit with epochs=2


def test_weight_decay_shrinks_weights_and_progress_bar_runs():
    data = prototype_data(300, seed=4)
    plain = RBM(6, 4, epochs=20, learning_rate=0.05, random_state=0).fit(data, progress=True)
    decayed = RBM(6, 4, epochs=20, learning_rate=0.05, weight_decay=1.0, random_state=0).fit(data)
    assert np.linalg.norm(decayed.W_) < 0.5 * np.linalg.norm(plain.W_)
    assert [p.name for p in decayed.parameters()] == ["W", "a", "b"]
    assert [p.decay for p in decayed.parameters()] == [True, False, False]
