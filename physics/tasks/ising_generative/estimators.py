"""The one estimator of the four observables, applied alike to Monte Carlo, RBM and baseline samples, the
deviation between two estimates in units of their combined standard error, and the exact finite-lattice values.

Conventions (``N = L^2`` spins, ``beta = 1/T``, J = k_B = 1), as :func:`physics.ising.observables.measure`:

=======  ===============================================  ============================================
``e``    energy per spin ``<E>/N``                        exact on the L x L torus (Kaufman 1949)
``abs_m``  ``<|m|>``, ``m = sum_i s_i / N``                exact by enumeration only for L^2 <= 24
``c``    specific heat per spin ``N beta^2 Var(e)``       exact on the torus (Ferdinand & Fisher 1969)
``chi``  susceptibility per spin ``N beta Var(|m|)``      exact by enumeration only for L^2 <= 24
=======  ===============================================  ============================================

``chi`` is the finite-lattice estimator chi' = N beta (<m^2> - <|m|>^2) of Monte Carlo work (the zero-field
N beta <m^2> would count the two ordered states' +-m as a fluctuation). Errors: delete-one-block jackknife
(:func:`physics.ising.observables.jackknife`, bias-corrected) over ``n_blocks`` blocks of consecutive samples; the
samples of every source are independent (thinned Monte Carlo chains, one RBM chain per sample), so the blocks only
bound the cost.
"""
from __future__ import annotations

import math

import numpy as np

from physics.ising.lattice import energy_per_spin, magnetization_per_spin
from physics.ising.observables import jackknife

#: observable key -> words for figures and tables
OBSERVABLES = {"e": "energy per spin e (J)", "abs_m": "|m| per spin", "c": "specific heat per spin c (k$_B$)",
               "chi": "susceptibility per spin χ (1/J)"}
#: the observables of the issue's target (within target_sigma at the target temperatures)
TARGET_OBSERVABLES = ("e", "abs_m")
#: enumeration of all 2^(L^2) states (physics.ising.exact.energy_magnetization_histogram) up to this many spins
MAX_ENUMERATED_SPINS = 24


def measure(spins: np.ndarray, T: float, n_blocks: int = 100) -> dict[str, tuple[float, float]]:
    """The four observables of configurations ``spins`` (n, L, L) of +-1 at temperature ``T``.

    Returns observable -> (value, jackknife standard error); see the module docstring. ``n_blocks`` is capped at
    n (block size 1: the plain delete-one jackknife).
    """
    spins = np.asarray(spins)
    if spins.dtype.kind == "f":
        spins = spins.astype(np.int8)
    n, N = len(spins), spins[0].size
    e = energy_per_spin(spins)
    a = np.abs(magnetization_per_spin(spins))
    beta = 1.0 / float(T)
    block = max(1, n // min(n, n_blocks))
    de, da = e - e.mean(), a - a.mean()  # centred: variances without cancellation

    def jk(func, *series):
        return jackknife(func, *series, block_size=block)

    identity = lambda x: x  # noqa: E731
    return {"e": jk(identity, e), "abs_m": jk(identity, a),
            "c": jk(lambda x, x2: N * beta ** 2 * (x2 - x * x), de, de * de),
            "chi": jk(lambda x, x2: N * beta * (x2 - x * x), da, da * da)}


def symmetry(spins: np.ndarray, n_blocks: int = 100) -> dict[str, float]:
    """The Z2 check the four observables are blind to: the signed <m> (exactly 0 on a finite lattice in zero field)
    with its jackknife error, its deviation from 0 in units of that error, and the share of configurations with
    m > 0 (m = 0 counts half). Meaningful for independent samples (one chain each, as a model's); a Monte Carlo set
    keeps the signs of its 16-32 chains below T_c, so its error of <m> is underestimated."""
    spins = np.asarray(spins)
    if spins.dtype.kind == "f":
        spins = spins.astype(np.int8)
    m = magnetization_per_spin(spins)
    block = max(1, len(m) // min(len(m), n_blocks))
    value, error = jackknife(lambda x: x, m, block_size=block)
    return {"m": value, "m_error": error, "deviation_from_zero": deviation((value, error), (0.0, 0.0)),
            "up_fraction": float(np.mean(m > 0) + 0.5 * np.mean(m == 0))}


def deviation(a: tuple[float, float], b: tuple[float, float]) -> float:
    """(a - b) / sqrt(sigma_a^2 + sigma_b^2): the difference of two independent estimates (value, error) in units
    of their combined standard error. An exact reference has error 0. Equal values with no error: 0; different
    values with no error at all: +-inf."""
    scale = math.hypot(a[1], b[1])
    difference = a[0] - b[0]
    if scale > 0:
        return difference / scale
    return 0.0 if difference == 0 else math.copysign(math.inf, difference)


def exact_observables(L: int, T) -> dict[str, np.ndarray | None]:
    """The exact values of the L x L periodic square lattice at temperatures ``T`` (array): ``e`` and ``c`` from
    the torus partition function for any L, ``abs_m`` and ``chi`` by enumeration where L^2 <= 24 (else None: no
    exact finite-lattice value exists in physics.ising.exact for them)."""
    from physics.ising.exact import enumerate_observables, torus_energy, torus_specific_heat

    T = np.asarray(T, dtype=np.float64)
    out = {"e": np.asarray(torus_energy(L, T)), "abs_m": None, "c": np.asarray(torus_specific_heat(L, T)),
           "chi": None}
    if L * L <= MAX_ENUMERATED_SPINS:
        enumerated = enumerate_observables(L, T)
        out["abs_m"] = np.asarray(enumerated["abs_magnetization"])
        out["chi"] = np.asarray(enumerated["susceptibility"])
    return out


def infinite_lattice(T) -> dict[str, np.ndarray]:
    """The L = inf references drawn for orientation (not compared): Onsager's e and c, Yang's spontaneous m."""
    from physics.ising.exact import onsager_energy, onsager_specific_heat, yang_magnetization

    T = np.asarray(T, dtype=np.float64)
    return {"e": np.asarray(onsager_energy(T)), "abs_m": np.asarray(yang_magnetization(T)),
            "c": np.asarray(onsager_specific_heat(T))}
