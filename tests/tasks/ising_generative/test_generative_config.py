"""Bad input of task=ising_generative is refused at validation (fast, before any Monte Carlo), naming the key and
what is allowed; the good settings near the guards pass."""
import pytest

from physics.app.config import validate
from physics.app.runner import run

BASE = ["task=ising_generative"]


@pytest.mark.parametrize("overrides,key,expected", [
    (["task.k=[0]"], "task.k", "Got 0 instead"),                               # the named bad input
    (["task.k=[1,0]"], "task.k", "must be an int in [1, inf)"),
    (["task.k=[1,1]"], "task.k", "must list different values"),
    (["task.n_hidden=[0]"], "task.n_hidden", "Got 0 instead"),
    (["task.n_hidden=[]"], "task.n_hidden", "must list different values (at least one)"),
    (["task.temperatures=[2.0,1.5,2.269185]"], "task.temperatures", "sorted in increasing order"),
    (["task.temperatures=[1.5,2.269185,2.269185]"], "task.temperatures", "without repeats"),
    (["task.temperatures=[1.5,-2.0]"], "task.temperatures", "Got -2.0 instead"),
    (["task.temperatures=[1.5,3.5]"], "task.temperatures", "must include T_c = 2.269185"),
    (["task.target_temperatures=[1.0]"], "task.target_temperatures", "must be among task.temperatures"),
    (["task.L=3"], "task.L", "Got 3 instead"),
    (["task.methods=[cd,sgd]"], "task.methods", "must be one of 'cd', 'pcd'"),
    (["task.n_train=32"], "task.n_train", "at least trainer.batch_size = 64"),
    (["trainer.epochs=0"], "trainer.epochs", "Got 0 instead"),
    (["optimizer.lr=0"], "optimizer.lr", "must be a float in (0, inf)"),
    (["task.gibbs_steps=1"], "task.gibbs_steps", "Got 1 instead"),
    (["task.objective=nll", "task.log_likelihood=none"], "task.objective", "nll needs a log-likelihood"),
    (["task.log_likelihood=maybe"], "task.log_likelihood", "'auto', 'exact', 'ais', 'none'"),
    (["baseline.sklearn_rbm.n_components=16"], "baseline.sklearn_rbm.n_components", "is set by task.n_hidden"),
    (["+baseline.ridge._target_=sklearn.linear_model.Ridge"], "baseline.ridge._target_",
     "must be an RBM with a gibbs(v) sampler"),
    (["task.n_train=100000000000"], "task.n_train", "more than the memory limit"),
])
def test_bad_values_are_refused_naming_the_key(refused, overrides, key, expected):
    error = refused(BASE + overrides)
    assert error.key == key, str(error)
    assert expected in str(error), str(error)


def test_an_exact_likelihood_of_an_rbm_too_large_to_enumerate_is_refused(refused):
    """The issue's named bad input: more visible units than enumeration allows when an exact likelihood is asked
    (L = 8: 64 visible units; 64 hidden units: both layers above 2^20 states)."""
    error = refused(BASE + ["task.log_likelihood=exact", "task.n_hidden=[8,64]"])
    assert error.key == "task.log_likelihood"
    message = str(error)
    assert "n_visible = 64 > 20" in message and "n_hidden = [64]" in message and "auto or ais" in message


def test_exact_likelihood_where_enumeration_allows_it(compose_config):
    # one layer of at most 20 units: the hidden one (n_hidden <= 20), or the visible one (L = 4: 16 spins)
    for overrides in (["task.n_hidden=[8,20]"], ["task.L=4", "task.n_hidden=[64]"]):
        config = validate(compose_config(BASE + ["task.log_likelihood=exact", *overrides]))
        assert config.task.log_likelihood == "exact"


def test_the_defaults_and_the_presets_validate(compose_config):
    config = validate(compose_config(BASE))
    assert config.task.temperatures == [1.5, 2.0, 2.269185, 2.5, 3.5] and config.task.L == 8
    assert config.schedule.name == "cosine" and config.trainer.epochs == 300 and config.optimizer.lr == 0.01
    assert config.baseline["sklearn_rbm"]["n_iter"] == 300 and config.baseline["sklearn_rbm"]["batch_size"] == 64
    assert config.task.headline() == "rbm_h128_cd1"
    assert [name for name, *_ in config.task.variants()] == ["rbm_h8_cd1", "rbm_h32_cd1", "rbm_h128_cd1"]
    thorough = validate(compose_config(["experiment=ising_generative_thorough"]))
    assert thorough.task.name == "ising_generative" and thorough.task.k == [1, 5]
    assert thorough.task.methods == ["cd", "pcd"]
    assert validate(compose_config(BASE + ["baseline=none"])).baseline == {}


def test_a_refused_run_does_no_work(tmp_path):
    """Validation comes before the Monte Carlo: a bad value leaves no cache and no run folder behind."""
    data_dir = tmp_path / "data"
    with pytest.raises(ValueError, match="task.k"):
        run(_unvalidated(BASE + [f"data_dir={data_dir}", "task.k=[0]"]), tmp_path / "run")
    assert not data_dir.exists() and not (tmp_path / "run").exists()


def _unvalidated(overrides):
    """The composed config without validation (as Hydra hands it to the command line's job)."""
    from hydra import compose, initialize_config_dir

    from physics.app.config import CONF_DIR, register_configs

    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))
