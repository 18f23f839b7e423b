"""Loss functions: ``forward(output, target) -> float`` (a mean), ``backward() -> dL/d output``.

``backward`` returns the gradient of the returned mean, i.e. already divided by the batch size, in the
dtype of ``output``. Targets are cast to the output dtype (a float64 target never upcasts a float32
network). Targets that do not fit the loss raise ValueError naming ``target``.

Sample weights: ``forward(output, target, sample_weight=w)`` returns the weighted mean over the batch,
sum_n w_n l_n / sum_n w_n, with l_n the sample's loss (its mean over the outputs), and ``backward`` its gradient;
so integer weights give the loss and gradient of the batch with each row repeated w_n times. A batch whose
weights are all zero has loss 0 and gradient 0. ``sample_weight=None`` is the plain mean (bit-identical).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from core._validation import check_choice, check_number

__all__ = [
    "Loss", "MeanSquaredError", "MeanAbsoluteError", "Huber", "SoftmaxCrossEntropy", "BinaryCrossEntropy", "LOSSES",
    "get_loss", "softmax", "log_softmax", "sigmoid",
]

#: the unweighted softmax cross-entropy with integer labels (training's common case) in one compiled pass
#: (:func:`core._kernels.softmax_cross_entropy`; False: numpy's log_softmax, which may differ in the last bit)
USE_KERNELS = True


def _compiled(logits: np.ndarray) -> bool:
    return USE_KERNELS and logits.dtype in (np.float32, np.float64)


def _kernels():
    from core import _kernels as module  # numba, imported at the first use

    return module


# Probability rows must sum to 1 within this tolerance: generous enough for rows normalised in float32
# (rounding ~1e-7 per term, n_classes terms), tight enough to catch rows that are not distributions.
_ROW_SUM_TOL = 1e-4


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax along the last axis via log-sum-exp: z - max(z) - log sum exp(z - max(z)). Never overflows.

    Parameters
    ----------
    logits : ndarray
        Shape (..., n_classes).
        Unnormalised log-probabilities z.

    Returns
    -------
    ndarray
        log softmax(z), shape and dtype of ``logits``.
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return shifted


def softmax(logits: np.ndarray) -> np.ndarray:
    """Class probabilities exp(z_k) / sum_j exp(z_j) along the last axis.

    Parameters
    ----------
    logits : ndarray
        Shape (..., n_classes).
        Unnormalised log-probabilities z.

    Returns
    -------
    ndarray
        Probabilities summing to 1 along the last axis, shape and dtype of ``logits``.
    """
    return np.exp(log_softmax(logits))


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Probability 1 / (1 + exp(-z)) of the positive class for binary logits, stable for any z.

    Parameters
    ----------
    logits : array_like
        Binary logits z, any shape.

    Returns
    -------
    ndarray
        Probabilities in [0, 1], shape of ``logits``.
    """
    return expit(logits)


def _as_output(output) -> np.ndarray:
    output = np.asarray(output)
    if output.dtype.kind != "f":
        output = output.astype(np.float64)
    if output.ndim == 0 or output.shape[0] == 0:
        raise ValueError(f"The 'output' of a loss must have shape (batch, ...) with batch >= 1. "
                         f"Got shape {output.shape} instead.")
    return output


def _sample_scale(sample_weight, n_samples: int, dtype, owner: str) -> np.ndarray | None:
    """n w / sum(w) for weights w (n_samples,), in ``dtype`` (zeros if sum(w) == 0); None for None or equal weights.

    The plain mean over the batch times this factor per sample is the weighted mean (all equal weights: 1).
    """
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf" or w.shape != (n_samples,):
        raise ValueError(f"The 'sample_weight' of {owner} must be numbers of shape ({n_samples},), one per sample. "
                         f"Got {w.dtype} of shape {w.shape} instead.")
    w = w.astype(np.float64)
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"The 'sample_weight' of {owner} must be finite and >= 0.")
    total = w.sum()
    scale = (w * (n_samples / total) if total > 0 else w).astype(dtype)
    return None if (scale == 1).all() else scale  # equal weights: the plain mean, bit for bit


