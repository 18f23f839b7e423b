"""Config schemas: dataclasses whose defaults ARE the defaults, with their constraints declared as data.

Every field of a schema is made with :func:`param`, which stores a one-line ``help`` text and the allowed values
(``choices``, a tuple or a function returning the keys of a ``core`` registry; ``low``/``high`` bounds) in the
field's metadata. :meth:`Schema.validate` checks every field against them, recursing into nested schemas, then
calls :meth:`Schema.check` for the rules that tie several fields together. The same metadata generate
``--help`` (:mod:`physics.app.help`). Errors are :class:`ConfigError`, naming the full dotted key, what was
given and what is allowed.
"""
from __future__ import annotations

import dataclasses
from dataclasses import MISSING, dataclass, field
from typing import Any, Callable, ClassVar, Iterable, Optional

from core._validation import Interval, InvalidParameterError, Options


class ConfigError(InvalidParameterError):
    """An invalid configuration value. A ValueError and a TypeError.

    Parameters
    ----------
    key : str
        The value's dotted path (``task.L``); kept as ``key``.
    message : str
        What is wrong, and what is allowed; kept as ``message``.
    """

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"Invalid config value for '{key}': {message}")

    def under(self, prefix: str) -> "ConfigError":
        """The same error with ``prefix.`` put in front of its key.

        Parameters
        ----------
        prefix : str
            The dotted path of the enclosing group; "" leaves the key unchanged.

        Returns
        -------
        ConfigError
            A new error.
        """
        return ConfigError(f"{prefix}.{self.key}" if prefix else self.key, self.message)


def param(default: Any = MISSING, *, help: str, choices: Iterable | Callable[[], Iterable] | None = None,
          low: float | None = None, high: float | None = None, low_open: bool = False, high_open: bool = False,
          integer: bool | None = None, factory: Callable[[], Any] | None = None) -> Any:
    """A schema field with its help text and constraints.

    Parameters
    ----------
    default : object
        The default value (immutable); use ``factory`` for lists and dicts. Omitted: the field is required.
    help : str
        One line for ``--help``.
    choices : iterable, callable or None, default None
        The allowed values, or a function returning them (e.g. ``lambda: core.optim.OPTIMIZERS``, read when
        checked, so the registry stays the one source of truth); for a list-valued field every element must be one
        of them.
    low : float or None, default None
        Lower bound of a number (of every element of a list of numbers); None is unbounded.
    high : float or None, default None
        Upper bound, as ``low``.
    low_open : bool, default False
        Whether the lower bound itself is excluded.
    high_open : bool, default False
        Whether the upper bound itself is excluded.
    integer : bool or None, default None
        Whether the bounded numbers must be integers (None: when the type says ``int``).
    factory : callable or None, default None
        Builds a mutable default.

    Returns
    -------
    dataclasses.Field
        The field, its constraints in ``metadata``.

    Notes
    -----
    ``None`` is accepted for a field typed ``Optional[...]`` or whose default is ``None`` (an optional setting).
    """
    metadata = {"help": help, "choices": choices, "low": low, "high": high, "low_open": low_open,
                "high_open": high_open, "integer": integer}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def allowed_values(spec: dataclasses.Field) -> tuple | None:
    """The ``choices`` of a field as a tuple (registry functions evaluated), or None.

    Parameters
    ----------
    spec : dataclasses.Field
        A field made by :func:`param`.

    Returns
    -------
    tuple or None
        The allowed values, or None when the field has no choices.
    """
    choices = spec.metadata.get("choices")
    if choices is None:
        return None
    return tuple(choices() if callable(choices) else choices)


def interval(spec: dataclasses.Field) -> Interval | None:
    """The bounds of a field as :class:`core._validation.Interval` (``str()``: ``a float in [0, inf)``), or None.

    Parameters
    ----------
    spec : dataclasses.Field
        A field made by :func:`param`.

    Returns
    -------
    Interval or None
        None when the field has neither bound.
    """
    low, high = spec.metadata.get("low"), spec.metadata.get("high")
    if low is None and high is None:
        return None
    integer = spec.metadata.get("integer")
    if integer is None:
        integer = "int" in str(spec.type) and "float" not in str(spec.type)
    return Interval(low, high, low_closed=not spec.metadata.get("low_open"),
                    high_closed=not spec.metadata.get("high_open"), integer=integer)


def _default_of(spec: dataclasses.Field) -> Any:
    if spec.default is not MISSING:
        return spec.default
    if spec.default_factory is not MISSING:
        return spec.default_factory()
    return MISSING


def _optional(spec: dataclasses.Field) -> bool:
    """Whether ``None`` is a valid value: the type says Optional, or the default is None."""
    return "Optional" in str(spec.type) or "None" in str(spec.type) or _default_of(spec) is None


