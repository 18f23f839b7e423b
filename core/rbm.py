"""Binary restricted Boltzmann machine (RBM) trained by contrastive divergence (CD-k) or persistent CD (PCD).

Model (Hinton 2002; Marquardt, "Machine Learning for Physicists"; Torlai & Melko, PRB 94, 165134 (2016), who train
one RBM per temperature on 2D Ising configurations). Visible units v in {0,1}^n_visible, hidden units
h in {0,1}^n_hidden, parameters W (n_visible, n_hidden), visible bias a (n_visible,), hidden bias b (n_hidden,)::

    E(v, h) = -a.v - b.h - v^T W h,            p(v, h) = exp(-E(v, h)) / Z,
    F(v)    = -log sum_h exp(-E(v, h)) = -a.v - sum_j softplus(b_j + (vW)_j),     p(v) = exp(-F(v)) / Z,
    p(h_j = 1 | v) = sigmoid(b_j + (vW)_j),    p(v_i = 1 | h) = sigmoid(a_i + (W h)_i).

Ising spins s = +-1 map to visible units by v = (s + 1) / 2 (:func:`spins_to_visible`; back with
:func:`visible_to_spins`, s = 2v - 1); a lattice configuration of shape (L, L) is one row of L*L visible units
(``configs.reshape(n, -1)``). The RBM itself only takes 0/1 data and refuses +-1 spins with a message saying so.

Arrays are batched along the first axis: ``V`` is (n_samples, n_visible), ``H`` is (n_samples, n_hidden).
Everything is vectorised over samples and units; the Python loops run over epochs, minibatches, Gibbs steps,
annealing temperatures and enumeration chunks only.

Exact quantities (``log_partition_exact``, ``log_likelihood_exact``, ``log_probability_exact``,
``log_likelihood_gradient_exact``) sum over all 2^m states of the smaller layer, m = min(n_visible, n_hidden) <=
:data:`MAX_ENUMERATION_UNITS` (20), in float64 and in chunks of bounded memory; larger models are refused before any
work (use :meth:`RBM.log_partition_ais`, annealed importance sampling, instead).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import numpy as np
from scipy.special import expit, logsumexp

from core._validation import (
    Boolean,
    Interval,
    InvalidParameterError,
    Options,
    Seed,
    as_generator,
    check_bool,
    check_choice,
    check_dtype,
    check_number,
    check_params,
    check_positive_int,
)
from core.callbacks import ProgressBar, TrainingContext
from core.divergence import TrainingDivergedError
from core.network import Parameter
from core.optim import OPTIMIZERS, get_optimizer

__all__ = [
    "RBM", "RBMHistory", "AISEstimate", "MAX_ENUMERATION_UNITS", "spins_to_visible", "visible_to_spins",
]

#: Largest number of units the exact methods enumerate (2^20 ~ 1e6 states).
MAX_ENUMERATION_UNITS = 20
#: ``history_`` records the exact log-likelihood when min(n_visible, n_hidden) is at most this.
HISTORY_EXACT_UNITS = 16
# Elements of one enumeration chunk (states x units of the other layer): ~32 MiB of float64 per temporary.
_CHUNK_ELEMENTS = 1 << 22


# ----------------------------------------------------------------------------------------------- spins <-> bits
def spins_to_visible(spins) -> np.ndarray:
    """Ising spins s in {-1, +1} to visible units v = (s + 1) / 2 in {0, 1}.

    Parameters
    ----------
    spins : array_like
        Values -1 or +1, any shape.

    Returns
    -------
    ndarray
        float64, same shape.

    Raises
    ------
    InvalidParameterError
        When a value is not -1 or +1 (e.g. data that is already 0/1).
    """
    s = np.asarray(spins)
    if s.dtype.kind not in "biuf" or not np.all((s == -1) | (s == 1)):
        raise InvalidParameterError(f"The 'spins' parameter of spins_to_visible must be an array of -1/+1 values. "
                                    f"Got {_describe_values(s)} instead.")
    return (s.astype(np.float64) + 1.0) / 2.0


def visible_to_spins(visible) -> np.ndarray:
    """Visible units v in {0, 1} to Ising spins s = 2v - 1 in {-1, +1}.

    Parameters
    ----------
    visible : array_like
        Values 0 or 1, any shape.

    Returns
    -------
    ndarray
        float64, same shape.

    Raises
    ------
    InvalidParameterError
        When a value is not 0 or 1.
    """
    v = np.asarray(visible)
    if v.dtype.kind not in "biuf" or not np.all((v == 0) | (v == 1)):
        raise InvalidParameterError(f"The 'visible' parameter of visible_to_spins must be an array of 0/1 values. "
                                    f"Got {_describe_values(v)} instead.")
    return 2.0 * v.astype(np.float64) - 1.0


def _describe_values(x: np.ndarray) -> str:
    """A short description of an array for error messages: its shape, dtype and a few distinct values."""
    if x.dtype.kind not in "biuf":
        return f"an array of dtype {x.dtype} and shape {x.shape}"
    values = np.unique(x[np.isfinite(x)] if x.dtype.kind == "f" else x).astype(np.float64)
    shown = ", ".join(f"{v:g}" for v in values[:6]) + (", ..." if values.size > 6 else "")
    extra = " and non-finite values" if x.dtype.kind == "f" and not np.all(np.isfinite(x)) else ""
    return f"an array of shape {x.shape} with values {{{shown}}}{extra}"


def _softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)), stable for any x (never overflows)."""
    return np.logaddexp(0.0, x)


def _binary_states(n_units: int, start: int, stop: int) -> np.ndarray:
    """States start..stop-1 of n_units binary units as float64 rows (n_states, n_units); bit i of the index is
    column i."""
    index = np.arange(start, stop, dtype=np.int64)[:, None]
    return ((index >> np.arange(n_units, dtype=np.int64)) & 1).astype(np.float64)


