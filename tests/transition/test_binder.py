"""The reweighted Swendsen–Wang Binder baseline against exact results: the 4 x 4 torus by enumeration, and T_c of
the infinite lattice (Onsager)."""
import json
import math

import numpy as np
import pytest

from physics.ising import enumerate_observables
from physics.transition.binder import U4_STAR, BinderResult, binder_baseline, critical_runs

TC = 2.0 / math.log(1.0 + math.sqrt(2.0))  # Onsager


# -- the reweighted baseline ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_baseline():
    """L = 4 and 8, 8 chains, started far from T_c (~2 s)."""
    return binder_baseline([4, 8], start_temperature=2.6, n_chains=8, n_sweeps=1500, pilot_sweeps=200, seed=5,
                           n_jobs=1)


def test_reweighted_cumulant_of_the_4x4_torus_is_exact(small_baseline):
    """U_4(T) of L = 4, reweighted over its whole range, against enumeration of all 2^16 states."""
    T, U, error = small_baseline.curves[4]
    assert T[0] < small_baseline.simulation_temperature < T[-1] and T.shape == U.shape == error.shape == (101,)
    exact = enumerate_observables(4, T)["binder"]
    pulls = (U - exact)[::10] / error[::10]
    # 11 strongly correlated points of one data set, each within 4 jackknife errors (a 4-sigma miss of a correct
    # estimate has probability 6e-5; 8 chains make the error itself uncertain by ~27 %, which 4 sigma absorbs)
    assert np.all(np.abs(pulls) < 4), pulls
    assert np.all(error > 0) and error.max() < 0.02  # and the comparison is sharp


def test_small_baseline_result(small_baseline):
    result = small_baseline
    assert result.pilot_temperatures[0] == 2.6  # the pilot starts where it is told, not at T_c
    # the production temperature is the pilot's crossing: the final crossing lies inside its reweighting range
    (pair,) = result.pairs
    assert (pair["L_small"], pair["L_large"]) == (4, 8)
    assert result.curves[8][0][0] < pair["T_cross"] < result.curves[8][0][-1]
    assert result.simulation_temperature == round(result.simulation_temperature, 3)
    tc = result.tc
    # one pair: the pair's pseudo-critical temperature; its drift to T_c(inf) cannot be assessed
    assert tc.kind == "T*(L)" and tc.ok and tc.value == pair["T_cross"] and tc.stat == pair["T_cross_err"] > 0
    assert tc.sys == 0.0 and "not assessed" in tc.sys_source
    assert tc.dof == 7 and tc.sizes == (4, 8)
    # L = 4/8 cross near 2.24 (strong corrections at these sizes, measured over 8 seeds: 2.21-2.25); 8 jackknife
    # errors (~0.02 each) cover that shift and the statistics
    assert abs(tc.value - TC) < 8 * tc.stat
    assert result.U4["value"] == pair["U4_cross"] and result.U4["exact"] == U4_STAR
    assert 0.55 < pair["U4_cross"] < 2 / 3  # between U4* and the ordered limit (L = 4, 8 cross above U4*)


def test_result_survives_json(small_baseline):
    """as_dict -> JSON (NaN as null, as physics.app.io.write_json writes it) -> from_dict gives the same result."""
    text = json.dumps(small_baseline.as_dict()).replace("NaN", "null")
    back = BinderResult.from_dict(json.loads(text))
    assert back.tc.value == small_baseline.tc.value and back.tc.sys == small_baseline.tc.sys
    assert back.tc.kind == small_baseline.tc.kind
    assert back.pairs == small_baseline.pairs
    np.testing.assert_array_equal(back.curves[8][1], small_baseline.curves[8][1])


def test_critical_runs_are_reproducible_whatever_n_jobs():
    one = critical_runs([4, 6], 2.3, n_chains=10, n_sweeps=20, seed=3, n_jobs=1)
    two = critical_runs([4, 6], 2.3, n_chains=10, n_sweeps={4: 20, 6: 20}, seed=np.random.SeedSequence(3), n_jobs=2)
    for L in (4, 6):
        assert one[L]["energy"].shape == one[L]["magnetization"].shape == (10, 20)
        np.testing.assert_array_equal(one[L]["energy"], two[L]["energy"])
        np.testing.assert_array_equal(one[L]["magnetization"], two[L]["magnetization"])
    assert not np.array_equal(one[4]["energy"], critical_runs([4], 2.3, n_chains=10, n_sweeps=20, seed=4)[4]["energy"])


def test_baseline_end_to_end_near_tc():
    """L = 8, 16, 32 with modest statistics: the L = 16/32 crossing agrees with T_c within 3 combined errors
    (a 3-sigma miss of a calibrated error has probability 0.3 %; the systematic part, the step from the 8/16
    crossing, bounds the remaining finite-size shift)."""
    result = binder_baseline([8, 16, 32], n_chains=8, n_sweeps=800, pilot_sweeps=200, seed=1, n_jobs=1)
    tc = result.tc
    assert tc.ok and math.isfinite(tc.sys) and tc.sizes == (8, 16, 32)
    assert abs(tc.value - TC) < 3 * tc.error, tc.describe(TC)
    assert [(p["L_small"], p["L_large"]) for p in result.pairs] == [(8, 16), (16, 32)]
    # U4 at the crossing against the universal value: 4 jackknife errors plus 0.01 for the corrections to scaling
    # of L = 16/32 (their crossings lie above U4*, by less than 0.01 in the literature's Monte Carlo data)
    assert abs(result.U4["value"] - U4_STAR) < 4 * result.U4["stat"] + 0.01


@pytest.mark.slow
def test_baseline_meets_the_target():
    """The default settings on L = 16, 32, 64: T_c within 0.002 of Onsager's with a combined error <= 0.002, and
    U4 at the crossing within 3 errors (plus 0.002 for corrections to scaling at L = 32/64) of U4* = 0.61069."""
    result = binder_baseline([16, 32, 64], seed=0)
    tc = result.tc
    assert abs(tc.value - TC) < 0.002 and tc.error <= 0.002, tc.describe(TC)
    assert abs(result.U4["value"] - U4_STAR) < 3 * result.U4["stat"] + 0.002


@pytest.mark.parametrize("kwargs,match", [
    ({"sizes": [8]}, "sizes"), ({"sizes": [16, 8]}, "sizes"), ({"sizes": [8, 8]}, "sizes"),
    ({"sizes": [1, 8]}, "sizes"), ({"sizes": [8.0, 16]}, "sizes"), ({"sizes": "8,16"}, "sizes"),
    ({"n_chains": 1}, "n_chains"), ({"n_sweeps": 5}, "n_sweeps"), ({"pilot_sweeps": 0}, "pilot_sweeps"),
    ({"start_temperature": 0.0}, "start_temperature"), ({"start_temperature": math.inf}, "start_temperature"),
    ({"seed": -1}, "seed"), ({"seed": None}, "seed"), ({"n_jobs": 0}, "n_jobs"), ({"progress": 1}, "progress"),
])
def test_bad_arguments_are_refused_before_any_simulation(kwargs, match):
    arguments = {"sizes": [8, 16], "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=f"The '{match}' parameter"):
        binder_baseline(arguments.pop("sizes"), **arguments)
