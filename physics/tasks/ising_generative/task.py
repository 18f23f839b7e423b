"""``task=ising_generative``: can a restricted Boltzmann machine trained on Monte Carlo configurations of the 2D
Ising model generate configurations with the right thermodynamics?

Torlai & Melko, PRB 94, 165134 (2016); Morningstar & Melko, JMLR 18, 1 (2018) (the RBM near criticality). Per
temperature of ``task.temperatures`` (T_c = 2/ln(1+sqrt 2) among them): ``task.n_train`` Monte Carlo
configurations of the L x L periodic square lattice (the validated engine, cached in ``data_dir``), spins mapped
to visible units v = (s + 1)/2; one binary RBM (:class:`core.rbm.RBM`) per ``n_hidden`` x ``k`` x method
(CD-k / PCD-k), trained with the config's optimizer and schedule for ``trainer.epochs`` epochs; ``n_generated``
configurations drawn from it, each from its own chain after ``gibbs_steps`` block-Gibbs steps from random spins.
scikit-learn's BernoulliRBM (``conf/baseline/ising_generative.yaml``; ``baseline=none`` drops it) is trained on
the same data with the same n_hidden and sampled by its own ``gibbs`` from as many chains for as many steps.

Every source -- the training Monte Carlo set (``mc``), an independent held-out Monte Carlo set of the same size
(``mc_heldout``, the fairer reference: an RBM that reproduced its training set's own fluctuations would look
better against that set than it is), each RBM (``rbm_h<H>_<method><k>``) and each baseline (``<name>_h<H>``) --
goes through the same estimator (:mod:`physics.tasks.ising_generative.estimators`): e, |m|, c = N Var(e)/T^2 and
chi = N Var(|m|)/T per spin with jackknife errors. Deviations are in units of the combined standard error,
(x - y)/sqrt(sigma_x^2 + sigma_y^2), against ``mc``, ``mc_heldout`` and, where the project has them, the exact
finite-lattice values (e and c of the L x L torus for every L; |m| and chi only by enumeration, L = 4).

Metrics (flat keys): ``observables.<source>.<T>.<obs>.{value,error}`` (``<T>`` like ``T2_269185``; ``exact``
has values only), ``deviation.<source>.<T>.<obs>.{vs_mc,vs_heldout,vs_exact}``, ``target.*`` (the issue's
target: RBM e and |m| within ``target_sigma`` of Monte Carlo at ``target_temperatures``; ``target.met`` is the
headline RBM's against the held-out set), ``critical.*`` (deviations at the temperature nearest T_c and their
trend with n_hidden per family), ``summary.<source>.{mean,max}_abs_deviation_vs_{heldout,mc,exact}`` and
``summary.<model>.nll_heldout``,
``training.<source>.<T>.*`` (seconds, final reconstruction error, log-likelihood per configuration on the
training and held-out sets, the sampling drift check), ``symmetry.<source>.<T>.{m, m_error,
deviation_from_zero, up_fraction}`` (the signed magnetisation, exactly 0 by the Z2 symmetry: e, |m|, c and chi
cannot tell a model that generates one ordered state only). The objective is ``task.objective``, minimised: by
default the headline RBM's (largest n_hidden, first k and method) mean |deviation| from the held-out Monte Carlo
set over T and the four observables (|deviations| capped at 1000 sigma), never the exact values; ``nll`` is
its ``summary.<headline>.nll_heldout``. The held-out Monte Carlo set is this task's validation set: a sweep that
tunes on it should report on a fresh one (another seed).
"""
from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from core.rbm import RBM, spins_to_visible, visible_to_spins
from physics.app.io import atomic_path, write_csv
from physics.app.result import TaskResult
from physics.app.schema import AppConfig
from physics.app.seeding import generator
from physics.app.training import stage
from physics.ising.lattice import critical_temperature
from physics.tasks.ising_generative import figures, models
from physics.tasks.ising_generative.config import Config
from physics.tasks.ising_generative.estimators import (
    OBSERVABLES,
    TARGET_OBSERVABLES,
    deviation,
    exact_observables,
    measure,
    symmetry,
)
from physics.tasks.ising_generative.models import Trained, temperature_key

log = logging.getLogger(__name__)

#: |deviations| are capped at this many sigma in the objective (a source with zero spread gives inf)
MAX_SIGMA = 1000.0
#: references of the deviations: key suffix -> source
REFERENCES = {"vs_mc": "mc", "vs_heldout": "mc_heldout", "vs_exact": "exact"}
#: configurations per source and temperature in figures/configurations.png
N_SHOWN = 3


