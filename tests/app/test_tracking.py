"""Experiment tracking (the ``logger`` group): every network's epochs in epochs.csv, and MLflow and TensorBoard read
back with their own readers (MLflow's client, TensorBoard's event accumulator)."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from core.sklearn import NetRegressor
from physics.app import tracking
from physics.app.config import validate
from physics.app.schema import ConfigError, LoggerConfig
from physics.app.training import network_estimator
from tests.conftest import ROOT

TINY = ["task=fit", "debug=tiny", "baseline=none"]
NETWORK = "fit gaussian_abs"  # the label of the fit task's network (its default target)


def _mlflow_client(store, monkeypatch):
    pytest.importorskip("mlflow", reason="logger=mlflow needs the tracking extra: pip install -e '.[tracking]'")
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 reads its file store only when allowed
    return MlflowClient(tracking_uri=store.as_uri())


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A tiny two-job sweep logged to MLflow, job 0 trained normally, job 1 failed: its folder."""
    pytest.importorskip("mlflow", reason="logger=mlflow needs the tracking extra: pip install -e '.[tracking]'")
    folder = tmp_path_factory.mktemp("tracking") / "sweep"
    # SGD at lr=1000 diverges in the first epoch; lr=0.05 trains normally
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), "-m", f"hydra.sweep.dir={folder}", *TINY,
                             "logger=mlflow", "optimizer=sgd", "optimizer.lr=0.05,1000"], cwd=folder.parent,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return folder


def _job_config(run_dir):
    from omegaconf import OmegaConf

    return OmegaConf.load(run_dir / ".hydra" / "config.yaml")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 3 epochs on purpose
def test_epoch_log_writes_every_epoch_of_every_fit_and_gather_numbers_the_fits(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 2)), rng.normal(size=40)
    histories = []
    for label in ("a", "b", "a"):
        network = NetRegressor(hidden_layer_sizes=(4,), max_epochs=3, random_state=0, early_stopping=True,
                               validation_fraction=0.25, patience=5,
                               callbacks=[tracking.EpochLog(str(tmp_path / "epochs"), label)])
        histories.append(network.fit(X, y).history_)
    rows = tracking.gather_epochs(tmp_path)
    assert not (tmp_path / "epochs").exists()
    assert rows == tracking.read_epochs(tmp_path / "epochs.csv")
    for (label, fit), history in zip([("a", 1), ("b", 1), ("a", 2)], histories):
        mine = [row for row in rows if (row["network"], row["fit"]) == (label, fit)]
        for metric in ("loss", "val_loss", "learning_rate"):
            # the same floats, written with repr and read back
            assert [row["value"] for row in mine if row["metric"] == metric] == getattr(history, metric)
        assert sorted({row["epoch"] for row in mine}) == history.epoch


def test_keys_are_valid_mlflow_keys_whatever_the_network_label():
    validation = pytest.importorskip("mlflow.utils.validation", reason="needs the tracking extra")
    labels = ["variational autoencoder, L = 8, replica 0", "dynamics network 1/2", "../x", "a" * 300, "ü:=,;"]
    keys = [tracking.epoch_key({"network": label, "fit": 1, "metric": "val_loss"}) for label in labels]
    for key in keys:
        validation._validate_metric_name(key)  # MLflow's own check of a metric name (raises MlflowException)
        assert key.endswith("/1/val_loss") and len(key) <= tracking.MAX_KEY_LENGTH  # a long label is cut
    assert len(set(keys)) == len(keys)


def test_networks_log_their_epochs_only_inside_a_run(debug_config, tmp_path):
    config = validate(debug_config(TINY))
    assert network_estimator(config, "regressor", (2,)).callbacks is None
    with tracking.active_run(tmp_path):
        callbacks = network_estimator(config, "regressor", (2,), description="net").callbacks
    assert [(type(c), c.folder, c.network) for c in callbacks] == [(tracking.EpochLog, str(tmp_path / "epochs"),
                                                                     "net")]
    assert tracking.epoch_callbacks("net") == []


def test_the_logger_is_csv_by_default_and_checked_before_any_work(debug_config, monkeypatch):
    assert validate(debug_config(TINY)).logger == LoggerConfig(name="csv")
    with pytest.raises(ConfigError, match=r"'logger'.*no option 'sql'. Allowed: csv, mlflow, tensorboard"):
        debug_config([*TINY, "logger=sql"])
    with pytest.raises(ConfigError, match=r"'logger.name': must be one of 'csv', 'mlflow', 'tensorboard'"):
        debug_config([*TINY, "logger.name=sql"])
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if it were not installed
    with pytest.raises(ConfigError, match=r"logger=mlflow needs the package mlflow.*pip install -e \"\.\[tracking\]"):
        debug_config([*TINY, "logger=mlflow"])


