"""The application around ``core`` and the physics: configs, validation, the one training path, running.

* :mod:`.schema`, :mod:`.networks`: the config schemas (defaults and constraints as data);
* :mod:`.config`: ConfigStore registration, strict validation, :func:`compose` for notebooks;
* :mod:`.training`: the one way a task trains a network; :mod:`.baselines`: scikit-learn baselines;
* :mod:`.result`: :class:`TaskResult`; :mod:`.runner`: :func:`run` (validate, run, write metrics);
* :mod:`.cli`: the ``ml4phys`` command (and ``python run.py``), ``--help``; :mod:`.aggregate`: sweeps;
* :mod:`.io`, :mod:`.seeding`, :mod:`.plots`: atomic files, named random streams, figure style.

Importing this package is light; the functions below import what they need when called.
"""
from __future__ import annotations


def compose(overrides=()):
    """See :func:`physics.app.config.compose`."""
    from physics.app.config import compose as _compose

    return _compose(overrides)


def run(cfg, run_dir):
    """See :func:`physics.app.runner.run`."""
    from physics.app.runner import run as _run

    return _run(cfg, run_dir)


__all__ = ["compose", "run"]
