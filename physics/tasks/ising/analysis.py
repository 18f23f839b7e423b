"""What ``task=ising`` concludes from its replicas: every model's pseudo-critical temperatures and finite-size
scaling, the network's fitted collapse, the Binder baseline (cached), PCA, confusion, the triangular transfer
and what the network responds to.

Every T_c is a :class:`physics.transition.estimate.TcEstimate`: a crossing at one size is a pseudo-critical
temperature T*(L), an extrapolation is T_c(inf), each with its statistical error (SD/sqrt(n) over independent
replicas of the whole pipeline), its systematic error where one was assessed, and the method in words.
Temperatures in units of J/k_B.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import balanced_accuracy_score

from physics.app.io import write_json
from physics.app.networks import MLPConfig
from physics.app.schema import AppConfig, TrainerConfig
from physics.app.seeding import integer_seed
from physics.app.training import network_estimator
from physics.ising.lattice import critical_temperature
from physics.ising.temperatures import temperature_grid
from physics.tasks.ising import figures
from physics.tasks.ising.blocking import block_spins
from physics.tasks.ising.data import flat, load_dataset, ordered_probability, replica_seed
from physics.tasks.ising.replica import curve_of
from physics.tasks.ising.threshold import energy_per_spin
from physics.transition.crossing import local_crossing
from physics.transition.estimate import TcEstimate
from physics.transition.replicas import combine
from physics.transition.scaling import extrapolate, pseudo_critical

log = logging.getLogger(__name__)

#: how a model is named in figures and logs (baselines not listed: their key with spaces)
NAMES = {"network": "network (ours)", "logistic_regression": "logistic regression", "random_forest": "random forest",
         "sklearn_mlp": "scikit-learn MLP", "magnetization_threshold": "threshold on |m|",
         "energy_threshold": "threshold on energy", "abs_m_logistic": "logistic regression on |m|"}


def display_name(name: str) -> str:
    """The words for model ``name`` (:data:`NAMES`)."""
    return NAMES.get(name, name.replace("_", " "))


def method_of(task, name: str) -> str:
    """How a model's T*(L) are obtained, in words (the labelled protocol says that its labels carry T_c)."""
    if task.protocol == "extremes":
        return (f"{display_name(name)} trained at L = {task.network_L} only on T in {task.ordered_range} (ordered) "
                f"and {task.disordered_range} (disordered), read on block-spin images of each size; crossing of 1/2 "
                f"by a local cubic fit")
    return (f"{display_name(name)} trained per size with the labels T < T_c on the whole grid (Carrasquilla & "
            f"Melko: the labels contain the answer); crossing of 1/2 by a local cubic fit")


@dataclass
class ModelEstimates:
    """One model over all replicas. T_star, slopes: (n_replicas, n_sizes) crossings of 1/2 and dP/dT there (NaN:
    no crossing); pseudo: L -> TcEstimate of kind T*(L); fss: the finite-size-scaling result or None (fewer than 2
    sizes >= L_min); headline: the fitted collapse's T_c (extremes), else fss.tc, else the pseudo-critical
    estimate of the largest size; nu: nu from the slopes (dict) or None; curves: L -> (mean over replicas (n_T,),
    its standard error (n_T,)); per_replica: L -> list of SizeCurves; collapse: :func:`collapse` or None."""

    name: str
    sizes: list
    T_star: np.ndarray
    slopes: np.ndarray
    pseudo: dict
    fss: object | None
    headline: TcEstimate
    nu: dict | None
    curves: dict
    per_replica: dict = field(default_factory=dict)
    collapse: dict | None = None

    def metrics(self, tc_exact: float) -> dict:
        out = {**headline_metrics(self, tc_exact)}
        for L, curves in self.per_replica.items():
            if curves[0].accuracy is not None:
                for key in ("accuracy_test", "accuracy_critical"):
                    values = np.array([getattr(c, key) for c in curves])
                    out.setdefault(f"L{L}", {})[key] = float(np.mean(values))
                    out[f"L{L}"][f"{key}_sd"] = float(np.std(values, ddof=1)) if values.size > 1 else math.nan
        return out


