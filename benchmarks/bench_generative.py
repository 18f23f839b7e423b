"""Training and sampling cost of the generative models of core (RBM, autoencoder, VAE) on Ising-like binary data,
against scikit-learn references doing comparable work, measured in the same run.

    python benchmarks/bench_generative.py            # 10 epochs per fit (~15 s on 2 cores)
    python benchmarks/bench_generative.py --quick    # 3 epochs, fewer repeats, for a smoke test (~5 s)
    python benchmarks/bench_generative.py --epochs 20 --threads 2  # other epochs / BLAS threads

Data: 2,000 configurations of an 8 x 8 lattice (64 units), Ising-like: each is one of two ordered prototypes (all
spins +1 or all -1, chosen with probability 1/2) with every spin flipped independently with probability 0.15
(seeded; no Monte Carlo). float64 throughout: spins s = +-1 for the autoencoders, visible units v = (s + 1) / 2
(``core.rbm.spins_to_visible``) for the RBMs. BLAS runs on one thread by default (threadpoolctl, ``--threads``),
printed with the machine. The implementations take turns, repeat after repeat, in a rotating order (one untimed
warm-up call each first), so that the load of a shared machine hits them alike; every time is the median over the
repeats.

Tables:
1. RBM training, 64 visible x 64 hidden, batch 64, plain SGD at learning rate 0.05: ``core.rbm.RBM(64, 64, k=1,
   batch_size=64, optimizer="sgd", learning_rate=0.05, epochs=E)`` (CD-1) against scikit-learn's ``BernoulliRBM(
   n_components=64, batch_size=64, learning_rate=0.05, n_iter=E)``, which does PCD-1 (persistent chains; it has no
   CD). The per-minibatch work is the same: one block-Gibbs step (v -> h -> v -> h) and a rank-64 update; core
   additionally records the reconstruction error of every minibatch (one more (64, 64) product). With n_hidden = 64
   > 16 core does not compute the exact log-likelihood per epoch (checked: ``history_.log_likelihood`` is NaN).
   One row = one ``fit`` of E epochs divided by E (initialisation included); "scikit-learn / row" > 1: the row is
   faster.
2. Sampling: 1,000 chains x 100 block-Gibbs steps from random 0/1 states with the weights of the core RBM trained
   in table 1: ``RBM.gibbs(V0, 100)`` and ``RBM.sample(1000, n_steps=100)`` against ``BernoulliRBM.gibbs`` called
   100 times on a BernoulliRBM holding the same weights (``components_ = W.T``, ``intercept_visible_ = a``,
   ``intercept_hidden_ = b``: the same conditional probabilities, tested in tests/benchmarks).
3. Autoencoder training, one epoch (a fit of E epochs / E) of ``core.autoencoder.fit_autoencoder`` (Adam, lr 1e-3,
   batch 64) for ``autoencoder(64, (64,), 2, output="logits", spins=True)`` (binary cross-entropy on logits) and
   ``variational_autoencoder(64, (64,), 2, spins=True)`` (negative ELBO), both built in float64, against a
   shape-comparable reference: scikit-learn's ``MLPRegressor(hidden_layer_sizes=(64, 2, 64))`` (ReLU, Adam, lr
   1e-3, batch 64, alpha 0) fitting X -> X with the squared error for exactly E epochs. The reference has the same
   layer widths as the autoencoder (64 -> 64 -> 2 -> 64 -> 64) but a different loss and output (and the VAE has a
   4-wide encoder head and the reparametrisation): it sizes the work, it is not the same computation.
"""

from __future__ import annotations

import datetime
import os
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks._util import alternating_medians, epoch_arguments, format_table, machine_description  # noqa: E402
from core.autoencoder import autoencoder, fit_autoencoder, variational_autoencoder  # noqa: E402
from core.rbm import RBM, spins_to_visible  # noqa: E402

N_SAMPLES, SIDE = 2000, 8
N_VISIBLE = SIDE * SIDE
N_HIDDEN = 64
FLIP_PROBABILITY = 0.15
BATCH = 64
RBM_LEARNING_RATE = 0.05
AE_LEARNING_RATE = 1e-3
N_CHAINS, N_GIBBS_STEPS = 1000, 100


