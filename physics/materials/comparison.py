"""Paired comparison of models evaluated on the same folds or the same test set, and tuning-grid edge checks.

"Mean +- std over folds" of each model says how much a score varies between folds; it does not test whether two
models differ, because the folds are shared: the per-fold scores of two models are strongly correlated. The
right object is the *paired difference* per fold (or per test sample), and its uncertainty.

Two tests:

* :func:`corrected_paired_ttest` -- per-fold scores of k-fold (optionally r-times repeated, or grouped) cross-
  validation: the corrected resampled t-test of Nadeau & Bengio, Machine Learning 52, 239 (2003).
* :func:`paired_test_on_split` -- one fixed (e.g. published) train/test split: per-sample paired differences of
  a loss, with a paired t-test and a percentile bootstrap confidence interval.

:func:`compare_to_reference` runs either test for every model against a reference (the network).

**Sign convention.** A :class:`PairedComparison` reports ``model_a - model_b``. :func:`compare_to_reference`
uses ``model_a = reference`` and ``model_b = other``: the difference is ``reference - other``, so for an error
metric (MAE, RMSE) a *negative* difference means the reference (the network) has the *lower* error. For a
score where higher is better (R^2) a negative difference means the reference is worse.

:func:`grid_edges` reports tuning-grid parameters whose chosen value sits on the edge of the grid (the optimum
may lie outside it); :func:`extend_grid` and :func:`extend_hit_edges` extend such grids by one step for a
single re-tuning.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields
from typing import Mapping, Sequence

import numpy as np
from scipy import stats

from core._validation import as_generator

__all__ = [
    "PairedComparison",
    "compare_to_reference",
    "corrected_paired_ttest",
    "extend_grid",
    "extend_hit_edges",
    "grid_edges",
    "mean_fold_sizes",
    "paired_test_on_split",
]

COMPARISON_KINDS = ("cv", "split")
_BOOTSTRAP_CHUNK = 2_000_000  # resampled indices held in memory at once


@dataclass(frozen=True, kw_only=True)
class PairedComparison:
    """The paired difference ``model_a - model_b`` of one metric, with its uncertainty.

    Attributes
    ----------
    model_a : str
        Name of the first model ("" if not given).
    model_b : str
        Name of the second model ("" if not given).
    metric : str
        The compared score, e.g. "mae" ("" if not given).
    mean_difference : float
        Mean of the paired differences ``a - b`` (units of the metric).
    standard_error : float
        Standard error of ``mean_difference`` (for the cross-validation test: the Nadeau-Bengio corrected one).
    t_statistic : float
        ``mean_difference / standard_error``; +-inf or NaN when the differences do not vary (see
        :func:`corrected_paired_ttest`).
    dof : int
        Degrees of freedom of the Student t distribution, ``n - 1``.
    p_value : float
        Two-sided p-value of "the expected difference is 0".
    ci_low : float
        Lower end of the ``confidence`` Student-t interval ``mean_difference - t_q * standard_error``.
    ci_high : float
        Upper end of that interval, ``mean_difference + t_q * standard_error``.
    confidence : float
        In (0, 1), e.g. 0.95. Level of the intervals.
    method : str
        The test in words, e.g. "Nadeau-Bengio corrected resampled t-test over 5 folds".
    n : int
        The number of pairs (folds, or test samples).
    bootstrap_ci_low : float
        Lower end of the percentile bootstrap interval of the mean difference at the same confidence
        (:func:`paired_test_on_split` only; NaN otherwise).
    bootstrap_ci_high : float
        Upper end of that bootstrap interval (NaN when there is none).
    """

    model_a: str = ""
    model_b: str = ""
    metric: str = ""
    mean_difference: float
    standard_error: float
    t_statistic: float
    dof: int
    p_value: float
    ci_low: float
    ci_high: float
    confidence: float
    method: str
    n: int
    bootstrap_ci_low: float = float("nan")
    bootstrap_ci_high: float = float("nan")

    @property
    def significant(self) -> bool:
        """``p_value < 1 - confidence`` (False for a NaN p-value)."""
        return bool(self.p_value < round(1.0 - self.confidence, 12))

    def as_dict(self) -> dict[str, object]:
        """Every field plus ``significant``, as JSON-able Python values.

        Returns
        -------
        record : dict
            Field name -> value (str, int, float or bool); non-finite floats become None.
        """
        out: dict[str, object] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, (float, np.floating)):
                value = float(value) if math.isfinite(value) else None
            elif isinstance(value, np.integer):
                value = int(value)
            out[item.name] = value
        out["significant"] = self.significant
        return out

    def describe(self, units: str | None = None, *, digits: int = 3) -> str:
        """One human line, e.g. ``"network − random_forest: MAE −0.52 GPa (95 % CI −0.81 … −0.23), p = 0.003,
        Nadeau-Bengio corrected resampled t-test over 5 folds"``.

        Parameters
        ----------
        units : str or None, optional
            Appended to the mean difference (e.g. "GPa", "eV/atom"); None or "" (default None) appends nothing.
        digits : int, optional
            >= 1. Significant digits of the numbers. Default 3.

        Returns
        -------
        line : str
            The comparison in words, without a trailing newline.

        Raises
        ------
        ValueError
            When ``digits`` is not an int >= 1.
        """
        if isinstance(digits, bool) or not isinstance(digits, (int, np.integer)) or digits < 1:
            raise ValueError(f"The 'digits' parameter must be an int >= 1. Got {digits!r} instead.")
        names = f"{self.model_a or 'A'} − {self.model_b or 'B'}"
        metric = (self.metric.upper() if len(self.metric) <= 4 else self.metric) if self.metric else "difference"
        unit = f" {units}" if units else ""
        level = f"{100 * self.confidence:g} %"
        interval = f"{level} CI {_number(self.ci_low, digits)} … {_number(self.ci_high, digits)}"
        if math.isfinite(self.bootstrap_ci_low) or math.isfinite(self.bootstrap_ci_high):
            interval += (f"; bootstrap {_number(self.bootstrap_ci_low, digits)} … "
                         f"{_number(self.bootstrap_ci_high, digits)}")
        return (f"{names}: {metric} {_number(self.mean_difference, digits)}{unit} ({interval}), "
                f"{_p_text(self.p_value)}, {self.method}")


def corrected_paired_ttest(scores_a, scores_b, n_train: float, n_test: float, *, confidence: float = 0.95,
                           model_a: str = "", model_b: str = "", metric: str = "") -> PairedComparison:
    """Nadeau-Bengio corrected resampled t-test of two models' per-fold scores on the same folds.

    Reference: C. Nadeau and Y. Bengio, "Inference for the Generalization Error", Machine Learning 52, 239
    (2003); applied to (repeated) k-fold cross-validation as in R. Bouckaert and E. Frank, PAKDD 2004.

    With ``J`` folds (``J = r * k`` for r-times repeated k-fold CV) and per-fold differences
    ``d_j = a_j - b_j``::

        d_bar   = mean(d)
        s2      = sum_j (d_j - d_bar)^2 / (J - 1)              (sample variance, ddof=1)
        se      = sqrt((1 / J + n_test / n_train) * s2)        (corrected standard error)
        t       = d_bar / se,     dof = J - 1
        p       = 2 * (1 - F_t(|t|; dof))                      (two-sided, Student t)
        CI      = d_bar -+ t_{(1 + confidence) / 2; dof} * se

    Why the correction: the folds share one data set and their training sets overlap (any two training sets
    of k-fold CV share a fraction (k - 2) / (k - 1) of their rows), so the ``d_j`` are positively correlated,
    with correlation rho. Then ``Var(d_bar) = sigma^2 (rho + (1 - rho) / J)`` while the sample variance only
    estimates ``(1 - rho) sigma^2``: the naive ``s2 / J`` of an ordinary paired t-test is too small and the
    naive test rejects too often (its false-positive rate at the 5 % level is well above 5 % -- see
    tests/materials/test_comparison.py). Nadeau & Bengio take ``rho = n_test / (n_train + n_test)``, which
    gives the factor ``1 / J + n_test / n_train`` above. The hypothesis tested is about the two *learning
    algorithms* trained on ``n_train`` rows of this population (the expected difference over training sets
    and test rows), not about two particular fitted models.

    It remains a heuristic: it is conservative when the training-set contribution to the fold-to-fold
    variation is small (e.g. two stable models), and for grouped cross-validation (GroupKFold,
    LeaveOneGroupOut: unequal fold sizes, extra correlation within groups) it is an approximation with the
    *mean* fold sizes. With 5 folds (4 degrees of freedom) the test has little power.

    Parameters
    ----------
    scores_a : array_like of float
        Shape (J,) or (r, k) (flattened). The per-fold score (e.g. MAE) of the first model; finite, J >= 2.
    scores_b : array_like of float
        Same shape as ``scores_a``. The per-fold score of the second model on the *same* folds, in the same
        order; finite.
    n_train : float
        > 0. The (mean) number of training rows of a fold (:func:`mean_fold_sizes`).
    n_test : float
        > 0. The (mean) number of test rows of a fold (:func:`mean_fold_sizes`).
    confidence : float, optional
        In (0, 1). Level of the confidence interval. Default 0.95.
    model_a : str, optional
        Name of the first model, stored in the result ("" if not given).
    model_b : str, optional
        Name of the second model, stored in the result ("" if not given).
    metric : str, optional
        Name of the compared score (e.g. "mae"), stored in the result ("" if not given).

    Returns
    -------
    comparison : PairedComparison
        The comparison of ``a - b``. If all ``d_j`` are equal (``s2 = 0``), the result is degenerate rather
        than an error (equal up to the floating-point rounding of ``a - b``, e.g. a constant offset):
        ``standard_error = 0``, ``CI = [d_bar, d_bar]``, and ``t = +-inf, p = 0`` when ``d_bar != 0`` or
        ``t = NaN, p = 1`` when ``d_bar == 0`` (identical scores).

    Raises
    ------
    ValueError
        For scores of different shapes, fewer than 2 folds, NaN/inf scores (e.g. a failed fold: drop it from
        both models), ``n_train``/``n_test`` not > 0, or ``confidence`` outside (0, 1).
    """
    a, b = _paired_arrays(scores_a, scores_b, "scores_a", "scores_b", allow_2d=True)
    n_train = _positive(n_train, "n_train")
    n_test = _positive(n_test, "n_test")
    confidence = _confidence(confidence)
    d = a - b
    J = d.size
    factor = 1.0 / J + n_test / n_train
    return _t_result(d, _scale(a, b), factor, confidence, model_a=model_a, model_b=model_b, metric=metric,
                     method=f"Nadeau-Bengio corrected resampled t-test over {J} folds")


def paired_test_on_split(errors_a, errors_b, *, confidence: float = 0.95, n_bootstrap: int = 2000,
                         random_state=0, model_a: str = "", model_b: str = "",
                         metric: str = "") -> PairedComparison:
    """Paired comparison of two models on ONE fixed test set, from per-sample losses.

    With per-sample losses (e.g. absolute errors ``|y_i - prediction_i|``, whose mean is the MAE) and
    ``d_i = errors_a[i] - errors_b[i]`` over the n test samples::

        mean_difference = mean(d),   standard_error = std(d, ddof=1) / sqrt(n)
        t = mean_difference / standard_error,   dof = n - 1      (the paired t-test, scipy's ttest_rel)
        CI = mean_difference -+ t_{(1 + confidence) / 2; n - 1} * standard_error

    and, stored alongside, the percentile bootstrap interval: the ``(1 -+ confidence) / 2`` quantiles of the
    mean of ``d`` over ``n_bootstrap`` resamples of the n pairs with replacement (no Gaussian assumption;
    close to the t interval for large n).

    Scope: this accounts only for the *finite test set* -- the uncertainty of the mean loss difference of
    these two fitted models over new test samples. It does not account for the randomness of training (the
    network's initialisation and batch order, a random forest's seed, the particular training set); a
    retrained network has a different error. That training-seed variance is a separate quantity: report it
    separately (e.g. the spread of the test MAE over several training seeds), it is not part of this interval.

    Parameters
    ----------
    errors_a : array_like of float
        Shape (n_test,). Per-sample loss of the first model; finite, n_test >= 2.
    errors_b : array_like of float
        Shape (n_test,). Per-sample loss of the second model on the same test samples in the same order; finite.
    confidence : float, optional
        In (0, 1). Level of both intervals. Default 0.95.
    n_bootstrap : int, optional
        0 or >= 100. Number of bootstrap resamples (default 2000); 0 skips the bootstrap (its interval is NaN).
    random_state : int or numpy.random.Generator or None, optional
        Seed of the bootstrap (see ``core._validation.as_generator``). Default 0.
    model_a : str, optional
        Name of the first model, stored in the result ("" if not given).
    model_b : str, optional
        Name of the second model, stored in the result ("" if not given).
    metric : str, optional
        Name of the compared score (e.g. "mae"), stored in the result ("" if not given).

    Returns
    -------
    comparison : PairedComparison
        The comparison of ``a - b`` with ``bootstrap_ci_low`` / ``bootstrap_ci_high``. Identical differences
        give the degenerate result described in :func:`corrected_paired_ttest`.

    Raises
    ------
    ValueError
        For losses of different shapes or not 1-D, fewer than 2 samples, NaN/inf losses, ``confidence``
        outside (0, 1), or ``n_bootstrap`` neither 0 nor an int >= 100.
    """
    a, b = _paired_arrays(errors_a, errors_b, "errors_a", "errors_b", allow_2d=False)
    confidence = _confidence(confidence)
    if (isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, (int, np.integer))
            or not (n_bootstrap == 0 or n_bootstrap >= 100)):
        raise ValueError(f"The 'n_bootstrap' parameter must be 0 or an int >= 100. Got {n_bootstrap!r} instead.")
    d = a - b
    n = d.size
    low = high = float("nan")
    if n_bootstrap:
        means = _bootstrap_means(d, int(n_bootstrap), as_generator(random_state))
        low, high = (float(q) for q in np.quantile(means, [(1 - confidence) / 2, (1 + confidence) / 2]))
    return _t_result(d, _scale(a, b), 1.0 / n, confidence, model_a=model_a, model_b=model_b, metric=metric,
                     method=f"paired t-test over {n} test samples", bootstrap=(low, high))


def compare_to_reference(per_model_scores: Mapping[str, object], reference: str, *, kind: str = "cv",
                         n_train: float | None = None, n_test: float | None = None, confidence: float = 0.95,
                         metric: str = "", n_bootstrap: int = 2000,
                         random_state=0) -> dict[str, PairedComparison]:
    """Every other model compared with the reference model, as ``reference - other``.

    Parameters
    ----------
    per_model_scores : Mapping of str to array_like
        Model name -> scores, at least two models. ``kind="cv"``: per-fold scores of shape (n_folds,), all on
        the same folds (e.g. ``CVResult.models[name].fold_metrics["mae"]``). ``kind="split"``: per-sample
        losses on one test set, shape (n_test,).
    reference : str
        The key of the reference model (the network) in ``per_model_scores``.
    kind : {"cv", "split"}, optional
        "cv" (default): :func:`corrected_paired_ttest` (needs ``n_train`` and ``n_test``, e.g. from
        :func:`mean_fold_sizes`); "split": :func:`paired_test_on_split` (``n_train``/``n_test`` must be None).
    n_train : float or None, optional
        > 0. Mean number of training rows of a fold; required for ``kind="cv"``, must be None (default) for
        ``kind="split"``.
    n_test : float or None, optional
        > 0. Mean number of test rows of a fold; required for ``kind="cv"``, must be None (default) for
        ``kind="split"``.
    confidence : float, optional
        In (0, 1). Level of the confidence intervals. Default 0.95.
    metric : str, optional
        Name of the compared score, stored in each result ("" if not given).
    n_bootstrap : int, optional
        0 or >= 100. Bootstrap resamples of ``kind="split"`` (default 2000); unused by ``kind="cv"``.
    random_state : int or numpy.random.Generator or None, optional
        Seed of the bootstrap of ``kind="split"`` (default 0); unused by ``kind="cv"``.

    Returns
    -------
    comparisons : dict of str to PairedComparison
        Other model name -> its comparison with ``model_a = reference``, ``model_b = other``, in the order of
        ``per_model_scores``. Difference = reference - other: negative means the reference has the lower value
        (the lower error, for an error metric).

    Raises
    ------
    ValueError
        When ``per_model_scores`` is not a mapping or holds only the reference, ``reference`` is not one of its
        keys, ``kind`` is not "cv" or "split", ``n_train``/``n_test`` do not match ``kind``, or a comparison
        fails (the message names the two models).
    """
    if not isinstance(per_model_scores, Mapping):
        raise ValueError(f"per_model_scores must be a dict name -> scores. Got {type(per_model_scores).__name__}.")
    if kind not in COMPARISON_KINDS:
        raise ValueError(f"The 'kind' parameter must be one of {COMPARISON_KINDS}. Got {kind!r} instead.")
    if reference not in per_model_scores:
        raise ValueError(f"reference={reference!r} is not one of the models {sorted(per_model_scores)}.")
    if len(per_model_scores) < 2:
        raise ValueError(f"Comparing with {reference!r} needs at least one other model. Got only {reference!r}.")
    if kind == "cv" and (n_train is None or n_test is None):
        raise ValueError("kind='cv' needs n_train and n_test (the mean training and test rows of a fold).")
    if kind == "split" and (n_train is not None or n_test is not None):
        raise ValueError("n_train/n_test are only used by kind='cv' (the fold sizes); with kind='split' leave "
                         "them None.")
    ref = per_model_scores[reference]
    out = {}
    for name, scores in per_model_scores.items():
        if name == reference:
            continue
        names = dict(model_a=str(reference), model_b=str(name), metric=metric)
        try:
            if kind == "cv":
                out[name] = corrected_paired_ttest(ref, scores, n_train, n_test, confidence=confidence, **names)
            else:
                out[name] = paired_test_on_split(ref, scores, confidence=confidence, n_bootstrap=n_bootstrap,
                                                 random_state=random_state, **names)
        except ValueError as error:
            raise ValueError(f"Comparing {reference!r} with {name!r}: {error}") from error
    return out


def mean_fold_sizes(splits: Sequence[tuple]) -> tuple[float, float]:
    """Mean training and test rows of a list of folds: the ``n_train``/``n_test`` of :func:`corrected_paired_ttest`.

    Parameters
    ----------
    splits : sequence of tuple
        At least one ``(train_index, test_index)`` pair of index arrays (e.g. ``CVResult.splits``).

    Returns
    -------
    n_train : float
        Mean number of training rows per fold.
    n_test : float
        Mean number of test rows per fold.

    Raises
    ------
    ValueError
        When ``splits`` is empty or not a list of pairs of sized sequences.
    """
    splits = list(splits)
    if not splits:
        raise ValueError("mean_fold_sizes needs at least one (train_index, test_index) fold. Got none.")
    try:
        sizes = np.array([(len(train), len(test)) for train, test in splits], dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"splits must be a list of (train_index, test_index) pairs ({error}).") from error
    return float(sizes[:, 0].mean()), float(sizes[:, 1].mean())


# ---------------------------------------------------------------------------------------------------------
# tuning-grid edges


def grid_edges(grid: Mapping[str, Sequence], chosen: Sequence[Mapping[str, object]], *,
               prefix: str = "") -> list[str]:
    """Report tuning parameters whose chosen value lies on the edge of the grid (the optimum may lie outside).

    Only parameters whose grid values are all real numbers (bools excluded) with at least 2 distinct values
    are checked; others (strings, None, bools, a single value) are ignored, as are chosen values missing from
    a fold (a failed fold's ``{}``) or not numeric. For every checked parameter and edge (smallest, largest
    grid value) chosen in at least one fold, one message::

        "<prefix>.<param>: best value 0.5 is the largest of [0.1, 0.3, 0.5] in 3 of 5 folds — extend the grid"

    where "of 5 folds" counts the folds that report a value for that parameter.

    Parameters
    ----------
    grid : Mapping of str to sequence
        Parameter -> list of grid values (one model's grid, e.g. ``param_grids["random_forest"]``).
    chosen : sequence of Mapping
        One dict parameter -> chosen value per fold (``ModelResult.best_params``).
    prefix : str, optional
        Prepended with a dot to the parameter name in the message (e.g. "task.param_grids.random_forest");
        "" (default) for the bare name.

    Returns
    -------
    messages : list of str
        Empty when no best value is on an edge; in the order of ``grid``, smallest edge first.

    Raises
    ------
    ValueError
        When ``grid`` is not a mapping of lists, ``chosen`` not a list of mappings, or ``prefix`` not a str.
    """
    if not isinstance(prefix, str):
        raise ValueError(f"The 'prefix' parameter must be a str. Got {type(prefix).__name__} instead.")
    messages = []
    for param, values, low_hits, high_hits, n_folds in _edge_hits(grid, chosen):
        name = f"{prefix}.{param}" if prefix else str(param)
        shown = "[" + ", ".join(repr(_python(v)) for v in values) + "]"
        for hits, edge, word in ((low_hits, min(values), "smallest"), (high_hits, max(values), "largest")):
            if hits:
                messages.append(f"{name}: best value {_python(edge)!r} is the {word} of {shown} in {hits} of "
                                f"{n_folds} folds — extend the grid")
    return messages


def extend_hit_edges(grid: Mapping[str, Sequence], chosen: Sequence[Mapping[str, object]]) -> dict[str, list]:
    """A copy of ``grid`` in which every parameter reported by :func:`grid_edges` is extended by
    :func:`extend_grid` on the side(s) that were hit; other parameters are unchanged (as lists). A side that
    :func:`extend_grid` refuses (it would cross 0) stays as it is, so compare with ``grid`` to see what changed.

    Parameters
    ----------
    grid : Mapping of str to sequence
        Parameter -> list of grid values (one model's grid).
    chosen : sequence of Mapping
        One dict parameter -> chosen value per fold (``ModelResult.best_params``).

    Returns
    -------
    extended : dict of str to list
        Parameter -> grid values, in the order of ``grid``; an extended grid is sorted and distinct.

    Raises
    ------
    ValueError
        When ``grid`` is not a mapping of lists or ``chosen`` not a list of mappings.
    """
    out = {param: list(values) for param, values in _check_grid(grid).items()}
    for param, _, low_hits, high_hits, _ in _edge_hits(grid, chosen):
        side = "both" if low_hits and high_hits else ("low" if low_hits else "high")
        out[param] = extend_grid(out[param], side=side)
    return out


def extend_grid(values: Sequence, *, side: str = "both") -> list:
    """The grid extended by one step beyond its smallest and/or largest value.

    The distinct values are sorted ascending, then:

    * **geometric** grids -- all values > 0, the neighbour ratios ``v[i+1] / v[i]`` agree within 25 %
      (max / min <= 1.25) and agree at least as well as the neighbour differences do -- get
      ``v[0] / (v[1] / v[0])`` below and ``v[-1] * (v[-1] / v[-2])`` above (one step in log-space, with the
      ratio at that edge): ``[1e-3, 1e-2, 1e-1] -> [1e-4, 1e-3, 1e-2, 1e-1, 1.0]``. A positive two-value grid
      counts as geometric (``[10, 20] -> [5, 10, 20, 40]``).
    * otherwise **linear**: ``v[0] - (v[1] - v[0])`` below and ``v[-1] + (v[-1] - v[-2])`` above
      (``[0.1, 0.3, 0.5] -> [0.1, 0.3, 0.5, 0.7]`` above; ``[1, 2, 3]`` is linear).

    A grid of ints (Python or numpy ints, no bools) stays ints: a new value is rounded to the nearest int and
    moved to at least one unit beyond the edge. Floats are rounded to 12 significant digits (so 1e-3 / 10 is
    1e-4, not 9.999999999999999e-05). The grid never crosses zero: if all values are > 0 a new value must be
    > 0, if all are >= 0 it must be >= 0; otherwise that side is left unextended (``[0.1, 0.3, 0.5]`` below, or
    ``[1, 2, 4]`` below, where 0.5 would round to 0). Grids with negative values extend freely.

    Parameters
    ----------
    values : sequence of int or float
        Finite real numbers (no bools), at least 2 distinct.
    side : {"both", "low", "high"}, optional
        Which end(s) to extend. Default "both".

    Returns
    -------
    extended : list of int or float
        The sorted distinct values (as Python ints/floats) with the new value(s) added.

    Raises
    ------
    ValueError
        For an unknown ``side``, or ``values`` that are not a list of finite real numbers with at least 2
        distinct values.
    """
    if side not in ("low", "high", "both"):
        raise ValueError(f"The 'side' parameter must be 'low', 'high' or 'both'. Got {side!r} instead.")
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) and not isinstance(values, np.ndarray):
        raise ValueError(f"extend_grid needs a list of numbers. Got {type(values).__name__}.")
    values = list(values)
    if not values or not all(_is_real(v) for v in values):
        raise ValueError(f"extend_grid needs real numbers (no bools, None or strings). Got {values!r}.")
    as_int = all(isinstance(v, (int, np.integer)) for v in values)
    v = sorted({_python(x) for x in values})
    if not all(math.isfinite(x) for x in v):
        raise ValueError(f"extend_grid needs finite numbers. Got {values!r}.")
    if len(v) < 2:
        raise ValueError(f"extend_grid needs at least 2 distinct values to know the step. Got {values!r}.")
    geometric = _is_geometric(v)
    floor = 0.0 if v[0] >= 0 else -math.inf  # a non-negative grid stays non-negative ...
    strict = v[0] > 0  # ... and a positive one positive
    out = list(v)
    for end in (("low",) if side == "low" else ("high",) if side == "high" else ("low", "high")):
        if end == "low":
            new = v[0] / (v[1] / v[0]) if geometric else v[0] - (v[1] - v[0])
        else:
            new = v[-1] * (v[-1] / v[-2]) if geometric else v[-1] + (v[-1] - v[-2])
        if as_int:
            new = min(int(round(new)), v[0] - 1) if end == "low" else max(int(round(new)), v[-1] + 1)
        else:
            new = float(f"{new:.12g}")
        if new < floor or (strict and new <= 0) or not math.isfinite(new):
            continue
        out = [new] + out if end == "low" else out + [new]
    return out


def _edge_hits(grid, chosen):
    """``(param, grid values, folds at min, folds at max, folds with a value)`` of each checked parameter."""
    grid = _check_grid(grid)
    if isinstance(chosen, Mapping) or isinstance(chosen, (str, bytes)) or not isinstance(chosen, Sequence):
        raise ValueError(f"chosen must be a list of dicts (one per fold). Got {type(chosen).__name__}.")
    for k, entry in enumerate(chosen):
        if not isinstance(entry, Mapping):
            raise ValueError(f"chosen[{k}] must be a dict param -> value. Got {type(entry).__name__}.")
    for param, values in grid.items():
        values = list(values)
        if not values or not all(_is_real(v) for v in values):
            continue
        numbers_ = [float(v) for v in values]
        if len(set(numbers_)) < 2 or not all(math.isfinite(x) for x in numbers_):
            continue
        low, high = min(numbers_), max(numbers_)
        picked = [float(entry[param]) for entry in chosen if param in entry and _is_real(entry[param])]
        low_hits = sum(x == low for x in picked)
        high_hits = sum(x == high for x in picked)
        if low_hits or high_hits:
            yield param, values, low_hits, high_hits, len(picked)


def _check_grid(grid) -> Mapping:
    if not isinstance(grid, Mapping):
        raise ValueError(f"grid must be a dict param -> list of values. Got {type(grid).__name__}.")
    for param, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
            raise ValueError(f"grid[{param!r}] must be a list of values. Got {values!r}.")
    return grid


def _is_geometric(v: list) -> bool:
    if v[0] <= 0:
        return False
    ratios = [hi / lo for lo, hi in zip(v, v[1:])]
    steps = [hi - lo for lo, hi in zip(v, v[1:])]
    ratio_spread = max(ratios) / min(ratios)
    return ratio_spread <= 1.25 and ratio_spread <= max(steps) / min(steps)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _python(value):
    """numpy scalar -> the Python scalar (for repr and JSON)."""
    return value.item() if isinstance(value, np.generic) else value


# ---------------------------------------------------------------------------------------------------------
# shared helpers


def _t_result(d: np.ndarray, scale: float, factor: float, confidence: float, *, model_a, model_b, metric,
              method, bootstrap=(float("nan"), float("nan"))) -> PairedComparison:
    """t-test of ``mean(d) = 0`` with ``se = sqrt(factor * var(d, ddof=1))`` and ``dof = len(d) - 1``.

    Differences that agree to within the rounding of the subtraction (``8 eps * scale``, scale = the largest
    |score|) count as identical: variance 0, so a constant offset gives t = +-inf, not a huge finite t, and
    differences that are all rounding noise give mean 0, t = NaN, p = 1."""
    n = d.size
    dof = n - 1
    mean = float(d.mean())
    rounding = 8 * np.finfo(np.float64).eps * scale
    identical = float(d.max() - d.min()) <= rounding
    variance = 0.0 if identical else float(d.var(ddof=1))
    se = math.sqrt(factor * variance)
    if identical and abs(mean) <= rounding:
        mean = 0.0
    if se > 0:
        t = mean / se
        p = float(2 * stats.t.sf(abs(t), dof))
        half = float(stats.t.ppf((1 + confidence) / 2, dof)) * se
    else:  # no variation: the sign of the difference is certain, or there is no difference at all
        t = math.copysign(math.inf, mean) if mean != 0 else math.nan
        p = 0.0 if mean != 0 else 1.0
        half = 0.0
    return PairedComparison(model_a=str(model_a), model_b=str(model_b), metric=str(metric), mean_difference=mean,
                            standard_error=se, t_statistic=float(t), dof=dof, p_value=p, ci_low=mean - half,
                            ci_high=mean + half, confidence=confidence, method=method, n=n,
                            bootstrap_ci_low=bootstrap[0], bootstrap_ci_high=bootstrap[1])


def _scale(a: np.ndarray, b: np.ndarray) -> float:
    return float(max(np.abs(a).max(), np.abs(b).max()))


def _bootstrap_means(d: np.ndarray, n_bootstrap: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``n_bootstrap`` resamples (with replacement) of ``d``, in chunks of bounded memory."""
    n = d.size
    per_chunk = max(1, _BOOTSTRAP_CHUNK // n)
    means = np.empty(n_bootstrap)
    for start in range(0, n_bootstrap, per_chunk):
        stop = min(n_bootstrap, start + per_chunk)
        means[start:stop] = d[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    return means


def _paired_arrays(a, b, name_a: str, name_b: str, *, allow_2d: bool) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for value, name in ((a, name_a), (b, name_b)):
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{name} must be an array of numbers ({error}).") from error
        allowed = (1, 2) if allow_2d else (1,)
        if array.ndim not in allowed:
            shape = "(n_folds,) or (n_repeats, n_folds)" if allow_2d else "(n_samples,)"
            raise ValueError(f"{name} must have shape {shape}. Got shape {array.shape}.")
        arrays.append(array)
    a, b = arrays
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must be paired (same shape, same folds or samples in the same "
                         f"order). Got shapes {a.shape} and {b.shape}.")
    a, b = a.ravel(), b.ravel()
    if a.size < 2:
        raise ValueError(f"A paired test needs at least 2 pairs. Got {a.size}.")
    for array, name in ((a, name_a), (b, name_b)):
        bad = ~np.isfinite(array)
        if bad.any():
            raise ValueError(f"{name} must be finite. Got {int(bad.sum())} NaN/inf values at positions "
                             f"{np.flatnonzero(bad)[:10].tolist()} (a failed fold? drop it from both models).")
    return a, b


def _positive(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not (
            math.isfinite(value) and value > 0):
        raise ValueError(f"The '{name}' parameter must be a finite number > 0. Got {value!r} instead.")
    return float(value)


def _confidence(value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise ValueError(f"The 'confidence' parameter must be a number in (0, 1), e.g. 0.95. Got {value!r} instead.")
    return float(value)


def _number(x: float, digits: int) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.{digits}g}".replace("-", "−")


def _p_text(p: float) -> str:
    if math.isnan(p):
        return "p = nan"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.2g}"
