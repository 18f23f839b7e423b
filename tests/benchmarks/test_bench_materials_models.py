"""The benchmark's references do the same work as the product code: the numpy expressions give the core losses' values
and gradients, scikit-learn's MLPRegressor runs exactly the epochs asked for (like NetRegressor), and the separate
fits are as many NetRegressor fits, with the same parameters, as the seed ensemble makes.
(Speed itself is measured by `python benchmarks/bench_materials_models.py`, never by a test.)"""

import numpy as np
import pytest

from benchmarks.bench_materials_models import (
    LOSS_REFERENCES,
    N_MEMBERS,
    NET,
    core_loss_step,
    core_regressor,
    ensemble_regressor,
    fit_sklearn,
    loss_data,
    separate_fits,
    sklearn_regressor,
)
from core.sklearn import NetRegressor


def small_regression(seed=0, n=150, d=6):  # n > batch 64: no clipping warning
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    return X, (X @ rng.standard_normal(d)).astype(np.float32)


@pytest.mark.parametrize("name", list(LOSS_REFERENCES))
@pytest.mark.parametrize("n", [64, 4096, 37])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_loss_matches_core_forward_and_backward(name, n, dtype):
    make_loss, reference = LOSS_REFERENCES[name]
    output, target = (a.astype(dtype) for a in loss_data(np.random.default_rng(n), n))
    value, grad = core_loss_step(make_loss(), output, target)
    expected_value, expected_grad = reference(output, target)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(expected_value, value, rtol=rtol)
    assert expected_grad.shape == grad.shape == (n, 1) and expected_grad.dtype == grad.dtype == dtype
    np.testing.assert_allclose(expected_grad, grad, rtol=rtol, atol=0)


def test_loss_data_reaches_both_sides_of_the_huber_threshold():
    output, target = loss_data(np.random.default_rng(0), 64)
    magnitude = np.abs(output - target)
    assert (magnitude <= 1.0).any() and (magnitude > 1.0).any()


def test_sklearn_reference_runs_exactly_the_epochs_asked_for_like_core():
    X, y = small_regression()
    reference = fit_sklearn(sklearn_regressor(2), X, y)
    assert reference.n_iter_ == 2 and len(reference.loss_curve_) == 2
    assert reference.coefs_[0].dtype == np.float32  # float32 like the core network, given float32 data
    core = core_regressor(2, "squared_error").fit(X, y)
    assert core.n_iter_ == 2


def test_sklearn_reference_has_the_core_architecture_and_settings():
    reference, core = sklearn_regressor(3), core_regressor(3, "squared_error")
    assert reference.hidden_layer_sizes == core.hidden_layer_sizes == NET["hidden_layer_sizes"]
    assert reference.activation == core.activation == "relu"
    assert reference.solver == core.optimizer == "adam"
    assert reference.batch_size == core.batch_size and reference.alpha == core.alpha == 0
    assert reference.learning_rate_init == core.learning_rate and reference.max_iter == core.max_epochs == 3
    assert reference.shuffle and not reference.early_stopping and not core.early_stopping


def test_ensemble_and_separate_fits_make_the_same_member_fits(monkeypatch):
    X, y = small_regression(1)
    fitted = []
    original = NetRegressor.fit

    def counting_fit(self, *args, **kwargs):
        fitted.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(NetRegressor, "fit", counting_fit)
    ensemble = ensemble_regressor(1).fit(X, y)
    from_ensemble, fitted[:] = list(fitted), []
    members = separate_fits(1, X, y)
    assert len(from_ensemble) == len(fitted) == len(members) == len(ensemble.estimators_) == N_MEMBERS

    def settings(model):
        return {k: v for k, v in model.get_params().items() if k not in ("random_state", "init_random_state")}

    assert all(settings(m) == settings(from_ensemble[0]) for m in from_ensemble + fitted)
    assert all(m.n_iter_ == 1 for m in from_ensemble + fitted)
    assert len({m.random_state for m in fitted}) == N_MEMBERS  # different seeds, as in the ensemble
