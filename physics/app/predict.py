"""``ml4phys predict run=<run folder | task> input=<file> [output=<file.csv>]``: a saved run's model on new inputs.

The run folder is one written by ``ml4phys task=...`` (its ``.hydra/config.yaml`` says the task and settings), or
the name of a task: then the latest finished run of that task under ``outputs/<task>/`` (:func:`latest_run`);
the task's ``physics.tasks.<task>.predict`` module reads what the run saved and the input file, and returns one
row per prediction. The rows are written as CSV, atomically, to ``output`` (default:
``<input stem>_predictions.csv`` beside the input). Any bad argument stops with one line naming it and exit
status 1; nothing is written.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

#: task -> the module with ``predict_rows(config, run_dir, input_path) -> list[dict]``
PREDICTORS = {"materials": "physics.tasks.materials.predict", "fit": "physics.tasks.fit.predict",
              "dynamics": "physics.tasks.dynamics.predict", "ising": "physics.tasks.ising.predict"}
ARGUMENTS = ("run", "input", "output")

USAGE = """usage: ml4phys predict run=<run folder | task> input=<file> [output=<file.csv>]

Applies the model saved by a run (the folder holding its .hydra/config.yaml and metrics.json) to new inputs and
writes a CSV (default: <input stem>_predictions.csv beside the input). run=<task> (e.g. run=materials) takes the
latest finished run of that task under outputs/<task>/ of the current folder. Supported tasks and their inputs:

  materials  input: CSV with a column named like the run's composition column (e.g. "formula" or
             "composition"; any other columns are ignored). Columns: formula, prediction (the target, in its
             units; a label for a classifier), uncertainty (SD over the ensemble members: task.ensemble_size > 1
             only), outside_domain (true: an element never seen in training or descriptors far from every
             training row), domain_note, descriptor_distance.
  fit        input: CSV with columns x0 (and x1 for a 2D or image target): points in the network's input
             coordinates. Columns: row, x0[, x1], prediction, outside_domain (a coordinate outside the training
             range [-1, 1]). One network: no uncertainty column.
  dynamics   input: CSV time series sampled at the run's time step, one row per step, one column per feature
             of the system in its own units (forecast mode: every feature; hidden mode: the observed ones).
             Every full window of task.window rows gives one prediction: forecast mode the next step of every
             feature (next_<feature>), hidden mode the hidden coordinate at the window's last step
             (prediction). Columns: row (the window's last row, from 0), the predictions, uncertainty
             (uncertainty_<feature> in forecast mode; SD over the task.n_seeds networks), outside_domain (a
             value of the window outside the range of the training features). The standardisations are the
             run's (models/standardisation.json).
  ising      input: .npy array of spin configurations (n, L, L), values +1/-1. protocol=extremes: L is
             task.network_L times a power of 2 (times 3 at most once), blocked down by majority rule as in the
             run; protocol=labelled: L is one of task.sizes. Columns: row, p_ordered (P(ordered), the mean over
             the task.n_replicas networks), uncertainty (their SD; two replicas or more), label (ordered |
             disordered), p_ordered_replica<r> (each replica's network; two replicas or more). No outside_domain
             column.

Tasks without a saved predictive model (ising_generative, ising_autoencoder) are not supported."""


class PredictError(ValueError):
    """A bad argument of ``ml4phys predict``: the message names it (``run``, ``input`` or ``output``)."""

    def __init__(self, argument: str, message: str):
        super().__init__(f"{argument}: {message}")
        self.argument = argument


def parse_arguments(argv: Sequence[str]) -> dict[str, str]:
    """``["run=a", "input=b"]`` -> ``{"run": "a", "input": "b"}``; raise PredictError for anything else."""
    arguments: dict[str, str] = {}
    for text in argv:
        key, sep, value = text.partition("=")
        if not sep or key not in ARGUMENTS:
            raise PredictError(key if sep else text, f"is not an argument of predict; expected run=<run folder> "
                                                     f"input=<file> [output=<file.csv>]. Got {text!r}.")
        if not value:
            raise PredictError(key, "is empty.")
        arguments[key] = value
    for key in ("run", "input"):
        if key not in arguments:
            raise PredictError(key, "is missing: ml4phys predict run=<run folder> input=<file>.")
    return arguments


def read_columns(input_path: Path, columns: Sequence[str]) -> np.ndarray:
    """The numeric columns ``columns`` of the CSV file ``input_path`` (header first), shape (n, len(columns));
    other columns are ignored. Raises PredictError("input") when one is missing, a value is not a finite number,
    or there are no rows."""
    import csv

    try:
        with open(input_path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [c for c in columns if c not in header]
            if missing:
                raise PredictError("input", f"{str(input_path)!r} lacks the column(s) {', '.join(missing)} "
                                            f"(needed: {', '.join(columns)}; has: {', '.join(header) or 'none'}).")
            text = [[row[c] for c in columns] for row in reader]
    except UnicodeDecodeError:
        raise PredictError("input", f"{str(input_path)!r} is not a UTF-8 CSV file.") from None
    if not text:
        raise PredictError("input", f"{str(input_path)!r} has no rows.")
    values = np.full((len(text), len(columns)), np.nan)
    for i, row in enumerate(text):
        for j, cell in enumerate(row):
            try:
                values[i, j] = float(cell)
            except (TypeError, ValueError):
                pass  # reported below with every other bad row
    bad = np.flatnonzero(~np.all(np.isfinite(values), axis=1))
    if len(bad):
        raise PredictError("input", f"{str(input_path)!r} has empty, non-numeric or non-finite values of "
                                    f"{', '.join(columns)} on line(s) {', '.join(map(str, bad[:5] + 2))}.")
    return values


def latest_run(task: str, outputs: Path = Path("outputs")) -> Path:
    """The folder of the latest finished run of ``task`` under ``outputs/<task>/`` (single runs and sweep jobs):
    the one whose ``metrics.json`` was written last. Raises PredictError("run") when there is none."""
    finished = [path.parent for path in (outputs / task).glob("**/metrics.json") if (path.parent / ".hydra").is_dir()]
    if not finished:
        raise PredictError("run", f"no finished run of task={task} under {str(outputs / task)!r} (looked for "
                                  f"metrics.json beside .hydra/); give the run folder instead.")
    return max(finished, key=lambda folder: (folder / "metrics.json").stat().st_mtime_ns)


def resolve_run(value: str) -> Path:
    """``run=`` as given: an existing folder, else a task name (:func:`latest_run`)."""
    path = Path(value)
    if path.is_dir() or value not in PREDICTORS:
        return path
    return latest_run(value)


def load_run_config(run_dir: Path):
    """The validated AppConfig of the run in ``run_dir`` (from its ``.hydra/config.yaml``)."""
    from omegaconf import OmegaConf

    from physics.app.config import validate
    from physics.app.schema import ConfigError

    if not run_dir.is_dir():
        raise PredictError("run", f"{str(run_dir)!r} is not a folder.")
    path = run_dir / ".hydra" / "config.yaml"
    if not path.is_file():
        raise PredictError("run", f"{str(run_dir)!r} is not a run folder (no .hydra/config.yaml).")
    if not (run_dir / "metrics.json").is_file():
        raise PredictError("run", f"{str(run_dir)!r} holds no finished run (no metrics.json).")
    try:
        return validate(OmegaConf.load(path))
    except (ConfigError, ValueError) as error:
        raise PredictError("run", f"the config of {str(run_dir)!r} is not valid in this version: {error}") from None


def default_output(input_path: Path) -> Path:
    """``<input stem>_predictions.csv`` beside the input."""
    return input_path.with_name(f"{input_path.stem}_predictions.csv")


def predict(run_dir, input_path, output=None) -> Path:
    """Write the predictions of the model saved in ``run_dir`` for the inputs in ``input_path``; return the CSV.

    Parameters
    ----------
    run_dir : path of a finished run's folder, or a task's name (its latest finished run under outputs/<task>/).
    input_path : path of the input file (the format of the run's task: see ``USAGE``).
    output : path of the CSV to write; None: ``<input stem>_predictions.csv`` beside the input.

    Raises
    ------
    PredictError naming ``run``, ``input`` or ``output`` when one is unusable; nothing is written then.
    """
    from physics.app.io import write_csv

    run_dir, input_path = resolve_run(str(run_dir)), Path(input_path)
    config = load_run_config(run_dir)
    name = config.task.name
    if name not in PREDICTORS:
        raise PredictError("run", f"is a run of task={name}, which saves no model predict can apply; predict "
                                  f"supports task={', '.join(sorted(PREDICTORS))}.")
    if not input_path.is_file():
        raise PredictError("input", f"{str(input_path)!r} is not a file.")
    output = default_output(input_path) if output is None else Path(output)
    if not output.parent.is_dir():
        raise PredictError("output", f"the folder of {str(output)!r} does not exist.")
    if output.resolve() == input_path.resolve():
        raise PredictError("output", "must not be the input file.")
    rows = importlib.import_module(PREDICTORS[name]).predict_rows(config, run_dir, input_path)
    return write_csv(output, rows)


def main(argv: Sequence[str]) -> None:
    """``ml4phys predict ...``: print the usage for ``--help``; otherwise predict, or exit 1 with one line."""
    import warnings

    if "--help" in argv or "-h" in argv:
        print(USAGE)
        return
    try:
        arguments = parse_arguments(argv)
        with warnings.catch_warnings():  # out-of-domain inputs are flagged in the CSV, not warned about
            warnings.simplefilter("ignore")
            path = predict(arguments["run"], arguments["input"], arguments.get("output"))
    except PredictError as error:
        print(f"Error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    except (ValueError, OSError) as error:  # a saved model or input the task module could not read
        print(f"Error: {type(error).__name__}: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"predictions written to {path}")
