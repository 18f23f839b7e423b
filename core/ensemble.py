"""Seed ensembles: the same estimator fitted several times on the same data with different seeds, averaged.

:class:`SeedEnsembleRegressor` averages the members' predictions, :class:`SeedEnsembleClassifier` their class
probabilities. The members differ only in their random streams (initial weights, minibatch order, validation
split, dropout masks), so averaging them removes part of the variance of a single network trained from one seed;
by the ambiguity decomposition the squared error of the averaged prediction is never above the members' mean
squared error, and below it by exactly the members' mean squared spread around their average.

They are scikit-learn meta-estimators: the parameters of the wrapped estimator are reachable as
``estimator__<name>`` (``get_params(deep=True)``, ``set_params``, ``GridSearchCV``), ``clone`` works, and the
constraints on their own parameters are declared in ``_parameter_constraints`` and checked first in ``fit`` (raising
:class:`core.InvalidParameterError`). The members are fitted one after the other, on the full data (numpy's BLAS
already uses the cores). ``fit(X, y, sample_weight)`` passes the weights unchanged to every member's ``fit``.

Seeds: member i gets the integer seeds drawn from the i-th child ``np.random.SeedSequence(entropy).spawn(n)[i]`` of
a root sequence fixed by ``random_state`` (the rule is in :func:`member_seed_sequences`), so the same
``random_state`` gives the same members, member i does not depend on n_members, and random_state=None gives new
members at every fit.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, RegressorMixin, clone
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from core._validation import Interval, InvalidParameterError, Seed, as_generator, check_params, check_positive_int

__all__ = ["SeedEnsembleRegressor", "SeedEnsembleClassifier", "member_seed_sequences"]

#: the estimator parameters a seed ensemble sets per member (and the same names nested, "<step>__random_state")
SEED_PARAMETERS = ("random_state", "init_random_state")


class _Estimator:
    """An object with the given methods (a scikit-learn style estimator)."""

    def __init__(self, methods, description: str):
        self.methods, self.description = tuple(methods), description

    def is_satisfied_by(self, value) -> bool:
        return not isinstance(value, type) and all(callable(getattr(value, m, None)) for m in self.methods)

    def __str__(self) -> str:
        return self.description


def member_seed_sequences(random_state, n_members: int, owner: str | None = None) -> list[np.random.SeedSequence]:
    """The SeedSequences of the members of a seed ensemble: ``root.spawn(n_members)``.

    The root is ``SeedSequence(random_state)`` for None (fresh OS entropy: new members every time) or an int; a copy
    of a given SeedSequence (so that neither the caller's sequence nor later fits are affected: the children are
    ``SeedSequence(entropy, spawn_key=(*spawn_key, i))``); and ``SeedSequence(k)`` with k one draw from a Generator
    or RandomState (which advances it, so every fit gives new members). Child i does not depend on n_members.

    Parameters
    ----------
    random_state : None, int, SeedSequence, Generator or RandomState
        The root of the members' seeds, as described above; an int must be >= 0.
    n_members : int
        Number of members, >= 1.
    owner : str or None, default None
        Name of the class or function, quoted in the error message.

    Returns
    -------
    list of numpy.random.SeedSequence
        ``n_members`` SeedSequences, child i of the root.
    """
    if isinstance(random_state, np.random.SeedSequence):
        root = np.random.SeedSequence(random_state.entropy, spawn_key=random_state.spawn_key,
                                      pool_size=random_state.pool_size)
    elif isinstance(random_state, (np.random.Generator, np.random.RandomState)):
        root = np.random.SeedSequence(int(as_generator(random_state, "random_state", owner).integers(2**63)))
    else:
        as_generator(random_state, "random_state", owner)  # only checks: None and ints >= 0 get here
        root = np.random.SeedSequence(None if random_state is None else int(random_state))
    return root.spawn(check_positive_int(n_members, "n_members", owner))


class _SeedEnsemble(MetaEstimatorMixin, BaseEstimator):
    """Fitting, seeding and the fitted attributes shared by the two ensembles."""

    _parameter_constraints: dict = {
        "n_members": [Interval(1, None, integer=True)],
        "random_state": [Seed()],
    }

    def __init__(self, estimator, n_members=5, random_state=None):
        self.estimator = estimator
        self.n_members = n_members
        self.random_state = random_state

    def _check_parameters(self) -> list[str]:
        """Check the parameters; return the names (possibly nested) of the estimator's seed parameters:
        random_state ones first, then init_random_state ones, each group sorted."""
        owner = type(self).__name__
        check_params(self.get_params(deep=False), self._parameter_constraints, owner)
        params = self.estimator.get_params(deep=True)
        keys = [sorted(k for k in params if k == name or k.endswith("__" + name)) for name in SEED_PARAMETERS]
        if not keys[0]:
            raise InvalidParameterError(
                f"The 'estimator' parameter of {owner} must have a 'random_state' parameter (also nested, e.g. "
                f"'netregressor__random_state' in a Pipeline): the members of a seed ensemble differ only by their "
                f"seeds. Got {self.estimator!r} instead.")
        return keys[0] + keys[1]

    def _fit_members(self, X, y, keys: list[str], sample_weight=None) -> None:
        owner = type(self).__name__
        fit_params = {}
        if sample_weight is not None:
            if not has_fit_parameter(self.estimator, "sample_weight"):
                raise TypeError(f"{owner}.fit got sample_weight, but the fit method of its estimator "
                                f"{type(self.estimator).__name__} takes no 'sample_weight' argument (for a Pipeline, "
                                f"weight its last step outside the ensemble, or ensemble the last step alone).")
            fit_params["sample_weight"] = sample_weight
        members, all_seeds = [], []
        for sequence in member_seed_sequences(self.random_state, int(self.n_members), owner):
            seeds = dict(zip(keys, (int(word) for word in sequence.generate_state(len(keys), np.uint32))))
            members.append(clone(self.estimator).set_params(**seeds).fit(X, y, **fit_params))
            all_seeds.append(seeds)
        self.estimators_, self.seeds_ = members, all_seeds  # only once every member is fitted
        first = members[0]
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(first, name):
                setattr(self, name, getattr(first, name))
            elif name in vars(self):
                delattr(self, name)  # left over from an earlier fit

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if isinstance(self.estimator, type) or not hasattr(self.estimator, "__sklearn_tags__"):
            return tags  # not an estimator instance: fit will say so
        inner = get_tags(self.estimator)
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.target_tags.multi_output = inner.target_tags.multi_output
        return tags


_PARAMETERS_DOC = """
    n_members : int, default=5
        Number of members (>= 1), each a clone of ``estimator`` fitted on the whole data with its own seeds.
    random_state : None, int, SeedSequence, Generator or RandomState, default=None
        An int must be >= 0. Fixes the members' seeds (see :func:`member_seed_sequences`): the same int or SeedSequence
        gives the same members at every fit (bit-identical, given deterministic members), and member i keeps its seeds
        when n_members grows; None (or a Generator, which each fit advances) gives new members at every fit. Member i's
        seeds are the uint32 words of ``SeedSequence(...).spawn(n_members)[i].generate_state(k)``: the first for the
        estimator's ``random_state``, the next for its ``init_random_state`` if it has one (its initial weights then
        come from their own stream, so they differ between members even where the estimator was given a fixed
        init_random_state, which is overridden). Nested names (``<step>__random_state`` in a Pipeline) are set the same
        way, each name its own word.

    Attributes
    ----------
    estimators_ : list of estimators
        The n_members fitted members.
    seeds_ : list of dict
        The seed parameters set on each member, e.g. ``{{"random_state": 1234, "init_random_state": 5678}}``.
    n_features_in_ : int
        Number of features seen in fit (from the members; only if they have it).
    feature_names_in_ : ndarray
        Shape (n_features_in_,). Names of the features seen in fit (only if the members have them: X with string column
        names).
