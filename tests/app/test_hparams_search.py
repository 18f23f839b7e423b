"""``-m hparams_search=fit_optuna``: Hydra's Optuna sweeper drives the app; every trial's objective is the task's
validation objective, and the sweep is summarised like any other."""
from __future__ import annotations

import json
import subprocess
import sys

import yaml

from tests.conftest import ROOT


def test_the_optuna_search_minimises_the_validation_objective_and_is_summarised(tmp_path):
    sweep = tmp_path / "sweep"
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), "-m", "hparams_search=fit_optuna",
                             "hydra.sweeper.n_trials=3", f"hydra.sweep.dir={sweep}", "debug=tiny", "baseline=none",
                             "progress=false"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads((sweep / "summary.json").read_text())["rows"]
    assert len(rows) == 3 and all(row["status"] == "ok" for row in rows)
    objectives = [row["metrics.objective"] for row in rows]
    assert all(row["metrics.objective_name"] == "network.val_mse" for row in rows)
    # the sweeper's own record of the study: its best value is the smallest objective the trials returned
    best = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert best["best_value"] == min(objectives)
    assert set(best["best_params"]) == {"optimizer.lr", "model.hidden", "optimizer.weight_decay"}
    learning_rates = [row["optimizer.lr"] for row in rows]
    assert len(set(learning_rates)) == 3 and all(1e-4 <= lr <= 0.03 for lr in learning_rates)

