"""Start-up cost of the application: what a user waits for before any work, per command.

    python benchmarks/bench_app.py               # 5 repeats of each command
    python benchmarks/bench_app.py --repeats 9

Each command is a fresh `python run.py ...` subprocess (as a user runs it), timed from start to exit. The
reference, measured in the same run, is the floor every command pays: a Python process that imports numpy and
Hydra and does nothing else. Prints the median wall time of each and its ratio to the floor.
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
FLOOR = [sys.executable, "-c", "import numpy, hydra, omegaconf"]
COMMANDS = {
    "run.py --help": ["--help"],
    "run.py task=ising --help": ["task=ising", "--help"],
    "run.py --cfg job": ["--cfg", "job"],
    "run.py +task.epoch=1 (refused)": ["+task.epoch=1"],
    "run.py task=fit debug=tiny": ["task=fit", "debug=tiny"],
}


def wall_seconds(command: list[str], workdir: Path, repeats: int) -> float:
    """Median wall time of ``command`` run ``repeats`` times (after one unmeasured warm-up run)."""
    times = []
    for repeat in range(repeats + 1):
        start = time.perf_counter()
        subprocess.run(command, cwd=workdir, capture_output=True, check=False)
        if repeat:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each command (median reported)")
    args = parser.parse_args()
    print(machine_description())
    with tempfile.TemporaryDirectory() as workdir:
        floor = wall_seconds(FLOOR, Path(workdir), args.repeats)
        rows = [("floor: import numpy, hydra", f"{floor:.2f}", "1.00")]
        for label, arguments in COMMANDS.items():
            seconds = wall_seconds([sys.executable, str(ROOT / "run.py"), *arguments], Path(workdir), args.repeats)
            rows.append((label, f"{seconds:.2f}", f"{seconds / floor:.2f}"))
    print(format_table(["command", "median s", "× floor"], rows))


if __name__ == "__main__":
    main()
