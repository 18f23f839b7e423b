"""Figure helpers with one consistent look: labelled axes, units, legends, saved atomically.

The look is the style file ``ml4phys.mplstyle`` beside this module (:data:`STYLE_PATH`; importing this module
registers it as ``plt.style.use("ml4phys")``). How figures are written is set once per run by
:func:`figure_settings` (the config's ``figures`` node: the runner enters it around the task): the file format
(PNG by default, PDF or SVG for papers and slides), a factor on font sizes and line widths, and a size that
replaces every figure's own. Uses matplotlib's object API with the Agg backend (no display needed); touches
pyplot's global state only to create and close figures and, inside :func:`figure_settings`, its rcParams.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import matplotlib.style  # noqa: E402
import numpy as np  # noqa: E402

from core._validation import InvalidParameterError, check_choice, check_number  # noqa: E402
from physics.app.io import atomic_path  # noqa: E402

#: the suite's matplotlib style file: ``plt.style.use(STYLE_PATH)``, or ``plt.style.use("ml4phys")`` once this
#: module is imported, or ``plt.style.use("physics.app.ml4phys")`` without importing it
STYLE_PATH = Path(__file__).with_name("ml4phys.mplstyle")
STYLE = dict(matplotlib.rc_params_from_file(STYLE_PATH, use_default_template=False))
matplotlib.style.library.setdefault("ml4phys", STYLE)
#: the style's keys that :attr:`FigureSettings.scale` multiplies (sizes in points)
SCALED = ("font.size", "lines.linewidth", "lines.markersize", "axes.linewidth", "patch.linewidth",
          "grid.linewidth", "xtick.major.size", "ytick.major.size", "xtick.major.width", "ytick.major.width",
          "xtick.minor.size", "ytick.minor.size", "xtick.minor.width", "ytick.minor.width")
#: the file formats :func:`save` writes (the values of the config key ``figures.format``)
FORMATS = ("png", "pdf", "svg")
#: one colour per model, the numpy network first, so every figure of a run agrees
MODEL_COLOURS = plt.get_cmap("tab10").colors
#: the words a figure shows for a model's or baseline's identifier (the keys of conf/baseline/*.yaml)
MODEL_WORDS = {"sklearn_mlp": "scikit-learn MLP", "sklearn_rbm": "scikit-learn RBM", "kernel_ridge": "kernel ridge",
               "random_forest": "random forest", "polynomial_ridge": "polynomial ridge", "ridge": "ridge regression",
               "logistic_regression": "logistic regression", "abs_m_logistic": "logistic regression on |m|",
               "magnetization_threshold": "threshold on |m|", "energy_threshold": "threshold on the energy",
               "dummy": "majority class", "linear_ar": "linear autoregressive", "persistence": "persistence"}


def words(name: str) -> str:
    """What a figure shows for ``name``: ``sklearn_mlp`` -> ``scikit-learn MLP`` (:data:`MODEL_WORDS`), any other
    identifier with spaces for its underscores (``val_loss`` -> ``val loss``), and any other text as it is.

    Parameters
    ----------
    name : str
        A model name, an identifier or any label.

    Returns
    -------
    str
        The words.

    Examples
    --------
    >>> words("sklearn_mlp"), words("n_hidden"), words("$T_c$ (exact)")
    ('scikit-learn MLP', 'n hidden', '$T_c$ (exact)')
    """
    if name in MODEL_WORDS:
        return MODEL_WORDS[name]
    return name.replace("_", " ") if name.isidentifier() else name


@dataclasses.dataclass(frozen=True)
class FigureSettings:
    """How every figure of a run is drawn and written.

    Parameters
    ----------
    format : {"png", "pdf", "svg"}
        File format of :func:`save`; the saved file's suffix is this format's.
    scale : float
        Factor (> 0) on the style's font sizes, line widths, marker and tick sizes (:data:`SCALED`); sizes given
        in points in a plotting call are not scaled.
    size : tuple of two floats or None
        ``(width, height)`` of every figure in inches, replacing the size each figure asks for; None keeps it.
    """

    format: str = "png"
    scale: float = 1.0
    size: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        check_choice(self.format, "format", "FigureSettings", FORMATS)
        check_number(self.scale, "scale", "FigureSettings", low=0.0, low_closed=False)
        if self.size is not None:
            if isinstance(self.size, (str, bytes)) or len(self.size) != 2:
                raise InvalidParameterError(f"The 'size' parameter of FigureSettings must be (width, height) in "
                                            f"inches or None. Got {self.size!r} instead.")
            for value in self.size:
                check_number(value, "size", "FigureSettings", low=0.0, low_closed=False)
            object.__setattr__(self, "size", (float(self.size[0]), float(self.size[1])))

    def rc(self) -> dict:
        """The suite's style with the sizes of :data:`SCALED` multiplied by ``scale``."""
        return {**STYLE, **{key: STYLE[key] * self.scale for key in SCALED}}


