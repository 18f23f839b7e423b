"""Compiled (numba) kernels: the one-pass optimizer rules of :mod:`core.optim`; for :mod:`core.conv` the row
stacking (:func:`stack_rows`, a plain copy) and the passes of a fused ReLU (:func:`rectify`, :func:`mask_rows`,
:func:`spread_masked`); and the softmax cross-entropy of :mod:`core.losses` (:func:`softmax_cross_entropy`).

Each optimizer kernel walks a flat buffer once and does, element by element, exactly the floating-point operations
of the numpy code of the rule (:meth:`core.optim.SGD._update` and the others), in the same order and in the dtype of the
buffer: every scalar is passed already cast to that dtype (as numpy 2 casts a Python float operand, NEP 50), no
literal enters the arithmetic, and without ``fastmath`` LLVM neither reorders nor contracts ``a * b + c`` into a
fused multiply-add, nor uses approximate reciprocals; the loops are vectorised (SIMD) all the same.
Multiplication, addition, division and square root are correctly rounded in both, so the results are bit-identical
to the numpy passes (``tests/core/test_optim_kernels.py``), only without the intermediate arrays: one pass over
memory instead of about eight. The copies and the ReLU passes are exact, as numpy's are; only the cross-entropy's
exp and log may differ from numpy's in the last bit (so :mod:`core.losses` uses it for every call it suits).

The optimizer kernels take 1-D, C-contiguous arrays of one dtype (float32 or float64); the caller checks that, and
the layout the others need is stated in their docstrings.

Compilation: cached on disk (``cache=True``: ``__pycache__`` next to this file, numba's user-wide cache, or
``NUMBA_CACHE_DIR``); where no cache location is writable the kernels are compiled in memory in each process.
Each kernel is compiled lazily, once per dtype used.
"""

from __future__ import annotations

import logging

import numba
import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["sgd_step", "momentum_step", "adagrad_step", "rmsprop_step", "adam_step", "stack_rows", "rectify",
           "mask_rows", "spread_masked", "softmax_cross_entropy"]


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
def stack_rows(image, before, periodic, n0, n1, y0, y1, k, out):
    """out[n - n0, y - y0, x, i, c] = Xp[n, y + i, x, c] for n0 <= n < n1, y0 <= y < y1, every padded column x
    and 0 <= i < k: the row stacks of :class:`core.conv._RowStacked`, where Xp is ``image`` (N, H, W, C) padded by
    ``before`` rows and columns in front (and as many behind as ``out`` has columns), periodically (the indices
    taken modulo H and W) or with zeros, without building Xp. ``image`` and ``out`` (n1 - n0, y1 - y0, Wp, k, C)
    are C-contiguous."""
    rows, columns, channels = image.shape[1], image.shape[2], image.shape[3]
    padded_columns = out.shape[2]
    source_column = np.empty(padded_columns, np.int64)  # the image column of each padded column; -1: a zero
    for x in range(padded_columns):
        u = x - before
        if periodic:
            u %= columns
        source_column[x] = u if 0 <= u < columns else -1
    source_row = np.empty(y1 - y0 + k - 1, np.int64)
    for y in range(y1 - y0 + k - 1):
        v = y + y0 - before
        if periodic:
            v %= rows
        source_row[y] = v if 0 <= v < rows else -1
    for n in range(n0, n1):
        for y in range(y1 - y0):
            for x in range(padded_columns):
                u = source_column[x]
                for i in range(k):
                    v = source_row[y + i]
                    if u < 0 or v < 0:
                        for c in range(channels):
                            out[n - n0, y, x, i, c] = 0
                    else:
                        for c in range(channels):
                            out[n - n0, y, x, i, c] = image[n, v, u, c]


@_jit
def rectify(values, zero):
    """values <- max(values, 0) in place, as ``np.maximum(values, 0)`` computes it (NaN kept, -0.0 -> +0.0).
    ``values`` is 1-D and contiguous; ``zero`` is 0 in its dtype."""
    for i in range(values.size):
        v = values[i]
        values[i] = zero if v <= zero else v


@_jit
def mask_rows(out, n0, n1, y0, y1, padded, offset, zero):
    """out[n, y, x, c] <- out[n, y, x, c] * (padded[n, y + offset, x + offset, c] > 0) for n0 <= n < n1,
    y0 <= y < y1: ``np.multiply(out, mask > 0)`` (a factor 1 leaves a value as it is; 0 gives +-0, or NaN for inf or
    NaN). ``out`` (N, H, W, C) and ``padded`` (N, Hp, Wp, C) are C-contiguous; ``zero`` is 0 in their dtype."""
    rows, columns, channels = out.shape[1], out.shape[2], out.shape[3]
    padded_rows, padded_columns = padded.shape[1], padded.shape[2]
    run = columns * channels
    flat_out, flat_padded = out.reshape(-1), padded.reshape(-1)
    for n in range(n0, n1):
        for y in range(y0, y1):
            start = (n * rows + y) * run
            target = flat_out[start:start + run]
            start = ((n * padded_rows + y + offset) * padded_columns + offset) * channels
            mask = flat_padded[start:start + run]
            for i in range(run):
                if not mask[i] > zero:
                    target[i] = target[i] * zero


@_jit
def spread_masked(values, inputs, out, zero, one):
    """out[n, y, x, c] = values[n, c] * (inputs[n, y, x, c] > 0): a global average pool's input gradient times the
    mask of a ReLU before it, as the copy of ``values`` followed by ``np.multiply(out, inputs > 0)``. ``values``
    (N, C), ``inputs`` and ``out`` (N, H, W, C), all C-contiguous; ``zero``, ``one`` in their dtype."""
    samples, channels = out.shape[0], out.shape[3]
    sites = out.shape[1] * out.shape[2]
    flat_in = inputs.reshape(samples, sites * channels)
    flat_out = out.reshape(samples, sites * channels)
    for n in range(samples):
        row, target, source = values[n], flat_out[n], flat_in[n]
        for s in range(sites):
            for c in range(channels):
                i = s * channels + c
                target[i] = row[c] * (one if source[i] > zero else zero)


@_jit
def softmax_cross_entropy(logits, labels, probabilities, gradient, inverse_count, one):
    """Softmax cross-entropy of ``logits`` (N, K) against integer ``labels`` (N,), row by row: with m = max_k z_k
    (NaN if any z_k is), s = z - m, log p = s - log(sum_k exp(s)) (never overflows), ``probabilities`` = exp(log p)
    and ``gradient`` = (p - onehot) * ``inverse_count`` (1 / N in the dtype), computed as
    ``(probabilities - onehot) * inverse_count`` would be; ``one`` is 1 in the dtype. Returns the sum over rows of
    log p[label], accumulated in float64."""
    total = 0.0
    rows, classes = logits.shape
    for n in range(rows):
        largest = logits[n, 0]
        for k in range(1, classes):
            z = logits[n, k]
            if z > largest or z != z:
                largest = z
        for k in range(classes):
            probabilities[n, k] = np.exp(logits[n, k] - largest)
        norm = probabilities[n, 0]
        for k in range(1, classes):
            norm += probabilities[n, k]
        log_norm = np.log(norm)
        label = labels[n]
        for k in range(classes):
            log_p = (logits[n, k] - largest) - log_norm
            p = np.exp(log_p)
            probabilities[n, k] = p
            if k == label:
                total += log_p
                gradient[n, k] = (p - one) * inverse_count
            else:
                gradient[n, k] = p * inverse_count
    return total
