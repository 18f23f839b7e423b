"""ConvNetClassifier / ConvNetRegressor: scikit-learn's estimator checks, learning an image task, periodic
translation invariance, the image shape (flat X folded channels first), clone/get_params/set_params, pickle,
bad parameters. Small networks and few epochs: the file runs in a few seconds."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from core._validation import InvalidParameterError
from core.conv import GlobalAvgPool2D
from core.layers import Flatten
from core.sklearn_conv import ConvNetClassifier, ConvNetRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = {"channels": (4,), "batch_size": 64, "max_epochs": 20, "learning_rate": 2e-2}


# The checks' X have 1 to 10 features that are not images: image_shape=None reads a row as a 1 x n_features image
# and pooling="auto" then flattens the feature maps (see the docs). Small networks keep the checks fast; no check
# is expected to fail.
@parametrize_with_checks([ConvNetClassifier(**SMALL), ConvNetRegressor(**SMALL)])
def test_check_estimator(estimator, check):
    check(estimator)


def stripes(n, L, seed):
    """n random +-1 stripe images L x L, half vertical (label 0), half horizontal (label 1); flat X (n, L*L)."""
    rng = np.random.default_rng(seed)
    vertical = np.tile(rng.choice([-1.0, 1.0], (n // 2, 1, L)), (1, L, 1))
    horizontal = np.tile(rng.choice([-1.0, 1.0], (n - n // 2, L, 1)), (1, 1, L))
    X = np.concatenate([vertical, horizontal]).reshape(n, L * L)
    return X, np.repeat([0, 1], [n // 2, n - n // 2])


def test_learns_horizontal_against_vertical_stripes():
    X, y = stripes(200, 8, seed=0)
    X_test, y_test = stripes(200, 8, seed=1)
    clf = ConvNetClassifier(image_shape=(8, 8), channels=(4,), learning_rate=1e-2, max_epochs=15,
                            random_state=0).fit(X, y)
    assert isinstance(clf.network_.layers[-2], GlobalAvgPool2D)  # pooling="auto" with an image shape
    # a 3 x 3 kernel tells the two orientations apart exactly (no noise): new images are all but always right
    assert clf.score(X_test, y_test) > 0.95


@pytest.mark.parametrize("Estimator", [ConvNetClassifier, ConvNetRegressor])
def test_periodic_translation_invariance_with_global_pooling(Estimator):
    rng = np.random.default_rng(0)
    images = rng.choice([-1.0, 1.0], (30, 2, 5, 6))  # two channels, a non-square lattice
    y = images[:, 0].sum(axis=(1, 2)) > 0 if Estimator is ConvNetClassifier else images.mean(axis=(1, 2, 3))
    model = Estimator(image_shape=(2, 5, 6), channels=(3, 3), hidden_layer_sizes=(4,), max_epochs=3,
                      random_state=0).fit(images.reshape(30, -1), y)
    assert model.network_.input_shape == (2, 5, 6)
    predict = model.predict_proba if Estimator is ConvNetClassifier else model.predict
    shifted = np.roll(images, (2, -3), axis=(2, 3)).reshape(30, -1)
    # float64: a translated lattice sums the same terms in another order in the global average (~1e-16)
    np.testing.assert_allclose(predict(shifted), predict(images.reshape(30, -1)), rtol=1e-12, atol=1e-12)


def test_pooling_auto_flattens_rows_without_an_image_shape():
    X, y = stripes(20, 4, seed=0)
    flat = ConvNetClassifier(channels=(2,), max_epochs=1, random_state=0).fit(X, y)
    assert flat.network_.input_shape == (1, 1, 16) and isinstance(flat.network_.layers[-2], Flatten)
    pooled = ConvNetClassifier(pooling="global_avg", channels=(2,), max_epochs=1, random_state=0).fit(X, y)
    assert isinstance(pooled.network_.layers[-2], GlobalAvgPool2D)


def test_image_shape_must_match_the_features():
    X, y = stripes(20, 4, seed=0)
    with pytest.raises(ValueError, match=r"X has 16 features, but the 'image_shape' parameter of ConvNetClassifier "
                                         r"is \(5, 5\) \(read as \(C, H, W\) = \(1, 5, 5\)\), which needs 25"):
        ConvNetClassifier(image_shape=(5, 5), max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="padding='valid' needs height and width >= kernel_size=3"):
        ConvNetClassifier(image_shape=(2, 8), padding="valid", max_epochs=1).fit(X, y)


@pytest.mark.parametrize("params, name", [
    ({"padding": "same"}, "padding"),
    ({"pooling": "max"}, "pooling"),
    ({"block_pool": "min"}, "block_pool"),
    ({"channels": ()}, "channels"),
    ({"image_shape": (0, 4)}, "image_shape"),
    ({"image_shape": (16,)}, "image_shape"),
    ({"kernel_size": 0}, "kernel_size"),
])
def test_bad_parameters_raise_in_fit(params, name):
    X, y = stripes(20, 4, seed=0)
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of ConvNetRegressor"):
        ConvNetRegressor(**params).fit(X, y)


def test_get_params_set_params_clone_and_pickle():
    X, y = stripes(40, 6, seed=0)
    clf = ConvNetClassifier(image_shape=(6, 6), channels=(2,), max_epochs=2, random_state=0)
    params = clf.get_params()
    assert params["channels"] == (2,) and params["image_shape"] == (6, 6) and params["dtype"] == "float64"
    assert "network" not in params and "input_shape" not in params  # the network is the parameters' cnn
    clf.set_params(channels=(3, 2), block_pool="avg", hidden_layer_sizes=(5,))
    copied = clone(clf)
    assert copied.get_params() == clf.get_params()
    copied.fit(X, y)
    assert [layer.filters for layer in copied.network_.layers if hasattr(layer, "filters")] == [3, 2]
    assert not hasattr(clf, "network_")  # clone fitted the copy only
    loaded = pickle.loads(pickle.dumps(copied))
    np.testing.assert_array_equal(loaded.predict_proba(X), copied.predict_proba(X))
