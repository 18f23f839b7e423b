"""From a composed Hydra config to typed, checked dataclasses: the schemas in the ConfigStore, strict validation.

:func:`register_configs` stores every schema (``schema/<group>/<name>``, the ``trainer`` and the root) and each
task's debug settings (``debug/task/tiny_<task>``) in Hydra's ConfigStore; the YAML files of ``conf/`` name
their schema in their defaults list and hold only what differs from it. :func:`validate` refuses any key that
is not in a schema (also one added with a leading ``+``), converts every node to its dataclass, checks every
value, and checks that the task supports the chosen model, all before any work. :func:`compose` does Hydra's
composition and the validation in one call, for notebooks and scripts.
"""
from __future__ import annotations

import dataclasses
import difflib
import os
import re
import sys
from pathlib import Path
from typing import Any, Iterator, Sequence

import yaml
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from physics.app.baselines import check_specs
from physics.app.networks import SCHEMAS, schema_for
from physics.app.schema import (AppConfig, ConfigError, DataConfig, FiguresConfig, LocalConfig, ParallelConfig, Schema,
                                TaskConfig, TrainerConfig)
from physics.app.schema import LoggerConfig
from physics.tasks import TASKS, task_package

#: the configs travel inside the package; the clone's top-level ``conf`` is a link to this folder
CONF_DIR = Path(__file__).resolve().parents[1] / "conf"
#: the nodes of the root config that have a schema, in the order of the defaults list
GROUPS = ("model", "optimizer", "schedule", "trainer", "task")


ROOT_HELP = {"seed": "the one seed every random stream derives from",
             "progress": "progress bars (shown on a terminal only)",
             "data_dir": "cache of generated data (Monte Carlo), shared by all runs; ~ is expanded",
             "stage": "train: run the task; data: only generate its Monte Carlo data into data_dir (ml4phys data)"}


def register_configs() -> None:
    """Store every schema and every task's debug settings in Hydra's ConfigStore (call before composing)."""
    from physics.app.cluster import register_resolvers

    register_resolvers()  # ${ml4phys_cpus:} and ${ml4phys_setup:} of conf/hydra/launcher/slurm.yaml
    store = ConfigStore.instance()
    store.store(name="app_schema", node=AppConfig)
    store.store(group="schema", name="trainer", node=TrainerConfig)
    for group, options in SCHEMAS.items():
        for name, schema in options.items():
            store.store(group=f"schema/{group}", name=name, node=schema)
    for name in TASKS:
        package = task_package(name)
        store.store(group="schema/task", name=name, node=package.Config)
        store.store(group="debug/task", name=f"tiny_{name}", node=getattr(package, "DEBUG", {}), package="_global_")


def _schemas(cfg: DictConfig) -> dict[str, type]:
    """The schema of each group node of ``cfg``, chosen by the node's ``name``."""
    task_name = cfg.task.get("name") if isinstance(cfg.get("task"), DictConfig) else None
    if task_name not in TASKS:
        raise ConfigError("task", f"must be one of {', '.join(map(repr, TASKS))}. Got {task_name!r} instead.")
    schemas = {"task": task_package(task_name).Config, "trainer": TrainerConfig}
    for group in ("model", "optimizer", "schedule"):
        name = cfg[group].get("name") if isinstance(cfg.get(group), DictConfig) else None
        schema = schema_for(group, name)
        if schema is None:
            names = sorted(SCHEMAS[group]) if group != "optimizer" else sorted(
                {n for cls in SCHEMAS["optimizer"].values() for n in cls.NAMES})
            raise ConfigError(f"{group}.name", f"must be one of {', '.join(map(repr, names))}. Got {name!r} instead.")
        schemas[group] = schema
    return schemas


def _nested_schema(schema: type, name: str) -> type | None:
    """The schema of field ``name`` when that field is itself a schema, else None."""
    spec = {f.name: f for f in dataclasses.fields(schema)}[name]
    factory = spec.default_factory
    if factory is not dataclasses.MISSING and isinstance(factory, type) and issubclass(factory, Schema):
        return factory
    return None


def valid_keys(schema: type, prefix: str) -> Iterator[str]:
    """Every dotted key of ``schema`` (nested schemas expanded)."""
    for spec in dataclasses.fields(schema):
        nested = _nested_schema(schema, spec.name)
        yield from valid_keys(nested, f"{prefix}.{spec.name}") if nested else (f"{prefix}.{spec.name}",)


