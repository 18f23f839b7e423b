"""The whole-run benchmark's bookkeeping; the runs themselves with the debug settings (slow: two fresh processes).
(Speed itself is measured by `python -m benchmarks.bench_runs`, never by a test.)"""

import pytest

from benchmarks.bench_runs import main, ratio, stages


def test_stages_are_sorted_and_the_rest_of_the_wall_time_is_accounted_for():
    metrics = {"task": "ising", "seconds.training": 3.0, "seconds.figures": 5.0, "run_seconds": 8.5}
    parts = stages(metrics, wall=10.0)
    assert parts == [("figures", 5.0), ("training", 3.0), ("start-up and the rest", 2.0)]
    assert sum(seconds for _, seconds in parts) == 10.0
    assert ratio(45.0, 30.0) == "1.50" and ratio(None, 30.0) == "—"


@pytest.mark.slow
def test_the_benchmark_runs_with_the_debug_settings(capsys):
    main(["--debug", "--runs", "ising"])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| python run.py task=ising")]
    assert [row.split("|")[2].strip() for row in rows] == ["cold", "warm"]
    assert out.count("start-up and the rest") == 2  # a stage table for each pass
