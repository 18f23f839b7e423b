"""A restricted Boltzmann machine learns the "bars and stripes" patterns; its exact log-likelihood tells how well.

On a 3 x 3 grid there are 14 such patterns (each row or each column all on or all off; the two uniform images
count once), so a perfect model has log-likelihood -ln 14 per pattern and a model that knows nothing -9 ln 2.
Run: python examples/06_rbm.py   (a few seconds)
"""
import itertools

import numpy as np

from core.rbm import RBM

# 1. setup: the 3 x 3 lattice of visible units (0/1), one random stream
side, rng = 3, np.random.default_rng(0)

# 2. data: every bars-and-stripes pattern, repeated and shuffled into a training set of 1400 rows
lines = np.array(list(itertools.product([0, 1], repeat=side)))
patterns = np.unique(np.concatenate([np.repeat(lines, side, axis=1),     # bars: rows constant across
                                     np.tile(lines, side)]), axis=0)     # stripes: columns constant down
data = rng.permutation(np.repeat(patterns, 100, axis=0))

# 3. model: 9 visible and 12 hidden binary units, contrastive divergence with 3 Gibbs steps (CD-3), plain SGD
model = RBM(side * side, 12, k=3, learning_rate=0.1, batch_size=20, epochs=100, random_state=0)

# 4. training (the initial state: small random weights, visible biases from the unit means of the data)
untrained = model.initialize(data).log_likelihood_exact(patterns)
model.fit(data)

# 5. result: exact log-likelihood (the partition function summed over all 2^9 visible states) of the patterns
print(f"{len(patterns)} patterns; bounds: -9 ln 2 = {-9 * np.log(2):.3f} (knows nothing), "
      f"-ln {len(patterns)} = {-np.log(len(patterns)):.3f} (perfect)")
print(f"exact log-likelihood per pattern: {untrained:.3f} nats before training, "
      f"{model.log_likelihood_exact(patterns):.3f} nats after")
