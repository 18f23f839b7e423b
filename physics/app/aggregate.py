"""Collect a sweep's jobs into one table and one figure: ``summary.csv``, ``summary.json``, ``figures/``.

A sweep folder holds Hydra's ``multirun.yaml`` and one subfolder per job (``0/``, ``1/``, ...), each with
Hydra's ``.hydra/overrides.yaml`` and either ``metrics.json`` or ``failure.json``. Each job is one row whose
``status`` is

- ``ok``: ``metrics.json`` was written (its metrics are columns ``metrics.<name>``);
- ``failed``: ``failure.json`` was written (``error`` holds its message);
- ``incomplete``: the job started but wrote neither (interrupted, killed, or still running);
- ``broken``: one of its files cannot be read (``error`` names the file);
- ``not started``: a job of the sweep's grid (expanded from ``multirun.yaml`` as Hydra's basic sweeper does)
  that has no folder, e.g. after an interrupted sweep.

Each override of a job is a column, parsed with Hydra's own override parser (``1e-3`` is the number 0.001, any
string is a string). Runs at the end of every multirun (Hydra callback :class:`AggregateCallback`, which also
records the :class:`SweepOutcome` that sets the exit status of the command line) and as a command for
interrupted or cluster sweeps::

    python -m physics.app.aggregate outputs/fit/2026-11-27/10-00-00-000000
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import yaml
from hydra.errors import HydraException
from hydra.experimental.callback import Callback
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from physics.app import plots
from physics.app.config import figures_config
from physics.app.io import write_csv, write_json

log = logging.getLogger(__name__)

#: every status a row can have, in the order of the counts in ``summary.json`` and the log
STATUSES = ("ok", "failed", "incomplete", "broken", "not started")
#: the columns every row starts with (the overrides and the metrics follow)
_FIXED = ("job", "status", "error", "run_seconds")
#: what reading a job's files may raise: unreadable, not UTF-8, bad JSON or YAML, an override Hydra refuses
_READ_ERRORS = (OSError, ValueError, yaml.YAMLError, HydraException, OmegaConfBaseException)


def parse_overrides(overrides: Sequence[str]) -> dict[str, Any]:
    """``["optimizer.lr=1e-3", "model=cnn"]`` -> ``{"optimizer.lr": 0.001, "model": "cnn"}``, as Hydra parses them.

    Raises HydraException (OverrideParseException) for a line that is not an override.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    return {o.key_or_group if o.package is None else f"{o.key_or_group}@{o.package}": o.value() for o in parsed}


def job_folders(sweep_dir: Path) -> list[Path]:
    """The job subfolders of a sweep (those with Hydra's saved overrides), in job-number order."""
    return sorted((path.parent.parent for path in sweep_dir.glob("*/.hydra/overrides.yaml")),
                  key=lambda path: _job_order(path.name))


def _job_order(name: str) -> tuple:
    return (not name.isdigit(), int(name) if name.isdigit() else 0, name)


def _read_json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"holds a JSON {type(data).__name__}, not an object")
    return data


def _read_overrides(job: Path) -> dict[str, Any]:
    overrides = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text()) or []
    if not isinstance(overrides, list) or not all(isinstance(item, str) for item in overrides):
        raise ValueError("is not a list of overrides")
    return parse_overrides(overrides)


def job_row(job: Path) -> dict[str, Any]:
    """The row of one job folder: ``job``, ``status``, ``error``, ``run_seconds``, its overrides, its metrics."""
    row: dict[str, Any] = {"job": job.name, "status": "incomplete", "error": "", "run_seconds": None}
    path = job / ".hydra" / "overrides.yaml"
    try:
        row.update(_read_overrides(job))
        if (path := job / "metrics.json").exists():
            metrics = _read_json(path)
            row.update(status="ok", run_seconds=metrics.get("run_seconds"))
            row.update({f"metrics.{key}": value for key, value in metrics.items()})
        elif (path := job / "failure.json").exists():
            failure = _read_json(path)
            row.update(status="failed", error=str(failure.get("error", "")), run_seconds=failure.get("run_seconds"))
    except _READ_ERRORS as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        row.update(status="broken", error=f"cannot read {path}: {type(error).__name__}: {message}")
    return row


