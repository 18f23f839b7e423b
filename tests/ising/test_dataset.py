"""generate_dataset: content, labels, cache (resume, corruption, versions), independence of n_jobs."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from core._atomic import file_lock, is_temporary, lock_path, remove_stale_temporaries
from physics.ising import dataset as ds
from physics.ising.dataset import FORMAT_VERSION, IsingCacheWarning, generate_dataset
from physics.ising.lattice import critical_temperature

TEMPS = [1.5, 2.2, 2.4, 3.2]
KW = {"seed": 3, "progress": False, "n_jobs": 1}


def npz_files(root):
    return sorted(Path(root).rglob("*.npz"))


@pytest.fixture
def count_generations(monkeypatch):
    """Counts calls of the per-temperature generator (n_jobs=1 runs it in this process)."""
    calls = []
    original = ds._generate_temperature

    def counted(params, path):
        calls.append(float.fromhex(params["temperature"]))
        return original(params, path)

    monkeypatch.setattr(ds, "_generate_temperature", counted)
    return calls


def test_content_and_labels(tmp_path):
    data = generate_dataset(8, TEMPS, 20, cache_dir=tmp_path, **KW)
    assert len(data) == 80 and data.spins.shape == (80, 8, 8) and data.spins.dtype == np.int8
    assert set(np.unique(data.spins)) <= {-1, 1}
    np.testing.assert_array_equal(data.temperature, np.repeat(TEMPS, 20))
    np.testing.assert_array_equal(data.label, (data.temperature < critical_temperature()).astype(int))
    assert data.critical_temperature == critical_temperature() and data.L == 8 and data.lattice == "square"
    # per-sample observables belong to the stored configurations
    from physics.ising.lattice import energy_per_spin, magnetization_per_spin

    np.testing.assert_allclose(data.energy, energy_per_spin(data.spins))
    np.testing.assert_allclose(data.magnetization, magnetization_per_spin(data.spins))
    assert data.thin.shape == (4,) and np.all(data.thin >= 1) and len(data.algorithm) == 4
    assert data.energy[:20].mean() < data.energy[-20:].mean()  # colder is lower in energy


def test_cache_is_reused(tmp_path, count_generations):
    first = generate_dataset(8, TEMPS, 10, cache_dir=tmp_path, **KW)
    assert len(count_generations) == 4 and len(npz_files(tmp_path)) == 4
    second = generate_dataset(8, TEMPS, 10, cache_dir=tmp_path, **KW)
    assert len(count_generations) == 4  # nothing regenerated
    np.testing.assert_array_equal(first.spins, second.spins)
    assert not list(Path(tmp_path).rglob("*.tmp"))


def test_temperature_streams_do_not_depend_on_the_list(tmp_path, count_generations):
    """A temperature's samples depend on (seed, T) only: shared between grids, order irrelevant."""
    both = generate_dataset(8, [2.0, 3.0], 10, cache_dir=False, **KW)
    alone = generate_dataset(8, [3.0], 10, cache_dir=False, **KW)
    np.testing.assert_array_equal(both.spins[10:], alone.spins)
    generate_dataset(8, [2.0, 3.0], 10, cache_dir=tmp_path, **KW)
    n_calls = len(count_generations)
    reordered = generate_dataset(8, [3.0, 2.0, 2.5], 10, cache_dir=tmp_path, **KW)
    assert count_generations[n_calls:] == [2.5]  # only the new temperature is generated
    np.testing.assert_array_equal(reordered.spins[:10], alone.spins)


