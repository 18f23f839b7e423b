"""Applicability domain: is a composition like the ones a model was trained on?

A model trained on compositions says nothing reliable about compositions unlike them. :class:`ApplicabilityDomain`
is fitted on the training formulas and on their *preprocessed* descriptor matrix (the imputed, standardised,
clipped features the model sees, shape (n, p)) and checks new rows two ways:

1. **Elements.** Every element present (fraction > 0) in a new composition must be present in at least one
   training composition. An element never seen in training has no training signal at all: its row is out of
   the domain whatever its descriptors are.
2. **Descriptor distance.** The Mahalanobis distance of the row's descriptors from the training rows,
   ``d(x) = sqrt(sum_k (v_k . (x - mean))^2 / lambda_k)``, with ``v_k``, ``lambda_k`` the principal axes and
   variances (``ddof=1``) of the centred training matrix. The threshold is the ``quantile`` (default 0.99) of
   the *training* rows' own distances times ``margin`` (default 1.0): so by construction about 1 % of the
   training rows are beyond it, and a new row from the training distribution is flagged about as often (a bit
   more, since the training rows were used to fit the axes). A row beyond the threshold is out of the domain.

**Which principal axes.** The axes come from the singular value decomposition of the centred training matrix
(computed as the SVD of its R factor, ``X = QR``, which is as stable as the SVD of X and much faster for
n >> p), never from the covariance matrix, whose condition number is the square of X's. Kept are the leading
axes that explain ``explained_variance`` (default 99.9 %) of the total variance, and of those only the ones
whose variance exceeds ``1e-10`` times the largest. Why not all axes: Magpie descriptors obey exact linear
relations (range = maximum - minimum, fractions summing to 1), whose axes have variance at round-off level
(1e-30 relative); and the smallest remaining variances are estimated poorly (they are biased low when n is not
much larger than p), so dividing by them lets sampling noise dominate the distance. Measured on the AFLOW
data of :mod:`physics.materials.builtin` (132 Magpie descriptors + 103 fractions, 214-219 columns left by the
default preprocessing, fitted on the train split): 99.9 % keeps 156-161 axes of the 204-216 non-degenerate
ones, and 0.9-1.4 % of the validation and test rows are beyond the 99th-percentile threshold (1.0 % of the
training rows); keeping every non-degenerate axis gives 1.0-1.4 %, with thresholds ~30 instead of ~22.
The cost: a deviation only along a dropped axis (0.1 % of the training variance) is not measured.

The fitted state is a few arrays (the mean, the p x k axes, the k variances, the element list):
:meth:`ApplicabilityDomain.to_dict` writes them as JSON-able lists, :meth:`ApplicabilityDomain.from_dict`
reads them back; the round trip is exact (floats are written with ``repr`` precision by ``json``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from physics.materials.descriptors import CompositionLike, padded_fractions
from physics.materials.elements import ELEMENT_SYMBOLS, element_index

#: axes whose variance is at most this times the largest are never kept (exact linear relations, round-off)
RELATIVE_VARIANCE_FLOOR = 1e-10
#: the ``version`` field of :meth:`ApplicabilityDomain.to_dict`
FORMAT_VERSION = 1


@dataclass(frozen=True)
class DomainReport:
    """Which rows are inside the applicability domain, and why not.

    Attributes
    ----------
    in_domain : ndarray of bool
        Shape (n,). True when the row has no unseen element and ``distance <= threshold``.
    unseen_elements : tuple of tuple of str
        Length n. The elements of each row absent from every training composition, in their order in the formula
        (empty when all were seen).
    distance : ndarray of float64
        Shape (n,). Mahalanobis distance of the row's descriptors from the training rows (dimensionless, in
        training standard deviations along the kept principal axes).
    threshold : float
        The distance beyond which a row is out of the domain.
    quantile : float
        The training quantile the threshold is based on (for the reasons' wording).
    margin : float
        The factor applied to that quantile.
    """

    in_domain: np.ndarray
    unseen_elements: tuple[tuple[str, ...], ...]
    distance: np.ndarray
    threshold: float
    quantile: float = 0.99
    margin: float = 1.0

    def __len__(self) -> int:
        return len(self.in_domain)

    def reasons(self) -> list[str]:
        """Why each row is outside the domain.

        Returns
        -------
        reasons : list of str
            One string per row: ``""`` inside the domain, else why not, e.g. ``"elements never seen in
            training: O; descriptor distance 14.2 > 5.1 (99th percentile of training)"``.
        """
        basis = f"{_percentile(self.quantile)} percentile of training"
        if self.margin != 1.0:
            basis = f"{self.margin:g} x the {basis}"
        reasons = []
        for unseen, distance in zip(self.unseen_elements, self.distance):
            parts = []
            if unseen:
                parts.append(f"elements never seen in training: {', '.join(unseen)}")
            if distance > self.threshold:
                parts.append(f"descriptor distance {_number(distance)} > {_number(self.threshold)} ({basis})")
            reasons.append("; ".join(parts))
        return reasons


class ApplicabilityDomain:
    """Elements seen in training and a Mahalanobis-distance threshold on the preprocessed descriptors.

    Parameters
    ----------
    quantile : float, optional
        In (0, 1]. The quantile of the training rows' distances that sets the threshold (default 0.99: about
        1 % of the training rows lie beyond it by construction).
    margin : float, optional
        Finite, > 0. Factor on that quantile (default 1.0; 1.5 flags only rows well beyond it).
    explained_variance : float, optional
        In (0, 1]. The share of the training variance the kept principal axes explain (default 0.999; see the
        module docstring).

    Attributes
    ----------
    elements_ : tuple of str or None
        Elements present in any training composition, in order of atomic number; None before :meth:`fit`.
    mean_ : ndarray of float64
        Shape (p,). Column means of the training descriptors (set by :meth:`fit`, like all below).
    components_ : ndarray of float64
        Shape (p, k). The kept principal axes (orthonormal columns).
    variances_ : ndarray of float64
        Shape (k,). Training variance along each axis (ddof=1), decreasing.
    threshold_ : float
        The distance threshold.
    n_train_ : int
        Number of training rows.

    Raises
    ------
    ValueError
        When ``quantile`` or ``explained_variance`` is not a real in (0, 1], or ``margin`` not a finite real
        > 0.
    """

    def __init__(self, quantile: float = 0.99, margin: float = 1.0, explained_variance: float = 0.999):
        for name, value in (("quantile", quantile), ("explained_variance", explained_variance)):
            if not _is_real(value) or not 0.0 < value <= 1.0:
                raise ValueError(f"The '{name}' parameter of ApplicabilityDomain must be a float in (0, 1]. "
                                 f"Got {value!r} instead.")
        if not _is_real(margin) or not 0.0 < margin < np.inf:
            raise ValueError(f"The 'margin' parameter of ApplicabilityDomain must be a float in (0, inf). "
                             f"Got {margin!r} instead.")
        self.quantile = float(quantile)
        self.margin = float(margin)
        self.explained_variance = float(explained_variance)
        self.elements_: tuple[str, ...] | None = None

    # -- fitting and checking ------------------------------------------------------------------------------------

    def fit(self, formulas: Sequence[CompositionLike], X) -> "ApplicabilityDomain":
        """Learn the domain from the training compositions and their preprocessed descriptors.

        Parameters
        ----------
        formulas : sequence of str or Composition or Mapping
            Length n >= 2. Formula strings, :class:`~physics.materials.composition.Composition` objects or
            mappings element symbol -> amount.
        X : array_like of float
            Shape (n, p), finite. The preprocessed descriptors of those rows (what the model sees).

        Returns
        -------
        self : ApplicabilityDomain
            The fitted domain.

        Raises
        ------
        ValueError
            If X is not 2-D and finite, its row count differs from the number of formulas, it has fewer than 2
            rows, or all its rows are identical (no variance); for a formula that cannot be parsed.
        """
        X = _matrix(X, "X")
        index, fraction = _fractions(formulas, X.shape[0], "fit")
        if X.shape[0] < 2:
            raise ValueError(f"ApplicabilityDomain.fit needs at least 2 training rows. Got {X.shape[0]}.")
        mean = X.mean(axis=0)  # (p,)
        centred = X - mean
        factor = np.linalg.qr(centred, mode="r") if X.shape[0] > X.shape[1] else centred  # (min(n, p), p)
        _, singular, axes = np.linalg.svd(factor, full_matrices=False)  # axes: (min(n, p), p), rows orthonormal
        variances = singular ** 2 / (X.shape[0] - 1)
        if not variances.size or variances[0] <= 0.0:
            raise ValueError("ApplicabilityDomain.fit: all training rows of X are identical (no variance): a distance "
                             "cannot be defined.")
        share = np.cumsum(variances) / variances.sum()
        k = min(int(np.searchsorted(share, self.explained_variance * (1.0 - 1e-12))) + 1,
                int(np.count_nonzero(variances > RELATIVE_VARIANCE_FLOOR * variances[0])))
        self.mean_ = mean
        self.components_ = np.ascontiguousarray(axes[:k].T)  # (p, k)
        self.variances_ = variances[:k]
        present = np.unique(index[fraction > 0])
        self.elements_ = tuple(ELEMENT_SYMBOLS[i] for i in present)
        self.n_train_ = int(X.shape[0])
        distance = self._distance(X)
        self.threshold_ = float(np.quantile(distance, self.quantile)) * self.margin
        return self

    def check(self, formulas: Sequence[CompositionLike], X) -> DomainReport:
        """Which rows are inside the domain.

        Parameters
        ----------
        formulas : sequence of str or Composition or Mapping
            Length n >= 1. Formula strings, :class:`~physics.materials.composition.Composition` objects or
            mappings element symbol -> amount.
        X : array_like of float
            Shape (n, p), finite. Their preprocessed descriptors (the same preprocessing, fitted on the
            training rows, as the matrix given to :meth:`fit`).

        Returns
        -------
        report : DomainReport
            The verdict for each of the n rows.

        Raises
        ------
        ValueError
            Before :meth:`fit`; if X is not 2-D and finite, its row count differs from the number of formulas
            or its column count from the training matrix's; for a formula that cannot be parsed.
        """
        self._check_fitted("check")
        X = _matrix(X, "X")
        if X.shape[1] != self.mean_.shape[0]:
            raise ValueError(f"ApplicabilityDomain.check: X has {X.shape[1]} columns, the domain was fitted on "
                             f"{self.mean_.shape[0]}.")
        index, fraction = _fractions(formulas, X.shape[0], "check")
        seen = np.zeros(len(ELEMENT_SYMBOLS), dtype=bool)
        seen[[element_index(symbol) for symbol in self.elements_]] = True
        unseen_mask = (fraction > 0) & ~seen[index]  # (n, k_elements)
        unseen = tuple(tuple(ELEMENT_SYMBOLS[i] for i in row_index[row_mask])
                       for row_index, row_mask in zip(index, unseen_mask))
        distance = self._distance(X)
        in_domain = ~unseen_mask.any(axis=1) & (distance <= self.threshold_)
        return DomainReport(in_domain=in_domain, unseen_elements=unseen, distance=distance,
                            threshold=self.threshold_, quantile=self.quantile, margin=self.margin)

    def _distance(self, X: np.ndarray) -> np.ndarray:
        projection = (X - self.mean_) @ self.components_  # (n, k)
        return np.sqrt((projection ** 2 / self.variances_).sum(axis=1))  # (n,)

    # -- persistence --------------------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The fitted state as JSON-able builtins.

        Returns
        -------
        state : dict
            Keys ``version`` (int, :data:`FORMAT_VERSION`), ``quantile``, ``margin``, ``explained_variance``,
            ``threshold`` (floats), ``n_train`` (int), ``elements`` (list of str), ``mean`` (p floats),
            ``components`` (p lists of k floats), ``variances`` (k floats).

        Raises
        ------
        ValueError
            Before :meth:`fit`.
        """
        self._check_fitted("to_dict")
        return {"version": FORMAT_VERSION, "quantile": self.quantile, "margin": self.margin,
                "explained_variance": self.explained_variance, "threshold": self.threshold_,
                "n_train": self.n_train_, "elements": list(self.elements_), "mean": self.mean_.tolist(),
                "components": self.components_.tolist(), "variances": self.variances_.tolist()}

    @classmethod
    def from_dict(cls, state: dict) -> "ApplicabilityDomain":
        """The fitted domain from :meth:`to_dict`'s output.

        Parameters
        ----------
        state : dict
            The output of :meth:`to_dict` (e.g. read back from JSON).

        Returns
        -------
        domain : ApplicabilityDomain
            The fitted domain, identical to the one that wrote ``state``.

        Raises
        ------
        ValueError
            Naming what is missing or inconsistent: a missing key, an unsupported ``version``, non-finite or
            mis-shaped arrays, variances <= 0, an unknown element symbol, or invalid hyperparameters.
        """
        keys = ("version", "quantile", "margin", "explained_variance", "threshold", "n_train", "elements", "mean",
                "components", "variances")
        missing = [key for key in keys if not isinstance(state, dict) or key not in state]
        if missing:
            raise ValueError(f"ApplicabilityDomain.from_dict: missing keys {missing}; expected {list(keys)}.")
        if state["version"] != FORMAT_VERSION:
            raise ValueError(f"ApplicabilityDomain.from_dict: unsupported version {state['version']!r} "
                             f"(this code reads version {FORMAT_VERSION}).")
        domain = cls(quantile=state["quantile"], margin=state["margin"],
                     explained_variance=state["explained_variance"])
        mean = np.asarray(state["mean"], dtype=np.float64)
        variances = np.asarray(state["variances"], dtype=np.float64)
        components = np.asarray(state["components"], dtype=np.float64)
        if mean.ndim != 1 or variances.ndim != 1 or not (np.all(np.isfinite(mean)) and np.all(variances > 0)
                                                         and np.all(np.isfinite(variances))):
            raise ValueError("ApplicabilityDomain.from_dict: 'mean' and 'variances' must be flat lists of finite "
                             "floats, the variances > 0.")
        if components.shape != (mean.shape[0], variances.shape[0]) or not np.all(np.isfinite(components)):
            raise ValueError(f"ApplicabilityDomain.from_dict: 'components' must be {mean.shape[0]} lists (one per "
                             f"descriptor) of {variances.shape[0]} finite floats (one per axis). Got shape "
                             f"{components.shape}.")
        for symbol in state["elements"]:
            element_index(symbol)  # ValueError for an unknown symbol
        domain.mean_, domain.components_, domain.variances_ = mean, components, variances
        domain.elements_ = tuple(state["elements"])
        domain.threshold_ = float(state["threshold"])
        domain.n_train_ = int(state["n_train"])
        return domain

    def _check_fitted(self, method: str) -> None:
        if self.elements_ is None:
            raise ValueError(f"ApplicabilityDomain.{method}: the domain is not fitted yet: call fit(formulas, X) "
                             f"first.")

    def __repr__(self) -> str:
        fitted = ("unfitted" if self.elements_ is None else
                  f"{len(self.elements_)} elements, {self.components_.shape[1]} of {self.components_.shape[0]} axes, "
                  f"threshold {_number(self.threshold_)}")
        return (f"ApplicabilityDomain(quantile={self.quantile:g}, margin={self.margin:g}, "
                f"explained_variance={self.explained_variance:g}; {fitted})")


