"""Training cost of the networks of task=materials on the built-in AFLOW bulk-modulus data, against references doing
the same work, measured in the same run.

    python benchmarks/bench_materials_models.py            # 5 epochs per fit (~1 minute on 2 cores)
    python benchmarks/bench_materials_models.py --quick    # 2 epochs, fewer repeats, for a smoke test (~15 s)
    python benchmarks/bench_materials_models.py --epochs 10 --threads 2  # other epochs / BLAS threads

Data: ``builtin_dataset("aflow_bulk_modulus")``, its 3,428 train rows, ``features(element_fractions=True)`` put
through ``physics.materials.evaluation.Preprocessing().steps()`` (mean imputation, variance threshold, standardise,
clip at 5 sigma) fitted on those rows, target standardised; X and y are float32 (the networks' dtype) and every
estimator gets the same arrays. BLAS runs on one thread by default (threadpoolctl, ``--threads``), printed with
the machine. The implementations take turns, repeat after repeat, in a rotating order (one untimed warm-up call
each first), so that the load of a shared machine hits them alike; every time is the median over the repeats.

Tables:
1. Epoch cost of ``core.sklearn.NetRegressor(hidden_layer_sizes=(256, 256, 256), activation="relu",
   learning_rate=2e-3, schedule="cosine", batch_size=64, alpha=0, random_state=0)`` (Adam), with
   loss="absolute_error" (what the task trains with) and loss="squared_error", against scikit-learn's
   ``MLPRegressor`` with the same architecture, Adam, batch 64, learning rate, alpha=0, shuffle=True, and tol=0,
   n_iter_no_change=E, max_iter=E so that it runs all E epochs. scikit-learn's MLP only has the squared error (and
   Adam there has no learning-rate schedule: constant 2e-3), so the like-for-like row is the squared_error one; the
   absolute_error row shows what the loss changes. One row = one ``fit`` of E epochs divided by E (the fit's
   one-off input checks and initialisation included); samples/s = 3,428 / epoch time; "scikit-learn / row" =
   scikit-learn's epoch time / the row's (> 1: the row is faster).
2. ``core.ensemble.SeedEnsembleRegressor(NetRegressor(..., loss="absolute_error"), n_members=5)``: one ``fit``
   against the reference, 5 ``NetRegressor.fit`` calls one after the other (seeds 0..4) with the same parameters:
   the same training work without the meta-estimator. "ensemble / 5 fits" is the overhead of the meta-estimator
   (cloning, seeding), expected ~1.00.
3. The loss functions alone: ``core.losses.MeanAbsoluteError``, ``Huber`` (delta=1) and ``MeanSquaredError``,
   ``forward`` + ``backward`` on float32 (64, 1) (a training batch) and (4096, 1) outputs and targets, against the
   plain numpy expression giving the same value and gradient (r = output - target; MAE: np.abs(r).mean() and
   np.sign(r) / n; Huber: np.where(|r| <= delta, r^2 / (2 delta), |r| - delta / 2).mean() and
   np.clip(r / delta, -1, 1) / n; MSE: np.square(r).mean() and 2 r / n). Median microseconds per call (each timed
   call loops enough calls to last ~20 ms; core and numpy take turns); "core / numpy" is the cost of core's input
   checks and caching.
"""

from __future__ import annotations

import datetime
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks._util import (alternating_medians, epoch_arguments, format_table, machine_description,  # noqa: E402
                              median_seconds)
from core.ensemble import SeedEnsembleRegressor  # noqa: E402
from core.losses import Huber, MeanAbsoluteError, MeanSquaredError  # noqa: E402
from core.sklearn import NetRegressor  # noqa: E402

DATASET = "aflow_bulk_modulus"
#: the NetRegressor of the benchmark, less loss, max_epochs and random_state
NET = {"hidden_layer_sizes": (256, 256, 256), "activation": "relu", "learning_rate": 2e-3, "schedule": "cosine",
       "batch_size": 64, "alpha": 0.0, "dtype": "float32"}
N_MEMBERS = 5
HUBER_DELTA = 1.0
LOSS_BATCHES = (64, 4096)


