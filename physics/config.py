"""Configuration schemas: one dataclass per swappable part, registered in Hydra's ConfigStore.

Each YAML file in ``conf/`` opens with a defaults list naming its schema (``/schema/task/fit@_here_``), so
Hydra type-checks every key at composition: a misspelled key or a wrong type fails before any work. Value
rules (a positive learning rate, a fraction in (0, 1), an image file that exists, ...) live in each schema's
``__post_init__`` and run in :func:`validate`, which turns the composed ``DictConfig`` into these dataclasses
before any data is made. Errors are :class:`ConfigError` and name the full key, the allowed values and what
was given.

Task schemas for the Ising and materials tasks live next to their tasks (``physics/tasks/*_config.py``) and
are registered by :func:`register_configs` too.
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

ACTIVATION_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "identity")
INIT_NAMES = ("glorot", "he", "lecun")
DTYPE_NAMES = ("float32", "float64")
OPTIMIZER_NAMES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
SCHEDULE_NAMES = ("constant", "step", "exponential", "cosine")
PADDING_NAMES = ("zero", "valid", "periodic")
POOL_NAMES = ("max", "avg")


class ConfigError(ValueError):
    """An invalid configuration value. ``key`` is the dotted path of the offending key."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"Invalid config value for '{key}': {message}")

    def under(self, prefix: str) -> "ConfigError":
        """The same error with ``prefix.`` put in front of its key."""
        return ConfigError(f"{prefix}.{self.key}", self.message)


