"""Bad configurations of task=ising fail with a ConfigError naming the key, before any Monte Carlo runs."""
import pytest

from physics.app.runner import run
from physics.app.schema import ConfigError


def _error(compose_config, overrides):
    with pytest.raises(ConfigError) as info:
        compose_config(overrides)  # composes and validates
    return info.value


@pytest.mark.parametrize("window", ["[0.5,2.5]", "[2.0,4.0]"])
def test_window_outside_the_temperature_range(compose_config, window):
    error = _error(compose_config, ["task=ising", f"task.critical_window={window}"])
    assert error.key == "task.critical_window" and "outside the temperature range" in error.message


@pytest.mark.parametrize("window, phase", [("[1.0,2.5]", "ordered"), ("[2.0,3.5]", "disordered")])
def test_window_leaving_one_class_empty(compose_config, window, phase):
    error = _error(compose_config, ["task=ising", f"task.critical_window={window}"])
    assert error.key == "task.critical_window" and f"leaves no {phase}" in error.message


def test_window_without_temperatures(compose_config):
    error = _error(compose_config, ["task=ising", "task.temperatures=[1.0,1.5,3.0,3.5]",
                                    "task.critical_window=[2.0,2.5]"])
    assert error.key == "task.critical_window" and "contains none" in error.message


def test_augmentation_beyond_memory(compose_config):
    error = _error(compose_config, ["task=ising", "task.augment=[flip,dihedral,translate]",
                                    "task.n_translations=8", "task.memory_limit_gb=1"])
    assert error.key == "task.augment" and "GB" in error.message


def test_unknown_augmentation(compose_config):
    assert _error(compose_config, ["task=ising", "task.augment=[rotate]"]).key == "task.augment"


def test_nested_keys_are_named_in_full(compose_config):
    assert _error(compose_config, ["task=ising", "task.confusion.n_guesses=2"]).key == "task.confusion.n_guesses"
    assert _error(compose_config, ["task=ising", "task.transfer.temperature_range=[4,3]"]).key == \
        "task.transfer.temperature_range"


def test_unknown_objective(compose_config):
    assert _error(compose_config, ["task=ising", "task.objective=accuracy"]).key == "task.objective"


def test_val_loss_objective_needs_a_validation_set(compose_config):
    error = _error(compose_config, ["task=ising", "trainer.early_stopping=false"])
    assert error.key == "task.objective" and "validation set" in error.message
    compose_config(["task=ising", "trainer.early_stopping=false", "task.objective=tc_error"])  # fine


@pytest.mark.parametrize("overrides", [["task.L=4", "model.kernel_size=5"],
                                       ["task.L=6", "model.pool=max", "model.channels=[4,4,4]"]])
def test_lattice_too_small_for_the_cnn(compose_config, tmp_path, overrides):
    data_dir = tmp_path / "data"
    with pytest.raises(ConfigError) as info:
        run(compose_config(["task=ising", "model=cnn", f"data_dir={data_dir}", *overrides]), tmp_path / "run")
    assert info.value.key == "task.L"
    assert not data_dir.exists()  # failed before the Monte Carlo


def test_window_need_not_leave_a_class_when_it_is_trained_on(compose_config):
    """Without the hold-out, the window's temperatures are training temperatures: [1.0, 2.5] is fine."""
    from physics.app.config import validate

    config = validate(compose_config(["task=ising", "task.critical_window=[1.0,2.5]", "task.hold_out_window=false"]))
    assert config.task.n_training_temperatures() == config.task.grid().size
