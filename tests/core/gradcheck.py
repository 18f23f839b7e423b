"""Central finite-difference gradient checks for layers, losses and networks (float64).

Tolerance: with step eps = 1e-6 in float64 the central difference has truncation error ~eps^2 |f'''| ~ 1e-12
and rounding error ~1e-16 |f| / eps ~ 1e-10 relative to the O(1) gradients used here, so a correct
backward agrees to ~1e-9; a wrong one (missing factor, transposed index, wrong sign) is off by O(1).
The bound RTOL = 1e-6 required by the issue sits safely between the two.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-6
RTOL = 1e-6


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """||a - n|| / (||a|| + ||n||): 0 for equal arrays, ~1 for unrelated ones."""
    denominator = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    if denominator == 0.0:
        return 0.0
    return float(np.linalg.norm(analytic - numeric) / denominator)


def numerical_gradient(objective, array: np.ndarray, eps: float = EPS) -> np.ndarray:
    """d objective() / d array by central differences, perturbing ``array`` in place (restored after)."""
    grad = np.empty_like(array)
    flat, flat_grad = array.reshape(-1), grad.reshape(-1)
    for index in range(flat.size):
        original = flat[index]
        flat[index] = original + eps
        plus = objective()
        flat[index] = original - eps
        minus = objective()
        flat[index] = original
        flat_grad[index] = (plus - minus) / (2 * eps)
    return grad


def check_layer(layer, X: np.ndarray, rng: np.random.Generator, before_forward=None) -> dict[str, float]:
    """Compare a built float64 layer's backward with finite differences of L = sum(forward(X) * R).

    R is a fixed random projection, so dL/dY = R exercises every output. ``before_forward`` (optional) is
    called before every forward, e.g. to reset a dropout Generator so that the mask stays fixed.
    Returns the relative errors of dX and of every parameter gradient.
    """
    X = X.copy()
    prepare = before_forward or (lambda: None)
    prepare()
    Y = layer.forward(X, training=True)
    R = rng.standard_normal(Y.shape)

    def objective():
        prepare()
        return float(np.sum(layer.forward(X, training=True) * R))

    prepare()
    layer.forward(X, training=True)
    dX = layer.backward(R.copy())
    analytic = {name: grad.copy() for name, grad in layer.grads.items()}
    errors = {"X": relative_error(dX, numerical_gradient(objective, X))}
    for name, value in layer.params.items():
        errors[name] = relative_error(analytic[name], numerical_gradient(objective, value))
    return errors


def check_network(network, loss, X: np.ndarray, target: np.ndarray, before_forward=None) -> dict[str, float]:
    """Compare a built float64 network's backward (through ``loss``) with finite differences of the loss.

    Returns relative errors for the input gradient ("X") and every parameter ("0.W", ...).
    """
    X = X.copy()
    prepare = before_forward or (lambda: None)

    def objective():
        prepare()
        return loss.forward(network.forward(X, training=True), target)

    objective()
    dX = network.backward(loss.backward())
    analytic = {p.name: p.grad.copy() for p in network.parameters()}
    errors = {"X": relative_error(dX, numerical_gradient(objective, X))}
    for p in network.parameters():
        errors[p.name] = relative_error(analytic[p.name], numerical_gradient(objective, p.value))
    return errors