def _per_sample(scale: np.ndarray, ndim: int) -> np.ndarray:
    """The per-sample factor (n,) shaped to broadcast over an array (n, ...) of ``ndim`` dimensions."""
    return scale.reshape(-1, *([1] * (ndim - 1)))


def _mean(values: np.ndarray, scale: np.ndarray | None) -> float:
    """The mean of the elementwise losses (n, ...), each sample's row weighted by ``scale`` if given."""
    if scale is not None:
        values = values * _per_sample(scale, values.ndim)
    if values.dtype.kind != "f" or values.dtype.itemsize < 4:
        return float(np.mean(values))
    # np.mean's arithmetic (a sum in the dtype, then a float64 division by the count, cast back to the dtype)
    # without its Python-level dispatch
    total = np.add.reduce(values, axis=None)
    return float(total.dtype.type(float(total) / values.size))


def _scaled(grad: np.ndarray, scale: np.ndarray | None) -> np.ndarray:
    """The plain-mean gradient (n, ...) times each sample's factor, in place."""
    if scale is not None:
        grad *= _per_sample(scale, grad.ndim)
    return grad


def _check_finite(target: np.ndarray, owner: str) -> None:
    if not np.all(np.isfinite(target)):
        raise ValueError(f"The 'target' of {owner} contains NaN or inf.")


def _elementwise_target(target, output: np.ndarray, owner: str, check_finite: bool = True) -> np.ndarray:
    """``target`` as a finite numeric array of the output's shape; (batch,) is accepted for output (batch, 1).
    ``check_finite=False`` skips the test for NaN and inf (for targets checked already)."""
    target = np.asarray(target)
    column = output.ndim == 2 and output.shape[1] == 1
    if target.shape != output.shape:
        if not (column and target.shape == output.shape[:1]):
            raise ValueError(f"The 'target' of {owner} must have the output's shape {output.shape}"
                             f"{' or (batch,)' if column else ''}. Got shape {target.shape} instead.")
        target = target[:, None]
    if target.dtype.kind not in "fiub":
        raise ValueError(f"The 'target' of {owner} must be numeric. Got dtype {target.dtype} instead.")
    if check_finite:
        _check_finite(target, owner)
    return target


class Loss:
    """Base class. ``forward`` returns the mean loss over the batch and caches what ``backward`` needs."""

    def forward(self, output: np.ndarray, target: np.ndarray, sample_weight=None) -> float:
        """Mean loss over the batch; caches what ``backward`` needs.

        Parameters
        ----------
        output : ndarray
            Shape (batch, ...).
            The network's output (logits for the cross-entropy losses).
        target : array_like
            The targets, in the form the loss accepts (see the class docstring).
        sample_weight : array_like or None, default None
            Shape (batch,), finite, >= 0: the weighted mean sum_n w_n l_n / sum_n w_n over the samples' losses
            l_n (0 if all weights are 0). None: the plain mean.

        Returns
        -------
        float
            The mean loss L.

        Raises
        ------
        ValueError
            If ``target`` does not fit the loss (shape, dtype, NaN or inf), naming ``target``, or
            ``sample_weight`` is not (batch,) finite and >= 0, naming ``sample_weight``.
        """
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        """dL/d output for the last ``forward``, already divided by the batch size, in the dtype of ``output``."""
        raise NotImplementedError

    def __call__(self, output, target, sample_weight=None) -> float:
        if sample_weight is None:  # losses defined elsewhere may not take sample_weight
            return self.forward(output, target)
        return self.forward(output, target, sample_weight=sample_weight)

    def forward_backward(self, output, target, sample_weight=None, *, checked_target: bool = False):
        """The mean loss and its gradient in one call: ``(forward(...), backward())``.

        Parameters
        ----------
        output : ndarray
            Shape (batch, ...).
            The network's output, as for ``forward``.
        target : array_like
            The targets, as for ``forward``.
        sample_weight : array_like or None, default None
            As for ``forward``.
        checked_target : bool, default False
            True promises that ``target`` already has the form this loss accepts (as returned by
            :func:`core.training.check_targets` for this loss, e.g. intp labels in range), so that a loss may skip
            re-checking it; the results are the same either way.

        Returns
        -------
        loss : float
            The mean loss L, as ``forward`` returns it.
        grad : ndarray
            Shape of ``output``.
            dL/d output, as ``backward`` returns it.
        """
        return float(self(output, target, sample_weight)), self.backward()