# -- data -------------------------------------------------------------------------------------------------------
def materials_data() -> tuple[np.ndarray, np.ndarray]:
    """The train rows of the AFLOW bulk-modulus data as the materials task preprocesses them: X (3428, n_features)
    and standardised y (3428,), both float32."""
    from sklearn.pipeline import make_pipeline

    from physics.materials.builtin import builtin_dataset
    from physics.materials.evaluation import Preprocessing

    data = builtin_dataset(DATASET)
    train = data.split == "train"
    features = data.features(element_fractions=True).values[train]
    X = make_pipeline(*(step for _, step in Preprocessing().steps())).fit_transform(features)
    y = data.target[train].astype(np.float64)
    y = (y - y.mean()) / y.std()
    return X.astype(np.float32), y.astype(np.float32)


def loss_data(rng, n: int) -> tuple[np.ndarray, np.ndarray]:
    """float32 outputs and targets (n, 1), residuals ~ N(0, 1.5^2): both sides of the Huber threshold."""
    output = rng.standard_normal((n, 1)).astype(np.float32)
    target = (output + 1.5 * rng.standard_normal((n, 1))).astype(np.float32)
    return output, target


# -- the estimators ----------------------------------------------------------------------------------------------
def core_regressor(epochs: int, loss: str = "absolute_error", random_state: int = 0) -> NetRegressor:
    return NetRegressor(loss=loss, max_epochs=epochs, random_state=random_state, **NET)


def sklearn_regressor(epochs: int, random_state: int = 0):
    """scikit-learn's MLPRegressor set up like :func:`core_regressor` (squared error: the only loss it has); tol=0
    and n_iter_no_change=epochs, so that it runs exactly ``epochs`` epochs (max_iter)."""
    from sklearn.neural_network import MLPRegressor

    return MLPRegressor(hidden_layer_sizes=NET["hidden_layer_sizes"], activation=NET["activation"], solver="adam",
                        alpha=NET["alpha"], batch_size=NET["batch_size"], learning_rate_init=NET["learning_rate"],
                        max_iter=epochs, tol=0.0, n_iter_no_change=epochs, early_stopping=False, shuffle=True,
                        random_state=random_state)


