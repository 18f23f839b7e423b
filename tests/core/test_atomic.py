"""core._atomic.atomic_path: whole files or none, ordinary permissions, no temporary files left behind."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from core import serialize
from core._atomic import atomic_path
from core.models import mlp

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes and umask are POSIX")


@pytest.fixture
def umask():
    """Set the process umask for one test, then restore it."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield lambda mask: os.umask(mask)
    os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_file_gets_the_umask_mode(tmp_path, umask, mask, expected):
    umask(mask)
    target = tmp_path / "result.json"
    with atomic_path(target) as temporary:
        assert temporary.parent == tmp_path and temporary.name.startswith(".") and temporary.suffix == ".json"
        assert temporary.exists() and not target.exists()
        temporary.write_text("{}")
        os.chmod(temporary, 0o600)  # what tempfile.mkstemp would have made it: must not survive
    assert target.read_text() == "{}" and mode(target) == expected
    assert os.listdir(tmp_path) == ["result.json"]


def test_failure_leaves_no_temporary_file_and_keeps_the_old_content(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="interrupted"):
        with atomic_path(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["table.csv"]


def test_parent_folders_are_created_and_writers_keyed_on_the_suffix_work(tmp_path):
    target = tmp_path / "a" / "b" / "array.npy"
    with atomic_path(target) as temporary:
        np.save(temporary, np.arange(3))  # np.save appends ".npy" unless the name ends with it
    np.testing.assert_array_equal(np.load(target), np.arange(3))
    assert os.listdir(target.parent) == ["array.npy"]


def test_serialize_writes_through_atomic_path(tmp_path, umask):
    umask(0o022)
    weights, architecture = serialize.save(mlp((3,), 2).build((4,), 0), tmp_path / "net")
    assert mode(weights) == mode(architecture) == 0o644
    assert sorted(os.listdir(tmp_path)) == ["net.json", "net.npz"]