# -- data -------------------------------------------------------------------------------------------------------
def ising_like_spins(n: int = N_SAMPLES, seed: int = 0) -> np.ndarray:
    """(n, 64) float64 spins +-1: an ordered prototype (all +1 or all -1, probability 1/2 each) with every spin
    flipped independently with probability FLIP_PROBABILITY."""
    rng = np.random.default_rng(seed)
    sign = np.where(rng.random((n, 1)) < 0.5, 1.0, -1.0)
    flips = np.where(rng.random((n, N_VISIBLE)) < FLIP_PROBABILITY, -1.0, 1.0)
    return sign * flips


# -- the estimators ----------------------------------------------------------------------------------------------
def core_rbm(epochs: int, random_state: int = 0) -> RBM:
    return RBM(N_VISIBLE, N_HIDDEN, k=1, batch_size=BATCH, optimizer="sgd", learning_rate=RBM_LEARNING_RATE,
               epochs=epochs, random_state=random_state, dtype="float64")


def sklearn_rbm(epochs: int, random_state: int = 0):
    """scikit-learn's BernoulliRBM set up like :func:`core_rbm` (it trains by PCD-1)."""
    from sklearn.neural_network import BernoulliRBM

    return BernoulliRBM(n_components=N_HIDDEN, batch_size=BATCH, learning_rate=RBM_LEARNING_RATE, n_iter=epochs,
                        verbose=0, random_state=random_state)


def sklearn_rbm_with_weights(rbm: RBM, random_state: int = 0):
    """An unfitted-by-itself BernoulliRBM holding copies of the core RBM's parameters: components_ = W.T,
    intercept_hidden_ = b, intercept_visible_ = a (so its p(h|v), p(v|h) and Gibbs steps are the core RBM's)."""
    from sklearn.utils import check_random_state

    W, a, b = rbm.get_weights()
    model = sklearn_rbm(1, random_state)
    model.components_ = np.array(W.T, dtype=np.float64, order="C")
    model.intercept_hidden_ = np.array(b, dtype=np.float64)
    model.intercept_visible_ = np.array(a, dtype=np.float64)
    model.n_features_in_ = rbm.n_visible
    model.random_state_ = check_random_state(random_state)
    return model


def sklearn_gibbs(model, V, steps: int):
    """``steps`` calls of ``BernoulliRBM.gibbs``, each a full block-Gibbs step v -> h -> v."""
    for _ in range(steps):
        V = model.gibbs(V)
    return V


def core_autoencoder(variational: bool, seed: int = 0):
    """The autoencoder (BCE on logits) or VAE of the benchmark on spins, built in float64."""
    if variational:
        model = variational_autoencoder(N_VISIBLE, (64,), 2, spins=True)
    else:
        model = autoencoder(N_VISIBLE, (64,), 2, output="logits", spins=True)
    model.build((N_VISIBLE,), seed, "float64")
    return model


def fit_core_autoencoder(variational: bool, X, epochs: int, seed: int = 0):
    model = core_autoencoder(variational, seed)
    fit_autoencoder(model, X, epochs=epochs, batch_size=BATCH, optimizer="adam", learning_rate=AE_LEARNING_RATE,
                    random_state=seed)
    return model


def sklearn_mlp(epochs: int, random_state: int = 0):
    """scikit-learn's MLPRegressor 64 -> 64 -> 2 -> 64 -> 64 (ReLU, Adam, squared error); tol=0 and
    n_iter_no_change=epochs, so that it runs exactly ``epochs`` epochs (max_iter)."""
    from sklearn.neural_network import MLPRegressor

    return MLPRegressor(hidden_layer_sizes=(64, 2, 64), activation="relu", solver="adam", alpha=0.0,
                        batch_size=BATCH, learning_rate_init=AE_LEARNING_RATE, max_iter=epochs, tol=0.0,
                        n_iter_no_change=epochs, early_stopping=False, shuffle=True, random_state=random_state)


