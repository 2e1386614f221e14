"""The Celery executor: the broker carries "run task X", the store stays the truth.

- One Celery task, ``pixeletica.run_task(task_id)``, which only calls :meth:`Runner.run_task`:
  a redelivered message for a task that is processing or finished finds nothing to claim.
- One queue per priority, consumed in sorted order, so high-priority tasks overtake.
- Late acknowledgement and a prefetch of 1: a worker that dies mid-task leaves its message to be
  delivered again, and its lease to expire for the monitor.
- The :class:`Dispatcher` is the outbox: tasks are stored first, then their messages are sent;
  a task the broker was never told about (it was down) or whose message was lost is sent again.
"""

from __future__ import annotations

import logging
import threading

from celery import Celery, signals
from celery.exceptions import SoftTimeLimitExceeded
from kombu import Queue

from pixeletica.config import LOCAL_BROKER_URL, Settings
from pixeletica.tasks.executors.worker import Worker
from pixeletica.tasks.model import Priority
from pixeletica.tasks.retry import report
from pixeletica.tasks.runner import Runner, default_worker_id
from pixeletica.tasks.store import Store

log = logging.getLogger("pixeletica.celery")

TASK_NAME = "pixeletica.run_task"
#: Queue per priority; names sort in the order they are served.
QUEUES = {Priority.HIGH: "pixeletica-0-high", Priority.NORMAL: "pixeletica-1-normal", Priority.LOW: "pixeletica-2-low"}


def make_app(settings: Settings) -> Celery:
    """The Celery app for these settings (broker ``settings.broker_url``)."""
    app = Celery("pixeletica", broker=settings.broker_url or LOCAL_BROKER_URL, set_as_current=False)
    limit = settings.task_max_processing_time
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=limit,
        task_time_limit=limit + 60,
        task_ignore_result=True,
        task_queues=[Queue(name) for name in QUEUES.values()],  # type: ignore[no-untyped-call]  # kombu: no types
        task_default_queue=QUEUES[Priority.NORMAL],
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        broker_transport_options={
            "queue_order_strategy": "sorted",  # Redis: always look at the high queue first
            "visibility_timeout": limit + 300,  # unacknowledged messages come back after this
            "socket_connect_timeout": 3,
            "socket_timeout": 10,
        },
        broker_heartbeat=0,
    )
    process = _WorkerProcess(settings)
    # Held weakly: the receiver lives as long as this app (its task holds ``process``), so the apps
    # that one-off sweeps make for their dispatcher leave nothing behind when they are gone.
    signals.worker_process_init.connect(process.fresh)

    @app.task(name=TASK_NAME, ignore_result=True, shared=False)  # type: ignore[untyped-decorator]  # celery: no types
    def run_task(task_id: str) -> str:
        task = process.runner().run_task(task_id)
        return task.status.value if task is not None else "not runnable"

    return app


class _WorkerProcess:
    """The :class:`Worker` of a Celery worker process, made after the fork (on start or on first use)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._worker: Worker | None = None

    def runner(self) -> Runner:
        if self._worker is None:
            self._worker = Worker.start(
                self.settings, worker_id=f"celery:{default_worker_id()}", time_limit_errors=(SoftTimeLimitExceeded,)
            )
        return self._worker.runner

    def fresh(self, **_: object) -> None:
        """In a newly forked pool process: nothing made in the parent is shared; start this process's own."""
        self._worker = None
        try:
            self.runner()
        except Exception as exc:  # the store may be down; the first task tries again
            report(log, "worker could not reach the store yet", exc)


class Dispatcher:
    """Sends the messages of queued tasks the broker has not been told about (the outbox)."""

    def __init__(self, store: Store, app: Celery, redispatch_seconds: float) -> None:
        self.store, self.app, self.redispatch_seconds = store, app, redispatch_seconds
        self.wake = threading.Event()

    def dispatch(self, *, redispatch: bool = False) -> int:
        """Send what is pending (and, with ``redispatch``, what was sent long ago and is still queued).

        Returns how many messages were sent. A broker that is down stops the round; the tasks
        stay pending and the next round sends them.
        """
        pending = self.store.to_dispatch(self.redispatch_seconds if redispatch else None)
        sent: list[str] = []
        try:
            with self.app.producer_or_acquire() as producer:
                for task_id, priority in pending:
                    self.app.send_task(
                        TASK_NAME, args=[task_id], queue=QUEUES[Priority(priority)], producer=producer, retry=False
                    )
                    sent.append(task_id)
        except Exception as exc:  # broker down: leave the rest in the outbox
            log.warning("dispatch stopped after %d of %d: broker unavailable (%s)", len(sent), len(pending), exc)
        finally:
            self.store.mark_dispatched(sent)
        if sent:
            log.info("dispatched", extra={"dispatched": len(sent), "redispatch": redispatch})
        return len(sent)

    def run(self, stop: threading.Event, every: float = 1.0) -> None:
        """Dispatch whenever woken (a task was submitted) and at least every ``every`` seconds."""
        while not stop.is_set():
            try:
                self.dispatch()
            except Exception as exc:  # the store briefly out of reach, or a bug (logged with its traceback)
                report(log, "dispatch round failed", exc)
            self.wake.wait(every)
            self.wake.clear()


def worker_argv(concurrency: int, loglevel: str = "INFO", hostname: str | None = None) -> list[str]:
    """Arguments of ``celery worker`` for Pixeletica: every priority queue, one task at a time."""
    return [
        "worker",
        *([f"--hostname={hostname}"] if hostname else []),
        f"--concurrency={concurrency}",
        f"--queues={','.join(sorted(QUEUES.values()))}",
        "--prefetch-multiplier=1",
        "--without-gossip",
        "--without-mingle",
        f"--loglevel={loglevel}",
    ]
