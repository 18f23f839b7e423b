"""The layer contract shared by every layer of :mod:`core`.

A layer maps a batch ``X`` of shape ``(batch, *input_shape)`` to ``Y`` of shape ``(batch, *output_shape)``.
``forward`` caches what ``backward`` needs; ``backward(dY)`` returns ``dX = dL/dX`` and OVERWRITES (never
accumulates) the arrays in ``grads``, which has the same keys and shapes as ``params``. The arrays in
``params`` and ``grads`` are allocated once in ``build`` and then only modified in place, so that
:class:`core.network.Parameter` tuples can hold the very arrays an optimizer updates.

In-place work. A :class:`core.network.Sequential` tells each layer whether it may overwrite the array it
receives: ``inplace_forward`` is set when the previous layer returns a freshly allocated array that nobody
else keeps (``fresh_output``), ``inplace_backward`` when the next layer's ``backward`` returns a fresh
array (``fresh_input_grad``). A layer used on its own never works in place. It also tells each layer whether
its output (``reuse_output``) and its input gradient (``reuse_input_grad``) only travel to the neighbouring layer
within the same pass, and do not reach the network's own output or input gradient through layers that work in
place: such a layer may return them in buffers it reuses at its next call, sparing the page faults of a fresh
multi-megabyte array every step (the convolutional layers do).

Fused ReLU. A ReLU between two layers costs two passes over memory of its own; a Sequential hands them to its
neighbours where they can take them: the layer before it applies max(., 0) to its own output while that is still
in the cache (``rectify_output``, for layers with ``can_rectify_output``), and the layer after it multiplies its
input gradient by (its input > 0), which is the ReLU's mask (``mask_input_grad``, for layers with
``can_mask_input_grad``); the ReLU then passes its input, or its dY, on unchanged. The numbers are those of the
separate ReLU (the same elementwise operations).
"""

from __future__ import annotations

import numpy as np

from core._validation import check_dtype

__all__ = ["Layer"]


class Layer:
    """Base class: a differentiable map on batches with optional trainable parameters.

    Attributes
    ----------
    params : dict[str, ndarray]
        Trainable arrays; weight-like ones are named "W" (recurrent weights "U"; weight decay applies to both),
        biases "b".
    grads : dict[str, ndarray]
        dL/dparams from the last ``backward``; same keys, shapes and dtype as ``params``.
    input_shape : tuple[int, ...]
        Shape of one input sample (without the batch axis), set by ``build``.
    output_shape : tuple[int, ...]
        Shape of one output sample (without the batch axis), set by ``build``.
    """

    #: the array returned by ``forward`` is newly allocated and not kept by the layer
    fresh_output = False
    #: the array returned by ``backward`` is newly allocated and not kept by the layer
    fresh_input_grad = False
    #: ``backward`` accepts ``input_grad=False`` (then skips computing dX and returns None)
    skips_input_grad = False
    #: set per instance by a Sequential (see the module docstring); False for a layer used on its own
    reuse_output = False
    reuse_input_grad = False
    #: ``forward`` can apply max(., 0) to its output (the forward pass of a ReLU after it)
    can_rectify_output = False
    #: ``backward`` can multiply its input gradient by (input > 0) (the backward pass of a ReLU before it)
    can_mask_input_grad = False
    #: ``backward`` takes ``sgd_rate`` and applies the plain SGD step to its own parameters
    steps_sgd = False
    #: set per instance by a Sequential (see the module docstring); False for a layer used on its own
    rectify_output = False
    mask_input_grad = False

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
        """Allocate parameters for inputs of shape ``(batch, *input_shape)``; return the output shape.

        Parameters
        ----------
        input_shape : tuple of int
            Shape of one sample (without the batch axis).
        rng : numpy.random.Generator
            Source of the initial parameter values (and of any random masks the layer draws later).
        dtype : numpy dtype or str
            Floating dtype of the parameters and of the arrays the layer computes.

        Returns
        -------
        tuple of int
            The output shape without the batch axis.
        """
        self.input_shape = tuple(int(n) for n in input_shape)
        self.dtype = check_dtype(dtype, "dtype", f"{type(self).__name__}.build")
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.built = True
        return self.output_shape

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Output shape (without batch axis) for ``input_shape``.

        Parameters
        ----------
        input_shape : tuple of int
            Shape of one input sample (without the batch axis).

        Returns
        -------
        tuple of int
            Shape of one output sample; the base class returns ``input_shape`` unchanged.

        Raises
        ------
        ValueError
            If the layer cannot take inputs of this shape.
        """
        return input_shape

    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        """Map a batch forward, caching what ``backward`` needs.

        Parameters
        ----------
        X : ndarray
            Shape (batch, *input_shape).
            The batch of inputs.
        training : bool, default False
            Training mode (dropout is active only then).

        Returns
        -------
        ndarray
            Shape (batch, *output_shape).
            The outputs Y.
        """
        raise NotImplementedError

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """Backpropagate through the last ``forward``: overwrite ``grads`` and return dL/dX.

        Parameters
        ----------
        dY : ndarray
            Shape (batch, *output_shape).
            dL/dY for the outputs of the last ``forward``.

        Returns
        -------
        ndarray
            Shape (batch, *input_shape).
            dX = dL/dX.
        """
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
