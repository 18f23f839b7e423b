"""Labelled Ising datasets over many temperatures, cached on disk one file per temperature.

Cache layout::

    <cache_dir>/ising/<lattice>_L<L>/T<temperature>_<hash>.npz

``<hash>`` is the first 20 hex digits of the SHA-256 of every parameter that affects the samples (L,
lattice, algorithm, samples per temperature, seed, the exact temperature, burn-in and thinning
overrides).  The file holds the spins bit-packed (``np.packbits``, 1 bit per spin), each sample's
energy and magnetisation, the run's settings, ``FORMAT_VERSION``, the full SHA-256 key (parameters
and format version) and a SHA-256 checksum of the data; it is read with ``allow_pickle=False``.

Writing is atomic: each finished temperature goes to a hidden temporary file in the same folder and
is renamed over the final name with ``os.replace``, so an interrupted run leaves only complete files.
A rerun loads the finished temperatures and generates the rest.  A file that is not a complete npz
archive, fails its checksum, has the wrong shape or key or another format version is reported with an
:class:`IsingCacheWarning` and regenerated.  A file this process may not read (another user's cache) is
never overwritten: :class:`IsingCacheError`, as for a cache folder that cannot be created or written,
which is checked before any Monte Carlo starts.

A temperature is checked, generated and written holding ``flock`` on ``<file>.lock`` beside its file,
so runs sharing a cache split the work (one another run is generating is waited for, then read).  An
interruption (Ctrl-C; SIGTERM via :func:`physics.app.signals.handle_termination`) kills the workers and
removes their temporary files; a SIGKILLed run's are removed by the next run writing to the folder.

Permissions, for a cache a group shares: files get ``0o664`` and folders this module creates ``0o2775`` (setgid,
so files keep the folder's group), both filtered by the umask, except that owner and group may always read (and
enter folders): umask 022 gives ``0o644`` / ``0o2755`` (the group reads), umask 002 ``0o664`` / ``0o2775`` (the
group also generates missing temperatures into the same folders), umask 077 ``0o640`` / ``0o2750``.  Existing
folders (the cache root itself) are left as they are; lock files get the files' mode.

Read-only use (a training job on a cache filled beforehand): ``read_only=True``, or every call inside
:func:`read_only_cache`, raises :class:`IsingCacheMissing` naming the missing size, temperatures and seed
instead of generating anything (a corrupt file is an error too), and never writes to the cache.

Joblib: the temperatures run under the active joblib backend (``joblib.parallel_config``: loky, threading,
dask); ``n_jobs=None`` takes the ``n_jobs`` of that configuration when it sets one.  Results never depend on it.

Random streams: temperature ``T`` is sampled with ``SeedSequence(seed, spawn_key=(bits of T,))``,
a child of ``SeedSequence(seed)`` as ``spawn`` would make, keyed by the temperature's float64 bits
instead of its position in the list.  So the samples of a temperature do not depend on ``n_jobs``,
on the order of the list or on which other temperatures are requested, and cache files are shared
between temperature grids.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import os
import stat
import time
import warnings
import zipfile
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from joblib import Parallel, cpu_count, delayed
from joblib.parallel import get_active_backend
from tqdm import tqdm

from core._atomic import atomic_path, file_lock, lock_path, remove_stale_temporaries, temporaries_of

from .lattice import check_lattice, check_size, check_temperatures, critical_temperature
from .sampling import ALGORITHMS, _check_int, sample_with_info
from .temperatures import temperature_grid

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: Swendsen–Wang from t = -0.10 and thinning by 4 (8) tau_int (issue 11): older files differ
#: 2: the numba Wolff kernel (same distribution, other samples for a seed); in the key of Wolff datasets only
WOLFF_KERNEL_VERSION = 2
CACHE_ENV_VAR = "ML4PHYS_CACHE_DIR"
FILE_MODE = 0o664  # cache files and lock files, before the umask (owner and group always read)
FOLDER_MODE = 0o2775  # folders the cache creates, before the umask (owner and group always read and enter)
_READ_ONLY: contextvars.ContextVar = contextvars.ContextVar("ising_cache_read_only", default=None)
_FIELDS = (
    "format_version", "key", "checksum", "shape", "spins_packed", "energy", "magnetization", "temperature",
    "algorithm", "burn_in", "thin", "tau_energy", "tau_abs_magnetization",
)  # fmt: skip


class IsingCacheWarning(UserWarning):
    """A cached dataset file was corrupt or stale and is being regenerated."""


class IsingCacheError(OSError):
    """The cache cannot be used: a file this process may not read, or a folder it cannot create or write."""


class IsingCacheMissing(IsingCacheError):
    """A read-only run (``read_only=True`` or :func:`read_only_cache`) found a temperature missing or corrupt."""


@contextmanager
def read_only_cache(hint: str = ""):
    """Make every :func:`generate_dataset` in the block read-only: a missing temperature raises
    :class:`IsingCacheMissing` (with ``hint`` appended, e.g. the command that generates it) instead of being
    generated.

    Parameters
    ----------
    hint : str
        Appended to the error message.
    """
    token = _READ_ONLY.set(hint)
    try:
        yield
    finally:
        _READ_ONLY.reset(token)


@dataclass(frozen=True)
class CacheReport:
    """What :func:`cache_dataset` did for one lattice size.

    Attributes
    ----------
    temperatures : int
        Temperatures requested.
    generated : int
        Temperatures this call simulated and wrote.
    read : int
        Temperatures found complete in the cache (before or after waiting for another run).
    """

    temperatures: int
    generated: int
    read: int


_FIX = (f"Use a cache folder of your own: data_dir=<folder> on the ml4phys command line, cache_dir=<folder> in "
        f"Python, or the environment variable {CACHE_ENV_VAR}.")


@dataclass(frozen=True)
class IsingDataset:
    """Ising configurations over several temperatures, with phase labels.

    Attributes
    ----------
    spins : ndarray of int8
        Shape (n, L, L); values +1 or -1, grouped by temperature in the order requested.
    temperature : ndarray of float64
        Shape (n,).  Temperature of each configuration (J/k_B).
    label : ndarray of int64
        Shape (n,).  1 = ordered (``T < T_c``), 0 = disordered.
    energy : ndarray of float64
        Shape (n,).  Energy per spin of each configuration (J).
    magnetization : ndarray of float64
        Shape (n,).  Signed magnetisation per spin of each configuration.
    temperatures : ndarray of float64
        Shape (n_T,).  The requested temperatures (J/k_B).
    critical_temperature : float
        Exact T_c of the infinite lattice used for the labels (J/k_B).
    L : int
        Linear lattice size.
    lattice : str
        "square" or "triangular".
    algorithm : tuple of str
        Length n_T.  Update used at each temperature.
    burn_in : ndarray of int64
        Shape (n_T,).  Sweeps of burn-in at each temperature.
    thin : ndarray of int64
        Shape (n_T,).  Sweeps between samples of a chain at each temperature.
    tau_energy : ndarray of float64
        Shape (n_T,).  Pilot tau_int of the energy (sweeps).
    tau_abs_magnetization : ndarray of float64
        Shape (n_T,).  Pilot tau_int of ``|m|`` (sweeps).
    """

    spins: np.ndarray
    temperature: np.ndarray
    label: np.ndarray
    energy: np.ndarray
    magnetization: np.ndarray
    temperatures: np.ndarray
    critical_temperature: float
    L: int
    lattice: str
    algorithm: tuple
    burn_in: np.ndarray
    thin: np.ndarray
    tau_energy: np.ndarray
    tau_abs_magnetization: np.ndarray

    def __len__(self) -> int:
        return self.spins.shape[0]


def default_temperatures(lattice: str = "square") -> np.ndarray:
    """The default temperature grid: 33 temperatures from 1.0 to 3.5 (square lattice), dense near T_c.

    Steps of 0.125 below 2.0 and above 2.5 (16 temperatures) and of 1/32 inside the critical window
    ``2.0 <= T <= 2.5`` (17 temperatures, T_c = 2.269 in between).  For the triangular lattice the
    grid is scaled by ``T_c(triangular) / T_c(square)``.

    Parameters
    ----------
    lattice : {"square", "triangular"}
        Lattice name.

    Returns
    -------
    temperatures : ndarray of float64
        Shape (33,), increasing, units of J/k_B.
    """
    grid = temperature_grid([1.0, 3.5], 0.125, dense_range=[2.0, 2.5], dense_step=1 / 32)
    return grid * (critical_temperature(lattice) / critical_temperature("square"))


def default_cache_dir() -> Path:
    """``$ML4PHYS_CACHE_DIR`` if set, else ``~/.cache/ml4phys``.

    Returns
    -------
    cache_dir : pathlib.Path
        The default cache folder (not created).
    """
    return Path(os.environ.get(CACHE_ENV_VAR) or Path.home() / ".cache" / "ml4phys")


def temperature_seed(seed: int, temperature: float) -> np.random.SeedSequence:
    """Independent stream for one temperature: child of ``SeedSequence(seed)`` keyed by T's float64 bits.

    Parameters
    ----------
    seed : int
        Root seed, >= 0.
    temperature : float
        Temperature (J/k_B); its float64 bit pattern keys the stream.

    Returns
    -------
    seed_sequence : numpy.random.SeedSequence
        The temperature's own stream.
    """
    bits = int(np.array(temperature, dtype=np.float64).view(np.uint64))
    return np.random.SeedSequence(seed, spawn_key=(bits,))


def _parameters(L, lattice, algorithm, n, seed, T, burn_in, thin) -> dict:
    params = {"L": L, "lattice": lattice, "algorithm": algorithm, "n_per_temperature": n, "seed": seed,
              "temperature": float(T).hex(), "burn_in": burn_in, "thin": thin}  # fmt: skip
    if algorithm == "wolff":  # the compiled Wolff kernel draws its random words differently: other samples
        params["wolff_kernel"] = WOLFF_KERNEL_VERSION
    return params


def _sha256(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def _checksum(packed: np.ndarray, energy: np.ndarray, magnetization: np.ndarray) -> str:
    digest = hashlib.sha256()
    for arr in (packed, energy, magnetization):
        digest.update(np.ascontiguousarray(arr).tobytes())
    return digest.hexdigest()


def cache_path(cache_dir, params: dict) -> Path:
    """File of one temperature's samples inside ``cache_dir`` (see the module docstring).

    Parameters
    ----------
    cache_dir : str or pathlib.Path
        Root cache folder.
    params : dict
        Run parameters of one temperature (``L``, ``lattice``, ``temperature`` as a float hex string, ...);
        their hash names the file.

    Returns
    -------
    path : pathlib.Path
        The ``.npz`` file (not created).
    """
    name = f"T{float.fromhex(params['temperature']):.6f}_{_sha256(params)[:20]}.npz"
    return Path(cache_dir) / "ising" / f"{params['lattice']}_L{params['L']}" / name


def _umask() -> int:
    """The process umask, read without changing it where Linux tells it (``os.umask`` sets it for every thread)."""
    with suppress(OSError, ValueError, StopIteration), open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)  # pragma: no cover - no /proc
    os.umask(mask)  # pragma: no cover
    return mask  # pragma: no cover


def cache_modes() -> tuple[int, int]:
    """The permission bits of cache files and of the folders the cache creates, under the current umask.

    Returns
    -------
    file_mode, folder_mode : int
        ``FILE_MODE`` and ``FOLDER_MODE`` filtered by the umask, owner and group read (and folder search)
        always kept (module docstring).
    """
    mask = _umask()
    return (FILE_MODE & ~mask) | 0o440, (FOLDER_MODE & ~mask) | 0o2750


def _set_mode(path: Path, mode: int) -> None:
    """chmod ``path`` to ``mode`` if it is ours and differs (another user's file is left alone)."""
    with suppress(OSError):
        info = path.stat()
        if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) != mode:
            os.chmod(path, mode)


