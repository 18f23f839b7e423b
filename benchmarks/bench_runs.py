"""Whole runs as a user starts them, against their time budgets, with the time of every stage.

    python -m benchmarks.bench_runs                      # the three runs the budgets name
    python -m benchmarks.bench_runs --runs ising_cnn     # one of them
    python -m benchmarks.bench_runs --debug              # the same commands with debug=tiny (a smoke test)

Each run is a fresh ``python run.py ...`` subprocess in a temporary folder, with its own empty Monte Carlo cache:
the Ising runs go once with the empty cache (cold) and once more with the cache the first one filled (warm). The
reference measured in the same run is the budget each run must meet (issue 18; ``task=ising``: 3 minutes cold,
45 s warm; ``model=cnn``: 90 s warm; ``task=materials``: 2 minutes), printed as the ratio budget / wall time (> 1:
within budget). The per-stage table comes from the run's own ``metrics.json`` (``seconds.<stage>``, measured by
:func:`physics.app.training.stage`); "start-up and the rest" is the wall time not inside any stage (interpreter,
imports, Hydra, validation, writing metrics). Entries ``seconds.<fits> (worker s)`` (``task=materials``: each model's
folds and learning-curve fits in the evaluation's pool of workers) are work summed over workers, not wall time: they
get a table of their own and are not counted in the stages.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import format_table, machine_description  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Run:
    """A command line (overrides of ``run.py``), whether its Monte Carlo cache matters, and its budgets in
    seconds (cold: empty cache; warm: the cache filled by the cold run; None: no budget)."""

    overrides: tuple[str, ...]
    cached: bool
    cold_budget: float | None
    warm_budget: float | None


RUNS = {
    "ising": Run(("task=ising",), True, 180.0, 45.0),
    "ising_cnn": Run(("task=ising", "model=cnn"), True, None, 90.0),
    "materials": Run(("task=materials",), False, 120.0, None),
}


def timed_run(overrides, workdir: Path, cache: Path, debug: bool) -> tuple[float, dict]:
    """Wall seconds of one ``run.py`` subprocess and its metrics.json; raises RuntimeError if it failed."""
    command = [sys.executable, str(ROOT / "run.py"), *overrides, f"data_dir={cache}", "progress=false",
               f"hydra.run.dir={workdir / 'run'}"] + (["debug=tiny"] if debug else [])
    env = dict(os.environ, OMP_NUM_THREADS="1")
    start = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(overrides)} failed (status {done.returncode}):\n{done.stderr[-2000:]}")
    return seconds, json.loads((workdir / "run" / "metrics.json").read_text())


#: suffix of a ``seconds.*`` entry that sums one model's fits in a pool of workers (work, not wall time: such
#: entries overlap each other and their stage, e.g. "evaluation network (worker s)" inside "evaluation (all models)")
WORKER_SECONDS = " (worker s)"


def stages(metrics: dict, wall: float) -> list[tuple[str, float]]:
    """(stage, seconds) from ``seconds.<stage>`` of a run's metrics (wall-time stages only), longest first, then the
    rest of the wall time."""
    measured = sorted(((key.removeprefix("seconds."), float(value)) for key, value in metrics.items()
                       if key.startswith("seconds.") and not key.endswith(WORKER_SECONDS)), key=lambda item: -item[1])
    return measured + [("start-up and the rest", max(wall - sum(s for _, s in measured), 0.0))]


def worker_seconds(metrics: dict) -> list[tuple[str, float]]:
    """(what, seconds) of the ``seconds.<what> (worker s)`` entries of a run's metrics, longest first."""
    return sorted(((key.removeprefix("seconds.").removesuffix(WORKER_SECONDS), float(value))
                   for key, value in metrics.items() if key.startswith("seconds.") and key.endswith(WORKER_SECONDS)),
                  key=lambda item: -item[1])


def ratio(budget: float | None, seconds: float) -> str:
    return "—" if budget is None else f"{budget / seconds:.2f}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", choices=sorted(RUNS), default=list(RUNS), help="runs to time")
    parser.add_argument("--debug", action="store_true", help="add debug=tiny to every run (a smoke test)")
    args = parser.parse_args(argv)
    print(f"# Whole runs, {time.strftime('%Y-%m-%d')}: {machine_description()}; OMP_NUM_THREADS=1\n")
    summary, details = [], []
    for name in args.runs:
        spec = RUNS[name]
        with tempfile.TemporaryDirectory(prefix=f"bench_runs_{name}_") as folder:
            workdir, cache = Path(folder), Path(folder) / "cache"
            passes = [("cold", spec.cold_budget)] + ([("warm", spec.warm_budget)] if spec.cached else [])
            for label, budget in passes:
                wall, metrics = timed_run(spec.overrides, workdir, cache, args.debug)
                command = "python run.py " + " ".join(spec.overrides)
                summary.append([command, label if spec.cached else "—", f"{wall:.1f}",
                                "—" if budget is None else f"{budget:.0f}", ratio(budget, wall)])
                details.append((f"{command} ({label})" if spec.cached else command, wall, stages(metrics, wall),
                                worker_seconds(metrics)))
    print(format_table(["run", "cache", "wall s", "budget s", "budget / wall"], summary))
    for title, wall, parts, work in details:
        print(f"\n{title}: {wall:.1f} s\n")
        print(format_table(["stage", "s", "share"], [[stage, f"{s:.1f}", f"{100 * s / wall:.0f} %"]
                                                     for stage, s in parts]))
        if work:
            total = sum(s for _, s in work)
            print(f"\nwork in the pool of workers ({total:.1f} worker s in all, summed over each model's fits):\n")
            print(format_table(["fits", "worker s", "share"], [[what, f"{s:.1f}", f"{100 * s / total:.0f} %"]
                                                               for what, s in work]))


if __name__ == "__main__":
    main()
