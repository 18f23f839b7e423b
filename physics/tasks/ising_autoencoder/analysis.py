"""What ``task=ising_autoencoder`` concludes from its replicas: per model (autoencoder, VAE, PCA) the pseudo-critical
temperatures of the cumulant crossings, T_c, the correlation of the code with the magnetisation, the
reconstruction error against T; the metrics and tables.

Every T_c is a :class:`physics.transition.estimate.TcEstimate`: a crossing of two sizes is a pseudo-critical
temperature (kind ``"T*(L)"``), the extrapolation of task=ising's PCA rule (:func:`~.cumulant.tc_from_crossings`)
is ``"T_c(inf)"``; only the latter is compared with the exact T_c. Temperatures in units of J/k_B.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from physics.tasks.ising_autoencoder.cumulant import combine_scans, tc_from_crossings
from physics.tasks.ising_autoencoder.networks import NAMES
from physics.tasks.ising_autoencoder.replica import scans_of
from physics.transition.estimate import TcEstimate

log = logging.getLogger(__name__)


def method_of(kind: str, latent: int) -> str:
    """How a model's crossings are obtained, in words."""
    if kind == "pca":
        return "PCA: crossing of the first component's Binder cumulant U_p(T) of two sizes (local fit)"
    code = "its code" if latent == 1 else "the leading principal axis of its code"
    return (f"{NAMES[kind]} trained without labels at each size; Binder-like cumulant U_z = 1 - <z^4>/(3<z^2>^2) of "
            f"{code}'s part odd under the global spin flip; crossing of two sizes (local cubic fit)")


@dataclass
class ModelResult:
    """One model over all replicas. crossings: (L_a, L_b) -> TcEstimate (T*(L)); tc: the headline estimate;
    curves: L -> (mean U over replicas (n_T,), its standard error (n_T,)); correlation: L -> list over replicas of
    |r(code, m)| (and odd_correlation); reconstruction: L -> (n_replicas, n_T); val_loss: L -> list over replicas."""

    name: str
    crossings: dict
    tc: TcEstimate
    curves: dict
    correlation: dict
    odd_correlation: dict = field(default_factory=dict)
    reconstruction: dict = field(default_factory=dict)
    val_loss: dict = field(default_factory=dict)
    epochs: dict = field(default_factory=dict)
    seconds: float = 0.0


def mean_curves(per_replica: list[dict]) -> dict:
    """L -> (mean over replicas, SD/sqrt(n) over replicas, or the jackknife error of one replica)."""
    out = {}
    for L in per_replica[0]:
        values = np.stack([curves[L][0] for curves in per_replica])
        if len(per_replica) > 1:
            out[L] = (values.mean(axis=0), values.std(axis=0, ddof=1) / math.sqrt(len(per_replica)))
        else:
            out[L] = (values[0], per_replica[0][L][1])
    return out


def model_result(task, replicas: list, kind: str) -> ModelResult:
    """The autoencoder's or the VAE's crossings, T_c, curves and correlations over the replicas."""
    sizes = list(task.sizes)
    scans = scans_of(replicas, kind)
    crossings = combine_scans(scans, method_of(kind, task.latent))
    tc = tc_from_crossings(crossings, sizes)
    curves = mean_curves([{L: (s.binder[L], s.binder_err[L]) for L in sizes} for s in scans])
    return ModelResult(
        name=kind, crossings=crossings, tc=tc, curves=curves,
        correlation={L: [r.correlation[kind][L] for r in replicas] for L in sizes},
        odd_correlation={L: [r.odd_correlation[kind][L] for r in replicas] for L in sizes},
        reconstruction={L: np.stack([r.reconstruction[kind][L] for r in replicas]) for L in sizes},
        val_loss={L: [r.val_loss[kind][L] for r in replicas] for L in sizes},
        epochs={L: [r.epochs[kind][L] for r in replicas] for L in sizes},
        seconds=float(sum(sum(r.seconds[kind].values()) for r in replicas)))


def pca_result(task, replicas: list) -> ModelResult:
    """PCA's U_p crossings over the replicas (:func:`physics.transition.unsupervised.combine_pca_scans`) with T_c by
    the same rule as the latents (that of task=ising's PCA analysis)."""
    from physics.transition.unsupervised import combine_pca_scans

    sizes = list(task.sizes)
    scans = [r.pca for r in replicas]
    crossings = combine_pca_scans(scans).crossings
    tc = tc_from_crossings(crossings, sizes)
    curves = mean_curves([{L: (s.by_size[L].binder, s.by_size[L].binder_err) for L in sizes} for s in scans])
    return ModelResult(name="pca", crossings=crossings, tc=tc, curves=curves,
                       correlation={L: [r.pca_correlation[L] for r in replicas] for L in sizes})


