"""Schema of ``task=fit``: which function to learn, how many noisy samples, and the objective."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from physics.app.schema import ConfigError, TaskConfig, param
from physics.functions import load_image

TARGETS_1D = ("sine", "lorentzian", "step", "damped_oscillation")
TARGETS_2D = ("gaussian_abs", "gaussians")
TARGETS_IMAGE = ("smiley", "image")
TARGETS = TARGETS_1D + TARGETS_2D + TARGETS_IMAGE
#: val_mse: the network's best validation MSE (a share of the training set); test_mse: the test-set score
OBJECTIVES = ("val_mse", "test_mse")


@dataclass
class Config(TaskConfig):
    """``task=fit``: learn y = f(x) from noisy samples and compare the network with scikit-learn baselines."""

    MODELS = ("mlp",)
    VALIDATION_OBJECTIVES = ("val_mse",)

    name: str = param("fit", help="the task")
    target: str = param("gaussian_abs", help="the function: 1D sine | lorentzian | step | damped_oscillation, "
                                             "2D gaussian_abs | gaussians, image smiley | image", choices=TARGETS)
    n_samples: int = param(2000, help="samples drawn uniformly in [-1, 1]^d (images: pixels of the grid)", low=10)
    noise: float = param(0.02, help="standard deviation of the Gaussian noise on the training targets", low=0.0)
    test_fraction: float = param(0.25, help="share of the samples held out as the test set", low=0.0, high=1.0,
                                 low_open=True, high_open=True)
    image_path: Optional[str] = param(None, help="PNG/JPEG file for target=image (read as grey levels in [0, 1])")
    image_size: int = param(64, help="images are resampled to image_size x image_size pixels", low=8)
    objective: str = param("val_mse", help="what a sweep minimises: val_mse (the network's best validation MSE) "
                                           "| test_mse (its test-set MSE: for reporting, not for tuning)",
                           choices=OBJECTIVES)

    def check(self) -> None:
        if self.target != "image":
            return
        if not self.image_path:
            raise ConfigError("image_path", "must name a PNG or JPEG file when task.target=image. Got None instead.")
        try:
            load_image(self.image_path, 8)
        except ValueError as error:
            raise ConfigError("image_path", f"{error}.") from None


#: ``debug=tiny``: a hundred samples, a few epochs (baselines are left alone: ``baseline=none`` must still work)
DEBUG = {"task": {"n_samples": 120, "image_size": 16}, "trainer": {"epochs": 3}}
