"""The Ising Monte Carlo engine against exact results: Metropolis and Swendsen-Wang at one temperature.

Energy and specific heat are compared with Kaufman's exact solution of the same finite torus, |m| with Yang's
spontaneous magnetisation of the infinite lattice. Errors: binned jackknife over the correlated time series.
Run: python examples/03_ising_engine.py   (a few seconds)
"""
from physics.ising import measure, simulate, torus_energy, torus_specific_heat, yang_magnetization

# 1. lattice: 16 x 16 periodic square lattice at T = 2.0 J/k_B (ordered phase; T_c = 2.269)
L, T = 16, 2.0

# 2. exact values: Kaufman (1949) for the L x L torus, Yang (1952) for L -> infinity
exact = {"energy": torus_energy(L, T), "specific_heat": torus_specific_heat(L, T),
         "abs_magnetization": yang_magnetization(T)}
words = {"energy": "energy per spin", "specific_heat": "specific heat per spin", "abs_magnetization": "<|m|>"}

for algorithm, name_in_words in (("metropolis", "Metropolis"), ("swendsen_wang", "Swendsen-Wang")):
    # 3. simulation: equilibrated by pilot runs, then one measurement per sweep
    run = simulate(L, T, 2500, algorithm=algorithm, seed=0)
    # 4. analysis: means with errors from the binned jackknife (autocorrelation taken into account)
    observables = measure(run["energy"], run["magnetization"], T, L * L)
    # 5. result: each observable, its error and its distance from the exact value in standard errors
    for name, reference in exact.items():
        value, error = observables[name]
        print(f"{name_in_words:>13} {words[name]:>22} = {value:.4f} ± {error:.4f}   exact {reference:.4f}   "
              f"({(value - reference) / error:+.1f} σ)")