_settings = FigureSettings()


def current_settings() -> FigureSettings:
    """The :class:`FigureSettings` in force (the defaults outside :func:`figure_settings`)."""
    return _settings


@contextlib.contextmanager
def figure_settings(format: str = "png", scale: float = 1.0,
                    size: Sequence[float] | None = None) -> Iterator[FigureSettings]:
    """Draw and write every figure made inside the block with these settings (see :class:`FigureSettings`).

    Also applies the (scaled) style to matplotlib's rcParams for the block, so that text and lines a task adds
    after :func:`figure` (labels, legends, annotations) follow it. The previous settings return afterwards.

    Parameters
    ----------
    format : str, default "png"
        File format of every figure saved in the block: "png", or "pdf" / "svg" (vector).
    scale : float, default 1.0
        Factor on the style's font sizes and line widths (e.g. 1.5 for slides); > 0.
    size : sequence of two floats or None, default None
        (width, height) of every figure in inches, replacing each figure's own size; None keeps them.

    Yields
    ------
    FigureSettings
        The settings in force inside the block.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder, figure_settings(format="pdf", scale=1.5):
    ...     fig, ax = figure()
    ...     lines = ax.plot([0, 1], [0, 1])
    ...     save(fig, Path(folder) / "line.png").name
    'line.pdf'
    """
    global _settings
    settings = FigureSettings(format, scale, None if size is None else tuple(size))
    previous, _settings = _settings, settings
    try:
        with plt.rc_context(settings.rc()):
            yield settings
    finally:
        _settings = previous


def output_path(path: str | os.PathLike, format: str | None = None) -> Path:
    """``path`` with the suffix of ``format`` (default: the current setting): ``fit.png`` -> ``fit.pdf``.

    A suffix that is not one of :data:`FORMATS` is kept as part of the name (``objective_vs_optimizer.lr`` ->
    ``objective_vs_optimizer.lr.pdf``).

    Parameters
    ----------
    path : str or os.PathLike
        The figure's file name as a task writes it (usually ending in ``.png``).
    format : str or None, default None
        One of :data:`FORMATS`; None: the format of the current :func:`figure_settings`.

    Returns
    -------
    pathlib.Path
        The file that :func:`save` writes.
    """
    path, format = Path(path), check_choice(format or _settings.format, "format", "save", FORMATS)
    if path.suffix.lower() in {f".{f}" for f in FORMATS}:
        return path.with_suffix(f".{format}")
    return path.with_name(f"{path.name}.{format}")


