"""Tell ordered from disordered 2D Ising configurations with a convolutional network from core.sklearn.

Run: python examples/02_core_cnn_ising.py   (a few seconds)
"""
import numpy as np
from sklearn.model_selection import train_test_split

from core.models import cnn
from core.sklearn import NetClassifier
from physics.ising import critical_temperature, generate_dataset

# 1. lattice: 12 x 12 square lattice, temperatures on both sides of T_c = 2.269 (units of J/k_B)
L, temperatures = 12, [1.6, 1.9, 2.1, 2.5, 2.8, 3.2]

# 2. data: 100 equilibrated Monte Carlo configurations per temperature, label 1 = ordered (T < T_c)
data = generate_dataset(L, temperatures, 100, seed=0, cache_dir=False, progress=False, n_jobs=1)
X = data.spins.reshape(len(data.spins), -1).astype(np.float32)  # flat (samples, L*L), as scikit-learn wants
X_train, X_test, y_train, y_test, _, T_test = train_test_split(X, data.label, data.temperature, test_size=0.3,
                                                              random_state=0, stratify=data.label)

# 3. model: periodic convolutions and a global average, so the network cannot tell where on the torus it looks
network = cnn(channels=(8,), kernel_size=3, padding="periodic", global_pool=True, hidden_layer_sizes=(16,))
model = NetClassifier(network=network, input_shape=(1, L, L), learning_rate=3e-3, max_epochs=30, random_state=0,
                      dtype="float32")

# 4. training: scikit-learn's fit, one call of core's training loop
model.fit(X_train, y_train)

# 5. result: test accuracy, overall and per temperature (the hardest are the ones nearest T_c)
print(f"T_c = {critical_temperature('square'):.4f}; per temperature:",
      ", ".join(f"T={T}: {model.score(X_test[T_test == T], y_test[T_test == T]):.2f}" for T in temperatures))
print(f"test accuracy: {model.score(X_test, y_test):.3f}")
