"""The benchmark's reference loop does the same work as core: one SGD step from the same weights on the same batch
gives the same weights; and the benchmark's measurement and report run end to end on a tiny workload. (Speed
itself is measured by `python -m benchmarks.bench_core`, never by a test.)"""

import numpy as np

from benchmarks.bench_core import (
    LEARNING_RATE,
    MLP,
    CoreTrainer,
    NumpyMLPTrainer,
    SklearnMLPTrainer,
    Workload,
    mlp_data,
    run_workload,
)
from core.models import mlp
from core.optim import SGD
from core.training import TrainingSettings, fit

# float32 products of length <= 1024 summed in different orders (BLAS blocking): relative differences ~1e-6
RTOL, ATOL = 1e-4, 1e-6


def test_minimal_mlp_loop_matches_core_step():
    rng = np.random.default_rng(0)
    X, y = mlp_data(rng, MLP["batch"])
    loop = NumpyMLPTrainer(X, y, rng)
    sizes = MLP["sizes"]
    net = mlp(sizes[1:-1], sizes[-1]).build((sizes[0],), 0)
    net.set_weights({f"{2 * i}.W": W for i, W in enumerate(loop.W)} | {f"{2 * i}.b": b for i, b in enumerate(loop.b)})
    loop.step(np.arange(len(X)))
    fit(net, "softmax_cross_entropy", SGD(LEARNING_RATE), X, y, TrainingSettings(epochs=1, batch_size=len(X)), rng=0)
    weights = net.get_weights()
    for i, (W, b) in enumerate(zip(loop.W, loop.b)):
        np.testing.assert_allclose(weights[f"{2 * i}.W"], W, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(weights[f"{2 * i}.b"], b, rtol=RTOL, atol=ATOL)


def test_a_tiny_workload_reports_ratios_per_thread_count(capsys):
    tiny = Workload("tiny", (12, 8, 2), 16, "adam", 1e-3, 64)
    summary = run_workload(tiny, np.random.default_rng(0), blocks=2, threads_list=[1, 2], with_torch=False)
    assert set(summary) == {1, 2}
    for by_name in summary.values():
        assert set(by_name) == {CoreTrainer.name, SklearnMLPTrainer.name}
        assert by_name[CoreTrainer.name]["vs_core"] == 1.0
        assert by_name[SklearnMLPTrainer.name]["samples_per_s"] > 0
    printed = capsys.readouterr().out
    assert "core/scikit-learn at 1 thread" in printed and "core/scikit-learn at 2 threads" in printed