def _spins(V: np.ndarray, L: int) -> np.ndarray:
    """0/1 visible rows (n, L*L) as int8 +-1 configurations (n, L, L)."""
    return visible_to_spins(V).reshape(len(V), L, L).astype(np.int8)


def _visible(spins: np.ndarray) -> np.ndarray:
    return spins_to_visible(spins.reshape(len(spins), -1))


def run(config: AppConfig, run_dir: Path) -> TaskResult:
    task: Config = config.task
    run_dir, timings = Path(run_dir), {}
    T = np.asarray(task.temperatures, dtype=np.float64)
    tc = critical_temperature("square")

    with stage("monte carlo", timings):
        train, heldout = models.load_sets(config)
    mc = {"mc": [train.spins[train.temperature == t] for t in T],
          "mc_heldout": [heldout.spins[heldout.temperature == t] for t in T]}
    log.info("Monte Carlo: L = %d, %d + %d held-out configurations at each of %s (%s)", task.L, task.n_train,
             task.n_train, T.tolist(), ", ".join(sorted(set(train.algorithm))))
    estimates = {source: [measure(s, t, task.jackknife_blocks) for s, t in zip(sets, T)]
                 for source, sets in mc.items()}
    exact = exact_observables(task.L, T)
    exact_estimates = [{obs: (float(values[i]), 0.0) for obs, values in exact.items() if values is not None}
                       for i in range(len(T))]

    variants = task.variants()
    baselines = [(name, spec, h) for name, spec in config.baseline.items() for h in task.n_hidden]
    trained: dict[str, list[Trained]] = {}
    bar = tqdm(total=len(T) * (len(variants) + len(baselines)), desc="RBMs", unit="model",
               disable=not config.progress)
    try:
        with stage("rbms", timings):
            for i, t in enumerate(T):
                V, V_heldout = _visible(mc["mc"][i]), _visible(mc["mc_heldout"][i])
                for name, h, k, persistent in variants:
                    rbm, fit_seconds = models.train_rbm(config, V, name, h, k, persistent, t)
                    record = _sample_and_measure(config, name, h, t, rbm, fit_seconds, V, V_heldout, estimates,
                                                 trained, i)
                    record.reconstruction_history = list(rbm.history_.reconstruction_error)
                    record.likelihood_history = list(rbm.history_.log_likelihood)
                    _log_model(record, estimates[name][i], estimates["mc_heldout"][i])
                    bar.update(1)
        with stage("baselines", timings):
            for i, t in enumerate(T):
                V, V_heldout = _visible(mc["mc"][i]), _visible(mc["mc_heldout"][i])
                for name, spec, h in baselines:
                    estimator, fit_seconds = models.train_baseline(config, name, spec, h, t, V)
                    source = f"{name}_h{h}"
                    record = _sample_and_measure(config, source, h, t, estimator, fit_seconds, V, V_heldout,
                                                 estimates, trained, i)
                    _log_model(record, estimates[source][i], estimates["mc_heldout"][i])
                    bar.update(1)
    finally:
        bar.close()

    model_sources = list(trained)
    estimates["exact"] = exact_estimates
    deviations = {source: [_deviations(estimates, source, i) for i in range(len(T))]
                  for source in ["mc", "mc_heldout", *model_sources]}
    metrics = {"L": task.L, "n_visible": task.n_visible, "n_train": task.n_train, "n_heldout": task.n_train,
               "n_generated": task.n_samples, "gibbs_steps": task.gibbs_steps, "temperatures": T.tolist(),
               "tc_exact": tc, "headline": task.headline(), "sources": ["mc", "mc_heldout", *model_sources],
               "exact_observables": [obs for obs, values in exact.items() if values is not None],
               "conventions": "per spin, N = L^2, J = k_B = 1: e = <E>/N; abs_m = <|m|>; c = N Var(e)/T^2; "
                              "chi = N Var(|m|)/T (finite-lattice chi'); errors: jackknife; deviation = "
                              "(x - ref)/sqrt(sigma_x^2 + sigma_ref^2)",
               "observables": {source: {temperature_key(t): {obs: {"value": v, "error": e}
                                                              for obs, (v, e) in values.items()}
                                        for t, values in zip(T, per_T)}
                               for source, per_T in estimates.items()},
               "deviation": {source: {temperature_key(t): values for t, values in zip(T, per_T)}
                             for source, per_T in deviations.items()},
               "target": _target(task, T, deviations, model_sources),
               "critical": _critical(task, T, tc, deviations, model_sources, config.baseline),
               "summary": {source: _summary(per_T, trained.get(source, ())) for source, per_T in deviations.items()},
               "training": {source: {temperature_key(r.T): _training_metrics(r) for r in records}
                            for source, records in trained.items()},
               "symmetry": _symmetry(task, T, mc, trained)}
    _log_summary(metrics, task)

    with stage("figures", timings):
        figure_dir = run_dir / "figures"
        shown = sorted({int(np.argmin(np.abs(T - s))) for s in task.sample_temperatures})
        figures.observables(T, estimates, task.L, tc, model_sources, figure_dir / "observables.png")
        figures.deviations(T, deviations, task.target_sigma, tc, model_sources, figure_dir / "deviations.png")
        figures.configurations(_shown_configurations(task, mc, trained, shown), T[shown],
                               figure_dir / "configurations.png")
        figures.training(T, trained, figure_dir / "training.png")
        figures.symmetry(T, metrics["symmetry"], tc, model_sources, figure_dir / "symmetry.png")
        figures.critical(metrics["critical"], "rbm_" + task.headline().split("_", 2)[2],
                         figure_dir / "critical.png")
        write_csv(run_dir / "observables.csv", _observable_rows(T, estimates, deviations),
                  ["source", "T", "observable", "value", "error", *REFERENCES])
        write_csv(run_dir / "training_history.csv", _history_rows(trained))
        _save_weights(run_dir / "models.npz", trained)

    value, name = _objective(task, metrics)
    return TaskResult(objective=value, objective_name=name, direction="minimize", metrics=metrics, timings=timings)


