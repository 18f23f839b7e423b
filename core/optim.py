"""First-order optimizers: SGD (momentum, Nesterov), AdaGrad, RMSprop, Adam/AdamW, and gradient clipping.

Every optimizer updates ``Parameter.value`` in place from ``Parameter.grad`` (the arrays inside the layers) and keeps
its state (velocities, moment estimates) per parameter index, so the same parameter list, in the same order, must be
passed to every ``step``. One step, with g the gradient and lr the scheduled learning rate, is

1. clip:            g <- g * min(1, clip_norm / ||g||_global)                  (if ``clip_norm``)
2. L2 penalty:      g <- g + weight_decay * w                                  (params with ``decay=True``)
3. decoupled decay: w <- w - lr * decoupled_weight_decay * w                  (params with ``decay=True``)
4. the rule of the optimizer (see each class), e.g. SGD: w <- w - lr * g.

Step 3 uses the weights before step 4, as in Loshchilov & Hutter (2019) and ``torch.optim.AdamW``. The update
rules follow the PyTorch conventions (momentum buffer v <- mu v + g; eps added to sqrt of the second moment), so
published hyper-parameters carry over. The gradient arrays serve as scratch space: after ``step`` a
``Parameter.grad`` may no longer hold the gradient (clipping, the L2 term and the SGD and Adam rules work in it in
place; the next ``backward`` overwrites it anyway), so read gradients before stepping. The learning rate during
epoch e is ``base_learning_rate * schedule(e)`` (see :mod:`core.schedules`); the training loop calls
:meth:`Optimizer.set_epoch`.

Parameters that lie one after the other in one buffer, values and gradients alike (those of a built
:class:`core.network.Sequential`), are updated together, the rule applied once to the whole run with the state
kept in matching buffers; element by element the arithmetic is the one of a parameter updated alone.

The rules of the built-in optimizers run as one compiled pass per run of parameters (:mod:`core._kernels`, numba)
when all its arrays are C-contiguous float32 or float64 of one dtype, and as the numpy code of ``_update``
otherwise, or for runs under ``KERNEL_MIN_SIZE`` elements; both do the same floating-point operations in the same
order, so the results are bit-identical (``USE_KERNELS = False`` forces the numpy code). A subclass that overrides
``_update`` always runs its own code. Plain SGD (no momentum, weight decay or clipping) is applied by the training
loop layer by layer inside the backward pass, right after each layer's gradients are computed and still in the
cache (:meth:`Optimizer.layerwise_rate`): the same numbers as ``step``, except for a Dense layer's weights, which
are updated inside the weight-gradient product (BLAS gemm with beta = 1: one rounding where the separate step has
two; ``core.layers.FUSED_SGD = False`` restores the separate step).
"""

from __future__ import annotations

import functools
import inspect
import math
import operator

import numpy as np

from core._validation import InvalidParameterError, check_bool, check_choice, check_number
from core.schedules import (  # the schedules are part of the optimizer API (re-exported)
    SCHEDULES,
    ConstantSchedule,
    CosineSchedule,
    ExponentialSchedule,
    Schedule,
    StepSchedule,
    get_schedule,
)

__all__ = [
    "Optimizer", "SGD", "AdaGrad", "RMSprop", "Adam", "AdamW", "clip_grad_norm", "OPTIMIZERS", "get_optimizer",
    "optimizer_keywords", "sgd_update",
    "Schedule", "ConstantSchedule", "StepSchedule", "ExponentialSchedule", "CosineSchedule", "SCHEDULES",
    "get_schedule",
]


#: Whether the built-in rules run as compiled one-pass kernels where the arrays allow (see the module docstring);
#: False runs the numpy code of every ``_update``, with bit-identical results.
USE_KERNELS = True

#: Runs of fewer elements stay with the numpy code: for them a step costs microseconds either way, while the first
#: kernel call of a process costs about half a second (importing numba and loading the cached kernels).
KERNEL_MIN_SIZE = 16384