class _ElementwiseLoss(Loss):
    """A loss of targets shaped like the output: ``forward`` is ``_forward`` with the targets checked (finite, and
    in range where the loss has one); ``forward_backward`` skips those checks for targets checked already
    (``checked_target=True``), with the same arithmetic."""

    def forward(self, output, target, sample_weight=None):
        """Mean loss over the batch, the targets checked; see :meth:`Loss.forward`."""
        return self._forward(output, target, sample_weight, True)

    def forward_backward(self, output, target, sample_weight=None, *, checked_target: bool = False):
        if not checked_target or type(self).forward is not _ElementwiseLoss.forward:
            return super().forward_backward(output, target, sample_weight)
        return self._forward(output, target, sample_weight, False), self.backward()

    def _forward(self, output, target, sample_weight, check_target: bool) -> float:
        raise NotImplementedError


class MeanSquaredError(_ElementwiseLoss):
    """L = mean over all N*K elements of (output - target)^2 (for K = 1 output: the usual MSE over the batch).

    dL/d output = 2 (output - target) / (N K). ``target`` has the shape of ``output``, or shape (batch,)
    when output is (batch, 1).
    """

    def _forward(self, output, target, sample_weight, check_target):
        output = _as_output(output)
        target = _elementwise_target(target, output, "MeanSquaredError", check_target)
        self._scale = _sample_scale(sample_weight, len(output), output.dtype, "MeanSquaredError")
        residual = np.subtract(output, target, dtype=output.dtype)  # (batch, ...)
        self._residual = residual
        return _mean(np.square(residual), self._scale)

    def backward(self):
        residual = self._residual
        return _scaled(residual * (2.0 / residual.size), self._scale)


class MeanAbsoluteError(_ElementwiseLoss):
    """L = mean over all N*K elements of |output - target| (robust to outliers: fits the conditional median).

    dL/d output = sign(output - target) / (N K); where output == target exactly, |r| has no derivative and the
    subgradient 0 is returned. ``target`` has the shape of ``output``, or shape (batch,) when output is
    (batch, 1); the gradient has the dtype of ``output``.
    """

    def _forward(self, output, target, sample_weight, check_target):
        output = _as_output(output)
        target = _elementwise_target(target, output, "MeanAbsoluteError", check_target)
        self._scale = _sample_scale(sample_weight, len(output), output.dtype, "MeanAbsoluteError")
        residual = np.subtract(output, target, dtype=output.dtype)  # (batch, ...)
        self._residual = residual
        return _mean(np.abs(residual), self._scale)

    def backward(self):
        residual = self._residual
        return _scaled(np.sign(residual) * (1.0 / residual.size), self._scale)


class Huber(_ElementwiseLoss):
    """Huber loss with threshold ``delta``: quadratic for small residuals, linear for large ones.

    With r = output - target, L = mean over all N*K elements of

        h(r) = r^2 / (2 delta)        if |r| <= delta,
        h(r) = |r| - delta / 2        otherwise,

    so dh/dr = r / delta inside and sign(r) outside, i.e. clip(r / delta, -1, 1), and dL/d output =
    clip(r / delta, -1, 1) / (N K). h and its derivative are continuous at |r| = delta.

    Convention: this is the usual Huber function (r^2 / 2 inside, delta (|r| - delta / 2) outside) divided by
    delta, so that the linear part has slope 1 whatever delta. Then |r| - delta / 2 <= h(r) <= |r|: the loss
    tends to :class:`MeanAbsoluteError` as delta -> 0, and equals :class:`MeanSquaredError` / (2 delta) when
    every |r| <= delta (large delta). Scaled this way, the gradient is bounded by 1 / (N K) for any delta.

    ``target`` has the shape of ``output``, or shape (batch,) when output is (batch, 1); the gradient has the
    dtype of ``output``.

    Parameters
    ----------
    delta : float, default 1.0
        Residual at which the loss turns from quadratic to linear, in the units of the target; finite, > 0.
        Anything else raises InvalidParameterError (a ValueError) naming ``delta``.
    """

    def __init__(self, delta: float = 1.0):
        self.delta = float(check_number(delta, "delta", "Huber", low=0, low_closed=False))

    def _forward(self, output, target, sample_weight, check_target):
        output = _as_output(output)
        target = _elementwise_target(target, output, "Huber", check_target)
        self._scale = _sample_scale(sample_weight, len(output), output.dtype, "Huber")
        residual = np.subtract(output, target, dtype=output.dtype)  # (batch, ...)
        self._residual = residual
        magnitude = np.abs(residual)
        loss = np.where(magnitude <= self.delta, np.square(residual) * (0.5 / self.delta),
                        magnitude - 0.5 * self.delta)
        return _mean(loss, self._scale)

    def backward(self):
        residual = self._residual
        grad = np.clip(residual * (1.0 / self.delta), -1.0, 1.0)
        grad *= 1.0 / residual.size
        return _scaled(grad, self._scale)