# ----------------------------------------------------------------------------------------------- per model
def _sample_and_measure(config: AppConfig, source: str, n_hidden: int, T: float, model, fit_seconds: float,
                        V: np.ndarray, V_heldout: np.ndarray, estimates: dict, trained: dict, i: int) -> Trained:
    """Sample ``model`` (a core RBM, or a baseline with ``gibbs``), measure its samples, its log-likelihood and
    reconstruction error; store the estimates at index ``i`` of ``estimates[source]``."""
    task = config.task
    rng = generator(config.seed, f"sample/{source}/T{T!r}")
    start = time.perf_counter()
    if isinstance(model, RBM):
        rbm = model
        half, samples = models.sample_rbm(rbm, task.n_samples, task.gibbs_steps, rng)
    else:
        half, samples = models.sample_baseline(model, task.n_samples, task.n_visible, task.gibbs_steps, rng)
        rbm = models.as_core_rbm(model)
    sample_seconds = time.perf_counter() - start
    record = Trained(source, float(T), n_hidden, rbm, samples, half, fit_seconds, sample_seconds)
    record.likelihood = models.log_likelihood(rbm, task.likelihood_method(n_hidden), V, V_heldout, task.ais_chains,
                                              task.ais_betas, generator(config.seed, f"ais/{source}/T{T!r}"))
    record.likelihood["reconstruction_error"] = models.reconstruction_error(rbm, V)
    full = measure(_spins(samples, task.L), T, task.jackknife_blocks)
    early = measure(_spins(half, task.L), T, task.jackknife_blocks)
    record.symmetry = symmetry(_spins(samples, task.L), task.jackknife_blocks)
    record.likelihood["drift_e"] = deviation(full["e"], early["e"])
    record.likelihood["drift_abs_m"] = deviation(full["abs_m"], early["abs_m"])
    estimates.setdefault(source, [None] * len(task.temperatures))[i] = full
    trained.setdefault(source, []).append(record)
    return record


def _log_model(record: Trained, values: dict, reference: dict) -> None:
    z = {obs: deviation(values[obs], reference[obs]) for obs in OBSERVABLES}
    ll = record.likelihood
    log.info("T = %r %s: fit %.1f s, sampling %.1f s; vs held-out MC: e %+.1fσ, |m| %+.1fσ, c %+.1fσ, χ %+.1fσ; "
             "log-likelihood %.2f (held-out %.2f, %s)", record.T, record.name, record.fit_seconds,
             record.sample_seconds, z["e"], z["abs_m"], z["c"], z["chi"], ll["train"], ll["heldout"], ll["method"])


def _training_metrics(record: Trained) -> dict:
    ll = record.likelihood
    return {"n_hidden": record.n_hidden, "fit_seconds": record.fit_seconds, "sample_seconds": record.sample_seconds,
            "reconstruction_error": ll["reconstruction_error"], "log_likelihood_train": ll["train"],
            "log_likelihood_heldout": ll["heldout"], "log_likelihood_method": ll["method"], "log_z": ll["log_z"],
            "log_z_error": ll["log_z_error"], "drift_e": ll["drift_e"], "drift_abs_m": ll["drift_abs_m"]}


