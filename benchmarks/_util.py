"""Shared helpers for the benchmarks: timing, matrix-multiply rate, machine description, tables.

Benchmarks print medians and ratios measured in the same run, because the machines they run on are shared and
noisy. Nothing here depends on ml4phys itself.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np


def median_seconds(function: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall-clock time of ``function()`` over ``repeats`` calls, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gemm_flops(m: int, k: int, n: int) -> int:
    """Floating-point operations of one (m, k) @ (k, n) product: 2 m k n (one multiply and one add each)."""
    return 2 * m * k * n


def matmul_rate(products: Sequence[tuple[np.ndarray, np.ndarray]], repeats: int = 15) -> float:
    """Median rate in GFLOP/s of running the given matrix products once each, back to back.

    products : pairs (A, B) of arrays, multiplied as ``np.matmul(A, B, out=C)`` with C preallocated, so only
        the BLAS call is timed. Pass transposed views (``X.T``) to time the layouts a backward pass uses.
    """
    outs = [np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b)) for a, b in products]
    flops = sum(gemm_flops(a.shape[0], a.shape[1], b.shape[1]) for a, b in products)

    def run():
        for (a, b), out in zip(products, outs):
            np.matmul(a, b, out=out)

    # repeat the set enough times that one timed call lasts >= ~20 ms (timer and scheduling noise)
    inner = max(1, int(0.02 / max(median_seconds(run, 3), 1e-6)))

    def run_many():
        for _ in range(inner):
            run()

    return flops * inner / median_seconds(run_many, repeats) / 1e9


def blas_description() -> str:
    """BLAS library and thread count as threadpoolctl reports them (a scikit-learn dependency), else numpy's."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return "BLAS: unknown (threadpoolctl not installed)"
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    return "; ".join(f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads, "
                     f"{p.get('architecture')})" for p in pools) or "BLAS: none found"


def machine_description() -> str:
    """One line: CPU model, logical CPUs, Python and numpy versions, BLAS."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}; {os.cpu_count()} logical CPUs; Python {platform.python_version()}; numpy {np.__version__}; "
            f"{blas_description()}")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (readable as plain text); numbers are expected pre-formatted as strings."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row):
        padded = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|"
    return "\n".join([line(cells[0]), rule] + [line(row) for row in cells[1:]])


def alternating_medians(functions: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """One untimed call of each function, then ``repeats`` rounds of one timed call each, the order rotating from
    round to round (so that a slowdown of a shared machine hits every implementation alike); returns
    {name: median seconds}."""
    names = list(functions)
    for name in names:
        functions[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(median_seconds(functions[name], 1, warmup=0))
    return {name: statistics.median(t) for name, t in times.items()}


def epoch_arguments(description: str, quick_epochs: int, full_epochs: int, argv=None):
    """Parse ``--quick``, ``--epochs`` and ``--threads`` of a training benchmark and limit BLAS to ``--threads``
    threads (threadpoolctl); return the namespace with ``epochs`` filled in."""
    import argparse

    from threadpoolctl import threadpool_limits

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=f"{quick_epochs} epochs per fit and fewer repeats "
                                                             f"(smoke test) instead of {full_epochs} epochs")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"epochs per fit (default {full_epochs}, --quick {quick_epochs})")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (threadpoolctl), default 1")
    args = parser.parse_args(argv)
    if args.threads < 1 or (args.epochs is not None and args.epochs < 1):
        parser.error("--threads and --epochs must be >= 1")
    threadpool_limits(args.threads)
    args.epochs = args.epochs or (quick_epochs if args.quick else full_epochs)
    return args
