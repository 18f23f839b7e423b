"""Locating a phase transition from any model's output, whatever the model or the task.

Modules:

* :mod:`.estimate`: :class:`~.estimate.TcEstimate`, a critical temperature with its statistical and systematic
  errors and how it was obtained.
* :mod:`.crossing`: per-temperature group means and their bootstrap; crossings of a level and peaks located by
  local polynomial fits (:func:`~.crossing.local_crossing`, :func:`~.crossing.local_peak`).
* :mod:`.replicas`: independent replicas of the whole pipeline combined into one estimate (SD / sqrt(n)).
* :mod:`.scaling`: finite-size scaling of pseudo-critical temperatures T*(L) to T_c(inf), and nu from the
  slopes at the crossings (:func:`~.scaling.extrapolate`).
* :mod:`.collapse`: data collapse of finite-size curves, its Houdayer–Hartmann quality and fit.
* :mod:`.reweighting`: single-histogram reweighting of Monte Carlo time series to nearby temperatures.
* :mod:`.binder`: the physics baseline, Binder-cumulant crossings of reweighted Swendsen–Wang chains.
* :mod:`.unsupervised`: PCA over lattice sizes and learning by confusion, with their errors.
* :mod:`.plots`: the PCA and confusion figures, and helpers shared with the task's figures.

Temperatures in units of J/k_B.

Usage (``P[r][k]``: replica r's mean output on the grid ``T`` at size ``sizes[k]``; here synthetic curves, a
logistic step with T_c = 2.2692 and nu = 1 plus noise, standing in for a network's output):

>>> import numpy as np
>>> from physics.transition.crossing import local_crossing
>>> from physics.transition.scaling import extrapolate
>>> T = np.round(np.arange(2.22, 2.345, 0.01), 6)
>>> sizes, rng = np.array([16, 32, 64]), np.random.default_rng(0)
>>> P = [[1 / (1 + np.exp((T - 2.2692) * L / 2)) + rng.normal(0, 0.01, T.size) for L in sizes] for r in range(4)]
>>> found = [[local_crossing(T, curve, 0.5, sigma=0.01) for curve in row] for row in P]
>>> T_star = np.array([[c.temperature for c in row] for row in found])  # NaN where no crossing
>>> slopes = np.array([[c.slope for c in row] for row in found])
>>> fss = extrapolate(sizes, T_star, slopes, L_min=16, method="network output, crossings of 1/2")
>>> print(fss.tc.describe(2.269185))  # doctest: +ELLIPSIS
T_c(inf) = 2.2... ± ... (stat) ± ... (sys), 95 % interval [...]; exact 2.2692, ... combined σ off [...]
>>> bool(abs(fss.tc.value - 2.2692) < 0.01), bool(abs(fss.nu["value"] - 1) < 0.3)
(True, True)
"""
