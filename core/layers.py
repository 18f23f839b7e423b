"""Layers: Dense, Activation, Dropout, Flatten, (from :mod:`core.conv`) Conv2D and pooling, and (from
:mod:`core.recurrent`) SimpleRNN, LSTM, GRU and TimeDense.

Every layer follows the contract of :class:`core.base.Layer`: ``build(input_shape, rng, dtype)`` allocates
parameters and returns the output shape (both without the batch axis); ``forward(X, training)`` caches
what ``backward(dY)`` needs; ``backward`` returns dL/dX and overwrites ``grads``. Weight-like parameters
are named "W" (subject to weight decay), biases "b" (not decayed). :data:`LAYERS` maps class names to
classes for serialization.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import blas as scipy_blas

from core.activations import ACTIVATIONS, _zero_operand, get_activation
from core._validation import check_bool, check_number, check_positive_int
from core.base import Layer
from core.conv import AvgPool2D, Conv2D, GlobalAvgPool2D, MaxPool2D
from core.init import check_init_name, initialize
from core.optim import sgd_update
from core.recurrent import GRU, LSTM, SimpleRNN, TimeDense

__all__ = [
    "Layer", "Dense", "Activation", "Dropout", "Flatten", "Conv2D", "MaxPool2D", "AvgPool2D",
    "GlobalAvgPool2D", "SimpleRNN", "LSTM", "GRU", "TimeDense", "LAYERS",
]


class Dense(Layer):
    """Fully connected layer: Y = X W + b.

    Parameters
    ----------
    units : int
        Number of outputs, >= 1.
    init : {None, "glorot", "he", "lecun", "<name>_uniform"}
        Initialiser of W (see :mod:`core.init`). None lets a :class:`core.network.Sequential` choose it from
        the activation that follows (``default_init``); "glorot" when there is none.
    use_bias : bool, default True
        Whether to add b (initialised to zero).

    Notes
    -----
    Shapes: X (batch, n_in) -> Y (batch, units); W (n_in, units); b (units,).

    Gradients: dW = X^T dY, db = sum_batch dY, dX = dY W^T.

    Inside a :class:`core.network.Sequential`, the work of a ReLU after or before it may be done here (Y rectified,
    dX masked; see :mod:`core.base`, "Fused ReLU").
    """

    fresh_output = True
    fresh_input_grad = True
    skips_input_grad = True
    can_rectify_output = True
    can_mask_input_grad = True
    steps_sgd = True

    def __init__(self, units: int, init: str | None = None, use_bias: bool = True) -> None:
        super().__init__()
        self.units = check_positive_int(units, "units", "Dense")
        check_init_name(init, "Dense")
        check_bool(use_bias, "use_bias", "Dense")
        self.init = init
        self.use_bias = bool(use_bias)
        self.fallback_init = "glorot"

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(
                f"Dense expects inputs of shape (batch, features); got per-sample input shape {input_shape}. "
                "Insert a Flatten() or GlobalAvgPool2D() layer before it."
            )
        return (self.units,)

    def build(self, input_shape, rng, dtype):
        output_shape = super().build(input_shape, rng, dtype)
        n_in = self.input_shape[0]
        self._allocate("W", initialize(self.init or self.fallback_init, (n_in, self.units), n_in, self.units,
                                       rng, self.dtype))
        if self.use_bias:
            self._allocate("b", np.zeros(self.units))
        return output_shape

    def forward(self, X, training=False):
        self._X = X
        Y = np.matmul(X, self.params["W"])  # (batch, units)
        if self.use_bias:
            Y += self.params["b"]
        if self.rectify_output:
            np.maximum(Y, _zero_operand(Y), out=Y)
        return Y

    def backward(self, dY, input_grad: bool = True, sgd_rate: float | None = None):
        """Fill ``grads`` from dY and return dX.

        Parameters
        ----------
        dY : ndarray
            Shape (batch, units).
            dL/dY for the outputs of the last ``forward``.
        input_grad : bool, default True
            Whether to compute dX; False skips it (for the first layer of a network).
        sgd_rate : float or None, default None
            If given, also apply the plain SGD step w <- w - sgd_rate g to W and b (dX is computed with the old W).
            W is then updated by one matrix product into W (BLAS gemm with beta = 1), whose multiply-add rounds
            once where the separate step rounds twice (the results differ in the last bit at most), and
            ``grads["W"]`` does not hold the gradient afterwards.

        Returns
        -------
        ndarray or None
            Shape (batch, n_in).
            dX = dY W^T, or None if ``input_grad`` is False.
        """
        W, X = self.params["W"], self._X
        dX = None
        if input_grad:
            if self.units == 1:
                # an outer product (inner dimension 1): the same products as the matmul, element by element, without
                # the BLAS call's overhead (a zero may differ in sign only: -0.0 here, +0.0 from BLAS's 0 + a * b)
                dX = np.multiply(dY, W.T)
            else:
                dX = np.matmul(dY, W.T)
            if self.mask_input_grad:
                np.multiply(dX, X > 0, out=dX)
        if self.use_bias:
            np.add.reduce(dY, axis=0, out=self.grads["b"])  # np.sum without its Python-level dispatch
        gemm = _fused_gemm(X, dY, W) if sgd_rate is not None else None
        if gemm is None:
            np.matmul(X.T, dY, out=self.grads["W"])
            if sgd_rate is not None:
                for name, value in self.params.items():
                    sgd_update(value, self.grads[name], sgd_rate)
        else:
            # W <- W - lr X^T dY as one product into W, i.e. W^T <- W^T + (-lr) dY^T X on the column-major views
            gemm(-sgd_rate, dY.T, X.T, beta=1.0, c=W.T, trans_b=1, overwrite_c=1)
            if self.use_bias:
                sgd_update(self.params["b"], self.grads["b"], sgd_rate)
        return dX

    def get_config(self):
        return {"units": self.units, "init": self.init, "use_bias": self.use_bias}


def _fused_gemm(X: np.ndarray, dY: np.ndarray, W: np.ndarray):
    """scipy's BLAS gemm for ``W <- W - lr X^T dY`` in place when X, dY and W are C-contiguous float32 or float64
    arrays of one dtype (their transposes are then the column-major operands it takes without copying), else None."""
    dtype = W.dtype
    if not FUSED_SGD or dtype not in _GEMM or not all(a.dtype == dtype and a.flags.c_contiguous for a in (X, dY, W)):
        return None
    return _GEMM[dtype]


_GEMM = {np.dtype(np.float32): scipy_blas.sgemm, np.dtype(np.float64): scipy_blas.dgemm}
#: Dense applies plain SGD to W inside its weight-gradient product (False: the product, then the separate step)
FUSED_SGD = True


class Activation(Layer):
    """Elementwise activation chosen by name, e.g. ``Activation("leaky_relu", negative_slope=0.1)``.

    Delegates to the class in :data:`core.activations.ACTIVATIONS` (whose docstring states f and f');
    those classes can also be used directly.

    Parameters
    ----------
    name : str
        A key of :data:`core.activations.ACTIVATIONS`, e.g. "relu", "tanh", "leaky_relu".
    **kwargs
        Keyword arguments of that activation (e.g. ``negative_slope`` for "leaky_relu", ``alpha`` for "elu").
    """

    def __init__(self, name: str, **kwargs) -> None:
        super().__init__()
        self.function = get_activation(name, **kwargs)
        self.activation_name = name
        self.kwargs = self.function.get_config()  # validated, JSON-able (plain floats)
        self.fresh_input_grad = self.function.fresh_input_grad

    def build(self, input_shape, rng, dtype):
        self.function.inplace_forward = self.inplace_forward
        self.function.inplace_backward = self.inplace_backward
        self.function.build(input_shape, rng, dtype)
        return super().build(input_shape, rng, dtype)

    def forward(self, X, training=False):
        return self.function.forward(X, training)

    def backward(self, dY):
        return self.function.backward(dY)

    def get_config(self):
        return {"name": self.activation_name, **self.kwargs}


class Dropout(Layer):
    """Inverted dropout: in training, Y = X * m / (1 - rate) with m ~ Bernoulli(1 - rate) per element;
    identity when ``training`` is False. dX = dY * m / (1 - rate). The masks are drawn from the Generator
    given to ``build``.

    Parameters
    ----------
    rate : float
        Probability of zeroing an element, in [0, 1).
    """

    def __init__(self, rate: float) -> None:
        super().__init__()
        check_number(rate, "rate", "Dropout", low=0, high=1, high_closed=False)
        self.rate = float(rate)
        self._mask = None

    def build(self, input_shape, rng, dtype):
        self.rng = rng
        return super().build(input_shape, rng, dtype)

    def forward(self, X, training=False):
        if not training or self.rate == 0.0:
            self._mask = None
            return X
        draw_dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
        uniform = self.rng.random(X.shape, dtype=draw_dtype)
        mask = np.greater_equal(uniform, self.rate).astype(X.dtype)
        mask *= 1.0 / (1.0 - self.rate)
        self._mask = mask
        return np.multiply(X, mask, out=X if self.inplace_forward else None)

    def backward(self, dY):
        if self._mask is None:
            return dY
        return np.multiply(dY, self._mask, out=dY if self.inplace_backward else None)

    def get_config(self):
        return {"rate": self.rate}


class Flatten(Layer):
    """Reshape (batch, d1, d2, ...) -> (batch, d1 * d2 * ...); a view where numpy allows it."""

    def compute_output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def forward(self, X, training=False):
        return X.reshape(X.shape[0], -1)

    def backward(self, dY):
        return dY.reshape((dY.shape[0], *self.input_shape))


LAYERS: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (Dense, Activation, Dropout, Flatten, Conv2D, MaxPool2D, AvgPool2D, GlobalAvgPool2D, SimpleRNN, LSTM,
                GRU, TimeDense, *ACTIVATIONS.values())
}
