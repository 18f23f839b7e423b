"""Convolutional scikit-learn estimators for image-shaped inputs: ``ConvNetClassifier`` and ``ConvNetRegressor``.

They are :class:`core.sklearn.NetClassifier` and :class:`core.sklearn.NetRegressor` whose network is always
:func:`core.models.cnn`, built from the estimator's own parameters (``channels``, ``kernel_size``, ``padding``,
``pooling``, ``block_pool``, ``hidden_layer_sizes``...) instead of a ``network`` parameter, so that they can be
cloned and grid-searched over the architecture. Everything else (training parameters, ``sample_weight``,
``partial_fit``, ``warm_start``, the fitted attributes) is the same.

X stays 2-D as everywhere in scikit-learn: (n_samples, n_features), each row one image flattened in C order,
channels first, i.e. ``image.reshape(-1)`` of an array of shape (C, H, W) (the layout of :class:`core.conv.Conv2D`);
for one-channel L x L lattices that is simply ``lattices.reshape(n, L * L)``. ``image_shape`` says how to fold a
row back: (H, W) for one channel, (C, H, W) otherwise; None reads each row as a one-row image (1, n_features), a
periodic chain, which makes the estimators usable (and checkable by ``check_estimator``) on any 2-D X. A 3-D X
(n_samples, H, W) is refused by the scikit-learn validation, as by every estimator: reshape it first.
"""

from __future__ import annotations

import math

import numpy as np

from core._estimator import ATTRIBUTES_DOC, TRAINING_DOC, _layer_sizes
from core._validation import Interval, Options
from core.conv import PADDINGS
from core.models import cnn
from core.network import Sequential
from core.sklearn import NetClassifier, NetRegressor

__all__ = ["ConvNetClassifier", "ConvNetRegressor"]

#: how the last convolution's feature maps become one vector for the dense head
POOLINGS = ("auto", "global_avg", "flatten")


class _ImageShape:
    """None-less image shape: a tuple of 2 (H, W) or 3 (C, H, W) ints >= 1."""

    def is_satisfied_by(self, value) -> bool:
        return (isinstance(value, (tuple, list)) and len(value) in (2, 3)
                and all(Interval(1, None, integer=True).is_satisfied_by(v) for v in value))

    def __str__(self) -> str:
        return "a tuple (H, W) or (C, H, W) of ints in [1, inf)"


class _Channels:
    """An int >= 1 or a non-empty sequence of them."""

    def is_satisfied_by(self, value) -> bool:
        return bool(_layer_sizes(value))

    def __str__(self) -> str:
        return "an int in [1, inf) or a non-empty sequence of them"


_CONV_CONSTRAINTS: dict = {
    "image_shape": [None, _ImageShape()],
    "channels": [_Channels()],
    "kernel_size": [Interval(1, None, integer=True)],
    "padding": [Options(PADDINGS)],
    "pooling": [Options(POOLINGS)],
    "block_pool": [None, Options(("max", "avg"))],
}


def _constraints(base: dict) -> dict:
    """The constraints of a Net estimator without its network parameters, plus the convolutional ones."""
    return {**{k: v for k, v in base.items() if k not in ("network", "input_shape")}, **_CONV_CONSTRAINTS}


def _store(estimator, values: dict) -> None:
    """Store the ``__init__`` arguments unchanged (scikit-learn convention)."""
    for name, value in values.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


