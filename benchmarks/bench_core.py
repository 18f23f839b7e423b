"""Training throughput of ``core`` against scikit-learn, a minimal numpy loop and PyTorch (if importable).

    python benchmarks/bench_core.py            # full run (1-2 minutes on an idle 2-core machine)
    python benchmarks/bench_core.py --quick    # fewer epochs, for a smoke test
    python benchmarks/bench_core.py --profile  # also print where one core epoch spends its time
    python benchmarks/bench_core.py --threads 1  # one BLAS thread (steadier numbers on a shared machine)

Workload 1, MLP: 1024 -> 256 -> 256 -> 2, ReLU, softmax cross-entropy, float32, batch 128, plain SGD (no momentum,
no weight decay), 20,000 samples. Workload 2, CNN: 32x32 lattices of +-1 spins, Conv2D 1 -> 16 (3x3, periodic),
ReLU, global average pool, Dense 16 -> 2, batch 64, plain SGD, 8,192 samples.

Each implementation trains whole epochs (a fresh permutation each epoch); the implementations take turns in
blocks of epochs so that the noise of a shared machine hits them alike, and the median epoch time is reported
(one warm-up epoch each is not timed). For core the clock runs from ``Callback.on_train_begin`` to each
``on_epoch_end``, i.e. the one-off input checks of ``fit`` are not in the epoch time (they are printed apart).

FLOPs are the matrix-product FLOPs actually executed per sample: forward 2 m n k per Dense/Conv2D; backward
2 m n k for the weight gradient of every layer plus 2 m n k for the input gradient of every layer but the first
(nobody needs dL/dX of the input; core, scikit-learn and the minimal loops all skip it). The machine's matmul rate
for this workload is measured in the same run, taking turns with the implementations: the row "matmul only" runs
exactly the matrix products of every training step of an epoch (same shapes and transposes, preallocated
outputs) and nothing else; "of matmul-only rate" is its epoch time divided by the row's. "Peak sgemm" is a
1024^3 float32 product, for reference.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import pstats
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks._util import format_table, gemm_flops, machine_description, matmul_rate  # noqa: E402
from core.layers import Conv2D, Dense, GlobalAvgPool2D  # noqa: E402
from core.activations import ReLU  # noqa: E402
from core.models import mlp  # noqa: E402
from core.network import Sequential  # noqa: E402
from core.optim import SGD  # noqa: E402
from core.training import Callback, TrainingSettings, fit  # noqa: E402

LEARNING_RATE = 0.01
MLP = {"n_samples": 20_000, "sizes": (1024, 256, 256, 2), "batch": 128}
CNN = {"n_samples": 8_192, "L": 32, "filters": 16, "k": 3, "batch": 64}


# ----------------------------------------------------------------------------- data and FLOP counts
def mlp_data(rng, n=MLP["n_samples"]):
    X = rng.standard_normal((n, MLP["sizes"][0]), dtype=np.float32)  # (n, 1024)
    y = (X @ rng.standard_normal(MLP["sizes"][0], dtype=np.float32) > 0).astype(np.intp)  # learnable labels
    return X, y


def cnn_data(rng, n=CNN["n_samples"]):
    L = CNN["L"]
    y = rng.integers(0, 2, n)
    # class 1: mostly aligned spins (ordered), class 0: independent random spins (disordered)
    p_up = np.where(y == 1, 0.9, 0.5)[:, None, None, None]
    X = np.where(rng.random((n, 1, L, L)) < p_up, 1.0, -1.0).astype(np.float32)  # (n, 1, L, L)
    return X, y


def mlp_flops_per_sample() -> int:
    sizes = MLP["sizes"]
    forward = sum(gemm_flops(1, a, b) for a, b in zip(sizes[:-1], sizes[1:]))
    input_grads = sum(gemm_flops(1, a, b) for a, b in zip(sizes[1:-1], sizes[2:]))  # all layers but the first
    return 2 * forward + input_grads  # forward + weight gradients (same FLOPs) + input gradients


def cnn_flops_per_sample() -> int:
    sites, f, k = CNN["L"] ** 2, CNN["filters"], CNN["k"]
    conv = gemm_flops(sites, k * k, f)  # forward = weight gradient; no input gradient for the first layer
    dense = gemm_flops(1, f, 2)
    return 2 * conv + 3 * dense


def mlp_step_products(rng):
    """The matrix products of one MLP training step, with the layouts the backward pass uses."""
    b, sizes = MLP["batch"], MLP["sizes"]
    acts = [rng.standard_normal((b, n), dtype=np.float32) for n in sizes]
    weights = [rng.standard_normal((m, n), dtype=np.float32) for m, n in zip(sizes[:-1], sizes[1:])]
    forward = [(acts[i], weights[i]) for i in range(len(weights))]
    weight_grads = [(acts[i].T, acts[i + 1]) for i in range(len(weights))]
    input_grads = [(acts[i + 1], weights[i].T) for i in range(1, len(weights))]
    return forward + weight_grads + input_grads


def cnn_step_products(rng):
    """The products of one CNN step in the plain im2col form (the layout of the minimal loop, independent of how
    core arranges its arrays): cols (N H W, k k) @ W (k k, F), dW = cols^T @ dH, and the small dense layer."""
    b, sites, f, k = CNN["batch"], CNN["L"] ** 2, CNN["filters"], CNN["k"]
    cols = rng.standard_normal((b * sites, k * k), dtype=np.float32)
    w = rng.standard_normal((k * k, f), dtype=np.float32)
    dh = rng.standard_normal((b * sites, f), dtype=np.float32)
    pooled = rng.standard_normal((b, f), dtype=np.float32)
    wd = rng.standard_normal((f, 2), dtype=np.float32)
    dz = rng.standard_normal((b, 2), dtype=np.float32)
    return [(cols, w), (cols.T, dh), (pooled, wd), (pooled.T, dz), (dz, wd.T)]


# ----------------------------------------------------------------------------- implementations
class _EpochClock(Callback):
    def on_train_begin(self, context):
        self.stamps = [time.perf_counter()]

    def on_epoch_end(self, epoch, logs):
        self.stamps.append(time.perf_counter())


class CoreTrainer:
    """core.fit on a core network; ``run(k)`` trains k epochs, returns their times."""

    name = "core (this package)"

    def __init__(self, network, X, y, batch, rng):
        self.network, self.X, self.y, self.batch, self.rng = network, X, y, batch, rng
        self.optimizer = SGD(LEARNING_RATE)
        self.setup_times = []

    def run(self, epochs):
        clock = _EpochClock()
        start = time.perf_counter()
        fit(self.network, "softmax_cross_entropy", self.optimizer, self.X, self.y,
            TrainingSettings(epochs=epochs, batch_size=self.batch), rng=self.rng, callbacks=[clock])
        self.setup_times.append(clock.stamps[0] - start)
        return list(np.diff(clock.stamps))


class SklearnMLPTrainer:
    """MLPClassifier with the same architecture and plain SGD; one ``partial_fit`` call is one epoch."""

    name = "scikit-learn MLPClassifier"

    def __init__(self, X, y):
        from sklearn.neural_network import MLPClassifier

        self.X, self.y = X, y
        self.model = MLPClassifier(hidden_layer_sizes=MLP["sizes"][1:-1], activation="relu", solver="sgd",
                                   alpha=0.0, batch_size=MLP["batch"], learning_rate="constant",
                                   learning_rate_init=LEARNING_RATE, momentum=0.0, nesterovs_momentum=False,
                                   early_stopping=False, shuffle=True, random_state=0)
        self.classes = np.unique(y)

    def run(self, epochs):
        times = []
        for _ in range(epochs):
            start = time.perf_counter()
            self.model.partial_fit(self.X, self.y, classes=self.classes)
            times.append(time.perf_counter() - start)
        return times


def _softmax_grad(logits, labels):
    """(softmax(logits) - onehot(labels)) / batch, computed in place in ``logits``."""
    logits -= logits.max(axis=1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=1, keepdims=True)
    logits[np.arange(len(labels)), labels] -= 1
    logits /= len(labels)
    return logits


class _EpochLoop:
    """Times whole epochs of ``step(index)`` over minibatches of a fresh permutation of ``self.X``."""

    def run(self, epochs):
        times = []
        for _ in range(epochs):
            start = time.perf_counter()
            order = self.rng.permutation(len(self.X))
            for s in range(0, len(order), self.batch):
                self.step(order[s:s + self.batch])
            times.append(time.perf_counter() - start)
        return times


class NumpyMLPTrainer(_EpochLoop):
    """The minimal hand-written numpy loop: the floor of what core's abstraction may cost."""

    name = "minimal numpy loop"

    def __init__(self, X, y, rng):
        self.X, self.y, self.rng, self.batch = X, y, rng, MLP["batch"]
        sizes = MLP["sizes"]
        self.W = [(rng.standard_normal((m, n)) * np.sqrt(2 / m)).astype(np.float32)  # He init, (m, n)
                  for m, n in zip(sizes[:-1], sizes[1:])]
        self.b = [np.zeros(n, np.float32) for n in sizes[1:]]

    def step(self, idx):
        (W1, W2, W3), (b1, b2, b3) = self.W, self.b
        x, labels = self.X[idx], self.y[idx]
        h1 = x @ W1
        h1 += b1
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ W2
        h2 += b2
        np.maximum(h2, 0, out=h2)
        z = h2 @ W3
        z += b3
        dz = _softmax_grad(z, labels)
        dW3, db3 = h2.T @ dz, dz.sum(axis=0)
        d2 = dz @ W3.T
        d2 *= h2 > 0
        dW2, db2 = h1.T @ d2, d2.sum(axis=0)
        d1 = d2 @ W2.T
        d1 *= h1 > 0
        dW1, db1 = x.T @ d1, d1.sum(axis=0)
        for p, g in ((W1, dW1), (W2, dW2), (W3, dW3), (b1, db1), (b2, db2), (b3, db3)):
            p -= LEARNING_RATE * g


