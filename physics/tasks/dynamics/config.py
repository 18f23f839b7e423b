"""Schema of ``task=dynamics``: which system, how it is sampled, what the networks see and predict, how forecasts
are scored.

Every check that can fail runs at validation, before any simulation or training: the system and its parameters
(the system is built and checked, then integrated for a few hundred steps from a fixed initial state, so that a
stiff or diverging parameter set is refused naming ``task.params`` or ``task.dt``), the mode against the system
(hidden mode needs a hidden coordinate), the window against the training sequence, the horizon against the
sampling step, the network against the window's shape, and the memory the windows will take.

Times: ``task.dt`` is in the system's own time units; ``task.horizon`` is in the system's physical time unit
(``system.time_unit``: the Lyapunov time 1/lambda of Lorenz-63, the drive period of the pendulum, the period of
the bath's tagged oscillator).
"""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any, Dict, Optional

from physics.app.resources import check_memory, driving_key, format_bytes, real
from physics.app.schema import ConfigError, TaskConfig, param

SYSTEMS = ("lorenz", "pendulum", "bath")
REGIMES = ("chaotic", "periodic")
#: forecast: predict the features' next step, then run closed loop; hidden: infer the hidden coordinate
MODES = ("forecast", "hidden")
#: increment: the next step's change of the standardised features (its own training SD as unit); state: the
#: next standardised features themselves
TARGETS = ("increment", "state")
#: the network's best validation loss (mean over seeds), on the share of training windows early stopping holds out
OBJECTIVES = ("val_loss",)
#: training trajectories of a Hamiltonian system (no transient, no attractor) unless task.n_train_trajectories says
#: otherwise: each conserves its energy, so one trajectory would leave the test trajectories' energies unseen
HAMILTONIAN_TRAJECTORIES = 20
#: steps of the trial integration run at validation (after the system's transient)
TRIAL_SAMPLES = 200
#: right-hand-side evaluations the trial may take: a fixed allowance plus so many per time unit integrated (the
#: classic systems need 700 - 1500 per time unit at simulate's default tolerances: a stiff system is refused in
#: about a second instead of exhausting simulate's own, larger budget)
TRIAL_EVALUATIONS = (10_000, 5_000)
#: typical values, against which the key that drives the memory estimate is found
TYPICAL = {"n_train": 6000, "window": 8}
#: float64 copies of the training windows the run holds at once (features, noisy copy, windows for the network,
#: each baseline's copy, validation split), a generous count
WINDOW_COPIES = 8


