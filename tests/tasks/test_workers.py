"""Worker and monitor processes for real: SIGKILL mid-task is recovered, SIGTERM is graceful."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pixeletica.engine.conversion_settings import ConversionSettings
from pixeletica.tasks import files, operations
from pixeletica.tasks.model import Status
from pixeletica.tasks.store import Store

from ..servers import wait_for
from .conftest import SAMPLES, fast_settings, settings_env, submit

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "pixeletica"]


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([*CLI, *args], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def slow_task(store: Store, settings):
    """A conversion that takes several seconds: the optimising mode under CIEDE2000 (error diffusion alone is
    too quick now to be caught running)."""
    data = (SAMPLES / "astronaut.jpg").read_bytes()
    return operations.submit(
        store, settings.tasks_dir, data=data, filename="astronaut.jpg",
        settings=ConversionSettings.from_dict(
            {"width": 300, "metric": "ciede2000", "algorithm": "optimise"}
        ),
    )  # fmt: skip


@pytest.fixture
def proc_settings(tmp_path, database_url):
    return fast_settings(
        tmp_path / "data", lease_seconds=2.0, heartbeat_seconds=0.3, shutdown_grace_seconds=30.0,
        database_url=database_url,
    )  # fmt: skip


@pytest.fixture
def proc_store(proc_settings):
    store = Store(proc_settings.store_url)
    store.upgrade()
    yield store
    store.dispose()


def test_workers_complete_submitted_tasks_and_stop_on_sigterm(proc_settings, proc_store, tmp_path):
    ids = [submit(proc_store, proc_settings).id for _ in range(4)]
    worker = start(["worker", "--concurrency", "2"], settings_env(proc_settings), tmp_path / "worker.log")
    try:
        wait_for(lambda: proc_store.counts()[Status.COMPLETED] == 4, 120, "four completed tasks")
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=60)
    assert code == 0, (tmp_path / "worker.log").read_text()
    workers = {proc_store.get(i).worker_id for i in ids}
    assert len(workers) == 2  # both processes took work


def test_sigkill_mid_task_is_recovered_by_the_monitor_and_completes_once(proc_settings, proc_store, tmp_path):
    env = settings_env(proc_settings)
    task = slow_task(proc_store, proc_settings)
    worker = start(["worker", "--concurrency", "1"], env, tmp_path / "worker.log")
    monitor = start(["monitor"], env, tmp_path / "monitor.log")
    try:
        running = wait_for(
            lambda: (t := proc_store.get(task.id)).status == Status.PROCESSING and t.progress > 0 and t,
            120,
            "the task to be running",
        )
        os.kill(int(running.worker_id.rsplit(":", 1)[1]), signal.SIGKILL)  # the worker process, not its parent
        killed_at = time.monotonic()
        wait_for(lambda: proc_store.get(task.id).attempt == 2, 30, "the monitor to re-queue the task")
        requeued_after = time.monotonic() - killed_at
        done = wait_for(
            lambda: (t := proc_store.get(task.id)).status == Status.COMPLETED and t, 180, "the task to complete"
        )
    finally:
        for proc in (worker, monitor):
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    assert requeued_after < 20
    assert done.attempt == 2
    history = [(e.from_status, e.to_status, e.actor.split(":")[0]) for e in proc_store.events(task.id)]
    assert history == [
        (None, "queued", "api"),
        ("queued", "processing", "worker"),
        ("processing", "queued", "monitor"),
        ("queued", "processing", "worker"),
        ("processing", "completed", "worker"),
    ]
    outputs = [a for a in proc_store.artifacts(task.id) if a.category != "input"]
    assert len(outputs) == 6 and all("/attempt-2/" in a.path for a in outputs)
    assert not files.attempt_dir(proc_settings.tasks_dir, task.id, 1).exists()
    assert "starting a new one" in (tmp_path / "worker.log").read_text()


def test_sigterm_hands_a_task_back_when_the_grace_period_runs_out(tmp_path, database_url):
    settings = fast_settings(tmp_path / "data", shutdown_grace_seconds=0.0, database_url=database_url)
    store = Store(settings.store_url)
    store.upgrade()
    task = slow_task(store, settings)
    worker = start(["worker", "--concurrency", "1"], settings_env(settings), tmp_path / "worker.log")
    wait_for(lambda: (t := store.get(task.id)).status == Status.PROCESSING and t.progress > 0, 120, "the task to run")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    back = store.get(task.id)
    assert back.status == Status.QUEUED
    assert "handed back: worker shutting down" in store.events(task.id)[-1].message
    assert not files.attempt_dir(settings.tasks_dir, task.id, 1).exists()
    store.dispose()


def test_sigterm_lets_a_running_task_finish_within_the_grace_period(proc_settings, proc_store, tmp_path):
    task = submit(proc_store, proc_settings, width=200)
    worker = start(["worker", "--concurrency", "1"], settings_env(proc_settings), tmp_path / "worker.log")
    wait_for(lambda: proc_store.get(task.id).status != Status.QUEUED, 120, "the task to be claimed")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    assert proc_store.get(task.id).status == Status.COMPLETED
