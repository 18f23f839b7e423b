"""``ml4phys --help`` (and ``task=X --help``): the tasks, the config groups and, for the chosen task, every key
with its value, a one-line description and its allowed values, all generated from the schemas."""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Iterator, Sequence

from physics.app.config import GROUPS, ROOT_HELP, group_options
from physics.app.schema import Schema, allowed_values, interval
from physics.tasks import TASKS, task_package

USAGE = """\
ml4phys: machine learning for physics with a from-scratch numpy network.

Usage:  ml4phys [GROUP=OPTION ...] [KEY=VALUE ...]         (in a clone also: python run.py ...)
        ml4phys -m KEY=V1,V2 ...                           a sweep, one job per combination
        ml4phys task=ising --help                          the keys of one task
        ml4phys --cfg job                                  the composed config, without running
        ml4phys predict run=<run|task> input=<file>        apply a run's saved model to new inputs (CSV out)
        ml4phys data task=ising [-m data.size=16,32]       only generate the task's Monte Carlo data (cluster)
        ml4phys slurm-script [data] KEY=V1,V2 ...          print the SLURM array script of that sweep
Outputs go to outputs/<task>/<date>/<time>/ (metrics.json, figures/, run.log)."""


def _describe(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (list, dict, type(None), bool)) else str(value)


def _field_lines(node: Schema, prefix: str) -> Iterator[str]:
    for spec in dataclasses.fields(node):
        value, key = getattr(node, spec.name), f"{prefix}.{spec.name}"
        if isinstance(value, Schema):
            yield from _field_lines(value, key)
            continue
        allowed = allowed_values(spec)
        rule = (f"  [one of: {', '.join(map(str, allowed))}]" if allowed is not None else
                f"  [{interval(spec)}]" if interval(spec) else "")
        yield f"  {key} = {_describe(value)}\n      {spec.metadata.get('help', '')}{rule}"


def help_text(overrides: Sequence[str] = ()) -> str:
    """The help page for the config composed from ``overrides`` (the task chosen there, fit by default)."""
    from physics.app.config import compose

    lines = [USAGE, "", "Tasks (task=NAME):"]
    lines += [f"  {name:<11} {(task_package(name).__doc__ or '').strip().splitlines()[0]}" for name in TASKS]
    lines += ["", "Config groups (GROUP=OPTION):"]
    for group in ("model", "optimizer", "schedule", "baseline", "experiment", "debug", "logger"):
        lines.append(f"  {group:<11} {', '.join(group_options(group))}")
    try:
        cfg = compose(overrides)
    except ValueError as error:
        return "\n".join([*lines, "", f"(cannot list the keys: {error})"])
    from physics.app.config import validate

    app = validate(cfg)
    lines += ["", f"Keys of task={app.task.name} with model={cfg.model.name}, optimizer={cfg.optimizer.name}, "
                  f"schedule={cfg.schedule.name} (KEY=VALUE; values shown are the current ones):"]
    for group in ("task", *(g for g in GROUPS if g != "task")):
        lines += list(_field_lines(getattr(app, group), group))
    for key, text in ROOT_HELP.items():
        lines.append(f"  {key} = {_describe(cfg[key])}\n      {text}")
    for node in ("figures", "logger", "data", "parallel", "local"):
        lines += list(_field_lines(getattr(app, node), node))
    lines.append(f"  baseline.<name>.<parameter>\n      scikit-learn baselines: {', '.join(app.baseline) or 'none'} "
                 f"(drop one with ~baseline.NAME)")
    return "\n".join(lines)