def fit_sklearn(model, X, y):
    """``model.fit(X, y)`` without the ConvergenceWarning of stopping at max_iter (the point here)."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


# -- measurement -------------------------------------------------------------------------------------------------
def main(argv=None) -> None:
    args = epoch_arguments(__doc__.split("\n\n")[0], 3, 10, argv)
    quick = args.quick
    epochs = args.epochs
    repeats = 3 if quick else 7

    print(machine_description())
    print(f"{datetime.datetime.now():%Y-%m-%d %H:%M}; load average at start: {os.getloadavg()[0]:.2f}; BLAS threads "
          f"limited to {args.threads} (threadpoolctl); {'quick' if quick else 'full'} run, {epochs} epochs per fit\n")

    spins = ising_like_spins()
    visible = spins_to_visible(spins)
    n = len(spins)
    print(f"Data: {n:,} Ising-like {SIDE}x{SIDE} configurations (2 ordered prototypes, spin flips p = "
          f"{FLIP_PROBABILITY}), float64; mean |magnetisation| {np.abs(spins.mean(axis=1)).mean():.2f}\n")

    # 1. RBM training
    trained = core_rbm(epochs).fit(visible)
    assert np.isnan(trained.history_.log_likelihood).all(), "core RBM computed exact log-likelihoods"
    print(f"1. RBM training {N_VISIBLE} x {N_HIDDEN}, batch {BATCH}, SGD lr {RBM_LEARNING_RATE}: core CD-1 vs "
          f"scikit-learn PCD-1 (one Gibbs step per minibatch each; core computes no exact log-likelihood) "
          f"(fit of {epochs} epochs / {epochs}; median of {repeats})")
    names = ("core RBM, CD-1", "scikit-learn BernoulliRBM, PCD-1")
    medians = alternating_medians({names[0]: lambda: core_rbm(epochs).fit(visible),
                                   names[1]: lambda: sklearn_rbm(epochs).fit(visible)}, repeats)
    reference = medians[names[1]] / epochs
    rows = [[name, f"{s / epochs:.4f}", f"{n * epochs / s:,.0f}", f"{reference / (s / epochs):.2f}"]
            for name, s in medians.items()]
    print(format_table(["implementation", "epoch s (median)", "samples/s", "scikit-learn / row"], rows), "\n")

    # 2. sampling
    V0 = (np.random.default_rng(1).random((N_CHAINS, N_VISIBLE)) < 0.5).astype(np.float64)
    reference_model = sklearn_rbm_with_weights(trained)
    print(f"2. Sampling: {N_CHAINS:,} chains x {N_GIBBS_STEPS} block-Gibbs steps, the same weights (median of "
          f"{repeats})")
    names = ("core RBM.gibbs(V0, 100)", "core RBM.sample(1000, n_steps=100)", "scikit-learn 100 x BernoulliRBM.gibbs")
    medians = alternating_medians({
        names[0]: lambda: trained.gibbs(V0, N_GIBBS_STEPS, random_state=0),
        names[1]: lambda: trained.sample(N_CHAINS, n_steps=N_GIBBS_STEPS, random_state=0),
        names[2]: lambda: sklearn_gibbs(reference_model, V0, N_GIBBS_STEPS)}, repeats)
    reference = medians[names[2]]
    rows = [[name, f"{s:.3f}", f"{N_CHAINS * N_GIBBS_STEPS / s:,.0f}", f"{reference / s:.2f}"]
            for name, s in medians.items()]
    print(format_table(["implementation", "time s (median)", "chain steps/s", "scikit-learn / row"], rows), "\n")

    # 3. autoencoders
    print(f"3. Autoencoder training 64 -> 64 -> 2 -> 64 -> 64, Adam lr {AE_LEARNING_RATE}, batch {BATCH}, float64; "
          f"reference: shape-comparable MLPRegressor X -> X, squared error (fit of {epochs} epochs / {epochs}; "
          f"median of {repeats})")
    names = ("core autoencoder, logits (BCE)", "core variational_autoencoder (neg. ELBO)",
             "scikit-learn MLPRegressor (64, 2, 64), squared error")
    medians = alternating_medians({
        names[0]: lambda: fit_core_autoencoder(False, spins, epochs),
        names[1]: lambda: fit_core_autoencoder(True, spins, epochs),
        names[2]: lambda: fit_sklearn(sklearn_mlp(epochs), spins, spins)}, repeats)
    reference = medians[names[2]] / epochs
    rows = [[name, f"{s / epochs:.4f}", f"{n * epochs / s:,.0f}", f"{reference / (s / epochs):.2f}"]
            for name, s in medians.items()]
    print(format_table(["implementation", "epoch s (median)", "samples/s", "scikit-learn / row"], rows))
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
