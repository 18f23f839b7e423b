"""Every script of ``examples/`` runs as a user runs it (its own process, another working directory), exits 0,
prints its result line, and the result says the method worked (better than the trivial answer it prints beside
it). The examples are seeded, so these comparisons are deterministic; their margins are wide."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"
NUMBER = r"(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)"


def _floats(pattern: str, text: str) -> list[float]:
    match = re.search(pattern, text)
    assert match, f"no line matching {pattern!r} in:\n{text}"
    return [float(group) for group in match.groups()]


def _mlp(out):  # the network beats predicting the mean (the target's variance)
    mse, variance = _floats(rf"test MSE: {NUMBER} \(variance of the target: {NUMBER}", out)
    assert mse < variance / 10


def _cnn(out):  # chance is 0.5 on the stratified test set
    assert _floats(rf"test accuracy: {NUMBER}", out)[0] > 0.75


def _engine(out):  # each Monte Carlo mean within 5 standard errors of the exact value (seeded run)
    deviations = [float(z) for z in re.findall(r"\(([-+]\d+\.\d) σ\)", out)]
    assert len(deviations) == 6 and max(map(abs, deviations)) < 5


def _critical(out):  # the synthetic curves were made with T_c = 2.269185
    assert abs(_floats(rf"T_c\(inf\) = {NUMBER} ±", out)[0] - 2.269185) < 0.01


def _materials(out):
    mean = _floats(rf"mean of the training set: MAE {NUMBER}", out)[0]
    assert _floats(rf"kernel ridge \(RBF\): MAE {NUMBER}", out)[0] < mean


def _rbm(out):  # training raises the exact log-likelihood towards its bound -ln 14
    before, after = _floats(rf"per pattern: {NUMBER} nats before training, {NUMBER} nats after", out)
    assert before < after <= -2.639 + 1e-3


def _lstm(out):
    lstm, persistence = _floats(rf"valid prediction time: LSTM {NUMBER} Lyapunov times, persistence {NUMBER}", out)
    assert lstm > persistence


CHECKS = {"01_core_mlp.py": _mlp, "02_core_cnn_ising.py": _cnn, "03_ising_engine.py": _engine,
          "04_critical_point.py": _critical, "05_materials.py": _materials, "06_rbm.py": _rbm,
          "07_lstm_forecast.py": _lstm}


def test_every_example_is_checked():
    assert sorted(path.name for path in EXAMPLES.glob("*.py")) == sorted(CHECKS)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_example_runs_and_prints_its_result(name, tmp_path):
    env = {**os.environ, "ML4PHYS_CACHE_DIR": str(tmp_path / "cache"), "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, str(EXAMPLES / name)], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    CHECKS[name](result.stdout)
    assert not any(tmp_path.iterdir()) or [p.name for p in tmp_path.iterdir()] == ["cache"]  # writes nothing else
