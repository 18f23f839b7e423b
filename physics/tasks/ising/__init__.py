"""Learn the 2D Ising ferromagnetic transition from raw spins: T_c, what the network learned, PCA, confusion."""
from .config import DEBUG, Config

__all__ = ["Config", "DEBUG"]