def _make_folders(folder: Path) -> None:
    """Create ``folder`` and its missing parents with the cache's folder mode (existing ones are left alone)."""
    missing = []
    for parent in (folder, *folder.parents):
        if parent.exists():
            break
        missing.append(parent)
    _, folder_mode = cache_modes()
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:  # another run made it meanwhile
            continue
        _set_mode(path, folder_mode)


def _write_atomic(path: Path, arrays: dict) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, **arrays)
    _set_mode(path, cache_modes()[0])  # atomic_path gave 0o666 & ~umask: equal unless the umask hides the group


def _generate_temperature(params: dict, path, wait: bool = False):
    """Sample one temperature (in a worker) and, if ``path`` is given, cache it; return the record.

    With a cache file: under its lock, and only if no other run wrote the file meanwhile; ``None`` at once
    if another run holds the lock (is generating it).  ``wait=True`` waits for the lock instead.
    """
    if path is None:
        return _simulate(params)
    path = Path(path)
    with ExitStack() as stack:
        try:
            held = stack.enter_context(file_lock(path, wait=wait))
        except PermissionError as error:
            raise IsingCacheError(f"Cannot open the lock file {error.filename} of the Ising cache "
                                  f"({error.strerror}). {_FIX}") from None
        if not held:
            return None
        _set_mode(lock_path(path), cache_modes()[0])
        record, _ = _load_record(path, params)  # written by another run while we waited for the lock?
        if record is not None:
            return {**record, "generated": False}
        for stale in temporaries_of(path):  # left by a killed writer: under the lock, no one else writes
            stale.unlink(missing_ok=True)
        record = _simulate(params)
        _write_atomic(path, record)
        return {**record, "generated": True}


