"""Collect a sweep's jobs into one table and one figure: ``summary.csv``, ``summary.json``, ``figures/``.

A sweep folder holds one subfolder per job (``0/``, ``1/``, ...), each with Hydra's ``.hydra/overrides.yaml``
and either ``metrics.json`` (status ``ok``), ``failure.json`` (status ``failed``, with the error message), or
neither (status ``incomplete``: the job was interrupted or is still running). Runs at the end of every
multirun (Hydra callback :class:`AggregateCallback`) and as a command for interrupted or cluster sweeps::

    python -m physics.app.aggregate outputs/fit/2026-11-27/10-00-00-000000
"""
from __future__ import annotations

import argparse
import json
import logging
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import yaml
from hydra.experimental.callback import Callback

from physics.app import plots
from physics.app.io import write_csv, write_json

log = logging.getLogger(__name__)


def _parse_override(text: str) -> tuple[str, Any]:
    key, _, value = text.partition("=")
    return key.lstrip("+~"), yaml.safe_load(value) if value else None


def job_folders(sweep_dir: Path) -> list[Path]:
    """The job subfolders of a sweep (those with Hydra's saved overrides), in job-number order."""
    jobs = [path.parent.parent for path in sweep_dir.glob("*/.hydra/overrides.yaml")]
    return sorted(jobs, key=lambda path: (not path.name.isdigit(), int(path.name) if path.name.isdigit()
                                          else 0, path.name))


def collect(sweep_dir: str | Path) -> list[dict[str, Any]]:
    """One row per job: ``job``, ``status``, ``error``, ``run_seconds``, each override by key, each metric."""
    rows = []
    for job in job_folders(Path(sweep_dir)):
        overrides = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text()) or []
        row: dict[str, Any] = {"job": job.name, "status": "incomplete", "error": "", "run_seconds": None}
        row.update(dict(_parse_override(item) for item in overrides))
        if (job / "metrics.json").exists():
            metrics = json.loads((job / "metrics.json").read_text())
            row.update(status="ok", run_seconds=metrics.get("run_seconds"))
            row.update({f"metrics.{key}": value for key, value in metrics.items()})
        elif (job / "failure.json").exists():
            failure = json.loads((job / "failure.json").read_text())
            row.update(status="failed", error=failure.get("error", ""), run_seconds=failure.get("run_seconds"))
        rows.append(row)
    return rows


def swept_parameters(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Override keys that take more than one value across the jobs (``seed`` last)."""
    keys = [key for key in dict.fromkeys(k for row in rows for k in row)
            if not key.startswith("metrics.") and key not in ("job", "status", "error", "run_seconds")]
    swept = [key for key in keys if len({json.dumps(row.get(key), sort_keys=True) for row in rows}) > 1]
    return sorted(swept, key=lambda key: key == "seed")


def _label(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


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
    """Write ``summary.csv``, ``summary.json`` and the summary figures into ``sweep_dir``; return the rows."""
    sweep_dir = Path(sweep_dir)
    rows = collect(sweep_dir)
    if not rows:
        raise ValueError(f"{sweep_dir} holds no job folders (no */.hydra/overrides.yaml): is it a sweep folder?")
    write_csv(sweep_dir / "summary.csv", rows)
    counts = {status: sum(row["status"] == status for row in rows) for status in ("ok", "failed", "incomplete")}
    write_json(sweep_dir / "summary.json", {"sweep_dir": str(sweep_dir), "jobs": len(rows), **counts,
                                            "swept": swept_parameters(rows), "rows": rows})
    plot_summary(rows, sweep_dir / "figures")
    log.info("sweep summary: %d jobs (%d ok, %d failed, %d incomplete) -> %s", len(rows), counts["ok"],
             counts["failed"], counts["incomplete"], sweep_dir / "summary.csv")
    for row in rows:
        if row["status"] == "failed":
            log.warning("job %s failed: %s", row["job"], row["error"])
    return rows


class AggregateCallback(Callback):
    """Hydra callback: aggregate the sweep folder when a multirun ends (all launchers, local or SLURM)."""

    def on_multirun_end(self, config, **kwargs) -> None:
        aggregate(config.hydra.sweep.dir)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m physics.app.aggregate", description=__doc__.split("\n\n")[0])
    parser.add_argument("sweep_dir", type=Path, help="a multirun folder (holding 0/, 1/, ...)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        rows = aggregate(args.sweep_dir)
    except ValueError as error:
        parser.exit(1, f"error: {error}\n")
    print(f"{len(rows)} jobs summarised in {args.sweep_dir / 'summary.csv'}")


if __name__ == "__main__":
    main()