_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


_KERNELS = None


def _kernels():
    """The module of compiled kernels, imported on first use (importing numba takes a third of a second)."""
    global _KERNELS
    if _KERNELS is None:
        from core import _kernels as module
        _KERNELS = module
    return _KERNELS


def _kernel_arrays(arrays):
    """1-D views of ``arrays`` if all are writeable C-contiguous arrays of one native float32/float64 dtype (what
    the kernels take) with at least ``KERNEL_MIN_SIZE`` elements, else None."""
    dtype = arrays[0].dtype
    if arrays[0].size < KERNEL_MIN_SIZE or dtype not in _KERNEL_DTYPES or not dtype.isnative:
        return None
    for array in arrays:
        if array.dtype != dtype or not array.flags.c_contiguous or not array.flags.writeable:
            return None
    return [array.reshape(-1) for array in arrays]


@functools.lru_cache(maxsize=None)
def _fusable(cls) -> bool:
    """Whether the class of ``cls.__mro__`` that defines ``_update`` also defines ``_fused_update``."""
    def owner(name):
        return next(klass for klass in cls.__mro__ if name in vars(klass))
    return owner("_update") is owner("_fused_update")


def sgd_update(value: np.ndarray, grad: np.ndarray, lr: float) -> None:
    """w <- w - lr g in place, with the arithmetic of :class:`SGD` without momentum (``grad`` may be overwritten).

    Parameters
    ----------
    value : ndarray
        The parameter w, any shape, updated in place.
    grad : ndarray
        Its gradient g, the shape and dtype of ``value``.
    lr : float
        The learning rate, cast to the arrays' dtype as numpy does.
    """
    flat = _kernel_arrays([value, grad]) if USE_KERNELS else None
    if flat is None:
        grad *= lr
        value -= grad
    else:
        _kernels().sgd_step(*flat, value.dtype.type(lr))


def clip_grad_norm(parameters, max_norm: float) -> float:
    """Scale all gradients in place so that their global L2 norm is at most ``max_norm``.

    Parameters
    ----------
    parameters : sequence of Parameter
        The parameters whose ``grad`` arrays are scaled in place.
    max_norm : float
        The largest global norm allowed, > 0.

    Returns
    -------
    float
        The global norm sqrt(sum_i ||grad_i||^2) before clipping. A non-finite norm is returned unchanged and
        nothing is scaled (the training loop reports the divergence).
    """
    check_number(max_norm, "max_norm", "clip_grad_norm", low=0, low_closed=False)
    total = math.sqrt(math.fsum(float(np.linalg.norm(p.grad)) ** 2 for p in parameters))
    if math.isfinite(total) and total > max_norm:
        scale = max_norm / total
        for p in parameters:
            np.multiply(p.grad, scale, out=p.grad)
    return total


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def _follows(first: np.ndarray, second: np.ndarray) -> bool:
    """Whether ``second`` starts right where ``first`` ends, both C-contiguous views of one C-contiguous buffer."""
    base = first.base
    return (isinstance(base, np.ndarray) and second.base is base and base.flags.c_contiguous
            and first.flags.c_contiguous and second.flags.c_contiguous and first.dtype == second.dtype
            and _address(second) == _address(first) + first.nbytes)


def _span(first: np.ndarray, size: int) -> np.ndarray:
    """The 1-D view of ``size`` elements of ``first.base`` starting at ``first`` (see :func:`_follows`)."""
    start = (_address(first) - _address(first.base)) // first.itemsize
    return first.base.reshape(-1)[start:start + size]


def _adaptive_step(value, numerator, second_moment, moment_scale, eps, step_size, tmp) -> None:
    """value -= step_size * numerator / (sqrt(moment_scale * second_moment) + eps), using ``tmp`` as scratch."""
    np.sqrt(second_moment, out=tmp)
    if moment_scale != 1.0:
        tmp *= math.sqrt(moment_scale)
    tmp += eps
    np.divide(numerator, tmp, out=tmp)
    tmp *= step_size
    value -= tmp