def _simulate(params: dict) -> dict:
    """Run the Monte Carlo of one temperature; return the record stored in its cache file."""
    T = float.fromhex(params["temperature"])
    result = sample_with_info(
        params["L"], T, params["n_per_temperature"], lattice=params["lattice"], algorithm=params["algorithm"],
        seed=np.random.default_rng(temperature_seed(params["seed"], T)), burn_in=params["burn_in"],
        thin=params["thin"],
    )  # fmt: skip
    n, L = result.spins.shape[0], params["L"]
    packed = np.packbits(result.spins.reshape(n, L * L) > 0, axis=1)  # (n, ceil(L*L / 8)) uint8
    record = {
        "format_version": np.int64(FORMAT_VERSION),
        "key": np.str_(_sha256({**params, "format_version": FORMAT_VERSION})),
        "checksum": np.str_(_checksum(packed, result.energy, result.magnetization)),
        "shape": np.array([n, L, L], np.int64),
        "spins_packed": packed,
        "energy": result.energy,
        "magnetization": result.magnetization,
        "temperature": np.float64(T),
        "algorithm": np.str_(result.algorithm),
        "burn_in": np.int64(result.burn_in),
        "thin": np.int64(result.thin),
        "tau_energy": np.float64(result.tau_energy),
        "tau_abs_magnetization": np.float64(result.tau_abs_magnetization),
    }
    return record


