"""core._atomic: whole files or none, ordinary permissions, errors that name the file, locks, no leftovers."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core import serialize
from core._atomic import atomic_path, file_lock, is_temporary, lock_path, remove_stale_temporaries, temporaries_of
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


@pytest.mark.parametrize("number, kind", [(errno.ENOSPC, OSError), (errno.EFBIG, OSError),
                                          (errno.EACCES, PermissionError)])
def test_write_error_without_a_file_name_names_the_target(tmp_path, number, kind):
    target = tmp_path / "weights.npz"
    with pytest.raises(kind) as raised:
        with atomic_path(target):
            raise OSError(number, os.strerror(number))  # what a full disk gives a writer: no file name
    assert raised.value.errno == number and raised.value.filename == str(target)
    assert str(target) in str(raised.value) and os.strerror(number) in str(raised.value)
    assert os.listdir(tmp_path) == []


def test_write_error_naming_another_file_passes_unchanged(tmp_path):
    with pytest.raises(FileNotFoundError) as raised:
        with atomic_path(tmp_path / "out.json"):
            open(tmp_path / "missing-input.txt")
    assert raised.value.filename == str(tmp_path / "missing-input.txt")


def test_file_size_limit_names_the_file(tmp_path):
    """ulimit -f: Python ignores SIGXFSZ, so the write fails (numpy: an OSError with no errno); it names the file."""
    target = tmp_path / "big.npy"
    script = (
        "import resource, sys, numpy as np\n"
        "from core._atomic import atomic_path\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "try:\n"
        "    with atomic_path(sys.argv[1]) as tmp:\n"
        "        np.save(tmp, np.zeros(100_000))\n"
        "except OSError as error:\n"
        "    print(error)\n"
    )
    run = subprocess.run([sys.executable, "-c", script, str(target)], capture_output=True, text=True,
                         cwd=Path(__file__).parents[2], timeout=60)
    assert run.returncode == 0, run.stderr
    assert "written" in run.stdout and str(target) in run.stdout  # numpy: "800000 requested and 3968 written"
    assert os.listdir(tmp_path) == []


def test_temporaries_are_recognised():
    assert is_temporary(".T2.200000_ab12.0123abcd.tmp.npz") and is_temporary("/x/.fig.89abcdef.tmp.png")
    assert not is_temporary("T2.200000_ab12.npz") and not is_temporary(".hidden.png")
    assert not is_temporary("fig.0123abcd.tmp.png")


def test_file_lock_excludes_a_second_holder(tmp_path):
    target = tmp_path / "data.npz"
    with file_lock(target) as held:
        assert held and lock_path(target).exists() and lock_path(target).name == "data.npz.lock"
        with file_lock(target, wait=False) as second:  # another open file: as another process would
            assert second is False
    with file_lock(target, wait=False) as again:
        assert again is True


def test_remove_stale_temporaries(tmp_path):
    locked_target, free_target = tmp_path / "a.npz", tmp_path / "b.npz"
    for target in (locked_target, free_target):
        lock_path(target).touch()
    stale = {name: tmp_path / name for name in
             (".a.00000000.tmp.npz", ".b.00000001.tmp.npz", ".c.00000002.tmp.png", ".d.00000003.tmp.png")}
    for path in stale.values():
        path.write_bytes(b"partial")
    os.utime(stale[".c.00000002.tmp.png"], (time.time() - 700, time.time() - 700))  # untouched for 700 s
    (tmp_path / "result.png").write_bytes(b"kept")
    assert temporaries_of(free_target) == [stale[".b.00000001.tmp.npz"]]
    with file_lock(locked_target):  # its writer is busy
        removed = remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == [".b.00000001.tmp.npz", ".c.00000002.tmp.png"]
    assert sorted(p.name for p in tmp_path.iterdir() if is_temporary(p)) == [".a.00000000.tmp.npz",
                                                                          ".d.00000003.tmp.png"]
    assert remove_stale_temporaries(tmp_path, idle=0) == [stale[".a.00000000.tmp.npz"], stale[".d.00000003.tmp.png"]]
    assert remove_stale_temporaries(tmp_path / "absent") == []


def test_encoding_error_names_the_file(tmp_path):
    target = tmp_path / "table.csv"
    with pytest.raises(UnicodeEncodeError, match=r"can't encode character .*while writing .*table\.csv"):
        with atomic_path(target) as temporary, open(temporary, "w", encoding="ascii") as handle:
            handle.write("T_c ≈ 2.269")
    assert os.listdir(tmp_path) == []
