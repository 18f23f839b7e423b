"""Fit a 2D function with core's multilayer perceptron, Adam and the training loop; print the test error.

Run: python examples/01_core_mlp.py   (a few seconds)
"""
import numpy as np

from core import Adam, EarlyStopping, TrainingSettings, fit, mlp

# 1. setup: the target f(x, y) on the square [-1, 1]^2, and one random stream for everything
rng = np.random.default_rng(0)


def target(X):
    return np.sin(np.pi * X[:, 0]) * np.cos(np.pi * X[:, 1])


# 2. data: noisy training samples, a noise-free test set
X_train = rng.uniform(-1, 1, size=(2000, 2))
y_train = target(X_train)[:, None] + rng.normal(0, 0.05, size=(2000, 1))  # (samples, outputs)
X_test = rng.uniform(-1, 1, size=(1000, 2))
y_test = target(X_test)[:, None]

# 3. model: 2 -> 64 -> 64 -> 1 with tanh, weights drawn from the seed
net = mlp((64, 64), n_outputs=1, activation="tanh").build((2,), seed_or_rng=0)

# 4. training: minibatch Adam on the mean squared error, early stopping on a held-out tenth
settings = TrainingSettings(epochs=100, batch_size=32, validation_fraction=0.1)
history = fit(net, "mse", Adam(3e-3), X_train, y_train, settings, rng=1, callbacks=[EarlyStopping(20)])

# 5. result: the error on unseen points, against the variance of the target (a model that predicts the mean)
test_mse = float(np.mean((net.predict(X_test) - y_test) ** 2))
print(f"epochs run: {len(history.epoch)}, best epoch: {history.best_epoch}")
print(f"test MSE: {test_mse:.2e} (variance of the target: {np.var(y_test):.2e}; noise variance 2.5e-03)")
