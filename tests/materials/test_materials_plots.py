"""The materials figures accept class labels of any type."""
from __future__ import annotations

import numpy as np

from physics.materials.plots import confusion


def test_the_confusion_figure_takes_integer_labels(tmp_path):
    path = confusion(np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]), tmp_path / "confusion.png")
    assert path.is_file() and path.stat().st_size > 0
