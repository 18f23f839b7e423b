"""The 2D Ising transition without labels: autoencoders and VAEs per lattice size, the Binder-like cumulant of their code, its crossings, finite-size scaling, PCA beside them."""
from .config import DEBUG, Config

__all__ = ["Config", "DEBUG"]
