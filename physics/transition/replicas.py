"""Combining estimates from independent replicas of the whole pipeline into one :class:`TcEstimate`.

A replica repeats everything that is random: fresh Monte Carlo configurations, a fresh network trained from a
fresh seed, the crossing located again. Replicas are therefore independent and identically distributed, and the
standard error of their mean is ``SD / sqrt(n)``, with Student's t of ``n - 1`` degrees of freedom for
intervals. A replica whose curve never crossed (no estimate, NaN) is left out and counted in ``n_failed``.

Temperatures in units of J/k_B.
"""
from __future__ import annotations

import logging
import math

import numpy as np

from physics.transition.estimate import TcEstimate

log = logging.getLogger(__name__)


def combine(values, *, method: str, kind: str, sizes=(), what: str = "independent replicas of the whole pipeline",
            extra: dict | None = None) -> TcEstimate:
    """Mean of per-replica estimates with the standard error ``SD / sqrt(n_ok)`` over the replicas that gave one.

    Parameters
    ----------
    values : array_like
        Shape (n_replicas,).
        One estimate per replica (J/k_B); NaN where a replica gave none (its curve never crossed).
    method : str
        How each value was obtained, in words; copied into the estimate.
    kind : str
        "T_c(inf)" or "T*(L)": what the values estimate (see :class:`~physics.transition.estimate.TcEstimate`).
    sizes : tuple of int, default ()
        Lattice sizes that entered every value.
    what : str, default "independent replicas of the whole pipeline"
        What the replicas are; it goes into ``stat_source``.
    extra : dict or None, default None
        Further JSON-serialisable numbers for ``TcEstimate.extra``; ``n_ok`` is added.

    Returns
    -------
    TcEstimate
        ``value`` the mean over the ``n_ok`` finite values, ``stat`` their SD / sqrt(n_ok) with ``dof = n_ok - 1``,
        ``sys = 0`` (nothing systematic is assessed here), ``n_replicas`` all replicas, ``n_failed`` those
        without a value. With one finite value ``stat`` is NaN (no spread can be measured from one replica) and
        ``stat_source`` says so; with none, :meth:`TcEstimate.none` with failure
        ``"no crossing in any of the <n> replicas"``.

    Raises
    ------
    ValueError
        When ``values`` is not one-dimensional or is empty.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"The 'values' parameter must be a non-empty 1-D array (one value per replica). "
                         f"Got shape {values.shape} instead.")
    n = int(values.size)
    finite = values[np.isfinite(values)]
    n_ok, n_failed = int(finite.size), n - int(finite.size)
    fields = {"sizes": tuple(int(s) for s in sizes), "n_replicas": n, "n_failed": n_failed,
              "extra": {**(extra or {}), "n_ok": n_ok}}
    if n_ok == 0:
        log.warning("%s (%s): no estimate in any of the %d replicas", kind, method, n)
        return TcEstimate.none(method, kind, f"no crossing in any of the {n} replicas", **fields)
    if n_failed:
        log.warning("%s (%s): %d of %d replicas gave no estimate and are left out", kind, method, n_failed, n)
    if n_ok == 1:
        return TcEstimate(method=method, kind=kind, value=float(finite[0]), stat=math.nan,
                          stat_source=f"no statistical error can be given from one replica ({what})", **fields)
    return TcEstimate(method=method, kind=kind, value=float(finite.mean()),
                      stat=float(finite.std(ddof=1) / math.sqrt(n_ok)),
                      stat_source=f"SD/sqrt(n) over n = {n_ok} {what}", dof=n_ok - 1, **fields)