def _check_field(spec: dataclasses.Field, value: Any, key: str) -> None:
    """``value`` (each element of a list) against the field's ``choices`` and bounds, with core's checks."""
    if value is None and _optional(spec):
        return
    values = value if isinstance(value, (list, tuple)) else [value]
    choices = allowed_values(spec)
    if choices is not None:
        options = Options(choices)
        for item in values:
            if not options.is_satisfied_by(item):
                raise ConfigError(key, f"must be one of {', '.join(map(repr, choices))}. Got {item!r} instead.")
    bounds = interval(spec)
    for item in values if bounds is not None else ():
        if not bounds.is_satisfied_by(item):
            raise ConfigError(key, f"must be {bounds}. Got {item!r} instead.")


@dataclass
class Schema:
    """Base class of every config node. Subclasses declare fields with :func:`param` and may override
    :meth:`check` for rules across fields (raising :class:`ConfigError` with keys relative to the node)."""

    def validate(self, prefix: str = "") -> "Schema":
        """Check every field (nested schemas included), then :meth:`check`; return ``self``.

        Parameters
        ----------
        prefix : str, default ""
            The dotted path of this node (e.g. "task"), put in front of the keys of the errors.

        Returns
        -------
        Schema
            self.

        Raises
        ------
        ConfigError
            Whose key starts with ``prefix``.
        """
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            key = f"{prefix}.{spec.name}" if prefix else spec.name
            if isinstance(value, Schema):
                value.validate(key)
            else:
                _check_field(spec, value, key)
        try:
            self.check()
        except ConfigError as error:
            raise error.under(prefix) from None
        return self

    def check(self) -> None:
        """Rules across fields; keys relative to this node. Nothing by default."""


@dataclass
class TrainerConfig(Schema):
    """How every network of a task is trained (the ``trainer`` node)."""

    epochs: int = param(200, help="maximum passes over the training set", low=1)
    batch_size: int = param(32, help="samples per gradient step", low=1)
    validation_fraction: float = param(0.1, help="share of the training set held out for early stopping",
                                       low=0.0, high=1.0, low_open=True, high_open=True)
    early_stopping: bool = param(True, help="stop when the validation loss has not improved for `patience` "
                                            "epochs and keep the best epoch's weights")
    patience: int = param(20, help="epochs without validation improvement before stopping", low=1)
    # small products never earn a second thread's synchronisation (benchmarks/bench_core.py --threads)
    blas_threads: Optional[int] = param(1, help="BLAS threads while the task runs (null: the library's default)",
                                        low=1)


@dataclass
class TaskConfig(Schema):
    """Base of every task schema (the ``task`` node).

    Class attributes a task sets: ``MODELS``, the model kinds it supports (``model.name`` values), checked once
    at validation; ``VALIDATION_OBJECTIVES``, its objectives that need the validation set.
    """

    MODELS: ClassVar[tuple[str, ...]] = ("mlp",)
    #: values of ``task.objective`` measured on the validation set, which only ``trainer.early_stopping`` holds out
    VALIDATION_OBJECTIVES: ClassVar[tuple[str, ...]] = ()

    name: str = param(MISSING, help="the task (a key of physics.tasks.TASKS)")

    def check_with(self, config: "AppConfig") -> None:
        """Rules that need other nodes (the model, the baselines); raise ConfigError with FULL keys.

        Subclasses that override it call ``super().check_with(config)``.
        """
        objective = getattr(self, "objective", None)
        if objective in self.VALIDATION_OBJECTIVES and not config.trainer.early_stopping:
            raise ConfigError("task.objective", f"{objective} needs a validation set, which is held out only with "
                                                "trainer.early_stopping=true; set it, or choose another "
                                                "task.objective.")


@dataclass
class FiguresConfig(Schema):
    """How every figure of a run is written (the ``figures`` node; :func:`physics.app.plots.figure_settings`)."""

    format: str = param("png", help="file format of every figure: png, or pdf / svg (vector) for papers and "
                                    "slides", choices=("png", "pdf", "svg"))
    # beyond 10x the text of the suite's figures no longer fits them
    scale: float = param(1.0, help="factor on font sizes and line widths (e.g. 1.5 for slides)", low=0.0,
                         high=10.0, low_open=True)
    # 50 inches at the style's 150 dpi is a 7500-pixel side, about 225 MB of RGBA while drawing
    size: Optional[list[float]] = param(None, help="[width, height] of every figure in inches, replacing each "
                                                   "figure's own size (null: keep them)", low=0.0, high=50.0,
                                        low_open=True)

    def check(self) -> None:
        if self.size is not None and len(self.size) != 2:
            raise ConfigError("size", f"must be null or [width, height] in inches. Got {list(self.size)!r} "
                                      f"instead.")


#: joblib backends ``parallel.backend`` may name (physics/app/parallel.py)
JOBLIB_BACKENDS = ("loky", "threading", "dask")