class NumpyCNNTrainer(_EpochLoop):
    """Minimal numpy CNN loop: periodic im2col as (N H W, 9) @ (9, F), global mean, dense, plain SGD."""

    name = "minimal numpy loop"

    def __init__(self, X, y, rng):
        self.X, self.y, self.rng, self.batch = X[:, 0], y, rng, CNN["batch"]  # X: (n, L, L)
        f, k = CNN["filters"], CNN["k"]
        self.Wc = (rng.standard_normal((k * k, f)) * np.sqrt(2 / (k * k))).astype(np.float32)
        self.bc = np.zeros(f, np.float32)
        self.Wd = (rng.standard_normal((f, 2)) * np.sqrt(1 / f)).astype(np.float32)
        self.bd = np.zeros(2, np.float32)

    def step(self, idx):
        Wc, bc, Wd, bd, k, sites = self.Wc, self.bc, self.Wd, self.bd, CNN["k"], CNN["L"] ** 2
        x, labels = self.X[idx], self.y[idx]
        padded = np.pad(x, ((0, 0), (1, 1), (1, 1)), mode="wrap")  # (B, L+2, L+2)
        cols = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(1, 2)).reshape(-1, k * k)
        h = cols @ Wc  # (B L L, F)
        h += bc
        np.maximum(h, 0, out=h)
        pooled = h.reshape(len(idx), sites, -1).mean(axis=1)  # (B, F)
        z = pooled @ Wd
        z += bd
        dz = _softmax_grad(z, labels)
        dWd, dbd = pooled.T @ dz, dz.sum(axis=0)
        dh = (h > 0).reshape(len(idx), sites, -1) * ((dz @ Wd.T) / sites)[:, None, :]  # (B, L L, F)
        dh = dh.reshape(-1, dh.shape[-1])
        dWc, dbc = cols.T @ dh, dh.sum(axis=0)
        for p, g in ((Wc, dWc), (bc, dbc), (Wd, dWd), (bd, dbd)):
            p -= LEARNING_RATE * g