def headline_metrics(estimates: ModelEstimates, tc_exact: float) -> dict:
    """``tc`` (the headline estimate), ``tc_error`` and ``tc_covers_exact`` (only for T_c(inf): a pseudo-critical
    temperature is not T_c), ``nu`` (of the collapse), ``nu_slopes`` (from the slopes at the crossings),
    ``pseudo_critical.L<L>``, ``shift_fit`` (T*(L) = T_c + a L^(-1/nu) with its table against L_min),
    ``collapse``."""
    tc = estimates.headline
    out = {"tc": tc.as_dict(), "pseudo_critical": {f"L{L}": e.as_dict() for L, e in estimates.pseudo.items()}}
    if tc.kind == "T_c(inf)" and tc.ok:
        out["tc_error"] = abs(tc.value - tc_exact)
        out["tc_covers_exact"] = tc.covers(tc_exact)
        out["tc_ci95_covers_exact"] = tc.covers(tc_exact, 0.95)
    if estimates.nu:
        out["nu_slopes"] = estimates.nu
    if estimates.fss is not None:
        out["shift_fit"] = {"tc": estimates.fss.tc.as_dict(), "table": estimates.fss.table}
    if estimates.collapse is not None:
        out["collapse"] = collapse_metrics(estimates)
        out["nu"] = estimates.collapse["nu"]
    return out


def replica_mean_curves(T: np.ndarray, per_replica: dict) -> dict:
    """L -> (mean over replicas, standard error): SD/sqrt(n) over replicas, or the sample error of one."""
    out = {}
    for L, curves in per_replica.items():
        means = np.stack([c.mean for c in curves])
        if len(curves) > 1:
            out[L] = (means.mean(axis=0), means.std(axis=0, ddof=1) / math.sqrt(len(curves)))
        else:
            out[L] = (means[0], curves[0].sem)
    return out


def crossings(T: np.ndarray, per_replica: dict, sizes) -> tuple[np.ndarray, np.ndarray]:
    """(T_star, slopes), each (n_replicas, n_sizes): every replica's crossing of 1/2 at every size."""
    n = len(per_replica[sizes[0]])
    T_star, slopes = np.full((n, len(sizes)), np.nan), np.full((n, len(sizes)), np.nan)
    for j, L in enumerate(sizes):
        for r, curve in enumerate(per_replica[L]):
            keep = np.isfinite(curve.mean)
            if keep.sum() < 4:
                continue
            sigma = np.maximum(curve.sem[keep], 1e-3)  # hard 0/1 outputs can have zero spread at a temperature
            found = local_crossing(T[keep], curve.mean[keep], 0.5, sigma=sigma)
            if found.ok:
                T_star[r, j], slopes[r, j] = found.temperature, found.slope
            else:
                log.info("L = %d, replica %d: %s", L, r, found.reason)
    return T_star, slopes


def model_estimates(task, T: np.ndarray, replicas: list, name: str) -> ModelEstimates:
    """Pseudo-critical temperatures and finite-size scaling of model ``name`` over the replicas."""
    sizes = list(task.sizes)
    per_replica = {L: [r.curves[name][L] for r in replicas] for L in sizes}
    T_star, slopes = crossings(T, per_replica, sizes)
    method = method_of(task, name)
    pseudo = {L: pseudo_critical(L, T_star[:, j], method) for j, L in enumerate(sizes)}
    fitted = [L for L in sizes if L >= task.fss_min_size]
    fss = nu = collapsed = None
    curves = replica_mean_curves(T, per_replica)
    if len(fitted) >= 2:
        fss = extrapolate(np.array(sizes), T_star, slopes, L_min=task.fss_min_size,
                          method=f"{method}; finite-size scaling over L >= {task.fss_min_size}")
        headline, nu = fss.tc, fss.nu
        if task.protocol == "extremes" and fss.tc.ok:  # curves that straddle 1/2 at every size: a collapse means something
            collapsed = collapse(T, per_replica, curves, fitted, method, T_star[:, -1])
            headline = collapsed["tc"]
    else:
        headline = pseudo[sizes[-1]]
        log.info("%s: one size >= L_min = %d: a pseudo-critical temperature only, no T_c(inf)", display_name(name),
                 task.fss_min_size)
    return ModelEstimates(name=name, sizes=sizes, T_star=T_star, slopes=slopes, pseudo=pseudo, fss=fss,
                          headline=headline, nu=nu, curves=curves, per_replica=per_replica, collapse=collapsed)