def check_choice(key: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        raise ConfigError(key, f"must be one of {', '.join(map(repr, allowed))}. Got {value!r} instead.")


def check_range(key: str, value: float, low: float | None = None, high: float | None = None, *,
                low_open: bool = False, high_open: bool = False) -> None:
    """Check ``low <= value <= high`` (or strict where ``*_open``); ``None`` means unbounded."""
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high or value != value:  # value != value catches NaN
        left = "(" if low_open or low is None else "["
        right = ")" if high_open or high is None else "]"
        interval = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
        raise ConfigError(key, f"must be in {interval}. Got {value!r} instead.")


def _widths(key: str, value: Any) -> List[int]:
    """A list of layer widths from an int or a list of ints."""
    widths = [value] if isinstance(value, int) else value
    if not isinstance(widths, (list, tuple)) or not all(isinstance(w, int) and not isinstance(w, bool)
                                                         for w in widths):
        raise ConfigError(key, f"must be an integer or a list of integers. Got {value!r} instead.")
    return list(widths)


def _check_network_keys(model) -> None:
    """Checks shared by every model schema: activation, dropout, init, dtype."""
    check_choice("activation", model.activation, ACTIVATION_NAMES)
    check_range("dropout", model.dropout, 0.0, 1.0, high_open=True)
    if model.init is not None:
        check_choice("init", model.init, INIT_NAMES)
    check_choice("dtype", model.dtype, DTYPE_NAMES)


# ----------------------------------------------------------------------------------------------- models
@dataclass
class MLPConfig:
    """A fully connected network: Dense -> activation (-> Dropout) blocks, then a linear output layer."""

    name: str = "mlp"
    # widths of the hidden layers; one integer means one hidden layer (as scikit-learn's hidden_layer_sizes),
    # so that `model.hidden=32,64` sweeps one-layer widths and `model.hidden=[32,32]` sets two layers
    hidden: Any = field(default_factory=lambda: [64, 64])
    activation: str = "relu"
    dropout: float = 0.0  # dropout rate after each hidden block; 0 disables it
    init: Optional[str] = None  # None: He for ReLU-like activations, Glorot otherwise
    dtype: str = "float32"

    def __post_init__(self) -> None:
        check_choice("name", self.name, ("mlp",))
        self.hidden = _widths("hidden", self.hidden)
        for i, width in enumerate(self.hidden):
            check_range(f"hidden[{i}]", width, 1)
        _check_network_keys(self)


@dataclass
class CNNConfig:
    """Conv2D blocks (optionally pooled) -> global average pool or flatten -> hidden Dense -> output.

    Only meaningful for inputs that are images/lattices, shape (batch, 1, L, L).
    """

    name: str = "cnn"
    channels: List[int] = field(default_factory=lambda: [16])  # output channels of each Conv2D
    kernel_size: int = 3
    padding: str = "periodic"  # lattice configurations live on a torus
    pool: Optional[str] = None  # 2x2 pooling between conv blocks: None, "max" or "avg"
    global_pool: bool = True  # translation-invariant readout
    hidden: List[int] = field(default_factory=list)
    activation: str = "relu"
    dropout: float = 0.0
    init: Optional[str] = None
    dtype: str = "float32"

    def __post_init__(self) -> None:
        check_choice("name", self.name, ("cnn",))
        if not self.channels:
            raise ConfigError("channels", "must list at least one Conv2D layer. Got [] instead.")
        for i, width in enumerate(list(self.channels) + list(self.hidden)):
            check_range("channels" if i < len(self.channels) else "hidden", width, 1)
        check_range("kernel_size", self.kernel_size, 1)
        check_choice("padding", self.padding, PADDING_NAMES)
        if self.pool is not None:
            check_choice("pool", self.pool, POOL_NAMES)
        _check_network_keys(self)


# -------------------------------------------------------------------------------------------- optimizer
@dataclass
class OptimizerConfig:
    """Optimizer, learning-rate schedule and gradient clipping. Keys unused by an optimizer are ignored."""

    name: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0  # SGD family
    nesterov: bool = False
    rho: float = 0.9  # RMSprop decay of the squared-gradient average
    beta1: float = 0.9  # Adam
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0  # L2 penalty added to the gradient of weights (not biases)
    decoupled_weight_decay: float = 0.0  # AdamW-style shrinkage, w -= lr * wd * w
    clip_norm: Optional[float] = None  # clip the global gradient norm to this value
    schedule: str = "constant"
    step_size: int = 30  # step schedule: multiply by gamma every step_size epochs
    gamma: float = 0.1  # step and exponential schedules
    min_factor: float = 0.0  # cosine schedule: final lr / initial lr

    def __post_init__(self) -> None:
        check_choice("name", self.name, OPTIMIZER_NAMES)
        check_range("lr", self.lr, 0.0, low_open=True)
        check_range("momentum", self.momentum, 0.0, 1.0, high_open=True)
        check_range("rho", self.rho, 0.0, 1.0, high_open=True)
        check_range("beta1", self.beta1, 0.0, 1.0, high_open=True)
        check_range("beta2", self.beta2, 0.0, 1.0, high_open=True)
        check_range("eps", self.eps, 0.0, low_open=True)
        check_range("weight_decay", self.weight_decay, 0.0)
        check_range("decoupled_weight_decay", self.decoupled_weight_decay, 0.0)
        if self.clip_norm is not None:
            check_range("clip_norm", self.clip_norm, 0.0, low_open=True)
        check_choice("schedule", self.schedule, SCHEDULE_NAMES)
        check_range("step_size", self.step_size, 1)
        check_range("gamma", self.gamma, 0.0, 1.0, low_open=True)
        check_range("min_factor", self.min_factor, 0.0, 1.0)


# ------------------------------------------------------------------------------------------------ tasks
@dataclass
class TrainingConfig:
    """Training-loop settings shared by every task that trains the numpy network."""

    epochs: int = 200
    batch_size: int = 32
    validation_fraction: float = 0.1  # of the training set, for the loss curve and early stopping
    early_stopping: bool = True
    patience: int = 20  # epochs without validation improvement before stopping
    # BLAS threads while the task runs (null: the library's default). One is fastest for minibatch training
    # of small networks on a few cores: threads pay a synchronisation per product that small products never earn.
    blas_threads: Optional[int] = 1

    def __post_init__(self) -> None:
        check_range("epochs", self.epochs, 1)
        if self.blas_threads is not None:
            check_range("blas_threads", self.blas_threads, 1)
        check_range("batch_size", self.batch_size, 1)
        check_range("validation_fraction", self.validation_fraction, 0.0, 1.0, low_open=True, high_open=True)
        check_range("patience", self.patience, 1)


FIT_TARGETS_1D = ("sine", "lorentzian", "step", "damped_oscillation")
FIT_TARGETS_2D = ("gaussian_abs", "gaussians")
FIT_TARGETS_IMAGE = ("smiley", "image")
FIT_TARGETS = FIT_TARGETS_1D + FIT_TARGETS_2D + FIT_TARGETS_IMAGE


@dataclass
class FitTaskConfig(TrainingConfig):
    """``task=fit``: learn y = f(x) from noisy samples (1D curve, 2D function or an image's brightness)."""

    name: str = "fit"
    target: str = "gaussian_abs"
    n_samples: int = 2000  # samples drawn uniformly in the domain (images: pixels sampled from the grid)
    noise: float = 0.02  # standard deviation of the Gaussian noise added to training targets
    test_fraction: float = 0.25
    image_path: Optional[str] = None  # PNG/JPEG for target=image (converted to grey levels in [0, 1])
    image_size: int = 64  # images are resampled to image_size x image_size pixels

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("name", self.name, ("fit",))
        check_choice("target", self.target, FIT_TARGETS)
        check_range("n_samples", self.n_samples, 10)
        check_range("noise", self.noise, 0.0)
        check_range("test_fraction", self.test_fraction, 0.0, 1.0, low_open=True, high_open=True)
        check_range("image_size", self.image_size, 8)
        if self.target == "image":
            from physics.functions import check_image_path

            check_image_path("image_path", self.image_path)


# ------------------------------------------------------------------------------------------------- root
@dataclass
class AppConfig:
    """The root config. ``task``, ``model`` and ``optimizer`` are checked by their own group schemas."""

    task: Any = None
    model: Any = None
    optimizer: Any = None
    baseline: Dict[str, Any] = field(default_factory=dict)  # name -> {_target_: sklearn class, **params}
    seed: int = 0  # the one seed every random stream derives from
    progress: bool = True  # tqdm progress bars
    data_dir: str = "~/.cache/ml4phys"  # cache of generated datasets (Monte Carlo); ~ is expanded


#: group -> {option name -> schema}; the YAML files pick theirs with ``- /schema/<group>/<name>@_here_``.
SCHEMAS: Dict[str, Dict[str, type]] = {
    "model": {"mlp": MLPConfig, "cnn": CNNConfig},
    "optimizer": {"optimizer": OptimizerConfig},
    "task": {"fit": FitTaskConfig},
}
#: task name -> module path of the task's ``run_task(config, run_dir) -> dict``
TASK_MODULES: Dict[str, str] = {"fit": "physics.tasks.fit"}


def register_task(name: str, schema: type, module: str) -> None:
    """Make a task known: its schema (for composition and validation) and the module that runs it."""
    SCHEMAS["task"][name] = schema
    TASK_MODULES[name] = module


def _register_builtin_tasks() -> None:
    for module in ("physics.tasks.ising_config", "physics.tasks.materials_config"):
        try:
            importlib.import_module(module).register()
        except ModuleNotFoundError as error:
            if error.name != module:  # the task exists but is broken: say so
                raise


def register_configs() -> None:
    """Store every schema in Hydra's ConfigStore (call before composing)."""
    _register_builtin_tasks()
    store = ConfigStore.instance()
    store.store(name="app_schema", node=AppConfig)
    for group, options in SCHEMAS.items():
        for name, schema in options.items():
            store.store(group=f"schema/{group}", name=name, node=schema)


def _to_dataclass(node: Any, schema: type, key: str) -> Any:
    try:
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), node))
    except ConfigError as error:
        raise error.under(key) from None


