"""The estimator of e, |m|, c and chi on synthetic samples with known answers, the deviation in sigma, the exact
references, and that the comparison catches a bad model (configurations of the wrong temperature)."""
import math

import numpy as np
import pytest

from physics.ising.dataset import generate_dataset
from physics.ising.exact import enumerate_observables, torus_energy, torus_specific_heat
from physics.tasks.ising_generative.estimators import deviation, exact_observables, measure, symmetry
from physics.tasks.ising_generative.models import temperature_key


def test_all_up_configurations():
    spins = np.ones((50, 8, 8), dtype=np.int8)
    values = measure(spins, 1.5)
    assert values["e"][0] == pytest.approx(-2.0) and values["abs_m"][0] == pytest.approx(1.0)
    assert values["c"][0] == pytest.approx(0.0, abs=1e-12) and values["chi"][0] == pytest.approx(0.0, abs=1e-12)
    assert all(error == pytest.approx(0.0, abs=1e-12) for _, error in values.values())
    # half of them all down: |m| and e do not change, nor do the fluctuations of |m|
    spins[::2] = -1
    flipped = measure(spins, 1.5)
    assert flipped["abs_m"][0] == pytest.approx(1.0) and flipped["chi"][0] == pytest.approx(0.0, abs=1e-12)


def test_independent_random_spins():
    """T = infinity configurations: e = 0, Var(e) = 2/N (2N uncorrelated bonds), so c = 2/T^2;
    <|m|> = sqrt(2/(pi N)) and Var(|m|) = (1 - 2/pi)/N, so chi = (1 - 2/pi)/T (large N)."""
    L, T, n = 16, 2.0, 4000
    spins = np.where(np.random.default_rng(0).random((n, L, L)) < 0.5, 1, -1).astype(np.int8)
    values = measure(spins, T)
    N = L * L
    known = {"e": 0.0, "abs_m": math.sqrt(2 / (math.pi * N)), "c": 2 / T ** 2, "chi": (1 - 2 / math.pi) / T}
    for obs, answer in known.items():
        value, error = values[obs]
        assert error > 0
        assert abs(value - answer) < 4 * error + 0.01 * abs(answer), (obs, value, error, answer)
    # the error of the mean is the standard error of the samples: exactly for the delete-one jackknife, within
    # the scatter of an error estimate from 100 blocks (~7 %) for the default
    e = -np.mean(spins * (np.roll(spins, 1, 1) + np.roll(spins, 1, 2)), axis=(1, 2))
    standard_error = e.std(ddof=1) / math.sqrt(n)
    assert measure(spins, T, n_blocks=n)["e"][1] == pytest.approx(standard_error, rel=1e-9)
    assert values["e"][1] == pytest.approx(standard_error, rel=0.25)


def test_the_symmetry_check_sees_what_the_four_observables_cannot():
    """All-up and half-up-half-down ordered samples have the same e, |m|, c and chi; only the signed <m> differs."""
    up = np.ones((200, 8, 8), dtype=np.int8)
    both = up.copy()
    both[1::2] = -1
    assert measure(up, 1.5) == measure(both, 1.5)
    one_sided, balanced = symmetry(up), symmetry(both)
    assert one_sided["up_fraction"] == 1.0 and one_sided["m"] == pytest.approx(1.0)
    assert one_sided["deviation_from_zero"] == math.inf  # all +1: no spread at all
    assert balanced["up_fraction"] == 0.5 and balanced["m"] == pytest.approx(0.0, abs=1e-12)
    assert balanced["deviation_from_zero"] == pytest.approx(0.0, abs=1e-9)
    noisy = np.where(np.random.default_rng(1).random((400, 8, 8)) < 0.9, 1, -1).astype(np.int8)
    noisy[::2] *= -1
    noisy[:40] = np.abs(noisy[:40])  # 20 more configurations up than down: 5 % above one half
    assert symmetry(noisy)["up_fraction"] == pytest.approx(0.55)
    assert symmetry(noisy)["deviation_from_zero"] > 2


def test_deviation_in_units_of_the_combined_error():
    assert deviation((1.0, 0.3), (0.0, 0.4)) == pytest.approx(2.0)
    assert deviation((0.0, 0.3), (1.0, 0.4)) == pytest.approx(-2.0)
    assert deviation((1.5, 0.5), (1.0, 0.0)) == pytest.approx(1.0)  # an exact reference
    assert deviation((1.0, 0.0), (1.0, 0.0)) == 0.0
    assert deviation((1.0, 0.0), (2.0, 0.0)) == -math.inf


def test_exact_references():
    T = np.array([1.5, 2.269185, 3.5])
    small = exact_observables(4, T)  # L^2 = 16 <= 24: every observable by enumeration
    enumerated = enumerate_observables(4, T)
    assert np.allclose(small["abs_m"], enumerated["abs_magnetization"])
    assert np.allclose(small["chi"], enumerated["susceptibility"])
    assert np.allclose(small["e"], enumerated["energy"]) and np.allclose(small["c"], enumerated["specific_heat"])
    large = exact_observables(8, T)  # no exact |m| and chi of the 8 x 8 torus: none is drawn
    assert large["abs_m"] is None and large["chi"] is None
    assert np.allclose(large["e"], torus_energy(8, T)) and np.allclose(large["c"], torus_specific_heat(8, T))


def test_the_comparison_detects_configurations_of_the_wrong_temperature():
    """Monte Carlo at T = 2.0 and 3.5 against an independent set at 2.0: the right temperature agrees within a few
    sigma, the wrong one (a model that learned the wrong distribution) is off by many."""
    temperatures = [2.0, 3.5]
    data = generate_dataset(8, temperatures, 400, seed=1, cache_dir=False, n_jobs=1, progress=False)
    reference = generate_dataset(8, temperatures, 400, seed=2, cache_dir=False, n_jobs=1, progress=False)
    at = {T: data.spins[data.temperature == T] for T in temperatures}
    truth = measure(reference.spins[reference.temperature == 2.0], 2.0)
    right, wrong = measure(at[2.0], 2.0), measure(at[3.5], 2.0)
    assert abs(deviation(right["e"], truth["e"])) < 4 and abs(deviation(right["abs_m"], truth["abs_m"])) < 4
    assert deviation(wrong["e"], truth["e"]) > 20 and deviation(wrong["abs_m"], truth["abs_m"]) < -20


def test_temperature_keys_have_no_dots():
    assert temperature_key(2.269185) == "T2_269185" and temperature_key(1.5) == "T1_5"
    assert temperature_key(3.0) == "T3_0"
