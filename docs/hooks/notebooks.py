"""mkdocs hook: the lecture notebooks of ``notebooks/`` (at the repository root) become pages of the site.

The notebooks live beside the code, not in ``docs/``, so that they are run from the clone as they are. This hook
adds every ``notebooks/*.ipynb`` to the site as ``notebooks/<name>.ipynb`` (rendered by mkdocs-jupyter, never
executed: ``execute: false`` in ``mkdocs.yml``) and lists them, sorted by name, under "Lecture notebooks" in the
navigation, after ``notebooks/index.md`` when ``docs/notebooks/index.md`` exists. With no notebook the section
is left out and the build still passes.
"""
from __future__ import annotations

from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

SECTION = "Lecture notebooks"


def _notebooks(config) -> list[Path]:
    folder = Path(config["config_file_path"]).parent / "notebooks"
    return sorted(folder.glob("*.ipynb"))


def on_config(config):
    """Add the section of notebooks to the navigation (before the pages are collected)."""
    entries = []
    if (Path(config["docs_dir"]) / "notebooks" / "index.md").is_file():
        entries.append("notebooks/index.md")
    entries += [f"notebooks/{path.name}" for path in _notebooks(config)]
    nav = config.get("nav")
    if nav is not None and entries and not any(isinstance(item, dict) and SECTION in item for item in nav):
        position = next((i for i, item in enumerate(nav) if isinstance(item, dict) and "API reference" in item),
                        len(nav))
        nav.insert(position, {SECTION: entries})
    return config


@event_priority(100)  # before mkdocs-jupyter's on_files, which wraps every notebook it finds
def on_files(files, config):
    """Add ``notebooks/*.ipynb`` of the repository to the site's files (a file in ``docs/notebooks/`` wins)."""
    for path in _notebooks(config):
        uri = f"notebooks/{path.name}"
        if files.get_file_from_path(uri) is None:
            files.append(File(uri, src_dir=str(path.parent.parent), dest_dir=config["site_dir"],
                              use_directory_urls=config["use_directory_urls"]))
    return files
