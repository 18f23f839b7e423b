"""Sequential: a stack of layers with batched forward and backward passes (backpropagation).

Forward: Y = f_L(... f_2(f_1(X))). Backward applies the chain rule from the last layer to the first:
each layer turns dL/dY into dL/dX and fills its ``grads``. The network's trainable arrays are exposed as
:class:`Parameter` tuples holding the very arrays an optimizer updates in place. ``build`` places all parameters
in one contiguous buffer and all gradients in another (the layers hold views), so that an optimizer updates the
whole network with a few vectorised calls.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from core._validation import InvalidParameterError, as_generator, check_dtype, check_positive_int
from core.activations import ReLU, default_init
from core.base import Layer
from core.layers import LAYERS
from core.optim import sgd_update

__all__ = ["Parameter", "Sequential", "check_shape"]

#: parameter names subject to weight decay: input weights and recurrent weights (biases "b" are not decayed)
DECAYED = frozenset({"W", "U"})


class Parameter(NamedTuple):
    """One trainable array of a network.

    Attributes
    ----------
    name : str
        "<layer index>.<param name>", e.g. "0.W".
    value : ndarray
        The layer's own parameter array (update it in place: ``value -= step``). In a built
        :class:`Sequential` it is a view into one buffer holding all the network's parameters, in the order of
        ``parameters()``.
    grad : ndarray
        The layer's gradient buffer, overwritten by every ``backward``; likewise a view into one buffer of all
        gradients.
    decay : bool
        Whether weight decay applies (input weights "W" and recurrent weights "U": yes; biases "b": no).
    """

    name: str
    value: np.ndarray
    grad: np.ndarray
    decay: bool


def _backward(layer: Layer, grad: np.ndarray, input_grad: bool, sgd_rate: float | None):
    """``layer.backward(grad)`` (skipping dX where the layer can and ``input_grad`` is False), then the plain SGD step
    on the layer's parameters if ``sgd_rate`` is given: by the layer itself if it ``steps_sgd``."""
    if sgd_rate is not None and layer.steps_sgd:
        return layer.backward(grad, input_grad=input_grad, sgd_rate=sgd_rate)
    if input_grad or not layer.skips_input_grad:
        grad = layer.backward(grad)
    else:
        grad = layer.backward(grad, input_grad=False)
    if sgd_rate is not None:
        for name, value in layer.params.items():
            sgd_update(value, layer.grads[name], sgd_rate)
    return grad


#: let the neighbours of a ReLU do its work (see :mod:`core.base`, "Fused ReLU"); False: every ReLU on its own
FUSE_RELU = True


def _relu(layer: Layer) -> ReLU | None:
    """The ReLU that ``layer`` is (or wraps, as an ``Activation("relu")``), else None."""
    function = getattr(layer, "function", layer)
    return function if type(function) is ReLU else None


def _can(layer: Layer, capability: str) -> bool:
    """Whether ``layer`` has ``capability`` ("can_rectify_output" or "can_mask_input_grad"), declared by the class
    that defines its ``forward`` and ``backward``: a subclass that overrides them does not inherit it unstated."""
    mro = type(layer).__mro__
    owner = next((klass for klass in mro if capability in vars(klass)), None)
    if owner is None or not getattr(layer, capability):
        return False
    return all(next(klass for klass in mro if method in vars(klass)) is owner for method in ("forward", "backward"))


def _fuse_relus(layers: list[Layer]) -> None:
    """Hand each ReLU's forward pass to the layer before it and its backward pass to the layer after it, where those
    can take them (:data:`FUSE_RELU`)."""
    for layer in layers:
        layer.rectify_output = layer.mask_input_grad = False
        relu = _relu(layer)
        if relu is not None:
            relu.passes_forward = relu.passes_backward = False
    if not FUSE_RELU:
        return
    for i in range(1, len(layers)):
        relu = _relu(layers[i])
        if relu is None:
            continue
        if _can(layers[i - 1], "can_rectify_output"):
            layers[i - 1].rectify_output = relu.passes_forward = True
        if i + 1 < len(layers) and _can(layers[i + 1], "can_mask_input_grad"):
            layers[i + 1].mask_input_grad = relu.passes_backward = True


