"""Finite-size scaling of the Ising networks' T_c: T_c(L) extrapolated to L -> infinity, Binder crossings."""
from .config import DEBUG, Config

__all__ = ["Config", "DEBUG"]
