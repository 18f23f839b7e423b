"""Target functions and images for the fitting task (``task=fit``).

Conventions: inputs ``x`` have shape (n, d) with d = 1 (curves) or d = 2 (functions and images), every
coordinate in [-1, 1]; outputs have shape (n,). Images are brightness = f(x0, x1) in [0, 1] with x0 pointing
right and x1 pointing up (row 0 of the picture is the top, x1 = +1).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from scipy import ndimage


@dataclass(frozen=True)
class Target:
    """A function to learn. ``function`` maps x of shape (n, dim) to y of shape (n,)."""

    name: str
    dim: int
    function: Callable[[np.ndarray], np.ndarray]
    formula: str  # for figure titles (matplotlib mathtext)


def _sine(x):
    return np.sin(2 * np.pi * x[:, 0])


def _lorentzian(x, width=0.1):
    return 1.0 / (1.0 + (x[:, 0] / width) ** 2)


def _step(x):
    return (x[:, 0] > 0).astype(float)


def _damped_oscillation(x):
    t = x[:, 0] + 1.0  # time from 0 to 2
    return np.exp(-1.5 * t) * np.cos(4 * np.pi * t)


def _gaussian_abs(x):
    r2 = np.sum(x**2, axis=1)
    return np.exp(-5.0 * r2) * np.abs(x[:, 0] + x[:, 1])


_GAUSSIANS = np.array([  # centre x0, centre x1, width, amplitude
    [-0.4, -0.3, 0.25, 1.0],
    [0.45, 0.3, 0.2, 0.8],
    [0.0, 0.55, 0.15, -0.6],
])


def _gaussians(x):
    centres, widths, amplitudes = _GAUSSIANS[:, :2], _GAUSSIANS[:, 2], _GAUSSIANS[:, 3]
    r2 = np.sum((x[:, None, :] - centres[None]) ** 2, axis=2)  # (n, n_gaussians)
    return np.exp(-r2 / (2 * widths**2)) @ amplitudes


ANALYTIC_TARGETS = {
    "sine": Target("sine", 1, _sine, r"$\sin(2\pi x)$"),
    "lorentzian": Target("lorentzian", 1, _lorentzian, r"$1/(1 + (x/0.1)^2)$"),
    "step": Target("step", 1, _step, r"$\Theta(x)$"),
    "damped_oscillation": Target("damped_oscillation", 1, _damped_oscillation,
                                 r"$e^{-1.5t}\cos(4\pi t),\ t = x + 1$"),
    "gaussian_abs": Target("gaussian_abs", 2, _gaussian_abs, r"$e^{-5r^2}\,|x_0 + x_1|$"),
    "gaussians": Target("gaussians", 2, _gaussians, r"sum of three Gaussians"),
}


def smiley(size: int = 64) -> np.ndarray:
    """A smiley drawn in code: brightness in [0, 1], shape (size, size), row 0 at the top."""
    x0, x1 = np.meshgrid(np.linspace(-1, 1, size), np.linspace(1, -1, size))
    r = np.hypot(x0, x1)
    face = r < 0.9
    eyes = (np.hypot(x0 - 0.32, x1 - 0.3) < 0.13) | (np.hypot(x0 + 0.32, x1 - 0.3) < 0.13)
    mouth = (np.abs(np.hypot(x0, x1 - 0.1) - 0.55) < 0.07) & (x1 < -0.05)
    image = np.where(face, 0.85, 0.05)
    image[eyes | mouth] = 0.15
    return image


@dataclass(frozen=True)
class ImageHeader:
    """What a picture's header says, read without decoding its pixels."""

    width: int
    height: int
    mode: str  # Pillow's mode: "L", "RGB", "RGBA", "P", "I;16", ...
    format: str  # "PNG", "JPEG", ...

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def decode_bytes(self) -> int:
        """Peak bytes of :func:`load_image`'s decoding: per channel Pillow's byte, matplotlib's float32 and
        our float64 copy; for colour images the RGB slice and the luminance (float64)."""
        from PIL import Image

        channels = 4 if self.mode in ("P", "PA") else Image.getmodebands(self.mode)  # palettes become RGBA
        return self.pixels * (13 * channels + (32 if channels > 1 else 0))


def max_image_pixels() -> int:
    """The largest picture :func:`load_image` decodes: Pillow's own decompression-bomb threshold
    (``PIL.Image.MAX_IMAGE_PIXELS``, 89,478,485 by default, about 9,500 x 9,500), which matplotlib's PNG reader
    does not apply."""
    from PIL import Image

    return int(Image.MAX_IMAGE_PIXELS or 89_478_485)


