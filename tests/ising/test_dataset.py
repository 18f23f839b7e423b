"""generate_dataset: content, labels, cache (resume, corruption, versions), independence of n_jobs."""

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

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
