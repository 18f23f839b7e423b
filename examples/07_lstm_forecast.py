"""Forecast the chaotic Lorenz-63 system with core's LSTM: trained one step ahead, then run closed-loop on its own
predictions, its error measured in Lyapunov times (1 / 0.906 time units) against the persistence forecast.

Run: python examples/07_lstm_forecast.py   (a few seconds)
"""
import numpy as np

from core import Adam, TrainingSettings, fit
from core.models import rnn
from physics.dynamics import LORENZ_LYAPUNOV_EXPONENT, Lorenz63, simulate

# 1. system: Lorenz-63 at the classic parameters, sampled every dt = 0.02, standardised with training statistics
dt, window, n_train, horizon = 0.02, 6, 1600, 300
states = simulate(Lorenz63(), n_train + horizon, dt, rng=np.random.default_rng(0)).states   # (samples, 3)
z = (states - states[:n_train].mean(axis=0)) / states[:n_train].std(axis=0)

# 2. data: windows of 6 past states -> the next step's change (scaled to order 1)
ends = np.arange(window, n_train)
X = np.stack([z[end - window:end] for end in ends])                # (samples, time, features)
y = (z[ends] - z[ends - 1]) / 0.1

# 3. model: one LSTM layer of 24 units, its last state read out by a linear layer to the 3 changes
net = rnn("lstm", units=(24,), n_outputs=3).build((window, 3), seed_or_rng=0)

# 4. training: Adam on the one-step error, full backpropagation through time over the window
fit(net, "mse", Adam(5e-3), X, y, TrainingSettings(epochs=15, batch_size=32, validation_fraction=0.1), rng=0)

# 5. result: closed loop from the end of the training data; valid while the normalised error stays below 0.4
history, forecast = z[n_train - window:n_train].copy(), []
for _ in range(horizon):
    forecast.append(history[-1] + 0.1 * net.predict(history[None])[0])
    history = np.vstack([history[1:], forecast[-1]])
forecast, truth = np.array(forecast), z[n_train:]
lyapunov_time = 1 / (dt * LORENZ_LYAPUNOV_EXPONENT)                 # in steps of dt


def valid_time(prediction):
    """Lyapunov times until the RMS error over x, y, z (in standard deviations) first exceeds 0.4."""
    error = np.sqrt(np.mean((prediction - truth) ** 2, axis=1))
    return (np.argmax(error > 0.4) if np.any(error > 0.4) else horizon) / lyapunov_time


one = round(lyapunov_time) - 1                                      # the step 1 Lyapunov time ahead
print(f"closed-loop LSTM error 1 Lyapunov time ahead: {np.sqrt(np.mean((forecast[one] - truth[one]) ** 2)):.3f}")
print(f"valid prediction time: LSTM {valid_time(forecast):.2f} Lyapunov times, "
      f"persistence {valid_time(np.broadcast_to(z[n_train - 1], truth.shape)):.2f}")
