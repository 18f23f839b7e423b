"""The layer contract shared by every layer of :mod:`core`, and dtype helpers.

A layer maps a batch ``X`` of shape ``(batch, *input_shape)`` to ``Y`` of shape ``(batch, *output_shape)``.
``forward`` caches what ``backward`` needs; ``backward(dY)`` returns ``dX = dL/dX`` and OVERWRITES (never
accumulates) the arrays in ``grads``, which has the same keys and shapes as ``params``. The arrays in
``params`` and ``grads`` are allocated once in ``build`` and then only modified in place, so that
:class:`core.network.Parameter` tuples can hold the very arrays an optimizer updates.

In-place work. A :class:`core.network.Sequential` tells each layer whether it may overwrite the array it
receives: ``inplace_forward`` is set when the previous layer returns a freshly allocated array that nobody
else keeps (``fresh_output``), ``inplace_backward`` when the next layer's ``backward`` returns a fresh
array (``fresh_input_grad``). A layer used on its own never works in place.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["Layer", "resolve_dtype", "check_positive_int", "is_real"]

_ALLOWED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def resolve_dtype(dtype, owner: str = "dtype") -> np.dtype:
    """Return ``np.dtype(dtype)`` if it is float32 or float64, else raise ValueError naming ``owner``."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved not in _ALLOWED_DTYPES:
        raise ValueError(f"The '{owner}' parameter must be 'float32' or 'float64'. Got {dtype!r} instead.")
    return resolved


def check_positive_int(value, name: str, owner: str) -> int:
    """Return ``value`` as int if it is an integer >= 1, else raise ValueError naming ``name`` and ``owner``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"The '{name}' parameter of {owner} must be an int in [1, inf). Got {value!r} instead.")
    return int(value)


def is_real(value) -> bool:
    """True for a finite real number (Python or numpy int/float), False for bools, NaN, inf and the rest."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and math.isfinite(value)


class Layer:
    """Base class: a differentiable map on batches with optional trainable parameters.

    Attributes
    ----------
    params : dict[str, ndarray]
        Trainable arrays; weight-like ones are named "W" (weight decay applies), biases "b".
    grads : dict[str, ndarray]
        dL/dparams from the last ``backward``; same keys, shapes and dtype as ``params``.
    input_shape, output_shape : tuple[int, ...]
        Shapes without the batch axis, set by ``build``.
    """

    #: the array returned by ``forward`` is newly allocated and not kept by the layer
    fresh_output = False
    #: the array returned by ``backward`` is newly allocated and not kept by the layer
    fresh_input_grad = False
    #: ``backward`` accepts ``input_grad=False`` (then skips computing dX and returns None)
    skips_input_grad = False

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.input_shape: tuple[int, ...] | None = None
        self.output_shape: tuple[int, ...] | None = None
        self.dtype: np.dtype | None = None
        self.built = False
        self.inplace_forward = False
        self.inplace_backward = False

    def build(self, input_shape: tuple[int, ...], rng: np.random.Generator, dtype) -> tuple[int, ...]:
        """Allocate parameters for inputs of shape ``(batch, *input_shape)``; return the output shape."""
        self.input_shape = tuple(int(n) for n in input_shape)
        self.dtype = resolve_dtype(dtype)
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.built = True
        return self.output_shape

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Output shape (without batch axis) for ``input_shape``; raise ValueError if it does not fit."""
        return input_shape

    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dY: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        """JSON-able keyword arguments that rebuild this layer (``type(layer)(**config)``)."""
        return {}

    def _allocate(self, name: str, value: np.ndarray) -> None:
        """Register parameter ``name`` with initial ``value`` and its gradient buffer."""
        self.params[name] = np.ascontiguousarray(value, dtype=self.dtype)
        self.grads[name] = np.zeros_like(self.params[name])

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
