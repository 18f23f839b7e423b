"""Elementwise activation layers y = f(x) and their derivatives, for any input shape.

Each class states f and f'. ``backward`` multiplies the incoming gradient by f' evaluated from the cached
OUTPUT y (every f here is monotonic, so f' can be written as a function of y), which lets ``forward``
overwrite its input in place when the surrounding :class:`core.network.Sequential` allows it. All
arithmetic keeps the input dtype (float32 stays float32).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from core._threads import MIN_SPLIT_SIZE, split_work, thread_count
from core._validation import check_choice, check_number
from core.base import Layer

__all__ = [
    "ActivationLayer", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "Softplus", "Identity",
    "ACTIVATIONS", "get_activation", "default_init",
]


_ZEROS: dict[tuple, np.ndarray] = {}
_ZEROS_KEPT = 8  # shapes cached at most (training batches, the last short batch, prediction chunks)
_ZEROS_MAX_SIZE = 1 << 20  # elements; larger arrays use the scalar 0 (no extra memory)


def _zero_operand(X: np.ndarray):
    """0 as the second operand of ``np.maximum(X, 0)`` or ``np.minimum(X, 0)``: a cached read-only array of zeros of
    X's shape, dtype and memory layout (numpy then takes its SIMD loop, two to three times faster than with the
    scalar 0, which it broadcasts; the result is the same element by element; zeros in another layout than X, e.g.
    C order for a convolution's channel-last output, would be four times slower), or the scalar 0 for arrays above
    ``_ZEROS_MAX_SIZE``."""
    if X.size > _ZEROS_MAX_SIZE:
        return 0
    key = (X.shape, X.strides, X.dtype)
    zeros = _ZEROS.get(key)
    if zeros is None:
        if len(_ZEROS) >= _ZEROS_KEPT:
            _ZEROS.clear()
        zeros = np.zeros_like(X)
        zeros.flags.writeable = False
        _ZEROS[key] = zeros
    return zeros


def _worth_splitting(X: np.ndarray) -> bool:
    return 2 * X.size >= MIN_SPLIT_SIZE and X.ndim >= 2 and thread_count() > 1


def _split_over_samples(function, out, *arrays):
    """``function(*arrays, out)`` computed in parts along the first (sample) axis at the same time, into ``out`` (a
    new array in the layout of ``arrays[0]`` when None); element by element the same numbers."""
    if out is None:
        out = np.empty_like(arrays[0])

    def work(n0, n1, part):
        block = out[n0:n1]
        result = function(*(array[n0:n1] for array in arrays), block)
        if result is not block:
            np.copyto(block, result)

    split_work(work, len(out))
    return out


class ActivationLayer(Layer):
    """Base class of the parameter-free elementwise activations (shape in = shape out)."""

    activation_name = ""
    # backward returns either a new array or the unshared dY it was allowed to overwrite
    fresh_input_grad = True

    #: set by a Sequential for a ReLU whose neighbours do its work (see :mod:`core.base`, "Fused ReLU"): X, already
    #: rectified by the layer before, and dY, to be masked by the layer after, pass through unchanged
    passes_forward = False
    passes_backward = False

    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        if self.passes_forward:
            self._Y = X
            return X
        out = X if self.inplace_forward else None
        if not _worth_splitting(X):
            Y = self._f(X, out)
        else:
            Y = _split_over_samples(self._f, out, X)
        self._Y = Y
        return Y

    def backward(self, dY: np.ndarray) -> np.ndarray:
        if self.passes_backward:
            return dY
        out = dY if self.inplace_backward else None
        if not _worth_splitting(dY):
            return self._df(dY, self._Y, out)
        return _split_over_samples(self._df, out, dY, self._Y)

    def _f(self, X: np.ndarray, out: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    def _df(self, dY: np.ndarray, Y: np.ndarray, out: np.ndarray | None) -> np.ndarray:
        """Return dY * f'(x), written into ``out`` if given, computed from the cached output Y."""
        raise NotImplementedError


class Sigmoid(ActivationLayer):
    """Logistic sigmoid. f(x) = 1 / (1 + exp(-x)); f'(x) = f(x) (1 - f(x)). Stable for any x."""

    activation_name = "sigmoid"

    def _f(self, X, out):
        return expit(X, out=out)

    def _df(self, dY, Y, out):
        grad = np.subtract(1, Y)  # (batch, ...) 1 - y
        grad *= Y
        grad *= dY
        return grad


class Tanh(ActivationLayer):
    """Hyperbolic tangent. f(x) = tanh(x); f'(x) = 1 - f(x)^2."""

    activation_name = "tanh"

    def _f(self, X, out):
        return np.tanh(X, out=out)

    def _df(self, dY, Y, out):
        grad = np.multiply(Y, Y)
        np.subtract(1, grad, out=grad)
        grad *= dY
        return grad


