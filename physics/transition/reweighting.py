"""Single-histogram (Ferrenberg–Swendsen) reweighting of Monte Carlo time series to nearby temperatures.

A chain at temperature ``T0`` samples configurations with Boltzmann weight ``exp(-E / T0)``; averages at a nearby
``T`` follow by weighting each measurement with ``exp(-(beta - beta0) E)`` (A. M. Ferrenberg and R. H. Swendsen,
Phys. Rev. Lett. 61, 2635 (1988))::

    <O>_T = sum_i O_i w_i / sum_i w_i,    w_i = exp(-(1/T - 1/T0) E_i),

with ``E_i`` the *total* energy of measurement ``i`` (J). This is exact in expectation for any ``T``; its variance
grows with the distance from ``T0``, because fewer and fewer sampled configurations carry the weight. For a
Gaussian energy histogram of width ``sigma_E`` the effective number of samples (Kish: ``(sum w)^2 / sum w^2``) is
``n exp(-(Delta beta sigma_E)^2)``, so :func:`reweighting_range` limits ``|Delta beta| sigma_E`` to ``width``
(default 1: at least ``n/e`` effective samples, the reweighted mean energy within one ``sigma_E`` of the sampled
one). Callers never reweight beyond it.

Stability: the weights are formed as ``exp(a_i - max_j a_j)`` with ``a_i = -(beta - beta0) E_i`` (log-sum-exp), so
nothing overflows however large the lattice; the common factor cancels in every ratio.

Temperatures in units of J/k_B, energies in units of J.
"""
from __future__ import annotations

import logging
import math

import numpy as np

log = logging.getLogger(__name__)

#: default half-width of the reliable range, in units of ``1 / sigma_E`` in inverse temperature
RANGE_WIDTH = 1.0