class Optimizer:
    """Base class. Subclasses implement ``_update(value, grad, state, lr)`` and ``_new_state(value)``.

    Parameters
    ----------
    learning_rate : float
        Base learning rate, > 0 (multiplied by the schedule's factor).
    weight_decay : float, default 0.0
        L2 penalty coefficient lambda >= 0: the loss gains lambda/2 * ||w||^2, the gradient lambda * w, for
        parameters with ``decay=True`` (weights, not biases).
    decoupled_weight_decay : float, default 0.0
        lambda >= 0: w <- w - lr * decoupled_weight_decay * w each step (``decay=True`` parameters only).
    clip_norm : float or None, default None
        Clip the global gradient norm to this value (> 0) before the update; None does not clip.
    schedule : Schedule, callable, str or None, default None
        A Schedule, a callable ``epoch -> factor``, a name from ``core.schedules.SCHEDULES``, or None (constant).

    Attributes
    ----------
    learning_rate : float
        The current (scheduled) learning rate.
    base_learning_rate : float
        The ``learning_rate`` given to the constructor.
    iterations : int
        Number of ``step`` calls so far.
    epoch : int
        The epoch index last passed to ``set_epoch``.
    """

    def __init__(self, learning_rate, *, weight_decay=0.0, decoupled_weight_decay=0.0, clip_norm=None, schedule=None):
        owner = type(self).__name__
        self.base_learning_rate = float(check_number(learning_rate, "learning_rate", owner, low=0, low_closed=False))
        self.weight_decay = float(check_number(weight_decay, "weight_decay", owner, low=0))
        self.decoupled_weight_decay = float(
            check_number(decoupled_weight_decay, "decoupled_weight_decay", owner, low=0)
        )
        if clip_norm is not None:
            clip_norm = float(check_number(clip_norm, "clip_norm", owner, low=0, low_closed=False))
        self.clip_norm = clip_norm
        if isinstance(schedule, str):
            schedule = get_schedule(schedule)
        if schedule is not None and not callable(schedule):
            raise InvalidParameterError(
                f"The 'schedule' parameter of {owner} must be a Schedule, a callable epoch -> factor, a schedule "
                f"name or None. Got {schedule!r} instead."
            )
        self.schedule = schedule
        self.learning_rate = self.base_learning_rate
        self.iterations = 0
        self.epoch = 0
        self._states: list[dict[str, np.ndarray]] | None = None
        self._shapes: list[tuple[int, ...]] = []
        self._runs, self._runs_key = [], None
        self._runs_parameters = None

    def set_epoch(self, epoch: int) -> float:
        """Set the learning rate for an epoch from the schedule; return it.

        Parameters
        ----------
        epoch : int
            Epoch index, 0 = first.

        Returns
        -------
        float
            The new learning rate: the base learning rate times the schedule's factor.

        Raises
        ------
        ValueError
            If the schedule returns a factor that is not a finite float > 0.
        """
        self.epoch = int(epoch)
        factor = 1.0 if self.schedule is None else float(self.schedule(self.epoch))
        if not (math.isfinite(factor) and factor > 0):
            raise ValueError(f"The schedule {self.schedule!r} returned factor {factor!r} for epoch {epoch}; "
                             "expected a finite float > 0.")
        self.learning_rate = self.base_learning_rate * factor
        return self.learning_rate

    def reset(self) -> None:
        """Forget the per-parameter state and the step count (e.g. before training a fresh network)."""
        self._states = None
        self._shapes = []
        self._runs, self._runs_key = [], None
        self._runs_parameters = None
        self.iterations = 0

    def step(self, parameters) -> None:
        """Apply one update to every parameter in place, from its current ``grad``.

        Parameters
        ----------
        parameters : sequence of Parameter
            (name, value, grad, decay) tuples, the same objects in the same order every call.

        Raises
        ------
        ValueError
            If the parameters' count or shapes differ from those the state was built for (call ``reset`` first).

        Notes
        -----
        Parameters that lie one after the other in one buffer (as those of a built
        :class:`core.network.Sequential` do, values and gradients alike) are updated together, with one call per
        array operation of the rule; the arithmetic of every element is the same as one parameter at a time.
        """
        same = self._states is not None and self._same_arrays(parameters)
        if self._states is None:
            self._build_state(parameters)
        elif not same and (len(parameters) != len(self._states) or any(
            p.value.shape != shape for p, shape in zip(parameters, self._shapes)
        )):
            raise ValueError(
                f"{type(self).__name__}.step got {len(parameters)} parameters with shapes "
                f"{[p.value.shape for p in parameters]}, but its state was built for shapes {self._shapes}. "
                "Call reset() before optimizing a different network."
            )
        if self.clip_norm is not None:
            clip_grad_norm(parameters, self.clip_norm)
        self.iterations += 1
        lr = self.learning_rate
        if self.weight_decay or self.decoupled_weight_decay:
            for p, state in zip(parameters, self._states):
                if p.decay and self.weight_decay:
                    np.multiply(p.value, self.weight_decay, out=state["tmp"])
                    np.add(p.grad, state["tmp"], out=p.grad)  # g + lambda w, in the gradient buffer itself
                if p.decay and self.decoupled_weight_decay:
                    np.multiply(p.value, 1.0 - lr * self.decoupled_weight_decay, out=p.value)
        runs = self._runs if same else self._runs_of(parameters)
        if USE_KERNELS and _fusable(type(self)):
            for value, grad, state, flat in runs:
                if flat is None:
                    self._update(value, grad, state, lr)
                else:
                    self._fused_update(*flat, lr)
        else:
            for value, grad, state, _ in runs:
                self._update(value, grad, state, lr)

    def _build_state(self, parameters) -> None:
        """The state of every parameter: views into one buffer per state array when all share a dtype."""
        self._shapes = [p.value.shape for p in parameters]
        dtypes = {p.value.dtype for p in parameters}
        self._runs, self._runs_key = [], None
        self._runs_parameters = None
        if len(dtypes) != 1:
            self._flat_state = None
            self._states = [self._new_state(p.value) for p in parameters]
            return
        sizes = [p.value.size for p in parameters]
        self._offsets = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        self._flat_state = self._new_state(np.empty(self._offsets[-1], dtype=dtypes.pop()))
        self._states = [self._state_slice(i, i + 1, p.value.shape) for i, p in enumerate(parameters)]

    def _state_slice(self, start: int, stop: int, shape) -> dict[str, np.ndarray]:
        """The state of parameters start..stop-1 as views of shape ``shape`` into the flat state arrays."""
        lo, hi = self._offsets[start], self._offsets[stop]
        return {key: array[lo:hi].reshape(shape) for key, array in self._flat_state.items()}

    def _same_arrays(self, parameters) -> bool:
        """Whether ``parameters`` hold the very arrays the cached runs were made for."""
        cached = getattr(self, "_runs_parameters", None)
        if cached is not None and len(cached) == len(parameters) and all(map(operator.is_, parameters, cached)):
            return True  # the very Parameter tuples (immutable), hence the very arrays
        cached = self._runs_key
        return (cached is not None and len(cached) == len(parameters)
                and all(p.value is v and p.grad is g for p, (v, g) in zip(parameters, cached)))

    def _runs_of(self, parameters) -> list:
        """(value, grad, state, flat) per maximal run of consecutive parameters whose values tile one contiguous
        block of memory and whose gradients do too (flat views over the run); single parameters otherwise.
        ``flat`` is the argument list of ``_fused_update`` (1-D views of value, grad and the state arrays of
        ``_kernel_state``), or None where the arrays do not suit the kernels. Cached for the same arrays."""
        if self._same_arrays(parameters):
            return self._runs
        key = [(p.value, p.grad) for p in parameters]
        if self._flat_state is None:
            runs = [(p.value, p.grad, state) for p, state in zip(parameters, self._states)]
        else:
            runs, start = [], 0
            while start < len(parameters):
                stop = start + 1
                while (stop < len(parameters) and _follows(parameters[stop - 1].value, parameters[stop].value)
                       and _follows(parameters[stop - 1].grad, parameters[stop].grad)):
                    stop += 1
                if stop - start == 1:
                    runs.append((parameters[start].value, parameters[start].grad, self._states[start]))
                else:
                    value = _span(parameters[start].value, self._offsets[stop] - self._offsets[start])
                    grad = _span(parameters[start].grad, self._offsets[stop] - self._offsets[start])
                    runs.append((value, grad, self._state_slice(start, stop, value.shape)))
                start = stop
        runs = [(value, grad, state, self._kernel_views(value, grad, state)) for value, grad, state in runs]
        self._runs, self._runs_key = runs, key
        self._runs_parameters = tuple(parameters)
        return runs

    def _kernel_views(self, value, grad, state):
        """The array arguments of ``_fused_update`` as 1-D views, or None (see :func:`_kernel_arrays`)."""
        return _kernel_arrays([value, grad, *(state[key] for key in self._kernel_state())])

    def __getstate__(self) -> dict:
        # the per-parameter states are views into the flat state (rebuilt on loading); the runs are a cache
        state = {**self.__dict__, "_runs": [], "_runs_key": None, "_runs_parameters": None}
        if state.get("_flat_state") is not None:
            state["_states"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if getattr(self, "_flat_state", None) is not None:
            self._states = [self._state_slice(i, i + 1, shape) for i, shape in enumerate(self._shapes)]

    def _new_state(self, value: np.ndarray) -> dict[str, np.ndarray]:
        # scratch of the shape of the parameter, so that a step allocates nothing (np.empty touches no memory
        # until it is used)
        return {"tmp": np.empty_like(value)}

    def _update(self, value, grad, state, lr) -> None:
        """Apply the rule to ``value`` in place; ``grad`` (the parameter's gradient buffer) may be overwritten."""
        raise NotImplementedError

    def layerwise_rate(self) -> float | None:
        """The learning rate lr when this step is w <- w - lr g for every parameter on its own, which a network may
        then apply layer by layer during backpropagation, while each layer's gradients are still in the cache
        (:meth:`core.network.Sequential.backward` with ``sgd_rate``, followed by :meth:`count_step` instead of
        :meth:`step`; the same numbers up to the rounding of a product that applies the step itself, see the module
        docstring); None for every other rule (the default)."""
        return None

    def count_step(self) -> None:
        """Count a step applied elsewhere with :meth:`layerwise_rate` (as :meth:`step` counts its own)."""
        self.iterations += 1

    def _kernel_state(self) -> tuple[str, ...]:
        """The keys of the state arrays ``_fused_update`` takes after value and grad, in order."""
        return ()

    def _fused_update(self, value, grad, *state_and_lr) -> None:
        """``_update`` as one compiled pass over 1-D arrays (value, grad, the ``_kernel_state`` arrays, then lr),
        bit-identical to it; only used where the class that defines ``_update`` also defines this method."""
        raise NotImplementedError

    def get_config(self) -> dict:
        """Constructor arguments (the schedule as its repr)."""
        return {
            "learning_rate": self.base_learning_rate,
            "weight_decay": self.weight_decay,
            "decoupled_weight_decay": self.decoupled_weight_decay,
            "clip_norm": self.clip_norm,
            "schedule": None if self.schedule is None else repr(self.schedule),
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, PyTorch convention:

    momentum = 0:  w <- w - lr * g
    momentum mu:   v <- mu * v + g  (v = 0 initially);  w <- w - lr * v
    Nesterov:      v <- mu * v + g;                     w <- w - lr * (g + mu * v)

    Parameters
    ----------
    learning_rate : float
        Base learning rate lr (> 0).
    momentum : float
        mu, in [0, 1); 0 is plain SGD.
    nesterov : bool
        Nesterov momentum (needs momentum > 0).
    **kwargs
        ``weight_decay``, ``decoupled_weight_decay``, ``clip_norm``, ``schedule``: see :class:`Optimizer`.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = float(check_number(momentum, "momentum", "SGD", low=0, high=1, high_closed=False))
        check_bool(nesterov, "nesterov", "SGD")
        if nesterov and self.momentum == 0:
            raise InvalidParameterError("The 'nesterov' parameter of SGD requires momentum > 0. Got momentum=0 "
                                        "instead.")
        self.nesterov = bool(nesterov)

    def _new_state(self, value):
        state = super()._new_state(value)
        if self.momentum:
            state["velocity"] = np.zeros_like(value)
        return state

    def _update(self, value, grad, state, lr):
        # The gradient buffer, still in cache from backward, is the scratch: measurably faster than a separate
        # array (benchmarks/bench_core.py), and backward overwrites it anyway.
        if not self.momentum:
            grad *= lr
            value -= grad
            return
        velocity = state["velocity"]
        velocity *= self.momentum
        velocity += grad
        step_on_velocity = lr
        if self.nesterov:
            grad *= lr
            value -= grad
            step_on_velocity = lr * self.momentum
        np.multiply(velocity, step_on_velocity, out=grad)
        value -= grad

    def layerwise_rate(self):
        """lr for plain SGD (no momentum, weight decay or clipping; the built-in rule), else None (see
        :meth:`Optimizer.layerwise_rate`)."""
        if (self.momentum or self.weight_decay or self.decoupled_weight_decay or self.clip_norm is not None
                or type(self)._update is not SGD._update):
            return None
        return self.learning_rate

    def _kernel_state(self):
        return ("velocity",) if self.momentum else ()

    def _fused_update(self, value, grad, *state_and_lr):
        cast = value.dtype.type  # numpy casts the Python-float operands of _update to the array dtype (NEP 50)
        if not self.momentum:
            _kernels().sgd_step(value, grad, cast(state_and_lr[0]))
            return
        velocity, lr = state_and_lr
        step_on_velocity = lr * self.momentum if self.nesterov else lr
        _kernels().momentum_step(value, grad, velocity, cast(self.momentum), cast(lr), self.nesterov,
                                 cast(step_on_velocity))

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class AdaGrad(Optimizer):
    """AdaGrad (Duchi et al. 2011): G <- G + g^2 (G = 0 initially);  w <- w - lr * g / (sqrt(G) + eps).

    Parameters
    ----------
    learning_rate : float
        Base learning rate lr (> 0).
    eps : float
        epsilon (> 0), added to sqrt(G).
    **kwargs
        ``weight_decay``, ``decoupled_weight_decay``, ``clip_norm``, ``schedule``: see :class:`Optimizer`.
    """

    def __init__(self, learning_rate=0.01, eps=1e-8, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.eps = float(check_number(eps, "eps", "AdaGrad", low=0, low_closed=False))

    def _new_state(self, value):
        return {**super()._new_state(value), "sum_sq": np.zeros_like(value)}

    def _update(self, value, grad, state, lr):
        tmp, sum_sq = state["tmp"], state["sum_sq"]
        np.multiply(grad, grad, out=tmp)
        sum_sq += tmp
        _adaptive_step(value, grad, sum_sq, 1.0, self.eps, lr, tmp)

    def _kernel_state(self):
        return ("sum_sq",)

    def _fused_update(self, value, grad, sum_sq, lr):
        cast = value.dtype.type
        _kernels().adagrad_step(value, grad, sum_sq, cast(self.eps), cast(lr))

    def get_config(self):
        return {**super().get_config(), "eps": self.eps}


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton 2012):

    v <- rho v + (1 - rho) g^2  (v = 0 initially);   w <- w - lr g / (sqrt(v) + eps).

    Parameters
    ----------
    learning_rate : float
        Base learning rate lr (> 0).
    rho : float
        Decay of the running mean of g^2, in [0, 1).
    eps : float
        epsilon (> 0), added to sqrt(v).
    **kwargs
        ``weight_decay``, ``decoupled_weight_decay``, ``clip_norm``, ``schedule``: see :class:`Optimizer`.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, eps=1e-8, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = float(check_number(rho, "rho", "RMSprop", low=0, high=1, high_closed=False))
        self.eps = float(check_number(eps, "eps", "RMSprop", low=0, low_closed=False))

    def _new_state(self, value):
        return {**super()._new_state(value), "mean_sq": np.zeros_like(value)}

    def _update(self, value, grad, state, lr):
        tmp, mean_sq = state["tmp"], state["mean_sq"]
        mean_sq *= self.rho
        np.multiply(grad, grad, out=tmp)
        tmp *= 1.0 - self.rho
        mean_sq += tmp
        _adaptive_step(value, grad, mean_sq, 1.0, self.eps, lr, tmp)

    def _kernel_state(self):
        return ("mean_sq",)

    def _fused_update(self, value, grad, mean_sq, lr):
        cast = value.dtype.type
        _kernels().rmsprop_step(value, grad, mean_sq, cast(self.rho), cast(1.0 - self.rho), cast(self.eps), cast(lr))

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "eps": self.eps}


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), step t = 1, 2, ...:

    m <- beta1 m + (1 - beta1) g;   v <- beta2 v + (1 - beta2) g^2   (m = v = 0 initially)
    w <- w - lr * m_hat / (sqrt(v_hat) + eps),   m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t).

    With ``decoupled_weight_decay`` > 0 this is AdamW (see :class:`AdamW`).

    Parameters
    ----------
    learning_rate : float
        Base learning rate lr (> 0).
    beta1 : float
        Decay of the first moment m, in [0, 1).
    beta2 : float
        Decay of the second moment v, in [0, 1).
    eps : float
        epsilon (> 0), added to sqrt(v_hat).
    **kwargs
        ``weight_decay``, ``decoupled_weight_decay``, ``clip_norm``, ``schedule``: see :class:`Optimizer`.
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8, **kwargs):
        super().__init__(learning_rate, **kwargs)
        owner = type(self).__name__
        self.beta1 = float(check_number(beta1, "beta1", owner, low=0, high=1, high_closed=False))
        self.beta2 = float(check_number(beta2, "beta2", owner, low=0, high=1, high_closed=False))
        self.eps = float(check_number(eps, "eps", owner, low=0, low_closed=False))

    def _new_state(self, value):
        return {**super()._new_state(value), "m": np.zeros_like(value), "v": np.zeros_like(value)}

    def _update(self, value, grad, state, lr):
        tmp, m, v = state["tmp"], state["m"], state["v"]
        m *= self.beta1
        np.multiply(grad, 1.0 - self.beta1, out=tmp)
        m += tmp
        v *= self.beta2
        np.multiply(grad, grad, out=grad)  # g^2, in the gradient buffer (scratch from here on)
        grad *= 1.0 - self.beta2
        v += grad
        # lr m_hat / (sqrt(v_hat) + eps) with m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t), written as
        # lr sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps sqrt(1 - beta2^t)): one pass fewer
        eps, step_size = self._corrected(lr)
        _adaptive_step(value, m, v, 1.0, eps, step_size, tmp)

    def _corrected(self, lr) -> tuple[float, float]:
        """eps sqrt(1 - beta2^t) and lr sqrt(1 - beta2^t) / (1 - beta1^t) for the current step t."""
        t = self.iterations
        root_correction = math.sqrt(1.0 - self.beta2**t)
        return self.eps * root_correction, lr * root_correction / (1.0 - self.beta1**t)

    def _kernel_state(self):
        return ("m", "v")

    def _fused_update(self, value, grad, m, v, lr):
        cast = value.dtype.type
        eps, step_size = self._corrected(lr)
        _kernels().adam_step(value, grad, m, v, cast(self.beta1), cast(1.0 - self.beta1), cast(self.beta2),
                             cast(1.0 - self.beta2), cast(eps), cast(step_size))

    def get_config(self):
        return {**super().get_config(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019); ``decoupled_weight_decay`` defaults to 0.01.

    Parameters
    ----------
    learning_rate : float, default 0.001
        Base learning rate lr (> 0).
    beta1 : float, default 0.9
        Decay of the first moment m, in [0, 1).
    beta2 : float, default 0.999
        Decay of the second moment v, in [0, 1).
    eps : float, default 1e-8
        epsilon (> 0), added to sqrt(v_hat).
    decoupled_weight_decay : float, default 0.01
        lambda >= 0: w <- w - lr * lambda * w each step, weights only (not biases).
    **kwargs
        ``weight_decay``, ``clip_norm``, ``schedule``: see :class:`Optimizer`.
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8, *, decoupled_weight_decay=0.01, **kwargs):
        super().__init__(learning_rate, beta1, beta2, eps, decoupled_weight_decay=decoupled_weight_decay, **kwargs)


