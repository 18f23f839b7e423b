"""The README's commands are the ones CI runs, it stays short, and every relative link of the docs resolves.

CI (``.ci/run``) installs with ``python -m pip install --quiet -e ".[test]"`` and tests with ``python -m pytest``;
the README must show the same commands (output options such as ``--quiet`` aside), so that a newcomer runs exactly
what CI checks.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
CI = ROOT / ".ci" / "run"
DOCS = ROOT / "docs"
#: the README's length limit (the issue asks for ~250 lines)
MAX_README_LINES = 260
#: pip's output options, which change what is printed, not what is installed
OUTPUT_OPTIONS = {"--quiet", "-q", "-qq", "--verbose", "-v", "--progress-bar=off", "--no-color"}
#: the largest image the docs may commit
MAX_IMAGE_BYTES = 200_000


def normalise(command: str) -> tuple[str, ...]:
    """The words of a shell command without comments, redirections, pipes and pip's output options."""
    command = command.split(" | ")[0].split("2>&1")[0]
    words = shlex.split(command, comments=True)
    return tuple(word for word in words if word not in OUTPUT_OPTIONS)


def ci_commands() -> list[tuple[str, ...]]:
    """Every ``python -m pip install ...`` and ``python -m pytest ...`` line that .ci/run runs in its test
    environment (the plain ``python`` of the activated ``.venv-ci``; the wheel's own ``.venv-wheel/bin/python``
    lines install the app, not the tests)."""
    commands = []
    for line in CI.read_text().splitlines():
        line = line.strip()
        if line.startswith(("python -m pip install", "python -m pytest")):
            commands.append(normalise(line))
    return commands


def readme_commands() -> list[tuple[str, ...]]:
    """Every command line inside the README's fenced ``bash`` blocks, one per line and per ``&&``."""
    text = README.read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            for part in line.split("&&"):
                part = part.strip()
                if part and not part.startswith("#"):
                    commands.append(normalise(part))
    return commands


def test_ci_runs_an_install_and_a_test_command():
    commands = ci_commands()
    assert ("python", "-m", "pip", "install", "-e", ".[test]") in commands, commands
    assert ("python", "-m", "pytest") in commands, commands


def test_readme_shows_the_commands_ci_runs():
    readme = readme_commands()
    for command in ci_commands():
        if command[:4] == ("python", "-m", "pip", "install") and "--upgrade" in command:
            continue  # CI upgrades pip in its fresh environment first; not a step a reader needs
        assert command in readme, f"README.md does not show CI's command {' '.join(command)!r}"


def test_readme_is_short():
    n_lines = len(README.read_text().splitlines())
    assert n_lines <= MAX_README_LINES, f"README.md has {n_lines} lines (at most {MAX_README_LINES})"


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def relative_targets(path: Path) -> list[str]:
    """Targets of the links and images of a markdown file that point into the repository (no URL, no bare
    anchor), outside code blocks and inline code, without their ``#anchor``."""
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    targets = []
    for target in re.findall(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue
        targets.append(target.split("#")[0])
    return targets


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    missing = [target for target in relative_targets(path) if not (path.parent / target).exists()]
    assert not missing, f"{path.relative_to(ROOT)} links to files that do not exist: {missing}"


def test_the_link_checker_sees_links():
    # guards the test above against a regular expression that matches nothing
    targets = relative_targets(README)
    assert "docs/tasks/fit.md" in targets and "docs/images/fit.png" in targets, targets


def test_committed_images_are_small():
    large = {str(p.relative_to(ROOT)): p.stat().st_size for p in (DOCS / "images").glob("*")
             if p.stat().st_size > MAX_IMAGE_BYTES}
    assert not large, f"images over {MAX_IMAGE_BYTES} bytes: {large}"
