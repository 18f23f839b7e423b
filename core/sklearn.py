"""scikit-learn estimators around the numpy networks: ``NetClassifier`` and ``NetRegressor``.

They follow the scikit-learn conventions: ``__init__`` only stores its arguments; the constraints on them are
declared as data (``_parameter_constraints``, checked by :func:`core._validation.check_params` first in ``fit``,
raising :class:`core.InvalidParameterError` with scikit-learn's message template); fitted attributes end in
``_``; ``fit`` returns ``self``. They work inside ``Pipeline`` and ``GridSearchCV`` (also over
``optimizer_params`` and ``schedule_params``), and pass ``check_estimator`` with no expected failure (in their
default dtype "float64"; the ``dtype`` parameter says why float32 is not the default). As scikit-learn's MLP they
take ``sample_weight`` in ``fit``, have ``partial_fit`` and ``warm_start``, warn with ``ConvergenceWarning`` when
``max_epochs`` cuts an improving fit, and expose ``n_iter_``, ``loss_curve_``, ``best_loss_``, ``coefs_`` and
``intercepts_``. Their convolutional versions are in :mod:`core.sklearn_conv`.

They are the one training path of the project: whatever the network (the default MLP, a CNN, a prebuilt
network), ``fit`` makes exactly one call of :func:`core.training.fit`. X is always 2-D, (n_samples, n_features),
and is reshaped to (n_samples, *input_shape) for the network, so a CNN on L x L lattices takes the same flat X as
any scikit-learn baseline.

Differences from ``sklearn.neural_network.MLPClassifier``: ``alpha`` is the L2 coefficient on the mean loss
(gradient + alpha * W; scikit-learn divides it by the batch size); training runs ``max_epochs`` epochs unless
``early_stopping`` stops it on a held-out ``validation_fraction`` (a plain random split, not stratified),
restoring the weights of the best epoch. Requires scikit-learn >= 1.6 (``validate_data``, ``__sklearn_tags__``).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from core._estimator import ATTRIBUTES_DOC, PARAMETERS_DOC, BaseNet
from core._validation import Interval, Options
from core.losses import (BinaryCrossEntropy, Huber, MeanAbsoluteError, MeanSquaredError, SoftmaxCrossEntropy,
                         log_softmax, sigmoid, softmax)

__all__ = ["NetClassifier", "NetRegressor"]


class NetClassifier(ClassifierMixin, BaseNet):
    __doc__ = f"""Neural-network classifier (by default a multilayer perceptron).

    Parameters
    ----------
    loss : {{"softmax_cross_entropy", "binary_cross_entropy"}}, default="softmax_cross_entropy"
        "softmax_cross_entropy": one logit per class. "binary_cross_entropy": two classes only, one logit and a
        sigmoid (``predict_proba`` still returns (n_samples, 2)).
    {PARAMETERS_DOC.format(outputs="n_classes, or 1 with binary_cross_entropy").strip()}

    Attributes
    ----------
    classes_ : ndarray
        Shape (n_classes,).
        The class labels, sorted.
    {ATTRIBUTES_DOC.strip()}
    """

    _parameter_constraints: dict = {
        **BaseNet._parameter_constraints,
        "loss": [Options(("softmax_cross_entropy", "binary_cross_entropy"))],
    }

    def __init__(self, loss="softmax_cross_entropy", hidden_layer_sizes=(100,), activation="relu", init=None,
                 dropout=0.0, network=None, input_shape=None, optimizer="adam", learning_rate=1e-3, alpha=1e-4,
                 optimizer_params=None, schedule="constant", schedule_params=None, clip_norm=None, batch_size=32,
                 max_epochs=200, early_stopping=False, validation_fraction=0.1, patience=10, tol=1e-4,
                 warm_start=False, random_state=None, init_random_state=None, dtype="float64", verbose=False,
                 callbacks=None):
        self.loss = loss
        super().__init__(hidden_layer_sizes=hidden_layer_sizes, activation=activation, init=init, dropout=dropout,
                         network=network, input_shape=input_shape, optimizer=optimizer, learning_rate=learning_rate,
                         alpha=alpha, optimizer_params=optimizer_params, schedule=schedule,
                         schedule_params=schedule_params, clip_norm=clip_norm, batch_size=batch_size,
                         max_epochs=max_epochs, early_stopping=early_stopping,
                         validation_fraction=validation_fraction, patience=patience, tol=tol,
                         warm_start=warm_start, random_state=random_state, init_random_state=init_random_state,
                         dtype=dtype, verbose=verbose, callbacks=callbacks)

    def fit(self, X, y, sample_weight=None):
        """Train a fresh network on labelled samples (or continue the fitted one, with warm_start).

        Parameters
        ----------
        X : array_like
            Features, shape (n_samples, n_features).
        y : array_like
            Class labels, shape (n_samples,); at least 2 classes (exactly 2 with binary_cross_entropy); with
            warm_start and a fitted network, the same classes as before.
        sample_weight : array_like or None, default=None
            One weight per sample, shape (n_samples,), finite, >= 0, not all 0; at least 2 classes must keep a
            positive weight. Each batch's loss is the weighted mean over its samples (``core.losses``), so with
            full-batch training integer weights are equivalent to repeated rows; the early-stopping validation
            loss is weighted too. None: all 1.

        Returns
        -------
        NetClassifier
            self, fitted.

        Warns
        -----
        sklearn.exceptions.ConvergenceWarning
            When max_epochs ended training while the monitored loss was still improving by more than tol.
        """
        continuing = self._continues(incremental=False)
        if not continuing:
            self._check_parameters()
        X, y = validate_data(self, X, y, dtype=np.dtype(self.dtype), reset=not continuing)
        sample_weight = self._sample_weight(sample_weight, X)
        check_classification_targets(y)
        classes, y_encoded = np.unique(y, return_inverse=True)
        if continuing and not np.array_equal(classes, self.classes_):
            raise ValueError(f"warm_start can only continue a NetClassifier on y with the classes of the previous "
                             f"fit, {self.classes_.tolist()}; got {classes.tolist()}. Set warm_start=False.")
        self._check_classes(classes)
        if sample_weight is not None and len(np.unique(y_encoded[sample_weight > 0])) < 2:
            raise ValueError("NetClassifier needs samples of at least 2 classes with a positive sample_weight; the "
                             "weights leave one class only.")
        self.classes_ = classes
        return self._train(X, y_encoded, self._n_logits, self._make_loss(), sample_weight=sample_weight)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch (one pass of minibatches) over (X, y), continuing from the current weights.

        The first call (on an unfitted estimator) builds the network and optimizer; later calls, and calls after
        ``fit``, continue them (optimizer state and random stream included). No early stopping or validation
        split, no ConvergenceWarning; ``loss_curve_`` and ``n_iter_`` grow by one epoch per call.

        Parameters
        ----------
        X : array_like
            Features, shape (n_samples, n_features).
        y : array_like
            Class labels, shape (n_samples,), each one of ``classes``.
        classes : array_like or None, default=None
            All the class labels, shape (n_classes,): required on the first call (as in scikit-learn), since
            one batch need not show every class; later it may be omitted, or must equal ``classes_``.
        sample_weight : array_like or None, default=None
            One weight per sample, shape (n_samples,), finite, >= 0, not all 0 (as in ``fit``).

        Returns
        -------
        NetClassifier
            self, fitted.
        """
        first = not hasattr(self, "network_")
        if first:
            self._check_parameters()
            if classes is None:
                raise ValueError("NetClassifier.partial_fit needs the 'classes' argument (all the class labels) on "
                                 "its first call.")
            classes = np.unique(classes)
            self._check_classes(classes)
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"The 'classes' argument of NetClassifier.partial_fit must equal classes_ "
                             f"{self.classes_.tolist()} after the first call; got {np.unique(classes).tolist()}.")
        else:
            classes = self.classes_
        X, y = validate_data(self, X, y, dtype=np.dtype(self.dtype), reset=first)
        sample_weight = self._sample_weight(sample_weight, X)
        check_classification_targets(y)
        unknown = np.setdiff1d(y, classes)
        if len(unknown):
            raise ValueError(f"y holds labels {unknown.tolist()} that are not in classes {classes.tolist()}.")
        self.classes_ = classes
        return self._train(X, np.searchsorted(classes, y), self._n_logits, self._make_loss(), incremental=True,
                           sample_weight=sample_weight)

    def _check_classes(self, classes) -> None:
        if len(classes) < 2:
            raise ValueError(f"NetClassifier needs samples of at least 2 classes in y; "
                             f"got one class, {classes[0]!r}.")
        if self._binary and len(classes) != 2:
            raise ValueError(f"NetClassifier(loss='binary_cross_entropy') needs exactly 2 classes; y has "
                             f"{len(classes)}. Use loss='softmax_cross_entropy'.")

    @property
    def _n_logits(self) -> int:
        return 1 if self._binary else len(self.classes_)

    def _make_loss(self):
        return BinaryCrossEntropy() if self._binary else SoftmaxCrossEntropy()

    @property
    def _binary(self) -> bool:
        return self.loss == "binary_cross_entropy"

    def _outputs_needed(self, n_outputs: int) -> str:
        return "one logit (binary_cross_entropy)" if self._binary else f"one logit per class ({n_outputs})"

    def _logits(self, X) -> np.ndarray:
        """Network output as float64: (n_samples, n_classes), or (n_samples,) when fitted with
        binary_cross_entropy (one output)."""
        output = self._forward(X).astype(np.float64)
        return output[:, 0] if output.shape[1] == 1 else output

    def decision_function(self, X) -> np.ndarray:
        """Logits of the classes.

        Parameters
        ----------
        X : array_like
            Features, shape (n_samples, n_features).

        Returns
        -------
        ndarray
            Float64 logits, shape (n_samples, n_classes); for two classes the logit of ``classes_[1]`` against
            ``classes_[0]`` (z_1 - z_0, or the single logit with binary_cross_entropy), shape (n_samples,).
        """
        logits = self._logits(X)
        if logits.ndim == 1:
            return logits
        return logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : array_like
            Features, shape (n_samples, n_features).

        Returns
        -------
        ndarray
            Shape (n_samples, n_classes), float64, rows summing to 1, columns ordered as ``classes_``.
        """
        logits = self._logits(X)
        if logits.ndim == 1:
            p = sigmoid(logits)
            return np.column_stack([1.0 - p, p])
        return softmax(logits)

    def predict_log_proba(self, X) -> np.ndarray:
        """Log of ``predict_proba``, computed stably (log-sum-exp; log-sigmoid).

        Parameters
        ----------
        X : array_like
            Features, shape (n_samples, n_features).

        Returns
        -------
        ndarray
            Shape (n_samples, n_classes), float64.
        """
        logits = self._logits(X)
        if logits.ndim == 1:
            return np.column_stack([-np.logaddexp(0.0, logits), -np.logaddexp(0.0, -logits)])
        return log_softmax(logits)

    def predict(self, X) -> np.ndarray:
        """Most probable class label per sample.

        Parameters
        ----------
        X : array_like
            Features, shape (n_samples, n_features).

        Returns
        -------
        ndarray
            Labels from ``classes_``, shape (n_samples,).
        """
        logits = self._logits(X)
        index = (logits > 0).astype(np.intp) if logits.ndim == 1 else np.argmax(logits, axis=1)
        return self.classes_[index]


class NetRegressor(RegressorMixin, BaseNet):
    __doc__ = f"""Neural-network regressor (by default a multilayer perceptron), trained with mean squared error
    (default), mean absolute error or the Huber loss.

    Targets y of shape (n_samples,) or (n_samples, n_outputs); ``predict`` returns the same number of
    dimensions. Scale X (and y) beforehand, e.g. with a Pipeline (and ``TransformedTargetRegressor`` for y).

    Parameters
    ----------
    loss : {{"squared_error", "absolute_error", "huber"}}, default="squared_error"
        The training loss, averaged over samples and outputs (the names of scikit-learn's regressors).
        "squared_error": mean squared error (``core.losses.MeanSquaredError``), fits the conditional mean.
        "absolute_error": mean absolute error (``core.losses.MeanAbsoluteError``), fits the conditional median,
        robust to outliers and heavy-tailed noise (its gradient has constant size, so training is slower to
        settle). "huber": ``core.losses.Huber(huber_delta)``, quadratic for residuals up to huber_delta and
        linear beyond (divided by huber_delta, so that it tends to absolute_error for a small huber_delta).
        ``loss_curve_`` and ``validation_loss_curve_`` record the chosen loss.
    huber_delta : float, default=1.0
        The residual (> 0) at which the Huber loss turns from quadratic to linear; used only with loss="huber"
        (ignored otherwise). It is in the units of the target the network sees: in standard deviations if y is
        standardised (e.g. by a ``TransformedTargetRegressor`` with a ``StandardScaler``), else in the units of y.
    {PARAMETERS_DOC.format(outputs="n_outputs").strip()}

    Attributes
    ----------
    n_outputs_ : int
        Number of targets (1 for 1-D y).
    {ATTRIBUTES_DOC.strip()}
    """

    _parameter_constraints: dict = {
        **BaseNet._parameter_constraints,
        "loss": [Options(("squared_error", "absolute_error", "huber"))],
        "huber_delta": [Interval(0, None, low_closed=False)],
    }

    def __init__(self, loss="squared_error", huber_delta=1.0, hidden_layer_sizes=(100,), activation="relu",
                 init=None, dropout=0.0, network=None, input_shape=None, optimizer="adam", learning_rate=1e-3,
                 alpha=1e-4, optimizer_params=None, schedule="constant", schedule_params=None, clip_norm=None,
                 batch_size=32, max_epochs=200, early_stopping=False, validation_fraction=0.1, patience=10, tol=1e-4,
                 warm_start=False, random_state=None, init_random_state=None, dtype="float64", verbose=False,
                 callbacks=None):
        self.loss = loss
        self.huber_delta = huber_delta
        super().__init__(hidden_layer_sizes=hidden_layer_sizes, activation=activation, init=init, dropout=dropout,
                         network=network, input_shape=input_shape, optimizer=optimizer, learning_rate=learning_rate,
                         alpha=alpha, optimizer_params=optimizer_params, schedule=schedule,
                         schedule_params=schedule_params, clip_norm=clip_norm, batch_size=batch_size,
                         max_epochs=max_epochs, early_stopping=early_stopping,
                         validation_fraction=validation_fraction, patience=patience, tol=tol,
                         warm_start=warm_start, random_state=random_state, init_random_state=init_random_state,
                         dtype=dtype, verbose=verbose, callbacks=callbacks)

    def _make_loss(self):
        """A fresh core.losses.Loss for ``loss`` (and ``huber_delta``)."""
        if self.loss == "absolute_error":
            return MeanAbsoluteError()
        if self.loss == "huber":
            return Huber(float(self.huber_delta))
        return MeanSquaredError()

    def fit(self, X, y, sample_weight=None):
        """Train a fresh network on samples and numeric targets (or continue the fitted one, with warm_start).

        Parameters
        ----------
        X : array_like
            Features, shape (n_samples, n_features).
        y : array_like
            Targets, shape (n_samples,) or (n_samples, n_outputs) (with warm_start and a fitted network: the
            shape fitted before).
        sample_weight : array_like or None, default=None
            One weight per sample, shape (n_samples,), finite, >= 0, not all 0. Each batch's loss is the weighted
            mean over its samples (``core.losses``), so with full-batch training integer weights are equivalent
            to repeated rows; the early-stopping validation loss is weighted too. None: all 1.

        Returns
        -------
        NetRegressor
            self, fitted.

        Warns
        -----
        sklearn.exceptions.ConvergenceWarning
            When max_epochs ended training while the monitored loss was still improving by more than tol.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch (one pass of minibatches) over (X, y), continuing from the current weights.

        The first call (on an unfitted estimator) builds the network and optimizer; later calls, and calls after
        ``fit``, continue them (optimizer state and random stream included). No early stopping or validation
        split, no ConvergenceWarning; ``loss_curve_`` and ``n_iter_`` grow by one epoch per call.

        Parameters
        ----------
        X : array_like
            Features, shape (n_samples, n_features).
        y : array_like
            Targets, shape (n_samples,) or (n_samples, n_outputs), the shape of the first call.
        sample_weight : array_like or None, default=None
            One weight per sample, shape (n_samples,), finite, >= 0, not all 0 (as in ``fit``).

        Returns
        -------
        NetRegressor
            self, fitted.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def _fit(self, X, y, sample_weight, incremental):
        continuing = self._continues(incremental)
        if not continuing:
            self._check_parameters()
        X, y = validate_data(self, X, y, dtype=np.dtype(self.dtype), multi_output=True, y_numeric=True,
                             reset=not continuing)
        sample_weight = self._sample_weight(sample_weight, X)
        y = y.astype(self.dtype, copy=False)
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if continuing and (y.ndim, n_outputs) != (self._y_ndim, self.n_outputs_):
            shape = "(n_samples,)" if self._y_ndim == 1 else f"(n_samples, {self.n_outputs_})"
            raise ValueError(f"warm_start and partial_fit continue a NetRegressor fitted on y of shape {shape}; "
                             f"got y of shape {y.shape}.")
        self._y_ndim, self.n_outputs_ = y.ndim, n_outputs
        return self._train(X, y.reshape(len(y), n_outputs), n_outputs, self._make_loss(), incremental=incremental,
                           sample_weight=sample_weight)

    def predict(self, X) -> np.ndarray:
        """Predictions for new samples.

        Parameters
        ----------
        X : array_like
            Features, shape (n_samples, n_features).

        Returns
        -------
        ndarray
            Float64, shape (n_samples,) if fitted on 1-D y, else (n_samples, n_outputs).
        """
        output = self._forward(X).astype(np.float64)
        return output[:, 0] if self._y_ndim == 1 else output

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
