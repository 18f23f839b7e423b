"""ml4phys physics: the tasks (``tasks/``), the application that runs them (``app/``), the analysis of phase
transitions (``transition/``), the 2D Ising Monte Carlo engine (``ising/``) and materials data (``materials/``)."""

from core._version import package_version as _package_version

__version__ = _package_version()  # stated once, in pyproject.toml