class TorchMLPTrainer:
    """The same MLP in PyTorch on the CPU (only when torch happens to be importable; never a dependency)."""

    name = "PyTorch (CPU)"

    def __init__(self, X, y, seed, threads=None):
        import torch

        if threads is not None:
            torch.set_num_threads(threads)  # threadpoolctl does not reach torch's own thread pool
        torch.manual_seed(seed)
        sizes = MLP["sizes"]
        layers = []
        for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(torch.nn.Linear(m, n))
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
        self.torch, self.model = torch, torch.nn.Sequential(*layers)
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LEARNING_RATE)
        self.generator = torch.Generator().manual_seed(seed)

    def run(self, epochs):
        torch, batch, times = self.torch, MLP["batch"], []
        loss_fn = torch.nn.CrossEntropyLoss()
        for _ in range(epochs):
            start = time.perf_counter()
            order = torch.randperm(len(self.X), generator=self.generator)
            for s in range(0, len(order), batch):
                idx = order[s:s + batch]
                self.optimizer.zero_grad(set_to_none=True)
                loss_fn(self.model(self.X[idx]), self.y[idx]).backward()
                self.optimizer.step()
            times.append(time.perf_counter() - start)
        return times


class MatmulFloor:
    """Only the matrix products of each training step (same shapes and transposes, outputs preallocated), once per
    batch of an epoch: the time an implementation would need if everything but the BLAS calls were free."""

    name = "matmul only (same products)"

    def __init__(self, products, n_samples, batch):
        self.products = products
        self.outs = [np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b)) for a, b in products]
        self.n_batches = round(n_samples / batch)  # the short last batch counts as its fraction, rounded

    def run(self, epochs):
        times = []
        for _ in range(epochs):
            start = time.perf_counter()
            for _ in range(self.n_batches):
                for (a, b), out in zip(self.products, self.outs):
                    np.matmul(a, b, out=out)
            times.append(time.perf_counter() - start)
        return times


