"""Convolution and pooling layers on image batches of shape (batch, channels, height, width).

Conv2D is a cross-correlation (as in every deep-learning library), stride 1:

    Y[n, f, y, x] = b[f] + sum_{c, i, j} W[f, c, i, j] * Xp[n, c, y + i, x + j]

where Xp is the input padded by ``before = (k - 1) // 2`` rows/columns in front and ``after = k // 2``
behind ("zero": zeros; "periodic": the lattice wrapped around, i.e. a torus) or not padded ("valid").
"zero" and "periodic" therefore keep H and W for odd and even k; "valid" gives H - k + 1, W - k + 1.
With periodic padding the layer commutes with lattice translations (np.roll of the input rolls the output).

How it is computed. Arrays are kept channel-last, (batch, H, W, C) in memory, and handed on as
(batch, C, H, W) views. The input (kept for the backward pass) is padded, and the output sites are processed in
chunks of a few thousand: each chunk's shifted windows ("im2col") are copied into a reused buffer of about one
megabyte, which stays in the CPU cache while matrix products
(sites, C k k) @ (C k k, F) turn it into the chunk's outputs. (The same product on all sites at once streams a
matrix ~9x the size of the input from memory and runs 3-4x slower.) With many channels the windows are not
copied k*k times but k times, as row stacks from which every window is a contiguous run (:class:`_RowStacked`);
their compiled copy reads the unpadded channel-last image, wrapping the indices around (periodic) or writing
zeros, so that no padded copy of the image is made; the weight gradient sums the chunks' (C k k, sites) @
(sites, F) products, rebuilding the chunk columns from the kept input (cheaper than keeping all columns, which
would leave the cache), and the bias gradient is one matrix-vector product per sample. With few channels (the
first layer of a network) the columns of the whole batch are built tap by tap, with a row of ones for the bias, and
kept for the weight gradient (:class:`_TapMajor`). The input
gradient is the cross-correlation of dY, padded the other way round (``after`` in front, ``before`` behind;
k - 1 zeros on both sides for "valid"), with the kernel flipped in space and transposed in channels:
dX[n, c, u, v] = sum_{f, i, j} W[f, c, k-1-i, k-1-j] dYp[n, f, u + i, v + j], computed like the forward pass.
All arithmetic stays in the layer's dtype; results agree with the straightforward sums up to that dtype's
rounding (tests/core/test_conv_reference.py).

Threads. The chunks (at least 8 per layer, handed out one at a time) and, for large batches, the samples of the
padding, the first layer's columns, the pooling and the bias gradient are split over as many threads as BLAS may
use (``threadpoolctl.threadpool_limits``, ``OMP_NUM_THREADS``, the app's ``trainer.blas_threads``), each running
its products on one BLAS thread (:mod:`core._threads`); a chunk's products are too small for BLAS's own threads to
help. Every thread writes its own slice of the outputs and the weight gradient is the sum of per-chunk sums in
chunk order, so the numbers are the same for every thread count (tests/core/test_threads.py). Inside a
:class:`core.network.Sequential` the outputs and input gradients passed to the neighbouring layers live in buffers
reused from step to step (``Layer.reuse_output``), which spares the page faults of fresh multi-megabyte arrays,
and a ReLU after a Conv2D is applied to each chunk's outputs while they are in the cache (``rectify_output``), a
ReLU before it by masking each chunk of dX (``mask_input_grad``; see :mod:`core.base`, "Fused ReLU").
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from core._threads import single_threaded_blas, split_work
from core._validation import check_bool, check_choice, check_positive_int
from core.base import Layer
from core.init import check_init_name, initialize

__all__ = ["Conv2D", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D", "PADDINGS"]

PADDINGS = ("zero", "valid", "periodic")

#: elements of one im2col chunk (1 MiB in float32): small enough to stay in the per-core cache
_CHUNK_ELEMENTS = 1 << 18
#: fewest chunks a layer's work is cut into, when the batch is large enough (see _chunks)
_MIN_CHUNKS = 8
#: channels x kernel side from which the columns are row stacks (_RowStacked, runs of C k contiguous values);
#: below it (e.g. one input channel) the whole batch's columns are built tap by tap (_TapMajor)
_SITE_MAJOR_MIN_RUN = 8


#: build the row stacks with the compiled copy of :mod:`core._kernels` (False: numpy's strided copy; the same values)
USE_KERNELS = True


def _kernels():
    from core import _kernels as module  # numba, imported at the first convolution

    return module


def _check_image_shape(input_shape, owner: str) -> None:
    if len(input_shape) != 3:
        raise ValueError(
            f"{owner} expects inputs of shape (batch, channels, height, width); got per-sample input shape "
            f"{tuple(input_shape)}. Reshape lattices of shape (batch, L, L) to (batch, 1, L, L)."
        )


def _buffer(cache: dict, name: str, shape: tuple, dtype) -> np.ndarray:
    """A C-contiguous array of ``shape`` carved from a reusable flat buffer ``cache[name]`` (grown as needed)."""
    size = math.prod(shape)
    flat = cache.get(name)
    if flat is None or flat.size < size or flat.dtype != dtype:
        flat = cache[name] = np.empty(size, dtype)
    return flat[:size].reshape(shape)


#: largest output (bytes) kept for reuse between calls (see ``Layer.reuse_output``); larger ones, e.g. of a
#: prediction over thousands of samples, are allocated afresh rather than held
_REUSE_MAX_BYTES = 1 << 26


def _result(cache: dict, name: str, shape: tuple, dtype, reuse: bool) -> np.ndarray:
    """An uninitialised C-contiguous array of ``shape``: a reused buffer when ``reuse`` and it is no larger than
    ``_REUSE_MAX_BYTES``, else a new array."""
    if reuse and math.prod(shape) * np.dtype(dtype).itemsize <= _REUSE_MAX_BYTES:
        return _buffer(cache, name, shape, dtype)
    return np.empty(shape, dtype)


def _zeroed_buffer(cache: dict, name: str, shape: tuple, dtype) -> np.ndarray:
    """A reusable array ``cache[name]`` of exactly ``shape``, filled with zeros when (re)allocated."""
    array = cache.get(name)
    if array is None or array.shape != shape or array.dtype != dtype:
        array = cache[name] = np.zeros(shape, dtype)
    return array


def _pad_channel_last(X: np.ndarray, out: np.ndarray, before: int, after: int, periodic: bool) -> None:
    """Write X (N, H, W, C) into ``out`` (N, H + before + after, W + before + after, C), padded periodically
    or with zeros. For zero padding the border of ``out`` must already be zero (it is never written)."""
    _, H, W, _ = X.shape
    if not periodic:
        split_work(lambda n0, n1, part: np.copyto(out[n0:n1, before:before + H, before:before + W], X[n0:n1]), len(X),
                   size=out.size)
        return
    if max(before, after) > min(H, W):  # wraps around the torus more than once
        rows = (np.arange(H + before + after) - before) % H
        columns = (np.arange(W + before + after) - before) % W
        np.take(np.take(X, rows, axis=1), columns, axis=2, out=out)
        return

    def work(n0, n1, part):
        block = out[n0:n1]
        block[:, before:before + H, before:before + W] = X[n0:n1]
        block[:, :before] = block[:, H:H + before]
        block[:, before + H:] = block[:, before:before + after]
        block[:, :, :before] = block[:, :, W:W + before]
        block[:, :, before + W:] = block[:, :, before:before + after]

    split_work(work, len(X), size=out.size)


def _chunks(N: int, Ho: int, Wo: int, per_site: int):
    """(n0, n1, y0, y1): blocks of whole samples, or row blocks of one sample, of about _CHUNK_ELEMENTS
    column entries (``per_site`` per output site), and at least _MIN_CHUNKS of them where the batch allows (so
    that threads share the work evenly; the chunks do not depend on the thread count, nor do the results); each
    block of outputs is contiguous in (N, Ho, Wo, F)."""
    sites = max(1, min(_CHUNK_ELEMENTS, N * Ho * Wo * per_site // _MIN_CHUNKS) // per_site)
    if sites >= Ho * Wo:
        step = sites // (Ho * Wo)
        for n0 in range(0, N, step):
            yield n0, min(N, n0 + step), 0, Ho
    else:
        step = max(1, sites // Wo)
        for n in range(N):
            for y0 in range(0, Ho, step):
                yield n, n + 1, y0, min(Ho, y0 + step)


def _engine(channels: int, k: int):
    """The im2col class that suits ``channels`` input channels and k x k kernels."""
    return _RowStacked if channels * k >= _SITE_MAJOR_MIN_RUN else _TapMajor


def _im2col(image: np.ndarray, before: int, after: int, periodic: bool, k: int, dtype, cache: dict):
    """The im2col object of ``image`` (N, H, W, C), channel-last, padded by ``before`` rows and columns in front and
    ``after`` behind (periodically or with zeros), for k x k kernels, computing in ``dtype``."""
    return _engine(image.shape[3], k)(image, before, after, periodic, k, dtype, cache)


def _padded(image: np.ndarray, before: int, after: int, periodic: bool, dtype, cache: dict) -> np.ndarray:
    """``image`` (N, H, W, C) padded into the reused buffer ``cache["padded"]``, C-contiguous, in ``dtype``."""
    N, H, W, C = image.shape
    padded = _zeroed_buffer(cache, "padded", (N, H + before + after, W + before + after, C), dtype)
    _pad_channel_last(image, padded, before, after, periodic)
    return padded


class _TapMajor:
    """Columns (C k k [+ 1], sites) of the whole batch, each row one shifted copy of the image (rows in (c, i, j)
    order), with a last row of ones when there is a bias, so that the bias rides along in the products; for few
    channels (C k small), where the columns are no bigger than a few copies of the output. Kept from
    ``correlate`` for ``weight_gradient``. The image is padded into a reused buffer first."""

    def __init__(self, image: np.ndarray, before: int, after: int, periodic: bool, k: int, dtype,
                 cache: dict) -> None:
        self.image, self.k, self.cache = image, k, cache
        self.padded = _padded(image, before, after, periodic, dtype, cache)
        self.kept_input = (self.padded, before)
        N, Hp, Wp, C = self.padded.shape
        self.N, self.Ho, self.Wo, self.C = N, Hp - k + 1, Wp - k + 1, C
        self.cols = None

    def correlate(self, W: np.ndarray, out: np.ndarray, bias: np.ndarray | None = None, rectify: bool = False,
                  mask: np.ndarray | None = None, mask_offset: int = 0) -> None:
        """out (N, Ho, Wo, F) = cross-correlation of ``padded`` with W (F, C, k, k) [+ bias], then the passes of a
        fused ReLU (see :func:`_relu_passes`: max(., 0) if ``rectify``, times (mask > 0) if ``mask`` is given)."""
        k, C, F = self.k, self.C, W.shape[0]
        taps = C * k * k
        cols = _buffer(self.cache, "cols", (taps + (bias is not None), self.N * self.Ho * self.Wo),
                       self.padded.dtype)
        windows = sliding_window_view(self.padded, (k, k), axis=(1, 2))  # (N, Ho, Wo, C, k, k), no copy
        taps_view = cols[:taps].reshape(C, k, k, self.N, self.Ho, self.Wo)
        Wm = W.reshape(F, taps)
        if bias is not None:
            cols[taps] = 1
            Wm = np.concatenate([Wm, bias[:, None]], axis=1)
        sites, per_sample = out.reshape(-1, F), self.Ho * self.Wo

        def work(n0, n1, part):
            np.copyto(taps_view[..., n0:n1, :, :], windows[n0:n1].transpose(3, 4, 5, 0, 1, 2))
            np.matmul(cols[:, n0 * per_sample:n1 * per_sample].T, Wm.T, out=sites[n0 * per_sample:n1 * per_sample])
            _relu_passes(out, n0, n1, 0, self.Ho, rectify, mask, mask_offset)

        split_work(work, self.N, size=cols.size + out.size)
        self.cols = cols

    def weight_gradient(self, dY: np.ndarray):
        """(dW (F, C, k, k), db (F,) or None without a bias) from dY (N, Ho, Wo, F), C-contiguous."""
        k, C, F = self.k, self.C, dY.shape[3]
        taps = C * k * k
        per_sample = self.cols.reshape(-1, self.N, self.Ho * self.Wo).transpose(1, 0, 2)
        # N small products beat one (C k k, N Ho Wo) @ (N Ho Wo, F) product, whose long inner dimension BLAS
        # handles poorly
        grads = np.empty((self.N, len(per_sample[0]), F), dtype=dY.dtype)
        dY_samples = dY.reshape(self.N, -1, F)
        split_work(lambda n0, n1, part: np.matmul(per_sample[n0:n1], dY_samples[n0:n1], out=grads[n0:n1]), self.N,
                   size=self.cols.size + dY.size)
        grad = np.add.reduce(grads, axis=0)  # (C k k [+ 1], F)
        return grad[:taps].T.reshape(F, C, k, k), (grad[taps] if len(grad) > taps else None)


class _RowStacked:
    """Im2col with a third of the copying, for many channels (C k large).

    The chunk's image rows y are copied k times, stacked: Z[y, x, i, c] = Xp[y + i, x, c] for every padded
    column x (Wp = Wo + k - 1 of them). The k x k window of output site (y, x) is then the contiguous run
    Z[y, x:x + k] of k k C values, and the windows of the sites s = k q + r (s = y Wp + x counted over the
    chunk, r fixed) tile Z without gaps or overlap: a plain (sites / k, k k C) matrix for each phase r, so k
    products cover every site. The k - 1 sites x >= Wo per row are wasted work (their windows straddle two
    rows); their outputs are dropped and their gradients set to zero.

    The compiled copy (:func:`core._kernels.stack_rows`) reads the rows straight from the unpadded image, wrapping
    the indices around or writing zeros, when the image is C-contiguous in the layer's dtype: no padded copy of the
    image is made. Otherwise the image is padded into a reused buffer and numpy copies the stacks from it.
    """

    def __init__(self, image: np.ndarray, before: int, after: int, periodic: bool, k: int, dtype,
                 cache: dict) -> None:
        self.image, self.k, self.cache, self.dtype = image, k, cache, np.dtype(dtype)
        self.before, self.periodic = before, periodic
        N, H, W, C = image.shape
        Hp, self.Wp = H + before + after, W + before + after
        self.N, self.Ho, self.Wo, self.C = N, Hp - k + 1, self.Wp - k + 1, C
        self.compiled = image.dtype == self.dtype and _compiled(image)
        if self.compiled:
            self.kept_input = (image, 0)
        else:
            padded = _padded(image, before, after, periodic, dtype, cache)
            self.kept_input = (padded, before)
            # (N, Ho, Wp, k, C) view of the row stacks, no copy
            self.stacks = sliding_window_view(padded, k, axis=1).transpose(0, 1, 2, 4, 3)

    def _chunks(self):
        return list(_chunks(self.N, self.Ho, self.Wo, self.Wp * self.k * self.C // self.Wo))

    def _phases(self, n0, n1, y0, y1, part):
        """Fill Z (the scratch of thread ``part``) for the chunk; return its k phase matrices (sites of phase r,
        k k C) and the chunk's site count (Wp per row)."""
        k, C, Wp = self.k, self.C, self.Wp
        sites = (n1 - n0) * (y1 - y0) * Wp
        run = k * C  # values per site in Z
        flat = _buffer(self.cache, f"stacked{part}", ((sites + k - 1) * run,), self.dtype)
        stacks = flat[:sites * run].reshape(n1 - n0, y1 - y0, Wp, k, C)
        if self.compiled:
            _kernels().stack_rows(self.image, self.before, self.periodic, n0, n1, y0, y1, k, stacks)
        else:
            np.copyto(stacks, self.stacks[n0:n1, y0:y1])
        flat[sites * run:] = 0  # read only by the dropped sites; kept finite so that 0 * value stays 0
        return [flat[r * run:(r + (sites - r + k - 1) // k * k) * run].reshape(-1, k * run)
                for r in range(k)], sites

    def _scratch(self, name, sites, F):
        return _buffer(self.cache, name, (sites, F), self.dtype)

    def _partial_sums(self, grads, part, phases, rows):
        """grads[c] = sum over the k phases of phase.T @ (the phase's rows), in phase order."""
        k = self.k
        np.matmul(phases[0].T, rows[0::k], out=grads)
        partial = _buffer(self.cache, f"partial{part}", grads.shape, grads.dtype)
        for r in range(1, k):
            grads += np.matmul(phases[r].T, rows[r::k], out=partial)

    def correlate(self, W: np.ndarray | None, out: np.ndarray | None, bias: np.ndarray | None = None,
                  rectify: bool = False, mask: np.ndarray | None = None, mask_offset: int = 0,
                  source: np.ndarray | None = None):
        """out (N, Ho, Wo, F) = cross-correlation of ``padded`` with W (F, C, k, k) [+ bias] (skipped if W is
        None), then the passes of a fused ReLU, chunk by chunk while the outputs are in the cache (see
        :func:`_relu_passes`: max(., 0) if ``rectify``, times (mask > 0) if ``mask`` is given).

        With ``source`` (N, Ho, Wo, S), also return G (S, C, k, k), G[s, c, i, j] = sum over n, y, x of
        source[n, y, x, s] padded[n, y + i, x + j, c], from the same columns (the weight gradient, computed
        with the input gradient); else None. The chunks are split over threads (:mod:`core._threads`); G is the
        sum of per-chunk sums, taken in chunk order."""
        k, C, Wo, Wp = self.k, self.C, self.Wo, self.Wp
        chunks = self._chunks()
        if W is not None:
            F = W.shape[0]
            Wm = W.transpose(3, 2, 1, 0).reshape(-1, F)  # rows in the (j, i, c) order of a window
        if source is not None:
            S = source.shape[3]
            grads = np.empty((len(chunks), k * k * C, S), dtype=self.dtype)

        def work(start, stop, part):
            for c in range(start, stop):
                n0, n1, y0, y1 = chunks[c]
                phases, sites = self._phases(n0, n1, y0, y1, part)
                if W is not None:
                    full = self._scratch(f"out{part}", sites, F)
                    for r, A in enumerate(phases):
                        np.matmul(A, Wm, out=full[r::k])
                    valid = full.reshape(-1, Wp, F)[:, :Wo]
                    block = out[n0:n1, y0:y1].reshape(-1, Wo, F)
                    if bias is None:
                        np.copyto(block, valid)
                    else:
                        np.add(valid, bias, out=block)
                    _relu_passes(out, n0, n1, y0, y1, rectify, mask, mask_offset)
                if source is not None:
                    rows = self._scratch(f"source{part}", sites, S).reshape(n1 - n0, y1 - y0, Wp, S)
                    rows[:, :, :Wo] = source[n0:n1, y0:y1]
                    rows[:, :, Wo:] = 0
                    self._partial_sums(grads[c], part, phases, rows.reshape(sites, S))

        split_work(work, len(chunks), dynamic=True)
        if source is not None:
            return np.add.reduce(grads, axis=0).reshape(k, k, C, S).transpose(3, 2, 1, 0)
        return None

    def weight_gradient(self, dY: np.ndarray):
        """(dW (F, C, k, k), db (F,)) from dY (N, Ho, Wo, F), C-contiguous."""
        k, C, F, Wo, Wp = self.k, self.C, dY.shape[3], self.Wo, self.Wp
        chunks = self._chunks()
        grads = np.empty((len(chunks), k * k * C, F), dtype=self.dtype)

        def work(start, stop, part):
            for c in range(start, stop):
                n0, n1, y0, y1 = chunks[c]
                phases, sites = self._phases(n0, n1, y0, y1, part)
                full = self._scratch(f"grad{part}", sites, F).reshape(-1, Wp, F)
                full[:, :Wo] = dY[n0:n1, y0:y1].reshape(-1, Wo, F)
                full[:, Wo:] = 0
                self._partial_sums(grads[c], part, phases, full.reshape(sites, F))

        split_work(work, len(chunks), dynamic=True)
        return np.add.reduce(grads, axis=0).reshape(k, k, C, F).transpose(3, 2, 1, 0), _site_sum(dY)


def _compiled(*arrays) -> bool:
    """Whether the compiled kernels take ``arrays``: C-contiguous, of one dtype, float32 or float64."""
    dtype = arrays[0].dtype
    return USE_KERNELS and dtype in (np.float32, np.float64) and all(
        array.dtype == dtype and array.flags.c_contiguous for array in arrays)


def _relu_passes(out: np.ndarray, n0: int, n1: int, y0: int, y1: int, rectify: bool,
                 mask: np.ndarray | None, offset: int) -> None:
    """The passes of a fused ReLU on the rows out[n0:n1, y0:y1] of ``out`` (N, H, W, C), in place: max(., 0) if
    ``rectify`` (its forward), times (mask[n, y + offset, x + offset, c] > 0) if ``mask`` is given (its backward;
    ``mask`` is a layer's kept padded input). The operations of :class:`core.activations.ReLU`."""
    if not rectify and mask is None:
        return
    if _compiled(out, *(() if mask is None else (mask,))):
        zero = out.dtype.type(0)
        if rectify:  # whole samples, or rows of one sample: a contiguous block
            _kernels().rectify(out[n0:n1, y0:y1].reshape(-1), zero)
        if mask is not None:
            _kernels().mask_rows(out, n0, n1, y0, y1, mask, offset, zero)
        return
    block = out[n0:n1, y0:y1]
    if rectify:
        np.maximum(block, 0, out=block)
    if mask is not None:
        width = out.shape[2]
        np.multiply(block, mask[n0:n1, y0 + offset:y1 + offset, offset:offset + width] > 0, out=block)


def _site_sum(A: np.ndarray) -> np.ndarray:
    """The sum of A (N, H, W, F), C-contiguous, over samples and sites, shape (F,): per-sample sums as
    matrix-vector products (numpy's sum along the strided axis is slower), split over threads, then their sum."""
    N, F = len(A), A.shape[-1]
    sites = A.reshape(N, -1, F)
    ones, per_sample = np.ones(sites.shape[1], A.dtype), np.empty((N, F), A.dtype)
    split_work(lambda n0, n1, part: np.matmul(ones, sites[n0:n1], out=per_sample[n0:n1]), N, size=A.size)
    return np.add.reduce(per_sample, axis=0)


def _channel_last(A: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> its (N, H, W, C) transpose, a view when A is channel-last in memory, else a copy."""
    return np.ascontiguousarray(A.transpose(0, 2, 3, 1))


class Conv2D(Layer):
    """2D convolution (cross-correlation), stride 1, with "zero", "valid" or "periodic" padding.

    Parameters
    ----------
    filters : int
        Number of output channels F, >= 1.
    kernel_size : int
        Side k of the square k x k kernel, >= 1.
    padding : {"zero", "valid", "periodic"}
        See the module docstring.
    init : str or None, default None
        Initialiser name (see :mod:`core.init`), or None: chosen from the following activation by a Sequential
        (see :class:`core.layers.Dense`). fan_in = C k k, fan_out = F k k.
    use_bias : bool, default True
        Whether to add a bias b per output channel (initialised to zero).

    Notes
    -----
    Shapes: X (batch, C, H, W) -> Y (batch, F, H', W'); W (F, C, k, k); b (F,). Y and dX are (batch, C, H, W)
    views of channel-last arrays (see the module docstring); any memory layout of X and dY is accepted.

    Gradients: dW[f, c, i, j] = sum over n, y, x of dY[n, f, y, x] Xp[n, c, y + i, x + j] (chunked products);
    db[f] = sum of dY[:, f]; dX = the cross-correlation of dY with the flipped kernel (module docstring).
    """

    fresh_output = True
    fresh_input_grad = True
    skips_input_grad = True
    can_rectify_output = True
    can_mask_input_grad = True

    def __init__(self, filters: int, kernel_size: int, padding: str = "zero", init: str | None = None,
                 use_bias: bool = True) -> None:
        super().__init__()
        self.filters = check_positive_int(filters, "filters", "Conv2D")
        self.kernel_size = check_positive_int(kernel_size, "kernel_size", "Conv2D")
        check_choice(padding, "padding", "Conv2D", PADDINGS)
        check_init_name(init, "Conv2D")
        check_bool(use_bias, "use_bias", "Conv2D")
        self.padding = padding
        self.init = init
        self.use_bias = bool(use_bias)
        self.fallback_init = "glorot"
        self._forward_buffers: dict = {}
        self._backward_buffers: dict = {}
        self._columns = None
        k = self.kernel_size
        self._before, self._after = ((k - 1) // 2, k // 2) if padding != "valid" else (0, 0)

    def compute_output_shape(self, input_shape):
        _check_image_shape(input_shape, "Conv2D")
        _, H, W = input_shape
        k = self.kernel_size
        if self.padding == "valid":
            if H < k or W < k:
                raise ValueError(f"Conv2D with padding='valid' needs height and width >= kernel_size={k}; "
                                 f"got input shape {tuple(input_shape)}.")
            return (self.filters, H - k + 1, W - k + 1)
        return (self.filters, H, W)

    def build(self, input_shape, rng, dtype):
        output_shape = super().build(input_shape, rng, dtype)
        C, k, F = self.input_shape[0], self.kernel_size, self.filters
        self._allocate("W", initialize(self.init or self.fallback_init, (F, C, k, k), C * k * k, F * k * k,
                                       rng, self.dtype))
        if self.use_bias:
            self._allocate("b", np.zeros(F))
        return output_shape

    def forward(self, X, training=False):
        N = X.shape[0]
        _, Ho, Wo = self.output_shape
        dtype = self.params["W"].dtype
        columns = _im2col(X.transpose(0, 2, 3, 1), self._before, self._after, self.padding == "periodic",
                          self.kernel_size, dtype, self._forward_buffers)
        Y = _result(self._forward_buffers, "Y", (N, Ho, Wo, self.filters), dtype, self.reuse_output)
        columns.correlate(self.params["W"], Y, self.params["b"] if self.use_bias else None, self.rectify_output)
        self._columns = columns
        return Y.transpose(0, 3, 1, 2)  # (N, F, Ho, Wo) view of the channel-last result

    def backward(self, dY, input_grad: bool = True):
        """Fill ``grads`` from dY and return dX.

        Parameters
        ----------
        dY : ndarray
            dL/dY for the outputs of the last ``forward``, shape (batch, F, H', W').
        input_grad : bool, default True
            Whether to compute dX; False skips it (for the first layer of a network).

        Returns
        -------
        ndarray or None
            dX, shape (batch, C, H, W), or None if ``input_grad`` is False.
        """
        k, F = self.kernel_size, self.filters
        C, H, W = self.input_shape
        dY_sites = _channel_last(dY)  # (N, Ho, Wo, F)
        if self.use_bias:
            np.copyto(self.grads["b"], _site_sum(dY_sites))
        flipped = self.params["W"][:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, F, k, k)
        dX = (_result(self._backward_buffers, "dX", (dY.shape[0], H, W, C), dY_sites.dtype, self.reuse_input_grad)
              if input_grad else None)
        # the ReLU before this layer: dX * (X > 0), X read from the input kept by the forward pass
        mask, offset = self._columns.kept_input if self.mask_input_grad else (None, 0)
        if isinstance(self._columns, _RowStacked) and _engine(F, k) is _RowStacked:
            # dW[f, c, i, j] = sum over sites (u, v) of X[c, u, v] dYp[f, u + k-1-i, v + k-1-j]: the weight
            # gradient from the columns of dY that dX needs anyway, with the input as the other operand (the same
            # way with or without dX, so that skipping dX leaves dW bit for bit unchanged)
            columns = self._input_grad_columns(dY)
            grad = columns.correlate(flipped if input_grad else None, dX, mask=mask, mask_offset=offset,
                                     source=self._columns.image)  # (C, F, k, k)
            np.copyto(self.grads["W"], grad.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
        else:
            np.copyto(self.grads["W"], self._columns.weight_gradient(dY_sites)[0])
            if input_grad:
                self._input_grad_columns(dY).correlate(flipped, dX, mask=mask, mask_offset=offset)
        return dX.transpose(0, 3, 1, 2) if input_grad else None

    def _input_grad_columns(self, dY: np.ndarray):
        """The im2col object of dY padded for the input gradient: ``after`` in front and ``before`` behind
        (k - 1 zeros on both sides for "valid"), so that correlating it with the flipped kernel gives dX."""
        k = self.kernel_size
        before, after = (k - 1, k - 1) if self.padding == "valid" else (self._after, self._before)
        return _im2col(dY.transpose(0, 2, 3, 1), before, after, self.padding == "periodic", k,
                       self.params["W"].dtype, self._backward_buffers)

    def __getstate__(self) -> dict:
        # the scratch buffers and the last forward's columns are rebuilt by the next forward: copies and pickles
        # leave them out (they can be far larger than the weights, and unpickled from a memory map, read-only)
        state = self.__dict__.copy()
        state.update(_forward_buffers={}, _backward_buffers={}, _columns=None)
        return state

    def get_config(self):
        return {"filters": self.filters, "kernel_size": self.kernel_size, "padding": self.padding,
                "init": self.init, "use_bias": self.use_bias}


class _Pool2D(Layer):
    """Non-overlapping p x p pooling, stride p; H and W must be divisible by p."""

    fresh_output = True
    fresh_input_grad = True

    def __init__(self, pool_size: int = 2) -> None:
        super().__init__()
        self.pool_size = check_positive_int(pool_size, "pool_size", type(self).__name__)

    def compute_output_shape(self, input_shape):
        name = type(self).__name__
        _check_image_shape(input_shape, name)
        C, H, W = input_shape
        p = self.pool_size
        if H % p or W % p:
            raise ValueError(f"{name} with pool_size={p} needs height and width divisible by {p}; "
                             f"got input shape {tuple(input_shape)}.")
        return (C, H // p, W // p)

    def _blocks(self, X: np.ndarray) -> np.ndarray:
        """View X (N, C, H, W) as (N, C, H/p, p, W/p, p)."""
        N, C, H, W = X.shape
        p = self.pool_size
        return X.reshape(N, C, H // p, p, W // p, p)

    def get_config(self):
        return {"pool_size": self.pool_size}


class MaxPool2D(_Pool2D):
    """Max pooling: Y[n, c, y, x] = max of the p x p block; dX routes dY to the block's first maximum
    (one element per block, also when several are tied, e.g. after a ReLU).

    Parameters
    ----------
    pool_size : int, default 2
        Side p of the square blocks, >= 1.
    """

    def forward(self, X, training=False):
        N, C, H, W = X.shape
        p = self.pool_size
        blocks = self._blocks(X).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H // p, W // p, p * p)
        self._argmax = blocks.argmax(axis=-1)[..., None]  # (N, C, H/p, W/p, 1)
        return np.take_along_axis(blocks, self._argmax, axis=-1)[..., 0]

    def backward(self, dY):
        N, C, Ho, Wo = dY.shape
        p = self.pool_size
        dblocks = np.zeros((N, C, Ho, Wo, p * p), dtype=dY.dtype)
        np.put_along_axis(dblocks, self._argmax, dY[..., None], axis=-1)
        return dblocks.reshape(N, C, Ho, Wo, p, p).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, Ho * p, Wo * p)


class AvgPool2D(_Pool2D):
    """Average pooling: Y = mean of each p x p block; dX = dY / p^2 spread over the block.

    Parameters
    ----------
    pool_size : int, default 2
        Side p of the square blocks, >= 1.
    """

    def forward(self, X, training=False):
        return self._blocks(X).mean(axis=(3, 5))

    def backward(self, dY):
        N, C, Ho, Wo = dY.shape
        p = self.pool_size
        dX = np.empty((N, C, Ho, p, Wo, p), dtype=dY.dtype)
        dX[...] = (dY * (1.0 / (p * p)))[:, :, :, None, :, None]
        return dX.reshape(N, C, Ho * p, Wo * p)


class GlobalAvgPool2D(Layer):
    """Global average pooling (batch, C, H, W) -> (batch, C): Y[n, c] = mean over all sites of X[n, c].
    Invariant under lattice translations. dX[n, c, y, x] = dY[n, c] / (H W) (times the mask X > 0 of a ReLU before
    it, fused, inside a Sequential)."""

    fresh_output = True
    fresh_input_grad = True
    can_mask_input_grad = True

    def compute_output_shape(self, input_shape):
        _check_image_shape(input_shape, "GlobalAvgPool2D")
        return (input_shape[0],)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_buffers", None)
        return state

    def forward(self, X, training=False):
        self._X = X  # kept for its memory layout, which dX copies, and for a fused ReLU's mask
        N, C, H, W = X.shape
        weights = np.full(H * W, 1.0 / (H * W), dtype=X.dtype)
        channel_last = X.transpose(0, 2, 3, 1)
        # the mean as a matrix-vector product over the sites, taken along the axis contiguous in memory
        # (numpy's mean over non-contiguous axes is ~20x slower for Conv2D's channel-last output)
        if channel_last.flags.c_contiguous:
            sites, mean = channel_last.reshape(N, H * W, C), np.empty((N, C), dtype=X.dtype)
            split_work(lambda n0, n1, part: np.matmul(weights, sites[n0:n1], out=mean[n0:n1]), N, size=X.size)
            return mean
        with single_threaded_blas():
            return np.matmul(X.reshape(N, C, H * W), weights)

    def backward(self, dY):
        _, H, W = self.input_shape
        N, C = dY.shape
        buffers = self.__dict__.setdefault("_buffers", {})  # the reused dX (see Layer.reuse_input_grad)
        if self._X.transpose(0, 2, 3, 1).flags.c_contiguous:  # X channel-last in memory (a Conv2D's output): dX too
            dX = _result(buffers, "dX", (N, H, W, C), dY.dtype, self.reuse_input_grad).transpose(0, 3, 1, 2)
        else:
            dX = _result(buffers, "dX", (N, C, H, W), dY.dtype, self.reuse_input_grad)
        values = dY * (1.0 / (H * W))  # (N, C)
        spread = values[:, :, None, None]
        if self.mask_input_grad:  # the ReLU before: dX * (X > 0)
            X_last, dX_last = self._X.transpose(0, 2, 3, 1), dX.transpose(0, 2, 3, 1)
            if _compiled(values, X_last, dX_last):
                zero, one = values.dtype.type(0), values.dtype.type(1)
                split_work(lambda n0, n1, part: _kernels().spread_masked(values[n0:n1], X_last[n0:n1],
                                                                         dX_last[n0:n1], zero, one),
                           len(dX), size=dX.size)
            else:
                X = self._X
                split_work(lambda n0, n1, part: np.multiply(spread[n0:n1], X[n0:n1] > 0, out=dX[n0:n1]),
                           len(dX), size=dX.size)
        else:
            split_work(lambda n0, n1, part: np.copyto(dX[n0:n1], spread[n0:n1]), len(dX), size=dX.size)
        return dX