def _suggestion(key: str, candidates: Sequence[str]) -> str:
    """' Did you mean ...?' naming the valid key whose last part is closest to ``key``'s, or ''."""
    leaf = key.rsplit(".", 1)[-1]
    by_leaf = {candidate.rsplit(".", 1)[-1]: candidate for candidate in reversed(candidates)}
    match = difflib.get_close_matches(leaf, list(by_leaf), n=1, cutoff=0.75)
    return f" Did you mean '{by_leaf[match[0]]}'?" if match else ""


def _elsewhere(group: str, key: str) -> str:
    """' It is a key of optimizer=sgd, momentum, nesterov.' when another option of the group has ``key``."""
    owners = [", ".join(getattr(cls, "NAMES", ())) or name for name, cls in SCHEMAS.get(group, {}).items()
              if key in {spec.name for spec in dataclasses.fields(cls)}]
    return f" It is a key of {group}={', '.join(owners)}." if owners else ""


def _check_keys(node: DictConfig, schema: type, prefix: str, candidates: Sequence[str], option: str) -> None:
    """Refuse every key of ``node`` that ``schema`` does not declare (recursing into nested schemas)."""
    names = [spec.name for spec in dataclasses.fields(schema)]
    for key in node.keys():
        if key not in names:
            value = OmegaConf.to_container(node, resolve=False)[key]
            hint = _elsewhere(prefix, key) or _suggestion(f"{prefix}.{key}", candidates)
            raise ConfigError(f"{prefix}.{key}", f"{option} has no key {key!r} (given {value!r}).{hint} "
                                                 f"Its keys: {', '.join(names)}.")
        nested = _nested_schema(schema, key)
        if nested and isinstance(node[key], DictConfig):
            _check_keys(node[key], nested, f"{prefix}.{key}", candidates, f"{option} {key}")


def _typed(node: DictConfig, schema: type, prefix: str) -> Any:
    """``node`` as an instance of ``schema``, every value checked."""
    try:
        instance = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), node))
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", None) or ""
        message = str(error).splitlines()[0]
        raise ConfigError(f"{prefix}.{key}" if key else prefix, message) from None
    return instance.validate(prefix)


def validate(cfg: DictConfig) -> AppConfig:
    """Check every key and value of a composed config; return it as typed dataclasses.

    Raises ConfigError (a ValueError and a TypeError) naming the key, what was given and what is allowed,
    before any work starts.
    """
    schemas = _schemas(cfg)
    root_keys = [spec.name for spec in dataclasses.fields(AppConfig)]
    candidates = root_keys + [key for group in GROUPS for key in valid_keys(schemas[group], group)]
    for key in cfg.keys():
        if key not in root_keys and key != "hydra":
            raise ConfigError(str(key), f"is not a key of the config.{_suggestion(str(key), candidates)} "
                                        f"Top-level keys: {', '.join(root_keys)}.")
    typed = {}
    for group in GROUPS:
        option = f"{group}={cfg[group].get('name', '?')}" if group != "trainer" else "the trainer"
        _check_keys(cfg[group], schemas[group], group, candidates, option)
        typed[group] = _typed(cfg[group], schemas[group], group)
    baseline = OmegaConf.to_container(cfg.baseline, resolve=True) if cfg.get("baseline") is not None else {}
    baseline = {name: spec for name, spec in baseline.items() if spec is not None}  # `baseline.<name>=null` drops it
    app = AppConfig(**typed, baseline=baseline, seed=cfg.seed, progress=bool(cfg.progress) and sys.stderr.isatty(),
                    data_dir=os.path.expanduser(str(cfg.data_dir)), figures=figures_config(cfg),
                    stage=cfg.get("stage", "train"), data=root_node(cfg, "data", DataConfig),
                    parallel=root_node(cfg, "parallel", ParallelConfig), local=root_node(cfg, "local", LocalConfig),
                    logger=root_node(cfg, "logger", LoggerConfig))
    if isinstance(app.seed, bool) or not isinstance(app.seed, int) or app.seed < 0:
        raise ConfigError("seed", f"must be a non-negative integer. Got {app.seed!r} instead.")
    check_specs(app.baseline)
    from physics.app.cluster import check_stage

    check_stage(app)  # stage=data: a task with Monte Carlo data, data.size one of its sizes
    _check_model_supported(app.task, app.model)
    app.task.check_with(app)
    return app


