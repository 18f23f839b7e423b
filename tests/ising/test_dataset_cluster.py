"""generate_dataset on a cluster: joblib backends, a group-readable cache, read-only use, cache_dataset's report."""

import os
import stat
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from joblib import cpu_count, parallel_config

from core._atomic import lock_path
from physics.ising import dataset as ds
from physics.ising.dataset import (IsingCacheMissing, cache_dataset, cache_modes, generate_dataset,
                                   read_only_cache)

TEMPS = [1.5, 2.3, 3.0]
KW = {"seed": 7, "progress": False}
FIELDS = ("spins", "temperature", "energy", "magnetization", "burn_in", "thin", "tau_energy")


@contextmanager
def umask(mask):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path):
    return stat.S_IMODE(Path(path).stat().st_mode)


def test_loky_and_threading_give_the_data_of_one_process_bit_for_bit():
    reference = generate_dataset(4, TEMPS, 6, cache_dir=False, n_jobs=1, **KW)
    for backend in ("loky", "threading"):
        with parallel_config(backend=backend, n_jobs=2):
            data = generate_dataset(4, TEMPS, 6, cache_dir=False, **KW)
        for name in FIELDS:
            assert np.array_equal(getattr(data, name), getattr(reference, name)), (backend, name)


def test_dask_gives_the_same_data():
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed (the dask extra)")
    reference = generate_dataset(4, TEMPS, 6, cache_dir=False, n_jobs=1, **KW)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None), \
            parallel_config(backend="dask"):
        data = generate_dataset(4, TEMPS, 6, cache_dir=False, n_jobs=2, **KW)
    for name in FIELDS:
        assert np.array_equal(getattr(data, name), getattr(reference, name)), name


def test_workers_come_from_the_argument_then_the_joblib_config_then_the_cores():
    assert ds._workers(None, 50) == min(cpu_count(), 50)
    with parallel_config(backend="threading", n_jobs=3):
        assert ds._workers(None, 50) == 3
        assert ds._workers(None, 2) == 2  # never more workers than temperatures
        assert ds._workers(5, 50) == 5
    assert ds._workers(-1, 50) == -1  # joblib style, left to joblib


@pytest.mark.parametrize("mask,file_mode,folder_mode", [
    (0o022, 0o644, 0o2755),  # the group reads
    (0o002, 0o664, 0o2775),  # the group also writes: it may add temperatures to the shared cache
    (0o077, 0o640, 0o2750),  # owner and group always read, whatever the umask
])
def test_files_and_folders_are_group_readable_under_any_umask(tmp_path, mask, file_mode, folder_mode):
    root = tmp_path / "shared" / "cache"  # created by the cache, so given its folder mode
    before = mode(tmp_path)
    with umask(mask):
        assert cache_modes() == (file_mode, folder_mode)
        generate_dataset(4, TEMPS[:1], 3, cache_dir=root, n_jobs=1, **KW)
    (npz,) = root.rglob("*.npz")
    assert mode(npz) == file_mode and mode(lock_path(npz)) == file_mode
    # setgid is kept only where the folder's group is one of ours (always in a fresh tmp folder)
    for folder in (root.parent, root, root / "ising", npz.parent):
        assert mode(folder) == folder_mode, folder
    assert mode(tmp_path) == before  # an existing folder is left alone


def test_read_only_names_what_is_missing_and_writes_nothing(tmp_path):
    root = tmp_path / "cache"
    with pytest.raises(IsingCacheMissing, match=r"lacks 3 of 3 temperatures of L=4 square \(seed 7, 5 "
                                                r"configurations.*T = 1.5, 2.3, 3"):
        generate_dataset(4, TEMPS, 5, cache_dir=root, read_only=True, n_jobs=1, **KW)
    assert not root.exists()
    generate_dataset(4, TEMPS[:2], 5, cache_dir=root, n_jobs=1, **KW)
    files = {path: path.stat().st_mtime_ns for path in root.rglob("*")}
    with read_only_cache("Run `make data` first."), \
            pytest.raises(IsingCacheMissing, match=r"lacks 1 of 3 .*T = 3\b.*Run `make data` first\."):
        generate_dataset(4, TEMPS, 5, cache_dir=root, n_jobs=1, **KW)
    with read_only_cache():
        data = generate_dataset(4, TEMPS[:2], 5, cache_dir=root, n_jobs=1, **KW)
    assert data.spins.shape == (10, 4, 4)
    assert {path: path.stat().st_mtime_ns for path in root.rglob("*")} == files  # nothing written, no lock taken


def test_cache_dataset_reports_what_it_generated_and_fills_what_generate_dataset_reads(tmp_path):
    first = cache_dataset(4, TEMPS, 5, cache_dir=tmp_path, n_jobs=1, **KW)
    assert (first.temperatures, first.generated, first.read) == (3, 3, 0)
    again = cache_dataset(4, TEMPS, 5, cache_dir=tmp_path, n_jobs=1, **KW)
    assert (again.generated, again.read) == (0, 3)
    cached = generate_dataset(4, TEMPS, 5, cache_dir=tmp_path, read_only=True, **KW)
    fresh = generate_dataset(4, TEMPS, 5, cache_dir=False, n_jobs=1, **KW)
    assert np.array_equal(cached.spins, fresh.spins)
    with pytest.raises(ValueError, match="'cache_dir' parameter must name a cache"):
        cache_dataset(4, TEMPS, 5, cache_dir=False, **KW)