def test_every_network_epoch_is_in_epochs_csv(sweep):
    run_dir = sweep / "0"
    rows = tracking.read_epochs(run_dir / "epochs.csv")
    assert {(row["network"], row["fit"]) for row in rows} == {(NETWORK, 1)}  # the fit task trains one network
    with open(run_dir / "history.csv", newline="") as handle:
        history = list(csv.DictReader(handle))  # the task's own record of the same fit
    for metric in ("loss", "val_loss"):
        assert [row["value"] for row in rows if row["metric"] == metric] == [float(h[metric]) for h in history]
    assert not (run_dir / "epochs").exists()


def test_tensorboard_events_read_back(sweep, tmp_path):
    pytest.importorskip("tensorboardX", reason="logger=tensorboard needs the tracking extra: "
                                                "pip install -e '.[tracking]'")
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator",
                                            reason="reading the events back needs tensorboard (the test extra)")
    run_dir = tmp_path / "run"
    shutil.copytree(sweep / "0", run_dir, ignore=shutil.ignore_patterns("mlruns"))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    tracking.log_run(LoggerConfig(name="tensorboard"), _job_config(run_dir), run_dir, metrics=metrics)
    events = event_accumulator.EventAccumulator(str(run_dir / "tensorboard"), size_guidance={
        event_accumulator.SCALARS: 0, event_accumulator.IMAGES: 0, event_accumulator.TENSORS: 0})
    events.Reload()
    rows = tracking.read_epochs(run_dir / "epochs.csv")
    for metric in ("loss", "val_loss", "learning_rate"):
        scalars = events.Scalars(f"fit_gaussian_abs/1/{metric}")
        expected = [(row["epoch"], row["value"]) for row in rows if row["metric"] == metric]
        # TensorBoard stores scalars as float32
        assert [s.step for s in scalars] == [epoch for epoch, _ in expected]
        np.testing.assert_allclose([s.value for s in scalars], [value for _, value in expected], rtol=1e-6)
    assert events.Scalars("final/objective")[0].value == pytest.approx(metrics["objective"], rel=1e-6)
    figures = sorted(path.stem for path in (run_dir / "figures").glob("*.png"))
    assert figures and sorted(events.Tags()["images"]) == [f"figures/{name}" for name in figures]
    assert events.Images("figures/fit")[0].width > 100
    config = events.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "name: fit" in config and "lr: 0.05" in config


def test_a_single_run_has_its_own_mlflow_store(sweep, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    shutil.copytree(sweep / "0", run_dir)
    client = _mlflow_client(run_dir / "mlruns", monkeypatch)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    # a run outside a sweep, as runner.run logs it
    tracking.log_run(LoggerConfig(name="mlflow"), _job_config(run_dir), run_dir, metrics=metrics)
    (found,) = client.search_runs([client.get_experiment_by_name("fit").experiment_id])
    assert (found.info.run_name, found.info.status) == (run_dir.name, "FINISHED")
    assert found.data.params["optimizer.name"] == "sgd" and found.data.params["trainer.epochs"] == "3"
    assert found.data.metrics["objective"] == pytest.approx(metrics["objective"], rel=1e-12)
    rows = tracking.read_epochs(run_dir / "epochs.csv")
    history = client.get_metric_history(found.info.run_id, "fit_gaussian_abs/1/val_loss")
    assert [(m.step, m.value) for m in history] == [(row["epoch"], row["value"]) for row in rows
                                                   if row["metric"] == "val_loss"]
    artifacts = {a.path for a in client.list_artifacts(found.info.run_id)}
    assert {"config.yaml", "metrics.json", "epochs.csv", "figures"} <= artifacts
    assert "figures/fit.png" in {a.path for a in client.list_artifacts(found.info.run_id, "figures")}


def test_a_sweep_is_one_mlflow_experiment_with_one_run_per_job(sweep, monkeypatch):
    client = _mlflow_client(sweep / "mlruns", monkeypatch)
    experiment = client.get_experiment_by_name("fit")
    runs = {found.info.run_name: found for found in client.search_runs([experiment.experiment_id])}
    assert set(runs) == {"optimizer.lr=0.05", "optimizer.lr=1000"}
    ok, failed = runs["optimizer.lr=0.05"], runs["optimizer.lr=1000"]
    assert (ok.info.status, ok.data.tags["ml4phys.job"]) == ("FINISHED", "0")
    assert (failed.info.status, failed.data.tags["ml4phys.job"]) == ("FAILED", "1")
    metrics = json.loads((sweep / "0" / "metrics.json").read_text())
    assert ok.data.metrics["objective"] == pytest.approx(metrics["objective"], rel=1e-12)
    assert ok.data.params["optimizer.lr"] == "0.05" and failed.data.params["optimizer.lr"] == "1000.0"
    assert len(client.get_metric_history(ok.info.run_id, "fit_gaussian_abs/1/loss")) == 3  # debug=tiny: 3 epochs
    assert "figures/fit.png" in {a.path for a in client.list_artifacts(ok.info.run_id, "figures")}
    assert not list(sweep.glob("*/mlruns"))  # no store of its own in any job's folder