class _ConvNet:
    """The network of the convolutional estimators: core.models.cnn from the parameters, on image_shape."""

    def _check_network_parameters(self, owner: str) -> None:
        pass  # every parameter has its constraint; the image shape is checked against X in _make_network

    def _image_shape(self, n_features: int) -> tuple[int, int, int]:
        """The (C, H, W) shape that rows of ``n_features`` features are read as.

        Parameters
        ----------
        n_features : int
            Number of columns of X.

        Returns
        -------
        tuple of int
            (C, H, W): ``image_shape`` with C = 1 prepended to (H, W); (1, 1, n_features) when it is None.

        Raises
        ------
        ValueError
            If C * H * W is not n_features.
        """
        if self.image_shape is None:
            return (1, 1, int(n_features))
        shape = tuple(int(v) for v in self.image_shape)
        shape = (1, *shape) if len(shape) == 2 else shape
        if math.prod(shape) != n_features:
            raise ValueError(f"X has {n_features} features, but the 'image_shape' parameter of {type(self).__name__} "
                             f"is {tuple(self.image_shape)} (read as (C, H, W) = {shape}), which needs "
                             f"{math.prod(shape)}: each row of X is one image flattened in C order, channels first.")
        return shape

    def _make_network(self, n_features: int, n_outputs: int, rng: np.random.Generator) -> Sequential:
        shape = self._image_shape(n_features)
        network = cnn(channels=_layer_sizes(self.channels), kernel_size=int(self.kernel_size), padding=self.padding,
                      activation=self.activation, pool=self.block_pool, global_pool=self._global_pool,
                      hidden_layer_sizes=_layer_sizes(self.hidden_layer_sizes), n_outputs=n_outputs,
                      dropout=float(self.dropout), init=self.init)
        network.build(shape, rng, self.dtype)
        return network

    @property
    def _global_pool(self) -> bool:
        """Whether the readout is the global average (pooling="auto": only when image_shape is given)."""
        return self.pooling == "global_avg" or (self.pooling == "auto" and self.image_shape is not None)


CONV_DOC = """
    image_shape : tuple of int or None, default=None
        How a row of X folds into an image: (H, W) for one channel or (C, H, W), channels first, with
        C * H * W = n_features (else fit raises ValueError); e.g. (L, L) for flat L x L lattices. None: each row
        is a one-row image (1, n_features), a chain (periodic with padding="periodic").
    channels : int or sequence of int, default=(16, 16)
        Output channels (each >= 1) of the Conv2D blocks, one block per entry (Conv2D -> activation).
    kernel_size : int, default=3
        Side k (>= 1) of the square k x k kernels.
    padding : {"periodic", "zero", "valid"}, default="periodic"
        Padding of every Conv2D: "periodic" wraps the image around (a lattice on a torus: with
        pooling="global_avg" and block_pool=None the predictions are invariant under periodic translations);
        "zero" pads with zeros (the output keeps the input's size); "valid" does not pad (each block shrinks the
        image by k - 1, which must leave at least 1 x 1).
    pooling : {"auto", "global_avg", "flatten"}, default="auto"
        Readout of the last feature maps: "global_avg", their average over the image per channel (translation
        invariant, independent of the image size), or "flatten", all of them in one vector (position aware).
        "auto": "global_avg" when image_shape is given, "flatten" when it is None (rows that are not declared
        images: a translation-invariant readout would make the prediction invariant under cyclic shifts of the
        features, unable to learn a generic tabular task).
    block_pool : {None, "max", "avg"}, default=None
        A 2 x 2 pooling between consecutive conv blocks (halving H and W), or None.
    hidden_layer_sizes : int or sequence of int, default=()
        Units of the hidden Dense layers of the head after the readout (empty: a linear readout).
    activation : str, default="relu"
        Activation after every Conv2D and hidden Dense, a key of ``core.activations.ACTIVATIONS``.
    init : str or None, default=None
        Initialiser of every Conv2D and Dense, a key of ``core.init.INITIALIZERS``; None = the activation's default.
    dropout : float, default=0.0
        Dropout rate, in [0, 1), after each hidden Dense activation of the head.
"""

_FLAT_X = """X : array_like
            Features, shape (n_samples, n_features): one flattened (C, H, W) image per row (see image_shape)."""


