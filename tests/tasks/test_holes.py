"""Holes through which a task could stay stuck or lose its worker, each closed: manual 'processing',
a heartbeat racing the lease sweep, clocks that disagree, bugs hidden as "store unreachable", the
stuck sweep's default, and cancelling a running task."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from pixeletica.engine.conversion_settings import ConversionSettings
from pixeletica.tasks import files, operations
from pixeletica.tasks.model import ErrorCode, Status
from pixeletica.tasks.monitor import Monitor
from pixeletica.tasks.runner import Runner
from pixeletica.tasks.schema import tasks
from pixeletica.tasks.store import Store

from ..servers import wait_for
from .conftest import SAMPLES, fast_settings, settings_env, submit


def test_a_task_put_in_processing_by_hand_is_found_by_the_lease_sweep(store, settings):
    task = submit(store, settings)
    by_hand = operations.update_status(store, task, Status.PROCESSING, actor="cli", lease_seconds=10)
    assert by_hand.started_at is not None and by_hand.lease_expires_at is not None
    monitor = Monitor.from_settings(store, settings)
    assert monitor.recover_lost().requeued == []  # its lease has not run out
    store.time_offset = 11
    assert monitor.recover_lost().requeued == [task.id]  # nobody renews it: back in the queue
    assert store.get(task.id).status == Status.QUEUED


@pytest.mark.slow
def test_the_seed_s_update_command_gives_processing_a_lease(tmp_path):
    settings = fast_settings(tmp_path / "data")
    store = Store(settings.store_url)
    store.upgrade()
    task = submit(store, settings)
    env = settings_env(settings)
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "src/pixeletica/cli_task.py", "update", task.id, "--status", "processing"]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    now = store.get(task.id)
    assert now.status == Status.PROCESSING and now.started_at is not None
    assert now.lease_expires_at is not None
    store.dispose()


def test_a_heartbeat_between_the_sweep_s_read_and_its_change_keeps_the_task(store, settings):
    task = submit(store, settings)
    claimed = store.claim("slow:1", 5)
    store.time_offset = 6  # the worker was slow to beat: its lease ran out
    found = store.lease_expired()
    assert [t.id for t in found] == [task.id]
    assert store.heartbeat(claimed, 5)  # ...and then it beat, before the sweep acted
    monitor = Monitor.from_settings(store, settings)
    assert monitor.recover(found[0]) is None
    assert store.get(task.id).status == Status.PROCESSING and store.get(task.id).worker_id == "slow:1"


@pytest.mark.postgres
def test_workers_whose_clocks_are_minutes_off_keep_their_tasks(tmp_path, pg_cluster):
    """Leases come from the database's clock: a worker ten minutes behind (or ahead) loses nothing.

    On PostgreSQL, the one store that workers on several machines share (SQLite's clock is the
    clock of whichever process asks, all on one machine).
    """
    faketime = shutil.which("faketime")
    assert faketime, "faketime is installed by scripts/test.sh"
    # A lease long enough for a loaded machine (a heartbeat late by seconds is not what this is about),
    # short beside the ten minutes the clocks are off by.
    settings = fast_settings(
        tmp_path / "data", lease_seconds=8.0, heartbeat_seconds=0.5, database_url=pg_cluster.database()
    )
    store = Store(settings.store_url)
    store.upgrade()
    photo = (SAMPLES / "astronaut.jpg").read_bytes()
    ids = [
        operations.submit(
            store,
            settings.tasks_dir,
            data=photo,
            filename="a.jpg",
            settings=ConversionSettings.from_dict({"width": 200, "metric": "ciede2000"}),
        ).id
        for _ in range(2)
    ]
    monitor = Monitor.from_settings(store, settings)
    stop = threading.Event()
    sweeping = threading.Thread(target=monitor.run, args=(stop,), kwargs={"name": "monitor:test"}, daemon=True)
    sweeping.start()
    workers = []
    for offset in ("-10m", "+10m"):
        command = [faketime, "-f", offset, sys.executable, "-m", "pixeletica", "worker", "--concurrency", "1"]
        log = (tmp_path / f"worker{offset}.log").open("w")
        workers.append(
            subprocess.Popen(
                command, env=settings_env(settings), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        )
    try:
        wait_for(lambda: all(store.get(i).finished for i in ids), 180, "both tasks to finish")
    finally:
        stop.set()
        for worker in workers:  # faketime and the worker under it: the whole group
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(60)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)
        sweeping.join(10)
    for task_id in ids:
        done = store.get(task_id)
        assert done.status == Status.COMPLETED and done.attempt == 1, (done.error, store.events(task_id))
        assert [e.to_status for e in store.events(task_id)] == ["queued", "processing", "completed"]
    store.dispose()


def test_a_bug_in_a_sweep_is_logged_with_its_traceback_and_shown_in_health(store, settings, caplog):
    task = submit(store, settings)
    store.claim("gone:1", 0.5)
    with store.engine.begin() as connection:  # a row the code cannot read: a bug, not an outage
        connection.execute(sa.update(tasks).where(tasks.c.id == task.id).values(result="{not json"))
    store.time_offset = 5
    monitor = dataclasses.replace(Monitor.from_settings(store, settings), lease_sweep_seconds=0.05)
    stop = threading.Event()
    with caplog.at_level(logging.WARNING, logger="pixeletica.monitor"):
        sweeping = threading.Thread(target=monitor.run, args=(stop,), kwargs={"name": "monitor:bug"})
        sweeping.start()
        wait_for(lambda: any(r.exc_info for r in caplog.records), 10, "the sweep's traceback in the log")
        shown = wait_for(
            lambda: (store.heartbeats("monitor") or [("", None, {})])[0][2].get("last_error"), 10, "last_error"
        )
        stop.set()
        sweeping.join(10)
    assert any(r.exc_info and r.exc_info[0].__name__ == "JSONDecodeError" for r in caplog.records)
    assert "JSONDecodeError" in shown


@pytest.mark.slow
def test_find_stuck_and_reset_stuck_default_to_task_max_processing_time(tmp_path):
    settings = fast_settings(tmp_path / "data", task_max_processing_time=60)
    store = Store(settings.store_url)
    store.upgrade()
    task = submit(store, settings)
    store.claim("slow:1", 3600)
    with store.engine.begin() as connection:  # started two minutes ago: stuck by the setting, not by 3600 s
        connection.execute(sa.update(tasks).values(started_at=store.clock() - dt.timedelta(minutes=2)))
    root = Path(__file__).resolve().parents[2]
    env = settings_env(settings)
    found = subprocess.run(
        [sys.executable, "src/pixeletica/cli_task.py", "find-stuck"], cwd=root, env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert found.returncode == 0 and task.id in found.stdout and "more than 60 s" in found.stdout
    reset = subprocess.run(
        [sys.executable, "src/pixeletica/cli_task.py", "reset-stuck"], cwd=root, env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert reset.returncode == 0 and "marked 1 stuck task(s)" in reset.stdout
    failed = store.get(task.id)
    assert failed.error_code == ErrorCode.TIMED_OUT and "60 seconds (TASK_MAX_PROCESSING_TIME)" in failed.error
    store.dispose()


@pytest.mark.slow
def test_cancelling_a_running_task_stops_its_worker_and_records_no_files(store, settings):
    photo = io.BytesIO()
    Image.open(SAMPLES / "astronaut.jpg").save(photo, format="PNG")
    task = operations.submit(
        store, settings.tasks_dir, data=photo.getvalue(), filename="big.png",
        settings=ConversionSettings.from_dict(
            {"width": 300, "metric": "ciede2000", "algorithm": "optimise"}
        ),
    )  # fmt: skip
    runner = dataclasses.replace(
        Runner.from_settings(store, settings, worker_id="w:1"), lease_seconds=5, heartbeat_seconds=0.2
    )
    outcome: dict[str, object] = {}
    running = threading.Thread(target=lambda: outcome.setdefault("task", runner.run_next()))
    running.start()
    wait_for(lambda: store.get(task.id).progress > 0, 60, "the conversion to be under way")
    operations.cancel(store, store.get(task.id), actor="cli")
    running.join(60)
    assert not running.is_alive()
    final = store.get(task.id)
    assert final.status == Status.FAILED and final.error == "cancelled" and final.error_code == ErrorCode.CANCELLED
    assert store.artifacts(task.id) == []
    assert not files.attempt_dir(settings.tasks_dir, task.id, 1).exists()
    assert [e.to_status for e in store.events(task.id)] == ["queued", "processing", "failed"]