class ReLU(ActivationLayer):
    """Rectified linear unit. f(x) = max(x, 0); f'(x) = 1 if x > 0 else 0."""

    activation_name = "relu"

    def _f(self, X, out):
        return np.maximum(X, _zero_operand(X), out=out)

    def _df(self, dY, Y, out):
        return np.multiply(dY, Y > 0, out=out)


class LeakyReLU(ActivationLayer):
    """Leaky ReLU. f(x) = x if x > 0 else a x; f'(x) = 1 if x > 0 else a, with a = ``negative_slope``.

    Parameters
    ----------
    negative_slope : float, default 0.01
        Slope a for x <= 0; >= 0.
    """

    activation_name = "leaky_relu"

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        check_number(negative_slope, "negative_slope", "LeakyReLU", low=0)
        self.negative_slope = float(negative_slope)

    def _f(self, X, out):
        Y = X.copy() if out is None else out
        np.multiply(Y, self.negative_slope, out=Y, where=Y < 0)
        return Y

    def _df(self, dY, Y, out):
        grad = dY.copy() if out is None else out
        np.multiply(grad, self.negative_slope, out=grad, where=Y <= 0)
        return grad

    def get_config(self) -> dict:
        return {"negative_slope": self.negative_slope}


class ELU(ActivationLayer):
    """Exponential linear unit. f(x) = x if x > 0 else alpha (exp(x) - 1);
    f'(x) = 1 if x > 0 else alpha exp(x) = f(x) + alpha.

    Parameters
    ----------
    alpha : float, default 1.0
        Scale of the negative branch; > 0.
    """

    activation_name = "elu"

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        check_number(alpha, "alpha", "ELU", low=0, low_closed=False)
        self.alpha = float(alpha)

    def _f(self, X, out):
        zero = _zero_operand(X)
        negative_part = np.minimum(X, zero)
        np.expm1(negative_part, out=negative_part)  # no overflow: exp of a non-positive number
        negative_part *= self.alpha
        Y = np.maximum(X, zero, out=out)
        Y += negative_part
        return Y

    def _df(self, dY, Y, out):
        grad = np.where(Y > 0, 1, Y + self.alpha).astype(Y.dtype, copy=False)
        grad *= dY
        return grad

    def get_config(self) -> dict:
        return {"alpha": self.alpha}


class Softplus(ActivationLayer):
    """Softplus. f(x) = log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)) (no overflow; several
    times faster than np.logaddexp); f'(x) = sigmoid(x) = 1 - exp(-f(x))."""

    activation_name = "softplus"

    def _f(self, X, out):
        tail = np.abs(X)
        np.negative(tail, out=tail)
        np.exp(tail, out=tail)
        np.log1p(tail, out=tail)  # log1p(exp(-|x|)), in (0, log 2]
        return np.add(np.maximum(X, _zero_operand(X), out=out), tail, out=out)

    def _df(self, dY, Y, out):
        grad = np.negative(Y)
        np.expm1(grad, out=grad)
        np.negative(grad, out=grad)  # 1 - exp(-y), accurate also for tiny y
        grad *= dY
        return grad


class Identity(ActivationLayer):
    """Identity. f(x) = x; f'(x) = 1. Returns its input unchanged (no copy)."""

    activation_name = "identity"
    fresh_input_grad = False  # returns dY itself, which may belong to the caller

    def _f(self, X, out):
        return X

    def _df(self, dY, Y, out):
        return dY


ACTIVATIONS: dict[str, type[ActivationLayer]] = {
    cls.activation_name: cls for cls in (Sigmoid, Tanh, ReLU, LeakyReLU, ELU, Softplus, Identity)
}

_HE_ACTIVATIONS = ("relu", "leaky_relu", "elu")


def _check_name(name, owner: str) -> None:
    check_choice(name, owner, None, sorted(ACTIVATIONS))


def get_activation(name: str, **kwargs) -> ActivationLayer:
    """Return a new activation layer for ``name`` built with ``kwargs``.

    Parameters
    ----------
    name : str
        A key of :data:`ACTIVATIONS`: "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "identity".
    **kwargs
        Keyword arguments of that class (``negative_slope`` for "leaky_relu", ``alpha`` for "elu").

    Returns
    -------
    ActivationLayer
        A new, unbuilt layer.

    Raises
    ------
    InvalidParameterError
        If ``name`` is not a key of :data:`ACTIVATIONS`.
    """
    _check_name(name, "activation")
    return ACTIVATIONS[name](**kwargs)


def default_init(name: str) -> str:
    """Initialiser suited to an activation.

    Parameters
    ----------
    name : str
        A key of :data:`ACTIVATIONS`.

    Returns
    -------
    str
        "he" for the ReLU family ("relu", "leaky_relu", "elu"), "glorot" otherwise.
    """
    _check_name(name, "activation")
    return "he" if name in _HE_ACTIVATIONS else "glorot"
