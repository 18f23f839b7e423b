"""Bad configurations of task=ising fail with a ConfigError naming the key, before any Monte Carlo runs."""
import pytest

from physics.app.runner import run
from physics.app.schema import ConfigError

LABELLED = "task.protocol=labelled"


def _error(compose_config, overrides):
    with pytest.raises(ConfigError) as info:
        compose_config(overrides)  # composes and validates
    return info.value


@pytest.mark.parametrize("window", ["[0.5,2.5]", "[2.0,4.0]"])
def test_window_outside_the_temperature_range(compose_config, window):
    error = _error(compose_config, ["task=ising", LABELLED, f"task.critical_window={window}"])
    assert error.key == "task.critical_window" and "outside the temperature range" in error.message


@pytest.mark.parametrize("window, phase", [("[1.0,2.5]", "ordered"), ("[2.0,3.5]", "disordered")])
def test_window_leaving_one_class_empty(compose_config, window, phase):
    error = _error(compose_config, ["task=ising", LABELLED, "task.hold_out_window=true",
                                    f"task.critical_window={window}"])
    assert error.key == "task.critical_window" and f"leaves no {phase}" in error.message


def test_window_without_temperatures(compose_config):
    error = _error(compose_config, ["task=ising", LABELLED, "task.temperatures=[1.0,1.5,3.0,3.5]",
                                    "task.critical_window=[2.0,2.5]"])
    assert error.key == "task.critical_window" and "contains none" in error.message


@pytest.mark.parametrize("sizes", ["[16,24,64]", "[12]", "[16,16]"])
def test_sizes_must_block_down_to_the_network(compose_config, sizes):
    """protocol=extremes reads every size on 2 x 2 block spins down to network_L = 8: 24 and 12 cannot be."""
    assert _error(compose_config, ["task=ising", f"task.sizes={sizes}"]).key == "task.sizes"


def test_the_scan_must_lie_between_the_training_ranges(compose_config):
    error = _error(compose_config, ["task=ising", "task.scan_range=[1.5,2.5]"])
    assert error.key == "task.scan_range" and "between the training ranges" in error.message


def test_triangular_sizes_must_be_multiples_of_three(compose_config):
    assert _error(compose_config, ["task=ising", "task.transfer.enabled=true",
                                   "task.transfer.sizes=[24,32]"]).key == "task.transfer.sizes"
    assert _error(compose_config, ["task=ising", "task.transfer.enabled=true",
                                   "task.transfer.sizes=[27]"]).key == "task.transfer.sizes"  # 27 = 8 x 3.375


def test_critical_error_needs_the_labelled_protocol(compose_config):
    error = _error(compose_config, ["task=ising", "task.objective=critical_error"])
    assert error.key == "task.objective" and "protocol=labelled" in error.message
    compose_config(["task=ising", LABELLED, "task.objective=critical_error"])  # fine


def test_augmentation_beyond_memory(compose_config):
    error = _error(compose_config, ["task=ising", LABELLED, "task.augment=[flip,dihedral,translate]",
                                    "task.n_translations=8", "task.memory_limit_gb=1"])
    assert error.key == "task.augment" and "GB" in error.message


def test_unknown_augmentation_and_protocol(compose_config):
    assert _error(compose_config, ["task=ising", "task.augment=[rotate]"]).key == "task.augment"
    error = _error(compose_config, ["task=ising", "task.protocol=circular"])
    assert error.key == "task.protocol" and "extremes" in error.message


def test_nested_keys_are_named_in_full(compose_config):
    assert _error(compose_config, ["task=ising", "task.confusion.fine_step=0.5"]).key == "task.confusion.fine_step"
    assert _error(compose_config, ["task=ising", "task.transfer.scan_range=[4,3]"]).key == \
        "task.transfer.scan_range"
    assert _error(compose_config, ["task=ising", "task.binder.n_chains=1"]).key == "task.binder.n_chains"
    assert _error(compose_config, ["task=ising", "task.binder.sizes=[32]"]).key == "task.binder.sizes"


def test_unknown_objective(compose_config):
    assert _error(compose_config, ["task=ising", "task.objective=accuracy"]).key == "task.objective"


def test_val_loss_objective_needs_a_validation_set(compose_config):
    error = _error(compose_config, ["task=ising", "trainer.early_stopping=false"])
    assert error.key == "task.objective" and "validation set" in error.message
    compose_config(["task=ising", "trainer.early_stopping=false", "task.objective=tc_error"])  # fine


@pytest.mark.parametrize("overrides, key", [
    (["task.network_L=4", "model.kernel_size=5"], "task.network_L"),
    ([LABELLED, "task.sizes=[6]", "model.pool=max", "model.channels=[4,4,4]"], "task.sizes")])
def test_lattice_too_small_for_the_cnn(compose_config, tmp_path, overrides, key):
    data_dir = tmp_path / "data"
    with pytest.raises(ConfigError) as info:
        run(compose_config(["task=ising", "model=cnn", f"data_dir={data_dir}", *overrides]), tmp_path / "run")
    assert info.value.key == key
    assert not data_dir.exists()  # failed before the Monte Carlo


def test_window_need_not_leave_a_class_when_it_is_trained_on(compose_config):
    """Without the hold-out, the window's temperatures are training temperatures: [1.0, 2.5] is fine."""
    compose_config(["task=ising", LABELLED, "task.critical_window=[1.0,2.5]", "task.hold_out_window=false"])
