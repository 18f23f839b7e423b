"""Fit y = f(x) from noisy samples: a 1D curve, a 2D function or an image's brightness."""
from .config import DEBUG, Config

__all__ = ["Config", "DEBUG"]