@dataclass
class Config(TaskConfig):
    """``task=dynamics``: recurrent networks forecast a simulated system (closed loop, in Lyapunov times or
    periods) or infer its hidden coordinate, against a linear autoregressive model, a window MLP and
    persistence."""

    MODELS = ("rnn", "mlp")
    VALIDATION_OBJECTIVES = ("val_loss",)

    name: str = param("dynamics", help="the task", choices=("dynamics",))
    system: str = param("lorenz", help="the simulated system: lorenz (Lorenz-63) | pendulum (damped driven "
                                       "pendulum) | bath (a particle coupled to harmonic oscillators)",
                        choices=SYSTEMS)
    regime: Optional[str] = param(None, help="pendulum only: chaotic | periodic (Baker and Gollub's parameters; "
                                             "null: chaotic)", choices=REGIMES)
    params: Dict[str, Any] = param(help="overrides of the system's parameters, e.g. +task.params.rho=35 "
                                        "(lorenz: sigma, rho, beta; pendulum: damping, drive_amplitude, "
                                        "drive_frequency; bath: its dataclass fields)", factory=dict)
    dt: Optional[float] = param(None, help="sampling step in the system's time units (null: the system's "
                                           "default_dt)", low=0.0, low_open=True)
    mode: Optional[str] = param(None, help="forecast (next step, then closed loop) | hidden (infer the hidden "
                                           "coordinate from the observed ones); null: hidden for bath, forecast "
                                           "otherwise", choices=MODES)
    target: str = param("increment", help="forecast mode: what the models predict: increment (the next step's "
                                          "change) | state (the next step itself)", choices=TARGETS)
    n_train: int = param(6000, help="training windows, from one long trajectory after the system's transient",
                         low=10)
    n_train_trajectories: Optional[int] = param(None, help="trajectories the training windows are split over "
                                                           "(null: 1 for a system with an attractor, whose one "
                                                           "long trajectory samples it; 20 for the Hamiltonian "
                                                           "bath, whose trajectories each keep their energy)",
                                                low=1)
    n_test_trajectories: int = param(10, help="independent test trajectories (own initial states)", low=1)
    n_forecasts: int = param(5, help="closed-loop forecasts started on each test trajectory, one after another "
                                     "(they do not overlap)", low=1)
    window: int = param(8, help="past steps every model sees (the lagged values), >= 1", low=1)
    horizon: float = param(8.0, help="length of each closed-loop forecast, in the system's time unit "
                                     "(Lyapunov times for Lorenz-63)", low=0.0, low_open=True)
    noise: float = param(0.0, help="observation noise: Gaussian, this fraction of each feature's standard "
                                   "deviation, on everything the models see (errors are scored against the clean "
                                   "trajectory)", low=0.0)
    n_seeds: int = param(3, help="networks (and scikit-learn MLPs) trained with different seeds; metrics are "
                                 "mean and SD over them", low=1)
    error_threshold: float = param(0.4, help="normalised error that ends the valid prediction time (Pathak et al. "
                                             "2018: 0.4)", low=0.0, low_open=True)
    objective: str = param("val_loss", help="what a sweep minimises: val_loss (the network's best validation "
                                            "loss, mean over seeds)", choices=OBJECTIVES)

    # ---------------------------------------------------------------------------------------------- derived
    def resolved_mode(self) -> str:
        """``mode``, or its default: hidden for the bath, forecast otherwise."""
        if self.mode is not None:
            return self.mode
        return "hidden" if self.system == "bath" else "forecast"

    def build_system(self):
        """The :class:`physics.dynamics.System` this config describes (checked). Raises ConfigError naming
        ``params.<field>`` (relative to the task node) for an unknown or invalid parameter."""
        return build_system(self.system, self.regime, self.params)

    def resolved_train_trajectories(self, system) -> int:
        """``n_train_trajectories``, or its default: 1 for a system with a transient (an attractor),
        ``HAMILTONIAN_TRAJECTORIES`` for one without (energy conserved: each trajectory samples one shell)."""
        if self.n_train_trajectories is not None:
            return self.n_train_trajectories
        return 1 if system.default_transient > 0 else HAMILTONIAN_TRAJECTORIES

    def train_sizes(self, system) -> list[int]:
        """Training windows per training trajectory: ``n_train`` split as evenly as possible."""
        n = self.resolved_train_trajectories(system)
        return [self.n_train // n + (1 if i < self.n_train % n else 0) for i in range(n)]

    def resolved_dt(self, system) -> float:
        """``dt``, or the system's ``default_dt``."""
        return float(system.default_dt if self.dt is None else self.dt)

    def horizon_steps(self, system) -> int:
        """Steps of one closed-loop forecast: ``ceil(horizon * time_unit / dt)`` (rounding guarded)."""
        return max(1, math.ceil(self.horizon * system.time_unit / self.resolved_dt(system) - 1e-9))

    def segment(self, system) -> int:
        """Samples one forecast uses on a test trajectory: its window and its horizon."""
        return self.window + self.horizon_steps(system)

    # ---------------------------------------------------------------------------------------------- checks
    def check(self) -> None:
        if self.regime is not None and self.system != "pendulum":
            raise ConfigError("regime", f"applies to task.system=pendulum only (chaotic | periodic). Got "
                                        f"{self.regime!r} with task.system={self.system}; set task.regime=null.")
        system = self.build_system()
        mode = self.resolved_mode()
        if mode == "hidden" and system.hidden is None:
            raise ConfigError("mode", f"hidden needs a system with a hidden coordinate (task.system=bath); "
                                      f"{self.system} has none. Use task.mode=forecast.")
        dt = self.resolved_dt(system)
        if dt >= system.time_unit:
            raise ConfigError("dt", f"must be shorter than the system's {system.time_unit_name} "
                                    f"({system.time_unit:.4g}), so that a step resolves the dynamics. Got {dt!r}.")
        if self.window >= self.n_train:
            raise ConfigError("window", f"must be shorter than the training sequence (task.n_train = "
                                        f"{self.n_train} steps). Got {self.window}.")
        if self.resolved_train_trajectories(system) > self.n_train // 2:
            raise ConfigError("n_train_trajectories", f"must leave at least 2 training windows per trajectory "
                                                      f"(task.n_train = {self.n_train}). Got "
                                                      f"{self.n_train_trajectories}.")
        if mode == "forecast" and self.horizon * system.time_unit < dt * (1 - 1e-9):
            raise ConfigError("horizon", f"{self.horizon} {system.time_unit_name}s = "
                                         f"{self.horizon * system.time_unit:.4g} is shorter than one step "
                                         f"(task.dt = {dt:.4g}). Give at least {dt / system.time_unit:.4g}.")
        self.check_memory(system)
        trial_integration(system, dt, bool(self.params))

    def check_memory(self, system) -> None:
        """The training windows (``WINDOW_COPIES`` float64 copies of n_train x window x features) and the test
        windows must fit the default memory limit; the error names n_train or window (relative to the task node,
        as every key raised by :meth:`check`)."""
        k = len(system.feature_names)
        n_test = real(self.n_test_trajectories) * real(self.n_forecasts) * real(self.segment(system))
        n_bytes = WINDOW_COPIES * 8.0 * (real(self.n_train) + n_test) * (real(self.window) + 1) * k
        ratios = {"n_train": real(self.n_train) / TYPICAL["n_train"], "window": real(self.window) / TYPICAL["window"]}
        key = driving_key(ratios)
        check_memory(key, n_bytes, f"task.{key} = {getattr(self, key)}: the windows of the run",
                     hint=f"(About {format_bytes(n_bytes / WINDOW_COPIES)} per copy.) Lower task.{key}.")

    def check_with(self, config) -> None:
        super().check_with(config)
        system = self.build_system()
        shape = (self.window, len(system.observed) if self.resolved_mode() == "hidden" else len(system.feature_names))
        config.model.check_input(shape, "task.window")


def _system_classes() -> dict:
    from physics.dynamics import DrivenPendulum, Lorenz63, OscillatorBath  # scipy: only when a config is checked

    return {"lorenz": Lorenz63, "pendulum": DrivenPendulum, "bath": OscillatorBath}


_PARAMETER = re.compile(r"The '(\w+)(?:\[\d+\])?' parameter")


def build_system(name: str, regime: Optional[str], params: Dict[str, Any]):
    """The checked system ``name`` (pendulum: Baker and Gollub's ``regime``, default chaotic) with ``params``
    overriding its dataclass fields.

    Raises
    ------
    ConfigError
        keyed ``params.<field>`` (relative to the task node) for a field the system does not have or a value it
        refuses (``params`` when the system's error names no field).
    """
    cls = _system_classes()[name]
    base = cls.regime(regime or "chaotic") if name == "pendulum" else cls()
    fields = [field.name for field in dataclasses.fields(base)]
    for key in params:
        if key not in fields:
            raise ConfigError(f"params.{key}", f"task.system={name} has no parameter {key!r}. Its parameters: "
                                               f"{', '.join(fields)}.")
    try:
        return dataclasses.replace(base, **_plain(params))
    except (ValueError, TypeError) as error:
        found = _PARAMETER.search(str(error))
        key = f"params.{found.group(1)}" if found and found.group(1) in params else "params"
        raise ConfigError(key, f"{error}") from None


def _plain(params: Dict[str, Any]) -> Dict[str, Any]:
    """Lists (OmegaConf's ListConfig included) as tuples, so that the frozen systems stay hashable."""
    return {key: tuple(value) if isinstance(value, (list, tuple)) or type(value).__name__ == "ListConfig"
            else value for key, value in params.items()}


def trial_integration(system, dt: float, custom: bool) -> None:
    """Integrate ``system`` over its transient and ``TRIAL_SAMPLES`` steps of ``dt`` from a fixed initial state,
    with a budget of right-hand-side evaluations (``TRIAL_EVALUATIONS``); raise ConfigError naming ``params``
    (when parameters were overridden) or ``dt`` if the integration fails, diverges or is too stiff for it."""
    import numpy as np

    from physics.dynamics import SimulationError, simulate

    span = system.default_transient + TRIAL_SAMPLES * dt
    budget = int(TRIAL_EVALUATIONS[0] + TRIAL_EVALUATIONS[1] * span / system.time_unit)
    try:
        simulate(system, TRIAL_SAMPLES, dt, rng=np.random.default_rng(0), max_evaluations=budget)
    except SimulationError as error:
        raise simulation_error(error, custom) from None


def simulation_error(error: Exception, custom: bool) -> ConfigError:
    """A :class:`physics.dynamics.SimulationError` as the ConfigError of the key to change (relative to the task
    node): ``params`` when the parameters were overridden, else ``dt``."""
    key = "params" if custom else "dt"
    advice = ("choose parameters for which the motion stays bounded" if custom
              else "choose a smaller task.dt (null: the system's default)")
    return ConfigError(key, f"the system cannot be integrated with these settings: {error} ({advice}).")


#: ``debug=tiny``: a short training trajectory, 2 x 2 short forecasts, 1 seed, 2 epochs (baselines untouched)
DEBUG = {"task": {"n_train": 300, "n_test_trajectories": 2, "n_forecasts": 2, "window": 4, "horizon": 0.5,
                  "n_seeds": 1},
         "trainer": {"epochs": 2}}
