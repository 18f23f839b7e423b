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
