"""Physical systems simulated with scipy's integrators, for forecasting and hidden-variable inference.

>>> import numpy as np
>>> from physics.dynamics import Lorenz63, DrivenPendulum, simulate, largest_lyapunov_exponent
>>> trajectory = simulate(Lorenz63(), 2000, 0.01, rng=np.random.default_rng(0))
>>> trajectory.states.shape
(2000, 3)
>>> DrivenPendulum.regime("chaotic").drive_amplitude          # Baker and Gollub's chaotic regime
1.5
>>> value, error = largest_lyapunov_exponent(Lorenz63(), n_steps=2000, rng=np.random.default_rng(0))
>>> abs(value - 0.9056) < 0.1                                  # Sprott's 0.9056, from a short run
True

Modules: :mod:`.system` (the :class:`System` interface), :mod:`.lorenz`, :mod:`.pendulum` and :mod:`.bath`
(the systems), :mod:`.integrate` (a guarded solve_ivp and :class:`SimulationError`), :mod:`.simulate`
(trajectories), :mod:`.lyapunov` (Benettin's largest Lyapunov exponent).
"""

from .bath import POTENTIALS, OscillatorBath
from .lorenz import LORENZ_LYAPUNOV_EXPONENT, Lorenz63
from .lyapunov import largest_lyapunov_exponent
from .pendulum import PENDULUM_REGIMES, DrivenPendulum
from .integrate import DIVERGENCE_BOUND, METHODS, SimulationError
from .simulate import Trajectory, simulate
from .system import System

#: system name (``task.system=...``) -> class
SYSTEMS = {cls.name: cls for cls in (Lorenz63, DrivenPendulum, OscillatorBath)}

__all__ = [
    "System",
    "Lorenz63",
    "DrivenPendulum",
    "OscillatorBath",
    "SYSTEMS",
    "LORENZ_LYAPUNOV_EXPONENT",
    "PENDULUM_REGIMES",
    "POTENTIALS",
    "SimulationError",
    "Trajectory",
    "simulate",
    "largest_lyapunov_exponent",
    "DIVERGENCE_BOUND",
    "METHODS",
]
