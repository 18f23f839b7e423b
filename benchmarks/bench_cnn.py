"""Training throughput of core's CNNs against PyTorch on the CPU (when importable), measured in the same run.

    python -m benchmarks.bench_cnn                  # full run: 1 and 2 threads (~3 minutes on an idle 2-core machine)
    python -m benchmarks.bench_cnn --threads 1      # one thread only
    python -m benchmarks.bench_cnn --quick          # tiny lattices, 1 thread, few repeats (smoke test, ~2 s)

Models (float32, softmax cross-entropy, Adam(1e-3), inputs of +-1 spins, random labels):
- default CNN, ``core.models.cnn((16, 16))`` as ``model=cnn`` builds it: Conv2D 1 -> 16 3x3 periodic, ReLU,
  Conv2D 16 -> 16 3x3 periodic, ReLU, global average pool, Dense 16 -> 2;
- small CNN, ``core.models.cnn((16,))``: Conv2D 1 -> 16 3x3 periodic, ReLU, global average pool, Dense 16 -> 2.
PyTorch runs the same layers (``Conv2d(padding=1, padding_mode="circular")``, ``AdaptiveAvgPool2d(1)``,
``Linear``), the same loss and optimizer. Shapes: L = 16, 32, 64 at batch 64, and batch 32 and 128 at L = 32.

One training step is forward + backward (no gradient for the network input) + optimizer step, on a batch taken in
turn from a fixed pool of 4. A timed block is a fixed number of steps; the contenders take turns block after block
in a rotating order (one untimed block each first) and the throughput is samples per second from the median block
time. PyTorch runs in a process of its own (:class:`TorchProcess`), its thread pool set with
``torch.set_num_threads``; BLAS is set with threadpoolctl, and core splits its convolution chunks over as many
Python threads as BLAS may use (``core._threads``).

FLOPs per sample are those of the straightforward algorithm's products: 2 (H W) (C k k) F for the forward of every
Conv2D, as much again for its weight gradient, and again for its input gradient except in the first layer (nobody
needs dL/dX of the input); 2 m n likewise for the Dense layer. "of GEMM" divides core's FLOP rate by the rate of a
float32 product of the same thin shape as the 16 -> 16 convolution's, (4096, 144) @ (144, 16), measured in the
same run with the same thread count (numpy and BLAS at their best on this shape: the operands stay in cache).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks._util import alternating_medians, format_table, machine_description, matmul_rate  # noqa: E402
from core.conv import Conv2D  # noqa: E402
from core.layers import Dense  # noqa: E402
from core.losses import get_loss  # noqa: E402
from core.models import cnn  # noqa: E402
from core.optim import Adam  # noqa: E402

LEARNING_RATE = 1e-3
MODELS = {"default CNN": (16, 16), "small CNN": (16,)}
SHAPES = [(16, 64), (32, 64), (64, 64), (32, 32), (32, 128)]  # (L, batch)
QUICK_SHAPES = [(8, 16)]
POOL = 4  # batches per workload, used in turn


def spin_batches(rng, L: int, batch: int, pool: int = POOL):
    """``pool`` batches (X (batch, 1, L, L) of +-1 float32, y (batch,) of 0/1 labels)."""
    return [(rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(batch, 1, L, L)),
             rng.integers(0, 2, batch)) for _ in range(pool)]


def flops_per_sample(network) -> int:
    """Products' FLOPs of one training step per sample (see the module docstring) for a built network."""
    total, first = 0, True
    for layer in network.layers:
        if isinstance(layer, Conv2D):
            C, k = layer.input_shape[0], layer.kernel_size
            F, Ho, Wo = layer.output_shape
            one = 2 * Ho * Wo * C * k * k * F
        elif isinstance(layer, Dense):
            one = 2 * layer.input_shape[0] * layer.units
        else:
            continue
        total += one * (2 if first else 3)
        first = False
    return total


class CoreTrainer:
    """``run(steps)``: core's training step (what ``core.training.fit`` does per batch) on the batch pool."""

    def __init__(self, channels, L, batches, seed=0):
        self.network = cnn(channels).build((1, L, L), seed, "float32")
        self.loss, self.optimizer = get_loss("softmax_cross_entropy"), Adam(LEARNING_RATE)
        self.parameters, self.batches, self.turn = self.network.parameters(), batches, 0

    def run(self, steps):
        network, loss = self.network, self.loss
        for _ in range(steps):
            X, y = self.batches[self.turn % len(self.batches)]
            self.turn += 1
            loss(network.forward(X, training=True), y)
            network.backward(loss.backward(), input_grad=False)
            self.optimizer.step(self.parameters)


class TorchTrainer:
    """The same network, loss and optimizer in PyTorch (only when torch is importable; never a dependency)."""

    def __init__(self, channels, L, batches, seed=0):
        import torch

        torch.manual_seed(seed)
        layers, previous = [], 1
        for filters in channels:
            layers += [torch.nn.Conv2d(previous, filters, 3, padding=1, padding_mode="circular"), torch.nn.ReLU()]
            previous = filters
        layers += [torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(previous, 2)]
        self.torch, self.model = torch, torch.nn.Sequential(*layers)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LEARNING_RATE)
        self.loss = torch.nn.CrossEntropyLoss()
        self.batches = [(torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))) for X, y in batches]
        self.turn = 0

    def run(self, steps):
        for _ in range(steps):
            X, y = self.batches[self.turn % len(self.batches)]
            self.turn += 1
            self.optimizer.zero_grad()
            self.loss(self.model(X), y).backward()
            self.optimizer.step()