def expected_jobs(sweep_dir: str | Path) -> list[dict[str, Any]] | None:
    """The overrides of every job of the sweep (parsed, as :func:`parse_overrides`), in job-number order, as
    Hydra's basic sweeper expands them from ``multirun.yaml`` (its ``hydra.sweeper.params``, then
    ``hydra.overrides.task``); None when they cannot be known (no ``multirun.yaml``; another sweeper; a file
    that cannot be read or expanded: logged)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    path = Path(sweep_dir) / "multirun.yaml"
    if not path.exists():
        return None
    try:
        hydra = OmegaConf.load(path).hydra
        if not str(hydra.sweeper.get("_target_", "")).endswith(".BasicSweeper"):
            log.info("%s: sweeper %s, not Hydra's basic one: jobs that never started are not listed", path,
                     hydra.sweeper.get("_target_"))
            return None
        params = OmegaConf.to_container(hydra.sweeper, resolve=False).get("params") or {}
        arguments = [f"{key}={value}" for key, value in params.items()]
        arguments += OmegaConf.to_container(hydra.overrides.task, resolve=False)
        batches = BasicSweeper.split_arguments(_parse_sweep(arguments), hydra.sweeper.get("max_batch_size"))
        return [parse_overrides(job) for batch in batches for job in batch]
    except (*_READ_ERRORS, AttributeError, KeyError, TypeError) as error:
        log.warning("%s: cannot list the jobs of the sweep (%s: %s); jobs that never started are not listed",
                    path, type(error).__name__, error)
        return None


def _parse_sweep(arguments: list[str]) -> list:
    """Parse sweep overrides with the config loader (for ``glob(...)`` over a group's options): Hydra's own
    during a multirun, else one for this application's ``conf/``."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from physics.app.config import CONF_DIR

    if GlobalHydra.instance().is_initialized():
        return OverridesParser.create(GlobalHydra.instance().config_loader()).parse_overrides(arguments)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return OverridesParser.create(GlobalHydra.instance().config_loader()).parse_overrides(arguments)


def _point(overrides: dict[str, Any]) -> str:
    return json.dumps(sorted(overrides.items()), default=str)


def collect(sweep_dir: str | Path) -> list[dict[str, Any]]:
    """One row per job (see the module's help), the jobs of the grid that have no folder included, in job order."""
    sweep_dir = Path(sweep_dir)
    rows = [job_row(job) for job in job_folders(sweep_dir)]
    grid = expected_jobs(sweep_dir)
    if grid is None:
        return rows
    waiting: dict[str, list[int]] = {}  # the grid's points -> job numbers not yet matched to a folder
    for number, overrides in enumerate(grid):
        waiting.setdefault(_point(overrides), []).append(number)
    for row in rows:
        numbers = waiting.get(_point({k: v for k, v in row.items() if k not in _FIXED and
                                      not k.startswith("metrics.")}), [])
        if numbers:
            numbers.remove(int(row["job"]) if row["job"].isdigit() and int(row["job"]) in numbers else numbers[0])
    missing = sorted(number for numbers in waiting.values() for number in numbers)
    rows += [{"job": str(number), "status": "not started", "error": "the sweep ended before this job started",
              "run_seconds": None, **grid[number]} for number in missing]
    return sorted(rows, key=lambda row: _job_order(row["job"]))


def swept_parameters(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Override keys that take more than one value across the jobs (``seed`` last)."""
    keys = [key for key in dict.fromkeys(k for row in rows for k in row)
            if not key.startswith("metrics.") and key not in _FIXED]
    swept = [key for key in keys if len({json.dumps(row.get(key), sort_keys=True) for row in rows}) > 1]
    return sorted(swept, key=lambda key: key == "seed")


def _label(value: Any) -> str:
    """A value as a plot label, ``$`` escaped (matplotlib would typeset ``$...$`` as mathematics)."""
    return (json.dumps(value) if isinstance(value, (list, dict)) else str(value)).replace("$", r"\$")


def _objective_by_point(rows, parameters: Sequence[str]) -> dict[tuple, list[float]]:
    """Successful objectives grouped by the values of ``parameters`` (other swept keys, e.g. seed, pooled)."""
    points: dict[tuple, list[float]] = {}
    for row in rows:
        key = tuple(_label(row.get(p)) for p in parameters)
        objective = row.get("metrics.objective") if row["status"] == "ok" else None
        points.setdefault(key, [])
        if objective is not None and math.isfinite(objective):
            points[key].append(objective)
    return points


def _sort_key(label: str):
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def plot_summary(rows: Sequence[dict[str, Any]], figures_dir: Path) -> list[Path]:
    """Objective against each swept parameter (mean ± std over the other swept keys, e.g. seeds), and a heatmap
    when exactly two non-seed parameters are swept. Failed points are marked with a red cross."""
    parameters = [p for p in swept_parameters(rows) if p != "seed"]
    name = next((row.get("metrics.objective_name") for row in rows if row.get("metrics.objective_name")),
                "objective")
    written = []
    if len(parameters) == 2:
        written.append(_heatmap(rows, parameters, name, figures_dir / "objective_heatmap.png"))
    for parameter in parameters or (["seed"] if "seed" in swept_parameters(rows) else []):
        points = _objective_by_point(rows, [parameter])
        labels = sorted((key[0] for key in points), key=_sort_key)
        values = [points[(label,)] for label in labels]
        numeric = all(_sort_key(label)[0] == 0 for label in labels)
        x = np.array([float(label) for label in labels]) if numeric else np.arange(len(labels))
        mean = np.array([np.mean(v) if v else np.nan for v in values])
        std = np.array([np.std(v, ddof=1) if len(v) > 1 else 0.0 for v in values])
        fig, ax = plots.figure()
        pooled = [p for p in swept_parameters(rows) if p != parameter]
        ax.errorbar(x, mean, yerr=std, marker="o", capsize=4,
                    label=f"mean ± std over {', '.join(pooled)}" if pooled else name)
        failed = [xi for xi, v in zip(x, values) if not v]
        if failed:
            ax.plot(failed, np.full(len(failed), np.nanmin(mean) if np.isfinite(mean).any() else 0.0), "rx",
                    ms=10, label="failed")
        if numeric and x.min() > 0 and x.max() / x.min() >= 10:
            ax.set_xscale("log")
        if not numeric:
            ax.set_xticks(x, labels, rotation=20)
        ax.set_xlabel(parameter)
        ax.set_ylabel(name)
        ax.legend()
        written.append(plots.save(fig, figures_dir / f"objective_vs_{parameter.replace('/', '_')}.png"))
    return written


def _heatmap(rows, parameters, name: str, path: Path) -> Path:
    points = _objective_by_point(rows, parameters)
    first = sorted({key[0] for key in points}, key=_sort_key)
    second = sorted({key[1] for key in points}, key=_sort_key)
    grid = np.full((len(second), len(first)), np.nan)
    for (a, b), values in points.items():
        if values:
            grid[second.index(b), first.index(a)] = np.mean(values)
    fig, ax = plots.figure(width=1.2 * len(first) + 2.5, height=0.8 * len(second) + 2.0)
    shown = ax.imshow(grid, origin="lower", cmap="viridis", aspect="auto")
    for (i, j), value in np.ndenumerate(grid):
        bright = not np.isnan(value) and shown.norm(value) > 0.6  # viridis turns yellow: dark text there
        ax.text(j, i, "failed" if np.isnan(value) else f"{value:.3g}", ha="center", va="center", fontsize=8,
                color="red" if np.isnan(value) else ("black" if bright else "white"))
    ax.set_xticks(range(len(first)), first)
    ax.set_yticks(range(len(second)), second)
    ax.set_xlabel(parameters[0])
    ax.set_ylabel(parameters[1])
    ax.grid(False)
    fig.colorbar(shown, ax=ax, label=f"{name} (mean over seeds)")
    ax.set_title(f"{name}: {parameters[1]} against {parameters[0]}")
    return plots.save(fig, path)


def aggregate(sweep_dir: str | Path) -> list[dict[str, Any]]:
    """Write ``summary.csv``, ``summary.json`` and the summary figures into ``sweep_dir``; return the rows.

    Raises ValueError when ``sweep_dir`` holds no job (no job folder and no ``multirun.yaml`` that lists one).
    A job whose files cannot be read is a ``broken`` row; a figure that cannot be drawn is logged, the tables
    are written all the same.
    """
    sweep_dir = Path(sweep_dir)
    rows = collect(sweep_dir)
    if not rows:
        raise ValueError(f"{sweep_dir} holds no job folders (no */.hydra/overrides.yaml): is it a sweep folder?")
    write_csv(sweep_dir / "summary.csv", rows)
    counts = {status: sum(row["status"] == status for row in rows) for status in STATUSES}
    write_json(sweep_dir / "summary.json", {"sweep_dir": str(sweep_dir), "jobs": len(rows),
                                            **{status.replace(" ", "_"): n for status, n in counts.items()},
                                            "swept": swept_parameters(rows), "rows": rows})
    try:
        plot_summary(rows, sweep_dir / "figures")
    except (ValueError, TypeError, RuntimeError, OSError) as error:  # e.g. a tick label matplotlib cannot typeset
        log.warning("the summary figures of %s could not be drawn: %s: %s", sweep_dir, type(error).__name__, error)
    log.info("sweep summary: %d jobs (%s) -> %s", len(rows),
             ", ".join(f"{n} {status}" for status, n in counts.items() if n or status in ("ok", "failed")),
             sweep_dir / "summary.csv")
    for row in rows:
        if row["status"] in ("failed", "broken"):
            log.warning("job %s %s: %s", row["job"], row["status"], row["error"])
    return rows


@dataclasses.dataclass(frozen=True)
class SweepOutcome:
    """How a multirun ended, for the exit status of the command line.

    Parameters
    ----------
    summary : Path
        The sweep's ``summary.csv``.
    jobs : int
        The jobs of the sweep (every row of the summary).
    failed : int
        The jobs whose status is not ``ok``.
    error : str
        Why the summary could not be written ('' when it was).
    """

    summary: Path
    jobs: int = 0
    failed: int = 0
    error: str = ""

    @property
    def exit_status(self) -> int:
        """1 when every job failed or there is no summary, else 0."""
        return 1 if self.error or self.failed == self.jobs else 0

    @property
    def message(self) -> str:
        """One line for the terminal: how many jobs failed, or why there is no summary; '' when all went well."""
        if self.error:
            return f"the sweep summary {self.summary} could not be written: {self.error}"
        return f"{self.failed} of {self.jobs} jobs failed, see {self.summary}" if self.failed else ""


_outcome: SweepOutcome | None = None  # the last multirun's, set by AggregateCallback in the process running Hydra


def pop_sweep_outcome() -> SweepOutcome | None:
    """The outcome of the multirun that ended last in this process (None if none did), forgotten once read."""
    global _outcome
    outcome, _outcome = _outcome, None
    return outcome


class AggregateCallback(Callback):
    """Hydra callback: aggregate the sweep folder when a multirun ends (all launchers, local or SLURM) and record
    its :class:`SweepOutcome` (Hydra ignores what a callback returns and turns what it raises into a warning)."""

    def on_multirun_end(self, config, **kwargs) -> None:
        global _outcome
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            figures = figures_config(config)
            with plots.figure_settings(figures.format, figures.scale, figures.size):
                rows = aggregate(sweep_dir)
        except Exception as error:  # noqa: BLE001 -- Hydra would only warn; the exit status must say it
            log.exception("the sweep summary of %s could not be written", sweep_dir)
            _outcome = SweepOutcome(sweep_dir / "summary.csv", error=f"{type(error).__name__}: {error}")
            return
        _outcome = SweepOutcome(sweep_dir / "summary.csv", len(rows), sum(row["status"] != "ok" for row in rows))


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m physics.app.aggregate SWEEP_DIR``: write the summary of a sweep folder; exit 1 if it is none,
    or if no job of it is ok (as the sweep's own command)."""
    parser = argparse.ArgumentParser(prog="python -m physics.app.aggregate", description=__doc__.split("\n\n")[0])
    parser.add_argument("sweep_dir", type=Path, help="a multirun folder (holding 0/, 1/, ...)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        rows = aggregate(args.sweep_dir)
    except ValueError as error:
        parser.exit(1, f"error: {error}\n")
    outcome = SweepOutcome(args.sweep_dir / "summary.csv", len(rows), sum(row["status"] != "ok" for row in rows))
    print(f"{len(rows)} jobs summarised in {outcome.summary}"
          + (f" ({outcome.failed} of {len(rows)} not ok)" if outcome.failed else ""))
    if outcome.exit_status:  # as the sweep itself: no job ok is a failure
        raise SystemExit(outcome.exit_status)


if __name__ == "__main__":
    main()
