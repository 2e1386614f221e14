"""Running one task: claim, convert with progress and a heartbeat, write files atomically, finish.

Nothing raised inside a run leaves the task ``processing``: every exception is classified
(:mod:`pixeletica.tasks.retry`) and ends in ``failed`` or back in ``queued`` with a delay. If
even that status change cannot be written (the store is down), the lease runs out and the
monitor re-queues the task.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pixeletica import fsutil, names
from pixeletica.config import Settings
from pixeletica.engine import production
from pixeletica.engine.conversion_settings import ConversionSettings
from pixeletica.engine.exports import bundle
from pixeletica.errors import InvalidInput, TransitionConflict
from pixeletica.tasks import files
from pixeletica.tasks.model import ErrorCode, Status, Task, took_too_long
from pixeletica.tasks.retry import Failure, RetryPolicy, classify, report
from pixeletica.tasks.store import NewArtifact, Store

log = logging.getLogger("pixeletica.tasks")

_PROGRESS_EVERY = 0.5  # seconds between progress writes


class StopRun(BaseException):  # a signal to unwind, not an error
    """Raised inside a run to stop it: the worker is shutting down or lost the task."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _keep_running() -> str | None:
    """A runner's ``should_stop`` when nothing asks it to stop."""
    return None


@dataclass(kw_only=True)
class Runner:
    """Runs tasks for one worker. ``should_stop`` is polled between steps of a run."""

    store: Store
    tasks_dir: Path
    lease_seconds: float
    heartbeat_seconds: float
    policy: RetryPolicy
    #: A task's time limit, and the exceptions by which an executor stops a task at it (Celery's soft time limit).
    time_limit: float
    time_limit_errors: tuple[type[BaseException], ...] = ()
    worker_id: str = field(default_factory=default_worker_id)
    should_stop: Callable[[], str | None] = _keep_running

    @classmethod
    def from_settings(
        cls,
        store: Store,
        settings: Settings,
        *,
        worker_id: str | None = None,
        should_stop: Callable[[], str | None] | None = None,
        time_limit_errors: tuple[type[BaseException], ...] = (),
    ) -> Runner:
        """A runner with the lease, heartbeat, retry delays and time limit of these settings."""
        return cls(
            store=store,
            tasks_dir=settings.tasks_dir,
            lease_seconds=settings.lease_seconds,
            heartbeat_seconds=settings.heartbeat_seconds,
            policy=RetryPolicy(base_seconds=settings.retry_base_seconds, max_seconds=settings.retry_max_seconds),
            time_limit=settings.task_max_processing_time,
            time_limit_errors=time_limit_errors,
            worker_id=worker_id or default_worker_id(),
            should_stop=should_stop or _keep_running,
        )

    @property
    def actor(self) -> str:
        return f"worker:{self.worker_id}"

    def run_next(self) -> Task | None:
        """Claim and run the next runnable task; None if there was none."""
        task = self.store.claim(self.worker_id, self.lease_seconds)
        return self.execute(task) if task else None

    def run_task(self, task_id: str) -> Task | None:
        """Run one delivered task. A task that is not queued (already claimed or finished) is left alone."""
        task = self.store.claim(self.worker_id, self.lease_seconds, task_id=task_id)
        if task is None:
            log.info("not claimable; delivery ignored", extra={"task_id": task_id})
            return None
        return self.execute(task)

    def execute(self, task: Task) -> Task:
        """Run a task this worker has claimed and leave it completed, failed or queued."""
        lost = threading.Event()
        done = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(task, lost, done), daemon=True, name="heartbeat")
        beat.start()
        log.info(
            "claimed",
            extra={"task_id": task.id, "status": "processing", "attempt": task.attempt, "worker": self.worker_id},
        )
        try:
            return self._convert(task, lost)
        except StopRun as stop:
            return self._hand_back(task, stop.reason)
        except BaseException as exc:  # every failure must end the run cleanly
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                self._hand_back(task, "worker interrupted")
                raise
            return self._fail_or_retry(task, exc)
        finally:
            done.set()
            beat.join(timeout=self.heartbeat_seconds + 1)

    # --- the run itself -----------------------------------------------------------------------

    def _convert(self, task: Task, lost: threading.Event) -> Task:
        settings = ConversionSettings.from_stored(task.settings)
        source = files.input_path(self.tasks_dir, task.id, task.input_name)
        try:
            data = source.read_bytes()
        except FileNotFoundError:
            raise InvalidInput(f"the task's input file is missing ({source.name})") from None
        last_write = [time.monotonic()]  # the claim itself recorded step "starting"

        def progress(fraction: float, step: str) -> None:
            if lost.is_set():
                raise StopRun("lease lost")
            reason = self.should_stop()
            if reason:
                raise StopRun(reason)
            now = time.monotonic()
            if now - last_write[0] >= _PROGRESS_EVERY:  # short tasks finish without progress writes
                last_write[0] = now
                if not self.store.set_progress(task, round(fraction * 100), step):
                    lost.set()
                    raise StopRun("task changed while running")

        folder = files.attempt_dir(self.tasks_dir, task.id, task.attempt)
        plan = settings.plan(files.output_stem(task.input_name), task.input_name)
        artifacts = [self._artifact_for_input(task)]
        with fsutil.Batch() as batch:  # every file durable before any is in place, with one sync

            def write_web(relative: str, content: bytes) -> None:
                path = folder / "web" / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                batch.write(path, content)

            made = production.produce(
                data, settings.palette(), settings.options, plan, progress=progress, web=write_web
            )
            folder.mkdir(parents=True, exist_ok=True)
            for output in made.outputs:
                path = folder / (output.filename if output.category == "web" else names.file_name(output.filename))
                if path not in batch and not path.exists():
                    batch.write(path, output.data)
                artifacts.append(
                    NewArtifact(
                        file_id=output.file_id,
                        category=output.category,
                        filename=path.name,
                        media_type=output.media_type,
                        size=len(output.data),
                        sha256=hashlib.sha256(output.data).hexdigest(),
                        path=str(path.relative_to(self.tasks_dir)),
                    )
                )
        progress(0.99, "recording")
        try:
            finished = self.store.complete(task, artifacts, made.summary, self.actor)
        except TransitionConflict:
            files.remove_attempt(self.tasks_dir, task.id, task.attempt)
            log.warning(
                "finished but no longer ours; results dropped", extra={"task_id": task.id, "attempt": task.attempt}
            )
            return self.store.get(task.id)
        log.info("completed", extra={"task_id": task.id, "status": "completed", "attempt": task.attempt})
        return finished

    def _artifact_for_input(self, task: Task) -> NewArtifact:
        path = files.input_path(self.tasks_dir, task.id, task.input_name)
        return NewArtifact(
            file_id=f"input_{path.name}",
            category="input",
            filename=path.name,
            media_type=bundle.input_media_type(path.name),
            size=task.input_size,
            sha256=task.input_sha256,
            path=str(path.relative_to(self.tasks_dir)),
        )

    # --- endings ------------------------------------------------------------------------------

    def _fail_or_retry(self, task: Task, exc: BaseException) -> Task:
        failure = classify(exc)
        if isinstance(exc, self.time_limit_errors):  # the same failure as the monitor's stuck sweep would make
            message = took_too_long(self.time_limit, by=f"its worker ({self.worker_id})")
            failure = Failure(transient=False, code=ErrorCode.TIMED_OUT, message=message)
        files.remove_attempt(self.tasks_dir, task.id, task.attempt)
        details = "".join(traceback.format_exception(exc))
        try:
            if failure.transient and task.attempt < task.max_attempts:
                delay = self.policy.delay(task.attempt)
                log.warning(
                    "task_id=%s attempt=%d transient error, retry in %.1fs: %s", task.id, task.attempt, delay, exc
                )
                return self.store.transition(
                    task,
                    Status.QUEUED,
                    actor=self.actor,
                    message=f"{failure.message}; retrying in {delay:.0f} s ({_detail(exc)})",
                    retry_in=delay,
                    error=failure.message,
                    error_code=failure.code.value,
                    traceback=details,
                )
            message = failure.message
            code = failure.code
            if failure.transient:
                message = f"gave up after {task.attempt} attempts: {failure.message}"
                code = ErrorCode.RETRIES_EXHAUSTED
            log.warning(
                "failed", extra={"task_id": task.id, "status": "failed", "attempt": task.attempt, "code": code.value}
            )
            unforeseen = failure.code in (ErrorCode.INTERNAL, ErrorCode.TRANSIENT)
            event = f"{message} ({_detail(exc)})" if unforeseen else message
            return self.store.transition(
                task, Status.FAILED, actor=self.actor, message=event, error=message, error_code=code.value,
                traceback=details,
            )  # fmt: skip
        except TransitionConflict:
            return self.store.get(task.id)

    def _hand_back(self, task: Task, reason: str) -> Task:
        files.remove_attempt(self.tasks_dir, task.id, task.attempt)
        try:
            log.info("handed back: %s", reason, extra={"task_id": task.id, "attempt": task.attempt})
            return self.store.transition(task, Status.QUEUED, actor=self.actor, message=f"handed back: {reason}")
        except TransitionConflict:
            return self.store.get(task.id)

    def _heartbeat(self, task: Task, lost: threading.Event, done: threading.Event) -> None:
        while not done.wait(self.heartbeat_seconds):
            try:
                if not self.store.heartbeat(task, self.lease_seconds):
                    lost.set()
                    return
            except Exception as exc:  # a missed beat is survivable; the lease says when it is not
                report(log, f"task_id={task.id} heartbeat failed", exc)


def _detail(exc: BaseException) -> str:
    """An exception in one bounded line, for the task's history (which only operators read)."""
    return names.label(f"{type(exc).__name__}: {exc}", 300)