def _check_temperature(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0 < value < math.inf:
        raise ValueError(f"The '{name}' parameter must be a finite temperature > 0 (J/k_B). Got {value!r} instead.")
    return float(value)


def _check_temperatures(temperatures) -> np.ndarray:
    T = np.asarray(temperatures, dtype=np.float64)
    if T.ndim > 1 or T.size == 0 or not np.all(np.isfinite(T)) or np.any(T <= 0):
        raise ValueError(f"The 'temperatures' parameter must be a non-empty 1-D array of finite temperatures > 0 "
                         f"(J/k_B). Got {temperatures!r} instead.")
    return np.atleast_1d(T)


def _check_series(energy_total, observables, energy_ndim: int):
    energy = np.asarray(energy_total, dtype=np.float64)
    if energy.ndim != energy_ndim or energy.shape[-1] < 1 or not np.all(np.isfinite(energy)):
        shape = "(n,)" if energy_ndim == 1 else "(n_chains, n)"
        raise ValueError(f"The 'energy_total' parameter must be a finite array of shape {shape}. "
                         f"Got shape {energy.shape} instead.")
    values = np.asarray(observables, dtype=np.float64)
    if values.ndim == energy_ndim:
        values = values[None]
    if values.shape[1:] != energy.shape or not np.all(np.isfinite(values)):
        raise ValueError(f"The 'observables' parameter must be finite with shape (k, *{energy.shape}) (or "
                         f"{energy.shape} for one observable). Got shape {np.shape(observables)} instead.")
    return energy, values


def _log_weights(energy: np.ndarray, T0: float, T: float) -> np.ndarray:
    """``a_i - max a`` with ``a_i = -(1/T - 1/T0) E_i``: the log-weights scaled so that the largest weight is 1."""
    a = -(1.0 / T - 1.0 / T0) * energy
    return a - a.max()


def reweight(energy_total, observables, T0, temperatures) -> np.ndarray:
    """Averages of observables at temperatures near the simulated one, by single-histogram reweighting.

    Parameters
    ----------
    energy_total : array_like
        Shape (n,).
        Total energy ``E = -sum_<ij> s_i s_j`` (J, not per spin) of each measurement of a chain at ``T0``.
    observables : array_like
        Shape (k, n) or (n,).
        Per-measurement values of ``k`` observables (e.g. ``m^2``, ``m^4``), in the order of ``energy_total``.
    T0 : float
        Temperature the chain was simulated at (J/k_B).
    temperatures : float or array_like
        Shape (n_T,).
        Where to evaluate (J/k_B); keep them inside :func:`reweighting_range`.

    Returns
    -------
    ndarray of float64
        Shape (k, n_T).
        ``<O>_T = sum_i O_i w_i / sum_i w_i`` with ``w_i = exp(-(1/T - 1/T0) E_i)``; at ``T = T0`` the plain means.
    """
    energy, values = _check_series(energy_total, observables, 1)
    T0 = _check_temperature(T0, "T0")
    T = _check_temperatures(temperatures)
    out = np.empty((values.shape[0], T.size))
    for j, t in enumerate(T):
        w = np.exp(_log_weights(energy, T0, t))
        out[:, j] = values @ w / w.sum()
    return out


def reweighted_chain_sums(energy_total, observables, T0, temperatures) -> tuple[np.ndarray, np.ndarray]:
    """Per-chain weighted sums, from which the reweighted mean over any subset of the chains follows.

    For a jackknife over independent chains: with ``W[c, j] = sum_{i in chain c} w_ij`` and ``S[:, c, j] = sum_{i in
    chain c} O_i w_ij``, the mean over the chains in a set ``A`` is ``S[:, A, j].sum(1) / W[A, j].sum(0)``. The
    weights of one temperature share one scale factor across all chains (log-sum-exp), so these ratios are exact.

    Parameters
    ----------
    energy_total : array_like
        Total energy (J) of each measurement of each chain at ``T0``, shape (n_chains, n).
    observables : array_like
        The observables O, shape (k, n_chains, n) or (n_chains, n).
    T0 : float
        Simulated temperature (J/k_B).
    temperatures : float or array_like
        Target temperatures (J/k_B), shape (n_T,).

    Returns
    -------
    W : ndarray
        Shape (n_chains, n_T).
    S : ndarray
        Shape (k, n_chains, n_T).
    """
    energy, values = _check_series(energy_total, observables, 2)
    T0 = _check_temperature(T0, "T0")
    T = _check_temperatures(temperatures)
    W = np.empty((energy.shape[0], T.size))
    S = np.empty((values.shape[0], energy.shape[0], T.size))
    for j, t in enumerate(T):
        w = np.exp(_log_weights(energy, T0, t))  # (n_chains, n)
        W[:, j] = w.sum(axis=1)
        S[:, :, j] = np.einsum("kcn,cn->kc", values, w)
    return W, S


def reweighting_range(energy_total, T0, *, width: float = RANGE_WIDTH) -> tuple[float, float]:
    """The temperatures a chain at ``T0`` can be reweighted to reliably: ``|1/T - 1/T0| sigma_E <= width``.

    ``sigma_E`` is the standard deviation of the sampled total energy. Reweighting by ``Delta beta`` shifts the
    mean energy by about ``Delta beta sigma_E^2`` (``d<E>/d beta = -sigma_E^2``), i.e. by ``width`` standard
    deviations at the edge, where the reweighted histogram still overlaps the sampled one; for a Gaussian histogram
    the effective sample size there is ``n exp(-width^2)`` (37 % for the default 1).

    Parameters
    ----------
    energy_total : array_like
        Shape (n,) or (n_chains, n).
        Total energies (J) of the measurements at ``T0`` (all chains pooled).
    T0 : float
        Simulated temperature (J/k_B).
    width : float
        Half-width in inverse temperature, in units of ``1 / sigma_E``. Must be > 0.

    Returns
    -------
    T_low : float
        Lower end (J/k_B), ``T_low < T0``; T0 when the energy does not fluctuate.
    T_high : float
        Upper end (J/k_B), ``T0 < T_high``; ``inf`` if ``1/T0 <= width / sigma_E``; T0 when the energy does not
        fluctuate.
    """
    energy = np.asarray(energy_total, dtype=np.float64).ravel()
    if energy.size < 2 or not np.all(np.isfinite(energy)):
        raise ValueError(f"The 'energy_total' parameter must hold at least 2 finite energies. "
                         f"Got shape {np.shape(energy_total)} instead.")
    T0 = _check_temperature(T0, "T0")
    if isinstance(width, bool) or not isinstance(width, (int, float, np.integer, np.floating)) \
            or not 0 < width < math.inf:
        raise ValueError(f"The 'width' parameter must be a finite float > 0. Got {width!r} instead.")
    sigma = float(energy.std())
    if sigma == 0.0:
        return T0, T0
    beta0, delta = 1.0 / T0, float(width) / sigma
    high = 1.0 / (beta0 - delta) if beta0 > delta else math.inf
    return 1.0 / (beta0 + delta), high
