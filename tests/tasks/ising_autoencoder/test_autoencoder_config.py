"""task=ising_autoencoder refuses bad settings at validation, naming the key and what is allowed, before any Monte
Carlo (``refused``: fast and without allocating, tests/tasks/conftest.py)."""
import pytest

from physics.app.config import validate

BASE = ["task=ising_autoencoder"]


@pytest.mark.parametrize("overrides,key,expected", [
    (["task.latent=0"], "task.latent", "must be an int in [1, inf). Got 0 instead"),
    (["task.sizes=[16]"], "task.sizes", "at least 2 different lattice sizes"),
    (["task.sizes=[16,16]"], "task.sizes", "at least 2 different lattice sizes"),
    (["task.sizes=[2,16]"], "task.sizes", "Got 2 instead"),
    (["task.temperatures=[2.5,2.0,2.2,2.3,2.4,2.6]"], "task.temperatures", "sorted in strictly increasing order"),
    (["task.temperatures=[2.0,2.2,2.4]"], "task.temperatures", "at least 6 temperatures"),
    (["task.temperatures=[-1.0,2.0,2.1,2.2,2.3,2.4]"], "task.temperatures", "Got -1.0 instead"),
    (["task.temperature_range=[3.2,1.6]"], "task.temperature_range", "low < high"),
    (["task.temperature_step=5.0", "task.dense_range=null"], "task.temperature_step", "fewer than 6 temperatures"),
    (["task.beta=0"], "task.beta", "Got 0.0 instead"),
    (["trainer.epochs=0"], "trainer.epochs", "Got 0 instead"),
    (["task.pca.n_components=20", "task.sizes=[4,8]"], "task.pca.n_components", "spins of the smallest size (16)"),
    (["task.n_per_temperature=100000000"], "task.n_per_temperature", "more than the memory limit"),
    (["trainer.early_stopping=false"], "task.objective", "needs a validation set"),
    (["model=cnn"], "model", "supports mlp networks"),
    (["task.objective=tc_error", "task.sizes=[8,16]"], "task.objective", "needs at least 3 sizes"),
])
def test_bad_settings_are_refused_naming_the_key(refused, overrides, key, expected):
    error = refused([*BASE, *overrides])
    assert error.key == key
    assert expected in str(error), str(error)


def test_the_defaults_and_the_thorough_preset_validate(compose_config):
    config = validate(compose_config(BASE))
    task = config.task
    assert task.sizes == [8, 16, 32] and task.latent == 1 and task.n_replicas == 4
    T = task.grid()
    assert T[0] == pytest.approx(1.6) and T[-1] == pytest.approx(3.2) and T.size == 20
    assert config.model.hidden == [64] and config.trainer.epochs == 20
    thorough = validate(compose_config(["experiment=ising_autoencoder_thorough"])).task
    assert thorough.name == "ising_autoencoder" and thorough.sizes == [8, 16, 32, 64] and thorough.n_replicas > 4


def test_sizes_are_sorted_and_an_explicit_list_replaces_the_grids(compose_config):
    task = validate(compose_config([*BASE, "task.sizes=[16,8]",
                                    "task.temperatures=[1.5,2.0,2.2,2.3,2.5,3.0]"])).task
    assert task.sizes == [8, 16]
    assert task.grid().tolist() == [1.5, 2.0, 2.2, 2.3, 2.5, 3.0]
