"""Forecast a simulated system (Lorenz-63, a driven pendulum) or infer a hidden coordinate (a particle in a bath)."""
from .config import DEBUG, Config

__all__ = ["Config", "DEBUG"]
