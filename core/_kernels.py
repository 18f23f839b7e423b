"""Compiled (numba) kernels: the one-pass optimizer rules of :mod:`core.optim`, and the row stacking of
:mod:`core.conv` (:func:`stack_rows`, a plain copy).

Each kernel walks a flat buffer once and does, element by element, exactly the floating-point operations of the
numpy code of the rule (:meth:`core.optim.SGD._update` and the others), in the same order and in the dtype of the
buffer: every scalar is passed already cast to that dtype (as numpy 2 casts a Python float operand, NEP 50), no
literal enters the arithmetic, and without ``fastmath`` LLVM neither reorders nor contracts ``a * b + c`` into a
fused multiply-add, nor uses approximate reciprocals; the loops are vectorised (SIMD) all the same.
Multiplication, addition, division and square root are correctly rounded in both, so the results are bit-identical
to the numpy passes (``tests/core/test_optim_kernels.py``), only without the intermediate arrays: one pass over
memory instead of about eight.

All arrays are 1-D, C-contiguous and of one dtype (float32 or float64); the caller checks that.

Compilation: cached on disk (``cache=True``: ``__pycache__`` next to this file, numba's user-wide cache, or
``NUMBA_CACHE_DIR``); where no cache location is writable the kernels are compiled in memory in each process.
Each kernel is compiled lazily, once per dtype used.
"""

from __future__ import annotations

import logging

import numba
import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["sgd_step", "momentum_step", "adagrad_step", "rmsprop_step", "adam_step", "stack_rows"]


def _jit(function):
    """``numba.njit(cache=True, nogil=True, error_model="numpy")``, or without the disk cache when no cache location
    is writable. The numpy error model makes a division by zero give inf or nan, as numpy does, instead of raising,
    which also lets LLVM vectorise the loops."""
    try:
        return numba.njit(cache=True, nogil=True, error_model="numpy")(function)
    except RuntimeError as err:  # numba: "cannot cache function ...: no locator available for file ..."
        logger.debug("numba disk cache unavailable for %s (%s); compiling in memory", function.__name__, err)
        return numba.njit(cache=False, nogil=True, error_model="numpy")(function)


@_jit
def sgd_step(value, grad, lr):
    """w <- w - (g * lr): the numpy ``grad *= lr; value -= grad`` (``grad`` is left unchanged here)."""
    for i in range(value.size):
        value[i] = value[i] - grad[i] * lr


@_jit
def momentum_step(value, grad, velocity, momentum, lr, nesterov, step_on_velocity):
    """v <- v * mu + g; Nesterov: w <- w - g * lr; then w <- w - v * step_on_velocity (lr, or lr * mu)."""
    for i in range(value.size):
        v = velocity[i] * momentum + grad[i]
        velocity[i] = v
        w = value[i]
        if nesterov:
            w = w - grad[i] * lr
        value[i] = w - v * step_on_velocity


@_jit
def adagrad_step(value, grad, sum_sq, eps, lr):
    """G <- G + g * g; w <- w - (g / (sqrt(G) + eps)) * lr."""
    for i in range(value.size):
        g = grad[i]
        s = sum_sq[i] + g * g
        sum_sq[i] = s
        value[i] = value[i] - (g / (np.sqrt(s) + eps)) * lr


@_jit
def rmsprop_step(value, grad, mean_sq, rho, one_minus_rho, eps, lr):
    """v <- v * rho + (g * g) * (1 - rho); w <- w - (g / (sqrt(v) + eps)) * lr."""
    for i in range(value.size):
        g = grad[i]
        s = mean_sq[i] * rho + (g * g) * one_minus_rho
        mean_sq[i] = s
        value[i] = value[i] - (g / (np.sqrt(s) + eps)) * lr


@_jit
def adam_step(value, grad, m, v, beta1, one_minus_beta1, beta2, one_minus_beta2, eps, step_size):
    """m <- m * b1 + g * (1 - b1); v <- v * b2 + (g * g) * (1 - b2); w <- w - (m / (sqrt(v) + eps)) * step_size."""
    for i in range(value.size):
        g = grad[i]
        mi = m[i] * beta1 + g * one_minus_beta1
        vi = v[i] * beta2 + (g * g) * one_minus_beta2
        m[i] = mi
        v[i] = vi
        value[i] = value[i] - (mi / (np.sqrt(vi) + eps)) * step_size


@_jit
def stack_rows(padded, n0, n1, y0, y1, k, out):
    """out[n - n0, y - y0, x, i, c] = padded[n, y + i, x, c] for n0 <= n < n1, y0 <= y < y1, every column x and
    0 <= i < k: the row stacks of :class:`core.conv._RowStacked` (numpy's strided copy moves runs of only C values,
    ~2x slower). ``padded`` (N, Hp, Wp, C) and ``out`` (n1 - n0, y1 - y0, Wp, k, C) are C-contiguous."""
    columns, channels = padded.shape[2], padded.shape[3]
    for n in range(n0, n1):
        for y in range(y0, y1):
            for x in range(columns):
                for i in range(k):
                    for c in range(channels):
                        out[n - n0, y - y0, x, i, c] = padded[n, y + i, x, c]
