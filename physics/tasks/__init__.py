"""The registry of tasks: ``task=<name>`` -> the package that holds it.

Every task is one package ``physics/tasks/<name>/`` of the same shape:

* ``__init__.py``: a one-line docstring (shown by ``--help``) and ``from .config import Config, DEBUG``;
* ``config.py``: ``Config``, the schema (a :class:`physics.app.schema.TaskConfig` whose defaults ARE the
  defaults, declaring the model kinds it supports in ``MODELS``), and ``DEBUG``, the tiny settings of
  ``debug=tiny`` (a dict of root nodes, ``{"task": {...}, "trainer": {...}}``; not ``baseline``, which must
  keep working with ``baseline=none``);
* ``task.py``: ``run(config: AppConfig, run_dir: Path) -> TaskResult``;
* ``figures.py``: its figures;

plus ``conf/task/<name>.yaml`` holding only what differs from the schema. Adding a task is that package, that
YAML file, its tests and one line below.
"""
from __future__ import annotations

import importlib
from types import ModuleType

#: task name -> package
TASKS: dict[str, str] = {
    "fit": "physics.tasks.fit",
    "ising": "physics.tasks.ising",
    "ising_generative": "physics.tasks.ising_generative",
    "ising_autoencoder": "physics.tasks.ising_autoencoder",
    "materials": "physics.tasks.materials",
    "dynamics": "physics.tasks.dynamics",
}


def task_package(name: str) -> ModuleType:
    """The package of task ``name`` (its ``Config`` and ``DEBUG``; importing it does not import the task's code)."""
    return importlib.import_module(TASKS[name])


def task_module(name: str) -> ModuleType:
    """The module with the task's ``run(config, run_dir) -> TaskResult``."""
    return importlib.import_module(f"{TASKS[name]}.task")