def _torch_server(connection) -> None:
    """The PyTorch contender in a process of its own: ("setup", channels, L, batches, threads) builds a
    :class:`TorchTrainer`; ("run", steps) trains and answers None; None stops."""
    import torch

    trainer = None
    while (message := connection.recv()) is not None:
        if message[0] == "setup":
            _, channels, L, batches, threads = message
            torch.set_num_threads(threads)
            trainer = TorchTrainer(channels, L, batches)
        else:
            trainer.run(message[1])
        connection.send(None)


class TorchProcess:
    """PyTorch trained in a separate process (spawned), driven block by block from this one.

    In one process the two contenders disturb each other at two threads: PyTorch's OpenMP threads keep spinning
    for a while after each of its operations (libgomp's default wait policy), taking a core from core's threads
    (core lost ~25 % at L = 32), and ``OMP_WAIT_POLICY=PASSIVE`` slows PyTorch down instead. Apart, each runs as
    it would for a user; the pipe adds ~0.1 ms to a block of ~0.3 s."""

    def __init__(self) -> None:
        import multiprocessing

        self.connection, child = multiprocessing.get_context("spawn").Pipe()
        self.process = multiprocessing.get_context("spawn").Process(target=_torch_server, args=(child,),
                                                                    daemon=True)
        self.process.start()

    def setup(self, channels, L, batches, threads) -> None:
        self.connection.send(("setup", channels, L, batches, threads))
        self.connection.recv()

    def run(self, steps) -> None:
        self.connection.send(("run", steps))
        self.connection.recv()

    def close(self) -> None:
        self.connection.send(None)
        self.process.join(timeout=30)


def gemm_rate() -> float:
    """GFLOP/s of the (4096, 144) @ (144, 16) float32 product at the current thread count."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4096, 144), dtype=np.float32)
    return matmul_rate([(A, rng.standard_normal((144, 16), dtype=np.float32))])


def measure(shapes, threads_list, blocks, samples_per_block, with_torch):
    """Rows of the result table (strings) for every model, shape and thread count."""
    from threadpoolctl import threadpool_limits

    torch = TorchProcess() if with_torch else None
    rows = []
    for threads in threads_list:
        with threadpool_limits(threads):
            rate = gemm_rate()
            for name, channels in MODELS.items():
                for L, batch in shapes:
                    batches = spin_batches(np.random.default_rng(L * 1000 + batch), L, batch)
                    steps = max(1, samples_per_block // batch)
                    trainers = {"core": CoreTrainer(channels, L, batches)}
                    if torch is not None:
                        torch.setup(channels, L, batches, threads)
                        trainers["torch"] = torch
                    seconds = alternating_medians({key: (lambda t=t: t.run(steps)) for key, t in trainers.items()},
                                                  blocks)
                    speed = {key: steps * batch / s for key, s in seconds.items()}
                    flops = flops_per_sample(trainers["core"].network)
                    ratio = f"{speed['core'] / speed['torch']:.2f}x" if "torch" in speed else "n/a"
                    torch_cell = f"{speed['torch']:,.0f}" if "torch" in speed else "not installed"
                    rows.append([name, L, batch, threads, f"{speed['core']:,.0f}", torch_cell, ratio,
                                 f"{flops / 1e6:.2f}", f"{speed['core'] * flops / 1e9:.1f}",
                                 f"{speed['core'] * flops / 1e9 / rate:.0%}", f"{rate:.0f}"])
    if torch is not None:
        torch.close()
    return rows


HEADERS = ["model", "L", "batch", "threads", "core samples/s", "torch samples/s", "core/torch", "MFLOP/sample",
           "core GFLOP/s", "of GEMM", "GEMM GFLOP/s"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="8x8 lattices, batch 16, 1 thread, 3 blocks")
    parser.add_argument("--threads", type=int, nargs="+", default=None, help="thread counts (default 1 2)")
    parser.add_argument("--blocks", type=int, default=None, help="timed blocks per contender (default 7)")
    parser.add_argument("--samples", type=int, default=None,
                        help="samples per timed block (default 1024; rounded down to whole batches)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if it is importable")
    args = parser.parse_args(argv)
    threads = args.threads or ([1] if args.quick else [1, 2])
    blocks = args.blocks or (3 if args.quick else 7)
    samples = args.samples or (32 if args.quick else 1024)
    if min(threads) < 1 or blocks < 1 or samples < 1:
        parser.error("--threads, --blocks and --samples must be >= 1")
    with_torch = not args.no_torch and importlib.util.find_spec("torch") is not None
    print(f"# CNN training throughput, {datetime.date.today()}\n{machine_description()}")
    print(f"blocks of {samples} samples, median of {blocks} per contender, taking turns; Adam, float32\n")
    rows = measure(QUICK_SHAPES if args.quick else SHAPES, threads, blocks, samples, with_torch)
    print(format_table(HEADERS, rows))
    return rows


if __name__ == "__main__":
    main()
