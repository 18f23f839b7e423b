"""Training throughput of core's LSTM against a minimal, straightforward numpy LSTM, measured in the same run.

    python -m benchmarks.bench_recurrent             # 3 epochs per timed call, medians of 7 (~15 s on 2 cores)
    python -m benchmarks.bench_recurrent --quick     # 1 epoch, medians of 3, for a smoke test (~3 s)
    python -m benchmarks.bench_recurrent --epochs 5 --threads 2  # other epochs / BLAS threads

Workload: sequences of T = 16 steps of F = 3 features (float32, standard normal), regression of one number (the
scaled sum of the first feature over time, mean squared error), batch 64, 2,048 sequences per epoch (32 batches in
a fixed order), one LSTM layer of 32 or 64 units read at its last step, then Dense(1). One training step is
forward + backward through time + parameter update.

Rows:
- core, Adam: ``core.training.fit(rnn("lstm", units, 1), "mse", Adam(1e-3), ...)``: what a task runs (fit's data
  checks and divergence watch included; its order of batches is shuffled, which costs the same).
- core, SGD: the same with plain ``SGD(0.01)``, the update the reference does.
- numpy reference, SGD: a minimal hand-written LSTM with the same shapes and maths (gates i, f, g, o, the same
  weight layout), written the straightforward way: per time step x_t W + h U forward, and per step x_t^T dz and
  h_{t-1}^T dz products for the weight gradients in backward; then plain SGD. tests/benchmarks checks that one of
  its steps gives core's weights.

The implementations take turns, repeat after repeat, in a rotating order (one untimed warm-up call each first), so
that the load of a shared machine hits them alike; the throughput is sequences per second from the median time of
a call. BLAS runs on one thread by default (threadpoolctl, ``--threads``), printed with the machine.
"""

from __future__ import annotations

import datetime
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks._util import alternating_medians, epoch_arguments, format_table, machine_description  # noqa: E402
from core.models import rnn  # noqa: E402
from core.optim import SGD, Adam  # noqa: E402
from core.training import TrainingSettings, fit  # noqa: E402

BATCH, STEPS, FEATURES = 64, 16, 3
UNITS = (32, 64)
N_SEQUENCES = 2048
ADAM_LEARNING_RATE = 1e-3
SGD_LEARNING_RATE = 0.01


def sequence_data(rng, n: int = N_SEQUENCES):
    """X (n, T, F) float32 standard normal; y (n, 1): the sum of the first feature over time / sqrt(T)."""
    X = rng.standard_normal((n, STEPS, FEATURES), dtype=np.float32)
    return X, X[:, :, :1].sum(axis=1) / np.float32(np.sqrt(STEPS))


def core_network(units: int, seed: int = 0):
    return rnn("lstm", units, 1).build((STEPS, FEATURES), seed, "float32")


class CoreTrainer:
    """``run(epochs)``: core's fit on the workload with the given optimizer."""

    def __init__(self, units, X, y, optimizer):
        self.network, self.X, self.y, self.optimizer = core_network(units), X, y, optimizer
        self.rng = np.random.default_rng(1)

    def run(self, epochs):
        fit(self.network, "mse", self.optimizer, self.X, self.y, TrainingSettings(epochs=epochs, batch_size=BATCH),
            rng=self.rng)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class NumpyLSTMTrainer:
    """The minimal numpy LSTM: one layer (W (F, 4H), U (H, 4H), b (4H,); gates i, f, g, o), Dense(1), MSE, SGD."""

    def __init__(self, units, X, y, rng):
        self.X, self.y, self.units = X, y, units
        F, H = X.shape[2], units
        self.W = (rng.standard_normal((F, 4 * H)) * np.sqrt(2 / (F + H))).astype(np.float32)
        self.U = (rng.standard_normal((H, 4 * H)) / np.sqrt(H)).astype(np.float32)
        self.b = np.zeros(4 * H, np.float32)
        self.b[H:2 * H] = 1.0
        self.Wd = (rng.standard_normal((H, 1)) * np.sqrt(2 / (H + 1))).astype(np.float32)
        self.bd = np.zeros(1, np.float32)

    def step(self, idx, lr=SGD_LEARNING_RATE):
        W, U, b, Wd, bd, H = self.W, self.U, self.b, self.Wd, self.bd, self.units
        x, y = self.X[idx], self.y[idx]
        n, T = x.shape[:2]
        h, c = np.zeros((n, H), np.float32), np.zeros((n, H), np.float32)
        cache = []
        with np.errstate(over="ignore"):  # exp(-z) = inf for very negative z gives the right sigmoid, 0
            for t in range(T):
                z = x[:, t] @ W + h @ U + b
                i, f, g, o = _sigmoid(z[:, :H]), _sigmoid(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), \
                    _sigmoid(z[:, 3 * H:])
                c_new = f * c + i * g
                tc = np.tanh(c_new)
                cache.append((h, c, i, f, g, o, tc))
                h, c = o * tc, c_new
        out = h @ Wd + bd
        d_out = 2.0 * (out - y) / out.size
        dWd, dbd = h.T @ d_out, d_out.sum(axis=0)
        dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b)
        dh, dc = d_out @ Wd.T, np.zeros((n, H), np.float32)
        for t in reversed(range(T)):
            h_prev, c_prev, i, f, g, o, tc = cache[t]
            dc = dc + dh * o * (1 - tc * tc)
            dz = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g),
                                 dh * tc * o * (1 - o)], axis=1)
            dW += x[:, t].T @ dz
            dU += h_prev.T @ dz
            db += dz.sum(axis=0)
            dh = dz @ U.T
            dc = dc * f
        for p, grad in ((W, dW), (U, dU), (b, db), (Wd, dWd), (bd, dbd)):
            p -= lr * grad

    def run(self, epochs):
        for _ in range(epochs):
            for start in range(0, len(self.X), BATCH):
                self.step(np.arange(start, min(start + BATCH, len(self.X))))


def main(argv=None) -> None:
    args = epoch_arguments(__doc__.split("\n\n")[0], 1, 3, argv)
    repeats = 3 if args.quick else 7
    print(machine_description())
    print(f"{datetime.datetime.now():%Y-%m-%d %H:%M}; load average at start: {os.getloadavg()[0]:.2f}; BLAS threads "
          f"limited to {args.threads} (threadpoolctl); {'quick' if args.quick else 'full'} run, {args.epochs} epochs "
          f"of {N_SEQUENCES:,} sequences per timed call, medians of {repeats}\n")
    X, y = sequence_data(np.random.default_rng(0))
    print(f"LSTM training, T = {STEPS}, F = {FEATURES}, batch {BATCH}, float32, LSTM(units) -> Dense(1), mse")
    rows = []
    for units in UNITS:
        trainers = {"core, Adam": CoreTrainer(units, X, y, Adam(ADAM_LEARNING_RATE)),
                    "core, SGD": CoreTrainer(units, X, y, SGD(SGD_LEARNING_RATE)),
                    "numpy reference, SGD": NumpyLSTMTrainer(units, X, y, np.random.default_rng(2))}
        medians = alternating_medians({name: (lambda t=t: t.run(args.epochs)) for name, t in trainers.items()},
                                      repeats)
        reference = medians["numpy reference, SGD"]
        for name, seconds in medians.items():
            rows.append([f"units {units}: {name}", f"{seconds / args.epochs * 1e3:.1f}",
                         f"{N_SEQUENCES * args.epochs / seconds:,.0f}", f"{reference / seconds:.2f}"])
    print(format_table(["implementation", "epoch ms (median)", "sequences/s", "speed-up over reference"], rows))
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