#: Nelder-Mead starts of every collapse fit: the quality S is not smooth (points enter and leave the overlap of the
#: curves), and a fit started at one point can stop in a local minimum there
N_STARTS = 5


def _collapse_curves(T: np.ndarray, means_and_errors, sizes) -> dict:
    """{L: (T, y, dy)} for :mod:`physics.transition.collapse`; dy floored at 1e-3 (hard 0/1 outputs can have no
    spread at a temperature, and the quality divides by dy)."""
    return {L: (T, means_and_errors[L][0], np.maximum(means_and_errors[L][1], 1e-3)) for L in sizes}


def collapse(T: np.ndarray, per_replica: dict, mean_curves: dict, sizes: list, method: str,
             starts: np.ndarray) -> dict:
    """T_c(inf) and nu from the collapse of a model's curves of ``sizes`` (those >= L_min).

    In every replica the curves are collapsed by a fit of T_c and nu (Houdayer & Hartmann's quality S, the master
    curve the weighted mean of the other sizes' interpolations): the estimate is the mean over replicas with
    SD/sqrt(n) (the quality's own error rule came out 1.3-1.8 times too small on synthetic curves). Systematic
    error: the change of the fit to the replica-mean curves when the smallest size is dropped (corrections to
    scaling), when three or more sizes enter. The quality S of the replica-mean curves (about 1 for a collapse
    within the errors) at the fit and at the exact values (T_c = 2.269185, nu = 1) is reported beside.

    Each replica's fit starts at that replica's own T*(L) of the largest size (``starts``, (n_replicas,); the
    centre of the scan where it has none): a start shared by the replicas would tie their fits together through
    the flat valleys of S, and their spread would no longer measure the error.

    Returns ``{"tc": TcEstimate, "nu": dict, "quality_at_fit", "quality_at_exact", "fits": per replica}``.
    """
    from physics.transition.collapse import EXACT_2D_ISING, fit_collapse, quality

    def start_at(value) -> float:  # inside the scan, where the fit searches T_c
        return float(np.clip(value if np.isfinite(value) else np.mean(T), T[1], T[-2]))

    fits = []
    for r in range(len(per_replica[sizes[0]])):
        curves = _collapse_curves(T, {L: (per_replica[L][r].mean, per_replica[L][r].sem) for L in sizes}, sizes)
        fits.append(fit_collapse(curves, start_at(starts[r]), 1.0, master="mean", taper=True, n_starts=N_STARTS))
    start = start_at(np.nanmean(starts) if np.isfinite(starts).any() else np.nan)
    what = f"collapse of <P>_L(T) over L = {sizes} fitted for T_c and nu in each replica (Houdayer-Hartmann quality)"
    tc = combine([f["tc"] for f in fits], method=f"{method}; {what}", kind="T_c(inf)", sizes=tuple(sizes))
    nu = combine([f["nu"] for f in fits], method=what, kind="T_c(inf)", sizes=tuple(sizes))
    main = fit_collapse(_collapse_curves(T, mean_curves, sizes), start, 1.0, master="mean", taper=True, n_starts=N_STARTS)
    sys_tc = sys_nu = 0.0
    source = "not assessed: only two sizes >= L_min"
    if len(sizes) >= 3:
        dropped = fit_collapse(_collapse_curves(T, mean_curves, sizes[1:]), start, 1.0, master="mean", taper=True,
                               n_starts=N_STARTS)
        sys_tc, sys_nu = abs(dropped["tc"] - main["tc"]), abs(dropped["nu"] - main["nu"])
        source = (f"|T_c(L >= {sizes[1]}) - T_c(L >= {sizes[0]})| of the collapse of the replica-mean curves: "
                  f"the change when the smallest size is dropped (corrections to scaling)")
    if tc.ok:
        tc = with_width_floor(tc, [f["tc_err"] for f in fits])
        tc = dataclasses.replace(tc, sys=sys_tc, sys_source=source,
                                 extra={**tc.extra, "replica_values": [float(f["tc"]) for f in fits],
                                        "replica_width_errors": [float(f["tc_err"]) for f in fits]})
    mean_of = _collapse_curves(T, mean_curves, sizes)
    return {"tc": tc,
            "nu": {"value": nu.value, "stat": nu.stat, "sys": sys_nu, "dof": nu.dof, "method": what,
                   "stat_source": nu.stat_source, "sys_source": source.replace("T_c(", "nu(")},
            "quality_at_fit": float(quality(mean_of, tc.value, nu.value, master="mean", taper=True)) if tc.ok else math.nan,
            "quality_at_exact": float(quality(mean_of, EXACT_2D_ISING["tc"], EXACT_2D_ISING["nu"], master="mean", taper=True)),
            "quality_at_fit_of_replicas": [float(f["S_min"]) for f in fits]}


