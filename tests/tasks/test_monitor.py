"""The monitor: lost workers, stuck tasks (the seed's sweep), retention, and two monitors at once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time

import sqlalchemy as sa

from pixeletica.tasks import files
from pixeletica.tasks.model import ErrorCode, Status, utcnow
from pixeletica.tasks.monitor import Monitor
from pixeletica.tasks.schema import tasks

from .conftest import submit


def monitor_for(store, settings, **kw) -> Monitor:
    return dataclasses.replace(Monitor.from_settings(store, settings), **kw)


def test_expired_lease_is_requeued_and_its_files_removed(store, settings):
    task = submit(store, settings)
    claimed = store.claim("gone:1", 0.05)
    half_written = files.attempt_dir(settings.tasks_dir, task.id, 1)
    half_written.mkdir(parents=True)
    (half_written / "partial.png").write_bytes(b"half")
    monitor = monitor_for(store, settings)
    assert monitor.recover_lost().requeued == []  # lease not yet expired
    time.sleep(0.1)
    report = monitor.recover_lost()
    assert report.requeued == [task.id]
    again = store.get(task.id)
    assert again.status == Status.QUEUED and again.attempt == 1 and again.worker_id is None
    assert not half_written.exists()
    assert store.events(task.id)[-1].actor == "monitor" and "lost" in store.events(task.id)[-1].message
    assert store.heartbeat(claimed, 10) is False  # the old worker cannot take it back


def test_lost_on_the_last_attempt_fails_with_worker_lost(store, settings):
    task = submit(store, settings)
    with store.engine.begin() as c:
        c.execute(sa.update(tasks).values(max_attempts=1))
    store.claim("gone:1", 0.01)
    time.sleep(0.05)
    assert monitor_for(store, settings).recover_lost().failed == [task.id]
    failed = store.get(task.id)
    assert failed.status == Status.FAILED and failed.error_code == ErrorCode.WORKER_LOST
    assert failed.error.startswith("worker lost")


def test_stuck_tasks_are_failed_with_a_message_that_says_so(store, settings):
    task = submit(store, settings)
    store.claim("slow:1", 3600)
    monitor = monitor_for(store, settings, max_processing_time=3600)
    assert monitor.fail_stuck().failed == []
    with store.engine.begin() as c:
        c.execute(sa.update(tasks).values(started_at=utcnow() - dt.timedelta(hours=2)))
    assert monitor.fail_stuck().failed == [task.id]
    failed = store.get(task.id)
    assert failed.status == Status.FAILED and failed.error_code == ErrorCode.TIMED_OUT
    assert "longer than 3600 seconds (TASK_MAX_PROCESSING_TIME)" in failed.error


def test_two_monitors_at_once_handle_each_task_once(store, settings):
    ids = [submit(store, settings).id for _ in range(15)]
    for _ in ids:
        store.claim("gone:1", 0.01)
    time.sleep(0.05)
    reports = []
    barrier = threading.Barrier(2)

    def sweep() -> None:
        barrier.wait()
        reports.append(monitor_for(store, settings).recover_lost())

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    handled = reports[0].requeued + reports[1].requeued
    assert sorted(handled) == sorted(ids)  # each exactly once between the two
    for task_id in ids:
        assert [e.actor for e in store.events(task_id)].count("monitor") == 1


def test_retention_deletes_old_finished_tasks_and_their_files(store, settings, runner):
    old_done, new_done, old_failed = (submit(store, settings) for _ in range(3))
    for _ in range(3):
        runner.run_next()
    failed = store.transition(store.get(old_failed.id), Status.FAILED, actor="cli", message="x", manual=True)
    long_ago = utcnow() - dt.timedelta(days=40)
    with store.engine.begin() as c:
        c.execute(sa.update(tasks).where(tasks.c.id.in_([old_done.id, failed.id])).values(finished_at=long_ago))
    report = monitor_for(store, settings, retention_days=7, failed_retention_days=30).prune()
    assert sorted(report.deleted) == sorted([old_done.id, old_failed.id])
    assert [t.id for t in store.list()] == [new_done.id]
    assert not files.task_dir(settings.tasks_dir, old_done.id).exists()
    assert files.task_dir(settings.tasks_dir, new_done.id).exists()
    assert store.events(old_done.id) == [] and store.artifacts(old_done.id) == []


def test_run_loop_recovers_lost_tasks_until_stopped(store, settings):
    task = submit(store, settings)
    store.claim("gone:1", 0.2)
    stop = threading.Event()
    monitor = monitor_for(store, settings, lease_sweep_seconds=0.1, interval=60)
    thread = threading.Thread(target=monitor.run, args=(stop,))
    thread.start()
    deadline = time.monotonic() + 5
    while store.get(task.id).status != Status.QUEUED and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(5)
    assert store.get(task.id).status == Status.QUEUED and not thread.is_alive()