def validate(cfg: DictConfig) -> AppConfig:
    """Check every value of a composed config and return it as typed dataclasses.

    Raises ConfigError naming the key, before any work starts.
    """
    task_name = cfg.task.get("name")
    if task_name not in SCHEMAS["task"]:
        raise ConfigError("task.name", f"must be one of {', '.join(map(repr, SCHEMAS['task']))}. "
                                       f"Got {task_name!r} instead.")
    model_name = cfg.model.get("name")
    if model_name not in SCHEMAS["model"]:
        raise ConfigError("model.name", f"must be one of {', '.join(map(repr, SCHEMAS['model']))}. "
                                        f"Got {model_name!r} instead.")
    app = AppConfig(
        task=_to_dataclass(cfg.task, SCHEMAS["task"][task_name], "task"),
        model=_to_dataclass(cfg.model, SCHEMAS["model"][model_name], "model"),
        optimizer=_to_dataclass(cfg.optimizer, OptimizerConfig, "optimizer"),
        baseline=OmegaConf.to_container(cfg.baseline, resolve=True),
        seed=cfg.seed, progress=cfg.progress, data_dir=os.path.expanduser(cfg.data_dir),
    )
    check_range("seed", app.seed, 0)
    _check_baselines(app.baseline)
    return app


def _check_baselines(baselines: Dict[str, Any]) -> None:
    """Every baseline must name an importable class with ``_target_``; its params are checked at fit time."""
    for name, spec in baselines.items():
        target = spec.get("_target_") if isinstance(spec, dict) else None
        if not isinstance(target, str) or "." not in target:
            raise ConfigError(f"baseline.{name}._target_",
                              f"must be the dotted path of an estimator class. Got {target!r} instead.")
        module_name, _, attribute = target.rpartition(".")
        try:
            getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError):
            raise ConfigError(f"baseline.{name}._target_",
                              f"cannot import {target!r}; give a scikit-learn estimator class.") from None

