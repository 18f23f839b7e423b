"""Material properties from composition alone: Magpie descriptors of formulas, then baselines on the built-in
Miedema alloy data, scored by grouped cross-validation (no chemical system in both a training and a test fold).

Run: python examples/05_materials.py   (a few seconds)
"""
import numpy as np
from sklearn.dummy import DummyRegressor
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import Ridge

from physics.materials import binary_formation_enthalpy, cross_validate, magpie_features, miedema_dataset

# 1. descriptors: 22 element properties x 6 statistics over the atomic fractions = 132 numbers per formula
features = magpie_features(["Fe2O3", "NiAl", "CuSO4·5H2O"])
column = features.names.index("MagpieData mean Electronegativity")
print("mean Pauling electronegativity of Fe2O3, NiAl, CuSO4·5H2O:", np.round(features.values[:, column], 3))

# 2. data: 600 binary alloys, target Miedema's formation enthalpy (kJ/mol of atoms), grouped by chemical system
print(f"Miedema's model, liquid NiZr: {binary_formation_enthalpy('Ni0.5Zr0.5', structure='liquid'):.1f} kJ/mol")
data = miedema_dataset(600, seed=0)
X = data.features().values

# 3. models: the mean of the training set, a linear model, a kernel model
models = {"mean of the training set": DummyRegressor(), "ridge regression": Ridge(alpha=1.0),
          "kernel ridge (RBF)": KernelRidge(kernel="rbf", alpha=1e-2, gamma=1e-2)}

# 4. evaluation: 5-fold cross-validation grouped by chemical system (features standardised inside each fold)
result = cross_validate(models, X, data.target, cv="group", groups=data.groups, n_splits=5, random_state=0)

# 5. result: mean absolute error over the folds
for name, summary in result.summary().items():
    print(f"{name:>25}: MAE {summary['mae_mean']:.2f} ± {summary['mae_std']:.2f} kJ/mol")