def _load_record(path: Path, params: dict):
    """``(record, None)`` for a valid cache file, ``(None, reason)`` otherwise (``reason`` None if absent).

    Raises :class:`IsingCacheError` for a file that exists but may not be read (never overwritten).
    """
    try:
        try:
            handle = open(path, "rb")
        except PermissionError:  # a writer under umask 077 between its rename and its chmod: once more
            time.sleep(0.2)
            handle = open(path, "rb")
    except (FileNotFoundError, NotADirectoryError):
        return None, None
    except PermissionError as error:
        raise IsingCacheError(
            f"Cannot read the Ising cache file {path} ({error.strerror}): it belongs to another user or its "
            f"permissions forbid reading it, and it is not overwritten. {_FIX}"
        ) from None
    except OSError as error:
        return None, f"unreadable ({type(error).__name__}: {error.strerror})"
    with handle:
        try:
            if not zipfile.is_zipfile(handle):  # garbage or cut short: numpy would talk about pickles
                return None, "not a complete npz archive (truncated, or not written by this program)"
            handle.seek(0)
            with np.load(handle, allow_pickle=False) as archive:
                record = {name: archive[name] for name in _FIELDS}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            return None, f"unreadable ({type(exc).__name__}: {exc})"
    n, L = params["n_per_temperature"], params["L"]
    if int(record["format_version"]) != FORMAT_VERSION:
        return None, f"format version {int(record['format_version'])}, expected {FORMAT_VERSION}"
    if str(record["key"]) != _sha256({**params, "format_version": FORMAT_VERSION}):
        return None, "written for other parameters (key mismatch)"
    packed = record["spins_packed"]
    if (record["shape"].tolist() != [n, L, L] or packed.dtype != np.uint8 or packed.shape != (n, -(-L * L // 8))
            or record["energy"].shape != (n,) or record["magnetization"].shape != (n,)):  # fmt: skip
        return None, "arrays of the wrong shape or type"
    if _checksum(packed, record["energy"], record["magnetization"]) != str(record["checksum"]):
        return None, "checksum mismatch"
    return record, None


def _unpack(record: dict, L: int) -> np.ndarray:
    n = record["spins_packed"].shape[0]
    bits = np.unpackbits(record["spins_packed"], axis=1, count=L * L)  # (n, L*L) of 0/1
    return (bits.astype(np.int8) * 2 - 1).reshape(n, L, L)


def generate_dataset(
    L, temperatures, n_per_temperature, *, seed=0, lattice="square", algorithm="auto", cache_dir=None,
    n_jobs=None, progress=True, burn_in=None, thin=None, read_only=False,
) -> IsingDataset:  # fmt: skip
    """Equilibrium configurations at several temperatures with ordered/disordered labels, cached.

    Parameters
    ----------
    L : int
        Linear lattice size, >= 2 (square) or >= 3 (triangular).
    temperatures : array_like of float
        Shape (n_T,).  Distinct temperatures in units of J/k_B, > 0.
    n_per_temperature : int
        Configurations per temperature, >= 1.
    seed : int
        Root seed, >= 0 (see the module docstring for the per-temperature streams).
    lattice : {"square", "triangular"}
        Lattice name.
    algorithm : {"auto", "metropolis", "swendsen_wang", "wolff"}
        Update algorithm, as in :func:`physics.ising.sample`.
    cache_dir : None or str or pathlib.Path or False
        None: :func:`default_cache_dir`; False: no cache; else the cache folder.
    n_jobs : int or None
        Joblib workers over temperatures; None: the ``n_jobs`` of the active ``joblib.parallel_config`` if it sets
        one, else all cores (at most one per missing temperature).  Results do not depend on it, nor on the
        joblib backend.
    progress : bool
        Whether to show a tqdm progress bar over temperatures.
    burn_in : int or None
        Burn-in override passed to :func:`physics.ising.sample`, >= 0.
    thin : int or None
        Thinning override passed to :func:`physics.ising.sample`, >= 1.
    read_only : bool
        Never generate nor write: a missing or corrupt temperature raises :class:`IsingCacheMissing` (also inside
        :func:`read_only_cache`).

    Returns
    -------
    dataset : IsingDataset
        Configurations of all temperatures with labels and run settings.

    Examples
    --------
    >>> data = generate_dataset(16, [1.5, 2.0, 3.0], 50, seed=1, cache_dir=False, progress=False, n_jobs=1)
    >>> data.spins.shape, data.label[:1]
    ((150, 16, 16), array([1]))

    Raises
    ------
    IsingCacheMissing
        Read-only and a temperature is not in the cache.
    IsingCacheError
        A cache file this process may not read, or a cache folder it cannot create or write.
    """
    records, temps, L, lattice, _ = _fill(L, temperatures, n_per_temperature, seed, lattice, algorithm, cache_dir,
                                          n_jobs, progress, burn_in, thin, read_only)
    return _assemble(records, temps, L, lattice)


def cache_dataset(
    L, temperatures, n_per_temperature, *, seed=0, lattice="square", algorithm="auto", cache_dir=None,
    n_jobs=None, progress=True, burn_in=None, thin=None,
) -> CacheReport:  # fmt: skip
    """Make sure the cache holds what :func:`generate_dataset` with the same arguments reads; say what it did.

    The data-only step of a cluster workflow (``ml4phys data``): same arguments, same files, same samples, but
    the configurations are not unpacked into a dataset.  Parameters as :func:`generate_dataset`; ``cache_dir``
    may not be False.

    Returns
    -------
    report : CacheReport
        How many temperatures were generated by this call and how many were read.
    """
    if cache_dir is False:
        raise ValueError("The 'cache_dir' parameter must name a cache (None, a str or a path). Got False instead.")
    records, temps, _, _, generated = _fill(L, temperatures, n_per_temperature, seed, lattice, algorithm, cache_dir,
                                            n_jobs, progress, burn_in, thin, False)
    return CacheReport(temperatures=temps.size, generated=generated, read=temps.size - generated)


def _workers(n_jobs, n_tasks: int) -> int:
    """Joblib workers: ``n_jobs``, else the active ``parallel_config``'s, else every core; at most ``n_tasks``."""
    if n_jobs is None:
        n_jobs = get_active_backend()[1]
    if n_jobs is None:
        return min(cpu_count(), n_tasks)
    return min(n_jobs, n_tasks) if n_jobs > 0 else n_jobs


def _fill(L, temperatures, n_per_temperature, seed, lattice, algorithm, cache_dir, n_jobs, progress, burn_in, thin,
          read_only):
    """Check the arguments; load the cached temperatures and generate the missing ones (or refuse, read-only).
    Returns (records, temperatures, L, lattice, number generated by this call)."""
    lattice = check_lattice(lattice)
    L = check_size(L, lattice)
    temps = check_temperatures(temperatures, name="temperatures")
    if temps.ndim != 1:
        raise ValueError(f"The 'temperatures' parameter must be 1-D. Got shape {temps.shape} instead.")
    if np.unique(temps).size != temps.size:
        raise ValueError(f"The 'temperatures' parameter must not repeat a temperature. Got {temps.tolist()} instead.")
    n = _check_int(n_per_temperature, "n_per_temperature", 1)
    seed = _check_int(seed, "seed", 0)
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        raise ValueError(f"The 'algorithm' parameter must be one of {ALGORITHMS}. Got {algorithm!r} instead.")
    burn_in, thin = _check_int(burn_in, "burn_in", 0, True), _check_int(thin, "thin", 1, True)
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0):
        raise ValueError(f"The 'n_jobs' parameter must be None or a non-zero int. Got {n_jobs!r} instead.")
    if cache_dir is not False and not (cache_dir is None or isinstance(cache_dir, (str, os.PathLike))):
        raise TypeError(f"The 'cache_dir' parameter must be None, False, a str or a path. Got {cache_dir!r} instead.")
    root = None if cache_dir is False else Path(default_cache_dir() if cache_dir is None else cache_dir)

    params = [_parameters(L, lattice, algorithm, n, seed, T, burn_in, thin) for T in temps]
    paths = [None if root is None else cache_path(root, p) for p in params]
    records: list = [None] * temps.size
    hint = _READ_ONLY.get()
    read_only = root is not None and (read_only or hint is not None)
    for i, path in enumerate(paths):
        if path is None:
            continue
        records[i], problem = _load_record(path, params[i])
        if problem is not None:
            action = "a read-only run cannot regenerate it" if read_only else "regenerating it"
            warnings.warn(f"Cache file {path} is {problem}; {action}.", IsingCacheWarning, stacklevel=3)
    missing = [i for i, rec in enumerate(records) if rec is None]
    if missing and read_only:
        absent = ", ".join(f"{temps[i]:.6g}" for i in missing)
        raise IsingCacheMissing(
            f"The Ising cache {root} lacks {len(missing)} of {temps.size} temperatures of L={L} {lattice} "
            f"(seed {seed}, {n} configurations per temperature, algorithm {algorithm}): T = {absent}, e.g. "
            f"{paths[missing[0]]}. This run only reads the cache and never generates. "
            f"{hint or 'Generate them first with the same arguments.'}"
        )
    logger.info(
        "Ising L=%d %s: %d of %d temperatures cached in %s", L, lattice, temps.size - len(missing), temps.size, root
    )
    if missing:
        folder = None if root is None else paths[0].parent  # one folder per lattice and L
        if folder is not None:
            _check_writable(folder)  # before any Monte Carlo
            remove_stale_temporaries(folder)
        workers = _workers(n_jobs, len(missing))
        with tqdm(total=temps.size, initial=temps.size - len(missing), disable=not progress,
                  desc=f"Ising L={L} {lattice}", unit="T") as bar:  # fmt: skip
            busy = _run(_generate_temperature, missing, params, paths, records, workers, bar, folder)
            if busy:  # being generated by another run: wait for it and read its files
                logger.info("Ising L=%d %s: waiting for another run generating %d temperatures", L, lattice, len(busy))
                _run(partial(_generate_temperature, wait=True), busy, params, paths, records, workers, bar, folder)
    generated = sum(bool(records[i].get("generated", True)) for i in missing)
    if missing:
        logger.info("Ising L=%d %s: generated %d temperatures, read %d written meanwhile by another run",
                    L, lattice, generated, len(missing) - generated)  # fmt: skip
    return records, temps, L, lattice, generated


def _check_writable(folder: Path) -> None:
    try:
        _make_folders(folder)
    except OSError as error:
        reason = error.strerror or error
        raise IsingCacheError(f"Cannot create the Ising cache folder {folder} ({reason}). {_FIX}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise IsingCacheError(f"The Ising cache folder {folder} is not writable, so the missing temperatures "
                              f"cannot be cached. {_FIX}")


def _run(func, indices, params, paths, records, workers, bar, folder) -> list:
    """``func(params[i], paths[i])`` for ``i`` in ``indices`` with joblib, into ``records``; return the indices
    for which it returned None (lock held by another run).  On any exception, Ctrl-C or SIGTERM included, the
    workers are killed and their temporary files removed before the exception goes on."""
    busy, outputs = [], None
    try:
        outputs = Parallel(n_jobs=workers, return_as="generator_unordered")(
            delayed(_indexed)(i, func, params[i], paths[i]) for i in indices
        )
        for i, record in outputs:
            if record is None:
                busy.append(i)
            else:
                records[i] = record
                bar.update(1)
    except BaseException:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # joblib's "tasks cancelled" note
            if outputs is not None:
                outputs.close()  # aborts joblib: kills its workers and waits for them (no-op if joblib raised)
        if folder is not None:
            with suppress(OSError):
                remove_stale_temporaries(folder)  # the killed workers' locks are free now
        raise
    return busy


def _indexed(i: int, func, *args):
    return i, func(*args)


def _assemble(records: list, temps: np.ndarray, L: int, lattice: str) -> IsingDataset:
    T_c = critical_temperature(lattice)
    counts = [rec["spins_packed"].shape[0] for rec in records]
    temperature = np.repeat(temps, counts)
    return IsingDataset(
        spins=np.concatenate([_unpack(rec, L) for rec in records]),
        temperature=temperature,
        label=(temperature < T_c).astype(np.int64),
        energy=np.concatenate([rec["energy"] for rec in records]),
        magnetization=np.concatenate([rec["magnetization"] for rec in records]),
        temperatures=temps.copy(),
        critical_temperature=T_c,
        L=L,
        lattice=lattice,
        algorithm=tuple(str(rec["algorithm"]) for rec in records),
        burn_in=np.array([int(rec["burn_in"]) for rec in records], np.int64),
        thin=np.array([int(rec["thin"]) for rec in records], np.int64),
        tau_energy=np.array([float(rec["tau_energy"]) for rec in records]),
        tau_abs_magnetization=np.array([float(rec["tau_abs_magnetization"]) for rec in records]),
    )
