"""Shared fixtures: compose the real config (as the command line would) and run tasks on the debug settings."""
from __future__ import annotations

from pathlib import Path

import pytest

from physics.app.config import CONF_DIR, compose, register_configs

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def compose_config():
    """``compose_config(overrides)`` -> the composed, validated DictConfig, exactly as ``ml4phys`` builds it."""
    register_configs()
    return compose


@pytest.fixture(scope="session")
def debug_config(compose_config):
    """``debug_config(overrides)``: the same with ``debug=tiny`` (every task on a tiny budget) put first."""
    return lambda overrides=(): compose_config(["debug=tiny", *overrides])