def image_header(path: str | os.PathLike) -> ImageHeader:
    """Size, mode and format of a PNG/JPEG from its header, without decoding the pixels; the file's chunks
    are verified (a truncated or corrupt PNG fails here).

    Raises ValueError naming the file when it is missing, not an image, or larger than :func:`max_image_pixels`.
    """
    import warnings

    from PIL import Image

    name = os.fspath(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(name) as image:
                header = ImageHeader(image.width, image.height, image.mode, image.format or "?")
                image.verify()  # chunk structure and checksums; the pixels stay undecoded
    except FileNotFoundError:
        raise ValueError(f"image file {name!r} does not exist") from None
    except Image.DecompressionBombError as error:
        raise ValueError(f"image file {name!r} is too large to decode ({error}); downscale it first") from None
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise ValueError(f"file {name!r} is not a readable image ({error})") from None
    if header.pixels > max_image_pixels():
        raise ValueError(f"image file {name!r} has {header.width} x {header.height} = {header.pixels:,} pixels, "
                         f"more than the {max_image_pixels():,} decoded at most (Pillow's decompression-bomb "
                         f"limit); it is resampled to a few thousand pixels anyway: downscale it first")
    if Path(name).suffix.lower() == ".png" and header.format != "PNG":
        raise ValueError(f"file {name!r} is named .png but holds a {header.format} image; rename it")
    return header


def load_image(path: str | os.PathLike, size: int) -> np.ndarray:
    """Read a PNG/JPEG (via matplotlib) as grey levels in [0, 1], resampled to (size, size).

    The header is read first (:func:`image_header`): a picture larger than :func:`max_image_pixels` is refused
    before any pixel is decoded. Raises ValueError naming the file when it is missing, not an image or too
    large.
    """
    import matplotlib.image

    image_header(path)
    try:
        pixels = np.asarray(matplotlib.image.imread(os.fspath(path)), dtype=float)
    except FileNotFoundError:
        raise ValueError(f"image file {os.fspath(path)!r} does not exist") from None
    except (OSError, ValueError, SyntaxError) as error:
        raise ValueError(f"file {os.fspath(path)!r} is not a readable image ({error})") from None
    if pixels.ndim == 3:  # RGB(A): luminance, alpha ignored
        pixels = pixels[..., :3] @ np.array([0.299, 0.587, 0.114])
    if pixels.max() > 1.0:  # 8-bit images read as integers
        pixels = pixels / 255.0
    zoom = (size / pixels.shape[0], size / pixels.shape[1])
    return np.clip(ndimage.zoom(pixels, zoom, order=1), 0.0, 1.0)[:size, :size]


def image_target(image: np.ndarray, name: str) -> Target:
    """A Target whose value at x is the brightness of the pixel containing x (nearest pixel)."""
    size_rows, size_cols = image.shape

    def brightness(x):
        cols = np.clip(np.round((x[:, 0] + 1) / 2 * (size_cols - 1)).astype(int), 0, size_cols - 1)
        rows = np.clip(np.round((1 - x[:, 1]) / 2 * (size_rows - 1)).astype(int), 0, size_rows - 1)
        return image[rows, cols]

    return Target(name, 2, brightness, f"image {name}")


def grid(dim: int, points_per_axis: int) -> np.ndarray:
    """Evaluation points on a regular grid over [-1, 1]^dim, shape (points_per_axis**dim, dim).

    For dim = 2 the order is row-major with x1 decreasing down the rows, so ``y.reshape(n, n)`` is an image.
    """
    axis = np.linspace(-1.0, 1.0, points_per_axis)
    if dim == 1:
        return axis[:, None]
    x0, x1 = np.meshgrid(axis, axis[::-1])
    return np.column_stack([x0.ravel(), x1.ravel()])


def sample_inputs(target: Target, n_samples: int, rng: np.random.Generator, image_size: int | None = None
                  ) -> np.ndarray:
    """Inputs of the fitting data set, shape (n_samples, dim).

    Analytic targets: uniform in [-1, 1]^dim. Images: ``n_samples`` distinct pixel centres of the
    image_size x image_size grid (all of them if n_samples is larger).
    """
    if image_size is None:
        return rng.uniform(-1.0, 1.0, size=(n_samples, target.dim))
    pixels = grid(2, image_size)
    chosen = rng.choice(len(pixels), size=min(n_samples, len(pixels)), replace=False)
    return pixels[np.sort(chosen)]
