"""Autoencoders, deterministic and variational (Kingma & Welling 2014), trained by :func:`core.training.fit`.

Both models ARE :class:`core.network.Sequential` networks: their layer list is the encoder's layers followed by
the decoder's (the VAE puts a :class:`Reparametrization` layer between the two), so ``parameters()``,
``get_weights()``/``set_weights()``, ``summary()``, the optimizers of :mod:`core.optim`, the callbacks and the whole
training loop of :mod:`core.training` (minibatches, validation, divergence checks, history) work on them unchanged.
:func:`fit_autoencoder` is ``fit(model, model.loss(), optimizer, X, model.targets(X), ...)``.

Deterministic autoencoder (:class:`Autoencoder`, built by :func:`autoencoder`)::

    X (batch, n) -> encoder -> z (batch, latent) -> decoder -> output (batch, n)

with a linear bottleneck (the encoder's last layer is a Dense without activation) and a linear decoder output that
is either the reconstruction itself (``output="linear"``, mean squared error) or Bernoulli logits
(``output="logits"``, binary cross-entropy on logits, for {0, 1} data or ±1 spins).

Variational autoencoder (:class:`VariationalAutoencoder`, built by :func:`variational_autoencoder`): the encoder
outputs the mean and log-variance of a diagonal Gaussian q(z|x) = N(mu, diag(exp(log_var))), a Dense head of
2 * latent outputs split as [mu | log_var]; z = mu + exp(log_var / 2) * eps with eps ~ N(0, 1) (the
reparametrisation trick); the decoder outputs the logits of independent Bernoulli likelihoods p(x_i = 1 | z). The
loss of one sample is

    l(x) = sum_i [softplus(a_i) - t_i a_i]  +  beta * KL(q(z|x) || N(0, 1)),
    KL   = 0.5 * sum_j (exp(log_var_j) + mu_j^2 - 1 - log_var_j),

a = decoder logits, t = Bernoulli targets; the training loss is its mean over the batch. With beta = 1 it is the
negative evidence lower bound (ELBO) of one reparametrised sample; beta != 1 gives the beta-VAE objective.

Data conventions (both models, Bernoulli likelihood): with ``spins=False`` the inputs are binary, values in [0, 1]
(usually {0, 1}), and the targets are the inputs. With ``spins=True`` the inputs are Ising spins s = ±1 (values in
[-1, 1]) and the targets are t = (s + 1) / 2: spin +1 -> 1, spin -1 -> 0. Reconstructions, decoded points and
samples are returned in the units of the input: the probability p = sigmoid(a) of x = 1 for binary data, the mean
spin 2 p - 1 = tanh(a / 2) for spins.

Random numbers: as for any Sequential, ``build(input_shape, seed_or_rng)`` draws the initial weights from its
Generator; the VAE's reparametrisation noise eps (in training mode) is drawn from the same Generator afterwards,
like dropout masks, so the same seeds give bit-identical training. In inference mode (``training=False``: predict,
the validation loss and divergence checks of ``fit``, encode, reconstruct) the VAE uses z = mu and draws nothing.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import expit

from core._validation import (
    InvalidParameterError,
    as_generator,
    check_bool,
    check_choice,
    check_number,
    check_positive_int,
)
from core.activations import get_activation
from core.base import Layer
from core.callbacks import History, ProgressBar
from core.losses import BinaryCrossEntropy, Loss, MeanSquaredError, _as_output, _elementwise_target
from core.models import _check_sizes, mlp
from core.network import Sequential, check_shape
from core.optim import Optimizer, get_optimizer
from core.training import TrainingSettings, check_callbacks, fit

__all__ = [
    "Autoencoder", "VariationalAutoencoder", "Reparametrization", "VAELoss", "autoencoder",
    "variational_autoencoder", "fit_autoencoder", "gaussian_kl", "OUTPUTS",
]

#: decoder outputs of :class:`Autoencoder`: the reconstruction itself (MSE) or Bernoulli logits (BCE on logits)
OUTPUTS = ("linear", "logits")

_DEFAULT_LEARNING_RATE = 1e-3


def gaussian_kl(mu, log_var) -> np.ndarray:
    """KL(N(mu, diag(exp(log_var))) || N(0, 1)) per sample, in closed form.

    Parameters
    ----------
    mu : array_like
        The mean of each diagonal Gaussian, shape (n_samples, latent).
    log_var : array_like
        The log-variance of each diagonal Gaussian, shape (n_samples, latent).

    Returns
    -------
    ndarray
        Shape (n_samples,), float64: 0.5 * sum_j (exp(log_var_j) + mu_j^2 - 1 - log_var_j) >= 0, zero only for
        mu = 0, log_var = 0. Its gradient is d/dmu = mu, d/dlog_var = (exp(log_var) - 1) / 2.

    Raises
    ------
    ValueError
        If ``mu`` and ``log_var`` are not both of shape (n_samples, latent).
    """
    mu = np.asarray(mu, dtype=np.float64)
    log_var = np.asarray(log_var, dtype=np.float64)
    if mu.ndim != 2 or mu.shape != log_var.shape:
        raise ValueError(f"The 'mu' and 'log_var' inputs of gaussian_kl must both have shape (n_samples, latent). "
                         f"Got shapes {mu.shape} and {log_var.shape} instead.")
    return 0.5 * np.sum(np.exp(log_var) + np.square(mu) - 1.0 - log_var, axis=1)


def _bernoulli_nll(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    """-log p(t | a) = softplus(a) - t a elementwise (stable for any a), in the dtype of ``logits``."""
    return np.logaddexp(0, logits) - target * logits


class Reparametrization(Layer):
    """The sampling step of a VAE: [mu | log_var] (batch, 2 * latent) -> z = mu + exp(log_var / 2) * eps
    (batch, latent).

    In training mode eps ~ N(0, 1) is drawn from the Generator given to ``build`` (the network's); in inference mode
    z = mu (eps = 0, nothing drawn). ``fixed_eps`` (batch, latent), when set, is used in either mode (this is how
    :meth:`VariationalAutoencoder.forward` takes ``eps``). Backward: dL/dmu = dL/dz, dL/dlog_var = dL/dz * eps *
    exp(log_var / 2) / 2; ``extra_grad`` (batch, 2 * latent), when set, is added: the gradient of a loss term that
    depends on mu and log_var directly (the KL term; set by :meth:`VariationalAutoencoder.backward`).

    Not in :data:`core.layers.LAYERS`: it is part of :class:`VariationalAutoencoder`, which serialises without it.
    """

    fresh_output = True
    fresh_input_grad = True

    def __init__(self) -> None:
        super().__init__()
        self.fixed_eps: np.ndarray | None = None
        self.extra_grad: np.ndarray | None = None
        self.mu = self.log_var = self.eps = self._half_noise = None

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1 or input_shape[0] % 2:
            raise ValueError(f"The encoder of a VariationalAutoencoder must output 2 * latent values per sample "
                             f"([mu | log_var]); its output shape is {tuple(input_shape)}.")
        return (input_shape[0] // 2,)

    def build(self, input_shape, rng, dtype):
        self.rng = rng
        return super().build(input_shape, rng, dtype)

    def forward(self, X, training=False):
        latent = self.output_shape[0]
        self.mu, self.log_var = X[:, :latent], X[:, latent:]  # views, (batch, latent) each
        if self.fixed_eps is not None:
            eps = self.fixed_eps
        elif training:
            eps = self.rng.standard_normal(self.mu.shape, dtype=self.dtype)
        else:
            eps = None
        self.eps = eps
        if eps is None:
            self._half_noise = None
            return self.mu.copy()
        noise = np.exp(0.5 * self.log_var)  # sigma
        noise *= eps  # sigma * eps = z - mu
        z = self.mu + noise
        noise *= 0.5  # dz/dlog_var
        self._half_noise = noise
        return z

    def backward(self, dY):
        latent = self.output_shape[0]
        dX = np.empty((dY.shape[0], 2 * latent), dtype=self.dtype)
        dX[:, :latent] = dY
        if self._half_noise is None:
            dX[:, latent:] = 0
        else:
            np.multiply(dY, self._half_noise, out=dX[:, latent:])
        if self.extra_grad is not None:
            dX += self.extra_grad
        return dX


class VAELoss(Loss):
    """The loss of :class:`VariationalAutoencoder`: Bernoulli negative log-likelihood summed over the inputs plus
    beta times the KL divergence of q(z|x) from N(0, 1), averaged over the batch.

    ``output`` (batch, n_inputs + 2 * latent): the VAE's forward output [logits | mu | log_var]. ``target``
    (batch, n_inputs): Bernoulli targets in [0, 1] (spins already mapped to (s + 1) / 2). With N the batch size,

        L = (1/N) sum_n [ sum_i (softplus(a_ni) - t_ni a_ni) + beta * 0.5 sum_j (exp(v_nj) + mu_nj^2 - 1 - v_nj) ],
        dL/da = (sigmoid(a) - t) / N,  dL/dmu = beta * mu / N,  dL/dv = beta * (exp(v) - 1) / (2 N)   (v = log_var).

    After ``forward``, ``reconstruction`` and ``kl`` hold the batch means of the two terms (floats).

    Parameters
    ----------
    beta : float, default 1.0
        The weight of the KL term, > 0.
    """

    def __init__(self, beta: float = 1.0) -> None:
        self.beta = float(check_number(beta, "beta", "VAELoss", low=0, low_closed=False))
        self.reconstruction = self.kl = math.nan

    def forward(self, output, target):
        output = _as_output(output)
        target = np.asarray(target)
        n_inputs = target.shape[1] if target.ndim == 2 else -1
        width = output.shape[1] if output.ndim == 2 else -1
        if n_inputs < 1 or width <= n_inputs or (width - n_inputs) % 2:
            raise ValueError(f"VAELoss needs an 'output' of shape (batch, n_inputs + 2 * latent) and a 'target' of "
                             f"shape (batch, n_inputs). Got shapes {output.shape} and {target.shape} instead.")
        logits = output[:, :n_inputs]
        latent = (width - n_inputs) // 2
        mu, log_var = output[:, n_inputs:n_inputs + latent], output[:, n_inputs + latent:]
        target = _elementwise_target(target, logits, "VAELoss")
        if target.min() < 0 or target.max() > 1:
            raise ValueError(f"The 'target' of VAELoss must lie in [0, 1] (Bernoulli targets; map spins s to "
                             f"(s + 1) / 2). Got values in [{target.min()}, {target.max()}].")
        target = target.astype(output.dtype, copy=False)
        self._logits, self._target, self._mu, self._log_var = logits, target, mu, log_var
        self._exp_log_var = np.exp(log_var)
        n = output.shape[0]
        self.reconstruction = float(np.sum(_bernoulli_nll(logits, target)) / n)
        self.kl = float(0.5 * np.sum(self._exp_log_var + np.square(mu) - 1 - log_var) / n)
        return self.reconstruction + self.beta * self.kl

    def backward(self):
        n, n_inputs = self._logits.shape
        grad = np.empty((n, n_inputs + 2 * self._mu.shape[1]), dtype=self._logits.dtype)
        logits_grad, latent_grad = grad[:, :n_inputs], grad[:, n_inputs:]
        np.copyto(logits_grad, expit(self._logits))
        logits_grad -= self._target
        latent = self._mu.shape[1]
        np.multiply(self._mu, self.beta, out=latent_grad[:, :latent])
        np.subtract(self._exp_log_var, 1.0, out=latent_grad[:, latent:])
        latent_grad[:, latent:] *= 0.5 * self.beta
        grad *= 1.0 / n
        return grad

    def __repr__(self) -> str:
        return f"VAELoss(beta={self.beta!r})"


class _EncoderDecoder(Sequential):
    """What both autoencoders share: the layer list, data conventions, encoding, decoding, configuration."""

    def __init__(self, encoder: Sequential, decoder: Sequential, spins: bool) -> None:
        owner = type(self).__name__
        for name, network in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(network, Sequential) or isinstance(network, _EncoderDecoder):
                raise InvalidParameterError(f"The '{name}' parameter of {owner} must be a core.network.Sequential "
                                            f"(e.g. core.models.mlp(...)). Got {network!r} instead.")
            if network.built:
                raise InvalidParameterError(f"The '{name}' parameter of {owner} must be an UNBUILT Sequential: the "
                                            f"{owner} builds its layers itself (use set_weights on the built {owner} "
                                            f"to reuse trained weights).")
            if not network.layers:
                raise InvalidParameterError(f"The '{name}' parameter of {owner} must have at least one layer.")
        self.spins = check_bool(spins, "spins", owner)
        between = self._make_between()
        self.n_encoder_layers = len(encoder.layers)
        self._decoder_start = len(encoder.layers) + len(between)  # index of the decoder's first layer
        super().__init__([*encoder.layers, *between, *decoder.layers])

    def _make_between(self) -> list[Layer]:
        return []

    @property
    def _likelihood_is_bernoulli(self) -> bool:
        raise NotImplementedError

    # ----------------------------------------------------------------------------------------------------- build
    def _chain_shapes(self, input_shape) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(encoder output shape, decoder output shape) for ``input_shape``, from the layers' shape rules alone."""
        shape, latent_shape = tuple(input_shape), None
        for i, layer in enumerate(self.layers):
            shape = tuple(layer.compute_output_shape(shape))
            if i == self.n_encoder_layers - 1:
                latent_shape = shape
        return latent_shape, shape

    def build(self, input_shape, seed_or_rng=None, dtype="float32"):
        """Allocate and initialise every layer for samples of shape ``input_shape`` (e.g. ``(n_inputs,)``); see
        :meth:`core.network.Sequential.build`. The decoder's output must have the input's shape (a ValueError
        naming both, raised before any layer is built). Returns self."""
        owner = f"{type(self).__name__}.build"
        input_shape = check_shape(input_shape, "input_shape", owner)
        _, output_shape = self._chain_shapes(input_shape)
        if output_shape != input_shape:
            raise ValueError(f"The decoder of {type(self).__name__} outputs samples of shape {output_shape}, but "
                             f"the 'input_shape' is {input_shape}: the reconstruction must have the input's shape "
                             f"(n_inputs of the decoder's last Dense = the width of X).")
        super().build(input_shape, seed_or_rng, dtype)
        self.latent_shape = tuple(self.layers[self._decoder_start].input_shape)
        return self

    # ------------------------------------------------------------------------------------------------------ data
    def targets(self, X) -> np.ndarray:
        """The training targets for inputs X: X itself, except for a Bernoulli likelihood with ``spins=True``,
        where t = (X + 1) / 2.

        Parameters
        ----------
        X : array_like
            Shape (n_samples, *input_shape): real, finite; in [0, 1] for a Bernoulli likelihood with binary data,
            in [-1, 1] with spins. The shape is checked when the model is built.

        Returns
        -------
        ndarray
            Shape of X, float64 (the training loop casts it to the network dtype).
        """
        return self._targets(X, "X")

    def _targets(self, X, name: str) -> np.ndarray:
        """:meth:`targets`, the messages naming the argument ``name``."""
        owner = type(self).__name__
        X = np.asarray(X)
        if X.dtype.kind not in "biuf":
            raise TypeError(f"The '{name}' input of {owner} must hold real numbers. Got dtype {X.dtype} instead.")
        if X.ndim < 2 or len(X) == 0 or (self.built and X.shape[1:] != self.input_shape):
            expected = ", ".join(map(str, self.input_shape)) if self.built else "n_inputs"
            raise ValueError(f"The '{name}' input of {owner} must have shape (n_samples >= 1, {expected}). Got shape "
                             f"{X.shape} instead.")
        X = X.astype(np.float64)
        if not np.isfinite(X).all():
            raise ValueError(f"The '{name}' input of {owner} contains NaN or inf.")
        if not self._likelihood_is_bernoulli:
            return X
        low, high = (-1.0, 1.0) if self.spins else (0.0, 1.0)
        if X.min() < low or X.max() > high:
            hint = ("" if self.spins or X.min() < -1 or X.max() > 1 else
                    "; for ±1 spins construct the model with spins=True")
            raise ValueError(f"The '{name}' input of {owner} must hold values in [{low:g}, {high:g}] "
                             f"({'spins' if self.spins else 'binary data'}, Bernoulli likelihood). Got values in "
                             f"[{X.min():g}, {X.max():g}]{hint}.")
        return (X + 1.0) * 0.5 if self.spins else X

    def _from_logits(self, logits: np.ndarray) -> np.ndarray:
        """Bernoulli logits -> the mean of x in input units: p = sigmoid(a), or the mean spin tanh(a / 2)."""
        return np.tanh(0.5 * logits) if self.spins else expit(logits)

    def _run(self, layers, X, batch_size: int, width: int, name: str, owner: str) -> np.ndarray:
        """``layers`` applied in inference mode to X (n, ...) in chunks; the flat result (n, width), network dtype."""
        batch_size = check_positive_int(batch_size, "batch_size", owner)
        if not np.all(np.isfinite(X)):
            raise ValueError(f"The '{name}' input of {owner} contains NaN or inf.")
        out = np.empty((X.shape[0], width), dtype=self.dtype)
        for start in range(0, X.shape[0], batch_size):
            Y = X[start:start + batch_size]
            for layer in layers:
                Y = layer.forward(Y, False)
            out[start:start + batch_size] = Y.reshape(len(Y), width)
        return out

    def _encoder_output(self, X, batch_size: int, owner: str) -> np.ndarray:
        self._check_built(owner.rsplit(".", 1)[-1])
        X = self._as_input(X)
        shape = self.layers[self.n_encoder_layers - 1].output_shape
        out = self._run(self.layers[:self.n_encoder_layers], X, batch_size, math.prod(shape), "X", owner)
        return out.reshape((len(X), *shape))

    def _decoder_output(self, Z, batch_size: int, owner: str) -> np.ndarray:
        """The decoder's raw output (n, n_inputs) for latent points Z (n, *latent_shape)."""
        self._check_built(owner.rsplit(".", 1)[-1])
        Z = np.array(Z, dtype=self.dtype)  # a copy: the decoder's first layer may work in place
        if Z.shape[1:] != self.latent_shape:
            raise ValueError(f"The 'Z' input of {owner} must have shape (n_samples, "
                             f"{', '.join(map(str, self.latent_shape))}{',' if len(self.latent_shape) == 1 else ''})."
                             f" Got shape {Z.shape} instead.")
        width = math.prod(self.input_shape)
        out = self._run(self.layers[self._decoder_start:], Z, batch_size, width, "Z", owner)
        return out.reshape((len(Z), *self.input_shape))

    # ---------------------------------------------------------------------------------------------- serialisation
    def _kwargs(self) -> dict:
        return {"spins": self.spins}

    def get_config(self) -> dict:
        """JSON-able architecture: {"class": ..., "encoder": {"layers": [...]}, "decoder": {"layers": [...]}, and the
        model's own arguments}. :meth:`from_config` rebuilds the unbuilt model; build it on the same input shape and
        dtype, then ``set_weights(get_weights())`` restores the trained model exactly."""
        encoder = Sequential(self.layers[:self.n_encoder_layers]).get_config()
        decoder = Sequential(self.layers[self._decoder_start:]).get_config()
        return {"class": type(self).__name__, "encoder": encoder, "decoder": decoder, **self._kwargs()}

    @classmethod
    def from_config(cls, config: dict):
        """Unbuilt model from ``get_config()`` output (of the same class)."""
        keys = {"class", "encoder", "decoder", *cls._config_keys}
        if not isinstance(config, dict) or set(config) != keys or config["class"] != cls.__name__:
            raise InvalidParameterError(f"The 'config' parameter of {cls.__name__}.from_config must be the dict "
                                        f"returned by {cls.__name__}.get_config(), with the keys {sorted(keys)}. Got "
                                        f"{config!r} instead.")
        return cls(Sequential.from_config(config["encoder"]), Sequential.from_config(config["decoder"]),
                   **{key: config[key] for key in cls._config_keys})

    def __repr__(self) -> str:
        encoder = Sequential(self.layers[:self.n_encoder_layers])
        decoder = Sequential(self.layers[self._decoder_start:])
        kwargs = "".join(f", {k}={v!r}" for k, v in self._kwargs().items())
        return f"{type(self).__name__}(encoder={encoder!r}, decoder={decoder!r}{kwargs})"


class Autoencoder(_EncoderDecoder):
    """Deterministic autoencoder: X (batch, n) -> encoder -> z -> decoder -> output (batch, n).

    The model is a :class:`core.network.Sequential` of the encoder's layers followed by the decoder's, so it
    trains with :func:`core.training.fit` (target = :meth:`targets` (X), loss = :meth:`loss`) or
    :func:`fit_autoencoder`; ``forward``/``backward``/``predict`` return and take the DECODER's raw output
    (reconstruction or logits). Parameter names follow that layer list ("0.W" ... for the encoder, then the decoder's
    layers numbered on). Build it (``build((n_inputs,), seed, dtype)``) before use, or let ``fit_autoencoder`` do it.

    Parameters
    ----------
    encoder : Sequential
        Unbuilt (each layer instance used once), e.g. ``core.models.mlp(...)``. Its output is the code z (the
        bottleneck: end it with a Dense without activation for a linear one).
    decoder : Sequential
        Unbuilt (each layer instance used once); maps z back to the input's shape.
    output : {"linear", "logits"}, default="linear"
        "linear": the decoder output is the reconstruction, loss :class:`core.losses.MeanSquaredError`.
        "logits": the decoder output is a logit per input (Bernoulli likelihood), loss
        :class:`core.losses.BinaryCrossEntropy` on logits, for binary data in [0, 1] or (``spins=True``) ±1 spins.
    spins : bool, default=False
        With ``output="logits"`` only: the inputs are spins s = ±1, the targets (s + 1) / 2.

    Attributes
    ----------
    latent_shape : tuple of int
        The shape of one code, e.g. (latent,) (set by ``build``).
    n_encoder_layers : int
        The number of leading layers that form the encoder.
    """

    _config_keys = ("output", "spins")

    def __init__(self, encoder: Sequential, decoder: Sequential, *, output: str = "linear", spins: bool = False):
        self.output = check_choice(output, "output", "Autoencoder", OUTPUTS)
        check_bool(spins, "spins", "Autoencoder")
        if spins and output != "logits":
            raise InvalidParameterError("The 'spins' parameter of Autoencoder applies to output='logits' only (the "
                                        "Bernoulli likelihood); with output='linear' spins are fitted as they are.")
        super().__init__(encoder, decoder, spins)

    @property
    def _likelihood_is_bernoulli(self) -> bool:
        return self.output == "logits"

    def _kwargs(self) -> dict:
        return {"output": self.output, "spins": self.spins}

    def loss(self) -> Loss:
        """A new instance of the training loss: MeanSquaredError (output="linear") or BinaryCrossEntropy on logits
        (output="logits"); both the mean over all elements of the batch, against :meth:`targets` (X)."""
        return BinaryCrossEntropy() if self.output == "logits" else MeanSquaredError()

    def encode(self, X, batch_size: int = 1024) -> np.ndarray:
        """Codes z of X, in inference mode.

        Parameters
        ----------
        X : array_like
            Shape (n_samples, *input_shape).
        batch_size : int, default 1024
            Samples per forward pass, >= 1.

        Returns
        -------
        ndarray
            Shape (n_samples, latent), network dtype.
        """
        return self._encoder_output(X, batch_size, "Autoencoder.encode")

    def decode(self, Z, batch_size: int = 1024) -> np.ndarray:
        """Reconstructions of codes Z in input units.

        Parameters
        ----------
        Z : array_like
            Codes, shape (n_samples, latent).
        batch_size : int, default 1024
            Samples per forward pass, >= 1.

        Returns
        -------
        ndarray
            Shape (n_samples, *input_shape), network dtype; for output="logits" the probability of x = 1, or the
            mean spin with spins=True.
        """
        out = self._decoder_output(Z, batch_size, "Autoencoder.decode")
        return self._from_logits(out).astype(self.dtype, copy=False) if self.output == "logits" else out

    def reconstruct(self, X, batch_size: int = 1024) -> np.ndarray:
        """decode(encode(X)), in input units.

        Parameters
        ----------
        X : array_like
            Shape (n_samples, *input_shape).
        batch_size : int, default 1024
            Samples per forward pass, >= 1.

        Returns
        -------
        ndarray
            Shape (n_samples, *input_shape), network dtype.
        """
        self._check_built("reconstruct")
        out = self.predict(X, batch_size)
        return self._from_logits(out).astype(self.dtype, copy=False) if self.output == "logits" else out

    def reconstruction_error(self, X, batch_size: int = 1024) -> np.ndarray:
        """Per-sample training loss: the mean over the inputs of (output - x)^2 (output="linear") or of
        softplus(a) - t a (output="logits"), so that its mean over the samples is :meth:`loss` of the whole set.

        Parameters
        ----------
        X : array_like
            Shape (n_samples, *input_shape).
        batch_size : int, default 1024
            Samples per forward pass, >= 1.

        Returns
        -------
        ndarray
            Shape (n_samples,), float64.
        """
        self._check_built("reconstruction_error")
        target = self.targets(X)
        out = self.predict(X, batch_size).astype(np.float64)
        axes = tuple(range(1, out.ndim))
        if self.output == "logits":
            return np.mean(_bernoulli_nll(out, target), axis=axes)
        return np.mean(np.square(out - target), axis=axes)


class VariationalAutoencoder(_EncoderDecoder):
    """Variational autoencoder (Kingma & Welling 2014) with a diagonal Gaussian q(z|x), a N(0, 1) prior and a
    Bernoulli likelihood for binary data or ±1 spins (see the module docstring for the loss).

    The layer list is encoder, :class:`Reparametrization`, decoder: a :class:`core.network.Sequential` that trains
    with :func:`core.training.fit` through the concatenated output below and :class:`VAELoss`, or with
    :func:`fit_autoencoder`. The reparametrisation noise is drawn from the build Generator in training mode, z = mu in
    inference mode, and ``forward(X, eps=...)`` fixes it.

    Parameters
    ----------
    encoder : Sequential
        Unbuilt; its output has 2 * latent values per sample, read as [mu | log_var] (e.g.
        ``mlp(hidden, 2 * latent)``: its last Dense is the Gaussian head).
    decoder : Sequential
        Unbuilt, from (latent,) to (n_inputs,): the Bernoulli logits.
    beta : float, default=1.0
        The weight of the KL term, > 0 (1: the ELBO).
    spins : bool, default=False
        The inputs are spins s = ±1, the Bernoulli targets (s + 1) / 2.

    Attributes
    ----------
    latent : int
        The size of the code z (set by ``build``).
    latent_shape : tuple of int
        (latent,).
    output_shape : tuple of int
        (n_inputs + 2 * latent,), the width of ``forward``'s output [logits | mu | log_var].
    """

    _config_keys = ("beta", "spins")

    def __init__(self, encoder: Sequential, decoder: Sequential, *, beta: float = 1.0, spins: bool = False):
        self.beta = float(check_number(beta, "beta", "VariationalAutoencoder", low=0, low_closed=False))
        super().__init__(encoder, decoder, spins)

    def _make_between(self):
        return [Reparametrization()]

    @property
    def _likelihood_is_bernoulli(self) -> bool:
        return True

    def _kwargs(self) -> dict:
        return {"beta": self.beta, "spins": self.spins}

    @property
    def _reparametrization(self) -> Reparametrization:
        return self.layers[self.n_encoder_layers]

    def build(self, input_shape, seed_or_rng=None, dtype="float32"):
        """As :meth:`Autoencoder.build`; the input must be flat, (n_inputs,).

        Parameters
        ----------
        input_shape : int or tuple of int
            (n_inputs,).
        seed_or_rng : None, int, SeedSequence, Generator or RandomState, default None
            Anything :func:`core.as_generator` takes: the initial weights, and later the reparametrisation noise
            of training-mode forward passes.
        dtype : {"float32", "float64"}
            The dtype of every parameter and activation.

        Returns
        -------
        VariationalAutoencoder
            self, built.

        Raises
        ------
        ValueError
            If the input is not flat, or the decoder's output does not have the input's shape.
        """
        input_shape = check_shape(input_shape, "input_shape", "VariationalAutoencoder.build")
        if len(input_shape) != 1:
            raise ValueError(f"VariationalAutoencoder needs flat inputs, 'input_shape' (n_inputs,). Got "
                             f"{input_shape} instead.")
        super().build(input_shape, as_generator(seed_or_rng, "seed_or_rng", "VariationalAutoencoder.build"), dtype)
        self.latent = self.latent_shape[0]
        self.output_shape = (input_shape[0] + 2 * self.latent,)
        return self

    def loss(self) -> VAELoss:
        """A new :class:`VAELoss` with this model's ``beta`` (the loss fit_autoencoder minimises)."""
        return VAELoss(self.beta)

    def _check_eps(self, eps, n: int, owner: str) -> np.ndarray:
        eps = np.asarray(eps)
        if eps.shape != (n, self.latent) or eps.dtype.kind not in "biuf" or not np.isfinite(eps).all():
            raise ValueError(f"The 'eps' input of {owner} must be finite numbers of shape (batch, latent) = "
                             f"({n}, {self.latent}). Got shape {eps.shape}, dtype {eps.dtype} instead.")
        return eps.astype(self.dtype, copy=False)

    def forward(self, X: np.ndarray, training: bool = False, eps=None) -> np.ndarray:
        """[logits | mu | log_var] for a batch; caches what ``backward`` needs.

        Parameters
        ----------
        X : array_like
            Shape (batch, n_inputs).
        training : bool, default False
            Training mode: the noise is drawn (unless ``eps`` is given).
        eps : array_like or None, default None
            The reparametrisation noise, shape (batch, latent): z = mu + exp(log_var / 2) * eps. None: drawn from
            the build Generator when ``training``, 0 (z = mu) otherwise.

        Returns
        -------
        ndarray
            Shape (batch, n_inputs + 2 * latent).
        """
        self._check_built("forward")
        X = self._as_input(X)
        layer = self._reparametrization
        layer.fixed_eps = None if eps is None else self._check_eps(eps, len(X), "VariationalAutoencoder.forward")
        try:
            logits = super().forward(X, training)
        finally:
            layer.fixed_eps = None
        return np.concatenate([logits, layer.mu, layer.log_var], axis=1)

    def backward(self, d_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """Backpropagate through the last ``forward``; fill every layer's grads.

        The logits part goes through the decoder and the reparametrisation, the mu and log_var parts (the KL term)
        are added at the encoder's head.

        Parameters
        ----------
        d_output : array_like
            dL/d[logits | mu | log_var], shape (batch, n_inputs + 2 * latent).
        input_grad : bool, default True
            Whether to compute dL/dX.

        Returns
        -------
        ndarray or None
            dL/dX, shape (batch, n_inputs), or None with ``input_grad=False``.
        """
        self._check_built("backward")
        grad = np.asarray(d_output)
        n_inputs = self.input_shape[0]
        if grad.ndim != 2 or grad.shape[1] != self.output_shape[0]:
            raise ValueError(f"The 'd_output' input of VariationalAutoencoder.backward must have shape (batch, "
                             f"{self.output_shape[0]}) ([logits | mu | log_var]). Got shape {grad.shape} instead.")
        layer = self._reparametrization
        layer.extra_grad = grad[:, n_inputs:].astype(self.dtype, copy=False)
        try:
            return super().backward(np.ascontiguousarray(grad[:, :n_inputs]), input_grad=input_grad)
        finally:
            layer.extra_grad = None

    def encode(self, X, batch_size: int = 1024, return_log_var: bool = False):
        """The mean mu of q(z|x).

        Parameters
        ----------
        X : array_like
            Shape (n_samples, n_inputs).
        batch_size : int, default 1024
            Samples per forward pass, >= 1.
        return_log_var : bool, default False
            Also return log_var.

        Returns
        -------
        ndarray or tuple of ndarray
            mu, shape (n_samples, latent), network dtype; with ``return_log_var=True`` the pair (mu, log_var).
        """
        check_bool(return_log_var, "return_log_var", "VariationalAutoencoder.encode")
        head = self._encoder_output(X, batch_size, "VariationalAutoencoder.encode")
        mu, log_var = head[:, :self.latent].copy(), head[:, self.latent:].copy()
        return (mu, log_var) if return_log_var else mu

    def decode(self, Z, batch_size: int = 1024) -> np.ndarray:
        """Mean of p(x|z) in input units for latent points.

        Parameters
        ----------
        Z : array_like
            Latent points, shape (n_samples, latent).
        batch_size : int, default 1024
            Samples per forward pass, >= 1.

        Returns
        -------
        ndarray
            Shape (n_samples, n_inputs), network dtype: the probability of x = 1, or the mean spin 2 p - 1 with
            spins=True.
        """
        logits = self._decoder_output(Z, batch_size, "VariationalAutoencoder.decode")
        return self._from_logits(logits).astype(self.dtype, copy=False)

    def reconstruct(self, X, batch_size: int = 1024) -> np.ndarray:
        """decode(encode(X)) (z = mu), in input units.

        Parameters
        ----------
        X : array_like
            Shape (n_samples, n_inputs).
        batch_size : int, default 1024
            Samples per forward pass, >= 1.

        Returns
        -------
        ndarray
            Shape (n_samples, n_inputs), network dtype.
        """
        return self.decode(self.encode(X, batch_size), batch_size)

    def _terms(self, X, eps, batch_size: int, owner: str) -> tuple[np.ndarray, np.ndarray]:
        """Per-sample (reconstruction, KL) in float64, for noise ``eps`` (n, latent) or z = mu (None)."""
        self._check_built(owner.rsplit(".", 1)[-1])
        batch_size = check_positive_int(batch_size, "batch_size", owner)
        target = self.targets(X)
        X = self._as_input(X)
        n_inputs, latent = self.input_shape[0], self.latent
        recon, kl = np.empty(len(X)), np.empty(len(X))
        for start in range(0, len(X), batch_size):
            chunk = slice(start, start + batch_size)
            out = self.forward(X[chunk], training=False, eps=None if eps is None else eps[chunk]).astype(np.float64)
            recon[chunk] = np.sum(_bernoulli_nll(out[:, :n_inputs], target[chunk]), axis=1)
            kl[chunk] = gaussian_kl(out[:, n_inputs:n_inputs + latent], out[:, n_inputs + latent:])
        return recon, kl

    def reconstruction_error(self, X, batch_size: int = 1024) -> np.ndarray:
        """Per-sample Bernoulli negative log-likelihood -log p(x | z = mu), summed over the inputs (the first term
        of the loss, at the posterior mean).

        Parameters
        ----------
        X : array_like
            Shape (n_samples, n_inputs).
        batch_size : int, default 1024
            Samples per forward pass, >= 1.

        Returns
        -------
        ndarray
            Shape (n_samples,), float64.
        """
        return self._terms(X, None, batch_size, "VariationalAutoencoder.reconstruction_error")[0]

    def kl_divergence(self, X, batch_size: int = 1024) -> np.ndarray:
        """Per-sample KL(q(z|x) || N(0, 1)) (:func:`gaussian_kl` of the encoder's mu, log_var).

        Parameters
        ----------
        X : array_like
            Shape (n_samples, n_inputs).
        batch_size : int, default 1024
            Samples per forward pass, >= 1.

        Returns
        -------
        ndarray
            Shape (n_samples,), float64.
        """
        self._check_built("kl_divergence")
        mu, log_var = self.encode(X, batch_size, return_log_var=True)
        return gaussian_kl(mu, log_var)

    def elbo(self, X, n_samples: int = 1, random_state=None, batch_size: int = 1024) -> np.ndarray:
        """Monte Carlo estimate of the evidence lower bound per sample,

            ELBO(x) = E_{q(z|x)}[log p(x|z)] - KL(q(z|x) || N(0, 1))   (beta = 1, whatever the model's beta),

        the expectation averaged over ``n_samples`` reparametrised draws eps ~ N(0, 1) from ``random_state`` (the
        model's own Generator is not used). For spins, log p is that of the mapped targets (s + 1) / 2.

        Parameters
        ----------
        X : array_like
            Shape (n_samples_X, n_inputs).
        n_samples : int, default 1
            Number of draws of eps per data point, >= 1.
        random_state : None, int, SeedSequence, Generator or RandomState, default None
            Anything :func:`core.as_generator` takes; draws eps.
        batch_size : int, default 1024
            Samples per forward pass, >= 1.

        Returns
        -------
        ndarray
            Shape (n_samples_X,), float64, <= 0.
        """
        owner = "VariationalAutoencoder.elbo"
        n_draws = check_positive_int(n_samples, "n_samples", owner)
        rng = as_generator(random_state, "random_state", owner)
        self._check_built("elbo")
        n = len(self.targets(X))
        total = np.zeros(n)
        for _ in range(n_draws):
            recon, kl = self._terms(X, rng.standard_normal((n, self.latent)), batch_size, owner)
            total -= recon
        return total / n_draws - kl

    def sample(self, n_samples: int, random_state=None, *, draw: bool = True) -> np.ndarray:
        """Generate: z ~ N(0, 1) (n_samples, latent), then x from p(x|z).

        Parameters
        ----------
        n_samples : int
            Number of samples, >= 1.
        random_state : None, int, SeedSequence, Generator or RandomState, default None
            Anything :func:`core.as_generator` takes; draws z, then the Bernoulli variables.
        draw : bool, default True
            True: Bernoulli draws in input units, {0, 1} (or ±1 with spins=True). False: the means of p(x|z)
            instead (:meth:`decode` of z: probabilities, or mean spins).

        Returns
        -------
        ndarray
            Shape (n_samples, n_inputs), network dtype.
        """
        owner = "VariationalAutoencoder.sample"
        n_samples = check_positive_int(n_samples, "n_samples", owner)
        rng = as_generator(random_state, "random_state", owner)
        check_bool(draw, "draw", owner)
        self._check_built("sample")
        logits = self._decoder_output(rng.standard_normal((n_samples, self.latent)), 1024, owner)
        if not draw:
            return self._from_logits(logits).astype(self.dtype, copy=False)
        ones = rng.random(logits.shape) < expit(logits.astype(np.float64))
        values = np.where(ones, 1.0, -1.0) if self.spins else ones
        return values.astype(self.dtype)


def _builder_sizes(n_inputs, hidden, latent, activation, owner):
    n_inputs = check_positive_int(n_inputs, "n_inputs", owner)
    hidden = _check_sizes(hidden, "hidden", owner, allow_empty=True)
    latent = check_positive_int(latent, "latent", owner)
    get_activation(activation)  # validates the name
    return n_inputs, hidden, latent


def autoencoder(n_inputs: int, hidden=(64,), latent: int = 2, activation: str = "relu", output: str = "linear",
                spins: bool = False) -> Autoencoder:
    """Multilayer-perceptron autoencoder, unbuilt (like :func:`core.models.mlp`):

        encoder = mlp(hidden, latent, activation)            (Dense -> activation per hidden size, then linear Dense)
        decoder = mlp(reversed(hidden), n_inputs, activation)

    Build it with ``.build((n_inputs,), seed, dtype)`` or let :func:`fit_autoencoder` build it.

    Parameters
    ----------
    n_inputs : int
        The width of the data (>= 1).
    hidden : tuple of int
        Widths of the encoder's hidden layers (each >= 1); the decoder mirrors them. May be empty: a linear
        autoencoder.
    latent : int
        The code size (>= 1).
    activation : str
        Name in :data:`core.activations.ACTIVATIONS`.
    output : {"linear", "logits"}
        As in :class:`Autoencoder`.
    spins : bool
        As in :class:`Autoencoder`.

    Returns
    -------
    Autoencoder
        Unbuilt.
    """
    n_inputs, hidden, latent = _builder_sizes(n_inputs, hidden, latent, activation, "autoencoder")
    check_choice(output, "output", "autoencoder", OUTPUTS)
    return Autoencoder(mlp(hidden, latent, activation), mlp(hidden[::-1], n_inputs, activation), output=output,
                       spins=spins)


def variational_autoencoder(n_inputs: int, hidden=(64,), latent: int = 2, activation: str = "relu", beta: float = 1.0,
                            spins: bool = False) -> VariationalAutoencoder:
    """Multilayer-perceptron VAE, unbuilt: encoder mlp(hidden, 2 * latent, activation) (its last Dense is the
    [mu | log_var] head), decoder mlp(reversed(hidden), n_inputs, activation) (the Bernoulli logits).

    Parameters
    ----------
    n_inputs : int
        The width of the data (>= 1).
    hidden : tuple of int
        Widths of the encoder's hidden layers (each >= 1; may be empty); the decoder mirrors them.
    latent : int
        The size of the code z (>= 1); the encoder outputs 2 * latent numbers, mu and log sigma^2.
    activation : str
        Name in :data:`core.activations.ACTIVATIONS`.
    beta : float
        The weight of the KL term (> 0; 1 is the ELBO).
    spins : bool
        The data are ±1 spins (Bernoulli targets (s + 1) / 2).

    Returns
    -------
    VariationalAutoencoder
        Unbuilt.
    """
    n_inputs, hidden, latent = _builder_sizes(n_inputs, hidden, latent, activation, "variational_autoencoder")
    check_number(beta, "beta", "variational_autoencoder", low=0, low_closed=False)
    return VariationalAutoencoder(mlp(hidden, 2 * latent, activation), mlp(hidden[::-1], n_inputs, activation),
                                  beta=beta, spins=spins)


def fit_autoencoder(model, X, *, epochs: int = 100, batch_size: int = 32, optimizer="adam", learning_rate=None,
                    weight_decay: float = 0.0, validation_fraction=None, validation_data=None, random_state=None,
                    callbacks=(), verbose=False) -> History:
    """Train an :class:`Autoencoder` or :class:`VariationalAutoencoder` in place on X; return the History.

    This is :func:`core.training.fit` with the target :meth:`model.targets <Autoencoder.targets>` (X) and the loss
    ``model.loss()`` (MSE, BCE on logits, or the VAE's :class:`VAELoss`): the same minibatches, validation split,
    callbacks, history and divergence checks. For the VAE, the training loss of an epoch is the mean negative
    (beta-)ELBO of one reparametrised sample per data point; the validation loss is computed at z = mu.

    Parameters
    ----------
    model : Autoencoder or VariationalAutoencoder
        Trained in place; built on X.shape[1:] (float32) with ``random_state`` if unbuilt.
    X : array_like
        Shape (n_samples, n_inputs): finite; in [0, 1] (binary) or [-1, 1] (spins=True) for a Bernoulli
        likelihood.
    epochs : int, default 100
        Number of epochs, >= 1 (see :class:`core.training.TrainingSettings`).
    batch_size : int, default 32
        Samples per gradient step, >= 1 (see :class:`core.training.TrainingSettings`).
    optimizer : str or Optimizer, default "adam"
        A name in :data:`core.optim.OPTIMIZERS` or an Optimizer instance (its state is kept between calls;
        ``learning_rate`` and ``weight_decay`` must then be left at their defaults).
    learning_rate : float or None, default None
        For a named optimizer: the learning rate, > 0; None means 1e-3.
    weight_decay : float, default 0.0
        For a named optimizer: L2 penalty (>= 0) on the weights (not the biases).
    validation_fraction : float or None, default None
        In (0, 1): a random held-out part of X (drawn from ``random_state``).
    validation_data : array_like or None, default None
        A fixed validation set, shape (n_val, n_inputs) (not with validation_fraction).
    random_state : None, int, SeedSequence, Generator or RandomState, default None
        Anything :func:`core.as_generator` takes: draws the initial weights (unbuilt model), the validation split,
        the shuffling, in that order (and the VAE's noise when this call builds the model).
    callbacks : sequence of Callback, default ()
        :class:`core.callbacks.Callback` instances (e.g. EarlyStopping).
    verbose : bool or str, default False
        A progress bar over the epochs (:class:`core.callbacks.ProgressBar`, on terminals only); a str is its
        label.

    Returns
    -------
    History
        ``loss`` per epoch, ``val_loss`` when validating.

    Raises
    ------
    InvalidParameterError
        For an invalid parameter (naming it), before any work.
    ValueError, TypeError
        For X that does not fit the model, before any work.
    core.training.TrainingDivergedError
        A FloatingPointError naming the epoch when the loss or a weight becomes NaN/inf or runs away.
    """
    owner = "fit_autoencoder"
    if not isinstance(model, _EncoderDecoder):
        raise InvalidParameterError(f"The 'model' parameter of {owner} must be an Autoencoder or a "
                                    f"VariationalAutoencoder. Got {model!r} instead.")
    settings = TrainingSettings(epochs=epochs, batch_size=batch_size, validation_fraction=validation_fraction)
    if isinstance(optimizer, Optimizer):
        if learning_rate is not None or weight_decay != 0.0:
            raise InvalidParameterError(f"{owner} got an Optimizer instance together with 'learning_rate' or "
                                        f"'weight_decay'; set them on the optimizer instead.")
    else:
        learning_rate = _DEFAULT_LEARNING_RATE if learning_rate is None else learning_rate
        optimizer = get_optimizer(optimizer, learning_rate=learning_rate, weight_decay=weight_decay)
    if validation_data is not None and validation_fraction is not None:
        raise InvalidParameterError(f"{owner} got both 'validation_data' and 'validation_fraction'; pass at most one.")
    if not (isinstance(verbose, (bool, np.bool_, str))):
        raise InvalidParameterError(f"The 'verbose' parameter of {owner} must be a bool or a str (the progress bar's "
                                    f"label). Got {verbose!r} instead.")
    callbacks = check_callbacks(callbacks, owner)
    if isinstance(verbose, str) or verbose:
        callbacks.append(ProgressBar(verbose if isinstance(verbose, str) else type(model).__name__))
    rng = as_generator(random_state, "random_state", owner)
    y = model.targets(X)
    y_val = None if validation_data is None else model._targets(validation_data, "validation_data")
    X = np.asarray(X)
    if not model.built:
        model.build(X.shape[1:], rng)  # raises before building when the decoder's width is not X's
        y = model.targets(X)  # the shape check now that the model is built
        y_val = None if validation_data is None else model._targets(validation_data, "validation_data")
    validation = None if validation_data is None else (validation_data, y_val)
    return fit(model, model.loss(), optimizer, X, y, settings, rng=rng, validation_data=validation,
               callbacks=callbacks)
