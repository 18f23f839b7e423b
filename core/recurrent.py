"""Recurrent layers: SimpleRNN, LSTM and GRU, trained by backpropagation through time, and TimeDense.

Every layer here reads a batch of sequences ``X`` of shape (batch, T, F): T time steps of F features per sample
(per-sample input shape ``(T, F)``). A recurrent layer starts each sequence from a zero state and returns either
the hidden state of every step, (batch, T, units) with ``return_sequences=True``, or the last one, (batch, units).

Parameters of a recurrent layer with G gates (SimpleRNN 1, GRU 3, LSTM 4) and H = units:

- "W" (F, G*H): input weights, the G gate blocks side by side (column block k belongs to gate k);
- "U" (H, G*H): recurrent weights, the same column blocks;
- "b" (G*H,): biases.

Computation. Inside the layer the arrays are feature-major, the batch the fastest axis: states (H, batch), gate
pre-activations (G*H, batch), so that every gate block of a step is one contiguous array (elementwise work on
strided column blocks of (batch, G*H) arrays costs several times more in numpy). The input projection of all time
steps is one matrix product, W^T (G*H, F) @ X (F, T*batch); the Python loop over t does only the recurrent product
U^T h_{t-1} and elementwise work. The backward pass runs the loop in reverse, collecting the gradient of every
step's gate pre-activations, then forms dW, dU, db and dX with one matrix product each over all steps. Sigmoid
gates are evaluated as sigmoid(a) = (1 + tanh(a / 2)) / 2, the factor 1/2 folded into their rows of W^T, U^T and b
for the forward pass, so that one tanh call covers all gates of a step (numpy's tanh is vectorised; scipy's expit
is several times slower in float32). The work arrays are kept between calls and reused while the batch shape stays
the same (fresh large arrays cost a page fault per 4 KiB page on every call); outputs and input gradients are
newly allocated arrays.

Truncated backpropagation through time (``truncate=k``). The sequence is cut into chunks of k steps starting at
t = 0: [0, k), [k, 2k), ... The forward pass is unchanged (the state flows across chunk boundaries), but in the
backward pass the state entering a chunk, h_{ck-1} (and c_{ck-1} for the LSTM), is treated as a constant: no
gradient flows from a step t with t % k == 0 back to step t - 1. Each chunk's outputs thus train the parameters
only through the steps of their own chunk (the gradient of loss terms read in chunk c, with the state entering
chunk c held fixed). With ``return_sequences=False`` only the last output is read, so only the last chunk
[k * ((T - 1) // k), T) receives gradient. ``truncate=None`` (or any k >= T) is full backpropagation through time.
"""

from __future__ import annotations

import numpy as np

from core._validation import InvalidParameterError, check_bool, check_choice, check_number, check_positive_int
from core.base import Layer
from core.init import INITIALIZERS, check_init_name, initialize

__all__ = ["SimpleRNN", "LSTM", "GRU", "TimeDense", "RECURRENT_INITIALIZERS", "orthogonal"]

#: initialisers accepted for the recurrent weights U: "orthogonal" and those of :mod:`core.init`
RECURRENT_INITIALIZERS = ("orthogonal", *sorted(INITIALIZERS))


def orthogonal(n: int, rng: np.random.Generator, dtype) -> np.ndarray:
    """A random orthogonal (n, n) matrix, uniformly distributed over the orthogonal group (Haar measure).

    The Q factor of a Gaussian matrix, its columns' signs fixed by the diagonal of R (Mezzadri, "How to generate
    random matrices from the classical compact groups", Notices AMS 54, 592 (2007)). Orthogonal recurrent weights
    keep the norm of the state and of its gradient over many steps at initialisation (Saxe, McClelland & Ganguli,
    ICLR 2014).

    Parameters
    ----------
    n : int
        Size of the matrix.
    rng : numpy.random.Generator
        Source of the Gaussian matrix (drawn in float64).
    dtype : numpy dtype or str
        Dtype of the returned matrix.

    Returns
    -------
    ndarray
        Shape (n, n), orthogonal up to rounding in ``dtype``.
    """
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    q *= np.where(np.diag(r) < 0, -1.0, 1.0)
    return q.astype(dtype, copy=False)