def test_interrupted_generation_resumes(tmp_path, monkeypatch):
    original = ds._generate_temperature
    calls = []

    def dies_on_third(params, path):
        calls.append(params["temperature"])
        if len(calls) == 3:
            raise KeyboardInterrupt("simulated kill")
        return original(params, path)

    monkeypatch.setattr(ds, "_generate_temperature", dies_on_third)
    with pytest.raises(KeyboardInterrupt):
        generate_dataset(8, TEMPS, 10, cache_dir=tmp_path, **KW)
    assert len(npz_files(tmp_path)) == 2 and not list(Path(tmp_path).rglob("*.tmp"))

    calls.clear()
    monkeypatch.setattr(ds, "_generate_temperature", lambda p, path: calls.append(p["temperature"]) or original(p, path))
    resumed = generate_dataset(8, TEMPS, 10, cache_dir=tmp_path, **KW)
    assert len(calls) == 2  # the two finished temperatures were not recomputed
    fresh = generate_dataset(8, TEMPS, 10, cache_dir=False, **KW)
    np.testing.assert_array_equal(resumed.spins, fresh.spins)


def test_killed_process_leaves_a_usable_cache(tmp_path):
    """SIGKILL a real generation mid-way: finished temperatures are complete files, the rest is redone."""
    temps = [float(t) for t in np.linspace(1.0, 3.5, 12)]
    script = (
        "from physics.ising.dataset import generate_dataset\n"
        f"generate_dataset(24, {temps!r}, 400, seed=5, cache_dir={str(tmp_path)!r}, n_jobs=1, progress=False,"
        " algorithm='metropolis', burn_in=200, thin=5)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).parents[2])
    deadline = time.monotonic() + 120
    while len(npz_files(tmp_path)) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(npz_files(tmp_path))
    assert 2 <= done < len(temps), "the kill must land mid-way for this test to mean anything"
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        resumed = generate_dataset(24, temps, 400, seed=5, cache_dir=tmp_path, n_jobs=1, progress=False,
                                   algorithm="metropolis", burn_in=200, thin=5)  # fmt: skip
    assert not [w for w in record if issubclass(w.category, IsingCacheWarning)]  # every file present is complete
    assert resumed.spins.shape == (12 * 400, 24, 24)


@pytest.mark.parametrize("damage", ["truncate", "flip_bytes", "garbage"])
def test_corrupted_file_is_detected_and_regenerated(tmp_path, damage):
    original = generate_dataset(8, TEMPS, 10, cache_dir=tmp_path, **KW)
    victim = npz_files(tmp_path)[1]
    raw = victim.read_bytes()
    if damage == "truncate":
        victim.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip_bytes":  # inside the stored arrays: caught by the zip CRC or the checksum
        middle = len(raw) // 2
        victim.write_bytes(raw[:middle] + bytes(b ^ 0xFF for b in raw[middle : middle + 16]) + raw[middle + 16 :])
    else:
        victim.write_bytes(b"not a zip file at all")
    with pytest.warns(IsingCacheWarning, match="regenerating"):
        again = generate_dataset(8, TEMPS, 10, cache_dir=tmp_path, **KW)
    np.testing.assert_array_equal(again.spins, original.spins)
    generate_dataset(8, TEMPS, 10, cache_dir=tmp_path, **KW)  # repaired: no warning now (errors would raise)


def rewrite(path, **changes):
    with np.load(path, allow_pickle=False) as archive:
        record = {name: archive[name] for name in archive.files}
    record.update(changes)
    np.savez(path, **record)


@pytest.mark.parametrize(
    "change,message",
    [
        ({"format_version": np.int64(FORMAT_VERSION - 1)}, "format version"),
        ({"key": np.str_("0" * 64)}, "key mismatch"),
        ({"energy": np.zeros(10)}, "checksum"),
        ({"shape": np.array([10, 8, 9])}, "wrong shape"),
    ],
)
def test_stale_or_tampered_file_is_regenerated(tmp_path, change, message):
    original = generate_dataset(8, TEMPS, 10, cache_dir=tmp_path, **KW)
    rewrite(npz_files(tmp_path)[0], **change)
    with pytest.warns(IsingCacheWarning, match=message):
        again = generate_dataset(8, TEMPS, 10, cache_dir=tmp_path, **KW)
    np.testing.assert_array_equal(again.spins, original.spins)


def test_file_missing_a_field_is_regenerated(tmp_path):
    generate_dataset(8, TEMPS, 10, cache_dir=tmp_path, **KW)
    path = npz_files(tmp_path)[0]
    with np.load(path, allow_pickle=False) as archive:
        record = {name: archive[name] for name in archive.files if name != "checksum"}
    np.savez(path, **record)
    with pytest.warns(IsingCacheWarning, match="unreadable"):
        generate_dataset(8, TEMPS, 10, cache_dir=tmp_path, **KW)


def test_result_does_not_depend_on_n_jobs():
    serial = generate_dataset(8, TEMPS, 10, seed=9, cache_dir=False, n_jobs=1, progress=False)
    parallel = generate_dataset(8, TEMPS, 10, seed=9, cache_dir=False, n_jobs=2, progress=False)
    np.testing.assert_array_equal(serial.spins, parallel.spins)
    np.testing.assert_array_equal(serial.temperature, parallel.temperature)


def test_default_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(ds.CACHE_ENV_VAR, str(tmp_path / "here"))
    assert ds.default_cache_dir() == tmp_path / "here"
    generate_dataset(8, [2.0], 4, **KW)
    assert len(npz_files(tmp_path / "here")) == 1
    monkeypatch.delenv(ds.CACHE_ENV_VAR)
    assert ds.default_cache_dir() == Path.home() / ".cache" / "ml4phys"


def test_cache_files_are_compact(tmp_path):
    generate_dataset(32, [3.0], 100, cache_dir=tmp_path, **KW)
    (path,) = npz_files(tmp_path)
    assert os.path.getsize(path) < 100 * 32 * 32 / 8 + 8000  # 1 bit per spin plus small metadata


@pytest.mark.parametrize(
    "kwargs,name,exc",
    [
        ({"L": 1}, "L", ValueError), ({"temperatures": [2.0, -1.0]}, "temperatures", ValueError),
        ({"temperatures": [2.0, 2.0]}, "temperatures", ValueError), ({"temperatures": []}, "temperatures", ValueError),
        ({"temperatures": [[2.0]]}, "temperatures", ValueError), ({"n_per_temperature": 0}, "n_per_temperature", ValueError),
        ({"seed": -1}, "seed", ValueError), ({"n_jobs": 0}, "n_jobs", ValueError),
        ({"lattice": "kagome"}, "lattice", ValueError), ({"algorithm": "heatbath"}, "algorithm", ValueError),
        ({"cache_dir": 3}, "cache_dir", TypeError), ({"thin": 0}, "thin", ValueError),
    ],
)  # fmt: skip
def test_bad_input(kwargs, name, exc):
    args = {"L": 8, "temperatures": [2.0], "n_per_temperature": 4, **kwargs}
    with pytest.raises(exc, match=f"'{name}'"):
        generate_dataset(args.pop("L"), args.pop("temperatures"), args.pop("n_per_temperature"), progress=False,
                         cache_dir=False, **args)  # fmt: skip


# --- concurrency, foreign files, unwritable folders, leftovers of killed runs (issue 16) ---------------------

SHARED = dict(seed=1, n_jobs=1, progress=False, algorithm="metropolis", burn_in=1000, thin=20)
SHARED_TEMPS = [1.5, 2.0, 2.5, 3.0, 3.5, 4.0]


def test_concurrent_runs_share_the_work(tmp_path):
    """Two identical runs on one empty cache: every temperature is simulated once, both get the same data."""
    cache, go = tmp_path / "cache", tmp_path / "go"
    script = (
        "import logging, os, sys, time\n"
        "import numpy as np\n"
        "from physics.ising import dataset as ds\n"
        "logging.basicConfig(level=logging.INFO, stream=sys.stdout, format='%(message)s')\n"
        "simulate = ds._simulate\n"
        "def counted(params):\n"
        f"    with open({str(tmp_path / 'simulations.log')!r}, 'a') as log:\n"
        "        log.write(params['temperature'] + '\\n')\n"
        "    return simulate(params)\n"
        "ds._simulate = counted\n"
        "open(sys.argv[1] + '.ready', 'w').close()\n"
        f"while not os.path.exists({str(go)!r}):\n"
        "    time.sleep(0.005)\n"
        f"data = ds.generate_dataset(16, {SHARED_TEMPS!r}, 600, cache_dir={str(cache)!r}, **{SHARED!r})\n"
        "np.save(sys.argv[1], data.spins)\n"
    )
    outputs = [tmp_path / f"run{k}.npy" for k in range(2)]
    procs = [subprocess.Popen([sys.executable, "-c", script, str(out)], cwd=Path(__file__).parents[2],
                              stdout=subprocess.PIPE, text=True) for out in outputs]  # fmt: skip
    deadline = time.monotonic() + 120
    while not all(Path(f"{out}.ready").exists() for out in outputs) and time.monotonic() < deadline:
        time.sleep(0.01)  # both have imported and wait for the start
    go.touch()
    logs = [proc.communicate(timeout=300)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], logs
    simulated = (tmp_path / "simulations.log").read_text().split()
    assert sorted(float.fromhex(t) for t in simulated) == SHARED_TEMPS  # each temperature once, in all
    counts = [re.search(r"generated (\d+) temperatures, read (\d+)", log).groups() for log in logs]
    assert sum(int(g) for g, _ in counts) == len(SHARED_TEMPS) and all(int(g) + int(r) == 6 for g, r in counts)
    assert all(int(g) >= 1 for g, _ in counts), f"the runs did not share the work: {counts}"
    np.testing.assert_array_equal(np.load(outputs[0]), np.load(outputs[1]))
    alone = generate_dataset(16, SHARED_TEMPS, 600, cache_dir=False, **SHARED)
    np.testing.assert_array_equal(np.load(outputs[0]), alone.spins)
    assert not [p for p in cache.rglob("*") if is_temporary(p)]


def test_a_temperature_another_run_generates_is_waited_for_and_read(tmp_path, monkeypatch):
    """Its lock is busy: the run does the other temperatures first, then waits for the lock and reads the file."""
    reference = generate_dataset(8, TEMPS, 10, cache_dir=False, **KW)
    params = ds._parameters(8, "square", "auto", 10, 3, 2.4, None, None)
    path = ds.cache_path(tmp_path, params)
    path.parent.mkdir(parents=True)
    locked, done, original = threading.Event(), [], ds._simulate

    def other_run():
        with file_lock(path):
            locked.set()
            while len(npz_files(tmp_path)) < 3:  # the waiting run has done the other three
                time.sleep(0.01)
            time.sleep(0.2)
            ds._write_atomic(path, original(params))
            done.append(time.monotonic())

    thread = threading.Thread(target=other_run)
    thread.start()
    locked.wait(10)
    simulated = []
    monkeypatch.setattr(ds, "_simulate", lambda p: simulated.append(float.fromhex(p["temperature"])) or original(p))
    data = generate_dataset(8, TEMPS, 10, cache_dir=tmp_path, **KW)
    thread.join(10)
    assert done and sorted(simulated) == [1.5, 2.2, 3.2]  # 2.4 came from the other run's file
    np.testing.assert_array_equal(data.spins, reference.spins)


def test_unreadable_cache_file_is_an_error_and_not_overwritten(tmp_path, monkeypatch):
    """Another user's file (mode 0600): simulated by open() raising PermissionError, as root reads anything."""
    generate_dataset(8, TEMPS, 10, cache_dir=tmp_path, **KW)
    victim = npz_files(tmp_path)[2]
    before = victim.stat()

    def no_permission(file, *args, **kwargs):
        if Path(file) == victim:
            raise PermissionError(13, "Permission denied", str(file))
        return open(file, *args, **kwargs)

    monkeypatch.setattr(ds, "open", no_permission, raising=False)
    monkeypatch.setattr(ds, "_simulate", lambda params: pytest.fail("no Monte Carlo may start"))
    with pytest.raises(ds.IsingCacheError, match=r"Cannot read the Ising cache file .*T2\.4.*Permission denied.*"
                                                 r"not overwritten.*data_dir=.*ML4PHYS_CACHE_DIR"):
        generate_dataset(8, TEMPS, 10, cache_dir=tmp_path, **KW)
    after = victim.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


@pytest.mark.filterwarnings("error::UserWarning")
def test_unwritable_cache_folder_is_reported_before_any_monte_carlo(tmp_path, monkeypatch):
    monkeypatch.setattr(ds, "_simulate", lambda params: pytest.fail("no Monte Carlo may start"))
    regular = tmp_path / "a_file"
    regular.write_text("")
    with pytest.raises(ds.IsingCacheError, match=r"Cannot create the Ising cache folder .*a_file/sub.*data_dir="):
        generate_dataset(8, TEMPS, 10, cache_dir=regular / "sub", **KW)
    # a read-only folder (root writes anyway, so os.access is told so)
    monkeypatch.setattr(ds.os, "access", lambda path, mode, **kw: False)
    with pytest.raises(ds.IsingCacheError, match=r"folder .*square_L8 is not writable.*ML4PHYS_CACHE_DIR"):
        generate_dataset(8, TEMPS, 10, cache_dir=tmp_path / "readonly", **KW)


def test_complete_cache_in_a_read_only_folder_is_read(tmp_path, monkeypatch):
    first = generate_dataset(8, TEMPS, 10, cache_dir=tmp_path, **KW)
    monkeypatch.setattr(ds.os, "access", lambda path, mode, **kw: False)
    np.testing.assert_array_equal(generate_dataset(8, TEMPS, 10, cache_dir=tmp_path, **KW).spins, first.spins)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_damaged_file_warning_names_it_without_pickle_advice(tmp_path, damage):
    generate_dataset(8, TEMPS, 10, cache_dir=tmp_path, **KW)
    victim = npz_files(tmp_path)[0]
    raw = victim.read_bytes()
    victim.write_bytes({"truncate": raw[: len(raw) // 2], "garbage": b"\x80\x04garbage", "empty": b""}[damage])
    with pytest.warns(IsingCacheWarning) as record:
        generate_dataset(8, TEMPS, 10, cache_dir=tmp_path, **KW)
    (message,) = [str(w.message) for w in record if issubclass(w.category, IsingCacheWarning)]
    assert str(victim) in message and "not a complete npz archive" in message and "pickle" not in message


def test_leftovers_of_a_killed_run_are_removed_when_their_lock_is_free(tmp_path):
    """SIGKILL cannot be handled: the next run writing into the folder removes what the killed one left."""
    generate_dataset(8, TEMPS[:2], 10, cache_dir=tmp_path, **KW)
    folder = npz_files(tmp_path)[0].parent
    params = [ds._parameters(8, "square", "auto", 10, 3, T, None, None) for T in (2.2, 2.4)]
    free, busy = (ds.cache_path(tmp_path, p) for p in params)
    for target in (free, busy):
        lock_path(target).touch()
        (folder / f".{target.stem}.0123abcd.tmp.npz").write_bytes(b"half")
    old_style = folder / ".T9.000000_0000.89abcdef.tmp.npz"  # no lock file: judged by its age
    old_style.write_bytes(b"half")
    os.utime(old_style, (time.time() - 3600, time.time() - 3600))
    with file_lock(busy):  # another run is writing `busy`
        removed = remove_stale_temporaries(folder)
        assert sorted(removed) == sorted([folder / f".{free.stem}.0123abcd.tmp.npz", old_style])
        assert [p.name for p in folder.iterdir() if is_temporary(p)] == [f".{busy.stem}.0123abcd.tmp.npz"]
    generate_dataset(8, TEMPS, 10, cache_dir=tmp_path, **KW)  # takes busy's lock and clears its leftover
    assert not [p for p in folder.iterdir() if is_temporary(p)]
