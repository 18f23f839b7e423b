"""Regress a material property from its composition (Magpie descriptors), every model cross-validated."""
from .config import DEBUG, Config

__all__ = ["Config", "DEBUG", "load_predictor"]


def __getattr__(name: str):
    # ``from physics.tasks.materials import load_predictor`` without importing the task's code for --help
    if name == "load_predictor":
        from .predictor import load_predictor

        return load_predictor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