def _matrix(X, name: str) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"ApplicabilityDomain: {name} must be a 2-D array (n_samples, n_features). "
                         f"Got shape {X.shape}.")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"ApplicabilityDomain: {name} holds NaN or infinite values: pass the preprocessed "
                         f"(imputed) descriptors the model sees.")
    return X


def _fractions(formulas: Iterable[CompositionLike], n_rows: int, method: str) -> tuple[np.ndarray, np.ndarray]:
    formulas = list(formulas)
    if len(formulas) != n_rows:
        raise ValueError(f"ApplicabilityDomain.{method}: {len(formulas)} formulas but X has {n_rows} rows; "
                         f"expected one formula per row.")
    if not formulas:
        raise ValueError(f"ApplicabilityDomain.{method}: expected at least one row. Got none.")
    return padded_fractions(formulas)  # (n, k) indices and fractions


def _is_real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
        and bool(np.isfinite(value))


def _number(value: float) -> str:
    """A distance for a message: one decimal from 10 on ("14.2"), else 3 significant digits ("5.1", "0.123")."""
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"


def _percentile(quantile: float) -> str:
    """0.99 -> "99th", 0.95 -> "95th", 0.999 -> "99.9th", 0.91 -> "91st", 0.5 -> "50th"."""
    percent = float(f"{quantile * 100:.10g}")
    text = f"{percent:g}"
    if percent != int(percent) or 10 <= int(percent) % 100 <= 20:
        return f"{text}th"
    return text + {1: "st", 2: "nd", 3: "rd"}.get(int(percent) % 10, "th")