def fit_sklearn(model, X, y):
    """``model.fit(X, y)`` without the ConvergenceWarning of stopping at max_iter (the point here)."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def ensemble_regressor(epochs: int, n_members: int = N_MEMBERS) -> SeedEnsembleRegressor:
    return SeedEnsembleRegressor(core_regressor(epochs), n_members=n_members, random_state=0)


def separate_fits(epochs: int, X, y, n_members: int = N_MEMBERS) -> list[NetRegressor]:
    """Reference for the ensemble: ``n_members`` NetRegressors (seeds 0, 1, ...) fitted one after the other."""
    return [core_regressor(epochs, random_state=seed).fit(X, y) for seed in range(n_members)]


# -- the loss references -----------------------------------------------------------------------------------------
def numpy_mae(output, target) -> tuple[float, np.ndarray]:
    r = output - target
    return float(np.abs(r).mean()), np.sign(r) / r.size


def numpy_huber(output, target, delta: float = HUBER_DELTA) -> tuple[float, np.ndarray]:
    r = output - target
    magnitude = np.abs(r)
    value = np.where(magnitude <= delta, np.square(r) * (0.5 / delta), magnitude - 0.5 * delta).mean()
    return float(value), np.clip(r / delta, -1.0, 1.0) / r.size


def numpy_mse(output, target) -> tuple[float, np.ndarray]:
    r = output - target
    return float(np.square(r).mean()), 2.0 * r / r.size


#: name -> (core loss factory, numpy reference)
LOSS_REFERENCES: dict[str, tuple[Callable, Callable]] = {
    "MeanAbsoluteError": (MeanAbsoluteError, numpy_mae),
    "Huber(delta=1)": (lambda: Huber(HUBER_DELTA), numpy_huber),
    "MeanSquaredError": (MeanSquaredError, numpy_mse),
}


def core_loss_step(loss, output, target) -> tuple[float, np.ndarray]:
    """``loss.forward`` then ``loss.backward``: the value and the gradient, as in a training step."""
    value = loss.forward(output, target)
    return value, loss.backward()


# -- measurement -------------------------------------------------------------------------------------------------
def per_call_seconds(functions: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """{name: median seconds of one call} of fast functions: each timed call is a loop of calls lasting ~20 ms,
    and the loops take turns as in :func:`alternating_medians`."""
    loops, inner = {}, {}
    for name, function in functions.items():
        inner[name] = max(1, int(0.02 / max(median_seconds(function, 5), 1e-7)))
        loops[name] = lambda function=function, k=inner[name]: [function() for _ in range(k)]
    return {name: seconds / inner[name] for name, seconds in alternating_medians(loops, repeats).items()}


def main(argv=None) -> None:
    args = epoch_arguments(__doc__.split("\n\n")[0], 2, 5, argv)
    quick = args.quick
    epochs = args.epochs
    repeats_fit, repeats_ensemble, repeats_loss = (3, 3, 3) if quick else (5, 5, 7)

    print(machine_description())
    print(f"{datetime.datetime.now():%Y-%m-%d %H:%M}; load average at start: {os.getloadavg()[0]:.2f}; BLAS threads "
          f"limited to {args.threads} (threadpoolctl); {'quick' if quick else 'full'} run, {epochs} epochs per fit\n")

    X, y = materials_data()
    n = len(X)
    print(f"Data: {DATASET}, train rows {n:,} x {X.shape[1]} features (element fractions included, preprocessed), "
          f"float32\n")

    print(f"1. Epoch cost: MLP {X.shape[1]} -> 256 -> 256 -> 256 -> 1, ReLU, Adam, lr 2e-3, batch 64, alpha 0 "
          f"(fit of {epochs} epochs / {epochs}; median of {repeats_fit})")
    fits = {
        "core NetRegressor, absolute_error, cosine": lambda: core_regressor(epochs, "absolute_error").fit(X, y),
        "core NetRegressor, squared_error, cosine": lambda: core_regressor(epochs, "squared_error").fit(X, y),
        "scikit-learn MLPRegressor, squared_error, constant": lambda: fit_sklearn(sklearn_regressor(epochs), X, y),
    }
    medians = alternating_medians(fits, repeats_fit)
    sklearn_epoch = medians["scikit-learn MLPRegressor, squared_error, constant"] / epochs
    rows = []
    for name, seconds in medians.items():
        epoch = seconds / epochs
        rows.append([name, f"{epoch:.3f}", f"{n / epoch:,.0f}", f"{sklearn_epoch / epoch:.2f}"])
    print(format_table(["implementation, loss, schedule", "epoch s (median)", "samples/s", "scikit-learn / row"],
                       rows), "\n")

    print(f"2. Seed ensemble of {N_MEMBERS} (absolute_error, {epochs} epochs each) against {N_MEMBERS} separate fits "
          f"(median of {repeats_ensemble})")
    fits = {"ensemble": lambda: ensemble_regressor(epochs).fit(X, y),
            "separate": lambda: separate_fits(epochs, X, y)}
    medians = alternating_medians(fits, repeats_ensemble)
    reference = medians["separate"]
    rows = [[f"SeedEnsembleRegressor(n_members={N_MEMBERS}).fit", f"{medians['ensemble']:.2f}",
             f"{medians['ensemble'] / N_MEMBERS:.2f}", f"{medians['ensemble'] / reference:.2f}"],
            [f"{N_MEMBERS} x NetRegressor.fit (seeds 0..{N_MEMBERS - 1})", f"{reference:.2f}",
             f"{reference / N_MEMBERS:.2f}", "1.00"]]
    print(format_table(["work", "time s (median)", "per member s", f"ensemble / {N_MEMBERS} fits"], rows), "\n")

    print(f"3. Loss forward + backward, float32 (batch, 1) (median of {repeats_loss})")
    rng = np.random.default_rng(0)
    rows = []
    for batch in LOSS_BATCHES:
        output, target = loss_data(rng, batch)
        for name, (make_loss, reference_fn) in LOSS_REFERENCES.items():
            loss = make_loss()
            times = per_call_seconds({"core": lambda: core_loss_step(loss, output, target),
                                      "numpy": lambda: reference_fn(output, target)}, repeats_loss)
            core_s, numpy_s = times["core"], times["numpy"]
            rows.append([name, f"({batch}, 1)", f"{core_s * 1e6:.1f}", f"{numpy_s * 1e6:.1f}",
                         f"{core_s / numpy_s:.2f}"])
    print(format_table(["loss", "batch", "core us", "numpy us", "core / numpy"], rows))
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