# --------------------------------------------------------------------------------------------------- results
@dataclass
class RBMHistory:
    """Per-epoch record of :meth:`RBM.fit` / :meth:`RBM.partial_fit`.

    A dataclass: each parameter is kept as the attribute of that name; all default to empty lists.

    Parameters
    ----------
    epoch : list of int
        Epoch numbers (1-based, counting on across ``partial_fit`` calls).
    reconstruction_error : list of float
        Mean over the epoch's samples of the mean squared difference (1/n_visible) * ||v - sigmoid(a + W p(h|v))||^2
        between a data vector and its one-step mean-field reconstruction probabilities, with the parameters the
        minibatch was seen with (before its update).
    log_likelihood : list of float
        Exact mean log-likelihood (1/N) sum_n log p(v^(n)) of the training data after the epoch, in nats per
        sample, when min(n_visible, n_hidden) <= 16 (else NaN).
    learning_rate : list of float
        The learning rate used in each epoch.
    """

    epoch: list[int] = field(default_factory=list)
    reconstruction_error: list[float] = field(default_factory=list)
    log_likelihood: list[float] = field(default_factory=list)
    learning_rate: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        """A JSON-able dict of all fields."""
        return asdict(self)


class AISEstimate(NamedTuple):
    """Result of :meth:`RBM.log_partition_ais`: unpacks as ``(log_partition, standard_error)``.

    Attributes
    ----------
    log_partition : float
        Log of the AIS estimate of Z (log of the mean importance weight times Z_A).
    standard_error : float
        Delta-method standard error of ``log_partition``: std(w) / (sqrt(M) mean(w)) over the M importance weights
        w (a relative error of Z; it is itself noisy when the weights are heavy-tailed).
    """

    log_partition: float
    standard_error: float


