"""The autoencoder's code on a small real Monte Carlo set: it is the magnetisation, and its odd part is odd."""
import numpy as np
import pytest

from physics.app.config import validate
from physics.ising.dataset import generate_dataset
from physics.tasks.ising.data import flat
from physics.tasks.ising_autoencoder.networks import leading_code, odd_code, reconstruction_per_spin, train
from physics.tasks.ising_autoencoder.replica import abs_pearson


@pytest.fixture(scope="module")
def data():
    """L = 8 at temperatures across the transition, 60 configurations each (no cache: well under a second)."""
    return generate_dataset(8, [1.6, 2.0, 2.2, 2.4, 2.7, 3.2], 60, seed=11, cache_dir=False, n_jobs=1,
                            progress=False)


@pytest.fixture(scope="module")
def config(compose_config):
    return validate(compose_config(["task=ising_autoencoder", "debug=tiny", "trainer.epochs=25",
                                    "trainer.early_stopping=false", "task.objective=tc_error", "progress=false"]))


@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_the_code_tracks_the_magnetisation(config, data, kind):
    X = flat(data.spins)
    trained = train(config, kind, X, 8, 0)
    m = data.magnetization
    assert abs_pearson(leading_code(trained, X), m) > 0.9
    odd = odd_code(trained, X)
    assert abs_pearson(odd, m) > 0.9
    np.testing.assert_allclose(odd_code(trained, -X), -odd, atol=1e-5)  # odd under the global flip, by construction
    error = reconstruction_per_spin(trained, X)
    assert error.shape == (len(X),) and np.all(error > 0)
    # ordered configurations (a single code rebuilds them) are reconstructed better than disordered ones
    assert error[data.temperature == 1.6].mean() < error[data.temperature == 3.2].mean()
    assert len(trained.history["loss"]) == 25 and trained.history["val_loss"] == []


def test_training_is_reproducible(config, data):
    X = flat(data.spins)
    first, second = train(config, "vae", X, 8, 1), train(config, "vae", X, 8, 1)
    np.testing.assert_array_equal(first.model.encode(X), second.model.encode(X))
    assert not np.array_equal(first.model.encode(X), train(config, "vae", X, 8, 2).model.encode(X))
