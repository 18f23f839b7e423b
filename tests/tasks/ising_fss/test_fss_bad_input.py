"""Bad configurations of task=ising_fss fail with a ConfigError naming the key, before any Monte Carlo runs."""
import pytest

from physics.app.runner import run
from physics.app.schema import ConfigError


def test_fss_needs_four_sizes(compose_config):
    with pytest.raises(ConfigError) as info:
        compose_config(["task=ising_fss", "task.sizes=[8,16,32]"])
    assert info.value.key == "task.sizes"


def test_fss_size_too_small_for_the_cnn(compose_config, tmp_path):
    data_dir = tmp_path / "data"
    with pytest.raises(ConfigError) as info:
        run(compose_config(["task=ising_fss", "model=cnn", "model.kernel_size=5", "task.sizes=[4,8,16,32]",
                            f"data_dir={data_dir}"]), tmp_path / "run")
    assert info.value.key == "task.sizes"
    assert not data_dir.exists()


def test_sizes_are_sorted(compose_config):
    from physics.app.config import validate

    assert validate(compose_config(["task=ising_fss", "task.sizes=[16,8,32,24]"])).task.sizes == [8, 16, 24, 32]
