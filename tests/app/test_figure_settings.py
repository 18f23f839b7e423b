"""``figures.format``, ``figures.scale`` and ``figures.size``: vector figures for papers and slides, the suite's
style as a reusable file, and bad values refused before any work."""
from __future__ import annotations

import subprocess
import sys

import matplotlib.pyplot as plt
import pytest

from physics.app import plots
from physics.app.config import figures_config
from physics.app.runner import run
from physics.app.schema import ConfigError
from tests.conftest import ROOT

#: the figures of task=fit (tests/app/test_fit_task.py), by stem
FIT_FIGURES = ("fit", "loss", "test_error")


@pytest.mark.parametrize("format,magic", [("pdf", b"%PDF"), ("svg", b"<?xml")])
def test_a_run_writes_every_figure_in_the_chosen_format(debug_config, tmp_path, format, magic):
    run(debug_config(["task=fit", f"figures.format={format}"]), tmp_path)
    written = sorted(path.name for path in (tmp_path / "figures").iterdir())
    assert written == sorted(f"{stem}.{format}" for stem in FIT_FIGURES)
    for name in written:
        content = (tmp_path / "figures" / name).read_bytes()
        assert content.startswith(magic), name
        assert format != "svg" or b"<svg" in content[:1000]
    assert plots.current_settings() == plots.FigureSettings()  # the run's settings end with the run


def test_png_stays_the_default(compose_config):
    assert figures_config(compose_config([])) == figures_config(compose_config(["figures.format=png"]))
    assert plots.output_path("figures/fit.png").name == "fit.png"


def test_scale_multiplies_fonts_and_lines_also_of_text_added_after_figure():
    before = plt.rcParams["font.size"]
    fig, ax = plots.figure()
    base = (ax.xaxis.label.get_fontsize(), ax.plot([0, 1])[0].get_linewidth())
    plt.close(fig)
    with plots.figure_settings(scale=2.0):
        fig, ax = plots.figure()
        line, = ax.plot([0, 1], label="a line")
        legend = ax.legend()  # made after figure(), under the settings' rcParams
        assert ax.xaxis.label.get_fontsize() == pytest.approx(2 * base[0])
        assert line.get_linewidth() == pytest.approx(2 * base[1])
        assert legend.get_texts()[0].get_fontsize() == pytest.approx(2 * plots.STYLE["font.size"])
        plt.close(fig)
    assert plt.rcParams["font.size"] == before  # the rcParams return afterwards


def test_size_replaces_every_figures_own_size(tmp_path):
    with plots.figure_settings(size=(3.0, 2.0)):
        fig, _ = plots.figure(ncols=3, nrows=2, width=4.0, height=3.0)
        assert tuple(fig.get_size_inches()) == pytest.approx((3.0, 2.0))
        path = plots.save(fig, tmp_path / "panel.png")
    assert path == tmp_path / "panel.png" and path.read_bytes().startswith(b"\x89PNG")


def test_save_returns_the_path_it_wrote(tmp_path):
    fig, _ = plots.figure()
    path = plots.save(fig, tmp_path / "objective_vs_optimizer.lr.png", format="svg")
    assert path == tmp_path / "objective_vs_optimizer.lr.svg" and path.exists()
    assert plots.output_path(tmp_path / "objective_vs_optimizer.lr", "pdf").name == "objective_vs_optimizer.lr.pdf"
    with pytest.raises(ValueError, match="'format' parameter of save"):
        plots.output_path(tmp_path / "a.png", "jpg")


def test_the_style_file_is_reusable():
    assert plots.STYLE_PATH.name == "ml4phys.mplstyle" and plots.STYLE_PATH.exists()
    for style in ("ml4phys", "physics.app.ml4phys", plots.STYLE_PATH):
        with plt.style.context(style):
            assert plt.rcParams["axes.spines.top"] is False and plt.rcParams["pdf.fonttype"] == 42


@pytest.mark.parametrize("override,key,given", [
    ("figures.format=jpg", "figures.format", "Got 'jpg'"),
    ("figures.scale=0", "figures.scale", "Got 0.0"),
    ("figures.scale=-1", "figures.scale", "Got -1.0"),
    ("figures.size=[4]", "figures.size", "Got [4.0]"),
    ("figures.size=[4,-3]", "figures.size", "Got -3.0"),
    ("+figures.colour=red", "figures.colour", "colour"),
])
def test_bad_figure_settings_are_refused_naming_the_key(compose_config, override, key, given):
    with pytest.raises(ConfigError, match=f"'{key}'") as error:
        figures_config(compose_config([override]))
    assert given in str(error.value)


def test_the_command_line_refuses_a_bad_format_before_any_run_folder(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), f"hydra.run.dir={tmp_path}/run",
                             "figures.format=jpg"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Invalid config value for 'figures.format'" in result.stderr and "'png', 'pdf', 'svg'" in result.stderr
    assert not (tmp_path / "run").exists()
