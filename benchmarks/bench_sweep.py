"""Sweep scaling: the same 4-point multirun with Hydra's basic (sequential) launcher and the joblib launcher.

    python benchmarks/bench_sweep.py            # 4 seeds of task=fit, each job ~10 s of training
    python benchmarks/bench_sweep.py --quick    # shorter jobs

Each sweep is a real `python run.py -m ...` subprocess, timed from start to the written summary. Prints a
table with the wall time of each launcher and the speed-up (basic / joblib), medians over --repeats runs.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import format_table, machine_description  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def time_sweep(launcher: str, job_overrides: list[str], workdir: Path) -> float:
    sweep_dir = Path(tempfile.mkdtemp(dir=workdir, prefix=f"{launcher}-"))
    command = [sys.executable, str(ROOT / "run.py"), "-m", f"hydra/launcher={launcher}",
               f"hydra.sweep.dir={sweep_dir}", *job_overrides]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=workdir)
    seconds = time.perf_counter() - start
    if not (sweep_dir / "summary.csv").exists():
        raise RuntimeError(f"the {launcher} sweep wrote no summary")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter jobs (noisier ratio)")
    parser.add_argument("--repeats", type=int, default=3, help="sweeps per launcher (median reported)")
    args = parser.parse_args()
    epochs = 150 if args.quick else 1500  # ~20 s of training per job, so start-up costs stay small
    jobs = ["task=fit", "seed=0,1,2,3", f"trainer.epochs={epochs}", "trainer.early_stopping=false", "task.objective=test_mse",
            "task.n_samples=3000", "model.hidden=[128,128]", "baseline=none", "progress=false"]
    print(machine_description())
    print(f"sweep: python run.py -m {' '.join(jobs)}")
    with tempfile.TemporaryDirectory() as workdir:
        times = {launcher: [] for launcher in ("basic", "joblib")}
        for _ in range(args.repeats):
            for launcher in times:  # interleaved, so drifts in machine load hit both alike
                times[launcher].append(time_sweep(launcher, jobs, Path(workdir)))
    basic = statistics.median(times["basic"])
    rows = [[launcher, "4", f"{statistics.median(t):.1f}", f"{basic / statistics.median(t):.2f}x"]
            for launcher, t in times.items()]
    print(format_table(["launcher", "jobs", "wall time (s, median)", "speed-up vs basic"], rows))


if __name__ == "__main__":
    main()