OPTIMIZERS = {
    "sgd": SGD,
    "momentum": functools.partial(SGD, momentum=0.9),
    "nesterov": functools.partial(SGD, momentum=0.9, nesterov=True),
    "adagrad": AdaGrad,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}


def optimizer_keywords(name: str) -> tuple[str, ...]:
    """The constructor keywords of an optimizer.

    Parameters
    ----------
    name : str
        A key of ``OPTIMIZERS``: "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw".

    Returns
    -------
    tuple of str
        The keywords, sorted, the base class's included (learning_rate, weight_decay, decoupled_weight_decay,
        clip_norm, schedule) and the rule's own (e.g. "beta2").

    Raises
    ------
    InvalidParameterError
        For an unknown name.
    """
    check_choice(name, "optimizer", None, sorted(OPTIMIZERS))
    factory = OPTIMIZERS[name]
    cls = factory.func if isinstance(factory, functools.partial) else factory
    keywords = set()
    for klass in cls.__mro__:
        if issubclass(klass, Optimizer) and "__init__" in vars(klass):
            keywords.update(name for name, p in inspect.signature(klass.__init__).parameters.items()
                            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
    return tuple(sorted(keywords))


def get_optimizer(name, **kwargs) -> Optimizer:
    """Build an optimizer from its name in ``OPTIMIZERS``; keyword arguments override the defaults.

    Parameters
    ----------
    name : str or Optimizer
        A key of ``OPTIMIZERS`` ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"); an
        ``Optimizer`` instance is returned unchanged (keyword arguments are then not allowed).
    **kwargs
        Constructor keywords of that optimizer (see :func:`optimizer_keywords`).

    Returns
    -------
    Optimizer
        A new optimizer, or ``name`` itself if it is one.

    Raises
    ------
    InvalidParameterError
        For an unknown name or a keyword the optimizer does not take (naming the allowed ones).
    """
    if isinstance(name, Optimizer):
        if kwargs:
            raise InvalidParameterError(f"get_optimizer got an Optimizer instance and keyword arguments "
                                        f"{sorted(kwargs)}.")
        return name
    check_choice(name, "optimizer", None, sorted(OPTIMIZERS))
    allowed = optimizer_keywords(name)
    for key in kwargs:
        if key not in allowed:
            raise InvalidParameterError(f"The {name!r} optimizer takes no parameter {key!r}; its parameters are "
                                        f"{', '.join(map(repr, allowed))}.")
    return OPTIMIZERS[name](**kwargs)
