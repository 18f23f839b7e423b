"""Convolution and pooling layers on image batches of shape (batch, channels, height, width).

Conv2D is a cross-correlation (as in every deep-learning library), stride 1:

    Y[n, f, y, x] = b[f] + sum_{c, i, j} W[f, c, i, j] * Xp[n, c, y + i, x + j]

where Xp is the input padded by ``before = (k - 1) // 2`` rows/columns in front and ``after = k // 2``
behind ("zero": zeros; "periodic": the lattice wrapped around, i.e. a torus) or not padded ("valid").
"zero" and "periodic" therefore keep H and W for odd and even k; "valid" gives H - k + 1, W - k + 1.
It is computed as one matrix product: the k*k shifted copies of the input ("im2col", built with
``sliding_window_view``) form a (C k k, batch H' W') matrix, which is multiplied by W reshaped to (F, C k k)
(the bias rides along as one more column of W against a row of ones). The output is returned as a
(batch, F, H', W') view of a channel-last (batch, H', W', F) array: that is the layout the product yields,
and elementwise layers and pooling keep it, so no copy is ever made to reorder it.
With periodic padding the layer commutes with lattice translations (np.roll of the input rolls the output).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from core._validation import check_bool, check_choice, check_positive_int
from core.base import Layer
from core.init import check_init_name, initialize

__all__ = ["Conv2D", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D", "PADDINGS"]

PADDINGS = ("zero", "valid", "periodic")


def _check_image_shape(input_shape, owner: str) -> None:
    if len(input_shape) != 3:
        raise ValueError(
            f"{owner} expects inputs of shape (batch, channels, height, width); got per-sample input shape "
            f"{tuple(input_shape)}. Reshape lattices of shape (batch, L, L) to (batch, 1, L, L)."
        )


def _fold_periodic(grad: np.ndarray, axis: int, size: int, before: int) -> np.ndarray:
    """Adjoint of periodic padding along ``axis``: entry p of the padded axis belongs to site
    (p - before) mod size; sum all entries that belong to the same site. Works for any padding width."""
    length = grad.shape[axis]
    lead = (-before) % size
    total = -(-(lead + length) // size) * size
    widths = [(0, 0)] * grad.ndim
    widths[axis] = (lead, total - lead - length)
    grad = np.pad(grad, widths)
    return grad.reshape(grad.shape[:axis] + (total // size, size) + grad.shape[axis + 1:]).sum(axis=axis)


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
    Shapes: X (batch, C, H, W) -> Y (batch, F, H', W'); W (F, C, k, k); b (F,).

    Gradients: [dW | db] = dY_mat^T cols^T (one product), dX = col2im(W_mat^T dY_mat^T).
    """

    fresh_output = True
    fresh_input_grad = True
    skips_input_grad = True

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
        self._cols = None
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

    def _pad(self, X: np.ndarray) -> np.ndarray:
        if self.padding == "valid":
            return X
        widths = ((0, 0), (0, 0), (self._before, self._after), (self._before, self._after))
        return np.pad(X, widths, mode="wrap" if self.padding == "periodic" else "constant")

    def _im2col(self, X: np.ndarray) -> np.ndarray:
        """Columns (C k k [+1], N Ho Wo): row (c, i, j) holds Xp[n, c, y + i, x + j] for every output site
        (n, y, x); with a bias, a last row of ones turns the bias into one more weight. The buffer is reused
        from call to call when the batch size is unchanged (it is only needed until the next forward)."""
        N = X.shape[0]
        C, k = self.input_shape[0], self.kernel_size
        _, Ho, Wo = self.output_shape
        rows = C * k * k + self.use_bias
        cols = self._cols
        if cols is None or cols.shape != (rows, N * Ho * Wo) or cols.dtype != X.dtype:
            cols = np.empty((rows, N * Ho * Wo), dtype=X.dtype)
            if self.use_bias:
                cols[-1] = 1
        windows = sliding_window_view(self._pad(X), (k, k), axis=(2, 3))  # (N, C, Ho, Wo, k, k), no copy
        np.copyto(cols[:C * k * k].reshape(C, k, k, N, Ho, Wo), windows.transpose(1, 4, 5, 0, 2, 3))
        self._cols = cols
        return cols

    def _weight_matrix(self) -> np.ndarray:
        """(F, C k k [+1]): W flattened, with b appended as the last column when there is a bias."""
        W = self.params["W"].reshape(self.filters, -1)
        return np.concatenate([W, self.params["b"][:, None]], axis=1) if self.use_bias else W

    def forward(self, X, training=False):
        N = X.shape[0]
        _, Ho, Wo = self.output_shape
        cols = self._im2col(X)
        Y = np.matmul(cols.T, self._weight_matrix().T)  # (N*Ho*Wo, F): one matrix product, bias included
        return Y.reshape(N, Ho, Wo, self.filters).transpose(0, 3, 1, 2)  # (N, F, Ho, Wo) view, channel-last

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
        N = dY.shape[0]
        C, k, F = self.input_shape[0], self.kernel_size, self.filters
        _, Ho, Wo = self.output_shape
        dY_sites = dY.transpose(0, 2, 3, 1).reshape(N, Ho * Wo, F)  # free when dY is channel-last like Y
        cols = self._cols.reshape(-1, N, Ho * Wo).transpose(1, 0, 2)  # (N, C k k [+1], Ho*Wo) view
        # [dW | db]^T summed over samples; N small products beat one (F, N Ho Wo) x (N Ho Wo, C k k) product,
        # whose long inner dimension BLAS handles poorly
        grad = np.matmul(cols, dY_sites).sum(axis=0)  # (C k k [+1], F)
        np.copyto(self.grads["W"].reshape(F, C * k * k), grad[:C * k * k].T)
        if self.use_bias:
            np.copyto(self.grads["b"], grad[-1])
        if not input_grad:
            return None
        dY_mat = dY_sites.reshape(N * Ho * Wo, F)
        dcols = np.matmul(self.params["W"].reshape(F, -1).T, dY_mat.T).reshape(C, k, k, N, Ho, Wo)
        _, H, W = self.input_shape
        dXp = np.zeros((C, N, Ho + k - 1, Wo + k - 1), dtype=dcols.dtype)  # channel-major padded dX
        for i in range(k):  # col2im: a loop over the k*k kernel offsets, not over samples
            for j in range(k):
                dXp[:, :, i:i + Ho, j:j + Wo] += dcols[:, i, j]
        if self.padding == "periodic":
            dXp = _fold_periodic(_fold_periodic(dXp, 2, H, self._before), 3, W, self._before)
        elif self.padding == "zero":
            dXp = dXp[:, :, self._before:self._before + H, self._before:self._before + W]
        return dXp.transpose(1, 0, 2, 3)

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
    Invariant under lattice translations. dX[n, c, y, x] = dY[n, c] / (H W)."""

    fresh_output = True
    fresh_input_grad = True

    def compute_output_shape(self, input_shape):
        _check_image_shape(input_shape, "GlobalAvgPool2D")
        return (input_shape[0],)

    def forward(self, X, training=False):
        self._X = X  # kept only for its memory layout, which dX copies
        N, C, H, W = X.shape
        weights = np.full(H * W, 1.0 / (H * W), dtype=X.dtype)
        channel_last = X.transpose(0, 2, 3, 1)
        # the mean as a matrix-vector product over the sites, taken along the axis contiguous in memory
        # (numpy's mean over non-contiguous axes is ~20x slower for Conv2D's channel-last output)
        if channel_last.flags.c_contiguous:
            return np.matmul(weights, channel_last.reshape(N, H * W, C))  # (N, C)
        return np.matmul(X.reshape(N, C, H * W), weights)

    def backward(self, dY):
        _, H, W = self.input_shape
        dX = np.empty_like(self._X, dtype=dY.dtype)  # (N, C, H, W), same memory order as X
        dX[...] = (dY * (1.0 / (H * W)))[:, :, None, None]
        return dX