def figure(ncols: int = 1, nrows: int = 1, width: float = 4.8, height: float = 3.6, **kwargs):
    """A new figure with ``nrows x ncols`` axes of ``width x height`` inches each, in the suite's style.

    Under :func:`figure_settings` with a ``size``, the whole figure has that size instead.

    Parameters
    ----------
    ncols : int, default 1
        Columns of axes.
    nrows : int, default 1
        Rows of axes.
    width : float, default 4.8
        Width of one panel, in inches.
    height : float, default 3.6
        Height of one panel, in inches.
    **kwargs
        Passed to ``matplotlib.pyplot.subplots`` (e.g. ``sharex=True``).

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure (constrained layout).
    axes : matplotlib.axes.Axes or ndarray of them
        One Axes for a single panel, else the axes squeezed to shape (nrows, ncols), (nrows,) or (ncols,).
    """
    settings = _settings
    figsize = settings.size or (width * ncols, height * nrows)
    with plt.rc_context(settings.rc()):
        fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, layout="constrained", **kwargs)
    for ax in axes.flat:
        ax.grid(True, alpha=STYLE["grid.alpha"])
        ax.spines[["top", "right"]].set_visible(False)
    return fig, (axes[0, 0] if axes.size == 1 else axes.squeeze())


def save(fig, path: str | os.PathLike, *, format: str | None = None) -> Path:
    """Write ``fig`` atomically in ``format`` (default: the current :func:`figure_settings`, PNG) and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure; closed afterwards.
    path : str or path-like
        Where to write it; the suffix is replaced by the format's (:func:`output_path`).
    format : str or None, default None
        One of :data:`FORMATS`; None: the current :func:`figure_settings`.

    Returns
    -------
    Path
        The path written: ``path`` with the format's suffix, so ``fit.png`` is written as ``fit.pdf`` under
        ``figures.format=pdf``.
    """
    target = output_path(path, format)
    format = target.suffix[1:]
    with plt.rc_context(_settings.rc()), atomic_path(target) as tmp:
        fig.savefig(tmp, format=format)
    plt.close(fig)
    return target


def loss_curves(histories: Mapping[str, Mapping[str, Sequence[float]]], path, *, ylabel: str = "loss") -> Path:
    """Training (solid) and validation (dashed) loss against epoch on a log scale, one colour per run.

    A dotted vertical line marks the best epoch, whose weights early stopping restored.

    Parameters
    ----------
    histories : mapping
        label -> {"loss": [...], "val_loss": [...], "best_epoch": int | None} (val_loss may be empty).
    path : str or path-like
        Where the figure goes (see :func:`save`).
    ylabel : str, default "loss"
        Label of the y axis.

    Returns
    -------
    Path
        The path written.
    """
    fig, ax = figure()
    for colour, (label, history) in zip(MODEL_COLOURS, histories.items()):
        label = words(label)
        epochs = np.arange(1, len(history["loss"]) + 1)
        ax.plot(epochs, history["loss"], color=colour, label=f"{label} (train)")
        if len(history.get("val_loss") or []):
            ax.plot(epochs, history["val_loss"], color=colour, ls="--", label=f"{label} (validation)")
        if history.get("best_epoch"):
            ax.axvline(history["best_epoch"], color=colour, ls=":", lw=1, label=f"{label}: best epoch (kept)")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.legend()
    return save(fig, path)


def model_bars(values: Mapping[str, float], path, *, ylabel: str, errors: Mapping[str, float] | None = None,
               log: bool = False, title: str | None = None) -> Path:
    """A bar per model (the network first, named in :func:`words`), optional error bars, the value on each bar.

    Parameters
    ----------
    values : mapping of str to float
        Model name -> value, in the order of the bars.
    path : str or path-like
        Where the figure goes (see :func:`save`).
    ylabel : str
        Label of the y axis.
    errors : mapping of str to float or None, default None
        Model name -> error bar (0 for a model left out).
    log : bool, default False
        Log scale on the y axis.
    title : str or None, default None
        The figure's title.

    Returns
    -------
    Path
        The path written.
    """
    names = list(values)
    heights = np.array([values[name] for name in names], dtype=float)
    yerr = None if errors is None else np.array([errors.get(name, 0.0) for name in names], dtype=float)
    fig, ax = figure(width=max(4.8, 0.9 * len(names) + 1.5))
    bars = ax.bar([words(name) for name in names], heights, yerr=yerr, capsize=4, color=MODEL_COLOURS[: len(names)])
    ax.bar_label(bars, fmt="%.3g", padding=2, fontsize=8)
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", rotation=20)
    if title:
        ax.set_title(title)
    return save(fig, path)
