"""Training throughput of core's MLPs against scikit-learn, PyTorch (if importable) and a minimal numpy loop.

    python -m benchmarks.bench_core               # both workloads at 1 and 2 BLAS threads (~2-3 minutes on 2 cores)
    python -m benchmarks.bench_core --quick       # fewer blocks, for a smoke test
    python -m benchmarks.bench_core --threads 1   # one BLAS thread only
    python -m benchmarks.bench_core --profile     # also print where one core epoch spends its time

Workloads (float32, ReLU, softmax cross-entropy, two classes, a fresh permutation each epoch):

- ``mlp``: 1024 -> 256 -> 256 -> 2, batch 128, plain SGD (lr 0.01, no momentum, no weight decay), 20,000 samples;
  also timed: the minimal numpy loop and the matrix products of its steps alone ("matmul only").
- ``task_mlp``: 1024 -> 64 -> 64 -> 2, batch 32, Adam (lr 1e-3, betas 0.9 / 0.999, eps 1e-8), 8,192 samples (the
  shape of the task MLPs, where the optimizer, not the products, is the largest part of a step).

The CNNs are measured by ``benchmarks/bench_cnn.py``.

Timing: each implementation trains whole epochs; the implementations and the thread counts take turns in blocks
(one epoch per implementation per block, the order rotating from block to block) so that the load of a shared
machine hits them alike; one untimed warm-up epoch each. Reported: median epoch time and samples/s per thread
count, the ratio of the medians (``speed-up vs core`` = the row's median epoch time / core's: > 1 means core is
faster) and the range of the per-block paired ratios. BLAS threads are set with threadpoolctl, PyTorch's own pool
with ``torch.set_num_threads``; while one implementation runs, the pool it does not use is held at one thread.
For core the clock runs from ``Callback.on_train_begin`` to each ``on_epoch_end``, i.e. the one-off input checks
of ``fit`` are not in the epoch time. ``--clock cpu`` times with the process's CPU time instead of the wall clock:
steadier on a loaded machine at one thread, but at more threads it adds up the threads' times.

FLOPs are the matrix-product FLOPs executed per sample: forward 2 m n k per Dense; backward 2 m n k for every
weight gradient plus 2 m n k for the input gradient of every layer but the first (nobody needs dL/dX of the input).
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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks._util import format_table, gemm_flops, machine_description  # noqa: E402
from core.models import mlp  # noqa: E402
from core.optim import SGD, Adam  # noqa: E402
from core.training import Callback, TrainingSettings, fit  # noqa: E402

LEARNING_RATE = 0.01  # of the plain-SGD workload
_clock = time.perf_counter  # the clock of every timing (``--clock``)


@dataclass(frozen=True)
class Workload:
    """One MLP training workload: layer sizes (inputs first), batch size, optimizer and its learning rate."""

    name: str
    sizes: tuple[int, ...]
    batch: int
    optimizer: str  # "sgd" (plain) or "adam"
    learning_rate: float
    n_samples: int

    @property
    def title(self) -> str:
        arrow = "-".join(map(str, self.sizes))
        rule = "plain SGD" if self.optimizer == "sgd" else "Adam"
        return (f"{self.name}: MLP {arrow}, ReLU, softmax CE, float32, batch {self.batch}, {rule} "
                f"(lr {self.learning_rate:g}), {self.n_samples:,} samples")

    def flops_per_sample(self) -> int:
        pairs = list(zip(self.sizes[:-1], self.sizes[1:]))
        forward = sum(gemm_flops(1, a, b) for a, b in pairs)
        input_grads = sum(gemm_flops(1, a, b) for a, b in pairs[1:])  # all layers but the first
        return 2 * forward + input_grads  # forward + weight gradients (same FLOPs) + input gradients


WORKLOADS = {
    "mlp": Workload("mlp", (1024, 256, 256, 2), 128, "sgd", LEARNING_RATE, 20_000),
    "task_mlp": Workload("task_mlp", (1024, 64, 64, 2), 32, "adam", 1e-3, 8_192),
}
MLP = {"n_samples": WORKLOADS["mlp"].n_samples, "sizes": WORKLOADS["mlp"].sizes, "batch": WORKLOADS["mlp"].batch}


# ----------------------------------------------------------------------------- data
def mlp_data(rng, n=MLP["n_samples"], n_features=MLP["sizes"][0]):
    """Gaussian features (n, n_features) float32 and learnable labels (n,) intp (the sign of a random projection)."""
    X = rng.standard_normal((n, n_features), dtype=np.float32)
    y = (X @ rng.standard_normal(n_features, dtype=np.float32) > 0).astype(np.intp)
    return X, y


def mlp_step_products(rng, workload=WORKLOADS["mlp"]):
    """The matrix products of one training step, with the layouts the backward pass uses."""
    b, sizes = workload.batch, workload.sizes
    acts = [rng.standard_normal((b, n), dtype=np.float32) for n in sizes]
    weights = [rng.standard_normal((m, n), dtype=np.float32) for m, n in zip(sizes[:-1], sizes[1:])]
    forward = [(acts[i], weights[i]) for i in range(len(weights))]
    weight_grads = [(acts[i].T, acts[i + 1]) for i in range(len(weights))]
    input_grads = [(acts[i + 1], weights[i].T) for i in range(1, len(weights))]
    return forward + weight_grads + input_grads


# ----------------------------------------------------------------------------- implementations
class _EpochClock(Callback):
    def on_train_begin(self, context):
        self.stamps = [_clock()]

    def on_epoch_end(self, epoch, logs):
        self.stamps.append(_clock())


class CoreTrainer:
    """core.fit on a core MLP; ``run(k)`` trains k epochs and returns their times."""

    name = "core (this package)"

    def __init__(self, workload, X, y, rng):
        sizes = workload.sizes
        self.network = mlp(sizes[1:-1], sizes[-1]).build((sizes[0],), rng)
        self.X, self.y, self.batch, self.rng = X, y, workload.batch, rng
        self.optimizer = SGD(workload.learning_rate) if workload.optimizer == "sgd" else Adam(workload.learning_rate)
        self.setup_times = []

    def run(self, epochs):
        clock = _EpochClock()
        start = _clock()
        fit(self.network, "softmax_cross_entropy", self.optimizer, self.X, self.y,
            TrainingSettings(epochs=epochs, batch_size=self.batch), rng=self.rng, callbacks=[clock])
        self.setup_times.append(clock.stamps[0] - start)
        return list(np.diff(clock.stamps))


class SklearnMLPTrainer:
    """MLPClassifier with the same architecture, batch and optimizer; one ``partial_fit`` call is one epoch."""

    name = "scikit-learn MLPClassifier"

    def __init__(self, workload, X, y):
        from sklearn.neural_network import MLPClassifier

        self.X, self.y = X, y
        solver = {"solver": "sgd", "momentum": 0.0, "nesterovs_momentum": False, "learning_rate": "constant"} \
            if workload.optimizer == "sgd" else {"solver": "adam", "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}
        self.model = MLPClassifier(hidden_layer_sizes=workload.sizes[1:-1], activation="relu", alpha=0.0,
                                   batch_size=workload.batch, learning_rate_init=workload.learning_rate,
                                   early_stopping=False, shuffle=True, random_state=0, **solver)
        self.classes = np.unique(y)

    def run(self, epochs):
        times = []
        for _ in range(epochs):
            start = _clock()
            self.model.partial_fit(self.X, self.y, classes=self.classes)
            times.append(_clock() - start)
        return times


def _softmax_grad(logits, labels):
    """(softmax(logits) - onehot(labels)) / batch, computed in place in ``logits``."""
    logits -= logits.max(axis=1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=1, keepdims=True)
    logits[np.arange(len(labels)), labels] -= 1
    logits /= len(labels)
    return logits


class NumpyMLPTrainer:
    """The minimal hand-written numpy loop of the plain-SGD ``mlp`` workload: the floor of what core's abstraction
    may cost."""

    name = "minimal numpy loop"

    def __init__(self, X, y, rng):
        self.X, self.y, self.rng, self.batch = X, y, rng, MLP["batch"]
        sizes = MLP["sizes"]
        self.W = [(rng.standard_normal((m, n)) * np.sqrt(2 / m)).astype(np.float32)  # He init, (m, n)
                  for m, n in zip(sizes[:-1], sizes[1:])]
        self.b = [np.zeros(n, np.float32) for n in sizes[1:]]

    def run(self, epochs):
        times = []
        for _ in range(epochs):
            start = _clock()
            order = self.rng.permutation(len(self.X))
            for s in range(0, len(order), self.batch):
                self.step(order[s:s + self.batch])
            times.append(_clock() - start)
        return times

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


class TorchMLPTrainer:
    """The same MLP, batch and optimizer in PyTorch on the CPU (only when torch is importable; never a
    dependency)."""

    name = "PyTorch (CPU)"

    def __init__(self, workload, X, y, seed):
        import torch

        torch.manual_seed(seed)
        sizes = workload.sizes
        layers = []
        for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(torch.nn.Linear(m, n))
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
        self.torch, self.model, self.batch = torch, torch.nn.Sequential(*layers), workload.batch
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
        parameters = self.model.parameters()
        self.optimizer = torch.optim.SGD(parameters, lr=workload.learning_rate) if workload.optimizer == "sgd" \
            else torch.optim.Adam(parameters, lr=workload.learning_rate, betas=(0.9, 0.999), eps=1e-8)
        self.generator = torch.Generator().manual_seed(seed)

    def run(self, epochs):
        torch, batch, times = self.torch, self.batch, []
        loss_fn = torch.nn.CrossEntropyLoss()
        for _ in range(epochs):
            start = _clock()
            order = torch.randperm(len(self.X), generator=self.generator)
            for s in range(0, len(order), batch):
                idx = order[s:s + batch]
                self.optimizer.zero_grad(set_to_none=True)
                loss_fn(self.model(self.X[idx]), self.y[idx]).backward()
                self.optimizer.step()
            times.append(_clock() - start)
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
            start = _clock()
            for _ in range(self.n_batches):
                for (a, b), out in zip(self.products, self.outs):
                    np.matmul(a, b, out=out)
            times.append(_clock() - start)
        return times


# ----------------------------------------------------------------------------- measurement and report
def set_threads(threads, torch=None, trainer=None):
    """Give ``threads`` threads to the pool ``trainer`` computes with: PyTorch's own for the PyTorch trainer, BLAS
    (threadpoolctl) for the others; the other pool gets one thread, so that its idle workers do not spin on the
    cores the measured one needs."""
    from threadpoolctl import threadpool_limits

    uses_torch = isinstance(trainer, TorchMLPTrainer)
    threadpool_limits(1 if uses_torch else threads, user_api="blas")
    if torch is not None:
        torch.set_num_threads(threads if uses_torch else 1)


def measure(trainers, blocks, threads_list, torch=None):
    """Warm each trainer up with one epoch, then take turns; return {threads: {name: [epoch seconds per block]}}.

    Each block runs every thread count in turn, and at each thread count one epoch of every trainer; the order of
    the trainers rotates from block to block, so that no implementation always follows the same one.
    """
    for trainer in trainers:
        set_threads(threads_list[0], torch, trainer)
        trainer.run(1)
    times = {threads: {trainer.name: [] for trainer in trainers} for threads in threads_list}
    for block in range(blocks):
        shift = block % len(trainers)
        for threads in threads_list:
            for trainer in trainers[shift:] + trainers[:shift]:
                set_threads(threads, torch, trainer)
                times[threads][trainer.name] += trainer.run(1)
    return times


def summarize(times, n_samples):
    """Per thread count and implementation: median epoch s, samples/s, ratio of medians to core and the range of
    the per-block paired ratios. Returns {threads: {name: dict}}."""
    summary = {}
    for threads, by_name in times.items():
        core = by_name[CoreTrainer.name]
        core_median = statistics.median(core)
        summary[threads] = {}
        for name, seconds in by_name.items():
            median = statistics.median(seconds)
            paired = [s / c for s, c in zip(seconds, core)]
            summary[threads][name] = {"seconds": median, "samples_per_s": n_samples / median,
                                      "vs_core": median / core_median, "paired": (min(paired), max(paired))}
    return summary


def report(workload, summary, missing=()):
    """Print one workload's table and its target line."""
    flops = workload.flops_per_sample()
    rows = []
    for threads, by_name in summary.items():
        floor = by_name.get(MatmulFloor.name)
        for name, s in by_name.items():
            gflops = s["samples_per_s"] * flops / 1e9
            of_floor = f"{100 * floor['seconds'] / s['seconds']:.0f}%" if floor else "n/a"
            low, high = s["paired"]
            rows.append([str(threads), name, f"{s['seconds']:.3f}", f"{s['samples_per_s']:,.0f}", f"{s['vs_core']:.2f}",
                         f"{low:.2f}-{high:.2f}", f"{gflops:.1f}", of_floor])
        rows += [[str(threads), name, "n/a", "n/a", "n/a", "n/a", "n/a", reason] for name, reason in missing]
    print(f"\n### {workload.title}\n")
    print(format_table(["threads", "implementation", "epoch s (median)", "samples/s", "speed-up vs core",
                        "paired per block", "GFLOP/s", "of matmul-only rate"], rows))
    print(f"\n{flops / 1e6:.3f} MFLOP per sample; speed-up vs core = the row's median epoch time / core's (> 1: core "
          f"is faster); paired per block = min-max of that ratio block by block")
    checks = []
    for threads, by_name in summary.items():
        for name, label in ((SklearnMLPTrainer.name, "scikit-learn"), (TorchMLPTrainer.name, "PyTorch")):
            if name in by_name:
                checks.append(f"core/{label} at {threads} thread{'s' * (threads > 1)}: "
                              f"{by_name[name]['vs_core']:.2f}x")
    one = summary.get(1, {}).get(SklearnMLPTrainer.name)
    if one is not None:
        checks.append(f"target core >= 1.5x scikit-learn at 1 thread: {'PASS' if one['vs_core'] >= 1.5 else 'MISS'}")
    print("Ratios: " + "; ".join(checks))


