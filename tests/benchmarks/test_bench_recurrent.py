"""The recurrent benchmark's reference LSTM does the same work as core: one SGD step from the same weights on the
same batch gives the same weights, and the benchmark runs end to end.
(Speed itself is measured by `python -m benchmarks.bench_recurrent`, never by a test.)"""

import numpy as np
import pytest

from benchmarks.bench_recurrent import (
    BATCH,
    FEATURES,
    SGD_LEARNING_RATE,
    STEPS,
    NumpyLSTMTrainer,
    core_network,
    main,
    sequence_data,
)
from core.optim import SGD
from core.training import TrainingSettings, fit

# float32 sums of <= 1024 products in different orders (BLAS blocking, the shuffled batch): relative
# differences ~1e-6 per step, ~1e-5 after backpropagating through 16 steps
RTOL, ATOL = 1e-4, 1e-6


def test_data_are_float32_sequences_with_a_learnable_target():
    X, y = sequence_data(np.random.default_rng(0), 100)
    assert X.shape == (100, STEPS, FEATURES) and X.dtype == np.float32 and y.shape == (100, 1)
    np.testing.assert_allclose(y[:, 0], X[:, :, 0].sum(axis=1) / np.sqrt(STEPS), rtol=1e-5)


def test_minimal_lstm_loop_matches_core_step():
    X, y = sequence_data(np.random.default_rng(1), BATCH)
    units = 8
    loop = NumpyLSTMTrainer(units, X, y, np.random.default_rng(2))
    network = core_network(units)
    network.set_weights({"0.W": loop.W, "0.U": loop.U, "0.b": loop.b, "1.W": loop.Wd, "1.b": loop.bd})
    before = network.get_weights()
    loop.step(np.arange(BATCH))
    fit(network, "mse", SGD(SGD_LEARNING_RATE), X, y, TrainingSettings(epochs=1, batch_size=BATCH), rng=0)
    weights = network.get_weights()
    for name, value in {"0.W": loop.W, "0.U": loop.U, "0.b": loop.b, "1.W": loop.Wd, "1.b": loop.bd}.items():
        assert np.abs(weights[name] - before[name]).max() > 100 * ATOL  # the step moved the weights
        np.testing.assert_allclose(weights[name], value, rtol=RTOL, atol=ATOL)


@pytest.mark.slow  # ~3 s: 24 epochs of the benchmark
def test_quick_run_prints_the_table(capsys):
    main(["--quick", "--epochs", "1"])
    out = capsys.readouterr().out
    for row in ("units 32: core, Adam", "units 64: numpy reference, SGD", "sequences/s"):
        assert row in out
