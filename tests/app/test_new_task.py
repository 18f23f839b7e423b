"""Adding a task is one package, one YAML file and a registry line: a toy task proves it, touching nothing else."""
from __future__ import annotations

import json
import shutil
import sys
import textwrap

from physics.app import config as app_config
from physics.app.runner import run
from physics.tasks import TASKS

PACKAGE = {
    "__init__.py": '''
        """Toy: the period of a pendulum from its length (T = 2 pi sqrt(l / g))."""
        from .config import DEBUG, Config
    ''',
    "config.py": '''
        from dataclasses import dataclass

        from physics.app.schema import TaskConfig, param


        @dataclass
        class Config(TaskConfig):
            """``task=toy``: learn T(l) from noisy periods."""

            MODELS = ("mlp",)
            name: str = param("toy", help="the task")
            n_samples: int = param(400, help="pendulums", low=10)
            noise: float = param(0.01, help="standard deviation of the measured periods (s)", low=0.0)


        DEBUG = {"task": {"n_samples": 60}, "trainer": {"epochs": 3}}
    ''',
    "task.py": '''
        import numpy as np

        from physics.app.result import TaskResult
        from physics.app.seeding import generator
        from physics.app.training import network_estimator, stage

        from .figures import period_plot


        def run(config, run_dir):
            timings = {}
            with stage("data", timings):
                rng = generator(config.seed, "data")
                length = rng.uniform(0.1, 2.0, size=(config.task.n_samples, 1))  # m
                period = 2 * np.pi * np.sqrt(length[:, 0] / 9.81) + config.task.noise * rng.standard_normal(len(length))
            with stage("training", timings):
                network = network_estimator(config, "regressor", (1,)).fit(length, period)
            period_plot(length[:, 0], period, network.predict(length), run_dir / "figures" / "period.png")
            val = min(network.history_.val_loss)
            return TaskResult(objective=val, objective_name="network.val_mse", metrics={"network": {"val_mse": val}},
                              timings=timings)
    ''',
    "figures.py": '''
        from physics.app import plots


        def period_plot(length, measured, predicted, path):
            fig, ax = plots.figure()
            ax.scatter(length, measured, s=4, label="measured")
            ax.scatter(length, predicted, s=4, label="network")
            ax.set_xlabel("length l (m)")
            ax.set_ylabel("period T (s)")
            ax.legend()
            plots.save(fig, path)
    ''',
}
YAML = """\
# @package _global_
# A pendulum's period from its length: `python run.py task=toy`
defaults:
  - /schema/task/toy@task
  - _self_
trainer:
  epochs: 50
"""


def test_a_toy_task_in_one_package_and_one_yaml(tmp_path, monkeypatch):
    package = tmp_path / "code" / "toy_task"
    package.mkdir(parents=True)
    for name, text in PACKAGE.items():
        (package / name).write_text(textwrap.dedent(text))
    conf = tmp_path / "conf"
    shutil.copytree(app_config.CONF_DIR, conf)
    (conf / "task" / "toy.yaml").write_text(YAML)
    monkeypatch.syspath_prepend(str(tmp_path / "code"))
    monkeypatch.setitem(TASKS, "toy", "toy_task")  # the registry line
    monkeypatch.setattr(app_config, "CONF_DIR", conf)
    try:
        cfg = app_config.compose(["task=toy", "debug=tiny"])
        assert cfg.trainer.epochs == 3 and cfg.task.n_samples == 60 and cfg.model.name == "mlp"
        result = run(cfg, tmp_path / "run")
    finally:
        for module in [name for name in sys.modules if name.split(".")[0] == "toy_task"]:
            del sys.modules[module]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["task"] == "toy" and metrics["objective"] == result.objective > 0
    assert (tmp_path / "run" / "figures" / "period.png").exists()
