"""ml4phys physics: the tasks (``tasks/``), the application that runs them (``app/``), the analysis of phase
transitions (``transition/``), the 2D Ising Monte Carlo engine (``ising/``) and materials data (``materials/``)."""