def _passes_on(layer: Layer, direction: str) -> bool:
    """Whether ``layer`` may return the array it received, or a view of it (``direction`` "forward": its input;
    "backward": its dY), so that a buffer handed to it may travel further. A layer with ``fresh_output`` computes
    both of its results into arrays of its own; any other layer may pass its input on (e.g. Flatten, as a view),
    and its dY too if it is not ``fresh_input_grad`` or may work in place (an activation)."""
    if layer.fresh_output:
        return False
    if direction == "forward":
        return True
    return not layer.fresh_input_grad or layer.inplace_backward or (_relu(layer) is not None
                                                                     and _relu(layer).passes_backward)


def _mark_reusable(layers: list[Layer]) -> None:
    """Let a layer return its output (input gradient) in a reused buffer only where that array cannot reach the
    network's output (input gradient), which its caller may keep across calls."""
    reaches_end = True
    for layer in reversed(layers):
        layer.reuse_output = not reaches_end
        reaches_end = reaches_end and _passes_on(layer, "forward")
    reaches_start = True
    for layer in layers:
        layer.reuse_input_grad = not reaches_start
        reaches_start = reaches_start and _passes_on(layer, "backward")


def check_shape(shape, name: str = "input_shape", owner: str | None = None) -> tuple[int, ...]:
    """Return a per-sample shape as a tuple of ints.

    Parameters
    ----------
    shape : int or sequence of int
        An int >= 1 or a non-empty sequence of them.
    name : str, default "input_shape"
        Name of the parameter that received ``shape``, quoted in the error message.
    owner : str or None, default None
        Name of the class or function that received it, quoted in the error message.

    Returns
    -------
    tuple of int
        The shape.

    Raises
    ------
    InvalidParameterError
        If ``shape`` is not an int >= 1 or a non-empty sequence of them; the message names ``name`` and ``owner``.
    """
    original = shape
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        shape = None
    if not shape or any(isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1
                        for n in shape):
        where = f"The '{name}' parameter" + (f" of {owner}" if owner else "")
        raise InvalidParameterError(f"{where} must be a tuple of positive ints (the shape of one sample, without "
                                    f"the batch axis). Got {original!r} instead.")
    return tuple(int(n) for n in shape)