#: the rise of N S that makes the width of a collapse's minimum match the scatter of its fits over repeats on
#: synthetic curves on a 0.01 grid (physics.transition.collapse.fit_collapse: errors at rise 1 were 1.3-1.8 times
#: too small, rise 2 matched): a width error at rise 1 is scaled by sqrt of it
WIDTH_RISE = 2.0


def with_width_floor(tc: TcEstimate, width_errors) -> TcEstimate:
    """``tc`` (the mean over replicas, stat SD/sqrt(n)) with its statistical error raised to the error the replicas'
    own collapse fits imply when that is larger: ``sqrt(WIDTH_RISE * mean(err^2) / n)``, ``err`` the half-widths of
    each fit's minimum of S at rise 1 (NaN ones left out).

    Why: the SD of n = 4 replicas is itself uncertain (3 degrees of freedom); when the replicas happen to agree
    closely it can be several times smaller than the scatter one replica has, and the interval then misses (issue
    11: seeds 3, 7, 8 of task=ising, SD/sqrt(n) = 0.0002-0.0005 where one fit's width implies ~0.001). The floor
    comes from each replica's own data, is fixed in advance (WIDTH_RISE from synthetic curves), and Student's t of
    n - 1 degrees of freedom stays; the interval can only widen."""
    errors = np.asarray(width_errors, dtype=np.float64)
    errors = errors[np.isfinite(errors)]
    n = tc.extra.get("n_ok", tc.n_replicas)
    if not tc.ok or errors.size == 0 or n < 1:
        return tc
    floor = math.sqrt(WIDTH_RISE * float(np.mean(errors ** 2)) / n)
    extra = {**tc.extra, "stat_replica_spread": tc.stat, "stat_width_floor": floor}
    if math.isfinite(tc.stat) and tc.stat >= floor:
        return dataclasses.replace(tc, extra=extra)
    return dataclasses.replace(tc, stat=floor, extra=extra,
                               stat_source=f"sqrt({WIDTH_RISE:g} mean(err^2) / n) over n = {n} replicas, err the "
                                           f"half-width of each replica's collapse minimum (larger than SD/sqrt(n) "
                                           f"= {tc.stat:.2g} of the replicas' spread); Student's t of n - 1 "
                                           f"degrees of freedom")


def collapse_metrics(estimates: ModelEstimates) -> dict:
    """The collapse of ``estimates`` for metrics.json (T_c as a TcEstimate dict)."""
    c = estimates.collapse
    return {"tc": c["tc"].as_dict(), "nu": c["nu"], "quality_at_fit": c["quality_at_fit"],
            "quality_at_exact": c["quality_at_exact"], "quality_at_fit_of_replicas": c["quality_at_fit_of_replicas"]}


