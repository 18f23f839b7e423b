"""Every option of every config group composes and validates; bad values fail with a message naming the key."""
from __future__ import annotations

import re

import pytest
from omegaconf import OmegaConf
from hydra.errors import ConfigCompositionException, MissingConfigException

from physics.config import ConfigError, validate
from tests.conftest import CONF_DIR

GROUPS = ("task", "model", "optimizer", "baseline")


def _options(group):
    return sorted(path.stem for path in (CONF_DIR / group).glob("*.yaml"))


def _valid_task_for_model(model):
    return "ising" if model == "cnn" and (CONF_DIR / "task" / "ising.yaml").exists() else None


@pytest.mark.parametrize("group,option", [(g, o) for g in GROUPS for o in _options(g)])
def test_every_group_option_composes_and_validates(compose_config, group, option):
    cfg = compose_config([f"{group}={option}"])
    config = validate(cfg)
    if group in ("task", "model", "optimizer"):
        assert getattr(config, group).name == cfg[group].name
    else:
        assert set(config.baseline) == set(cfg.baseline)


@pytest.mark.parametrize("preset", _options("experiment"))
def test_every_experiment_preset_composes(compose_config, preset):
    validate(compose_config([f"+experiment={preset}"]))


def test_default_config_names_every_part(compose_config):
    config = validate(compose_config())
    assert config.task.name == "fit" and config.model.name == "mlp" and config.optimizer.name == "adam"
    assert config.seed == 0 and config.baseline


@pytest.mark.parametrize("override,key,expected", [
    ("optimizer.lr=-1", "optimizer.lr", "must be in (0.0, inf). Got -1.0"),
    ("task.n_samples=0", "task.n_samples", "Got 0 instead"),
    ("task.validation_fraction=1.5", "task.validation_fraction", "must be in (0.0, 1.0)"),
    ("optimizer.schedule=linear", "optimizer.schedule", "'constant', 'step', 'exponential', 'cosine'"),
    ("model.activation=swish", "model.activation", "'sigmoid', 'tanh', 'relu'"),
    ("model.hidden=[32,0]", "model.hidden[1]", "Got 0 instead"),
    ("seed=-3", "seed", "Got -3 instead"),
    ("baseline.sklearn_mlp._target_=sklearn.nosuch.Model", "baseline.sklearn_mlp._target_", "cannot import"),
])
def test_bad_values_are_rejected_naming_the_key(compose_config, override, key, expected):
    with pytest.raises(ConfigError) as error:
        validate(compose_config([override]))
    assert error.value.key == key
    assert expected in str(error.value)


def test_misspelled_key_fails_at_composition(compose_config):
    with pytest.raises(ConfigCompositionException, match="typo"):
        compose_config(["task.typo=1"])


def test_wrong_type_fails_at_composition(compose_config):
    with pytest.raises(ConfigCompositionException, match="n_samples"):
        compose_config(["task.n_samples=many"])


def test_unknown_task_fails_at_composition(compose_config):
    with pytest.raises(MissingConfigException, match="nosuch"):
        compose_config(["task=nosuch"])


def test_missing_image_file_is_named(compose_config, tmp_path):
    missing = tmp_path / "nothere.png"
    with pytest.raises(ConfigError, match="nothere.png' does not exist") as error:
        validate(compose_config(["task.target=image", f"task.image_path={missing}"]))
    assert error.value.key == "task.image_path"


def test_file_that_is_not_an_image_is_named(compose_config, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    with pytest.raises(ConfigError, match="is not a readable image"):
        validate(compose_config(["task.target=image", f"task.image_path={text}"]))


def test_hydra_output_folders_follow_task_date_and_microseconds(compose_config):
    hydra = compose_config(["task=fit"], return_hydra_config=True).hydra
    folder = r"outputs/fit/\d{4}-\d{2}-\d{2}/\d{2}-\d{2}-\d{2}-\d{6}"
    assert re.fullmatch(folder, hydra.run.dir) and re.fullmatch(folder, hydra.sweep.dir)
    assert OmegaConf.to_container(hydra.sweep)["subdir"] == "${hydra.job.num}"