def _mean_sd(values) -> tuple[float, float]:
    values = np.asarray(values, dtype=np.float64)
    return float(np.mean(values)), float(np.std(values, ddof=1)) if values.size > 1 else math.nan


def compared(tc: TcEstimate, tc_exact: float) -> dict:
    """``tc_error`` = |value - exact|, ``tc_covers_exact`` (within the combined 1σ error) and
    ``tc_ci95_covers_exact`` (inside the 95 % interval): only for a T_c(inf) with a value (NaN / None otherwise: a
    pseudo-critical temperature is not T_c)."""
    if tc.kind == "T_c(inf)" and tc.ok:
        return {"tc_error": abs(tc.value - tc_exact), "tc_covers_exact": tc.covers(tc_exact),
                "tc_ci95_covers_exact": tc.covers(tc_exact, 0.95)}
    return {"tc_error": math.nan, "tc_covers_exact": None, "tc_ci95_covers_exact": None}


def model_metrics(result: ModelResult, tc_exact: float) -> dict:
    """The flat-able metrics of one model (see :mod:`physics.tasks.ising_autoencoder.task`)."""
    out = {"tc": result.tc.as_dict(), **compared(result.tc, tc_exact),
           "crossings": {f"L{a}_L{b}": e.as_dict() for (a, b), e in result.crossings.items()},
           "correlation": {}, "correlation_sd": {}}
    for L, values in result.correlation.items():
        out["correlation"][f"L{L}"], out["correlation_sd"][f"L{L}"] = _mean_sd(values)
    if result.odd_correlation:
        out["odd_correlation"] = {f"L{L}": _mean_sd(v)[0] for L, v in result.odd_correlation.items()}
    if result.reconstruction:
        out["reconstruction"] = {f"L{L}": values.mean(axis=0).tolist() for L, values in result.reconstruction.items()}
        out["val_loss_by_size"] = {f"L{L}": _mean_sd(v)[0] for L, v in result.val_loss.items()}
        out["val_loss"] = float(np.mean([np.mean(v) for v in result.val_loss.values()]))
        out["epochs"] = float(np.mean([np.mean(v) for v in result.epochs.values()]))
        out["train_seconds"] = result.seconds
    log.info("%s: %s", NAMES[result.name], result.tc.describe(tc_exact))
    for (a, b), estimate in result.crossings.items():
        log.info("%s: U crossing of L = %d, %d: %s", NAMES[result.name], a, b, estimate.describe())
    return out


def crossing_rows(replicas: list, results: dict) -> list[dict]:
    """crossings.csv: every replica's crossing of every pair, per model, with its bootstrap SD."""
    rows = []
    for name in results:
        for r, replica in enumerate(replicas):
            if name == "pca":
                scan = replica.pca
                values, errors = scan.binder_crossings, scan.binder_crossings_err
            else:
                values, errors = replica.scans[name].crossings, replica.scans[name].crossings_err
            for (a, b), value in values.items():
                rows.append({"model": name, "L_small": a, "L_large": b, "replica": r, "T_cross": value,
                             "bootstrap_sd": errors[(a, b)]})
    return rows


def estimate_rows(results: dict, tc_exact: float) -> list[dict]:
    """estimates.csv: every model's headline estimate and pair crossings."""
    rows = []
    for name, result in results.items():
        for label, estimate in [("T_c", result.tc), *((f"L{a}/L{b}", e) for (a, b), e in result.crossings.items())]:
            low, high = estimate.interval(0.95) if estimate.ok else (math.nan, math.nan)
            row = {"model": name, "estimate": label, "kind": estimate.kind, "value": estimate.value,
                   "stat": estimate.stat, "sys": estimate.sys, "error": estimate.error if estimate.ok else math.nan,
                   "ci95_low": low, "ci95_high": high}
            row.update(compared(estimate, tc_exact))
            rows.append(row)
    return rows


def per_temperature_rows(T: np.ndarray, results: dict) -> list[dict]:
    """per_temperature.csv: U per model and size (mean over replicas, error), reconstruction error per size."""
    rows = []
    for i, temperature in enumerate(T):
        row = {"T": float(temperature)}
        for name, result in results.items():
            for L, (mean, error) in result.curves.items():
                row[f"{name}_L{L}_U"], row[f"{name}_L{L}_U_err"] = mean[i], error[i]
            for L, values in result.reconstruction.items():
                row[f"{name}_L{L}_reconstruction"] = float(values[:, i].mean())
        rows.append(row)
    return rows