# ----------------------------------------------------------------------------- measurement and report
def measure(trainers, blocks, epochs_per_block):
    """Warm each trainer up with one epoch, then let them take turns; return {name: [epoch seconds]}.

    The order of the turns rotates from block to block, so that no implementation always follows the same one
    (caches, and the rhythm of other jobs on a shared machine, would otherwise favour a fixed position).
    """
    for trainer in trainers:
        trainer.run(1)
    times = {trainer.name: [] for trainer in trainers}
    for block in range(blocks):
        shift = block % len(trainers)
        for trainer in trainers[shift:] + trainers[:shift]:
            times[trainer.name] += trainer.run(epochs_per_block)
    return times


def report(title, times, n_samples, flops_per_sample, peak_rate, missing=()):
    """Print the table; return {name: median epoch seconds}."""
    medians = {name: statistics.median(t) for name, t in times.items()}
    core_s, floor_s = medians[CoreTrainer.name], medians[MatmulFloor.name]
    rows = []
    for name, seconds in medians.items():
        gflops = n_samples * flops_per_sample / seconds / 1e9
        rows.append([name, f"{seconds:.3f}", f"{n_samples / seconds:,.0f}", f"{seconds / core_s:.2f}",
                     f"{gflops:.1f}", f"{100 * floor_s / seconds:.0f}%", f"{100 * gflops / peak_rate:.0f}%"])
    rows += [[name, "n/a", "n/a", "n/a", "n/a", "n/a", reason] for name, reason in missing]
    print(f"\n### {title}\n")
    print(format_table(["implementation", "epoch s (median)", "samples/s", "core speed-up", "GFLOP/s",
                        "of matmul-only rate", "of peak sgemm"], rows))
    n_timed = len(next(iter(times.values())))
    print(f"\n{flops_per_sample / 1e6:.3f} MFLOP per sample; peak sgemm (1024^3): {peak_rate:.1f} GFLOP/s; "
          f"{n_timed} timed epochs per row, median; core speed-up = epoch time of the row / epoch time of core")
    return medians


