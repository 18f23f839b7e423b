"""Schema of ``task=fit``: which function to learn, how many noisy samples, and the objective.

Checked at validation, before anything is allocated: the image's header (never its pixels: it is decoded once,
by the task) and the memory the run will need -- the samples, the image grid, the baselines (a kernel method's
n x n matrix) -- against :func:`physics.app.resources.default_limit`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from physics.app.resources import baseline_bytes, check_memory, driving_key, format_bytes, real
from physics.app.schema import ConfigError, TaskConfig, param
from physics.functions import image_header

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
            header = image_header(self.image_path)  # the header only: the pixels are decoded once, by the task
        except ValueError as error:
            raise ConfigError("image_path", f"{error}.") from None
        check_memory("image_path", header.decode_bytes, f"decoding {self.image_path!r} ({header.width} x "
                                                        f"{header.height} pixels, mode {header.mode})",
                     hint="Downscale the picture first.")

    def check_with(self, config) -> None:
        super().check_with(config)
        self.check_memory(config.baseline)

    def check_memory(self, baselines: dict) -> None:
        """The samples (about 8 float64 copies of inputs and targets), the evaluation grid of the figures (an
        image's pixel centres, the picture, every model's prediction on it) and the most demanding baseline (fitted
        on the training samples, predicting the test samples and the grid) must fit the default memory limit.
        The error names task.n_samples or task.image_size, whichever sets the larger part."""
        dim = 1 if self.target in TARGETS_1D else 2
        image = self.target in TARGETS_IMAGE
        pixels = real(self.image_size) ** 2 if image else 0.0
        n = min(real(self.n_samples), pixels) if image else real(self.n_samples)  # an image has so many pixels
        n_train = n * (1.0 - self.test_fraction)
        grid = pixels if image else (100.0 ** 2 if dim == 2 else 400.0)
        costs = {name: baseline_bytes(name, spec, n_train, n - n_train + grid, dim + 1)
                 for name, spec in baselines.items()}
        worst = max(costs, key=costs.get, default=None)
        samples, by_grid = n * (dim + 1) * 8 * 8, grid * (128 + 8 * len(baselines))
        ratios = {"n_samples": n / 2000}  # against the defaults: the key furthest above its own drives the estimate
        if image:
            ratios["image_size"] = pixels / 64 ** 2
        key = driving_key(ratios)
        parts = f"{format_bytes(by_grid)} for the {grid:.4g}-point evaluation grid" + (
            f", {format_bytes(costs[worst])} for baseline.{worst}" if worst else "")
        check_memory(f"task.{key}", samples + by_grid + (costs[worst] if worst else 0.0),
                     f"task.{key} = {getattr(self, key)}: the run",
                     hint=f"(Of it {parts}.) Lower task.{key}" + (f", or drop the baseline: ~baseline.{worst}"
                                                                   if worst else "") + ".")


#: ``debug=tiny``: a hundred samples, a few epochs (baselines are left alone: ``baseline=none`` must still work)
DEBUG = {"task": {"n_samples": 120, "image_size": 16}, "trainer": {"epochs": 3}}
