"""The benchmark's reference loops do the same work as core: one SGD step from the same weights on the same batch
gives the same weights. (Speed itself is measured by `python benchmarks/bench_core.py`, never by a test.)"""

import numpy as np

from benchmarks.bench_core import CNN, LEARNING_RATE, MLP, NumpyCNNTrainer, NumpyMLPTrainer, cnn_data, mlp_data
from core.activations import ReLU
from core.layers import Conv2D, Dense, GlobalAvgPool2D
from core.models import mlp
from core.network import Sequential
from core.optim import SGD
from core.training import TrainingSettings, fit

# float32 products of length <= 1024 summed in different orders (BLAS blocking): relative differences ~1e-6
RTOL, ATOL = 1e-4, 1e-6


def one_core_step(network, X, y):
    fit(network, "softmax_cross_entropy", SGD(LEARNING_RATE), X, y, TrainingSettings(epochs=1, batch_size=len(X)),
        rng=0)


def test_minimal_mlp_loop_matches_core_step():
    rng = np.random.default_rng(0)
    X, y = mlp_data(rng, MLP["batch"])
    loop = NumpyMLPTrainer(X, y, rng)
    sizes = MLP["sizes"]
    net = mlp(sizes[1:-1], sizes[-1]).build((sizes[0],), 0)
    net.set_weights({f"{2 * i}.W": W for i, W in enumerate(loop.W)} | {f"{2 * i}.b": b for i, b in enumerate(loop.b)})
    loop.step(np.arange(len(X)))
    one_core_step(net, X, y)
    weights = net.get_weights()
    for i, (W, b) in enumerate(zip(loop.W, loop.b)):
        np.testing.assert_allclose(weights[f"{2 * i}.W"], W, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(weights[f"{2 * i}.b"], b, rtol=RTOL, atol=ATOL)


def test_minimal_cnn_loop_matches_core_step():
    rng = np.random.default_rng(1)
    X, y = cnn_data(rng, CNN["batch"])
    loop = NumpyCNNTrainer(X, y, rng)
    f, k, L = CNN["filters"], CNN["k"], CNN["L"]
    net = Sequential([Conv2D(f, k, padding="periodic"), ReLU(), GlobalAvgPool2D(), Dense(2)]).build((1, L, L), 0)
    # the loop's conv weight (k*k, F) is core's (F, 1, k, k) transposed
    net.set_weights({"0.W": loop.Wc.T.reshape(f, 1, k, k), "0.b": loop.bc, "3.W": loop.Wd, "3.b": loop.bd})
    loop.step(np.arange(len(X)))
    one_core_step(net, X, y)
    weights = net.get_weights()
    np.testing.assert_allclose(weights["0.W"], loop.Wc.T.reshape(f, 1, k, k), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(weights["3.W"], loop.Wd, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(weights["0.b"], loop.bc, rtol=RTOL, atol=ATOL)
