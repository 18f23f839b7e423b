"""The train/test/window split of task=ising, with and without holding the critical window out."""
import numpy as np
import pytest

from physics.ising.dataset import IsingDataset
from physics.tasks.ising.data import split_dataset


@pytest.fixture
def dataset():
    temperatures = np.array([1.0, 2.0, 2.25, 2.5, 3.0])
    temperature = np.repeat(temperatures, 10)
    n = temperature.size
    return IsingDataset(spins=np.ones((n, 4, 4), np.int8), temperature=temperature,
                        label=(temperature < 2.269).astype(np.int64), energy=np.zeros(n), magnetization=np.zeros(n),
                        temperatures=temperatures, critical_temperature=2.269, L=4, lattice="square",
                        algorithm=("metropolis",) * 5, burn_in=np.zeros(5, np.int64), thin=np.ones(5, np.int64),
                        tau_energy=np.zeros(5), tau_abs_magnetization=np.zeros(5))


def test_window_held_out(dataset):
    split = split_dataset(dataset, (2.0, 2.5), 0.2, np.random.default_rng(0))
    T = dataset.temperature
    assert set(T[split.train]) == set(T[split.test]) == {1.0, 3.0}
    assert split.train.size == 16 and split.test.size == 4  # 2 per temperature in the test set
    assert np.array_equal(split.window, np.flatnonzero((T >= 2.0) & (T <= 2.5)))
    assert np.array_equal(split.evaluation, np.sort(np.concatenate([split.test, split.window])))
    assert np.array_equal(dataset.temperatures[split.groups], T[split.evaluation])
    assert not set(split.train) & set(split.evaluation)


def test_window_trained_on(dataset):
    split = split_dataset(dataset, (2.0, 2.5), 0.2, np.random.default_rng(0), hold_out_window=False)
    T = dataset.temperature
    assert set(T[split.train]) == set(dataset.temperatures)
    assert split.train.size == 40 and split.evaluation.size == 10
    assert set(T[split.window]) == {2.0, 2.25, 2.5} and split.window.size == 6
    assert set(T[split.test]) == {1.0, 3.0}
    assert not set(split.train) & set(split.evaluation)
