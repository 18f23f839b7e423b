"""Memory guards: every size a user controls is checked against an estimate before anything is allocated.

Each task's schema (``physics/tasks/<task>/config.py``) estimates, from the config alone, the bytes its largest
arrays will take -- the Monte Carlo data, the training set, the bootstrap replicates, a decoded image, the
descriptors of a CSV file, a kernel matrix -- and calls :func:`check_memory`, which raises a
:class:`~physics.app.schema.ConfigError` naming the key that drives the estimate, the estimate and the limit.
The estimates count the arrays the code makes (a factor of 2 either way; they are guards against impossible
runs, not a scheduler).

The limit: ``task.memory_limit_gb`` where a task has that key (the Ising tasks), else :func:`default_limit`,
half of this machine's physical memory (or of a container's cgroup limit, when smaller), or
``ML4PHYS_MEMORY_LIMIT_GB`` from the environment (e.g. when the config is checked on a login node and runs on
bigger compute nodes).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Mapping

from physics.app.schema import ConfigError

#: environment variable overriding the default memory limit (GB, 1e9 bytes)
LIMIT_VARIABLE = "ML4PHYS_MEMORY_LIMIT_GB"
#: share of the physical memory a run may plan to use by default
DEFAULT_FRACTION = 0.5
#: the limit when neither the environment nor the machine tells
FALLBACK_BYTES = 4e9


@dataclass(frozen=True)
class MemoryLimit:
    """``n_bytes``, and where the number comes from (named in the errors)."""

    n_bytes: float
    source: str

    def __str__(self) -> str:
        return f"{format_bytes(self.n_bytes)} ({self.source})"


#: where Linux control groups (v2, v1) state a container's memory limit
_CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def physical_memory() -> float | None:
    """Bytes of memory this process may use: the machine's physical memory, or a container's (cgroup) limit
    when smaller; None where the OS does not say."""
    try:
        total = float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None
    for path in _CGROUP_LIMITS:
        try:
            with open(path) as handle:
                text = handle.read().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < total:
            total = float(text)
    return total


def default_limit() -> MemoryLimit:
    """``ML4PHYS_MEMORY_LIMIT_GB`` if set (a positive number), else half the physical memory, else 4 GB."""
    text = os.environ.get(LIMIT_VARIABLE)
    if text is not None:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise ConfigError(LIMIT_VARIABLE, f"the environment variable must be a positive number of GB. "
                                              f"Got {text!r} instead.")
        return MemoryLimit(value * 1e9, f"{LIMIT_VARIABLE}={text}")
    total = physical_memory()
    if total is None:
        return MemoryLimit(FALLBACK_BYTES, "the default; set ML4PHYS_MEMORY_LIMIT_GB to change it")
    return MemoryLimit(DEFAULT_FRACTION * total, f"half of the {format_bytes(total)} of this machine; set "
                                                 f"{LIMIT_VARIABLE} to change it")


def gb_limit(gigabytes: float, key: str) -> MemoryLimit:
    """The limit a config key gives in GB (``gb_limit(4.0, "task.memory_limit_gb")``)."""
    return MemoryLimit(float(gigabytes) * 1e9, f"{key} = {gigabytes:g}")


def format_bytes(n_bytes: float) -> str:
    """``3.2 GB``, ``450 MB``, ``1.4e+05 GB``; ``inf`` for an estimate beyond floating point."""
    if not math.isfinite(n_bytes):
        return "inf bytes"
    if n_bytes < 1e9:
        return f"{n_bytes / 1e6:.3g} MB"
    return f"{n_bytes / 1e9:.3g} GB"


def real(value) -> float:
    """``float(value)``; ``inf`` for an int too large for a float (a size can be any Python int)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def check_memory(key: str, n_bytes: float, what: str, limit: MemoryLimit | None = None, hint: str = "") -> None:
    """Raise ConfigError(key) when ``n_bytes`` (the estimate of ``what``) exceeds ``limit`` (default:
    :func:`default_limit`). NaN counts as too large."""
    limit = default_limit() if limit is None else limit
    if n_bytes <= limit.n_bytes:
        return
    amount = f"about {format_bytes(n_bytes)}" if math.isfinite(n_bytes) else "more bytes than a float can count"
    raise ConfigError(key, f"{what} would need {amount}, more than the memory limit {limit}."
                           f"{' ' + hint if hint else ''}")


def driving_key(ratios: Mapping[str, float]) -> str:
    """The key whose value is furthest above its typical value (``ratios``: key -> value / typical), i.e. the
    one to name when a product of several sizes is too large. Ties: the first."""
    return max(ratios, key=lambda key: ratios[key])


# -- scikit-learn baselines: how their memory grows with the training set ------------------------------------
#: estimators whose fit builds an n_train x n_train kernel matrix
_QUADRATIC = ("KernelRidge", "SVR", "SVC", "GaussianProcessRegressor", "GaussianProcessClassifier")
_FORESTS = ("RandomForest", "ExtraTrees")


def baseline_bytes(name: str, spec: Mapping, n_train: float, n_test: float, n_features: float) -> float:
    """Estimated peak bytes of fitting one baseline (``spec``: its config, ``_target_`` + parameters) on
    ``n_train`` rows and predicting ``n_test`` more.

    Kernel methods: the kernel matrix, about 3 float64 copies of n_train^2 during the fit (measured with
    KernelRidge: 3.3) plus n_test x n_train to predict. Forests: up to 2 n_train / min_samples_leaf nodes per
    tree, ~128 bytes each. Everything else: a few float64 copies of the data.
    """
    target = str(spec.get("_target_", "")) if isinstance(spec, Mapping) else ""
    kind = target.rsplit(".", 1)[-1]
    data = 4 * 8 * n_train * n_features
    if kind in _QUADRATIC:
        return data + 24 * n_train ** 2 + 8 * n_test * n_train
    if kind.startswith(_FORESTS):
        trees = real(spec.get("n_estimators", 100))
        leaf = spec.get("min_samples_leaf", 1)
        leaf = leaf * n_train if isinstance(leaf, float) else real(leaf)
        return data + trees * 2 * n_train / max(leaf, 1.0) * 128
    return data