class SoftmaxCrossEntropy(Loss):
    """Cross-entropy of softmax(logits) against class labels, fused with the softmax.

    L = -mean_n sum_k t[n, k] log softmax(z[n])_k, with log softmax from log-sum-exp (finite for any
    finite logits). dL/dz = (softmax(z) - t) / N.

    ``output``: logits (batch, n_classes). ``target``: integer labels (batch,) in [0, n_classes) (integral
    floats are accepted), or one-hot / probability rows (batch, n_classes), non-negative, summing to 1.

    With integer labels and no sample weights (training's common case) the loss, the probabilities and the gradient
    come from one compiled pass (:func:`core._kernels.softmax_cross_entropy`; ``USE_KERNELS = False``: numpy's
    log_softmax, which may differ in the last bits of exp and log); the loss is then summed in float64.
    """

    def forward(self, output, target, sample_weight=None):
        logits = _as_output(output)
        if logits.ndim != 2:
            raise ValueError(f"The 'output' of SoftmaxCrossEntropy must be logits of shape (batch, n_classes). "
                             f"Got shape {logits.shape} instead.")
        N, n_classes = logits.shape
        target = np.asarray(target)
        self._scale = _sample_scale(sample_weight, N, logits.dtype, "SoftmaxCrossEntropy")
        if target.ndim == 1:
            labels = self._check_labels(target, N, n_classes)
            if self._scale is None and _compiled(logits):
                return self._labelled(logits, labels)[0]
        log_p = log_softmax(logits)  # (N, n_classes)
        self._probabilities = np.exp(log_p)
        if target.ndim == 1:
            self._labels, self._rows = labels, None
            if self._scale is not None:
                return -_mean(log_p[np.arange(N), labels], self._scale)
            return float(-log_p[np.arange(N), labels].mean())
        rows = self._check_rows(target, logits.shape)
        self._labels, self._rows = None, rows
        if self._scale is not None:
            return -_mean(np.einsum("nk,nk->n", rows, log_p), self._scale)
        return float(-np.einsum("nk,nk->", rows, log_p) / N)

    def forward_backward(self, output, target, sample_weight=None, *, checked_target: bool = False):
        if (checked_target and sample_weight is None and isinstance(output, np.ndarray) and output.ndim == 2
                and _compiled(output) and isinstance(target, np.ndarray) and target.ndim == 1
                and target.dtype == np.intp):
            return self._labelled(output, target)  # without re-checking the labels
        return super().forward_backward(output, target, sample_weight)

    def _labelled(self, logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
        """(mean loss, gradient) for intp ``labels`` in range, unweighted, in one compiled pass over the logits; the
        probabilities are kept for ``backward``, which gives the same gradient."""
        N = len(logits)
        probabilities, gradient = np.empty_like(logits), np.empty_like(logits)
        dtype = logits.dtype.type
        total = _kernels().softmax_cross_entropy(logits, labels, probabilities, gradient, dtype(1.0 / N), dtype(1))
        self._scale, self._probabilities, self._labels, self._rows = None, probabilities, labels, None
        return -total / N, gradient

    @staticmethod
    def _check_labels(target, N, n_classes):
        if target.shape[0] != N:
            raise ValueError(f"The 'target' of SoftmaxCrossEntropy must have one label per sample ({N}). "
                             f"Got {target.shape[0]} labels instead.")
        if target.dtype.kind == "f":
            _check_finite(target, "SoftmaxCrossEntropy")
            if not np.array_equal(target, np.round(target)):
                raise ValueError("The 'target' of SoftmaxCrossEntropy must hold integer class labels; "
                                 "got non-integral floats. Pass labels (batch,) or probability rows (batch, k).")
        elif target.dtype.kind not in "iub":
            raise ValueError(f"The 'target' of SoftmaxCrossEntropy must hold integer class labels. "
                             f"Got dtype {target.dtype} instead.")
        labels = target.astype(np.intp)
        if labels.min() < 0 or labels.max() >= n_classes:
            raise ValueError(f"The 'target' of SoftmaxCrossEntropy must hold labels in [0, {n_classes}) for "
                             f"{n_classes} output logits. Got labels in [{labels.min()}, {labels.max()}].")
        return labels

    @staticmethod
    def _check_rows(target, shape):
        if target.shape != shape:
            raise ValueError(f"The 'target' of SoftmaxCrossEntropy must be labels (batch,) or probability rows "
                             f"of the logits' shape {shape}. Got shape {target.shape} instead.")
        if target.dtype.kind not in "fiub":
            raise ValueError(f"The 'target' of SoftmaxCrossEntropy must be numeric. Got dtype {target.dtype}.")
        _check_finite(target, "SoftmaxCrossEntropy")
        if target.min() < 0 or np.abs(target.sum(axis=1) - 1).max() > _ROW_SUM_TOL:
            raise ValueError("The 'target' rows of SoftmaxCrossEntropy must be probability distributions "
                             "(non-negative, summing to 1), e.g. one-hot rows.")
        return target

    def backward(self):
        grad = self._probabilities.copy()  # (N, n_classes)
        N = grad.shape[0]
        if self._rows is None:
            grad[np.arange(N), self._labels] -= 1
        else:
            grad -= self._rows.astype(grad.dtype, copy=False)
        grad *= 1.0 / N
        return _scaled(grad, self._scale)


class BinaryCrossEntropy(_ElementwiseLoss):
    """Binary cross-entropy on logits z with targets t in [0, 1] (usually {0, 1}):

    L = mean over elements of softplus(z) - t z = max(z, 0) - t z + log(1 + exp(-|z|)) (stable for any z);
    dL/dz = (sigmoid(z) - t) / n_elements. ``output`` (batch, 1) or (batch,) (or (batch, k) for k
    independent labels); ``target`` of the same shape, or (batch,) when output is (batch, 1).
    """

    def _forward(self, output, target, sample_weight, check_target):
        logits = _as_output(output)
        target = _elementwise_target(target, logits, "BinaryCrossEntropy", check_target)
        self._scale = _sample_scale(sample_weight, len(logits), logits.dtype, "BinaryCrossEntropy")
        if check_target and (target.min() < 0 or target.max() > 1):
            raise ValueError(f"The 'target' of BinaryCrossEntropy must lie in [0, 1] (labels 0/1). "
                             f"Got values in [{target.min()}, {target.max()}].")
        target = target.astype(logits.dtype, copy=False)
        self._logits, self._target = logits, target
        loss = np.logaddexp(0, logits) - target * logits
        return _mean(loss, self._scale)

    def backward(self):
        grad = expit(self._logits)
        grad -= self._target
        grad *= 1.0 / grad.size
        return _scaled(grad, self._scale)


LOSSES: dict[str, type[Loss]] = {
    "mse": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "huber": Huber,
    "softmax_cross_entropy": SoftmaxCrossEntropy,
    "binary_cross_entropy": BinaryCrossEntropy,
}


def get_loss(name: str) -> Loss:
    """Return a new loss with its default parameters.

    Parameters
    ----------
    name : str
        A key of :data:`LOSSES`: "mse", "mae", "huber", "softmax_cross_entropy", "binary_cross_entropy".
        "huber" has delta=1.0; construct :class:`Huber` directly for another delta.

    Returns
    -------
    Loss
        A new loss object.

    Raises
    ------
    InvalidParameterError
        If ``name`` is not a key of :data:`LOSSES`.
    """
    check_choice(name, "loss", None, sorted(LOSSES))
    return LOSSES[name]()
