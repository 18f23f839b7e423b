"""Locate a critical temperature the way task=ising does: crossings of per-temperature curves at several lattice
sizes, then finite-size scaling T*(L) = T_c + a L^(-1/nu) over independent replicas.

The curves here are synthetic (a logistic step with T_c = 2.2692 and nu = 1, plus noise): replace them by a
network's mean output on each temperature grid. Run: python examples/04_critical_point.py   (about a second)
"""
import numpy as np

from physics.transition.crossing import local_crossing
from physics.transition.scaling import extrapolate

# 1. setup: the temperature grid, three lattice sizes, four independent replicas of the whole pipeline
T = np.round(np.arange(2.22, 2.345, 0.01), 6)
sizes, n_replicas, rng = np.array([16, 32, 64]), 4, np.random.default_rng(0)
T_C, NU = 2.269185, 1.0  # Onsager's exact T_c of the square lattice and the 2D Ising nu

# 2. data: replica r's curve at size L, P(ordered) falling through 1/2 at T_c with a width ~ L^(-1/nu)
curves = [[1 / (1 + np.exp((T - T_C) * L ** (1 / NU) / 2)) + rng.normal(0, 0.01, T.size) for L in sizes]
          for _ in range(n_replicas)]

# 3. crossings: where each curve crosses 1/2 (a local polynomial fit) and its slope there
found = [[local_crossing(T, curve, 0.5, sigma=0.01) for curve in row] for row in curves]
T_star = np.array([[c.temperature for c in row] for row in found])  # (replicas, sizes); NaN: no crossing
slopes = np.array([[c.slope for c in row] for row in found])

# 4. finite-size scaling: T_c(inf) with statistical (replicas) and systematic errors, nu from the slopes
fss = extrapolate(sizes, T_star, slopes, L_min=16, method="synthetic curves, crossings of 1/2")

# 5. result
print("T*(L):", ", ".join(f"L={L}: {t:.4f}" for L, t in zip(sizes, fss.T_star_mean)))
print(fss.tc.describe(T_C))
print(f"nu = {fss.nu['value']:.3f} ± {fss.nu['stat']:.3f}")