"""


class SeedEnsembleRegressor(RegressorMixin, _SeedEnsemble):
    __doc__ = f"""Average of the predictions of ``n_members`` copies of a regressor trained with different seeds.

    ``predict(X)`` is the mean over the members; ``predict_members(X)`` gives every member's prediction. The spread
    of the members is NOT a calibrated uncertainty: it measures only the seed-to-seed variation of the training
    (initial weights, minibatch order, ...) on one and the same data set, not the noise of the data, the
    variation from one training set to another, or the model's bias, so it typically underestimates the error.

    Parameters
    ----------
    estimator : regressor
        An unfitted scikit-learn regressor with a ``random_state`` parameter (e.g. ``core.sklearn.NetRegressor``, or
        a Pipeline ending in one); it is cloned, never fitted itself. Its parameters are reachable as
        ``estimator__<name>``, e.g. ``set_params(estimator__alpha=1e-3)`` or a GridSearchCV grid over
        ``estimator__learning_rate``.
    {_PARAMETERS_DOC.strip()}

    Examples
    --------
    >>> import numpy as np
    >>> from core.ensemble import SeedEnsembleRegressor
    >>> from core.sklearn import NetRegressor
    >>> X = np.random.default_rng(0).uniform(-1, 1, size=(64, 2))
    >>> model = SeedEnsembleRegressor(NetRegressor(hidden_layer_sizes=(16,), max_epochs=50), n_members=5,
    ...                               random_state=0).fit(X, X[:, 0] * X[:, 1])
    >>> model.predict(X[:3]).shape, model.predict_members(X[:3]).shape   # the mean; one row per member
    ((3,), (5, 3))
    """

    _parameter_constraints: dict = {
        "estimator": [_Estimator(("fit", "predict", "get_params", "set_params"),
                                 "a regressor with fit, predict, get_params and set_params (e.g. NetRegressor())")],
        **_SeedEnsemble._parameter_constraints,
    }

    def fit(self, X, y, sample_weight=None):
        """Fit the n_members members, one after the other.

        Parameters
        ----------
        X : array_like
            Features, shape (n_samples, n_features).
        y : array_like
            Targets, shape (n_samples,) or (n_samples, n_outputs).
        sample_weight : array_like or None, default=None
            One weight per sample, shape (n_samples,), passed unchanged to every member's ``fit`` (which checks
            it); None passes nothing. The estimator's fit must take ``sample_weight`` (TypeError otherwise).

        Returns
        -------
        SeedEnsembleRegressor
            self, fitted.
        """
        self._fit_members(X, y, self._check_parameters(), sample_weight)
        return self

    def predict_members(self, X) -> np.ndarray:
        """Every member's prediction. Their spread is not a calibrated uncertainty (see the class docstring).

        Parameters
        ----------
        X : array_like
            Features, shape (n_samples, n_features).

        Returns
        -------
        ndarray
            Float64, shape (n_members, n_samples), or (n_members, n_samples, n_outputs) for members fitted on
            2-D y.
        """
        check_is_fitted(self, "estimators_")
        return np.stack([np.asarray(member.predict(X), dtype=np.float64) for member in self.estimators_])

    def predict(self, X) -> np.ndarray:
        """Mean of the members' predictions.

        Parameters
        ----------
        X : array_like
            Features, shape (n_samples, n_features).

        Returns
        -------
        ndarray
            Float64, shape (n_samples,) or (n_samples, n_outputs).
        """
        return self.predict_members(X).mean(axis=0)


class SeedEnsembleClassifier(ClassifierMixin, _SeedEnsemble):
    __doc__ = f"""Average of the class probabilities of ``n_members`` copies of a classifier trained with different
    seeds.

    ``predict_proba(X)`` is the mean of the members' ``predict_proba`` (rows still sum to 1); ``predict(X)`` the
    class of highest mean probability. As for the regressor, the members' spread (``predict_proba_members``) is not
    a calibrated uncertainty, and the averaged probabilities are not calibrated either (averaging typically makes
    them less confident than a single member's).

    Parameters
    ----------
    estimator : classifier
        An unfitted scikit-learn classifier with ``predict_proba`` and a ``random_state`` parameter (e.g.
        ``core.sklearn.NetClassifier``, or a Pipeline ending in one); it is cloned, never fitted itself. Its
        parameters are reachable as ``estimator__<name>``.
    {_PARAMETERS_DOC.strip()}
    classes_ : ndarray
        Shape (n_classes,). The class labels of y, sorted, as the members found them (all members see the same y and
        must agree); the columns of ``predict_proba`` follow them.
    """

    _parameter_constraints: dict = {
        "estimator": [_Estimator(("fit", "predict", "predict_proba", "get_params", "set_params"),
                                 "a classifier with fit, predict, predict_proba, get_params and set_params "
                                 "(e.g. NetClassifier())")],
        **_SeedEnsemble._parameter_constraints,
    }

    def fit(self, X, y, sample_weight=None):
        """Fit the n_members members, one after the other.

        Parameters
        ----------
        X : array_like
            Features, shape (n_samples, n_features).
        y : array_like
            Class labels, shape (n_samples,).
        sample_weight : array_like or None, default=None
            One weight per sample, shape (n_samples,), passed unchanged to every member's ``fit`` (which checks
            it); None passes nothing. The estimator's fit must take ``sample_weight`` (TypeError otherwise).

        Returns
        -------
        SeedEnsembleClassifier
            self, fitted.

        Raises
        ------
        ValueError
            If the members found different classes in y.
        """
        self._fit_members(X, y, self._check_parameters(), sample_weight)  # the members check X, y, sample_weight
        self.classes_ = self.estimators_[0].classes_
        for member in self.estimators_[1:]:
            if not np.array_equal(member.classes_, self.classes_):
                raise ValueError(f"The members of {type(self).__name__} found different classes in y "
                                 f"({self.classes_!r} and {member.classes_!r}); they must all see the same labels.")
        return self

    def predict_proba_members(self, X) -> np.ndarray:
        """Every member's class probabilities.

        Parameters
        ----------
        X : array_like
            Features, shape (n_samples, n_features).

        Returns
        -------
        ndarray
            Float64, shape (n_members, n_samples, n_classes), columns ordered as ``classes_``.
        """
        check_is_fitted(self, "estimators_")
        return np.stack([np.asarray(member.predict_proba(X), dtype=np.float64) for member in self.estimators_])

    def predict_proba(self, X) -> np.ndarray:
        """Mean of the members' class probabilities.

        Parameters
        ----------
        X : array_like
            Features, shape (n_samples, n_features).

        Returns
        -------
        ndarray
            Float64, shape (n_samples, n_classes), rows summing to 1.
        """
        return self.predict_proba_members(X).mean(axis=0)

    def predict(self, X) -> np.ndarray:
        """The class of highest mean probability per sample.

        Parameters
        ----------
        X : array_like
            Features, shape (n_samples, n_features).

        Returns
        -------
        ndarray
            Labels from ``classes_``, shape (n_samples,).
        """
        proba = self.predict_proba(X)  # first: raises NotFittedError before classes_ is looked up
        return self.classes_[np.argmax(proba, axis=1)]
