"""Fixtures for the task system: a real SQLite store in a temporary data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pixeletica.config import Settings
from pixeletica.engine.conversion_settings import ConversionSettings
from pixeletica.tasks import operations
from pixeletica.tasks.runner import Runner
from pixeletica.tasks.store import Store

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def fast_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "lease_seconds": 2.0,
        "heartbeat_seconds": 0.3,
        "lease_sweep_seconds": 0.3,
        "worker_poll_seconds": 0.1,
        "retry_base_seconds": 0.05,
        "retry_max_seconds": 0.2,
        "shutdown_grace_seconds": 5.0,
        "rate_limit": "off",
        **overrides,
    }
    return Settings(**values)


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment variables that give a child process these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXELETICA_", "TASK_"))}
    return {**env, **settings.as_environment()}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """The task-system tests run on both stores: SQLite in the data folder, and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("pg_cluster").database()


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return fast_settings(tmp_path / "data", database_url=database_url)


@pytest.fixture
def store(settings: Settings) -> Store:
    s = Store(settings.store_url)
    s.upgrade()
    yield s
    s.dispose()


@pytest.fixture
def runner(store: Store, settings: Settings) -> Runner:
    return Runner.from_settings(store, settings, worker_id="test:1")


def submit(store: Store, settings: Settings, name: str = "coffee.jpg", **conversion: object):
    data = (SAMPLES / name).read_bytes()
    return operations.submit(
        store,
        settings.tasks_dir,
        data=data,
        filename=name,
        settings=ConversionSettings.from_dict({"width": 12, **conversion}),
        actor="test",
    )