def figures_config(cfg: DictConfig) -> FiguresConfig:
    """The ``figures`` node of ``cfg`` as a checked :class:`FiguresConfig` (the defaults when it is absent).

    Raises ConfigError naming the key (``figures.scale``), what was given and what is allowed.
    """
    node = cfg.get("figures")
    names = [spec.name for spec in dataclasses.fields(FiguresConfig)]
    for key in node.keys() if isinstance(node, DictConfig) else ():
        if key not in names:
            raise ConfigError(f"figures.{key}", f"figures has no key {key!r} (given "
                                                f"{OmegaConf.select(node, str(key), throw_on_missing=False)!r}). "
                                                f"Its keys: {', '.join(names)}.")
    try:
        typed = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(FiguresConfig), node or {}))
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", None) or ""
        raise ConfigError(f"figures.{key}" if key else "figures", str(error).splitlines()[0]) from None
    return typed.validate("figures")


def root_node(cfg: DictConfig, name: str, schema: type) -> Schema:
    """The root node ``name`` of ``cfg`` as a checked ``schema`` instance (its defaults when the node is absent).

    Raises ConfigError naming the key (``parallel.backend``), what was given and what is allowed.
    """
    node = cfg.get(name)
    names = [spec.name for spec in dataclasses.fields(schema)]
    for key in node.keys() if isinstance(node, DictConfig) else ():
        if key not in names:
            raise ConfigError(f"{name}.{key}", f"{name} has no key {key!r}. Its keys: {', '.join(names)}.")
    try:
        typed = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), node or {}))
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", None) or ""
        raise ConfigError(f"{name}.{key}" if key else name, str(error).splitlines()[0]) from None
    return typed.validate(name)


def _check_model_supported(task: TaskConfig, model) -> None:
    if model.name not in task.MODELS:
        options = [name for name, kind in group_options("model").items() if kind in task.MODELS]
        raise ConfigError("model", f"task={task.name} supports {' and '.join(task.MODELS)} networks: "
                                   f"{', '.join(f'model={o}' for o in options)}. Got model={model.name} instead.")


def group_options(group: str) -> dict[str, str]:
    """The options of a config group (YAML files of ``conf/<group>``) -> the schema they name (or '')."""
    options = {}
    for path in sorted((CONF_DIR / group).glob("*.yaml")):
        text = path.read_text()
        schema = next((line.split("/schema/")[1].split("@")[0].split("/")[-1] for line in text.splitlines()
                       if "/schema/" in line), "")
        parent = next((line.strip()[2:].strip() for line in text.splitlines()
                       if line.strip().startswith("- ") and "/" not in line and line.strip()[2:].strip()
                       not in ("_self_",) and ":" not in line), None)
        options[path.stem] = schema or (options.get(parent, "") if parent else "")
    return options


def _composition_error(error: Exception, overrides: Sequence[str], return_hydra_config: bool) -> ConfigError:
    """Hydra's refusal of an override as a ConfigError naming the key, the given value and what is allowed."""
    text = f"{error}\n{error.__cause__ or ''}"
    missing = re.search(r"Could not find '([^']+)/([^']+)'", text)
    if missing:
        group, option = missing.groups()
        return ConfigError(group, f"there is no option {option!r}. Allowed: {', '.join(group_options(group))}.")
    stray = re.search(r"Could not override '([^']+)'", text)
    if stray:  # a key the schema lacks: compose without it, add it, and let validation name it and its owner
        key = stray.group(1)
        given = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") == key]
        cfg = compose([o for o in overrides if o not in given], return_hydra_config=return_hydra_config)
        OmegaConf.set_struct(cfg, False)
        OmegaConf.update(cfg, key, yaml.safe_load(given[0].split("=", 1)[1]) if given else None, force_add=True)
        try:
            validate(cfg)
        except ConfigError as refusal:
            return refusal
    key = re.search(r"full_key: (\S+)", text)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    message = next((line for line in lines if not line.startswith("Error merging override")), lines[0])
    return ConfigError(key.group(1) if key else "override", message)


def compose(overrides: Sequence[str] = (), *, return_hydra_config: bool = False) -> DictConfig:
    """Compose ``conf/config.yaml`` with ``overrides`` (as on the command line) and validate it.

    For notebooks and scripts::

        from physics.app import compose, run
        cfg = compose(["task=fit", "debug=tiny", "seed=3"])
        result = run(cfg, "outputs/notebook-run")

    Returns the composed DictConfig (with the ``hydra`` node only if ``return_hydra_config``). Raises
    ConfigError (naming the key, what was given and what is allowed) for an override Hydra refuses and for an
    invalid value.
    """
    from hydra import compose as hydra_compose, initialize_config_dir
    from hydra.errors import HydraException

    register_configs()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = hydra_compose(config_name="config", overrides=list(overrides),
                                return_hydra_config=return_hydra_config)
    except HydraException as error:
        raise _composition_error(error, overrides, return_hydra_config) from None
    validate(cfg)
    return cfg
