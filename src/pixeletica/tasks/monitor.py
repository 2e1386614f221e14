"""The monitor: finds tasks whose worker is gone or that ran too long, and applies retention.

Every action is a compare-and-set, so two monitors running at once never handle a task twice:
the second one's change does not apply and is skipped.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pixeletica.config import Settings
from pixeletica.errors import TransitionConflict
from pixeletica.tasks import files, operations
from pixeletica.tasks.model import ErrorCode, Status, Task, find_stuck, took_too_long, utcnow
from pixeletica.tasks.retry import report
from pixeletica.tasks.store import Store


class Dispatching(Protocol):
    """What the monitor asks of a broker's outbox dispatcher (``tasks.executors.celery.Dispatcher``)."""

    def dispatch(self, *, redispatch: bool = False) -> int: ...


log = logging.getLogger("pixeletica.monitor")
ACTOR = "monitor"


@dataclass(frozen=True, kw_only=True)
class SweepReport:
    """What one sweep did."""

    requeued: list[str]
    failed: list[str]
    deleted: list[str]


@dataclass(kw_only=True)
class Monitor:
    """Sweeps over the store. ``run`` loops; the ``*`` methods do one sweep each."""

    store: Store
    tasks_dir: Path
    max_processing_time: float
    retention_days: float
    failed_retention_days: float
    lease_sweep_seconds: float
    interval: float
    dispatcher: Dispatching | None = None  # a broker's outbox dispatcher, if any

    @classmethod
    def from_settings(cls, store: Store, settings: Settings) -> Monitor:
        """A monitor with the limits and periods of these settings."""
        return cls(
            store=store,
            tasks_dir=settings.tasks_dir,
            max_processing_time=settings.task_max_processing_time,
            retention_days=settings.task_retention_days,
            failed_retention_days=settings.task_failed_retention_days,
            lease_sweep_seconds=settings.lease_sweep_seconds,
            interval=settings.task_monitor_interval,
            dispatcher=_dispatcher(store, settings),
        )

    def recover_lost(self) -> SweepReport:
        """Re-queue processing tasks whose lease expired (attempts left), else fail them."""
        requeued, failed = [], []
        for task in self.store.lease_expired():
            outcome = self.recover(task)
            if outcome == Status.QUEUED:
                requeued.append(task.id)
            elif outcome == Status.FAILED:
                failed.append(task.id)
        return SweepReport(requeued=requeued, failed=failed, deleted=[])

    def recover(self, task: Task) -> Status | None:
        """Re-queue (attempts left) or fail one task found with an expired lease; None if that no longer holds.

        The change applies only if the lease is still expired when it is made (one statement): a
        heartbeat that came after the sweep read the task keeps it with its worker.
        """
        try:
            if task.attempt < task.max_attempts:
                self.store.transition(
                    task, Status.QUEUED, actor=ACTOR, only_if_lease_expired=True,
                    message=f"worker {task.worker_id} lost (lease expired); re-queued",
                )  # fmt: skip
                files.remove_attempt(self.tasks_dir, task.id, task.attempt)  # half-written files of the lost run
                return Status.QUEUED
            message = f"worker lost: {task.worker_id} stopped answering on the last of {task.max_attempts} attempts"
            self.store.transition(
                task, Status.FAILED, actor=ACTOR, only_if_lease_expired=True, message=message, error=message,
                error_code=ErrorCode.WORKER_LOST.value,
            )  # fmt: skip
            return Status.FAILED
        except TransitionConflict:
            return None  # its worker came back, or another monitor got there first

    def fail_stuck(self, max_time: float | None = None, *, actor: str = ACTOR) -> SweepReport:
        """The seed's sweep: fail tasks processing for longer than ``max_time`` seconds.

        ``actor`` is who asked (the monitor's own sweep, or an operator's ``reset-stuck``).
        """
        limit = self.max_processing_time if max_time is None else max_time
        failed = []
        by = "the monitor" if actor == ACTOR else f"reset-stuck ({actor})"
        for task in find_stuck(self.store, limit):
            message = took_too_long(limit, by=by, from_setting=max_time is None)
            try:
                self.store.transition(
                    task,
                    Status.FAILED,
                    actor=actor,
                    message=message,
                    error=message,
                    error_code=ErrorCode.TIMED_OUT.value,
                )
                failed.append(task.id)
            except TransitionConflict:
                continue
        return SweepReport(requeued=[], failed=failed, deleted=[])

    def prune(self) -> SweepReport:
        """Delete completed and failed tasks older than their retention, with their files."""
        deleted = []
        for status, days in ((Status.COMPLETED, self.retention_days), (Status.FAILED, self.failed_retention_days)):
            while True:
                batch = self.store.finished_longer_than(status, days * 86400, limit=500)
                if not batch:
                    break
                gone = [t.id for t in batch if operations.delete(self.store, self.tasks_dir, t)]
                deleted += gone
                if not gone:
                    break
        return SweepReport(requeued=[], failed=[], deleted=deleted)

    def run(self, stop: threading.Event, name: str | None = None) -> None:
        """Sweep until ``stop`` is set: lost workers every few seconds; stuck tasks and retention every interval."""
        name = name or f"monitor:{socket.gethostname()}:{os.getpid()}"
        next_full = 0.0
        last_full: str | None = None
        last_error: str | None = None
        while not stop.is_set():
            started = time.monotonic()
            try:
                if self.dispatcher is not None:  # the outbox: unsent, and sent but lost, messages
                    self.dispatcher.dispatch(redispatch=True)
                lost = self.recover_lost()
                if lost.requeued or lost.failed:
                    log.info(
                        "swept", extra={"sweep": "lost", "requeued": len(lost.requeued), "failed": len(lost.failed)}
                    )
                if started >= next_full:
                    stuck = self.fail_stuck()
                    pruned = self.prune()
                    swept = {
                        "sweep": "full", "stuck_failed": len(stuck.failed), "deleted": len(pruned.deleted),
                        "lost_requeued": len(lost.requeued), "lost_failed": len(lost.failed),
                    }  # fmt: skip
                    log.info("swept", extra=swept)
                    next_full = started + self.interval
                    last_full = utcnow().isoformat(timespec="seconds") + "Z"
            except Exception as exc:  # the store briefly out of reach: next sweep; a bug: logged, shown in health
                last_error = f"{utcnow().isoformat(timespec='seconds')}Z {report(log, 'sweep failed', exc)}"
            try:
                self.store.beat(name, "monitor", {"last_full_sweep": last_full, "last_error": last_error})
            except Exception as exc:
                report(log, "the monitor's heartbeat failed", exc)
            stop.wait(self.lease_sweep_seconds)
        try:
            self.store.forget(name)
        except Exception as exc:
            report(log, "could not remove the monitor's heartbeat", exc)


def _dispatcher(store: Store, settings: Settings) -> Dispatching | None:
    if not settings.broker_url:
        return None
    from pixeletica.tasks.executors import celery as celery_executor  # only loaded when a broker is used

    return celery_executor.Dispatcher(store, celery_executor.make_app(settings), settings.redispatch_seconds)