def profile_core_epoch(trainer):
    profiler = cProfile.Profile()
    profiler.enable()
    trainer.run(1)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(15)
    print(f"\n### Profile of one core epoch ({trainer.name}), by own time\n")
    print(stream.getvalue())


def run_workload(workload, rng, blocks, threads_list, seed=0, with_torch=True, profile=False):
    """Measure and print one workload; return its summary ({threads: {name: dict}})."""
    X, y = mlp_data(rng, workload.n_samples, workload.sizes[0])
    core = CoreTrainer(workload, X, y, rng)
    trainers = [core, SklearnMLPTrainer(workload, X, y)]
    if workload.name == "mlp":
        trainers += [NumpyMLPTrainer(X, y, rng), MatmulFloor(mlp_step_products(rng, workload), workload.n_samples,
                                                            workload.batch)]
    torch = None
    if with_torch:
        import torch

        trainers.append(TorchMLPTrainer(workload, X, y, seed))
    with warnings.catch_warnings():
        from sklearn.exceptions import ConvergenceWarning

        warnings.simplefilter("ignore", ConvergenceWarning)  # partial_fit on an unconverged problem is the point
        times = measure(trainers, blocks, threads_list, torch)
    summary = summarize(times, workload.n_samples)
    report(workload, summary, [] if with_torch else [(TorchMLPTrainer.name, "not importable")])
    print(f"core fit() one-off setup (input checks, buffers): {statistics.median(core.setup_times) * 1e3:.0f} ms per "
          f"call, not in the epoch times; {blocks} timed epochs per row")
    if profile:
        set_threads(threads_list[0], torch, core)
        profile_core_epoch(core)
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 blocks instead of 9 (a smoke test)")
    parser.add_argument("--blocks", type=int, default=None, help="timed blocks (epochs per row); default 9")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="BLAS thread counts, default 1 2")
    parser.add_argument("--workloads", nargs="+", choices=sorted(WORKLOADS), default=list(WORKLOADS))
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if it is importable")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one core epoch per workload")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: time.perf_counter; cpu: time.process_time, the CPU time of this process (steadier "
                             "on a loaded machine at 1 thread; at more threads it adds up the threads' times)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    global _clock
    _clock = time.process_time if args.clock == "cpu" else time.perf_counter
    if any(t < 1 for t in args.threads) or (args.blocks is not None and args.blocks < 1):
        parser.error("--threads and --blocks must be >= 1")
    blocks = args.blocks or (3 if args.quick else 9)
    with_torch = not args.no_torch and importlib.util.find_spec("torch") is not None
    rng = np.random.default_rng(args.seed)

    print("# core MLP training throughput\n")
    print(machine_description())
    print(f"threads {args.threads}; clock {args.clock}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    return {name: run_workload(WORKLOADS[name], rng, blocks, args.threads, args.seed, with_torch, args.profile)
            for name in args.workloads}


if __name__ == "__main__":
    main()
