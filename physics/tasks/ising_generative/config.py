"""Schema of ``task=ising_generative``: the lattice, the temperatures, the Monte Carlo sets, the RBMs to train and
how their samples are drawn and compared.

Every check that can fail runs at validation, before any Monte Carlo or training: the temperature list (positive,
sorted, unique, containing T_c and the target temperatures), the RBM sizes and CD steps, the training set against
the minibatch (``trainer.batch_size``), an exact log-likelihood only where enumeration allows it, the baselines
(scikit-learn RBMs with a ``gibbs`` sampler, their ``n_components`` left to ``task.n_hidden``) and the memory the
run will need. Temperatures in units of J/k_B.

Where the settings live: the RBM's epochs and minibatch are ``trainer.epochs`` and ``trainer.batch_size``; its
optimizer is the ``optimizer`` node (name, ``lr``, ``weight_decay``, its own keys, ``clip_norm``) with the
``schedule`` node, built as every network's (cosine's ``total_epochs`` = ``trainer.epochs``). The ``model`` node
and the trainer's early-stopping keys are not used (an RBM has no validation loss here: it is judged by its
samples).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional

from physics.app.resources import check_memory, driving_key, format_bytes, real
from physics.app.schema import ConfigError, TaskConfig, param

#: the Onsager critical temperature 2 / ln(1 + sqrt 2) of the square lattice (J/k_B)
TC_SQUARE = 2.0 / math.log(1.0 + math.sqrt(2.0))
#: how close to T_c one temperature of the list must be (the summary at T_c is read there)
TC_TOLERANCE = 0.05
#: cd: contrastive divergence (chains restart at the minibatch); pcd: persistent chains (Tieleman 2008)
METHODS = ("cd", "pcd")
#: auto: exact where min(n_visible, n_hidden) <= 16, AIS otherwise; exact: enumeration only (refused beyond 2^20
#: states); ais: annealed importance sampling for every model; none: no log-likelihood
LIKELIHOODS = ("auto", "exact", "ais", "none")
#: deviation: mean |deviation| (in sigma) of the headline RBM from the held-out Monte Carlo set over T and the four
#: observables; nll: its negative held-out log-likelihood per configuration, mean over T
OBJECTIVES = ("deviation", "nll")
#: typical values, against which the key that drives a memory estimate is found
TYPICAL = {"L": 8, "n_train": 1000, "n_generated": 1000}
#: largest layer an exact log-likelihood enumerates (core.rbm.MAX_ENUMERATION_UNITS; not imported here: --help
#: imports every schema, and core.rbm pulls scipy)
MAX_ENUMERATION_UNITS = 20
#: below this the RBM records (and ``auto`` computes) the exact log-likelihood (core.rbm.HISTORY_EXACT_UNITS)
HISTORY_EXACT_UNITS = 16

POSITIVE = dict(low=0.0, low_open=True)


def close_to(value: float, values, tolerance: float = 1e-9) -> bool:
    """Whether ``value`` equals one of ``values`` up to ``tolerance`` (temperatures typed in YAML)."""
    return any(abs(value - v) <= tolerance for v in values)


@dataclass
class Config(TaskConfig):
    """``task=ising_generative``: a binary RBM per temperature trained on Monte Carlo configurations, its samples'
    energy, |m|, specific heat and susceptibility against Monte Carlo and the exact finite-lattice values."""

    MODELS = ("mlp",)  # the model node is not used (the RBM is configured here); its default must validate

    name: str = param("ising_generative", help="the task", choices=("ising_generative",))
    L: int = param(8, help="lattice size (L x L spins, periodic, square); >= 8 recommended (L = 4: exact |m| and "
                           "chi by enumeration too)", low=4)
    temperatures: List[float] = param(help="temperatures (J/k_B), sorted, unique, including T_c = 2.269185",
                                      factory=lambda: [1.5, 2.0, 2.269185, 2.5, 3.5], **POSITIVE)
    n_train: int = param(1000, help="Monte Carlo training configurations per temperature; a held-out Monte Carlo "
                                    "set of the same size (independent chains) is the fairer reference", low=2)
    n_hidden: List[int] = param(help="hidden units: one RBM per value (and per k, method, temperature); n_hidden "
                                     "<= 16 adds core.rbm's exact likelihood every epoch (2^n_hidden states: ~0.25 "
                                     "s per epoch at 16)",
                                factory=lambda: [8, 32, 128], low=1)
    k: List[int] = param(help="Gibbs steps of the negative phase (CD-k / PCD-k): one RBM per value",
                         factory=lambda: [1], low=1)
    methods: List[str] = param(help="training: cd (contrastive divergence) and/or pcd (persistent chains)",
                               choices=METHODS, factory=lambda: ["cd"])
    n_persistent_chains: Optional[int] = param(None, help="pcd: persistent chains (null: trainer.batch_size)",
                                               low=1)
    init_scale: float = param(0.01, help="initial weights: init_scale x N(0, 1)", low=0.0, low_open=True)
    n_generated: Optional[int] = param(None, help="configurations drawn from every model, each from its own "
                                                  "chain (null: n_train, so that the errors compare)", low=2)
    gibbs_steps: int = param(500, help="block-Gibbs steps of every sampling chain (from random spins) before its "
                                       "one configuration is kept; the baseline gets the same", low=2)
    jackknife_blocks: int = param(100, help="blocks of the jackknife errors (at most one configuration per block)",
                                  low=2)
    log_likelihood: str = param("auto", help="log-likelihood per configuration of every model on the training "
                                             "and held-out sets: auto (exact where min(n_visible, n_hidden) <= 16, "
                                             "else AIS) | exact (enumeration, <= 2^20 states) | ais | none",
                                choices=LIKELIHOODS)
    ais_chains: int = param(100, help="AIS: independent annealing runs", low=2)
    ais_betas: int = param(1000, help="AIS: inverse temperatures from the base model to the RBM", low=2)
    target_temperatures: List[float] = param(help="where the issue's target is checked: RBM e and |m| within "
                                                  "target_sigma of Monte Carlo (each must be in temperatures)",
                                             factory=lambda: [1.5, 3.5], **POSITIVE)
    target_sigma: float = param(2.0, help="the target's bound on |deviation| in units of the combined standard "
                                          "error", low=0.0, low_open=True)
    sample_temperatures: List[float] = param(help="temperatures of figures/configurations.png (nearest in the "
                                                  "list)", factory=lambda: [1.5, 2.269185, 3.5], **POSITIVE)
    algorithm: str = param("auto", help="Monte Carlo update (auto: Swendsen-Wang near T_c, Metropolis elsewhere)",
                           choices=("auto", "metropolis", "swendsen_wang", "wolff"))
    n_jobs: Optional[int] = param(None, help="Monte Carlo processes (null: all cores; negative: joblib style)")
    objective: str = param("deviation", help="what a sweep minimises: deviation (mean |deviation| in sigma of the "
                                             "headline RBM -- largest n_hidden, first k and method -- from the "
                                             "held-out Monte Carlo set, over T and e, |m|, c, chi) | nll (its "
                                             "negative held-out log-likelihood per configuration)",
                           choices=OBJECTIVES)

    # -- derived
    @property
    def n_visible(self) -> int:
        return self.L * self.L

    @property
    def n_samples(self) -> int:
        """Configurations drawn from every model."""
        return self.n_train if self.n_generated is None else self.n_generated

    def variants(self) -> list[tuple[str, int, int, bool]]:
        """Every RBM trained at each temperature: (name, n_hidden, k, persistent), ordered by n_hidden, then k,
        then method. Names: ``rbm_h64_cd1``, ``rbm_h16_pcd5``."""
        return [(f"rbm_h{h}_{method}{k}", h, k, method == "pcd")
                for h in self.n_hidden for k in self.k for method in self.methods]

    def headline(self) -> str:
        """The RBM of the objective and of the target headline: largest n_hidden, first k, first method."""
        return f"rbm_h{max(self.n_hidden)}_{self.methods[0]}{self.k[0]}"

    def likelihood_method(self, n_hidden: int) -> str:
        """How the log-likelihood of an RBM with ``n_hidden`` hidden units is computed: exact | ais | none."""
        if self.log_likelihood in ("exact", "ais", "none"):
            return self.log_likelihood
        return "exact" if min(self.n_visible, n_hidden) <= HISTORY_EXACT_UNITS else "ais"

    # -- checks
    def check(self) -> None:
        T = list(self.temperatures)
        if not T:
            raise ConfigError("temperatures", "must list at least one temperature. Got [] instead.")
        if any(not b > a for a, b in zip(T, T[1:])):
            raise ConfigError("temperatures", f"must be sorted in increasing order without repeats. Got {T} "
                                              f"instead (sorted: {sorted(set(T))}).")
        if not any(abs(t - TC_SQUARE) <= TC_TOLERANCE for t in T):
            raise ConfigError("temperatures", f"must include T_c = {TC_SQUARE:.6f} (within {TC_TOLERANCE}): the "
                                              f"task's summary is read there. Got {T} instead; add 2.269185.")
        for key in ("target_temperatures", "sample_temperatures"):
            if not getattr(self, key):
                raise ConfigError(key, "must list at least one temperature. Got [] instead.")
        missing = [t for t in self.target_temperatures if not close_to(t, T)]
        if missing:
            raise ConfigError("target_temperatures", f"must be among task.temperatures {T}. Got {missing} "
                                                     f"outside it.")
        for key in ("n_hidden", "k", "methods"):
            values = getattr(self, key)
            if not values or len(set(values)) != len(values):
                raise ConfigError(key, f"must list different values (at least one). Got {values} instead.")
        if self.n_jobs == 0:
            raise ConfigError("n_jobs", "must be null, a positive count or negative (joblib style). Got 0 instead.")
        if self.log_likelihood == "exact":
            too_big = [h for h in self.n_hidden if min(self.n_visible, h) > MAX_ENUMERATION_UNITS]
            if too_big:
                raise ConfigError("log_likelihood", f"exact enumerates the 2^m states of the smaller layer, m = "
                                                    f"min(n_visible, n_hidden) <= {MAX_ENUMERATION_UNITS}; with L = "
                                                    f"{self.L} (n_visible = {self.n_visible} > "
                                                    f"{MAX_ENUMERATION_UNITS}) the RBMs with n_hidden = {too_big} "
                                                    f"have more units in both layers than enumeration allows. Use "
                                                    f"task.log_likelihood=auto or ais, n_hidden <= "
                                                    f"{MAX_ENUMERATION_UNITS}, or L <= 4.")
        if self.objective == "nll" and self.log_likelihood == "none":
            raise ConfigError("objective", "nll needs a log-likelihood: set task.log_likelihood to auto, exact or "
                                           "ais, or choose task.objective=deviation.")
        self.check_memory()

    def check_memory(self) -> None:
        """The Monte Carlo sets (int8 spins and the float64 0/1 copies the RBMs see, training and held-out), the
        largest model's samples and sampling temporaries, and an exact enumeration's chunks must fit the default
        memory limit. The error names the key furthest above its typical value."""
        n_T, spins = real(len(self.temperatures)), real(self.L) ** 2
        data = 2 * n_T * real(self.n_train) * spins * (1 + 8)
        hidden = max(real(h) for h in self.n_hidden)
        samples = real(self.n_samples) * (spins * 8 * 6 + hidden * 8 * 4)
        enumeration = 4 * 32e6 if self.log_likelihood in ("auto", "exact") else 0.0
        ratios = {"L": spins / TYPICAL["L"] ** 2, "n_train": real(self.n_train) / TYPICAL["n_train"],
                  "n_generated": real(self.n_samples) / TYPICAL["n_generated"]}
        key = driving_key(ratios)
        check_memory(key, data + samples + enumeration,  # a key relative to this node (validate adds task.)
                     f"task.{key} = {getattr(self, key)}: the run",
                     hint=f"(Of it {format_bytes(data)} for the Monte Carlo sets, {format_bytes(samples)} for the "
                          f"samples of one model.) Lower task.{key}.")

    def check_with(self, config) -> None:
        super().check_with(config)
        batch = config.trainer.batch_size
        if self.n_train < batch:
            raise ConfigError("task.n_train", f"must be at least trainer.batch_size = {batch} (one full minibatch "
                                              f"per epoch). Got {self.n_train} instead; lower trainer.batch_size "
                                              f"or raise task.n_train.")
        check_baselines(config.baseline)


def check_baselines(specs: dict) -> None:
    """Every baseline must be an RBM that samples by ``gibbs(v)`` (scikit-learn's BernoulliRBM); its
    ``n_components`` is ``task.n_hidden``'s, not the baseline's own."""
    from hydra.utils import get_object

    for name, spec in specs.items():
        target = get_object(spec["_target_"])  # importable: physics.app.baselines.check_specs ran first
        if not callable(getattr(target, "gibbs", None)):
            raise ConfigError(f"baseline.{name}._target_", f"must be an RBM with a gibbs(v) sampler, e.g. "
                                                          f"sklearn.neural_network.BernoulliRBM. Got "
                                                          f"{spec['_target_']!r} instead (or drop it: "
                                                          f"~baseline.{name}, or baseline=none).")
        if "n_components" in spec:
            raise ConfigError(f"baseline.{name}.n_components", f"is set by task.n_hidden (one baseline per value, "
                                                               f"as the RBMs); remove it. Got "
                                                               f"{spec['n_components']!r}.")


#: ``debug=tiny``: L = 4 (exact e, |m|, c, chi by enumeration), three temperatures, 64 configurations each, RBMs
#: of 2 and 8 hidden units, 3 epochs, short chains, one Monte Carlo process
DEBUG = {"task": {"L": 4, "temperatures": [1.5, 2.269185, 3.5], "n_train": 64, "n_hidden": [2, 8],
                  "gibbs_steps": 20, "jackknife_blocks": 16, "ais_chains": 16, "ais_betas": 50, "n_jobs": 1},
         "trainer": {"epochs": 3, "batch_size": 16}}