def _check_truncate(truncate, owner: str) -> int | None:
    if truncate is None:
        return None
    if isinstance(truncate, (bool, np.bool_)) or not isinstance(truncate, (int, np.integer)) or truncate < 1:
        raise InvalidParameterError(f"The 'truncate' parameter of {owner} must be None (full backpropagation "
                                    f"through time) or an int >= 1 (the chunk length of truncated "
                                    f"backpropagation through time). Got {truncate!r} instead.")
    return int(truncate)


def _check_sequence_shape(input_shape, owner: str) -> None:
    if len(input_shape) != 2:
        raise ValueError(f"{owner} expects sequences: inputs of shape (batch, T, F), T time steps of F features; "
                         f"got per-sample input shape {tuple(input_shape)}.")


class _Recurrent(Layer):
    """What SimpleRNN, LSTM and GRU share: parameters, input projection, output assembly, the gradient products.

    Subclasses set ``n_gates`` and ``_sigmoid_gates`` and implement ``_steps_forward(Z, UT, H)`` and
    ``_steps_backward(dY_seq, dY_last, stop)``, feature-major (module docstring):

    - Z (G*H, T, batch): input projections W^T x_t + b, UT (G*H, H): U^T, both with the sigmoid gates' rows halved;
      fill H (T + 1, H, batch) from H[0] = 0 and cache what backward needs;
    - dY_seq (T, H, batch) view or None, dY_last (H, batch) view or None: the gradient reaching the outputs; return
      the gradients of the gate pre-activations (T, G*H, batch) for the input side (W, b, X) and for the recurrent
      side (U); steps before ``stop`` get zero gradient.
    """

    n_gates = 1
    #: which of the gate blocks are sigmoid gates (evaluated with tanh, their rows halved)
    _sigmoid_gates: tuple[bool, ...] = (False,)
    fresh_output = True
    fresh_input_grad = True
    skips_input_grad = True

    def __init__(self, units: int, return_sequences: bool = False, truncate: int | None = None,
                 init: str | None = None, recurrent_init: str = "orthogonal") -> None:
        super().__init__()
        owner = type(self).__name__
        self.units = check_positive_int(units, "units", owner)
        self.return_sequences = check_bool(return_sequences, "return_sequences", owner)
        self.truncate = _check_truncate(truncate, owner)
        check_init_name(init, owner)
        self.init = init
        self.recurrent_init = check_choice(recurrent_init, "recurrent_init", owner, RECURRENT_INITIALIZERS)
        self._workspace: dict[str, np.ndarray] = {}

    def _work(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """The reusable work array ``name`` of ``shape`` (uninitialised when new)."""
        array = self._workspace.get(name)
        if array is None or array.shape != shape or array.dtype != self.dtype:
            array = self._workspace[name] = np.empty(shape, dtype=self.dtype)
        return array

    def compute_output_shape(self, input_shape):
        _check_sequence_shape(input_shape, type(self).__name__)
        return (input_shape[0], self.units) if self.return_sequences else (self.units,)

    def build(self, input_shape, rng, dtype):
        output_shape = super().build(input_shape, rng, dtype)
        n_in, units, gates = self.input_shape[1], self.units, self.n_gates
        # each gate is initialised as its own (n_in, units) / (units, units) layer
        W = [initialize(self.init or "glorot", (n_in, units), n_in, units, rng, np.float64) for _ in range(gates)]
        if self.recurrent_init == "orthogonal":
            U = [orthogonal(units, rng, np.float64) for _ in range(gates)]
        else:
            U = [initialize(self.recurrent_init, (units, units), units, units, rng, np.float64)
                 for _ in range(gates)]
        self._allocate("W", np.concatenate(W, axis=1))
        self._allocate("U", np.concatenate(U, axis=1))
        self._allocate("b", self._initial_bias())
        self._workspace = {}
        return output_shape

    def _initial_bias(self) -> np.ndarray:
        return np.zeros(self.n_gates * self.units)

    def forward(self, X, training=False):
        if X.ndim != 3 or X.shape[1:] != self.input_shape:
            raise ValueError(f"{type(self).__name__} expects X of shape (batch, {self.input_shape[0]}, "
                             f"{self.input_shape[1]}). Got shape {X.shape} instead.")
        batch, T, n_in = X.shape
        width = self.n_gates * self.units
        XT = self._work("XT", (n_in, T, batch))
        np.copyto(XT, X.transpose(2, 1, 0))
        XT = XT.reshape(n_in, T * batch)
        WT, UT, b = self.params["W"].T, self.params["U"].T, self.params["b"]
        if any(self._sigmoid_gates):
            half = np.repeat(np.where(self._sigmoid_gates, 0.5, 1.0), self.units).astype(self.dtype)
            WT, UT, b = WT * half[:, None], UT * half[:, None], b * half
        Z = self._work("Z", (width, T * batch))
        np.matmul(WT, XT, out=Z)  # the input projection of every step at once
        Z += b[:, None]
        H = self._work("H", (T + 1, self.units, batch))
        H[0] = 0.0
        self._XT, self._H = XT, H
        self._steps_forward(Z.reshape(width, T, batch), np.ascontiguousarray(UT), H)
        if self.return_sequences:
            return np.ascontiguousarray(H[1:].transpose(2, 0, 1))  # (batch, T, H), a fresh array
        return np.ascontiguousarray(H[T].T)

    def _first_step_with_gradient(self, T: int) -> int:
        """Steps before this one receive no gradient (truncated BPTT reading the last output only)."""
        if self.return_sequences or self.truncate is None:
            return 0
        return self.truncate * ((T - 1) // self.truncate)

    def _propagates(self, t: int) -> bool:
        """Whether the gradient at step t flows on to the state of step t - 1."""
        return t > 0 and (self.truncate is None or t % self.truncate != 0)

    def backward(self, dY, input_grad: bool = True):
        """Fill grads from dY ((batch, T, H) or (batch, H)); return dX (batch, T, F), or None if not
        ``input_grad``."""
        H = self._H
        T, units, batch = H.shape
        T -= 1
        dY_seq = dY.transpose(1, 2, 0) if self.return_sequences else None  # (T, H, batch) views
        dY_last = None if self.return_sequences else dY.T
        d_in, d_rec = self._steps_backward(dY_seq, dY_last, self._first_step_with_gradient(T))
        width = d_in.shape[1]
        # (T, G*H, batch) -> (G*H, T*batch), the column order of XT; copies of contiguous runs of batch numbers
        cols = self._work("d_cols", (width, T, batch))
        np.copyto(cols, d_in.transpose(1, 0, 2))
        cols = cols.reshape(width, T * batch)
        np.matmul(self._XT, cols.T, out=self.grads["W"])
        ones = self._work("ones", (T * batch,))
        ones[...] = 1.0
        np.matmul(cols, ones, out=self.grads["b"])  # the sum over steps and samples, as a BLAS product
        if d_rec is not d_in:
            rec = self._work("d_rec_cols", (width, T, batch))
            np.copyto(rec, d_rec.transpose(1, 0, 2))
            rec = rec.reshape(width, T * batch)
        else:
            rec = cols
        states = self._work("h_cols", (units, T, batch))
        np.copyto(states, H[:-1].transpose(1, 0, 2))
        np.matmul(states.reshape(units, T * batch), rec.T, out=self.grads["U"])
        if not input_grad:
            return None
        dX = np.matmul(self.params["W"], cols)  # (F, T*batch)
        return dX.reshape(-1, T, batch).transpose(2, 1, 0)

    def _steps_forward(self, Z, UT, H):
        raise NotImplementedError

    def _steps_backward(self, dY_seq, dY_last, stop):
        raise NotImplementedError

    def _add_output_gradient(self, dh, dY_seq, dY_last, t: int, T: int) -> None:
        if dY_seq is not None:
            dh += dY_seq[t]
        elif t == T - 1:
            dh += dY_last

    def get_config(self):
        return {"units": self.units, "return_sequences": self.return_sequences, "truncate": self.truncate,
                "init": self.init, "recurrent_init": self.recurrent_init}


def _tanh(x):
    np.tanh(x, out=x)


def _sigmoid(x):
    """In place, for x = a / 2 (the halved pre-activation): sigmoid(a) = (1 + tanh(a / 2)) / 2."""
    np.tanh(x, out=x)
    x *= 0.5
    x += 0.5


def _relu(x):
    np.maximum(x, 0.0, out=x)


def _identity(x):
    pass


def _tanh_derivative(y, out):
    np.multiply(y, y, out=out)
    np.subtract(1.0, out, out=out)


def _sigmoid_derivative(y, out):
    np.subtract(1.0, y, out=out)
    out *= y


def _relu_derivative(y, out):
    np.greater(y, 0.0, out=out)


def _identity_derivative(y, out):
    out[...] = 1.0


#: activation of SimpleRNN -> (in-place f, f'(a) written into ``out`` from the output y = f(a))
_RNN_ACTIVATIONS = {
    "tanh": (_tanh, _tanh_derivative),
    "sigmoid": (_sigmoid, _sigmoid_derivative),
    "relu": (_relu, _relu_derivative),
    "identity": (_identity, _identity_derivative),
}


class SimpleRNN(_Recurrent):
    """Elman recurrent layer: h_t = f(x_t W + h_{t-1} U + b), h_{-1} = 0.

    Parameters
    ----------
    units : int
        Size H of the hidden state, >= 1.
    activation : {"tanh", "sigmoid", "relu", "identity"}
        The nonlinearity f.
    return_sequences : bool, default False
        Output every state h_t, shape (batch, T, H), instead of the last one, shape (batch, H).
    truncate : int or None, default None
        Chunk length (>= 1) of truncated backpropagation through time (see the module docstring); None is full
        backpropagation through time.
    init : str or None, default None
        Initialiser of W (a name of :mod:`core.init`); None for "glorot".
    recurrent_init : str, default "orthogonal"
        Initialiser of U: "orthogonal" or a name of :mod:`core.init`.

    Notes
    -----
    Shapes: X (batch, T, F); W (F, H); U (H, H); b (H,).
    """

    n_gates = 1

    def __init__(self, units: int, activation: str = "tanh", return_sequences: bool = False,
                 truncate: int | None = None, init: str | None = None, recurrent_init: str = "orthogonal") -> None:
        super().__init__(units, return_sequences, truncate, init, recurrent_init)
        self.activation = check_choice(activation, "activation", "SimpleRNN", tuple(_RNN_ACTIVATIONS))
        self._sigmoid_gates = (self.activation == "sigmoid",)

    def _steps_forward(self, Z, UT, H):
        f = _RNN_ACTIVATIONS[self.activation][0]
        for t in range(Z.shape[1]):
            h = H[t + 1]
            np.matmul(UT, H[t], out=h)
            h += Z[:, t]
            f(h)

    def _steps_backward(self, dY_seq, dY_last, stop):
        H, U = self._H, self.params["U"]
        T = H.shape[0] - 1
        D = self._work("D", H[1:].shape)  # f'(a_t) from h_t, (T, H, batch)
        _RNN_ACTIVATIONS[self.activation][1](H[1:], D)
        dA = self._work("dA", D.shape)
        dA[:stop] = 0.0
        dh = self._work("dh", H[0].shape)
        dh[...] = 0.0
        for t in range(T - 1, stop - 1, -1):
            self._add_output_gradient(dh, dY_seq, dY_last, t, T)
            np.multiply(dh, D[t], out=dA[t])
            if self._propagates(t):
                np.matmul(U, dA[t], out=dh)
            else:
                dh[...] = 0.0
        return dA, dA

    def get_config(self):
        return {"units": self.units, "activation": self.activation,
                **{k: v for k, v in super().get_config().items() if k != "units"}}


class LSTM(_Recurrent):
    """Long short-term memory layer (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000).

    With a_t = x_t W + h_{t-1} U + b split into four blocks of H columns, in the order i, f, g, o (as PyTorch's
    ``weight_ih``/``weight_hh``, transposed)::

        i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
        c_t = f * c_{t-1} + i * g             h_t = o * tanh(c_t)              h_{-1} = c_{-1} = 0

    Parameters
    ----------
    units : int
        Size H of the hidden and cell states, >= 1.
    return_sequences : bool, default False
        Output every state h_t, shape (batch, T, H), instead of the last one, shape (batch, H).
    truncate : int or None, default None
        Chunk length (>= 1) of truncated backpropagation through time (see the module docstring); the gradient
        through both h and c is cut at chunk boundaries. None is full backpropagation through time.
    init : str or None, default None
        Initialiser of W (a name of :mod:`core.init`, drawn per gate block); None for "glorot".
    recurrent_init : str, default "orthogonal"
        Initialiser of U: "orthogonal" (one orthogonal (H, H) block per gate) or a name of :mod:`core.init`.
    forget_bias : float, default 1.0
        Initial bias of the forget gate (1.0: remember by default, Jozefowicz et al. 2015); the other biases start
        at zero.

    Notes
    -----
    Shapes: X (batch, T, F); W (F, 4H); U (H, 4H); b (4H,).
    """

    n_gates = 4
    _sigmoid_gates = (True, True, False, True)

    def __init__(self, units: int, return_sequences: bool = False, truncate: int | None = None,
                 init: str | None = None, recurrent_init: str = "orthogonal", forget_bias: float = 1.0) -> None:
        super().__init__(units, return_sequences, truncate, init, recurrent_init)
        self.forget_bias = float(check_number(forget_bias, "forget_bias", "LSTM"))
        if not np.isfinite(self.forget_bias):
            raise InvalidParameterError(f"The 'forget_bias' parameter of LSTM must be a finite float. "
                                        f"Got {forget_bias!r} instead.")

    def _initial_bias(self):
        b = np.zeros(4 * self.units)
        b[self.units:2 * self.units] = self.forget_bias
        return b

    def _steps_forward(self, Z, UT, H):
        n, T, batch = self.units, Z.shape[1], Z.shape[2]
        G = self._work("G", (T, 4 * n, batch))  # gate activations [i, f, g, o] of every step
        C = self._work("C", H.shape)  # cell states, C[0] = 0
        C[0] = 0.0
        TC = self._work("TC", (T, n, batch))  # tanh(c_t)
        tmp = self._work("tmp", (n, batch))
        # tanh -> gate: (1 + tanh) / 2 on the sigmoid gates, tanh itself on g (full arrays: faster than broadcasting)
        scale, shift = self._work("scale", (4 * n, batch)), self._work("shift", (4 * n, batch))
        scale[...] = 0.5
        scale[2 * n:3 * n] = 1.0
        np.subtract(1.0, scale, out=shift)
        for t in range(T):
            a = G[t]
            np.matmul(UT, H[t], out=a)
            a += Z[:, t]
            np.tanh(a, out=a)
            a *= scale
            a += shift
            np.multiply(a[n:2 * n], C[t], out=C[t + 1])
            np.multiply(a[:n], a[2 * n:3 * n], out=tmp)
            C[t + 1] += tmp
            np.tanh(C[t + 1], out=TC[t])
            np.multiply(a[3 * n:], TC[t], out=H[t + 1])
        self._G, self._C, self._TC = G, C, TC

    def _steps_backward(self, dY_seq, dY_last, stop):
        G, C, TC, U, n = self._G, self._C, self._TC, self.params["U"], self.units
        T = G.shape[0]
        D = self._work("D", G.shape)  # d activation / d pre-activation: s (1 - s) for the sigmoid gates, 1 - g^2 for g
        np.subtract(1.0, G, out=D)
        D *= G
        np.multiply(G[:, 2 * n:3 * n], G[:, 2 * n:3 * n], out=D[:, 2 * n:3 * n])
        np.subtract(1.0, D[:, 2 * n:3 * n], out=D[:, 2 * n:3 * n])
        E = self._work("E", TC.shape)  # d c_t from d h_t: o * (1 - tanh(c_t)^2)
        np.multiply(TC, TC, out=E)
        np.subtract(1.0, E, out=E)
        E *= G[:, 3 * n:]
        dA = self._work("dA", G.shape)
        dA[:stop] = 0.0
        dh, dc, tmp = self._work("dh", C[0].shape), self._work("dc", C[0].shape), self._work("tmp", C[0].shape)
        dh[...] = 0.0
        dc[...] = 0.0
        for t in range(T - 1, stop - 1, -1):
            self._add_output_gradient(dh, dY_seq, dY_last, t, T)
            a, d = G[t], dA[t]
            np.multiply(dh, TC[t], out=d[3 * n:])  # d o
            np.multiply(dh, E[t], out=tmp)
            dc += tmp
            np.multiply(dc, a[2 * n:3 * n], out=d[:n])  # d i = dc * g
            np.multiply(dc, C[t], out=d[n:2 * n])  # d f = dc * c_{t-1}
            np.multiply(dc, a[:n], out=d[2 * n:3 * n])  # d g = dc * i
            d *= D[t]
            if self._propagates(t):
                np.matmul(U, d, out=dh)
                dc *= a[n:2 * n]
            else:
                dh[...] = 0.0
                dc[...] = 0.0
        return dA, dA

    def get_config(self):
        return {**super().get_config(), "forget_bias": self.forget_bias}


class GRU(_Recurrent):
    """Gated recurrent unit (Cho et al. 2014) in the form of PyTorch and cuDNN (reset gate applied after U).

    With x_t W + b and h_{t-1} U split into three blocks of H columns, in the order r, z, n::

        r = sigmoid(x W_r + b_r + h_{t-1} U_r)       z = sigmoid(x W_z + b_z + h_{t-1} U_z)
        n = tanh(x W_n + b_n + r * (h_{t-1} U_n))    h_t = (1 - z) * n + z * h_{t-1}        h_{-1} = 0

    This is PyTorch's ``nn.GRU`` with its recurrent bias ``b_hn`` fixed at zero (one bias vector b; the other
    recurrent biases of PyTorch only add to b) and Keras' ``reset_after=True``. Unlike Cho et al.'s original
    n = tanh(x W_n + (r * h_{t-1}) U_n + b_n), it needs one recurrent product h_{t-1} U per step.

    Parameters
    ----------
    units : int
        Size H of the hidden state, >= 1.
    return_sequences : bool, default False
        Output every state h_t, shape (batch, T, H), instead of the last one, shape (batch, H).
    truncate : int or None, default None
        Chunk length (>= 1) of truncated backpropagation through time (see the module docstring); None is full
        backpropagation through time.
    init : str or None, default None
        Initialiser of W (a name of :mod:`core.init`, drawn per gate block); None for "glorot".
    recurrent_init : str, default "orthogonal"
        Initialiser of U: "orthogonal" (one orthogonal (H, H) block per gate) or a name of :mod:`core.init`.

    Notes
    -----
    Shapes: X (batch, T, F); W (F, 3H); U (H, 3H); b (3H,).
    """

    n_gates = 3
    _sigmoid_gates = (True, True, False)

    def _steps_forward(self, Z, UT, H):
        n, T, batch = self.units, Z.shape[1], Z.shape[2]
        G = self._work("G", (T, 3 * n, batch))  # gate activations [r, z, n] of every step
        HU = self._work("HU", (T, n, batch))  # U_n^T h_{t-1} of every step (not halved), needed by backward
        hu = self._work("hu", (2 * n, batch))
        tmp = self._work("tmp", (n, batch))
        for t in range(T):
            a, z = G[t], Z[:, t]
            np.matmul(UT[:2 * n], H[t], out=hu)
            np.matmul(UT[2 * n:], H[t], out=HU[t])
            np.add(z[:2 * n], hu, out=a[:2 * n])
            _sigmoid(a[:2 * n])
            np.multiply(a[:n], HU[t], out=tmp)
            np.add(z[2 * n:], tmp, out=a[2 * n:])
            np.tanh(a[2 * n:], out=a[2 * n:])
            np.subtract(H[t], a[2 * n:], out=tmp)  # h_t = n + z (h_{t-1} - n)
            tmp *= a[n:2 * n]
            np.add(a[2 * n:], tmp, out=H[t + 1])
        self._G, self._HU = G, HU

    def _steps_backward(self, dY_seq, dY_last, stop):
        G, HU, H, U, n = self._G, self._HU, self._H, self.params["U"], self.units
        T = G.shape[0]
        D = self._work("D", G.shape)  # s (1 - s) for r and z, 1 - n^2 for n
        np.subtract(1.0, G, out=D)
        D *= G
        np.multiply(G[:, 2 * n:], G[:, 2 * n:], out=D[:, 2 * n:])
        np.subtract(1.0, D[:, 2 * n:], out=D[:, 2 * n:])
        d_in = self._work("dA", G.shape)  # for W, b and X: [d a_r, d a_z, d a_n]
        d_rec = self._work("dA_rec", G.shape)  # for U: [d a_r, d a_z, r * d a_n]
        d_in[:stop] = 0.0
        d_rec[:stop] = 0.0
        dh, direct = self._work("dh", H[0].shape), self._work("direct", H[0].shape)
        dh[...] = 0.0
        for t in range(T - 1, stop - 1, -1):
            self._add_output_gradient(dh, dY_seq, dY_last, t, T)
            a, d, e = G[t], d_in[t], d_rec[t]
            np.subtract(H[t], a[2 * n:], out=d[n:2 * n])  # d z = dh * (h_{t-1} - n)
            d[n:2 * n] *= dh
            np.multiply(dh, a[n:2 * n], out=direct)  # dh * z: the path h_{t-1} -> h_t
            np.subtract(dh, direct, out=d[2 * n:])  # d n = dh * (1 - z)
            d[2 * n:] *= D[t, 2 * n:]
            np.multiply(d[2 * n:], HU[t], out=d[:n])  # d r = d a_n * (U_n^T h_{t-1})
            d[:2 * n] *= D[t, :2 * n]
            e[:2 * n] = d[:2 * n]
            np.multiply(d[2 * n:], a[:n], out=e[2 * n:])
            if self._propagates(t):
                np.matmul(U, e, out=dh)
                dh += direct
            else:
                dh[...] = 0.0
        return d_in, d_rec


class TimeDense(Layer):
    """A Dense layer applied at every time step with shared weights: Y[:, t] = X[:, t] W + b.

    Parameters
    ----------
    units : int
        Outputs per step, >= 1.
    init : str or None, default None
        Initialiser of W (see :mod:`core.init`), or None to let a :class:`core.network.Sequential` choose it from
        the activation that follows (``default_init``; "glorot" when there is none).
    use_bias : bool, default True
        Whether to add b (initialised to zero).

    Notes
    -----
    Shapes: X (batch, T, F) -> Y (batch, T, units); W (F, units); b (units,). One matrix product over all
    batch * T rows forward and one each for dW and dX backward.
    """

    fresh_output = True
    fresh_input_grad = True
    skips_input_grad = True

    def __init__(self, units: int, init: str | None = None, use_bias: bool = True) -> None:
        super().__init__()
        self.units = check_positive_int(units, "units", "TimeDense")
        check_init_name(init, "TimeDense")
        self.init = init
        self.use_bias = check_bool(use_bias, "use_bias", "TimeDense")
        self.fallback_init = "glorot"

    def compute_output_shape(self, input_shape):
        _check_sequence_shape(input_shape, "TimeDense")
        return (input_shape[0], self.units)

    def build(self, input_shape, rng, dtype):
        output_shape = super().build(input_shape, rng, dtype)
        n_in = self.input_shape[1]
        self._allocate("W", initialize(self.init or self.fallback_init, (n_in, self.units), n_in, self.units,
                                       rng, self.dtype))
        if self.use_bias:
            self._allocate("b", np.zeros(self.units))
        return output_shape

    def forward(self, X, training=False):
        if X.ndim != 3 or X.shape[1:] != self.input_shape:
            raise ValueError(f"TimeDense expects X of shape (batch, {self.input_shape[0]}, {self.input_shape[1]}). "
                             f"Got shape {X.shape} instead.")
        rows = X.reshape(-1, X.shape[2])  # (batch*T, F)
        self._rows = rows
        Y = np.matmul(rows, self.params["W"])
        if self.use_bias:
            Y += self.params["b"]
        return Y.reshape(X.shape[0], X.shape[1], self.units)

    def backward(self, dY, input_grad: bool = True):
        """Fill ``grads`` from dY and return dX.

        Parameters
        ----------
        dY : ndarray
            dL/dY for the outputs of the last ``forward``, shape (batch, T, units).
        input_grad : bool, default True
            Whether to compute dX; False skips it (for the first layer of a network).

        Returns
        -------
        ndarray or None
            dX, shape (batch, T, F), or None if ``input_grad`` is False.
        """
        d_rows = dY.reshape(-1, self.units)
        np.matmul(self._rows.T, d_rows, out=self.grads["W"])
        if self.use_bias:
            np.sum(d_rows, axis=0, out=self.grads["b"])
        if not input_grad:
            return None
        return np.matmul(d_rows, self.params["W"].T).reshape(dY.shape[0], dY.shape[1], -1)

    def get_config(self):
        return {"units": self.units, "init": self.init, "use_bias": self.use_bias}
