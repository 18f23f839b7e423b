"""Experiment tracking (the ``logger`` group): every run's per-epoch curves, and with MLflow or TensorBoard its
config, final metrics and figures.

While a task runs (:func:`active_run`), every network built by :func:`physics.app.training.network_estimator` (and
the autoencoders of ``ising_autoencoder``) carries an :class:`EpochLog` callback, which writes one small CSV file
per ``fit`` into ``<run folder>/epochs/``. The callback holds only a folder name and a label, so it works the same
in a joblib worker process. When the run ends, :func:`log_run` gathers these files into one tidy
``<run folder>/epochs.csv`` (columns ``network, fit, epoch, metric, value``; ``fit`` numbers the fits of each
network 1, 2, ... in the order they started) and removes ``epochs/``; then, with

* ``logger=csv`` (the default): nothing more: ``epochs.csv``, ``metrics.json`` and ``figures/`` are the record;
* ``logger=mlflow``: one MLflow run (:func:`log_mlflow`) in the experiment named after the task, in a file store
  ``mlruns/`` of the run folder, or of the sweep folder for a sweep, so that a sweep is one experiment;
* ``logger=tensorboard``: TensorBoard event files in ``<run folder>/tensorboard/`` (:func:`log_tensorboard`).

A failed run (an exception in the task) is logged too, as a FAILED MLflow run. A tracker that cannot be written
(a tracking server that is down) is reported in the log and does not fail the run, whose results are on disk.
"""
from __future__ import annotations

import csv
import json
import logging
import math
import os
import re
import shutil
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Sequence
from urllib.parse import urlparse
from urllib.request import url2pathname

from core._atomic import file_lock
from core.callbacks import Callback, TrainingContext
from physics.app.io import flatten, write_csv

log = logging.getLogger(__name__)

__all__ = ["EpochLog", "Job", "active_run", "epoch_callbacks", "gather_epochs", "read_epochs", "hydra_job", "log_run",
           "log_mlflow", "log_tensorboard", "numeric_metrics", "config_params", "metric_key", "epoch_key",
           "resolve_tracking_uri"]

#: the folder of per-fit files in a run folder while the run is active, and the table they are gathered into
EPOCHS_DIR, EPOCHS_FILE = "epochs", "epochs.csv"
#: the columns of both
COLUMNS = ("network", "fit", "epoch", "metric", "value")
#: MLflow's limits (mlflow.utils.validation): characters of a param or metric key; of a param value (6000 in
#: MLflow 3, 500 in older servers: the lower one, so that any server takes it; the whole config is an artifact)
MAX_KEY_LENGTH, MAX_PARAM_LENGTH = 250, 500
#: entities of one ``log_batch`` request (MLflow's MAX_PARAMS_TAGS_PER_BATCH, MAX_METRICS_PER_BATCH)
PARAMS_PER_BATCH, METRICS_PER_BATCH = 100, 1000
#: what a key keeps: alphanumerics, _ - . / (MLflow also takes spaces, which TensorBoard turns into "_", and ":"
#: except on Windows)
_NOT_IN_KEY = re.compile(r"[^\w\-./]+")

_active_folder: str | None = None  # <run folder>/epochs of the run in progress in this process


@contextmanager
def active_run(run_dir: str | os.PathLike) -> Iterator[Path]:
    """Make ``run_dir`` the active run of this process for the block: networks built meanwhile log their epochs.

    A context manager yielding ``<run_dir>/epochs``, the folder of the per-fit files (emptied first: a killed
    run's files are not this run's). Outside the block (unit tests, notebooks) nothing is logged.

    Parameters
    ----------
    run_dir : str or path-like
        The run folder (exists).
    """
    global _active_folder
    folder = Path(run_dir) / EPOCHS_DIR
    if folder.is_dir():
        shutil.rmtree(folder)
    previous, _active_folder = _active_folder, str(folder)
    try:
        yield folder
    finally:
        _active_folder = previous


def epoch_callbacks(network: str) -> list[Callback]:
    """``[EpochLog(<active run>/epochs, network)]`` inside :func:`active_run`, else ``[]``.

    Parameters
    ----------
    network : str
        The network's label, e.g. "fit sin" (the progress bar's).

    Returns
    -------
    list of Callback
        To pass to an estimator's ``callbacks`` or to ``core.training.fit``.
    """
    return [] if _active_folder is None else [EpochLog(_active_folder, network)]


