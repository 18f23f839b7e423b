"""``ml4phys predict run=<run folder | task> input=<file>``: a tiny run of each supported task, the command on new inputs
compared with the run's own predictions (materials) or with the saved networks applied directly (fit, dynamics),
and every bad argument refused in one line with exit status 1 and nothing written."""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from core.serialize import load
from physics.app.config import validate
from physics.app.predict import PredictError, latest_run, main, predict
from physics.app.runner import run
from physics.tasks.dynamics.data import Target, windows
from physics.tasks.dynamics.task import load_data
from physics.tasks.ising.data import load_dataset, replica_seed
from tests.conftest import ROOT


def _read(path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _write(path, columns, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def _save_run(cfg, run_dir, train=True):
    """A run folder as the command line leaves it: Hydra's .hydra/config.yaml, then the run itself."""
    (run_dir / ".hydra").mkdir(parents=True)
    OmegaConf.save(cfg, run_dir / ".hydra" / "config.yaml")
    if train:
        run(cfg, run_dir)
    return run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Tiny runs of materials (2-network ensemble, the last fold's network saved), fit (sine), dynamics in
    forecast (2 seeds) and hidden mode (the bath, 1 seed), ising (extremes protocol, two replicas)."""
    from physics.app.config import compose, register_configs

    register_configs()
    root = tmp_path_factory.mktemp("predict_runs")
    cache = root / "cache"
    settings = {"materials": ["task=materials", "task.refit=false", "task.ensemble_size=2", "baseline=none"],
                "fit": ["task=fit", "task.target=sine", "baseline=none"],
                "forecast": ["task=dynamics", "task.n_seeds=2", f"data_dir={cache}", "baseline=none"],
                "hidden": ["task=dynamics", "task.system=bath", f"data_dir={cache}", "baseline=none"],
                "ising": ["task=ising", "task.n_replicas=2", f"data_dir={cache}", "task.binder.enabled=false",
                          "task.pca.enabled=false", "baseline=none"]}
    return {name: _save_run(compose(["debug=tiny", *overrides]), root / name) for name, overrides in settings.items()}


def test_materials_reproduces_the_runs_out_of_fold_predictions(runs, tmp_path):
    # refit=false saves the last fold's network, so on that fold's test rows the saved model is exactly the model
    # whose out-of-fold predictions the run wrote (predicted_network of oof_predictions.csv)
    oof = _read(runs["materials"] / "oof_predictions.csv")
    last_fold = [row for row in oof if int(row["fold"]) == max(int(r["fold"]) for r in oof)]
    path = _write(tmp_path / "alloys.csv", ["composition", "note"], [[row["composition"], "x"] for row in last_fold])
    out = _read(predict(runs["materials"], path))
    assert [row["formula"] for row in out] == [row["composition"] for row in last_fold]
    # same float32 networks and float64 preprocessing; CSV floats round-trip exactly (repr): 1e-9 leaves room
    # only for a different BLAS summation order, never for a different model
    np.testing.assert_allclose([float(row["prediction"]) for row in out],
                               [float(row["predicted_network"]) for row in last_fold], rtol=1e-9)
    spread = np.array([float(row["uncertainty"]) for row in out])
    assert np.all(np.isfinite(spread)) and np.all(spread >= 0) and spread.max() > 0  # two networks differ
    assert {row["outside_domain"] for row in out} <= {"True", "False"}
    assert list(out[0]) == ["formula", "prediction", "uncertainty", "outside_domain", "domain_note",
                            "descriptor_distance"]


def test_fit_equals_the_saved_network_and_flags_points_outside_the_training_range(runs, tmp_path):
    x = np.array([-1.0, -0.3, 0.0, 0.7, 1.0, 1.5, -2.0])
    path = _write(tmp_path / "points.csv", ["x0"], [[v] for v in x])
    out = _read(predict(runs["fit"], path, tmp_path / "out.csv"))
    network = load(runs["fit"] / "model")
    expected = network.predict(x[:, None].astype(network.dtype)).astype(np.float64)[:, 0]
    np.testing.assert_array_equal([float(row["prediction"]) for row in out], expected)  # the same computation
    assert [row["outside_domain"] == "True" for row in out] == list(np.abs(x) > 1)
    assert "uncertainty" not in out[0]


def _physical_test_series(run_dir, mode):
    """The run's first test trajectory as the models saw it, in the features' own units; the config and data."""
    config = validate(OmegaConf.load(run_dir / ".hydra" / "config.yaml"))
    system = config.task.build_system()
    data = load_data(config, system, config.task.resolved_dt(system), mode)
    return config, system, data, data.scaler.inverse(data.tests_seen[0])


def test_dynamics_forecast_is_the_mean_of_the_saved_seeds_with_their_spread(runs, tmp_path):
    config, system, data, series = _physical_test_series(runs["forecast"], "forecast")
    names = list(system.feature_names)
    out = _read(predict(runs["forecast"], _write(tmp_path / "series.csv", names, series.tolist())))
    W = config.task.window
    z = data.tests_seen[0]
    target = Target.fit(config.task.target, data.trains_seen)
    direct = []
    for i in range(2):
        network = load(runs["forecast"] / "models" / f"network_seed{i}")
        y = network.predict(windows(z, W).reshape(-1, W, len(names)).astype(network.dtype)).astype(np.float64)
        direct.append(data.scaler.inverse(target.decode(z[W - 1:], y)))
    assert [int(row["row"]) for row in out] == list(range(W - 1, len(z)))
    # float64 arithmetic on the same float32 outputs, in another order (standardised and back): 1e-9 relative
    for j, name in enumerate(names):
        np.testing.assert_allclose([float(row[f"next_{name}"]) for row in out], np.mean(direct, axis=0)[:, j],
                                   rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose([float(row[f"uncertainty_{name}"]) for row in out],
                                   np.std(direct, axis=0, ddof=1)[:, j], rtol=1e-9, atol=1e-12)
    assert {row["outside_domain"] for row in out} <= {"True", "False"}


def test_dynamics_hidden_coordinate_equals_the_saved_network(runs, tmp_path):
    config, system, data, series = _physical_test_series(runs["hidden"], "hidden")
    observed = list(system.observed)
    names = [system.feature_names[i] for i in observed]
    out = _read(predict(runs["hidden"], _write(tmp_path / "series.csv", names, series[:, observed].tolist())))
    W = config.task.window
    network = load(runs["hidden"] / "models" / "network_seed0")
    X = windows(data.tests_seen[0][:, observed], W)
    y = network.predict(X.reshape(-1, W, len(names)).astype(network.dtype)).astype(np.float64)
    # float64 arithmetic on the same float32 outputs; the inputs went to physical units and back: 1e-9 relative
    np.testing.assert_allclose([float(row["prediction"]) for row in out], data.hidden_scaler.inverse(y)[:, 0],
                               rtol=1e-9, atol=1e-12)
    assert "uncertainty" not in out[0]  # one seed


def test_ising_reproduces_the_runs_mean_probability_per_temperature(runs, tmp_path):
    # per_temperature.csv holds, per temperature, the mean over replicas of each replica's network's mean
    # P(ordered) over that replica's own scan configurations, which load_dataset gives again (the replica's seed,
    # cached in data_dir): predict's p_ordered_replica<r> column on replica r's data reproduces it
    config = validate(OmegaConf.load(runs["ising"] / ".hydra" / "config.yaml"))
    T = config.task.grid()
    written = _read(runs["ising"] / "per_temperature.csv")
    for L in config.task.sizes:  # L > network_L: blocked down by majority rule, as in the run
        means = []
        for r in range(config.task.n_replicas):
            data = load_dataset(config, L, T, config.task.n_per_temperature, replica_seed(config.seed, r))
            np.save(tmp_path / f"L{L}_{r}.npy", data.spins)
            out = _read(predict(runs["ising"], tmp_path / f"L{L}_{r}.npy"))
            p = np.array([float(row[f"p_ordered_replica{r}"]) for row in out])
            groups = np.searchsorted(T, data.temperature)
            means.append(np.bincount(groups, weights=p, minlength=T.size) / np.bincount(groups, minlength=T.size))
        # the same float32 networks on the same blocked spins; only the order of the mean's sums may differ
        np.testing.assert_allclose(np.mean(means, axis=0), [float(row[f"network_L{L}_p_ordered"]) for row in written],
                                   rtol=1e-12)
    members = np.array([[float(row[f"p_ordered_replica{r}"]) for r in range(2)] for row in out])
    np.testing.assert_allclose([float(row["p_ordered"]) for row in out], members.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose([float(row["uncertainty"]) for row in out], members.std(axis=1, ddof=1), rtol=1e-12)
    assert max(float(row["uncertainty"]) for row in out) > 0  # two independently trained networks differ
    assert [row["label"] == "ordered" for row in out] == [float(row["p_ordered"]) > 0.5 for row in out]
    assert list(out[0])[:4] == ["row", "p_ordered", "uncertainty", "label"]


def test_run_may_name_a_task_its_latest_finished_run_is_used(runs, tmp_path, monkeypatch):
    older, newer = tmp_path / "outputs" / "fit" / "2026-01-01" / "a", tmp_path / "outputs" / "fit" / "2026-01-02" / "b"
    for folder in (older, newer):
        shutil.copytree(runs["fit"], folder)
    os.utime(older / "metrics.json", ns=(1, 1))  # "a" finished long before "b"
    (tmp_path / "outputs" / "fit" / "crashed").mkdir()  # no metrics.json: never a candidate
    monkeypatch.chdir(tmp_path)
    assert latest_run("fit") == Path("outputs/fit/2026-01-02/b")
    points = _write(tmp_path / "points.csv", ["x0"], [[0.5]])
    assert _read(predict("fit", points)) == _read(predict(newer, points, tmp_path / "direct.csv"))
    with pytest.raises(PredictError, match="no finished run of task=materials"):
        predict("materials", points)


def _refused(argv, capsys, argument):
    with pytest.raises(SystemExit) as info:
        main(argv)
    error = capsys.readouterr().err
    assert info.value.code == 1
    assert error.count("\n") == 1 and error.startswith(f"Error: {argument}:"), error
    return error


def test_bad_arguments_exit_1_in_one_line_naming_the_argument(runs, tmp_path, capsys, debug_config):
    good = _write(tmp_path / "points.csv", ["x0"], [[0.5]])
    _refused(["run=/nonexistent", f"input={good}"], capsys, "run")
    _refused([f"input={good}"], capsys, "run")
    _refused([f"run={runs['fit']}", f"input={good}", "epochs=3"], capsys, "epochs")
    _refused([f"run={runs['fit']}", f"input={tmp_path / 'absent.csv'}"], capsys, "input")
    _refused([f"run={runs['fit']}", f"input={good}", f"output={tmp_path / 'no' / 'out.csv'}"], capsys, "output")
    _refused([f"run={runs['fit']}", f"input={_write(tmp_path / 'y.csv', ['y'], [[1]])}"], capsys, "input")
    _refused([f"run={runs['fit']}", f"input={_write(tmp_path / 'nan.csv', ['x0'], [['a']])}"], capsys, "input")
    _refused([f"run={runs['materials']}", f"input={good}"], capsys, "input")  # no composition column
    _refused([f"run={runs['forecast']}", f"input={_write(tmp_path / 's.csv', ['x', 'y', 'z'], [[0, 0, 0]])}"],
             capsys, "input")  # fewer rows than a window
    np.save(tmp_path / "flat.npy", np.ones((3, 16)))
    _refused([f"run={runs['ising']}", f"input={tmp_path / 'flat.npy'}"], capsys, "input")  # not (n, L, L)
    np.save(tmp_path / "zeros.npy", np.zeros((3, 8, 8)))
    _refused([f"run={runs['ising']}", f"input={tmp_path / 'zeros.npy'}"], capsys, "input")  # not +-1
    np.save(tmp_path / "L6.npy", np.ones((3, 6, 6)))
    _refused([f"run={runs['ising']}", f"input={tmp_path / 'L6.npy'}"], capsys, "input")  # cannot block 6 to 4
    _refused([f"run={runs['ising']}", f"input={good}"], capsys, "input")  # a CSV, not .npy
    stripped = tmp_path / "forecast_without_standardisation"
    shutil.copytree(runs["forecast"], stripped)
    (stripped / "models" / "standardisation.json").unlink()
    series = _write(tmp_path / "xyz.csv", ["x", "y", "z"], [[1.0, 2.0, 3.0]] * 20)
    assert "standardisation.json" in _refused([f"run={stripped}", f"input={series}"], capsys, "run")
    generative = _save_run(debug_config(["task=ising_generative"]), tmp_path / "generative", train=False)
    (generative / "metrics.json").write_text("{}")
    message = _refused([f"run={generative}", f"input={good}"], capsys, "run")
    assert "task=dynamics, fit, ising, materials" in message
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith("_predictions.csv")) == []


def test_the_command_line_routes_predict_and_prints_its_usage(runs, tmp_path):
    path = _write(tmp_path / "points.csv", ["x0"], [[0.25]])
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "predict", f"run={runs['fit']}", f"input={path}"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert _read(tmp_path / "points_predictions.csv")[0]["x0"] == "0.25"
    failed = subprocess.run([sys.executable, str(ROOT / "run.py"), "predict", f"run={tmp_path}", f"input={path}"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert failed.stderr.startswith("Error: run:") and failed.stderr.count("\n") == 1
    usage = subprocess.run([sys.executable, str(ROOT / "run.py"), "predict", "--help"], capture_output=True, text=True)
    assert usage.returncode == 0 and "usage: ml4phys predict run=<run folder | task> input=<file>" in usage.stdout
