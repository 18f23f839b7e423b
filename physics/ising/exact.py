"""Exact results for the 2D Ising model ``H = -sum_<ij> s_i s_j`` (J = k_B = 1, no field).

* Infinite square lattice (Onsager 1944; Yang 1952): critical temperature, energy and specific heat
  per spin, spontaneous magnetisation.
* Finite ``M x L`` square torus (Kaufman 1949; Ferdinand & Fisher 1969): ``ln Z``, energy and specific
  heat per spin, evaluated in log space with analytic derivatives in ``beta``.
* Brute-force enumeration of all ``2**(L*M)`` states of a small periodic square or triangular lattice.

All functions take temperatures ``T`` in units of J/k_B (scalar or array; results have the shape of
``T``) and use ``K = beta J = 1/T``.

scipy's complete elliptic integrals ``ellipk(m)``/``ellipe(m)`` take the *parameter* ``m = k**2``, not
the modulus ``k``; ``ellipkm1(p)`` is ``K(m = 1 - p)``, accurate as ``m -> 1`` (i.e. near ``T_c``).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.special import ellipe, ellipk, ellipkm1, logsumexp

from physics.ising.lattice import (
    _bond_sum_unchecked,
    check_lattice,
    check_size,
    check_temperatures,
    critical_temperature,
)

# Above K = 40 (T < 0.025) every excitation is suppressed by at least exp(-8K) = exp(-320) ~ 1e-139
# (times N, the number of spins), so ground-state values are exact to double precision; the general
# formulas would overflow (sinh 2K) for K >~ 355.
_GROUND_STATE_K = 40.0
# |x_0| below which the sign-changing factor 2 sinh(x_0) of the torus is kept linear (not in log space).
_LINEAR_FACTOR_BOUND = 1.0
# Brute-force enumeration cost grows as 2**(L*M); 24 spins = 16.8 million states is the ceiling.
_MAX_ENUMERATED_SPINS = 24
_ENUMERATION_CHUNK = 1 << 16


def onsager_critical_temperature() -> float:
    """Onsager's ``T_c = 2 / ln(1 + sqrt 2) ~ 2.269185`` of the square lattice (``sinh 2K_c = 1``).

    Returns
    -------
    T_c : float
        Critical temperature in units of J/k_B.
    """
    return critical_temperature("square")


def _asarray_result(value: np.ndarray, like: np.ndarray):
    """Return a Python float for 0-d input temperatures, else the array."""
    return float(value) if like.ndim == 0 else value


def _sech(x: np.ndarray) -> np.ndarray:
    """``1/cosh(x)`` without overflow for ``x >= 0``."""
    q = np.exp(-x)
    return 2.0 * q / (1.0 + q * q)


def onsager_energy(T):
    """Energy per spin of the infinite square lattice (Onsager 1944).

    ``u = -coth(2K) [1 + (2/pi) (2 tanh^2 2K - 1) K(k)]`` with modulus ``k = 2 sinh 2K / cosh^2 2K``,
    ``K(k)`` the complete elliptic integral of the first kind (scipy parameter ``m = k**2``).
    ``u(T_c) = -sqrt 2`` exactly (the factor ``2 tanh^2 2K - 1`` vanishes there, cancelling the
    logarithmic divergence of ``K``).

    Parameters
    ----------
    T : float or array_like of float
        Temperature(s) in units of J/k_B, > 0.

    Returns
    -------
    u : float or ndarray
        Energy per spin in units of J, in [-2, 0); a float for scalar ``T``, else the shape of ``T``.
    """
    temps = check_temperatures(T)
    K = 1.0 / temps
    t = np.tanh(2.0 * K)
    kappa = 2.0 * t * t - 1.0
    k_ell = _complete_k(t, kappa)
    kappa_k = np.where(kappa == 0.0, 0.0, kappa * np.where(np.isinf(k_ell), 0.0, k_ell))
    u = -(1.0 + (2.0 / np.pi) * kappa_k) / t
    return _asarray_result(np.where(K > _GROUND_STATE_K, -2.0, u), temps)


def onsager_specific_heat(T):
    """Specific heat per spin ``c = du/dT`` of the infinite square lattice (Onsager 1944).

    ``c = (2/pi) (K coth 2K)^2 {2 K(k) - 2 E(k) - 2 sech^2(2K) [pi/2 + (2 tanh^2 2K - 1) K(k)]}``
    (Onsager 1944), ``k`` as in :func:`onsager_energy`, ``E`` the complete elliptic integral of the
    second kind.  Diverges logarithmically at ``T_c``, ``c ~ -(8 K_c^2/pi) ln|1 - T/T_c|``; at the
    float nearest ``T_c`` that is still finite (~18), ``inf`` is returned only where ``k = 1`` exactly.

    Parameters
    ----------
    T : float or array_like of float
        Temperature(s) in units of J/k_B, > 0.

    Returns
    -------
    c : float or ndarray
        Specific heat per spin in units of k_B, >= 0; a float for scalar ``T``, else the shape of ``T``.
    """
    temps = check_temperatures(T)
    K = np.minimum(1.0 / temps, _GROUND_STATE_K)
    t = np.tanh(2.0 * K)
    kappa = 2.0 * t * t - 1.0
    k_ell = _complete_k(t, kappa)
    m = (2.0 * t * _sech(2.0 * K)) ** 2
    e_ell = ellipe(m)
    finite = np.isfinite(k_ell)
    safe_k = np.where(finite, k_ell, 0.0)
    bracket = 2.0 * safe_k - 2.0 * e_ell - 2.0 * _sech(2.0 * K) ** 2 * (np.pi / 2.0 + kappa * safe_k)
    c = (2.0 / np.pi) * (K / t) ** 2 * bracket
    # c is a variance (>= 0); near T = 0 the bracket cancels to ~1e-16 absolute and may round below 0.
    c = np.where(finite, np.maximum(c, 0.0), np.inf)
    return _asarray_result(np.where(1.0 / temps > _GROUND_STATE_K, 0.0, c), temps)


def _complete_k(t: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """``K(k)`` for ``k = 2 tanh(2K) sech(2K)``, using the accurate branch on either side.

    ``1 - k**2 = kappa**2`` with ``kappa = 2 tanh^2 2K - 1``; near ``T_c`` (``kappa -> 0``) scipy's
    ``ellipkm1(kappa**2)`` avoids forming ``m = k**2 ~ 1``; elsewhere ``ellipk(m)`` with ``m`` formed
    directly from ``t = tanh 2K`` (``sech^2 2K = 1 - t^2``).
    """
    p = kappa * kappa
    m = 4.0 * t * t * (1.0 - t * t)
    return np.where(p < 0.5, ellipkm1(p), ellipk(np.minimum(m, 1.0)))


def yang_magnetization(T):
    """Spontaneous magnetisation per spin of the infinite square lattice (Yang 1952).

    ``m_0 = (1 - sinh^{-4} 2K)^{1/8}`` for ``T < T_c``, and 0 for ``T >= T_c``.

    Parameters
    ----------
    T : float or array_like of float
        Temperature(s) in units of J/k_B, > 0.

    Returns
    -------
    m0 : float or ndarray
        Spontaneous magnetisation per spin in [0, 1]; a float for scalar ``T``, else the shape of ``T``.
    """
    temps = check_temperatures(T)
    K = np.minimum(1.0 / temps, _GROUND_STATE_K)
    u = np.maximum(2.0 * K, math.log(1.0 + math.sqrt(2.0)))  # 2K clipped at 2K_c (T >= T_c gives 0)
    csch = -2.0 * np.exp(-u) / np.expm1(-2.0 * u)
    m0 = np.maximum(1.0 - csch**4, 0.0) ** 0.125
    return _asarray_result(np.where(temps < critical_temperature("square"), m0, 0.0), temps)


# ------------------------------------------------------------------ finite torus (Kaufman 1949)


def _log2cosh(x):
    """``ln(2 cosh x)``, its first and second derivative in ``x`` (overflow-free)."""
    a = np.abs(x)
    q = np.exp(-2.0 * a)
    return a + np.log1p(q), np.tanh(x), 4.0 * q / (1.0 + q) ** 2


def _log2sinh(x):
    """``ln|2 sinh x|``, its first and second derivative in ``x`` (``x != 0``, overflow-free)."""
    a = np.abs(x)
    em1 = np.expm1(-2.0 * a)  # in (-1, 0)
    q = np.exp(-2.0 * a)
    return a + np.log(-em1), np.sign(x) * (1.0 + q) / -em1, -4.0 * q / em1**2


def _torus_gammas(K: np.ndarray, n: int):
    """Kaufman's ``gamma_l`` for ``l = 0..2n-1`` and their first two ``K`` derivatives.

    ``cosh gamma_l = cosh 2K coth 2K - cos(pi l / n)`` for ``l >= 1`` (always ``> 1``), and the signed
    ``gamma_0 = 2K + ln tanh K`` (negative above ``T_c``, zero at ``T_c``).  Shapes ``(nT, 2n)``.
    """
    K = K[:, None]
    s, ch = np.sinh(2.0 * K), np.cosh(2.0 * K)
    half_theta = np.pi * np.arange(2 * n) / (2.0 * n)
    # cosh gamma_l - 1 = (sinh 2K - 1)^2 / sinh 2K + 2 sin^2(pi l / 2n): no cancellation near 1.
    d = (s - 1.0) ** 2 / s + 2.0 * np.sin(half_theta) ** 2
    sinh_g = np.sqrt(d * (d + 2.0))
    gamma = np.log1p(d + sinh_g)
    dc = 2.0 * ch * (1.0 - 1.0 / s**2)
    d2c = 4.0 * s - 4.0 / s + 8.0 * ch**2 / s**3
    with np.errstate(divide="ignore", invalid="ignore"):  # column l = 0 is replaced just below
        g1 = dc / sinh_g
        g2 = (d2c - (1.0 + d) * g1**2) / sinh_g
    q = np.exp(-2.0 * K[:, 0])
    log_tanh = np.where(K[:, 0] < 1.0, np.log(np.tanh(K[:, 0])), np.log1p(-q) - np.log1p(q))
    gamma[:, 0] = 2.0 * K[:, 0] + log_tanh
    g1[:, 0] = 2.0 + 2.0 / s[:, 0]
    g2[:, 0] = -4.0 * ch[:, 0] / s[:, 0] ** 2
    return gamma, g1, g2


def _torus_log_z_derivatives(K: np.ndarray, rows: int, cols: int):
    """``ln Z`` of the ``rows x cols`` torus and its first two derivatives in ``K``; shape ``(nT,)``.

    ``Z = 1/2 (2 sinh 2K)^{N/2} sum_{i=1..4} Z_i`` with (Kaufman 1949; Ferdinand & Fisher 1969)
    ``Z_1 = prod_{r<cols} 2 cosh(rows gamma_{2r+1}/2)``, ``Z_2`` the same with ``sinh``,
    ``Z_3 = prod 2 cosh(rows gamma_{2r}/2)``, ``Z_4`` the same with ``sinh``.  Only ``Z_4`` can be
    negative (its factor ``2 sinh(rows gamma_0 / 2)`` changes sign at ``T_c``); ``Z_1 + ... + Z_4 > 0``
    because ``Z_3 >= |Z_4|``.  Each ``Z_i = exp(G_i) phi_i``: ``G_i`` sums log-factors, ``phi_i`` is
    that sign-changing factor kept linear while ``|x_0| < 1`` (else its log goes into ``G_4`` and
    ``phi_4 = sign``).  With weights ``w_i = exp(G_i - max G)`` and ``D = sum w_i phi_i``:
    ``(ln S)' = mu = sum w_i (phi_i a_i + phi_i') / D`` and
    ``(ln S)'' = sum w_i [phi_i (b_i + (a_i - mu)^2) + 2 phi_i' (a_i - mu) + phi_i''] / D``,
    ``a_i = G_i'``, ``b_i = G_i''``; the centred form avoids cancelling two O(N^2) numbers.
    """
    n_spins = rows * cols
    gamma, g1, g2 = _torus_gammas(K, cols)
    x, x1, x2 = 0.5 * rows * gamma, 0.5 * rows * g1, 0.5 * rows * g2
    odd, even = slice(1, None, 2), slice(2, None, 2)  # even: l = 2, 4, ...; l = 0 handled apart

    def log_factor_sums(func, cols_sel):
        f, f1, f2 = func(x[:, cols_sel])
        xs1, xs2 = x1[:, cols_sel], x2[:, cols_sel]
        return f.sum(1), (f1 * xs1).sum(1), (f2 * xs1**2 + f1 * xs2).sum(1)

    G, A, B = (np.empty((4, K.size)) for _ in range(3))
    G[0], A[0], B[0] = log_factor_sums(_log2cosh, odd)
    G[1], A[1], B[1] = log_factor_sums(_log2sinh, odd)
    G[2], A[2], B[2] = log_factor_sums(_log2cosh, slice(0, None, 2))
    G[3], A[3], B[3] = log_factor_sums(_log2sinh, even)
    phi, dphi, d2phi = np.ones((4, K.size)), np.zeros((4, K.size)), np.zeros((4, K.size))

    x0, x01, x02 = x[:, 0], x1[:, 0], x2[:, 0]
    linear = np.abs(x0) < _LINEAR_FACTOR_BOUND
    safe_x0 = np.where(linear, _LINEAR_FACTOR_BOUND, x0)
    f, f1, f2 = _log2sinh(safe_x0)
    G[3] += np.where(linear, 0.0, f)
    A[3] += np.where(linear, 0.0, f1 * x01)
    B[3] += np.where(linear, 0.0, f2 * x01**2 + f1 * x02)
    phi[3] = np.where(linear, 2.0 * np.sinh(x0), np.sign(x0))
    dphi[3] = np.where(linear, 2.0 * np.cosh(x0) * x01, 0.0)
    d2phi[3] = np.where(linear, 2.0 * np.sinh(x0) * x01**2 + 2.0 * np.cosh(x0) * x02, 0.0)

    g_max = G.max(axis=0)
    w = np.exp(G - g_max)
    denom = (w * phi).sum(0)
    mu = (w * (phi * A + dphi)).sum(0) / denom
    centred = A - mu
    curvature = (w * (phi * (B + centred**2) + 2.0 * dphi * centred + d2phi)).sum(0) / denom

    s = np.sinh(2.0 * K)
    log_z = -math.log(2.0) + 0.5 * n_spins * np.log(2.0 * s) + g_max + np.log(denom)
    d_log_z = n_spins / np.tanh(2.0 * K) + mu
    d2_log_z = -2.0 * n_spins / s**2 + curvature
    return log_z, d_log_z, d2_log_z


def _torus(L, T, M):
    """Validate, split off the ground-state regime, and evaluate the torus derivatives."""
    cols = check_size(L, "square", name="L")
    rows = cols if M is None else check_size(M, "square", name="M")
    temps = check_temperatures(T)
    K = 1.0 / temps.ravel()
    n_spins = rows * cols
    log_z = 2.0 * n_spins * K + math.log(2.0)  # ground state: two all-aligned states, E = -2N
    d_log_z = np.full(K.shape, 2.0 * n_spins)
    d2_log_z = np.zeros(K.shape)
    finite = K <= _GROUND_STATE_K
    if np.any(finite):
        log_z[finite], d_log_z[finite], d2_log_z[finite] = _torus_log_z_derivatives(K[finite], rows, cols)
    shape = temps.shape
    return temps, K.reshape(shape), n_spins, log_z.reshape(shape), d_log_z.reshape(shape), d2_log_z.reshape(shape)


def torus_log_partition(L, T, M=None):
    """Natural log of the exact partition function of the periodic ``M x L`` square lattice.

    Kaufman (1949), in the form of Ferdinand & Fisher, Phys. Rev. 185, 832 (1969), eq. (2.1)-(2.4);
    see :func:`_torus_log_z_derivatives`.  Exact for every ``L, M >= 2`` (for size 2 the periodic
    neighbour pair is coupled twice, as in :mod:`physics.ising.lattice`).

    Parameters
    ----------
    L : int
        Number of columns, >= 2.
    T : float or array_like of float
        Temperature(s) in units of J/k_B, > 0.
    M : int or None
        Number of rows, >= 2; None (default) means ``L``.

    Returns
    -------
    log_z : float or ndarray
        ``ln Z`` (total, not per spin); a float for scalar ``T``, else the shape of ``T``.
    """
    temps, _, _, log_z, _, _ = _torus(L, T, M)
    return _asarray_result(log_z, temps)


def torus_energy(L, T, M=None):
    """Exact energy per spin ``<E>/N = -(1/N) d ln Z / d beta`` of the periodic ``M x L`` torus.

    Analytic derivative of :func:`torus_log_partition`; absolute accuracy about ``1e-15 * max(1, T)``.

    Parameters
    ----------
    L : int
        Number of columns, >= 2.
    T : float or array_like of float
        Temperature(s) in units of J/k_B, > 0.
    M : int or None
        Number of rows, >= 2; None (default) means ``L``.

    Returns
    -------
    e : float or ndarray
        Energy per spin in units of J; a float for scalar ``T``, else the shape of ``T``.
    """
    temps, _, n_spins, _, d_log_z, _ = _torus(L, T, M)
    return _asarray_result(-d_log_z / n_spins, temps)


def torus_specific_heat(L, T, M=None):
    """Exact specific heat per spin ``C/N = (beta^2/N) d^2 ln Z / d beta^2`` of the ``M x L`` torus.

    Analytic second derivative of :func:`torus_log_partition` (units of k_B); absolute accuracy about
    ``1e-16 * max(1, beta^2)``.  At low ``T`` the true value (~``exp(-8/T)``) falls below that and the
    result is rounding noise around 0, clipped at 0 (``C`` is a variance).

    Parameters
    ----------
    L : int
        Number of columns, >= 2.
    T : float or array_like of float
        Temperature(s) in units of J/k_B, > 0.
    M : int or None
        Number of rows, >= 2; None (default) means ``L``.

    Returns
    -------
    c : float or ndarray
        Specific heat per spin in units of k_B, >= 0; a float for scalar ``T``, else the shape of ``T``.
    """
    temps, K, n_spins, _, _, d2_log_z = _torus(L, T, M)
    return _asarray_result(np.maximum(K**2 * d2_log_z / n_spins, 0.0), temps)


# ------------------------------------------------------------------ brute-force enumeration


@functools.lru_cache(maxsize=16)
def _energy_magnetization_counts(rows: int, cols: int, lattice: str):
    """Distinct ``(E, sum s)`` pairs of all ``2**(rows*cols)`` states and how many states have each."""
    n_spins = rows * cols
    bits = np.arange(n_spins, dtype=np.uint32)
    histogram: dict[tuple[int, int], int] = {}
    for start in range(0, 1 << n_spins, _ENUMERATION_CHUNK):
        states = np.arange(start, min(start + _ENUMERATION_CHUNK, 1 << n_spins), dtype=np.uint32)
        spins = (2 * ((states[:, None] >> bits) & 1) - 1).astype(np.int8)  # (chunk, N)
        spins = spins.reshape(-1, rows, cols)  # (chunk, rows, cols)
        energy = -_bond_sum_unchecked(spins, lattice)
        magnet = spins.sum(axis=(1, 2), dtype=np.int64)
        pairs, counts = np.unique(np.stack([energy, magnet]), axis=1, return_counts=True)
        for (e, m), c in zip(pairs.T.tolist(), counts.tolist()):
            histogram[(e, m)] = histogram.get((e, m), 0) + c
    keys = np.array(sorted(histogram), dtype=np.int64).reshape(-1, 2)
    counts = np.array([histogram[tuple(k)] for k in keys.tolist()], dtype=np.int64)
    for arr in (keys, counts):
        arr.setflags(write=False)
    return keys[:, 0], keys[:, 1], counts


def energy_magnetization_histogram(L, lattice: str = "square", M=None):
    """Exact joint density of states ``g(E, M_tot)`` of a small periodic lattice by enumeration.

    Parameters
    ----------
    L : int
        Number of columns, >= 2 (square) or >= 3 (triangular).
    lattice : {"square", "triangular"}
        Lattice name.
    M : int or None
        Number of rows; None (default) means ``L``.  ``L * M <= 24``.

    Returns
    -------
    energies : ndarray of int64
        Shape (k,).  Total energies ``E = -sum_<ij> s_i s_j``; read-only (cached).
    magnetizations : ndarray of int64
        Shape (k,).  Total magnetisations ``sum_i s_i``; read-only (cached).
    counts : ndarray of int64
        Shape (k,).  Number of states with that pair (sums to ``2**(L*M)``); read-only (cached).
    """
    lattice = check_lattice(lattice)
    cols = check_size(L, lattice, name="L")
    rows = cols if M is None else check_size(M, lattice, name="M")
    if rows * cols > _MAX_ENUMERATED_SPINS:
        raise ValueError(
            f"Brute-force enumeration needs L * M <= {_MAX_ENUMERATED_SPINS} spins "
            f"(2**(L*M) states). Got L={cols}, M={rows} ({rows * cols} spins) instead."
        )
    return _energy_magnetization_counts(rows, cols, lattice)


def enumerate_observables(L, T, lattice: str = "square", M=None) -> dict:
    """Exact thermal averages on a small periodic lattice by summing over all ``2**(L*M)`` states.

    Per-spin conventions (``N = L*M``, ``e = E/N``, ``m = sum_i s_i / N``, ``beta = 1/T``):

    ``energy`` <e>; ``magnetization`` <m> (0 by symmetry); ``abs_magnetization`` <|m|>;
    ``m2`` <m^2>; ``m4`` <m^4>; ``binder`` U_4 = 1 - <m^4>/(3<m^2>^2);
    ``specific_heat`` C/N = N beta^2 (<e^2> - <e>^2);
    ``susceptibility`` chi' = N beta (<m^2> - <|m|>^2) (the finite-lattice estimator used in Monte Carlo);
    ``susceptibility_zero_field`` chi = N beta <m^2> (the true zero-field susceptibility, since <m> = 0).
    Variances are computed as central moments, so they keep full relative precision.

    Parameters
    ----------
    L : int
        Number of columns, >= 2 (square) or >= 3 (triangular).
    T : float or array_like of float
        Temperature(s) in units of J/k_B, > 0.
    lattice : {"square", "triangular"}
        Lattice name.
    M : int or None
        Number of rows; None (default) means ``L``.  ``L*M <= 24``.

    Returns
    -------
    observables : dict
        Observable name -> float (scalar ``T``) or ndarray of the shape of ``T``.
    """
    energies, magnets, counts = energy_magnetization_histogram(L, lattice, M)
    temps = check_temperatures(T)
    beta = 1.0 / temps.reshape(-1, 1)  # (nT, 1)
    n_spins = (L if M is None else M) * L
    e = energies / n_spins  # (k,)
    m = magnets / n_spins
    log_w = np.log(counts) - beta * (energies - energies.min())  # (nT, k)
    p = np.exp(log_w - logsumexp(log_w, axis=1, keepdims=True))
    mean = lambda values: p @ values  # noqa: E731  (nT,)
    e_mean = mean(e)
    abs_m, m2, m4 = mean(np.abs(m)), mean(m**2), mean(m**4)
    beta = beta[:, 0]
    out = {
        "energy": e_mean,
        "magnetization": mean(m),
        "abs_magnetization": abs_m,
        "m2": m2,
        "m4": m4,
        "binder": 1.0 - m4 / (3.0 * m2**2),
        "specific_heat": n_spins * beta**2 * (p * (e[None, :] - e_mean[:, None]) ** 2).sum(1),
        "susceptibility": n_spins * beta * (p * (np.abs(m)[None, :] - abs_m[:, None]) ** 2).sum(1),
        "susceptibility_zero_field": n_spins * beta * m2,
    }
    return {key: _asarray_result(val.reshape(temps.shape), temps) for key, val in out.items()}
