"""The 2D Ising critical temperature from what networks learned: trained far from T_c, read on block spins of several sizes, finite-size scaling, replicas, the Binder baseline."""
from .config import DEBUG, Config

__all__ = ["Config", "DEBUG"]