# ------------------------------------------------------------------------------------------------------- RBM
class RBM:
    """Bernoulli-Bernoulli restricted Boltzmann machine with CD-k / PCD training and exact/AIS partition functions.

    Parameters
    ----------
    n_visible : int
        Number of visible units, >= 1 (e.g. L*L for an L x L Ising lattice).
    n_hidden : int
        Number of hidden units, >= 1.
    k : int, default 1
        Gibbs steps of the negative phase per gradient estimate (CD-k, or PCD-k), >= 1.
    persistent : bool, default False
        False: contrastive divergence, the negative chains restart at the minibatch every step; True: persistent
        CD (Tieleman 2008), ``n_chains`` chains carried across minibatches and epochs.
    learning_rate : float, default 0.01
        Base learning rate of the optimizer, > 0.
    batch_size : int, default 64
        Minibatch size, >= 1 (the last minibatch of an epoch may be smaller).
    epochs : int, default 10
        Passes over the data made by :meth:`fit`, >= 1.
    optimizer : str, default "sgd"
        A name in ``core.optim.OPTIMIZERS`` ("sgd", "momentum" = SGD with momentum 0.9, "nesterov", "adagrad",
        "rmsprop", "adam", "adamw"). The optimizer minimises -log-likelihood, i.e. it is handed the negated
        gradient estimate of :meth:`gradients`.
    weight_decay : float, default 0.0
        L2 penalty lambda >= 0 on W only (not on the biases): the objective becomes mean log p(v) - lambda/2 ||W||^2
        (``core.optim``'s ``weight_decay``, applied to parameters with decay=True).
    n_chains : int or None, default None
        Number of persistent chains, >= 1 (PCD only; None: ``batch_size``). Ignored for CD.
    init_scale : float, default 0.01
        W starts as init_scale * N(0, 1) entries, > 0 (Hinton 2010, "A practical guide to training RBMs": 0.01).
        The hidden bias starts at 0, the visible bias at log(p_i / (1 - p_i)) with p_i the mean of visible unit i
        over the data given to the first fit, clipped to [1/(N+1), N/(N+1)] (Hinton's guide, 8.1).
    random_state : None, int, SeedSequence, Generator or RandomState, default None
        An int must be >= 0 (see ``core._validation.as_generator``). Seeds the initial weights, the minibatch
        shuffling, the Gibbs sampling and the persistent chains. Each :meth:`fit` starts a fresh generator from it
        (an int gives bit-identical parameters and samples every time; a Generator is used as is and advances).
    dtype : {"float64", "float32"}
        The dtype of the parameters and of the training arithmetic. The exact and AIS methods always work in
        float64.

    Attributes
    ----------
    W_ : ndarray or None
        Weights, shape (n_visible, n_hidden). None until :meth:`fit`, :meth:`partial_fit`, :meth:`initialize` or
        :meth:`set_weights` (as ``a_`` and ``b_``).
    a_ : ndarray or None
        Visible bias, shape (n_visible,).
    b_ : ndarray or None
        Hidden bias, shape (n_hidden,).
    history_ : RBMHistory
        Per-epoch reconstruction error and exact log-likelihood.
    chains_ : ndarray or None
        The persistent chains' visible states (PCD), shape (n_chains, n_visible), initialised from rows of the
        first minibatch drawn with replacement.
    optimizer_ : core.optim.Optimizer
        The optimizer with its state (velocities, moments).
    n_iter_ : int
        Number of parameter updates so far.

    Notes
    -----
    The gradient estimator is documented in :meth:`gradients`. Training splits the data, shuffled with the seeded
    generator each epoch, into minibatches; one optimizer step per minibatch. A non-finite parameter after a step
    raises :class:`core.divergence.TrainingDivergedError` (a FloatingPointError) naming the epoch and minibatch.
    """

    _parameter_constraints = {
        "n_visible": [Interval(1, None, integer=True)],
        "n_hidden": [Interval(1, None, integer=True)],
        "k": [Interval(1, None, integer=True)],
        "persistent": [Boolean()],
        "learning_rate": [Interval(0, None, low_closed=False)],
        "batch_size": [Interval(1, None, integer=True)],
        "epochs": [Interval(1, None, integer=True)],
        "optimizer": [Options(sorted(OPTIMIZERS))],
        "weight_decay": [Interval(0, None)],
        "n_chains": [Interval(1, None, integer=True), None],
        "init_scale": [Interval(0, None, low_closed=False)],
        "random_state": [Seed()],
    }
    _param_names = ("n_visible", "n_hidden", "k", "persistent", "learning_rate", "batch_size", "epochs", "optimizer",
                    "weight_decay", "n_chains", "init_scale", "random_state", "dtype")

    def __init__(self, n_visible, n_hidden, *, k=1, persistent=False, learning_rate=0.01, batch_size=64,
                 epochs=10, optimizer="sgd", weight_decay=0.0, n_chains=None, init_scale=0.01, random_state=None,
                 dtype="float64"):
        self.n_visible = n_visible
        self.n_hidden = n_hidden
        self.k = k
        self.persistent = persistent
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.n_chains = n_chains
        self.init_scale = init_scale
        self.random_state = random_state
        self.dtype = dtype
        self._validate_params()
        self.W_ = self.a_ = self.b_ = None
        self.chains_ = None
        self.optimizer_ = None
        self.history_ = RBMHistory()
        self.n_iter_ = 0
        self._rng = None

    # ------------------------------------------------------------------------------------------ parameters
    def get_params(self, deep: bool = True) -> dict:
        """The constructor arguments as a dict (scikit-learn convention).

        Parameters
        ----------
        deep : bool, default True
            Accepted for scikit-learn compatibility; the RBM has no nested estimators.

        Returns
        -------
        dict
            Parameter name -> value.
        """
        return {name: getattr(self, name) for name in self._param_names}

    def set_params(self, **params) -> RBM:
        """Set constructor arguments (checked; nothing is changed when one is bad).

        Changing n_visible or n_hidden of a model with parameters drops them (fit again).

        Parameters
        ----------
        **params
            Constructor arguments by name.

        Returns
        -------
        RBM
            self.
        """
        unknown = sorted(set(params) - set(self._param_names))
        if unknown:
            raise InvalidParameterError(f"RBM has no parameter {unknown[0]!r}; its parameters are "
                                        f"{', '.join(map(repr, self._param_names))}.")
        check_params(params, self._parameter_constraints, "RBM")
        if "dtype" in params:
            check_dtype(params["dtype"], "dtype", "RBM")
        for name, value in params.items():
            setattr(self, name, value)
        self._validate_params()
        if self.W_ is not None and self.W_.shape != (self.n_visible, self.n_hidden):
            self.W_ = self.a_ = self.b_ = None
            self.chains_ = self.optimizer_ = None
        return self

    def _validate_params(self) -> None:
        check_params(self.get_params(), self._parameter_constraints, "RBM")
        self._dtype = check_dtype(self.dtype, "dtype", "RBM")

    def __repr__(self) -> str:
        return f"RBM({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"

    def set_weights(self, W, a, b) -> RBM:
        """Set the parameters (copied, in the model's dtype) and return self.

        Persistent chains and optimizer state are reset; ``history_`` is kept.

        Parameters
        ----------
        W : array_like
            The couplings, shape (n_visible, n_hidden); finite.
        a : array_like
            The visible biases, shape (n_visible,); finite.
        b : array_like
            The hidden biases, shape (n_hidden,); finite.

        Returns
        -------
        RBM
            self.
        """
        arrays = {}
        for name, value, shape in (("W", W, (self.n_visible, self.n_hidden)), ("a", a, (self.n_visible,)),
                                   ("b", b, (self.n_hidden,))):
            arr = np.asarray(value)
            if arr.dtype.kind not in "biuf" or arr.shape != shape or not np.all(np.isfinite(arr)):
                raise InvalidParameterError(f"The '{name}' parameter of RBM.set_weights must be a finite real array "
                                            f"of shape {shape}. Got {_describe_values(arr)} instead.")
            arrays[name] = np.array(arr, dtype=self._dtype)
        self.W_, self.a_, self.b_ = arrays["W"], arrays["a"], arrays["b"]
        self.chains_ = None
        self.optimizer_ = None
        return self

    def get_weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of (W_, a_, b_)."""
        self._check_has_weights("get_weights")
        return self.W_.copy(), self.a_.copy(), self.b_.copy()

    def parameters(self) -> list[Parameter]:
        """The trainable arrays as ``core.network.Parameter`` tuples (name, value, grad, decay), W with decay=True,
        a and b without; ``grad`` holds the last minimisation gradient handed to the optimizer (scratch)."""
        self._check_has_weights("parameters")
        grads = getattr(self, "_grads", None)
        if grads is None or grads[0].shape != self.W_.shape or grads[0].dtype != self.W_.dtype:
            grads = self._grads = (np.zeros_like(self.W_), np.zeros_like(self.a_), np.zeros_like(self.b_))
        return [Parameter("W", self.W_, grads[0], True), Parameter("a", self.a_, grads[1], False),
                Parameter("b", self.b_, grads[2], False)]

    # ------------------------------------------------------------------------------------------------ checks
    def _check_has_weights(self, method: str) -> None:
        if self.W_ is None:
            raise RuntimeError(f"RBM.{method} needs parameters; call fit(V), partial_fit(V), initialize(V) or "
                               "set_weights(W, a, b) first.")

    def _as_units(self, X, name: str, method: str, n_units: int, what: str, binary: bool,
                  dtype=None) -> np.ndarray:
        """``X`` as a 2-D array (n_samples >= 1, n_units) of 0/1 values (``binary``) or of values in [0, 1]."""
        owner = f"RBM.{method}"
        arr = np.asarray(X)
        kind = "0/1 values" if binary else "values in [0, 1]"
        expected = f"a 2-D array of {kind} of shape (n_samples, {what}={n_units})"
        if arr.dtype.kind not in "biuf" or arr.ndim != 2 or arr.shape[1] != n_units or arr.shape[0] == 0:
            shape = f"shape {arr.shape}" + ("" if arr.dtype.kind in "biuf" else f" and dtype {arr.dtype}")
            hint = " (one sample: X.reshape(1, -1))" if arr.ndim == 1 else ""
            raise InvalidParameterError(f"The '{name}' parameter of {owner} must be {expected}. Got an array of "
                                        f"{shape} instead{hint}.")
        if binary:
            ok = np.all((arr == 0) | (arr == 1))
        else:
            ok = np.all((arr >= 0) & (arr <= 1))  # False for NaN
        if not ok:
            hint = ""
            if binary and np.all((arr == -1) | (arr == 1)):
                hint = " Ising spins s = +-1 map to visible units by spins_to_visible(s) = (s + 1) / 2."
            raise InvalidParameterError(f"The '{name}' parameter of {owner} must be {expected}. Got "
                                        f"{_describe_values(arr)} instead.{hint}")
        return arr.astype(dtype or self._dtype, copy=False)

    def _check_enumerable(self, method: str) -> None:
        if min(self.n_visible, self.n_hidden) > MAX_ENUMERATION_UNITS:
            raise ValueError(
                f"RBM.{method} enumerates the 2^m states of the smaller layer and allows m <= "
                f"{MAX_ENUMERATION_UNITS}, but this RBM has n_visible={self.n_visible} and n_hidden={self.n_hidden}: "
                f"more visible units than enumeration allows, and more hidden units too. Use log_partition_ais() "
                f"(annealed importance sampling) for an estimate, or an RBM with n_hidden <= {MAX_ENUMERATION_UNITS}."
            )

    def _generator(self, random_state, method: str) -> np.random.Generator:
        """None: the model's own stream (started from ``random_state`` on first use); else a new generator."""
        if random_state is not None:
            return as_generator(random_state, "random_state", f"RBM.{method}")
        if self._rng is None:
            self._rng = as_generator(self.random_state, "random_state", "RBM")
        return self._rng

    # ------------------------------------------------------------------------------------- conditionals
    def hidden_probabilities(self, V) -> np.ndarray:
        """p(h_j = 1 | v) = sigmoid(b_j + (vW)_j).

        Parameters
        ----------
        V : array_like
            Shape (n_samples, n_visible), values in [0, 1] (0/1 states, or mean-field probabilities).

        Returns
        -------
        ndarray
            Shape (n_samples, n_hidden), in the model's dtype.
        """
        self._check_has_weights("hidden_probabilities")
        V = self._as_units(V, "V", "hidden_probabilities", self.n_visible, "n_visible", binary=False)
        return expit(V @ self.W_ + self.b_)

    def visible_probabilities(self, H) -> np.ndarray:
        """p(v_i = 1 | h) = sigmoid(a_i + (W h)_i).

        Parameters
        ----------
        H : array_like
            Shape (n_samples, n_hidden), values in [0, 1].

        Returns
        -------
        ndarray
            Shape (n_samples, n_visible), in the model's dtype.
        """
        self._check_has_weights("visible_probabilities")
        H = self._as_units(H, "H", "visible_probabilities", self.n_hidden, "n_hidden", binary=False)
        return expit(H @ self.W_.T + self.a_)

    def free_energy(self, V) -> np.ndarray:
        """F(v) = -a.v - sum_j softplus(b_j + (vW)_j) = -log sum_h exp(-E(v, h)), so that p(v) = exp(-F(v)) / Z.

        Parameters
        ----------
        V : array_like
            Shape (n_samples, n_visible), 0/1 values.

        Returns
        -------
        ndarray
            Shape (n_samples,), in the model's dtype.
        """
        self._check_has_weights("free_energy")
        V = self._as_units(V, "V", "free_energy", self.n_visible, "n_visible", binary=True)
        return self._free_energy(V, self.W_, self.a_, self.b_)

    @staticmethod
    def _free_energy(V, W, a, b) -> np.ndarray:
        return -(V @ a) - _softplus(V @ W + b).sum(axis=1)

    # ---------------------------------------------------------------------------------------------- sampling
    def _sample_hidden(self, V, rng) -> np.ndarray:
        P = expit(V @ self.W_ + self.b_)
        return (rng.random(P.shape, dtype=P.dtype) < P).astype(P.dtype)

    def _sample_visible(self, H, rng) -> np.ndarray:
        P = expit(H @ self.W_.T + self.a_)
        return (rng.random(P.shape, dtype=P.dtype) < P).astype(P.dtype)

    def _run_chains(self, V, steps: int, rng) -> np.ndarray:
        for _ in range(steps):
            V = self._sample_visible(self._sample_hidden(V, rng), rng)
        return V

    def gibbs(self, V, steps: int = 1, *, random_state=None) -> np.ndarray:
        """Run ``steps`` full block-Gibbs steps v -> h ~ p(h|v) -> v ~ p(v|h) from each row of ``V``.

        Parameters
        ----------
        V : array_like
            The starting states (one chain per row), shape (n_samples, n_visible), 0/1 values.
        steps : int, default 1
            Number of Gibbs steps, >= 1.
        random_state : None, int, SeedSequence, Generator or RandomState, default None
            None: the model's own stream (advanced); else a seed / Generator for this call.

        Returns
        -------
        ndarray
            Shape (n_samples, n_visible): 0/1 visible samples after ``steps`` steps, in the model's dtype.
        """
        self._check_has_weights("gibbs")
        V = self._as_units(V, "V", "gibbs", self.n_visible, "n_visible", binary=True)
        steps = check_positive_int(steps, "steps", "RBM.gibbs")
        rng = self._generator(random_state, "gibbs")
        return self._run_chains(V, steps, rng)

    def sample(self, n_samples: int, n_steps: int = 1000, *, n_chains=None, thin: int = 10, init="random",
               random_state=None) -> np.ndarray:
        """Draw visible configurations from the model by block Gibbs sampling.

        ``n_chains`` chains start at ``init``; each runs ``n_steps`` burn-in steps, then gives a sample, and
        another one every ``thin`` further steps, until ``n_samples`` are collected. With the default
        ``n_chains=None`` (= n_samples) every sample comes from its own chain after exactly ``n_steps`` steps: the
        samples are independent, and follow the model exactly in the limit n_steps -> inf.

        Parameters
        ----------
        n_samples : int
            Number of samples, >= 1.
        n_steps : int, default 1000
            Burn-in, >= 1: Gibbs steps before a chain's first sample.
        n_chains : int or None, default None
            Parallel chains, >= 1 (at most n_samples are used); None means n_samples.
        thin : int, default 10
            Gibbs steps between successive samples of one chain, >= 1 (used when n_chains < n_samples).
        init : str or array_like, default "random"
            "random" (every unit 0 or 1 with probability 1/2), "bias" (v_i ~ Bernoulli(sigmoid(a_i)), the model
            without couplings) or an array (m, n_visible) of 0/1 data: chain c starts at row c when m == n_chains,
            else at rows drawn uniformly with replacement (data-initialised chains mix faster in a multimodal model
            but start biased towards the data; give burn-in enough to forget it).
        random_state : None, int, SeedSequence, Generator or RandomState, default None
            None: the model's own stream (advanced); else a seed / Generator for this call.

        Returns
        -------
        ndarray
            Shape (n_samples, n_visible), 0/1 values in the model's dtype; rows ordered by recording time, then
            chain.
        """
        self._check_has_weights("sample")
        owner = "RBM.sample"
        n_samples = check_positive_int(n_samples, "n_samples", owner)
        n_steps = check_positive_int(n_steps, "n_steps", owner)
        thin = check_positive_int(thin, "thin", owner)
        chains = n_samples if n_chains is None else min(check_positive_int(n_chains, "n_chains", owner), n_samples)
        data = None
        if isinstance(init, str):
            check_choice(init, "init", owner, ("random", "bias"))
        else:
            data = self._as_units(init, "init", "sample", self.n_visible, "n_visible", binary=True)
        rng = self._generator(random_state, "sample")
        if data is not None:
            V = data.copy() if len(data) == chains else data[rng.integers(0, len(data), chains)]
        else:
            p = 0.5 if init == "random" else expit(self.a_)
            V = (rng.random((chains, self.n_visible), dtype=self._dtype) < p).astype(self._dtype)
        V = self._run_chains(V, n_steps, rng)
        out = [V]
        collected = chains
        while collected < n_samples:
            V = self._run_chains(V, thin, rng)
            out.append(V)
            collected += chains
        return np.concatenate(out)[:n_samples]

    # --------------------------------------------------------------------------------------------- gradients
    def gradients(self, V, *, random_state=None) -> dict[str, np.ndarray]:
        """CD-k (or PCD-k) estimate of the gradient of the mean log-likelihood (1/B) sum_n log p(v^(n)).

        With sigma_j(v) = p(h_j = 1 | v) = sigmoid(b_j + (vW)_j) and <.>_+ the mean over the B rows v^(n) of ``V``,
        <.>_- the mean over the M negative-phase chain states v~::

            dW_ij = <v_i sigma_j(v)>_+ - <v~_i sigma_j(v~)>_-
            da_i  = <v_i>_+            - <v~_i>_-
            db_j  = <sigma_j(v)>_+     - <sigma_j(v~)>_-

        The positive phase is exact (hidden probabilities, not samples). The negative chains: CD (persistent=False)
        starts M = B chains at the rows of ``V``; PCD (persistent=True) continues the M = n_chains chains in
        ``chains_`` (initialised, on first use, from rows of ``V`` drawn with replacement) and stores their new
        state. Each chain makes k block-Gibbs steps h_t ~ p(h | v~_{t-1}), v~_t ~ p(v | h_t) (binary samples); the
        final hidden layer enters through its probabilities sigma(v~_k) (Rao-Blackwellised). The exact gradient is
        the same with <.>_- the model expectation (v~ ~ p(v)): the estimate approaches it in expectation as k -> inf
        (CD) or, for PCD, as the chains equilibrate (parameters fixed or slowly changing).

        Parameters
        ----------
        V : array_like
            Shape (B, n_visible), 0/1 values.
        random_state : None, int, SeedSequence, Generator or RandomState, default None
            None: the model's own stream (advanced); else a seed / Generator for this call.

        Returns
        -------
        dict of str to ndarray
            "W" (n_visible, n_hidden), "a" (n_visible,), "b" (n_hidden,): the ascent direction of the
            log-likelihood (no weight-decay term), in the model's dtype.
        """
        self._check_has_weights("gradients")
        V = self._as_units(V, "V", "gradients", self.n_visible, "n_visible", binary=True)
        rng = self._generator(random_state, "gradients")
        grads, _ = self._gradients(V, rng)
        return grads

    def _gradients(self, V, rng):
        """(gradient dict, hidden probabilities of the batch)."""
        P = expit(V @ self.W_ + self.b_)
        if self.persistent:
            if self.chains_ is None:
                n_chains = self.batch_size if self.n_chains is None else self.n_chains
                self.chains_ = V[rng.integers(0, len(V), n_chains)]
            chains = self._run_chains(self.chains_, self.k, rng)
            self.chains_ = chains
        else:
            chains = self._run_chains(V, self.k, rng)
        Q = expit(chains @ self.W_ + self.b_)
        B, M = len(V), len(chains)
        grads = {"W": V.T @ P / B - chains.T @ Q / M,
                 "a": V.mean(axis=0) - chains.mean(axis=0),
                 "b": P.mean(axis=0) - Q.mean(axis=0)}
        return grads, P

    # ---------------------------------------------------------------------------------------------- training
    def initialize(self, V) -> RBM:
        """Start afresh as :meth:`fit` does, without training: new generator from ``random_state``, W_ ~
        init_scale * N(0, 1), b_ = 0, a_ = logit of the (clipped) unit means of ``V``, no chains, a new optimizer,
        an empty ``history_``.

        Parameters
        ----------
        V : array_like
            Shape (n_samples, n_visible), 0/1 values.

        Returns
        -------
        RBM
            self.
        """
        V = self._as_units(V, "V", "initialize", self.n_visible, "n_visible", binary=True)
        self._initialize(V)
        return self

    def _initialize(self, V) -> None:
        self._rng = as_generator(self.random_state, "random_state", "RBM")
        n = len(V)
        p = np.clip(V.mean(axis=0, dtype=np.float64), 1.0 / (n + 1), n / (n + 1.0))
        self.W_ = (self.init_scale * self._rng.standard_normal((self.n_visible, self.n_hidden))).astype(self._dtype)
        self.a_ = np.log(p / (1.0 - p)).astype(self._dtype)
        self.b_ = np.zeros(self.n_hidden, dtype=self._dtype)
        self.chains_ = None
        self.optimizer_ = None
        self.history_ = RBMHistory()
        self.n_iter_ = 0

    def fit(self, V, *, progress=False) -> RBM:
        """Train from scratch (see :meth:`initialize`) for ``epochs`` epochs on ``V``.

        Parameters
        ----------
        V : array_like
            Shape (n_samples, n_visible), 0/1 values (convert Ising spins with :func:`spins_to_visible`).
        progress : bool or None, default False
            A ``core.callbacks.ProgressBar`` over the epochs (showing the reconstruction error as "loss"): False
            never, True always, None on terminals only.

        Returns
        -------
        RBM
            self, with ``W_``, ``a_``, ``b_``, ``history_`` set.

        Raises
        ------
        core.divergence.TrainingDivergedError
            A FloatingPointError naming the epoch, when a parameter becomes non-finite (checked after every
            minibatch) or, where ``history_`` records it, the exact log-likelihood does (parameters so large that
            exp overflows).
        """
        self._validate_params()
        V = self._as_units(V, "V", "fit", self.n_visible, "n_visible", binary=True)
        if progress is not None:
            check_bool(progress, "progress", "RBM.fit")
        self._initialize(V)
        self._train(V, self.epochs, progress)
        return self

    def partial_fit(self, V) -> RBM:
        """One more epoch (shuffled minibatches) on ``V``, continuing the parameters, optimizer state, persistent
        chains and random stream; the first call (no parameters yet) initialises as :meth:`initialize` does.

        Parameters
        ----------
        V : array_like
            Shape (n_samples, n_visible), 0/1 values.

        Returns
        -------
        RBM
            self.
        """
        self._validate_params()
        V = self._as_units(V, "V", "partial_fit", self.n_visible, "n_visible", binary=True)
        if self.W_ is None:
            self._initialize(V)
        self._train(V, 1, False)
        return self

    def _train(self, V, epochs: int, progress) -> None:
        if self.optimizer_ is None:
            self.optimizer_ = get_optimizer(self.optimizer, learning_rate=float(self.learning_rate),
                                            weight_decay=float(self.weight_decay))
        rng = self._generator(None, "fit")
        n = len(V)
        batch_size = min(self.batch_size, n)
        exact = min(self.n_visible, self.n_hidden) <= HISTORY_EXACT_UNITS
        bar = ProgressBar(enabled=progress) if progress is not False else None
        history = self.history_
        if bar is not None:
            bar.on_train_begin(TrainingContext(self, None, self.optimizer_, history, epochs, batch_size, n, 0))
        try:
            for _ in range(epochs):
                epoch = len(history.epoch) + 1
                lr = self.optimizer_.set_epoch(epoch - 1)
                order = rng.permutation(n)
                squared_error = 0.0
                for batch, start in enumerate(range(0, n, batch_size), start=1):
                    Vb = V[order[start:start + batch_size]]
                    with np.errstate(over="ignore", invalid="ignore"):
                        grads, P = self._gradients(Vb, rng)
                        recon = expit(P @ self.W_.T + self.a_)
                        squared_error += float(np.sum((Vb - recon) ** 2, dtype=np.float64))
                        params = self.parameters()
                        for p in params:
                            np.negative(grads[p.name], out=p.grad)  # the optimizer minimises -log L
                        self.optimizer_.step(params)
                    self.n_iter_ += 1
                    if not all(np.all(np.isfinite(p.value)) for p in params):
                        raise self._diverged(epoch, batch, "non-finite parameters")
                with np.errstate(over="ignore", invalid="ignore"):
                    log_likelihood = self._log_likelihood(V) if exact else math.nan
                if exact and not math.isfinite(log_likelihood):
                    raise self._diverged(epoch, None, f"exact log-likelihood {log_likelihood} (parameters too large)")
                history.epoch.append(epoch)
                history.learning_rate.append(float(lr))
                history.reconstruction_error.append(squared_error / (n * self.n_visible))
                history.log_likelihood.append(log_likelihood)
                if bar is not None:
                    bar.on_epoch_end(epoch, {"loss": history.reconstruction_error[-1]})
            if bar is not None:
                bar.on_train_end(history)
        finally:
            if bar is not None:
                bar.close()

    def _diverged(self, epoch: int, batch, what: str) -> TrainingDivergedError:
        where = f"epoch {epoch}" + ("" if batch is None else f", batch {batch}")
        return TrainingDivergedError(
            f"RBM training diverged at {where}: {what}. Lower the 'learning_rate' (now {self.learning_rate!r}).",
            epoch, batch, self.history_, "learning_rate", float(self.learning_rate))

    # ------------------------------------------------------------------------------------- exact quantities
    def _params64(self):
        return (self.W_.astype(np.float64), self.a_.astype(np.float64), self.b_.astype(np.float64))

    def _enumeration_side(self, over: str, method: str) -> str:
        check_choice(over, "over", f"RBM.{method}", ("auto", "visible", "hidden"))
        if over == "auto":
            self._check_enumerable(method)
            return "hidden" if self.n_hidden <= self.n_visible else "visible"
        n = self.n_hidden if over == "hidden" else self.n_visible
        if n > MAX_ENUMERATION_UNITS:
            raise ValueError(f"RBM.{method}(over={over!r}) would enumerate 2^{n} states, but at most "
                             f"2^{MAX_ENUMERATION_UNITS} are allowed (n_{over}={n}); use over='auto' to enumerate the "
                             "smaller layer, or log_partition_ais().")
        return over

    def _log_weights(self, side: str):
        """Yield (states, log unnormalised weights) chunks over all states of ``side``: for visible states v the
        weight is exp(-F(v)); for hidden states h it is exp(b.h + sum_i softplus(a_i + (W h)_i)) = sum_v
        exp(-E(v, h)). Either sum is Z."""
        W, a, b = self._params64()
        n, m = (self.n_visible, self.n_hidden) if side == "visible" else (self.n_hidden, self.n_visible)
        total = 1 << n
        chunk = max(1, min(total, _CHUNK_ELEMENTS // max(m, n)))
        for start in range(0, total, chunk):
            S = _binary_states(n, start, min(total, start + chunk))
            if side == "visible":
                yield S, -self._free_energy(S, W, a, b)
            else:
                yield S, S @ b + _softplus(S @ W.T + a).sum(axis=1)

    def log_partition_exact(self, over: str = "auto") -> float:
        """log Z, Z = sum_{v,h} exp(-E(v, h)), by enumerating the states of one layer (float64):

        over hidden:  Z = sum_h exp(b.h) prod_i (1 + exp(a_i + (W h)_i));   over visible: Z = sum_v exp(-F(v)).

        Parameters
        ----------
        over : {"auto", "visible", "hidden"}
            The enumerated layer ("auto": the smaller one); it must have at most MAX_ENUMERATION_UNITS (20) units.

        Returns
        -------
        float
            log Z.

        Raises
        ------
        ValueError
            When both layers have more than 20 units (use :meth:`log_partition_ais`).
        """
        side = self._enumeration_side(over, "log_partition_exact")
        self._check_has_weights("log_partition_exact")
        return self._log_partition(side)

    def _log_partition(self, side: str) -> float:
        return float(logsumexp([logsumexp(logw) for _, logw in self._log_weights(side)]))

    def log_probability_exact(self, V) -> np.ndarray:
        """Exact log p(v) = -F(v) - log Z for each row of ``V``. Needs min(n_visible, n_hidden) <= 20.

        Parameters
        ----------
        V : array_like
            Shape (n_samples, n_visible), 0/1 values.

        Returns
        -------
        ndarray
            Shape (n_samples,), float64.
        """
        self._check_enumerable("log_probability_exact")
        self._check_has_weights("log_probability_exact")
        V = self._as_units(V, "V", "log_probability_exact", self.n_visible, "n_visible", binary=True,
                           dtype=np.float64)
        side = "hidden" if self.n_hidden <= self.n_visible else "visible"
        return -self._free_energy(V, *self._params64()) - self._log_partition(side)

    def log_likelihood_exact(self, V) -> float:
        """Exact mean log-likelihood (1/N) sum_n log p(v^(n)) = mean(-F(v)) - log Z, in nats per sample.

        Parameters
        ----------
        V : array_like
            Shape (n_samples, n_visible), 0/1 values.

        Returns
        -------
        float
            Nats per sample.

        Raises
        ------
        ValueError
            When n_visible and n_hidden both exceed 20 (estimate log Z with :meth:`log_partition_ais`).
        """
        self._check_enumerable("log_likelihood_exact")
        self._check_has_weights("log_likelihood_exact")
        V = self._as_units(V, "V", "log_likelihood_exact", self.n_visible, "n_visible", binary=True,
                           dtype=np.float64)
        return self._log_likelihood(V)

    def _log_likelihood(self, V) -> float:
        V = V.astype(np.float64, copy=False)
        side = "hidden" if self.n_hidden <= self.n_visible else "visible"
        return float(np.mean(-self._free_energy(V, *self._params64())) - self._log_partition(side))

    def log_likelihood_gradient_exact(self, V, over: str = "auto") -> dict[str, np.ndarray]:
        """Exact gradient of the mean log-likelihood :meth:`log_likelihood_exact` (float64), the data term minus
        the model expectation, the latter by enumeration::

            dW_ij = <v_i sigma_j(v)>_data - <v_i h_j>_model,  da_i = <v_i>_data - <v_i>_model,
            db_j  = <sigma_j(v)>_data - <h_j>_model,           sigma_j(v) = sigmoid(b_j + (vW)_j).

        Over visible states <v_i h_j>_model = sum_v p(v) v_i sigma_j(v); over hidden states it is
        sum_h p(h) sigmoid(a_i + (W h)_i) h_j, with p(h) proportional to exp(b.h) prod_i (1 + exp(a_i + (W h)_i)).

        Parameters
        ----------
        V : array_like
            Shape (n_samples, n_visible), 0/1 values.
        over : {"auto", "visible", "hidden"}
            The enumerated layer (see :meth:`log_partition_exact`).

        Returns
        -------
        dict of str to ndarray
            "W" (n_visible, n_hidden), "a" (n_visible,), "b" (n_hidden,), float64.
        """
        side = self._enumeration_side(over, "log_likelihood_gradient_exact")
        self._check_has_weights("log_likelihood_gradient_exact")
        V = self._as_units(V, "V", "log_likelihood_gradient_exact", self.n_visible, "n_visible", binary=True,
                           dtype=np.float64)
        W, a, b = self._params64()
        P = expit(V @ W + b)
        log_z = self._log_partition(side)
        EW = np.zeros_like(W)
        Ea = np.zeros_like(a)
        Eb = np.zeros_like(b)
        for S, logw in self._log_weights(side):
            p = np.exp(logw - log_z)
            if side == "visible":
                vis, hid = S, expit(S @ W + b)
            else:
                vis, hid = expit(S @ W.T + a), S
            EW += (vis * p[:, None]).T @ hid
            Ea += p @ vis
            Eb += p @ hid
        return {"W": V.T @ P / len(V) - EW, "a": V.mean(axis=0) - Ea, "b": P.mean(axis=0) - Eb}

    def pseudo_log_likelihood(self, V) -> float:
        """Mean pseudo-log-likelihood (1/N) sum_n sum_i log p(v_i^(n) | v_{-i}^(n)) (Besag), exact and cheap:

        log p(v_i | v_{-i}) = -softplus(F(v) - F(v with unit i flipped)), all n_visible flips of each sample.

        Parameters
        ----------
        V : array_like
            Shape (n_samples, n_visible), 0/1 values. Memory: chunks of ~4M (sample, unit, hidden) entries.

        Returns
        -------
        float
            Nats per sample.
        """
        self._check_has_weights("pseudo_log_likelihood")
        V = self._as_units(V, "V", "pseudo_log_likelihood", self.n_visible, "n_visible", binary=True,
                           dtype=np.float64)
        W, a, b = self._params64()
        chunk = max(1, _CHUNK_ELEMENTS // (self.n_visible * self.n_hidden))
        total = 0.0
        for start in range(0, len(V), chunk):
            X = V[start:start + chunk]
            pre = X @ W + b                                     # (n, H)
            sign = 1.0 - 2.0 * X                                # +1 where the flip sets v_i = 1, -1 where it clears
            flipped = pre[:, None, :] + sign[:, :, None] * W[None, :, :]  # (n, n_visible, H)
            # F(flip_i v) - F(v) = -a_i sign_i - sum_j [softplus(flipped_ij) - softplus(pre_j)]
            delta = -a * sign - (_softplus(flipped).sum(axis=2) - _softplus(pre).sum(axis=1)[:, None])
            total += float(np.sum(-_softplus(-delta)))
        return total / len(V)

    # -------------------------------------------------------------------------------------------------- AIS
    def log_partition_ais(self, n_chains: int = 100, n_betas: int = 1000, *, base_visible_bias=None,
                          random_state=None) -> AISEstimate:
        """Estimate log Z by annealed importance sampling (Neal 2001; Salakhutdinov & Murray 2008).

        The base model A has no couplings: p_A(v) proportional to exp(a_A . v), a_A = ``base_visible_bias``
        (default: the model's visible bias a_; Salakhutdinov & Murray use the logit of the data's unit means).
        The intermediate distributions, beta = 0 = beta_0 < beta_1 < ... < beta_K = 1 (``n_betas`` = K + 1
        equally spaced values), are

            f_beta(v) = exp((1 - beta) a_A.v + beta a.v) prod_j (1 + exp(beta (b_j + (vW)_j))),

        the marginal of p_beta(v, h) proportional to exp((1 - beta) a_A.v - beta E(v, h)); f_0 has normaliser
        Z_0 = 2^n_hidden prod_i (1 + exp(a_A,i)) and f_1 = exp(-F(v)) has Z. Each of the ``n_chains`` runs starts at
        v ~ p_A, accumulates log w += log f_{beta_k}(v) - log f_{beta_{k-1}}(v) and then moves by one block-Gibbs
        step leaving p_{beta_k} invariant. Z_hat = Z_0 mean(w) is unbiased; its log is biased low (Jensen) by about
        SE^2 / 2.

        Parameters
        ----------
        n_chains : int, default 100
            Number of independent AIS runs M, >= 2.
        n_betas : int, default 1000
            Number of inverse temperatures, the end points included, >= 2.
        base_visible_bias : array_like or None, default None
            a_A, shape (n_visible,), finite floats; None: the model's visible bias a_.
        random_state : None, int, SeedSequence, Generator or RandomState, default None
            None: the model's own stream (advanced); else a seed / Generator for this call.

        Returns
        -------
        AISEstimate
            (log_partition, standard_error), a NamedTuple.
        """
        owner = "RBM.log_partition_ais"
        n_chains = int(check_number(n_chains, "n_chains", owner, low=2, integer=True))
        n_betas = int(check_number(n_betas, "n_betas", owner, low=2, integer=True))
        self._check_has_weights("log_partition_ais")
        W, a, b = self._params64()
        if base_visible_bias is None:
            a_base = a
        else:
            a_base = np.asarray(base_visible_bias)
            if a_base.dtype.kind not in "biuf" or a_base.shape != (self.n_visible,) or not np.all(
                    np.isfinite(a_base)):
                raise InvalidParameterError(f"The 'base_visible_bias' parameter of {owner} must be None or a finite "
                                            f"real array of shape ({self.n_visible},). Got "
                                            f"{_describe_values(a_base)} instead.")
            a_base = a_base.astype(np.float64)
        rng = self._generator(random_state, "log_partition_ais")
        betas = np.linspace(0.0, 1.0, n_betas)
        V = (rng.random((n_chains, self.n_visible)) < expit(a_base)).astype(np.float64)

        def log_f(beta, pre, va, va_base):
            return (1.0 - beta) * va_base + beta * va + _softplus(beta * pre).sum(axis=1)

        pre, va, va_base = V @ W + b, V @ a, V @ a_base
        log_w = np.zeros(n_chains)
        previous = log_f(0.0, pre, va, va_base)
        for beta in betas[1:]:
            log_w += log_f(beta, pre, va, va_base) - previous
            if beta == 1.0:
                break
            H = (rng.random((n_chains, self.n_hidden)) < expit(beta * pre)).astype(np.float64)
            P = expit((1.0 - beta) * a_base + beta * (H @ W.T + a))
            V = (rng.random(P.shape) < P).astype(np.float64)
            pre, va, va_base = V @ W + b, V @ a, V @ a_base
            previous = log_f(beta, pre, va, va_base)
        log_z0 = float(_softplus(a_base).sum()) + self.n_hidden * math.log(2.0)
        log_z = log_z0 + float(logsumexp(log_w)) - math.log(n_chains)
        w = np.exp(log_w - log_w.max())
        standard_error = float(np.std(w, ddof=1) / (math.sqrt(n_chains) * np.mean(w)))
        return AISEstimate(log_z, standard_error)