# ------------------------------------------------------------------------------------------ comparisons
def _deviations(estimates: dict, source: str, i: int) -> dict:
    """observable -> {vs_mc, vs_heldout, vs_exact} of ``source`` at temperature index ``i`` (a reference the
    source is itself, or that lacks the observable, is left out)."""
    out = {}
    for obs in OBSERVABLES:
        value = estimates[source][i][obs]
        out[obs] = {key: deviation(value, estimates[reference][i][obs]) for key, reference in REFERENCES.items()
                    if reference != source and obs in estimates[reference][i]}
    return out


def _mean_abs(values) -> float:
    values = [min(abs(v), MAX_SIGMA) for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def _summary(per_T: list, records=()) -> dict:
    """Mean and largest |deviation| over temperatures and observables against each reference (|z| capped at
    MAX_SIGMA in the mean); for a model also ``nll_heldout``, minus its mean held-out log-likelihood per
    configuration over the temperatures."""
    out = {}
    if records:
        out["nll_heldout"] = -float(np.mean([r.likelihood["heldout"] for r in records]))
    for key in REFERENCES:
        values = [d[obs][key] for d in per_T for obs in d if key in d[obs]]
        if values:
            out[f"mean_abs_deviation_{key}"] = _mean_abs(values)
            out[f"max_abs_deviation_{key}"] = float(max(abs(v) for v in values))
    return out


def _target(task: Config, T: np.ndarray, deviations: dict, model_sources: list) -> dict:
    """The issue's target: at each target temperature, e and |m| of a model within ``target_sigma`` of Monte
    Carlo (the held-out set, and the training set). ``mc_heldout`` against ``mc`` calibrates the criterion: two
    independent Monte Carlo sets."""
    indices = [int(np.argmin(np.abs(T - t))) for t in task.target_temperatures]
    out = {"temperatures": [float(T[i]) for i in indices], "sigma": task.target_sigma,
           "observables": list(TARGET_OBSERVABLES), "headline": task.headline()}
    for source in ["mc_heldout", *model_sources]:
        entry = {}
        for key in ("vs_heldout", "vs_mc"):
            values = [deviations[source][i][obs].get(key) for i in indices for obs in TARGET_OBSERVABLES]
            values = [v for v in values if v is not None]
            if values:
                worst = float(max(abs(v) for v in values))
                entry[f"max_abs_deviation_{key}"] = worst
                entry[f"met_{key}"] = bool(worst <= task.target_sigma)
        out[source] = entry
    headline = out.get(task.headline(), {})
    out["met"] = headline.get("met_vs_heldout")
    out["met_vs_mc"] = headline.get("met_vs_mc")
    return out


def _families(task: Config, baselines: dict) -> dict:
    """family -> [(n_hidden, source)] by increasing n_hidden: ``rbm_cd1``, ``rbm_pcd5``, one per baseline."""
    families = {f"rbm_{method}{k}": [(h, f"rbm_h{h}_{method}{k}") for h in sorted(task.n_hidden)]
                for k in task.k for method in task.methods}
    families.update({name: [(h, f"{name}_h{h}") for h in sorted(task.n_hidden)] for name in baselines})
    return families


def _critical(task: Config, T: np.ndarray, tc: float, deviations: dict, model_sources: list,
              baselines: dict) -> dict:
    """Deviations from the held-out Monte Carlo set at the temperature nearest T_c, and their trend with n_hidden
    within each family (``shrinks``: the largest n_hidden's mean |deviation| is below the smallest's)."""
    i = int(np.argmin(np.abs(T - tc)))
    out = {"T": float(T[i]), "tc_exact": tc, "reference": "mc_heldout"}
    for source in ["mc", *model_sources]:
        values = {obs: deviations[source][i][obs]["vs_heldout"] for obs in OBSERVABLES}
        out[source] = {**values, "mean_abs_deviation": _mean_abs(values.values())}
    trend = {}
    for family, members in _families(task, baselines).items():
        members = [(h, source) for h, source in members if source in out]
        if not members:
            continue
        entry = {"n_hidden": [h for h, _ in members],
                 "mean_abs_deviation": [out[source]["mean_abs_deviation"] for _, source in members]}
        for obs in OBSERVABLES:
            entry[obs] = [out[source][obs] for _, source in members]
        entry["shrinks"] = (bool(entry["mean_abs_deviation"][-1] < entry["mean_abs_deviation"][0])
                            if len(members) > 1 else None)
        trend[family] = entry
    out["trend"] = trend
    return out


def _symmetry(task: Config, T: np.ndarray, mc: dict, trained: dict) -> dict:
    """The signed magnetisation of every source (:func:`estimators.symmetry`) per temperature, and per model the
    largest |<m>| / error over the temperatures (``max_abs_deviation_from_zero``: the Z2 symmetry the four
    observables cannot see; Monte Carlo's error of <m> is underestimated below T_c, see there)."""
    out = {source: {temperature_key(t): symmetry(sets[i], task.jackknife_blocks) for i, t in enumerate(T)}
           for source, sets in mc.items()}
    for source, records in trained.items():
        out[source] = {temperature_key(r.T): r.symmetry for r in records}
        out[source]["max_abs_deviation_from_zero"] = float(max(abs(r.symmetry["deviation_from_zero"])
                                                               for r in records))
    return out


def _objective(task: Config, metrics: dict) -> tuple[float, str]:
    headline = task.headline()
    if task.objective == "deviation":
        return metrics["summary"][headline]["mean_abs_deviation_vs_heldout"], \
            f"summary.{headline}.mean_abs_deviation_vs_heldout"
    return metrics["summary"][headline]["nll_heldout"], f"summary.{headline}.nll_heldout"


def _log_summary(metrics: dict, task: Config) -> None:
    target, critical = metrics["target"], metrics["critical"]
    headline = task.headline()
    log.info("target (e and |m| within %g σ of Monte Carlo at T = %s): %s -> %s against the held-out set (max "
             "|dev| %.2f σ), %s against the training set; two Monte Carlo sets: max |dev| %.2f σ",
             task.target_sigma, target["temperatures"], headline, "met" if target["met"] else "NOT met",
             target[headline].get("max_abs_deviation_vs_heldout", float("nan")),
             "met" if target["met_vs_mc"] else "not met",
             target["mc_heldout"].get("max_abs_deviation_vs_mc", float("nan")))
    up = {key: entry["up_fraction"] for key, entry in metrics["symmetry"].get(headline, {}).items()
          if key.startswith("T")}
    if up:
        log.info("Z2 symmetry: share of %s's configurations with m > 0 (exact 1/2): %s", headline,
                 ", ".join(f"{key[1:].replace('_', '.')}: {value:.2f}" for key, value in up.items()))
    for family, entry in critical["trend"].items():
        log.info("T = %r (T_c): %s mean |dev| from held-out MC by n_hidden %s: %s%s", critical["T"], family,
                 entry["n_hidden"], ", ".join(f"{v:.2f} σ" for v in entry["mean_abs_deviation"]),
                 "" if entry["shrinks"] is None else (" (shrinks)" if entry["shrinks"] else " (does not shrink)"))


# ------------------------------------------------------------------------------------------------- files
def _shown_configurations(task: Config, mc: dict, trained: dict, shown: list) -> list:
    """Rows of figures/configurations.png: (label, [configurations (N_SHOWN, L, L) per shown temperature]):
    Monte Carlo, the headline RBM, the smallest RBM of its family, each baseline at the largest n_hidden."""
    rows = [("Monte Carlo", [mc["mc"][i][:N_SHOWN] for i in shown])]
    family = task.headline().split("_", 2)[2]
    picked = [task.headline(), f"rbm_h{min(task.n_hidden)}_{family}"]
    picked += [source for source in trained if not source.startswith("rbm_") and
               source.endswith(f"_h{max(task.n_hidden)}")]
    for source in dict.fromkeys(picked):
        if source in trained:
            label = source.replace("_", " ")
            rows.append((label, [_spins(trained[source][i].samples[:N_SHOWN], task.L) for i in shown]))
    return rows


def _observable_rows(T: np.ndarray, estimates: dict, deviations: dict) -> list[dict]:
    rows = []
    for source, per_T in estimates.items():
        for i, t in enumerate(T):
            for obs, (value, error) in per_T[i].items():
                row = {"source": source, "T": float(t), "observable": obs, "value": value, "error": error}
                if source in deviations:
                    row.update(deviations[source][i][obs])
                rows.append(row)
    return rows


def _history_rows(trained: dict) -> list[dict]:
    return [{"source": source, "T": r.T, "epoch": epoch, "reconstruction_error": recon,
             "log_likelihood": r.likelihood_history[epoch - 1]}
            for source, records in trained.items() for r in records
            for epoch, recon in enumerate(r.reconstruction_history, start=1)]


def _save_weights(path: Path, trained: dict) -> None:
    """Every model's W, a, b as ``<source>/<T>/{W,a,b}`` arrays of one npz file."""
    arrays = {}
    for source, records in trained.items():
        for r in records:
            W, a, b = r.rbm.get_weights()
            key = f"{source}/{temperature_key(r.T)}"
            arrays.update({f"{key}/W": W, f"{key}/a": a, f"{key}/b": b})
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, **arrays)