@dataclass
class ParallelConfig(Schema):
    """How every joblib loop of a job runs (the ``parallel`` node; :mod:`physics.app.parallel`)."""

    backend: str = param("loky", help="joblib backend of the Monte Carlo and every other joblib loop: loky "
                                      "(processes), threading, dask (needs the dask extra)", choices=JOBLIB_BACKENDS)
    n_jobs: Optional[int] = param(None, help="workers of each joblib loop (null: every CPU of the machine or of the "
                                             "SLURM allocation; negative: joblib style); a task's n_jobs wins")
    scheduler_address: Optional[str] = param(None, help="backend=dask: address of a running dask scheduler "
                                                        "(null: a local cluster of n_jobs worker processes)")

    def check(self) -> None:
        if self.n_jobs == 0:
            raise ConfigError("n_jobs", "must be null, a positive count or negative (joblib style). Got 0 instead.")
        if self.scheduler_address is not None and self.backend != "dask":
            raise ConfigError("scheduler_address", f"is used by backend=dask only. Got backend={self.backend}.")
        if self.backend == "dask":
            import importlib.util

            if importlib.util.find_spec("dask") is None or importlib.util.find_spec("distributed") is None:
                raise ConfigError("backend", "dask needs dask and dask.distributed, which are not installed: "
                                             "pip install 'ml4phys[dask]' (or choose loky or threading).")


@dataclass
class DataConfig(Schema):
    """The Monte Carlo cache in ``data_dir`` (the ``data`` node; :mod:`physics.app.cluster`)."""

    cache: str = param("generate", help="generate: a missing cache file is generated; read: it is an error naming "
                                        "the command that generates it (training jobs on a shared cache)",
                       choices=("generate", "read"))
    size: Optional[int] = param(None, help="stage=data: only this lattice size of the task (null: every size)",
                                low=2)
    part: Optional[int] = param(None, help="stage=data: only part `part` (0 .. parts-1) of each temperature list "
                                           "(null: all of it)", low=0)
    parts: int = param(1, help="stage=data: the temperature lists are cut into this many parts", low=1)

    def check(self) -> None:
        if self.part is not None and self.part >= self.parts:
            raise ConfigError("part", f"must be below data.parts = {self.parts}. Got {self.part} instead.")


@dataclass
class LocalConfig(Schema):
    """Site settings (the ``local`` node; conf/local/default.yaml when present, see conf/local/example.yaml)."""

    account: Optional[str] = param(None, help="SLURM account charged (sbatch --account; null: your default)")
    partition: Optional[str] = param(None, help="SLURM partition (null: the cluster's default)")
    qos: Optional[str] = param(None, help="SLURM quality of service (null: the default)")
    constraint: Optional[str] = param(None, help="SLURM node features (sbatch --constraint; null: any node)")
    cpus_per_task: int = param(1, help="CPUs of a SLURM job whose parallel.n_jobs (task.n_jobs) is null", low=1)
    setup: list[str] = param(help="shell lines run before each SLURM job (modules, environments, umask)",
                             factory=list)


#: experiment trackers ``logger.name`` may name -> the package each needs (physics/app/tracking.py)
LOGGERS = {"csv": None, "mlflow": "mlflow", "tensorboard": "tensorboardX"}


@dataclass
class LoggerConfig(Schema):
    """Where a run's config, per-epoch curves, metrics and figures are logged (the ``logger`` node; conf/logger/,
    :mod:`physics.app.tracking`)."""

    name: str = param("csv", help="csv: the files of the run folder only (every network's epochs in epochs.csv); "
                                  "mlflow: also an MLflow run; tensorboard: also TensorBoard event files in "
                                  "<run folder>/tensorboard", choices=tuple(LOGGERS))
    tracking_uri: Optional[str] = param(None, help="logger=mlflow: the tracking URI or a folder (null: a file store "
                                                   "mlruns/ in the run folder, or in the sweep folder for a sweep)")
    experiment: Optional[str] = param(None, help="logger=mlflow: the experiment's name (null: the task's name)")

    def check(self) -> None:
        import importlib.util

        package = LOGGERS[self.name]
        if package is not None and importlib.util.find_spec(package) is None:
            raise ConfigError("name", f"logger={self.name} needs the package {package}, which is not installed: "
                                      f"pip install -e \".[tracking]\" (or pip install 'ml4phys[tracking]'), or "
                                      f"choose logger=csv.")


@dataclass
class AppConfig:
    """The root config: one node per group (typed by its own schema once validated), plus run-wide settings.

    Stored as the root schema (``app_schema``) of ``conf/config.yaml``; :func:`physics.app.config.validate`
    returns one with every node converted to its dataclass.
    """

    task: Any = None
    model: Any = None
    optimizer: Any = None
    schedule: Any = None
    trainer: Any = None
    baseline: dict = field(default_factory=dict)  # name -> {_target_: estimator class, **params}
    seed: int = 0
    progress: bool = True
    data_dir: str = "~/.cache/ml4phys"
    figures: FiguresConfig = field(default_factory=FiguresConfig)
    stage: str = "train"  # train: run the task; data: only generate its Monte Carlo data (ml4phys data ...)
    data: DataConfig = field(default_factory=DataConfig)
    parallel: ParallelConfig = field(default_factory=ParallelConfig)
    local: LocalConfig = field(default_factory=LocalConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
