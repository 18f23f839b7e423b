"""The CNN benchmark runs end to end on tiny settings and counts the FLOPs of the products it claims.
(Speed itself is measured by `python -m benchmarks.bench_cnn`, never by a test.)"""

import numpy as np

from benchmarks.bench_cnn import HEADERS, CoreTrainer, flops_per_sample, main, spin_batches


def test_flop_count_of_the_default_cnn():
    L = 8
    network = CoreTrainer((16, 16), L, spin_batches(np.random.default_rng(0), L, 4)).network
    first, second, dense = 2 * L * L * 9 * 16, 2 * L * L * (16 * 9) * 16, 2 * 16 * 2
    # forward + weight gradient everywhere, input gradient of all but the first layer
    assert flops_per_sample(network) == 2 * first + 3 * second + 3 * dense


def test_core_trainer_takes_steps():
    L = 8
    trainer = CoreTrainer((16,), L, spin_batches(np.random.default_rng(1), L, 4))
    before = trainer.network.get_weights()
    trainer.run(2)
    after = trainer.network.get_weights()
    assert all(np.abs(after[name] - before[name]).max() > 0 for name in before)


def test_quick_run_prints_the_table(capsys):
    rows = main(["--quick", "--no-torch", "--blocks", "1", "--samples", "16"])
    out = capsys.readouterr().out
    assert [row[0] for row in rows] == ["default CNN", "small CNN"]
    assert all(len(row) == len(HEADERS) and row[5] == "not installed" for row in rows)
    assert "core samples/s" in out and "default CNN" in out