def check_targets(medians):
    """Print the issue's targets for the MLP with PASS/MISS."""
    core_s = medians[CoreTrainer.name]
    checks = []
    if SklearnMLPTrainer.name in medians:
        ratio = medians[SklearnMLPTrainer.name] / core_s
        checks.append(("core >= 1.5x scikit-learn", ratio >= 1.5, f"{ratio:.2f}x"))
    ratio = medians[NumpyMLPTrainer.name] / core_s
    checks.append(("core >= 0.95x minimal numpy loop", ratio >= 0.95, f"{ratio:.2f}x"))
    fraction = medians[MatmulFloor.name] / core_s
    checks.append(("core >= 70% of the matmul rate", fraction >= 0.70, f"{100 * fraction:.0f}%"))
    print("\nTargets (MLP): " + "; ".join(f"{text}: {'PASS' if ok else 'MISS'} ({got})" for text, ok, got in checks))


def profile_core_epoch(trainer):
    profiler = cProfile.Profile()
    profiler.enable()
    trainer.run(1)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(15)
    print(f"\n### Profile of one core epoch ({trainer.name}), by own time\n")
    print(stream.getvalue())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 timed epochs per implementation instead of 12")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one core epoch per workload")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit the BLAS threads (threadpoolctl) for every implementation; default: BLAS's own")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    blocks, per_block = (4, 1) if args.quick else (12, 1)  # one epoch per turn: load changes hit all alike
    rng = np.random.default_rng(args.seed)
    torch_missing = importlib.util.find_spec("torch") is None

    print("# core training throughput\n")
    print(machine_description())
    peak_rate = matmul_rate([(rng.standard_normal((1024, 1024), dtype=np.float32),
                              rng.standard_normal((1024, 1024), dtype=np.float32))])

    X, y = mlp_data(rng)
    sizes, n, batch = MLP["sizes"], MLP["n_samples"], MLP["batch"]
    core = CoreTrainer(mlp(sizes[1:-1], sizes[-1]).build((sizes[0],), rng), X, y, batch, rng)
    trainers = [core, SklearnMLPTrainer(X, y), NumpyMLPTrainer(X, y, rng),
                MatmulFloor(mlp_step_products(rng), n, batch)]
    if not torch_missing:
        trainers.append(TorchMLPTrainer(X, y, args.seed, args.threads))
    with warnings.catch_warnings():
        # partial_fit on a problem it has not converged on is the point here
        from sklearn.exceptions import ConvergenceWarning

        warnings.simplefilter("ignore", ConvergenceWarning)
        times = measure(trainers, blocks, per_block)
    missing = [(TorchMLPTrainer.name, "not installed")] if torch_missing else []
    title = "MLP 1024-256-256-2, ReLU, softmax CE, float32, batch 128, plain SGD, 20,000 samples"
    check_targets(report(title, times, n, mlp_flops_per_sample(), peak_rate, missing))
    setup_ms = statistics.median(core.setup_times) * 1e3
    print(f"core fit() one-off setup (input checks, buffers): {setup_ms:.0f} ms per call, not in the epoch times")
    if args.profile:
        profile_core_epoch(core)

    del X, y, trainers, core
    X, y = cnn_data(rng)
    L, f, k, n, batch = CNN["L"], CNN["filters"], CNN["k"], CNN["n_samples"], CNN["batch"]
    network = Sequential([Conv2D(f, k, padding="periodic"), ReLU(), GlobalAvgPool2D(), Dense(2)])
    core = CoreTrainer(network.build((1, L, L), rng), X, y, batch, rng)
    trainers = [core, NumpyCNNTrainer(X, y, rng), MatmulFloor(cnn_step_products(rng), n, batch)]
    times = measure(trainers, blocks, per_block)
    title = "CNN on 32x32 lattices: Conv2D 1->16 3x3 periodic, ReLU, global avg pool, Dense 16->2, batch 64"
    report(title, times, n, cnn_flops_per_sample(), peak_rate, [("scikit-learn", "no CNN in scikit-learn")])
    if args.profile:
        profile_core_epoch(core)


if __name__ == "__main__":
    main()