class ConvNetClassifier(_ConvNet, NetClassifier):
    __doc__ = f"""Convolutional neural-network classifier for image-shaped inputs (``core.models.cnn``).

    X is 2-D, (n_samples, n_features), one image per row flattened in C order, channels first (see the module
    docstring); everything but the network is :class:`core.sklearn.NetClassifier`.

    Parameters
    ----------
    loss : {{"softmax_cross_entropy", "binary_cross_entropy"}}, default="softmax_cross_entropy"
        "softmax_cross_entropy": one logit per class. "binary_cross_entropy": two classes only, one logit.
    {CONV_DOC.strip()}
    {TRAINING_DOC.format().strip()}

    Attributes
    ----------
    classes_ : ndarray
        Shape (n_classes,).
        The class labels, sorted.
    {ATTRIBUTES_DOC.strip()}

    Examples
    --------
    >>> import numpy as np
    >>> from core.sklearn_conv import ConvNetClassifier
    >>> rng = np.random.default_rng(0)
    >>> stripes = np.tile(rng.choice([-1.0, 1.0], (40, 1, 6)), (1, 6, 1))   # 6 x 6 images, vertical stripes
    >>> X = np.concatenate([stripes, stripes.transpose(0, 2, 1)]).reshape(80, 36)  # and horizontal ones
    >>> y = np.repeat([0, 1], 40)
    >>> model = ConvNetClassifier(image_shape=(6, 6), channels=(4,), max_epochs=5, random_state=0).fit(X, y)
    >>> model.network_.input_shape, model.predict(X[:2]).shape
    ((1, 6, 6), (2,))
    """

    _parameter_constraints: dict = _constraints(NetClassifier._parameter_constraints)

    def __init__(self, loss="softmax_cross_entropy", image_shape=None, channels=(16, 16), kernel_size=3,
                 padding="periodic", pooling="auto", block_pool=None, hidden_layer_sizes=(), activation="relu",
                 init=None, dropout=0.0, optimizer="adam", learning_rate=1e-3, alpha=1e-4, optimizer_params=None,
                 schedule="constant", schedule_params=None, clip_norm=None, batch_size=32, max_epochs=200,
                 early_stopping=False, validation_fraction=0.1, patience=10, tol=1e-4, warm_start=False,
                 random_state=None, init_random_state=None, dtype="float64", verbose=False, callbacks=None):
        _store(self, locals())


class ConvNetRegressor(_ConvNet, NetRegressor):
    __doc__ = f"""Convolutional neural-network regressor for image-shaped inputs (``core.models.cnn``).

    X is 2-D, (n_samples, n_features), one image per row flattened in C order, channels first (see the module
    docstring); everything but the network is :class:`core.sklearn.NetRegressor` (targets (n_samples,) or
    (n_samples, n_outputs)).

    Parameters
    ----------
    loss : {{"squared_error", "absolute_error", "huber"}}, default="squared_error"
        The training loss (see :class:`core.sklearn.NetRegressor`).
    huber_delta : float, default=1.0
        The residual (> 0) at which the Huber loss turns from quadratic to linear (loss="huber" only).
    {CONV_DOC.strip()}
    {TRAINING_DOC.format().strip()}

    Attributes
    ----------
    n_outputs_ : int
        Number of targets (1 for 1-D y).
    {ATTRIBUTES_DOC.strip()}
    """

    _parameter_constraints: dict = _constraints(NetRegressor._parameter_constraints)

    def __init__(self, loss="squared_error", huber_delta=1.0, image_shape=None, channels=(16, 16), kernel_size=3,
                 padding="periodic", pooling="auto", block_pool=None, hidden_layer_sizes=(), activation="relu",
                 init=None, dropout=0.0, optimizer="adam", learning_rate=1e-3, alpha=1e-4, optimizer_params=None,
                 schedule="constant", schedule_params=None, clip_norm=None, batch_size=32, max_epochs=200,
                 early_stopping=False, validation_fraction=0.1, patience=10, tol=1e-4, warm_start=False,
                 random_state=None, init_random_state=None, dtype="float64", verbose=False, callbacks=None):
        _store(self, locals())