class EpochLog(Callback):
    """Append every epoch's logs ("loss", "val_loss", "learning_rate", metrics) to a CSV file of its own per fit.

    The file is ``<folder>/<start time in ns>-<fit id>.csv`` with the columns ``network, fit, epoch, metric,
    value`` (one row per log key), the fit id being 8 random hex digits drawn when training begins; one writer per
    file, so fits in several processes at once never share a file. :func:`gather_epochs` reads them back.

    Parameters
    ----------
    folder : str
        Where the files go (made when a fit begins).
    network : str
        The network's label, repeated in every row.

    Notes
    -----
    Holds only these two strings until a fit begins, so it pickles and deep-copies (the estimators copy their
    callbacks for every fit).
    """

    def __init__(self, folder: str, network: str) -> None:
        self.folder = str(folder)
        self.network = str(network)

    def on_train_begin(self, context: TrainingContext) -> None:
        folder = Path(self.folder)
        folder.mkdir(parents=True, exist_ok=True)
        self._fit = uuid.uuid4().hex[:8]
        self._path = folder / f"{time.time_ns()}-{self._fit}.csv"
        with open(self._path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow(COLUMNS)

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        with open(self._path, "a", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows((self.network, self._fit, epoch, key, repr(float(value)))
                                         for key, value in logs.items())


def gather_epochs(run_dir: str | os.PathLike) -> list[dict]:
    """Gather the per-fit files of ``<run_dir>/epochs/`` into ``<run_dir>/epochs.csv``; remove the folder.

    Without per-fit files, the rows of an existing ``epochs.csv`` are returned (a finished run logged again).

    Parameters
    ----------
    run_dir : str or path-like
        The run folder.

    Returns
    -------
    list of dict
        The rows of ``epochs.csv``: network (str), fit (int, 1, 2, ... per network in the order the fits began),
        epoch (int, 1-based), metric (str), value (float). Empty (and no file written) when no network logged.
    """
    folder = Path(run_dir) / EPOCHS_DIR
    files = sorted(folder.glob("*.csv"), key=lambda path: (int(path.stem.split("-")[0]), path.stem))
    if not files and (Path(run_dir) / EPOCHS_FILE).is_file():
        return read_epochs(Path(run_dir) / EPOCHS_FILE)
    rows, fits = [], {}
    for path in files:
        with open(path, newline="", encoding="utf-8") as handle:
            fit_rows = list(csv.DictReader(handle))
        if not fit_rows:
            continue
        network = fit_rows[0]["network"]
        fits[network] = fits.get(network, 0) + 1
        rows += [{"network": network, "fit": fits[network], "epoch": int(row["epoch"]), "metric": row["metric"],
                  "value": float(row["value"])} for row in fit_rows]
    if rows:
        write_csv(Path(run_dir) / EPOCHS_FILE, rows, COLUMNS)
    if folder.is_dir():
        shutil.rmtree(folder)
    return rows


def read_epochs(path: str | os.PathLike) -> list[dict]:
    """The rows of an ``epochs.csv`` (:func:`gather_epochs`), typed: fit and epoch int, value float.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    list of dict
        Keys ``network, fit, epoch, metric, value``.
    """
    with open(path, newline="", encoding="utf-8") as handle:
        return [{"network": row["network"], "fit": int(row["fit"]), "epoch": int(row["epoch"]),
                 "metric": row["metric"], "value": float(row["value"])} for row in csv.DictReader(handle)]


@dataclass(frozen=True)
class Job:
    """Who a run is, for a tracker.

    Parameters
    ----------
    name : str
        The tracker's name of the run: the overrides that set this job apart in a sweep (``seed=1``), the
        command line's overrides of a single run, or the run folder's name.
    number : int or None, default None
        The job's number in a sweep.
    sweep_dir : Path or None, default None
        The sweep's folder (absolute): where a default MLflow store is shared by every job of the sweep.
    """

    name: str
    number: int | None = None
    sweep_dir: Path | None = None


def hydra_job() -> Job | None:
    """The :class:`Job` of the Hydra job running in this process, or None outside Hydra."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return None
    hydra = HydraConfig.get()
    overrides = [o for o in hydra.overrides.task if not o.lstrip("+~").startswith(("hydra.", "hydra/"))]
    if hydra.mode != RunMode.MULTIRUN:
        return Job(name=",".join(overrides) or Path(hydra.runtime.output_dir).name)
    sweep_dir = Path(hydra.sweep.dir).resolve()
    own = [o for o in overrides if o not in _sweep_overrides(sweep_dir)] or overrides
    return Job(name=",".join(own) or f"job {hydra.job.num}", number=int(hydra.job.num), sweep_dir=sweep_dir)


def _sweep_overrides(sweep_dir: Path) -> set[str]:
    """The command line's overrides of a sweep (``seed=0,1`` as given), from Hydra's ``multirun.yaml``."""
    from omegaconf import OmegaConf

    path = sweep_dir / "multirun.yaml"
    if not path.is_file():
        return set()
    return set(OmegaConf.select(OmegaConf.load(path), "hydra.overrides.task", default=None) or ())


def log_run(settings, cfg, run_dir: str | os.PathLike, *, job: Job | None = None, metrics: Mapping | None = None,
            failed: bool = False) -> None:
    """Gather the run's epochs into ``epochs.csv`` and log the run to the chosen tracker.

    Parameters
    ----------
    settings : LoggerConfig
        The validated ``logger`` node.
    cfg : DictConfig or Mapping
        The run's composed config (logged as params, flattened, and as ``config.yaml``).
    run_dir : str or path-like
        The run folder (``metrics.json`` and ``figures/`` are read there).
    job : Job or None, default None
        Who the run is (None: a run outside Hydra, named after its folder).
    metrics : mapping or None, default None
        The run's final metrics (those of ``metrics.json``); their numeric entries are logged. None for a failed
        run.
    failed : bool, default False
        Whether the run failed (an MLflow run is then marked FAILED).
    """
    run_dir = Path(run_dir).resolve()
    try:
        rows = gather_epochs(run_dir)
        if settings.name == "csv":
            return
        job = job or Job(name=run_dir.name)
        config = _config_dict(cfg)
        numbers = numeric_metrics(metrics or {})
        if settings.name == "mlflow":
            log_mlflow(run_dir, config, rows, numbers, job=job, tracking_uri=settings.tracking_uri,
                       experiment=settings.experiment or str(config.get("task", {}).get("name", "ml4phys")),
                       failed=failed)
        elif settings.name == "tensorboard":
            log_tensorboard(run_dir, config, rows, numbers)
    except Exception:  # noqa: BLE001 -- a tracker's failure must not fail a finished run, nor hide why a run failed
        log.exception("logging the run to %s failed (its results are in %s)", settings.name, run_dir)


def _config_dict(cfg) -> dict:
    from omegaconf import DictConfig, OmegaConf

    config = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    config.pop("hydra", None)
    return config


def numeric_metrics(metrics: Mapping) -> dict[str, float]:
    """The numeric, finite entries of ``metrics`` (nested mappings flattened to dotted keys), as floats.

    Parameters
    ----------
    metrics : mapping
        E.g. the contents of ``metrics.json``.

    Returns
    -------
    dict of str to float
        Booleans, strings, lists, None and non-finite numbers left out.
    """
    numbers = {}
    for key, value in flatten(metrics).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            numbers[key] = float(value)
    return numbers


def config_params(config: Mapping) -> dict[str, str]:
    """The config as MLflow params: dotted keys (:func:`metric_key`), values as text (lists as JSON), values cut
    to ``MAX_PARAM_LENGTH`` characters.

    Parameters
    ----------
    config : mapping
        The resolved config, nested.

    Returns
    -------
    dict of str to str
    """
    params = {}
    for key, value in flatten(config).items():
        text = value if isinstance(value, str) else json.dumps(value)
        params.setdefault(metric_key(key), text[:MAX_PARAM_LENGTH])
    return params


def metric_key(name: str) -> str:
    """``name`` as a key MLflow accepts and TensorBoard shows unchanged: every run of other characters than
    alphanumerics, ``_ - . /`` becomes "_"; empty path parts are dropped, the leading dots of a part become one "_"
    (no "." or ".." parts); at most ``MAX_KEY_LENGTH`` characters.

    Parameters
    ----------
    name : str
        E.g. "Autoencoder, L = 8, replica 0/1/loss".

    Returns
    -------
    str
        E.g. "Autoencoder_L_8_replica_0/1/loss".
    """
    parts = _NOT_IN_KEY.sub("_", name)[:MAX_KEY_LENGTH].split("/")
    return "/".join("_" + part.lstrip(".") if part.startswith(".") else part for part in parts if part) or "_"


def epoch_key(row: Mapping) -> str:
    """The tracker's key of one row of ``epochs.csv``: ``<network>/<fit>/<metric>``, e.g. "fit_sin/1/val_loss" (a
    "/" in the network's label becomes "_": "dynamics network 1/2" -> "dynamics_network_1_2/1/loss"); a long label
    is cut, never the fit and metric."""
    suffix = f"/{row['fit']}/{metric_key(str(row['metric']))}"
    return metric_key(str(row["network"]).replace("/", "_"))[:MAX_KEY_LENGTH - len(suffix)] + suffix


def resolve_tracking_uri(setting: str | None, run_dir: Path, job: Job) -> str:
    """The MLflow tracking URI: ``setting`` when it is a URI (has a ":"); a folder given as ``setting`` as a
    ``file:`` URI; by default the file store ``mlruns/`` of the sweep folder (a sweep) or of the run folder."""
    if setting is None:
        return ((job.sweep_dir or run_dir) / "mlruns").resolve().as_uri()
    if ":" in setting:
        return setting
    return Path(setting).expanduser().resolve().as_uri()


@contextmanager
def _file_store_allowed(uri: str) -> Iterator[None]:
    """MLflow >= 3.7 refuses its file store unless MLFLOW_ALLOW_FILE_STORE is set: set it for the block."""
    if not uri.startswith("file:") or "MLFLOW_ALLOW_FILE_STORE" in os.environ:
        yield
        return
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        yield
    finally:
        os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)


def _experiment_id(client, name: str, uri: str, shared: bool) -> str:
    """The id of experiment ``name``, created if missing. In a ``shared`` file store (a sweep's, whose jobs may run
    at once) it is created under a lock, ``<store>.lock``; in other stores the loser of a race reads the winner's."""
    from mlflow.exceptions import MlflowException

    store = Path(url2pathname(urlparse(uri).path)) if uri.startswith("file:") and shared else None
    if store is not None:
        store.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(store) if store is not None else _nothing():
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            return experiment.experiment_id
        try:
            return client.create_experiment(name)
        except MlflowException:
            return client.get_experiment_by_name(name).experiment_id


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def log_mlflow(run_dir: Path, config: Mapping, rows: Sequence[Mapping], metrics: Mapping[str, float], *, job: Job,
               experiment: str, tracking_uri: str | None = None, failed: bool = False) -> str:
    """Log one run to MLflow; return its run id.

    Parameters
    ----------
    run_dir : Path
        The run folder: ``figures/``, ``metrics.json``, ``epochs.csv`` and ``.hydra/`` become artifacts.
    config : mapping
        The resolved config: params (:func:`config_params`) and the artifact ``config.yaml``.
    rows : sequence of mapping
        The rows of ``epochs.csv``: metric ``<network>/<fit>/<metric>`` at step ``epoch``.
    metrics : mapping of str to float
        The final metrics, logged at step 0 under their own names.
    job : Job
        The run's name (``job.name``), number (tag ``ml4phys.job``) and sweep folder (default store).
    experiment : str
        The experiment's name (created if missing).
    tracking_uri : str or None, default None
        The ``logger.tracking_uri`` setting (:func:`resolve_tracking_uri`).
    failed : bool, default False
        Mark the run FAILED instead of FINISHED.

    Returns
    -------
    str
        The MLflow run id.
    """
    import yaml
    from mlflow.entities import Metric, Param, RunStatus
    from mlflow.tracking import MlflowClient

    uri = resolve_tracking_uri(tracking_uri, run_dir, job)
    with _file_store_allowed(uri):
        client = MlflowClient(tracking_uri=uri)
        tags = {"ml4phys.run_dir": str(run_dir), "ml4phys.task": str(config.get("task", {}).get("name", ""))}
        if job.number is not None:
            tags["ml4phys.job"] = str(job.number)
        shared = tracking_uri is not None or job.sweep_dir is not None
        run_id = client.create_run(_experiment_id(client, experiment, uri, shared), run_name=job.name[:MAX_KEY_LENGTH],
                                   tags=tags).info.run_id
        params = [Param(key, value) for key, value in config_params(config).items()]
        for batch in _chunks(params, PARAMS_PER_BATCH):
            client.log_batch(run_id, params=batch)
        now = int(time.time() * 1000)
        values = [Metric(epoch_key(row), row["value"], now, row["epoch"]) for row in rows
                  if math.isfinite(row["value"])]
        values += [Metric(metric_key(key), value, now, 0) for key, value in metrics.items()]
        for batch in _chunks(values, METRICS_PER_BATCH):
            client.log_batch(run_id, metrics=batch)
        client.log_text(run_id, yaml.safe_dump(dict(config), sort_keys=False), "config.yaml")
        for name in ("metrics.json", EPOCHS_FILE):
            if (run_dir / name).is_file():
                client.log_artifact(run_id, str(run_dir / name))
        for folder, path in (("figures", "figures"), (".hydra", "hydra")):
            if (run_dir / folder).is_dir():
                client.log_artifacts(run_id, str(run_dir / folder), path)
        client.set_terminated(run_id, RunStatus.to_string(RunStatus.FAILED if failed else RunStatus.FINISHED))
    log.info("logged to MLflow: run %s (%s) of experiment %r in %s", run_id, job.name, experiment, uri)
    return run_id


def _summary_writer() -> type:
    """tensorboardX's SummaryWriter, imported without torch when torch is not loaded yet: tensorboardX imports it
    when it can (3-4 s) only to name torch.Tensor in its type hints, and we pass numpy arrays."""
    if "torch" in sys.modules or "tensorboardX.writer" in sys.modules:
        from tensorboardX import SummaryWriter

        return SummaryWriter
    sys.modules["torch"] = None  # `import torch` raises ImportError, which tensorboardX catches
    try:
        from tensorboardX import SummaryWriter
    finally:
        del sys.modules["torch"]
    return SummaryWriter


def log_tensorboard(run_dir: Path, config: Mapping, rows: Sequence[Mapping], metrics: Mapping[str, float]) -> Path:
    """Write TensorBoard event files into ``<run_dir>/tensorboard``; return that folder.

    Scalars ``<network>/<fit>/<metric>`` at step ``epoch`` (one per row of ``epochs.csv``) and ``final/<key>`` at
    step 0 (the final metrics); the text ``config`` (the config as YAML); the images ``figures/<name>`` (every PNG
    of ``figures/``; PDF and SVG figures are left out); hyper-parameters (the flattened config, with the final
    metrics as ``hparams/<key>``) in the sub-folder ``hparams``.

    Parameters
    ----------
    run_dir : Path
        The run folder.
    config : mapping
        The resolved config.
    rows : sequence of mapping
        The rows of ``epochs.csv``.
    metrics : mapping of str to float
        The final metrics.

    Returns
    -------
    Path
        ``<run_dir>/tensorboard``.
    """
    import yaml
    from matplotlib import image

    summary_writer = _summary_writer()
    folder = run_dir / "tensorboard"
    with summary_writer(logdir=str(folder)) as writer:
        text = yaml.safe_dump(dict(config), sort_keys=False)
        writer.add_text("config", "\n".join("    " + line for line in text.splitlines()))  # a Markdown code block
        for row in rows:
            writer.add_scalar(epoch_key(row), row["value"], row["epoch"])
        for key, value in metrics.items():
            writer.add_scalar(f"final/{metric_key(key)}", value, 0)
        figures = run_dir / "figures"
        for path in sorted(figures.rglob("*.png")) if figures.is_dir() else ():
            pixels = image.imread(path)
            writer.add_image(f"figures/{path.relative_to(figures).with_suffix('').as_posix()}", pixels, 0,
                             dataformats="HWC" if pixels.ndim == 3 else "HW")
        hparams = {key: value if isinstance(value, (bool, int, float)) else str(value)
                   for key, value in flatten(config).items()}
        writer.add_hparams(hparams, {f"hparams/{metric_key(key)}": value for key, value in metrics.items()},
                           name="hparams")
    return folder
