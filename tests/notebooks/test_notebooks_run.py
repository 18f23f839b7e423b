"""The lecture notebooks (notebooks/*.ipynb): stored clean, and each one runs top to bottom.

Each notebook is executed with nbclient in a fresh kernel, in an empty temporary working directory. The kernel is
this interpreter (``sys.executable``), described by a kernel spec written into a temporary folder that only this
test's kernel manager reads: so the notebooks see exactly the environment the tests run in (a fresh CI venv
needs no ``ipykernel install``), and a ``python3`` kernel spec in the user's own Jupyter folders, which may point
to another Python, is never used.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
KERNEL_NAME = "ml4phys-notebook-tests"

# The budget of one cell, in seconds. Every notebook runs in well under a minute on a laptop; a cell that takes
# longer than this has grown beyond what a lecture notebook should do, or hangs.
CELL_TIMEOUT = 300

# One BLAS thread per kernel: the notebooks' matrices are small, and on a loaded machine with few cores a
# multi-threaded BLAS waiting for descheduled partner threads made the same training up to 60x slower (measured
# on the 2-core CI machine: 43 s with the default threads, 0.7 s with one).
KERNEL_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def test_the_lecture_notebooks_are_there():
    # Named NN_topic.ipynb and numbered 01, 02, ... without gaps: the order of the lecture.
    numbers = [int(path.name[:2]) for path in NOTEBOOKS if re.match(r"\d\d_[a-z0-9_]+\.ipynb$", path.name)]
    assert len(numbers) == len(NOTEBOOKS) >= 8, [path.name for path in NOTEBOOKS]
    assert numbers == list(range(1, len(NOTEBOOKS) + 1))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code_cells, "a lecture notebook without code"
    for cell in code_cells:
        assert cell.outputs == [] and cell.execution_count is None, (
            f"{path.name}: a code cell was stored with outputs; clear them before committing "
            f"(e.g. jupyter nbconvert --clear-output --inplace {path.name})")
    first, last = nb.cells[0], nb.cells[-1]
    assert first.cell_type == "markdown" and first.source.startswith(f"# {int(path.name[:2])}. "), (
        "the first cell is the title, '# <number>. <topic>'")
    assert last.cell_type == "markdown" and last.source.startswith("## Exercises")
    n_exercises = len(re.findall(r"^\d+\. ", last.source, flags=re.MULTILINE))
    assert 3 <= n_exercises <= 5, f"{path.name} ends with {n_exercises} exercises (3 to 5 expected)"


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory) -> Path:
    """A folder holding one kernel spec: this interpreter running ipykernel, with one BLAS thread."""
    folder = tmp_path_factory.mktemp("kernels")
    spec = folder / KERNEL_NAME
    spec.mkdir()
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "ml4phys notebook tests",
        "language": "python",
        "env": KERNEL_ENV,
    }))
    return folder


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_top_to_bottom(path, kernel_dir, tmp_path):
    nb = nbformat.read(path, as_version=4)
    manager = AsyncKernelManager(kernel_name=KERNEL_NAME,
                                 kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernel_dir)]))
    client = NotebookClient(nb, km=manager, timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, naming the cell and the exception, if any cell fails
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code_cells)
    figures = sum("image/png" in output.get("data", {}) for cell in code_cells for output in cell.outputs)
    assert figures >= 1, f"{path.name} drew no figure"
    assert list(tmp_path.iterdir()) == [], "a notebook wrote files into its working directory"