class Sequential:
    """A stack of layers applied in order.

    Parameters
    ----------
    layers : list of core.base.Layer
        The layers, applied in this order; each instance may appear once.

    Notes
    -----
    After ``build``: ``built`` is True, ``dtype`` the parameter dtype, ``input_shape`` and ``output_shape`` the
    per-sample shapes (without the batch axis).
    """

    def __init__(self, layers: list[Layer]) -> None:
        if not isinstance(layers, (list, tuple)) or not all(isinstance(layer, Layer) for layer in layers):
            raise InvalidParameterError(f"The 'layers' parameter of Sequential must be a list of core.layers.Layer "
                            f"instances. Got {layers!r} instead.")
        if len({id(layer) for layer in layers}) != len(layers):
            raise InvalidParameterError("The 'layers' parameter of Sequential contains the same layer instance "
                                        "twice; create a new layer for each position.")
        self.layers = list(layers)
        self.built = False
        self.dtype: np.dtype | None = None
        self.input_shape: tuple[int, ...] | None = None
        self.output_shape: tuple[int, ...] | None = None
        self._parameters: list[Parameter] = []

    def build(self, input_shape, seed_or_rng=None, dtype="float32") -> Sequential:
        """Allocate and initialise every layer for samples of shape ``input_shape`` (no batch axis).

        Parameters
        ----------
        input_shape : int or tuple of int
            The shape of one sample, without the batch axis, e.g. ``(n_features,)`` or ``(1, L, L)``.
        seed_or_rng : None, int, SeedSequence, Generator or RandomState, default None
            Anything :func:`core._validation.as_generator` takes; all initial weights, and later the dropout
            masks, are drawn from it.
        dtype : {"float32", "float64"}
            The dtype of every parameter and activation.

        Returns
        -------
        Sequential
            self, built.
        """
        input_shape = check_shape(input_shape, "input_shape", "Sequential.build")
        rng = as_generator(seed_or_rng, "seed_or_rng", "Sequential.build")
        self.dtype = check_dtype(dtype, "dtype", "Sequential.build")
        layers = self.layers
        for i, layer in enumerate(layers):
            following = layers[i + 1] if i + 1 < len(layers) else None
            if hasattr(layer, "fallback_init"):
                name = getattr(following, "activation_name", None)
                layer.fallback_init = default_init(name) if name else "glorot"
            layer.inplace_forward = i > 0 and layers[i - 1].fresh_output
            layer.inplace_backward = following is not None and following.fresh_input_grad
        _fuse_relus(layers)
        _mark_reusable(layers)
        shape = input_shape
        for layer in layers:
            shape = layer.build(shape, rng, self.dtype)
        self.input_shape, self.output_shape = input_shape, tuple(shape)
        self._flatten()
        trainable = [i for i, layer in enumerate(layers) if layer.params]
        self._first_trainable = trainable[0] if trainable else None
        self.built = True
        return self

    def _flatten(self) -> None:
        """Move every layer's parameters, and their gradients, into two contiguous buffers (one for the values,
        one for the gradients) in the order of :meth:`parameters`; the layers' ``params`` and ``grads`` become
        views into them, with their values unchanged. An optimizer then updates all parameters with a few
        vectorised calls (see :mod:`core.optim`)."""
        entries = [(i, layer, name) for i, layer in enumerate(self.layers) for name in layer.params]
        dtypes = {layer.params[name].dtype for _, layer, name in entries}
        if len(dtypes) == 1:
            dtype = dtypes.pop()
            sizes = [layer.params[name].size for _, layer, name in entries]
            values, grads = np.empty(sum(sizes), dtype), np.zeros(sum(sizes), dtype)
            offset = 0
            for (_, layer, name), size in zip(entries, sizes):
                shape = layer.params[name].shape
                value = values[offset:offset + size].reshape(shape)
                value[...] = layer.params[name]
                layer.params[name] = value
                layer.grads[name] = grads[offset:offset + size].reshape(shape)
                offset += size
        self._parameters = [Parameter(f"{i}.{name}", layer.params[name], layer.grads[name], name in DECAYED)
                            for i, layer, name in entries]

    def __setstate__(self, state: dict) -> None:
        # copy.deepcopy and pickle copy each parameter array on its own: gather them into one buffer again
        self.__dict__.update(state)
        if self.built:
            self._flatten()

    def _check_built(self, method: str) -> None:
        if not self.built:
            raise RuntimeError(f"Sequential.{method} needs a built network; call build(input_shape, ...) first.")

    def _as_input(self, X, owner: str = "X") -> np.ndarray:
        X = np.asarray(X)
        if X.dtype != self.dtype:
            X = X.astype(self.dtype)
        if X.shape[1:] != self.input_shape:
            raise ValueError(f"The '{owner}' input must have shape (batch, {', '.join(map(str, self.input_shape))}"
                             f"{',' if len(self.input_shape) == 1 else ''}). Got shape {X.shape} instead.")
        return X

    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        """Network output for a batch; caches what ``backward`` needs.

        Parameters
        ----------
        X : array_like
            Shape (batch, *input_shape). Cast to the network dtype only when its dtype differs.
        training : bool, default False
            Switches dropout on.

        Returns
        -------
        ndarray
            Shape (batch, *output_shape).
        """
        self._check_built("forward")
        Y = self._as_input(X)
        for layer in self.layers:
            Y = layer.forward(Y, training)
        return Y

    def backward(self, d_output: np.ndarray, *, input_grad: bool = True,
                 sgd_rate: float | None = None) -> np.ndarray | None:
        """Backpropagate through the last ``forward``; fill every layer's grads.

        Parameters
        ----------
        d_output : array_like
            dL/d output of the last ``forward``, shape (batch, *output_shape).
        input_grad : bool, default True
            Whether to compute the gradient with respect to the input. False skips it (the training loop does not
            need it; this saves the first layer's largest matrix product) and returns None.
        sgd_rate : float or None, default None
            If given, also apply the plain SGD step w <- w - sgd_rate g to each layer's parameters as soon as its
            backward has returned (its input gradient already computed with the old weights), while its gradients
            are still in the cache: the numbers of :class:`core.optim.SGD`'s step after a plain backward (see
            :meth:`core.optim.Optimizer.layerwise_rate`), except that a layer that ``steps_sgd`` (Dense) may update
            its weights inside its weight-gradient product (rounding once where the separate step rounds twice).
            The grads no longer hold the gradient afterwards.

        Returns
        -------
        ndarray or None
            dL/dX, shape (batch, *input_shape); None if ``input_grad`` is False.
        """
        self._check_built("backward")
        grad = np.asarray(d_output)
        if grad.dtype != self.dtype:
            grad = grad.astype(self.dtype)
        if input_grad:
            for layer in reversed(self.layers):
                grad = _backward(layer, grad, True, sgd_rate)
            return grad
        first = self._first_trainable
        if first is None:
            return None
        for layer in reversed(self.layers[first + 1:]):
            grad = _backward(layer, grad, True, sgd_rate)
        _backward(self.layers[first], grad, False, sgd_rate)
        return None

    def predict(self, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Network output for X in inference mode (dropout off), in chunks of ``batch_size``.

        Parameters
        ----------
        X : array_like
            Shape (n_samples, *input_shape). Finite inputs; cast to the network's dtype.
        batch_size : int, default 1024
            Samples per forward pass (>= 1).

        Returns
        -------
        ndarray
            Shape (n_samples, *output_shape).
            In the network's dtype.
        """
        self._check_built("predict")
        batch_size = check_positive_int(batch_size, "batch_size", "Sequential.predict")
        X = self._as_input(X)
        if not np.all(np.isfinite(X)):
            raise ValueError("The 'X' input of Sequential.predict contains NaN or inf.")
        out = np.empty((X.shape[0], *self.output_shape), dtype=self.dtype)
        for start in range(0, X.shape[0], batch_size):
            out[start:start + batch_size] = self.forward(X[start:start + batch_size], training=False)
        return out

    def hidden_features(self, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """The representation the network's readout sees: the input of its LAST trainable layer (the final Dense
        of :func:`core.models.mlp` and :func:`core.models.cnn`), i.e. the output of every layer before it.

        Parameters
        ----------
        X : array_like
            Shape (n_samples, *input_shape). Finite inputs; cast to the network's dtype.
        batch_size : int, default 1024
            Samples per forward pass (>= 1).

        Returns
        -------
        ndarray
            Shape (n_samples, width), float64: those activations in inference mode (dropout off), each sample's
            flattened; ``width`` is the size of the last trainable layer's per-sample input (for a network without
            trainable layer, or whose only one is the first, the flattened input itself).
        """
        self._check_built("hidden_features")
        batch_size = check_positive_int(batch_size, "batch_size", "Sequential.hidden_features")
        X = self._as_input(X)
        if not np.all(np.isfinite(X)):
            raise ValueError("The 'X' input of Sequential.hidden_features contains NaN or inf.")
        trainable = [i for i, layer in enumerate(self.layers) if layer.params]
        head = self.layers[:trainable[-1]] if trainable else self.layers[:0]
        width = int(np.prod(head[-1].output_shape if head else self.input_shape))
        out = np.empty((X.shape[0], width), dtype=np.float64)
        for start in range(0, X.shape[0], batch_size):
            Y = X[start:start + batch_size]
            for layer in head:
                Y = layer.forward(Y, False)
            out[start:start + batch_size] = Y.reshape(len(Y), width)
        return out

    def parameters(self) -> list[Parameter]:
        """Trainable arrays in a fixed order (layer by layer, "W" before "b"); the same objects every call."""
        self._check_built("parameters")
        return list(self._parameters)

    def n_parameters(self) -> int:
        """Total number of trainable scalars."""
        return sum(p.value.size for p in self.parameters())

    def get_weights(self) -> dict[str, np.ndarray]:
        """Copies of all parameters, keyed "<layer index>.<param name>" (e.g. "0.W")."""
        return {p.name: p.value.copy() for p in self.parameters()}

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Copy weights into the parameters, in place.

        Parameters
        ----------
        weights : dict of str to ndarray
            Exactly the keys of ``get_weights()`` ("<layer index>.<param name>"), with the same shapes; cast to
            the network's dtype.

        Raises
        ------
        InvalidParameterError
            If the keys or a shape differ.
        """
        parameters = {p.name: p for p in self.parameters()}
        if not isinstance(weights, dict) or set(weights) != set(parameters):
            got = sorted(weights) if isinstance(weights, dict) else type(weights).__name__
            raise InvalidParameterError(f"The 'weights' parameter of set_weights must be a dict with exactly the "
                                        f"keys {sorted(parameters)}. Got {got} instead.")
        for name, value in weights.items():
            value = np.asarray(value)
            if value.shape != parameters[name].value.shape:
                raise InvalidParameterError(f"The 'weights' entry {name!r} must have shape "
                                            f"{parameters[name].value.shape}. Got shape {value.shape} instead.")
        for name, value in weights.items():
            np.copyto(parameters[name].value, value, casting="same_kind")

    def get_config(self) -> dict:
        """JSON-able architecture: {"layers": [{"class": name, "config": kwargs}, ...]}."""
        return {"layers": [{"class": type(layer).__name__, "config": layer.get_config()} for layer in self.layers]}

    @classmethod
    def from_config(cls, config: dict) -> Sequential:
        """Unbuilt network from ``get_config()`` output.

        Parameters
        ----------
        config : dict
            {"layers": [{"class": name, "config": kwargs}, ...]}, with class names from
            :data:`core.layers.LAYERS`.

        Returns
        -------
        Sequential
            A new, unbuilt network.

        Raises
        ------
        InvalidParameterError
            If ``config`` has another form or names an unknown layer class.
        """
        try:
            entries = list(config["layers"])
            layers = []
            for entry in entries:
                name = entry["class"]
                if name not in LAYERS:
                    raise InvalidParameterError(f"The layer class {name!r} in 'config' is unknown; known: "
                                                f"{sorted(LAYERS)}.")
                layers.append(LAYERS[name](**entry["config"]))
        except InvalidParameterError:
            raise
        except (KeyError, TypeError) as error:
            raise InvalidParameterError(
                f"The 'config' parameter of Sequential.from_config must look like "
                f"{{'layers': [{{'class': ..., 'config': {{...}}}}, ...]}}: {error!r}"
            ) from error
        return cls(layers)

    def summary(self) -> str:
        """One line per layer: index, layer, output shape, parameter count."""
        self._check_built("summary")
        lines = [f"Sequential: input {self.input_shape}, dtype {self.dtype}"]
        for i, layer in enumerate(self.layers):
            count = sum(v.size for v in layer.params.values())
            lines.append(f"  {i:>2}  {layer!r:<50} -> {layer.output_shape}  params: {count}")
        lines.append(f"  total parameters: {self.n_parameters()}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Sequential([{', '.join(map(repr, self.layers))}])"
