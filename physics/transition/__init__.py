"""Locating a phase transition from any model's output, whatever the model or the task.

Modules: :mod:`.crossing` (per-temperature curves, crossings of 1/2, peaks, bootstrap error bars),
:mod:`.scaling` (finite-size scaling of pseudo-critical temperatures, Binder cumulants and their crossings),
:mod:`.unsupervised` (PCA and learning by confusion) and :mod:`.plots` (their figures). Temperatures in units
of J/k_B.

>>> from physics.transition.crossing import probability_crossing
>>> from physics.transition.scaling import fit_scaling_regime
"""
