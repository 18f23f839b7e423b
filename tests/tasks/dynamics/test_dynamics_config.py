"""Bad input of task=dynamics is refused at validation (fast, before any simulation or training), naming the key
and what is allowed; the defaults and the good settings near the guards pass."""
import pytest

from physics.app.config import validate

BASE = ["task=dynamics"]


@pytest.mark.parametrize("overrides,key,expected", [
    (["task.system=duffing"], "task.system", "'lorenz', 'pendulum', 'bath'"),        # unknown system
    (["task.window=6000"], "task.window", "shorter than the training sequence"),      # longer than the sequence
    (["task.window=0"], "task.window", "Got 0 instead"),
    (["task.horizon=0"], "task.horizon", "must be a float in (0, inf)"),            # horizon 0
    (["task.horizon=0.001"], "task.horizon", "shorter than one step"),
    (["task.mode=hidden"], "task.mode", "needs a system with a hidden coordinate"),  # hidden mode on lorenz
    (["task.mode=guess"], "task.mode", "'forecast', 'hidden'"),
    (["task.regime=chaotic"], "task.regime", "task.system=pendulum only"),
    (["task.system=pendulum", "task.regime=wild"], "task.regime", "'chaotic', 'periodic'"),
    (["+task.params.gamma=1"], "task.params.gamma", "has no parameter 'gamma'. Its parameters: sigma, rho, beta"),
    (["+task.params.sigma=-1"], "task.params.sigma", "must be a float in (0, inf)"),
    (["task.system=bath", "+task.params.frequencies=[1.0]"], "task.params.frequencies", "n_oscillators = 2"),
    (["task.dt=2.0"], "task.dt", "shorter than the system's Lyapunov time"),
    (["task.dt=0"], "task.dt", "must be a float in (0, inf)"),
    (["task.target=acceleration"], "task.target", "'increment', 'state'"),
    (["task.n_seeds=0"], "task.n_seeds", "Got 0 instead"),
    (["task.error_threshold=0"], "task.error_threshold", "(0, inf)"),
    (["task.noise=-0.1"], "task.noise", "[0, inf)"),
    (["task.n_train_trajectories=4000"], "task.n_train_trajectories", "at least 2 training windows"),
    (["task.n_train=100000000000"], "task.n_train", "more than the memory limit"),
    (["trainer.early_stopping=false"], "task.objective", "needs a validation set"),
    (["model=cnn"], "model", "supports rnn and mlp networks"),
])
def test_bad_values_are_refused_naming_the_key(refused, overrides, key, expected):
    error = refused(BASE + overrides)
    assert error.key == key, str(error)
    assert expected in str(error), str(error)


@pytest.mark.parametrize("overrides", [
    ["task.system=pendulum", "+task.params.damping=-0.5"],   # energy pumped in: the swing runs away
    ["+task.params.sigma=100000"],                             # stiff: the explicit integrator's steps collapse
])
def test_a_diverging_or_stiff_parameter_set_is_refused_before_training(refused, overrides):
    error = refused(BASE + overrides)
    assert error.key == "task.params", str(error)
    assert "cannot be integrated" in error.message and "bounded" in error.message


def test_the_defaults_and_good_settings_validate(compose_config):
    config = validate(compose_config(BASE))
    task = config.task
    assert (task.system, task.resolved_mode(), task.target, task.window) == ("lorenz", "forecast", "increment", 8)
    assert config.model.name == "rnn" and config.model.cell == "lstm"      # the task's own default network
    assert config.schedule.name == "cosine" and config.trainer.epochs == 100
    system = task.build_system()
    assert task.resolved_dt(system) == 0.01 and task.train_sizes(system) == [6000]
    assert task.horizon_steps(system) == 884  # ceil(8 Lyapunov times / 0.01) with 1/lambda = 1/0.9056
    bath = validate(compose_config(BASE + ["task.system=bath"])).task
    assert bath.resolved_mode() == "hidden" and len(bath.train_sizes(bath.build_system())) == 20
    pendulum = validate(compose_config(BASE + ["task.system=pendulum", "task.regime=periodic",
                                               "+task.params.drive_amplitude=1.0", "model=mlp"])).task
    assert pendulum.build_system().drive_amplitude == 1.0 and pendulum.build_system().damping == 0.5
    assert validate(compose_config(BASE + ["task.n_train=20", "task.window=19"])).task.window == 19  # the limit
