"""The config is the single source of truth, and strict: registries, schemas, YAML files and choices agree."""
from __future__ import annotations

import dataclasses
import re

import pytest
import yaml
from omegaconf import OmegaConf

from core.activations import ACTIVATIONS
from core.conv import PADDINGS
from core.init import INITIALIZERS
from core.optim import OPTIMIZERS
from core.schedules import SCHEDULES
from physics.app.config import CONF_DIR, group_options, validate
from physics.app.networks import SCHEMAS, CNNConfig, MLPConfig
from physics.app.schema import ConfigError, TrainerConfig, allowed_values
from physics.tasks import TASKS, task_package


def _field(schema, name):
    return {spec.name: spec for spec in dataclasses.fields(schema)}[name]


def _task_for_model(kind):
    return next(name for name in TASKS if kind in task_package(name).Config.MODELS)


def test_the_registry_matches_conf_task():
    assert set(TASKS) == set(group_options("task"))


def test_every_choice_list_is_its_core_registry():
    for schema in (MLPConfig, CNNConfig):
        assert allowed_values(_field(schema, "activation")) == tuple(ACTIVATIONS)
        assert allowed_values(_field(schema, "init")) == tuple(INITIALIZERS)
    assert allowed_values(_field(CNNConfig, "padding")) == tuple(PADDINGS)
    served = [name for schema in SCHEMAS["optimizer"].values() for name in schema.NAMES]
    assert sorted(served) == sorted(OPTIMIZERS) and len(served) == len(set(served))
    assert sorted(SCHEMAS["schedule"]) == sorted(SCHEDULES)


def test_every_initialiser_of_core_is_accepted(compose_config):
    for init in INITIALIZERS:  # he_uniform was refused before the choices came from core
        assert validate(compose_config([f"model.init={init}"])).model.init == init


@pytest.mark.parametrize("group", ["model", "optimizer", "schedule", "baseline"])
def test_every_group_option_composes_and_validates(compose_config, group):
    for option, kind in group_options(group).items():
        task = _task_for_model(kind) if group == "model" else "fit"
        if group == "baseline":
            task = option if option in TASKS else "fit"
        config = validate(compose_config([f"task={task}", f"{group}={option}"]))
        assert config.task.name == task


def _schema_defaults(schema):
    return {spec.name: (spec.default if spec.default is not dataclasses.MISSING else spec.default_factory())
            for spec in dataclasses.fields(schema)}


def _differences_only(values, schema, where):
    defaults = _schema_defaults(schema)
    for key, value in (values or {}).items():
        if isinstance(value, dict) and dataclasses.is_dataclass(defaults.get(key)):
            _differences_only(value, type(defaults[key]), f"{where}.{key}")
        else:
            assert value != defaults.get(key, object()), f"{where}.{key} restates its schema default {value!r}"


@pytest.mark.parametrize("task", sorted(TASKS))
def test_task_yaml_holds_only_what_differs_from_the_schemas(task):
    text = yaml.safe_load((CONF_DIR / "task" / f"{task}.yaml").read_text())
    _differences_only(text.get("task"), task_package(task).Config, "task")
    _differences_only(text.get("trainer"), TrainerConfig, "trainer")


@pytest.mark.parametrize("group", ["model", "optimizer", "schedule"])
def test_group_options_hold_only_what_differs_from_their_schema(group):
    for option, schema_name in group_options(group).items():
        text = yaml.safe_load((CONF_DIR / group / f"{option}.yaml").read_text()) or {}
        text.pop("defaults", None)
        _differences_only(text, SCHEMAS[group][schema_name], f"{group}={option}")


def test_composed_defaults_are_the_schema_defaults(compose_config):
    config = validate(compose_config(["task=fit"]))
    assert config.trainer.batch_size == TrainerConfig().batch_size
    assert config.model == MLPConfig().validate("model")


@pytest.mark.parametrize("overrides,key,expected", [
    (["+task.epoch=10"], "task.epoch", "Did you mean 'trainer.epochs'?"),
    (["optimizer.lr=-1"], "optimizer.lr", "must be a float in (0, inf). Got -1.0 instead."),
    (["task.n_samples=0"], "task.n_samples", "Got 0 instead"),
    (["trainer.validation_fraction=1.5"], "trainer.validation_fraction", "must be a float in (0, 1)"),
    (["model.activation=swish"], "model.activation", "'sigmoid', 'tanh', 'relu'"),
    (["model.hidden=[32,0]"], "model.hidden", "Got 0 instead"),
    (["seed=-3"], "seed", "Got -3 instead"),
    (["+foo=1"], "foo", "is not a key of the config"),
    (["model=cnn"], "model", "task=fit supports mlp networks"),
    (["baseline.sklearn_mlp._target_=sklearn.nosuch.Model"], "baseline.sklearn_mlp._target_", "cannot import"),
    (["trainer.early_stopping=false"], "task.objective", "needs a validation set"),
    (["task.n_samples=many"], "task.n_samples", "could not be converted"),
])
def test_bad_values_are_rejected_naming_the_key(compose_config, overrides, key, expected):
    with pytest.raises(ConfigError) as error:
        compose_config(overrides)
    assert error.value.key == key
    assert expected in str(error.value)
    assert isinstance(error.value, ValueError) and isinstance(error.value, TypeError)


def test_a_key_of_another_optimizer_is_refused_naming_its_owner(compose_config):
    cfg = compose_config(["optimizer=adam"])
    OmegaConf.update(cfg, "optimizer.momentum", 0.9, force_add=True)  # what `+optimizer.momentum=0.9` does
    with pytest.raises(ConfigError, match="It is a key of optimizer=sgd, momentum, nesterov") as error:
        validate(cfg)
    assert error.value.key == "optimizer.momentum"


def test_missing_image_file_is_named(compose_config, tmp_path):
    missing = tmp_path / "nothere.png"
    with pytest.raises(ConfigError, match="nothere.png' does not exist") as error:
        compose_config(["task.target=image", f"task.image_path={missing}"])
    assert error.value.key == "task.image_path"


def test_file_that_is_not_an_image_is_named(compose_config, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    with pytest.raises(ConfigError, match="is not a readable image"):
        compose_config(["task.target=image", f"task.image_path={text}"])


def test_hydra_output_folders_follow_task_date_and_microseconds(compose_config):
    hydra = compose_config(["task=fit"], return_hydra_config=True).hydra
    folder = r"outputs/fit/\d{4}-\d{2}-\d{2}/\d{2}-\d{2}-\d{2}-\d{6}"
    assert re.fullmatch(folder, hydra.run.dir) and re.fullmatch(folder, hydra.sweep.dir)
    assert OmegaConf.to_container(hydra.sweep)["subdir"] == "${hydra.job.num}"


@pytest.mark.parametrize("task", sorted(TASKS))
def test_debug_settings_compose_with_any_baseline_choice(compose_config, task):
    for extra in ([], ["baseline=none"]):
        cfg = compose_config([f"task={task}", "debug=tiny", *extra])
        assert cfg.progress is False and cfg.trainer.epochs <= 5
