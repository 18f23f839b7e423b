"""Shared fixtures: compose the real config from conf/ (as Hydra would) and shrink it for fast runs."""
from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from physics.config import register_configs

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT / "conf"


@pytest.fixture(scope="session")
def compose_config():
    """``compose_config(overrides)`` -> the composed DictConfig, exactly as ``python run.py`` builds it."""
    register_configs()

    def _compose(overrides=(), *, return_hydra_config: bool = False):
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose("config", overrides=list(overrides), return_hydra_config=return_hydra_config)

    return _compose
