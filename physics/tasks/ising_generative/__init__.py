"""Generative RBMs of the 2D Ising model: e, |m|, c and chi of their samples against Monte Carlo, exact values and scikit-learn's RBM."""
from .config import DEBUG, Config

__all__ = ["Config", "DEBUG"]