def accuracy_metrics(network: ModelEstimates) -> dict:
    """labelled: the network's accuracies, mean over replicas and sizes, and their SD over replicas."""
    out = {}
    for key in ("accuracy_test", "accuracy_critical"):
        values = np.array([[getattr(c, key) for c in curves] for curves in network.per_replica.values()])
        out[key] = float(np.nanmean(values))
        out[f"{key}_sd"] = float(np.nanstd(values.mean(axis=0), ddof=1)) if values.shape[1] > 1 else math.nan
    return out


# -- the physics baseline ---------------------------------------------------------------------------------
def binder(config: AppConfig):
    """:func:`physics.transition.binder.binder_baseline` with the config's settings and seed, cached in
    ``data_dir`` (keyed by every setting that changes the numbers)."""
    from physics.ising.dataset import FORMAT_VERSION
    from physics.transition.binder import BinderResult, binder_baseline

    settings = config.task.binder
    sizes = sorted(settings.sizes or config.task.sizes)
    if len(sizes) == 1:  # one size L: the pair (L/2, L), whose crossing is a pseudo-critical temperature
        sizes = [sizes[0] // 2, sizes[0]]
        log.info("Binder baseline: one size, so the pair L = %d and %d", *sizes)
    arguments = {"start_temperature": settings.start_temperature, "n_chains": settings.n_chains,
                 "n_sweeps": settings.n_sweeps, "pilot_sweeps": settings.pilot_sweeps, "seed": config.seed}
    key = hashlib.sha256(json.dumps({"sizes": sizes, **arguments, "format": FORMAT_VERSION},
                                    sort_keys=True).encode()).hexdigest()[:20]
    path = Path(config.data_dir).expanduser() / "binder" / f"{key}.json"
    if path.exists():
        try:
            result = BinderResult.from_dict(json.loads(path.read_text()))
            log.info("Binder baseline: read from %s", path)
            return result
        except (ValueError, KeyError, TypeError) as error:
            log.warning("Binder baseline: ignoring the unreadable cache file %s (%s)", path, error)
    result = binder_baseline(sizes, n_jobs=config.task.n_jobs, progress=config.progress, **arguments)
    write_json(path, result.as_dict())
    return result


def binder_metrics(result, tc_exact: float) -> dict:
    tc = result.tc
    out = {"tc": tc.as_dict(), "pairs": result.pairs, "U4": result.U4, "seconds": result.seconds,
           "simulation_temperature": result.simulation_temperature}
    if tc.ok:
        out["tc_error"] = abs(tc.value - tc_exact)
        out["tc_covers_exact"] = tc.covers(tc_exact)
    log.info("Binder baseline: %s", tc.describe(tc_exact))
    return out


# -- what the network responds to ------------------------------------------------------------------------
def what_it_learned(config: AppConfig, replica, figure_dir: Path) -> dict:
    """Correlations of the first replica's network output margin and hidden features' leading direction with m,
    |m| and E on the configurations it reads (extremes: the block-spin images of the smallest size); its first
    layer's change by training."""
    task = config.task
    L = task.sizes[0]
    if task.protocol == "extremes":
        network, X = replica.networks[task.network_L], replica.blocked[L]
        T_samples = replica.data[L].temperature
    else:
        network, data, split = replica.networks[L], replica.data[L], replica.evaluation[L]
        X, T_samples = flat(data.spins[split.evaluation]), data.temperature[split.evaluation]
    m, energy = X.mean(axis=1).astype(np.float64), energy_per_spin(X)
    margin = network.decision_function(X)
    hidden = network.hidden_features(X)
    hidden = hidden - hidden.mean(axis=0)
    direction = np.linalg.svd(hidden, full_matrices=False)[2][0]
    h1 = hidden @ direction
    out = {"output_abs_m_spearman": float(spearmanr(margin, np.abs(m))[0]),
           "output_energy_spearman": float(spearmanr(margin, energy)[0]),
           "hidden_pc1_explained": float(h1.var() / hidden.var(axis=0).sum()),
           "hidden_pc1_m_abs_pearson": float(abs(pearsonr(h1, m)[0])),
           "hidden_pc1_abs_m_abs_pearson": float(abs(pearsonr(h1, np.abs(m))[0])),
           "hidden_pc1_energy_abs_pearson": float(abs(pearsonr(h1, energy)[0]))}
    side = task.network_L if task.protocol == "extremes" else L
    figures.what_it_learned(out, m, energy, margin, h1, T_samples, figure_dir / "learned_features.png", side)
    figures.first_layer_change(network, side, figure_dir / "filters.png")
    return out


# -- PCA -------------------------------------------------------------------------------------------------
def pca_replica(config: AppConfig, T: np.ndarray, replica, r: int):
    """The PCA of every size of one replica's scan (or grid) data."""
    from physics.transition.unsupervised import pca_by_size

    datasets = {L: (flat(data.spins), T, np.searchsorted(T, data.temperature)) for L, data in replica.data.items()}
    return pca_by_size(datasets, integer_seed(config.seed, f"pca/replica{r}"),
                       n_components=config.task.pca.n_components)


def pca(config: AppConfig, T: np.ndarray, scans: list, figure_dir: Path, tc_exact: float) -> dict:
    """PCA over sizes and replicas (:func:`physics.transition.unsupervised.combine_pca_scans`).

    The estimate: the crossing of the first component's Binder cumulant U_p of the two largest sizes (p1 is
    nearly sqrt(N) m, so this is a magnetisation-like cumulant found without labels), mean over replicas with
    SD/sqrt(n); its systematic error bounds the drift still to go by the step from the previous pair's crossing
    divided by (L_max / L_previous)^2 - 1, the rule of the Binder baseline (crossings converging as
    L^-(1/nu + omega), omega >= 1). Also reported: the fluctuation peak of p1 per size, a pseudo-critical
    temperature that lies ~2.3/L above T_c, or "no peak" where the peak falls outside the scan."""
    from physics.transition.plots import pca_summary
    from physics.transition.unsupervised import combine_pca_scans

    sizes = list(config.task.sizes)
    estimates = combine_pca_scans(scans)
    out = {"peaks": {f"L{L}": e.as_dict() for L, e in estimates.peaks.items()},
           "binder_crossings": {f"L{a}_L{b}": e.as_dict() for (a, b), e in estimates.crossings.items()},
           "uniformity": float(np.mean([scan.by_size[sizes[0]].uniformity for scan in scans])),
           "explained_variance_ratio_1": float(scans[0].by_size[sizes[0]].explained_variance_ratio[0])}
    pairs = list(estimates.crossings.values())
    if pairs:
        last = pairs[-1]
        tc = last
        if len(pairs) >= 2 and last.ok and pairs[-2].ok:
            ratio = (last.sizes[1] / pairs[-2].sizes[1]) ** 2
            step = last.value - pairs[-2].value
            tc = dataclasses.replace(
                last, kind="T_c(inf)", sys=abs(step) / (ratio - 1.0), sizes=tuple(sizes),
                sys_source=f"|crossing(L = {last.sizes[0]}/{last.sizes[1]}) - crossing(L = {pairs[-2].sizes[0]}/"
                           f"{pairs[-2].sizes[1]})| / {ratio - 1:g}: bound on the drift still to go (crossings "
                           f"converging as L^-(1/nu + omega), omega >= 1)")
        out["tc"] = tc.as_dict()
        log.info("PCA: %s", tc.describe(tc_exact))
    pca_summary(scans[0], tc_exact, figure_dir / "pca.png", estimates=estimates)
    return out


# -- learning by confusion -------------------------------------------------------------------------------
def confusion(config: AppConfig, run_dir: Path, tc_exact: float) -> dict:
    """Learning by confusion at ``confusion.L`` on its own grid: small MLPs per guess and seed."""
    from physics.transition.plots import confusion_w
    from physics.transition.unsupervised import confusion_scan

    settings = config.task.confusion
    T = temperature_grid(settings.temperature_range, settings.temperature_step)
    data = load_dataset(config, settings.L, T, settings.n_per_temperature, config.seed)
    rng = np.random.default_rng(integer_seed(config.seed, "confusion/split"))
    order = rng.permutation(len(data.temperature))
    n_test = len(order) // 5
    test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
    X = flat(data.spins)
    model = MLPConfig(hidden=[settings.hidden], activation=getattr(config.model, "activation", "relu"),
                      dtype="float32")
    trainer = TrainerConfig(epochs=settings.epochs, batch_size=config.trainer.batch_size, early_stopping=False)

    def train_and_score(seed: int, y_train: np.ndarray, y_test: np.ndarray) -> float:
        network = network_estimator(config, "classifier", (settings.L, settings.L), 2,
                                    network_seed=integer_seed(config.seed, f"confusion/seed{seed}"),
                                    training_stream=f"confusion/seed{seed}", model=model, trainer=trainer,
                                    loss="softmax_cross_entropy", description="confusion")
        network.fit(X[train], y_train)
        return float(balanced_accuracy_score(y_test, network.predict(X[test])))

    result = confusion_scan(data.temperature[train], data.temperature[test], train_and_score,
                            coarse_step=settings.coarse_step, fine_step=settings.fine_step,
                            fine_halfwidth=settings.fine_halfwidth, n_seeds=settings.n_seeds, size=settings.L,
                            score="balanced_accuracy")
    confusion_w(result, tc_exact, run_dir / "figures" / "confusion.png")
    log.info("confusion (L = %d): %s", settings.L, result.tc.describe(tc_exact))
    return {"tc": result.tc.as_dict(), "L": settings.L}


# -- transfer to the triangular lattice ------------------------------------------------------------------
def transfer(config: AppConfig, replicas: list, figure_dir: Path) -> dict:
    """Each replica's square-lattice network read on block-spin images of triangular-lattice configurations
    (sizes multiples of 3, blocked 3 x 3 once then 2 x 2): pseudo-critical points and finite-size scaling against
    the exact 4/ln 3."""
    task, settings = config.task, config.task.transfer
    T, sizes = settings.grid(), list(settings.sizes)
    per_replica = {L: [] for L in sizes}
    for r, replica in enumerate(replicas):
        network = replica.networks[task.network_L]
        for L in sizes:
            data = load_dataset(config, L, T, settings.n_per_temperature, replica_seed(config.seed, r),
                                lattice="triangular")
            P = ordered_probability(network, flat(block_spins(data.spins, task.network_L)), task.loss)
            mean, sem = curve_of(P, np.searchsorted(T, data.temperature), T.size)
            per_replica[L].append(_Curve(mean, sem))
    T_star, slopes = crossings(T, per_replica, sizes)
    method = "the square-lattice network read on block-spin images of triangular-lattice configurations"
    pseudo = {L: pseudo_critical(L, T_star[:, j], method) for j, L in enumerate(sizes)}
    tc_exact = critical_temperature("triangular")
    out = {"tc_exact": tc_exact, "pseudo_critical": {f"L{L}": e.as_dict() for L, e in pseudo.items()}}
    if len(sizes) >= 2:
        fss = extrapolate(np.array(sizes), T_star, slopes, L_min=sizes[0],
                          method=f"{method}; finite-size scaling over every size")
        out["tc"] = fss.tc.as_dict()
        if fss.tc.ok:
            out["tc_error"] = abs(fss.tc.value - tc_exact)
        log.info("transfer to the triangular lattice: %s", fss.tc.describe(tc_exact))
    figures.transfer(T, replica_mean_curves(T, per_replica), pseudo, tc_exact, figure_dir / "transfer_triangular.png")
    return out


@dataclass
class _Curve:
    mean: np.ndarray
    sem: np.ndarray
