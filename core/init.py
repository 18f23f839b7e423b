"""Weight initialisers: Glorot/Xavier, He and LeCun, each as a normal or a uniform distribution.

All three draw zero-mean weights whose variance is set by the fan-in and fan-out:

- "glorot": variance 2 / (fan_in + fan_out), for sigmoid, tanh, softplus, identity (Glorot & Bengio 2010)
- "he":     variance 2 / fan_in, for relu, leaky_relu, elu (He et al. 2015)
- "lecun":  variance 1 / fan_in (LeCun et al., "Efficient BackProp", 1998)

The plain names draw from a normal distribution N(0, variance); the names with the suffix "_uniform"
("glorot_uniform", "he_uniform", "lecun_uniform") draw from U(-a, a) with a = sqrt(3 * variance), which
has the same variance. For a Dense layer fan_in = n_inputs and fan_out = units; for a Conv2D layer
fan_in = in_channels * k * k and fan_out = filters * k * k.

Draws are made in float64 and then cast, so the same seed gives the same weights (up to rounding) in a
float32 and a float64 network.
"""

from __future__ import annotations

import math

import numpy as np

from core._validation import check_choice

__all__ = ["INITIALIZERS", "initialize", "check_init_name"]

#: name -> (distribution, function(fan_in, fan_out) -> variance)
INITIALIZERS = {
    "glorot": ("normal", lambda fan_in, fan_out: 2.0 / (fan_in + fan_out)),
    "he": ("normal", lambda fan_in, fan_out: 2.0 / fan_in),
    "lecun": ("normal", lambda fan_in, fan_out: 1.0 / fan_in),
}
INITIALIZERS.update(
    {f"{name}_uniform": ("uniform", variance) for name, (_, variance) in list(INITIALIZERS.items())}
)


def check_init_name(init, owner: str) -> None:
    """Raise InvalidParameterError unless ``init`` is None or a key of :data:`INITIALIZERS`.

    Parameters
    ----------
    init : str or None
        The initialiser name to check.
    owner : str
        Name of the class or function that received ``init``, quoted in the error message.

    Raises
    ------
    InvalidParameterError
        If ``init`` is neither None nor a key of :data:`INITIALIZERS`.
    """
    check_choice(init, "init", owner, (None, *sorted(INITIALIZERS)))


def initialize(name: str, shape: tuple[int, ...], fan_in: int, fan_out: int, rng: np.random.Generator,
               dtype) -> np.ndarray:
    """Draw an array from an initialiser (see the module docstring).

    Parameters
    ----------
    name : str
        A key of :data:`INITIALIZERS`, e.g. "glorot", "he", "lecun", "he_uniform".
    shape : tuple of int
        Shape of the array to draw.
    fan_in : int
        Number of inputs feeding each output unit (Dense: n_inputs; Conv2D: in_channels * k * k).
    fan_out : int
        Number of outputs each input unit feeds (Dense: units; Conv2D: filters * k * k).
    rng : numpy.random.Generator
        Source of the draws (made in float64).
    dtype : numpy dtype or str
        Dtype of the returned array.

    Returns
    -------
    ndarray
        Shape ``shape``.
        Zero-mean weights with the initialiser's variance, cast to ``dtype``.
    """
    check_init_name(name, "initialize")
    distribution, variance_of = INITIALIZERS[name]
    std = math.sqrt(variance_of(fan_in, fan_out))
    if distribution == "normal":
        weights = rng.normal(0.0, std, size=shape)
    else:
        limit = math.sqrt(3.0) * std
        weights = rng.uniform(-limit, limit, size=shape)
    return weights.astype(dtype, copy=False)
