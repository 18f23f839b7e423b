"""Equilibrated, decorrelated Ising configurations: :func:`sample` and :func:`simulate`.

Procedure of :func:`sample` (and of :func:`simulate` with ``burn_in=None``):

1. ``n_chains`` independent chains start ordered below ``T_c`` (random sign per chain) and from
   random spins above (:func:`._chain.initial_spins`).
2. Burn-in and pilot: after ``initial`` sweeps (100 Metropolis, 10 cluster) a pilot of measured
   sweeps (at first 100 Metropolis, 40 cluster) gives the integrated autocorrelation times of
   ``|m|`` and ``E`` from its second half, pooled over the chains (:func:`pooled_tau_int`); the pilot
   is extended until that half spans at least ``PILOT_LENGTH_FACTOR = 20`` times the larger
   ``tau_int`` (the automatic window is about ``6 tau``).  All these sweeps are burn-in; more are
   added until the burn-in is at least ``BURN_IN_FACTOR = 20`` times ``tau_int``.
3. Sampling: every ``thin = max(1, ceil(c (tau_int + 2 sigma_tau)))`` sweeps each chain contributes
   one configuration (``tau_int``: the larger of |m| and E; ``sigma_tau`` its standard error, a
   margin for a low pilot estimate, whose scatter measured for Metropolis at T_c with 64 chains is
   ~15 %); samples of different chains are independent.  ``c = THIN_FACTOR = 4``: for an
   exponentially decaying autocorrelation (``tau_exp ~ tau_int``) the correlation of consecutive
   stored samples is then ``<= e^-4 ~ 0.018``, below the resolution ``1/sqrt(n_pairs)`` of any
   dataset of fewer than ~3000 samples per temperature, whereas ``c = 2`` leaves ``e^-2 ~ 0.14``.
   Measured at L = 32 (lag-1 correlation of |m| between stored samples of one chain, 12 seeds x 400
   samples pooled, +-0.015): Swendsen–Wang at T = 2.1 / T_c / 2.5 gives 0.07 / 0.07 / 0.04 with
   c = 2, 0.04 / 0.02 / 0.02 with c = 3, -0.00 / 0.00 / -0.03 with c = 4; Metropolis at T = 2.5
   gives 0.09 (c = 2) and -0.01 (c = 4).  Metropolis *below* T_c uses ``c = 8``
   (``ORDERED_METROPOLIS_FACTOR = 2``): there |m| decorrelates in two stages, local flips and then a
   tail with ``tau_exp ~ 2 tau_int`` (T = 2.0: ``tau_int = 5.2``, ``rho(16) = 0.08``, ``rho(32) =
   0.02``), and c = 4 left 0.043 at T = 2.0 and 0.034 at T = 1.875 (c = 8: 0.014 and -0.03).
   ``tests/ising/test_decorrelation.py`` checks it.  Cost: ``generate_dataset(32,
   default_temperatures(), 400)`` takes ~1.3-1.6 times the CPU time of the former ``c = 2``.

``algorithm="auto"`` (:func:`choose_algorithm`) uses Swendsen–Wang inside a critical window around
the lattice's ``T_c`` and checkerboard Metropolis elsewhere.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.fft

from ._chain import as_generator, initial_spins
from .cluster import SwendsenWang, Wolff
from .lattice import check_lattice, check_size, check_temperatures, critical_temperature
from .metropolis import CheckerboardMetropolis
from .observables import sokal_window, tau_int_error

logger = logging.getLogger(__name__)

ALGORITHMS = ("metropolis", "swendsen_wang", "wolff", "auto")
_CHAINS = {"metropolis": CheckerboardMetropolis, "swendsen_wang": SwendsenWang, "wolff": Wolff}

PILOT_LENGTH_FACTOR = 20.0
BURN_IN_FACTOR = 20.0
MAX_PILOT_SWEEPS = 20_000
CRITICAL_WINDOW = (-0.10, 0.08)  # reduced temperatures T/T_c - 1 where auto uses Swendsen–Wang
THIN_FACTOR = 4.0  # thin = ceil(THIN_FACTOR (tau_int + 2 sigma_tau)); see the module docstring
ORDERED_METROPOLIS_FACTOR = 2.0  # Metropolis below T_c: |m| decays with tau_exp ~ 2 tau_int (module docstring)
_INITIAL_SWEEPS = {"metropolis": 100, "swendsen_wang": 10, "wolff": 10}
_FIRST_PILOT = {"metropolis": 100, "swendsen_wang": 40, "wolff": 40}
_DEFAULT_CHAINS = {"metropolis": 32, "swendsen_wang": 16, "wolff": 16}


class EquilibrationWarning(UserWarning):
    """The pilot run hit its length limit: burn-in and thinning may be too short."""


@dataclass(frozen=True)
class SampleResult:
    """Configurations and how they were made (returned by :func:`sample_with_info`).

    Attributes
    ----------
    spins : ndarray of int8
        Shape (n_samples, L, L); values +1 or -1.
    energy : ndarray of float64
        Shape (n_samples,).  Energy per spin of each configuration (units of J).
    magnetization : ndarray of float64
        Shape (n_samples,).  Signed magnetisation per spin of each configuration.
    algorithm : str
        The update actually used: "metropolis", "swendsen_wang" or "wolff".
    burn_in : int
        Sweeps before the first sample.
    thin : int
        Sweeps between samples of one chain.
    n_chains : int
        Independent chains the samples come from.
    tau_energy : float
        Pilot estimate of tau_int of the energy, in sweeps (NaN if no pilot ran).
    tau_abs_magnetization : float
        Pilot estimate of tau_int of ``|m|``, in sweeps (NaN if no pilot ran).
    """

    spins: np.ndarray
    energy: np.ndarray
    magnetization: np.ndarray
    algorithm: str
    burn_in: int
    thin: int
    n_chains: int
    tau_energy: float
    tau_abs_magnetization: float


def _check_int(value, name: str, minimum: int, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        extra = "None or " if allow_none else ""
        raise ValueError(f"The '{name}' parameter must be {extra}an int >= {minimum}. Got {value!r} instead.")
    return int(value)


def _check_scalar_temperature(temperature) -> float:
    T = check_temperatures(temperature, name="temperature")
    if T.ndim != 0:
        raise ValueError(f"The 'temperature' parameter must be a scalar. Got shape {T.shape} instead.")
    return float(T)


def choose_algorithm(L: int, temperature: float, lattice: str = "square") -> str:
    """The update ``algorithm="auto"`` uses at this temperature.

    Swendsen–Wang inside the window ``-0.10 <= t <= 0.08`` of the reduced temperature
    ``t = T / T_c - 1`` (T_c of the infinite lattice; 2.042 <= T <= 2.451 on the square lattice),
    checkerboard Metropolis outside it and for ``L < 8``.  Measured at L = 32 (``sample_with_info(32, T,
    400)``, CPU seconds averaged over 8-12 seeds, with the thinning of the module docstring):

    * lower bound, set by correctness rather than cost: below T_c Metropolis' |m| has a slow tail
      that a pilot run cannot resolve (at T = 2.1: ``tau_int(|m|) = 12.5`` but ``tau_exp ~ 25``
      sweeps in a run of 16 x 40000 sweeps; issue 11 measured ``tau_int = 64 +- 8`` in a long run with
      rare stripe states against a pilot's ~10), which left a lag-1 correlation of 0.13 between
      stored samples.  Swendsen–Wang's ``tau_int`` there is 2.5 sweeps with no slow tail
      (``rho(16) < 0.01``, same run length); it costs 3 times Metropolis' time per call at
      T = 2.05 (1.07 s against 0.34 s), the price of trustworthy samples from ~0.9 T_c upward.
    * upper bound, set by cost: Swendsen–Wang is cheaper up to t ~ 0.10 (T = 2.45: 0.79 s against
      Metropolis' 1.07 s; T = 2.5: 0.54 s against 0.52 s; T = 2.55: 0.57 s against 0.50 s), and
      above T_c Metropolis' samples are as decorrelated (its autocorrelation decays
      exponentially there).  A Swendsen–Wang sweep costs ~10 Metropolis sweeps (16 chains); its
      ``tau_int`` stays at 1-4 sweeps in the window, Metropolis' reaches ~100 at T_c (as ``L^2.17``).

    Parameters
    ----------
    L : int
        Linear lattice size, >= 2 (square) or >= 3 (triangular).
    temperature : float
        Temperature in units of J/k_B, > 0.
    lattice : {"square", "triangular"}
        Lattice name.

    Returns
    -------
    algorithm : str
        "swendsen_wang" or "metropolis".
    """
    t = temperature / critical_temperature(lattice) - 1.0
    near = CRITICAL_WINDOW[0] <= t <= CRITICAL_WINDOW[1]
    return "swendsen_wang" if (near and L >= 8) else "metropolis"


def _resolve_algorithm(algorithm, L: int, temperature: float, lattice: str) -> str:
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        raise ValueError(f"The 'algorithm' parameter must be one of {ALGORITHMS}. Got {algorithm!r} instead.")
    return choose_algorithm(L, temperature, lattice) if algorithm == "auto" else algorithm


def pooled_tau_int(series, c: float = 6.0) -> tuple[float, float]:
    """Integrated autocorrelation time of several independent chains of one observable.

    The autocovariance ``C(t) = sum_i (x_i - xbar)(x_{i+t} - xbar) / (n - t)`` is computed by FFT around
    the grand mean ``xbar`` of all chains (valid because the chains sample the same distribution;
    per-chain means would bias ``tau_int`` low by about ``2 tau / n``) and averaged over the chains.
    The ``1/(n - t)`` normalisation is unbiased; its larger variance at long lags is tamed by the
    average over chains, whereas the usual ``1/n`` would bias a pilot of ``~20 tau`` low by ~10-40 %.
    Then Sokal's automatic window applies: ``W`` is the smallest lag with ``W >= c tau_int(W)``,
    ``tau_int(W) = 1/2 + sum_{t=1}^{W} C(t)/C(0)``.

    Parameters
    ----------
    series : array_like of float
        Shape (n_chains, n), time along the last axis.
    c : float
        Window factor, > 0.

    Returns
    -------
    tau_int : float
        In units of the sampling step; 0.5 for a constant series.
    error : float
        Madras & Sokal's ``tau sqrt(2 (2 W + 1) / (n_chains n))``.
    """
    x = np.atleast_2d(np.asarray(series, dtype=np.float64))  # (n_chains, n)
    x = x - x.mean()
    n = x.shape[-1]
    spectrum = scipy.fft.rfft(x, n=scipy.fft.next_fast_len(2 * n), axis=-1)  # zero padding: no wrap-around
    lagged_sums = scipy.fft.irfft(spectrum.real**2 + spectrum.imag**2, axis=-1)[..., :n]  # (n_chains, n)
    acov = lagged_sums.mean(axis=0) / np.arange(n, 0, -1)
    if acov[0] <= 1e-300:
        return 0.5, 0.0
    tau, window, _ = sokal_window(np.cumsum(acov / acov[0]) - 0.5, c)
    tau, window = float(tau), int(window)
    return tau, float(tau_int_error(tau, window, x.size))


def _measure(chain, rng: np.random.Generator, n_sweeps: int) -> tuple[np.ndarray, np.ndarray]:
    """Run ``n_sweeps`` sweeps; energy and magnetisation per spin after each, shape (n_chains, n_sweeps)."""
    energy = np.empty((chain.n_chains, n_sweeps))
    magnetization = np.empty((chain.n_chains, n_sweeps))
    for t in range(n_sweeps):
        chain.sweep(rng)
        energy[:, t] = chain.energy_per_spin()
        magnetization[:, t] = chain.magnetization_per_spin()
    return energy, magnetization


def _equilibrate(chain, algorithm: str, rng: np.random.Generator) -> tuple[int, float, float, float]:
    """Burn in ``chain`` with a pilot run.

    Returns (burn-in sweeps, tau_int(E), tau_int(|m|), the larger of ``tau + 2 sigma_tau`` of the two).
    """
    done = _INITIAL_SWEEPS[algorithm]
    chain.sweep(rng, done)
    series = [_measure(chain, rng, _FIRST_PILOT[algorithm])]
    while True:
        energy, magnetization = (np.concatenate(parts, axis=1) for parts in zip(*series))
        n_pilot = energy.shape[1]
        # Only the second half is analysed: the first half is further burn-in, which keeps the
        # approach to equilibrium out of the estimate (it biased tau_int(|m|) at T_c ~15 % low).
        half = n_pilot // 2
        tau_e, err_e = pooled_tau_int(energy[:, half:])
        tau_m, err_m = pooled_tau_int(np.abs(magnetization[:, half:]))
        tau = max(tau_e, tau_m)
        logger.debug(
            "pilot of %d sweeps (%s): tau_int(E) = %.2f, tau_int(|m|) = %.2f", n_pilot, algorithm, tau_e, tau_m
        )
        if n_pilot - half >= PILOT_LENGTH_FACTOR * tau:
            break
        if n_pilot >= MAX_PILOT_SWEEPS:
            warnings.warn(
                f"The pilot run reached {MAX_PILOT_SWEEPS} sweeps with tau_int = {tau:.0f} sweeps ({algorithm}, "
                f"L = {chain.L}, T = {chain.temperature[0]:g}); burn-in and thinning may be too short. "
                "Use a cluster algorithm near T_c.",
                EquilibrationWarning,
                stacklevel=4,
            )
            break
        target = min(max(2 * n_pilot, math.ceil(2 * PILOT_LENGTH_FACTOR * tau)), MAX_PILOT_SWEEPS)
        series.append(_measure(chain, rng, target - n_pilot))
    done += n_pilot
    missing = math.ceil(BURN_IN_FACTOR * tau) - done
    if missing > 0:
        chain.sweep(rng, missing)
        done += missing
    return done, tau_e, tau_m, max(tau_e + 2 * err_e, tau_m + 2 * err_m)


def _thin_factor(algorithm: str, temperature: float, lattice: str) -> float:
    """Sweeps between stored samples of a chain in units of the pilot's ``tau_int + 2 sigma_tau``."""
    ordered_metropolis = algorithm == "metropolis" and temperature < critical_temperature(lattice)
    return THIN_FACTOR * (ORDERED_METROPOLIS_FACTOR if ordered_metropolis else 1.0)


def _validate(L, temperature, lattice, algorithm, burn_in):
    lattice = check_lattice(lattice)
    L = check_size(L, lattice)
    T = _check_scalar_temperature(temperature)
    return L, T, lattice, _resolve_algorithm(algorithm, L, T, lattice), _check_int(burn_in, "burn_in", 0, True)


def sample_with_info(
    L, temperature, n_samples, *, lattice="square", algorithm="auto", seed=None, burn_in=None, thin=None, n_chains=None
) -> SampleResult:
    """Like :func:`sample`, but also returns each sample's energy and magnetisation and the run's settings.

    Parameters
    ----------
    L : int
        Linear lattice size, >= 2 (square) or >= 3 (triangular).
    temperature : float
        Temperature in units of J/k_B, > 0.
    n_samples : int
        Number of configurations, >= 1.
    lattice : {"square", "triangular"}
        Lattice name.
    algorithm : {"auto", "metropolis", "swendsen_wang", "wolff"}
        Update algorithm; "auto" picks one by :func:`choose_algorithm`.
    seed : None or int or numpy.random.SeedSequence or numpy.random.Generator
        Seed of the random stream.
    burn_in : int or None
        Sweeps before the first sample, >= 0; None: from pilot runs (module docstring), at least 20 tau_int.
    thin : int or None
        Sweeps between stored samples of one chain, >= 1; None: ``ceil(4 (tau_int + 2 sigma))`` from the
        pilot (larger of |m| and E; ``ceil(8 (...))`` for Metropolis below T_c), so consecutive samples of
        a chain are uncorrelated within statistics (module docstring).
    n_chains : int or None
        Independent chains run side by side, >= 1 (None: 32 Metropolis, 16 cluster, at most
        ``n_samples``).  Sample ``k`` comes from chain ``k % n_chains``.

    Returns
    -------
    result : SampleResult
        The configurations, their energies and magnetisations, and the run's settings.
    """
    L, T, lattice, algorithm, burn_in = _validate(L, temperature, lattice, algorithm, burn_in)
    n_samples = _check_int(n_samples, "n_samples", 1)
    thin = _check_int(thin, "thin", 1, True)
    n_chains = _check_int(n_chains, "n_chains", 1, True)
    n_chains = min(n_samples, _DEFAULT_CHAINS[algorithm]) if n_chains is None else n_chains
    rng = as_generator(seed)
    chain = _CHAINS[algorithm](initial_spins(n_chains, L, T, lattice, rng), T, lattice)
    tau_e = tau_m = tau_safe = float("nan")
    if burn_in is None:
        burn_in, tau_e, tau_m, tau_safe = _equilibrate(chain, algorithm, rng)
    else:
        chain.sweep(rng, burn_in)
        if thin is None:  # the pilot run that measures tau_int also extends the burn-in
            energy, magnetization = _measure(chain, rng, _FIRST_PILOT[algorithm])
            (tau_e, err_e), (tau_m, err_m) = pooled_tau_int(energy), pooled_tau_int(np.abs(magnetization))
            tau_safe = max(tau_e + 2 * err_e, tau_m + 2 * err_m)
            burn_in += _FIRST_PILOT[algorithm]
    if thin is None:
        thin = max(1, math.ceil(_thin_factor(algorithm, T, lattice) * tau_safe))
    per_chain = -(-n_samples // n_chains)
    spins = np.empty((per_chain, n_chains, L, L), np.int8)
    energy = np.empty((per_chain, n_chains))
    magnetization = np.empty((per_chain, n_chains))
    for k in range(per_chain):
        chain.sweep(rng, thin)
        spins[k] = chain.spins
        energy[k] = chain.energy_per_spin()
        magnetization[k] = chain.magnetization_per_spin()
    logger.debug(
        "sampled %d configurations (L=%d, T=%g, %s, %s): %d chains, burn-in %d, thin %d",
        n_samples, L, T, lattice, algorithm, n_chains, burn_in, thin,
    )
    return SampleResult(
        spins=spins.reshape(-1, L, L)[:n_samples],
        energy=energy.reshape(-1)[:n_samples],
        magnetization=magnetization.reshape(-1)[:n_samples],
        algorithm=algorithm,
        burn_in=int(burn_in),
        thin=int(thin),
        n_chains=n_chains,
        tau_energy=tau_e,
        tau_abs_magnetization=tau_m,
    )


def sample(
    L, temperature, n_samples, *, lattice="square", algorithm="auto", seed=None, burn_in=None, thin=None, n_chains=None
):
    """Equilibrated, decorrelated Ising configurations at one temperature.

    Parameters
    ----------
    L : int
        Linear lattice size, >= 2 (square) or >= 3 (triangular).
    temperature : float
        Temperature in units of J/k_B, > 0.
    n_samples : int
        Number of configurations, >= 1.
    lattice : {"square", "triangular"}
        Lattice name.
    algorithm : {"auto", "metropolis", "swendsen_wang", "wolff"}
        Update algorithm; "auto" picks one by :func:`choose_algorithm`.
    seed : None or int or numpy.random.SeedSequence or numpy.random.Generator
        Seed of the random stream.
    burn_in : int or None
        Sweeps before the first sample, >= 0; None: from pilot runs (module docstring), at least 20 tau_int.
    thin : int or None
        Sweeps between stored samples of one chain, >= 1; None: ``ceil(4 (tau_int + 2 sigma))`` from the
        pilot (larger of |m| and E; ``ceil(8 (...))`` for Metropolis below T_c), so consecutive samples of
        a chain are uncorrelated within statistics (module docstring).
    n_chains : int or None
        Independent chains run side by side, >= 1 (None: 32 Metropolis, 16 cluster, at most
        ``n_samples``).  Sample ``k`` comes from chain ``k % n_chains``.

    Returns
    -------
    spins : ndarray of int8
        Shape (n_samples, L, L); values +1 or -1.

    Examples
    --------
    >>> spins = sample(16, 2.0, 100, seed=0)
    >>> spins.shape, spins.dtype
    ((100, 16, 16), dtype('int8'))
    """
    return sample_with_info(
        L, temperature, n_samples, lattice=lattice, algorithm=algorithm, seed=seed, burn_in=burn_in, thin=thin,
        n_chains=n_chains,
    ).spins


def simulate(
    L, temperature, n_sweeps, *, lattice="square", algorithm="auto", seed=None, burn_in=None, n_chains=None
) -> dict:
    """Per-sweep time series of energy and magnetisation per spin (for tau_int, observables, Binder).

    Parameters
    ----------
    L : int
        Linear lattice size, >= 2 (square) or >= 3 (triangular).
    temperature : float
        Temperature in units of J/k_B, > 0.
    n_sweeps : int
        Measured sweeps (one measurement after each), >= 1.
    lattice : {"square", "triangular"}
        Lattice name.
    algorithm : {"auto", "metropolis", "swendsen_wang", "wolff"}
        Update algorithm; "auto" picks one by :func:`choose_algorithm`.
    seed : None or int or numpy.random.SeedSequence or numpy.random.Generator
        Seed of the random stream.
    burn_in : int or None
        Sweeps before the first measurement, >= 0; None: the pilot-run equilibration of :func:`sample`.
    n_chains : int or None
        None: one chain and 1-D series; an int >= 1: that many independent chains.

    Returns
    -------
    series : dict
        ``energy`` and ``magnetization`` (float64, shape (n_sweeps,) or (n_chains, n_sweeps)),
        ``algorithm`` (str) and ``burn_in`` (int, sweeps before the first measurement).
    """
    L, T, lattice, algorithm, burn_in = _validate(L, temperature, lattice, algorithm, burn_in)
    n_sweeps = _check_int(n_sweeps, "n_sweeps", 1)
    chains = _check_int(n_chains, "n_chains", 1, True)
    rng = as_generator(seed)
    chain = _CHAINS[algorithm](initial_spins(chains or 1, L, T, lattice, rng), T, lattice)
    if burn_in is None:
        burn_in = _equilibrate(chain, algorithm, rng)[0]
    else:
        chain.sweep(rng, burn_in)
    energy, magnetization = _measure(chain, rng, n_sweeps)
    if chains is None:
        energy, magnetization = energy[0], magnetization[0]
    return {"energy": energy, "magnetization": magnetization, "algorithm": algorithm, "burn_in": int(burn_in)}
