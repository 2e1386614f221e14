"""The embedded executor: worker processes on this machine that claim tasks from the store.

Each process claims, runs and heartbeats on its own. SIGTERM (or SIGINT) makes a worker stop
claiming and finish its running task within the grace period; after that the task is handed
back to ``queued``. A worker killed outright leaves a lease that expires; the monitor re-queues.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass

from pixeletica import logs, signals
from pixeletica.config import Settings
from pixeletica.tasks.executors import worker
from pixeletica.tasks.retry import report

log = logging.getLogger("pixeletica.worker")


@dataclass
class _Shutdown:
    """When a stop was asked for, and how long a running task may still take."""

    grace: float
    asked_at: float | None = None

    def ask(self, *_: object) -> None:
        if self.asked_at is None:
            self.asked_at = time.monotonic()

    @property
    def asked(self) -> bool:
        return self.asked_at is not None

    def reason(self) -> str | None:
        if self.asked_at is not None and time.monotonic() - self.asked_at > self.grace:
            return f"worker shutting down (grace period of {self.grace:g} s over)"
        return None


def work(settings: Settings, *, max_tasks: int | None = None) -> int:
    """Run one worker in this process until SIGTERM/SIGINT (or ``max_tasks``); return tasks run."""
    shutdown = _Shutdown(grace=settings.shutdown_grace_seconds)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, shutdown.ask)
        signal.signal(signal.SIGINT, shutdown.ask)
    this = worker.Worker.start(settings, should_stop=shutdown.reason)
    runner = this.runner
    log.info("started", extra={"worker": runner.worker_id})
    done = 0
    while not shutdown.asked and (max_tasks is None or done < max_tasks):
        try:
            task = runner.run_next()
        except Exception as exc:  # the store briefly out of reach, or a bug (logged with its traceback)
            report(log, f"worker={runner.worker_id} claim failed", exc)
            task = None
        if task is None:
            _sleep(settings.worker_poll_seconds, shutdown)
        else:
            done += 1
    log.info("stopped", extra={"worker": runner.worker_id, "tasks": done})
    this.stop()
    return done


def _sleep(seconds: float, shutdown: _Shutdown) -> None:
    end = time.monotonic() + seconds
    while not shutdown.asked and time.monotonic() < end:
        time.sleep(min(0.05, seconds))


def _die_with_parent(parent: int) -> None:
    """Ask Linux to send this process SIGTERM when its parent dies, so no worker outlives ``serve``.

    (A parent killed outright cannot stop its children itself.) If the parent is already gone, stop now.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: children then stop only when asked
        return
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


def _child(settings_json: str, parent: int) -> None:
    _die_with_parent(parent)
    settings = Settings.from_json(settings_json)
    logs.setup(settings)
    worker.preload_kernels(settings)
    work(settings)


def run_workers(settings: Settings, concurrency: int) -> None:
    """Keep ``concurrency`` worker processes running until SIGTERM/SIGINT, then stop them gracefully.

    A worker that dies (killed, out of memory) is replaced; its task comes back through the monitor.
    """
    context = multiprocessing.get_context("spawn")
    payload = settings.to_json()

    def spawn(slot: int) -> multiprocessing.process.BaseProcess:
        child = context.Process(target=_child, args=(payload, os.getpid()), name=f"worker-{slot}")
        child.start()
        return child

    stop = signals.stop_event()
    children = [spawn(i) for i in range(concurrency)]
    log.info("started %d workers: %s", concurrency, ", ".join(str(c.pid) for c in children))
    while not stop.wait(0.5):
        for slot, child in enumerate(children):
            if not child.is_alive():
                log.warning("worker %s exited with %s; starting a new one", child.pid, child.exitcode)
                children[slot] = spawn(slot)
    for child in children:
        if child.is_alive() and child.pid:
            os.kill(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + settings.shutdown_grace_seconds + 10
    for child in children:
        child.join(max(0.0, deadline - time.monotonic()))
        if child.is_alive():
            log.warning("worker %s did not stop in time; killing it", child.pid)
            child.kill()
            child.join()


def _supervisor(settings_json: str, concurrency: int, parent: int) -> None:
    _die_with_parent(parent)
    settings = Settings.from_json(settings_json)
    logs.setup(settings)
    run_workers(settings, concurrency)


class Supervisor:
    """:func:`run_workers` in a child process of ``serve``, started again if it dies; :meth:`stop` ends it."""

    def __init__(self, settings: Settings, concurrency: int) -> None:
        self.settings, self.concurrency = settings, concurrency
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.process = self._start()
        threading.Thread(target=self._watch, name="supervisor-watch", daemon=True).start()

    def _start(self) -> multiprocessing.process.BaseProcess:
        process = multiprocessing.get_context("spawn").Process(
            target=_supervisor, args=(self.settings.to_json(), self.concurrency, os.getpid()), name="workers"
        )
        process.start()
        return process

    def _watch(self) -> None:
        while not self._stopping.wait(1.0):
            with self._lock:
                if not self._stopping.is_set() and not self.process.is_alive():
                    log.warning("the worker supervisor exited with %s; starting a new one", self.process.exitcode)
                    self.process.join(0)  # reap it
                    self.process = self._start()

    def stop(self) -> None:
        """SIGTERM to the workers (they finish or hand back their tasks), then wait for them."""
        self._stopping.set()
        with self._lock:
            process = self.process
        if process.is_alive() and process.pid:
            os.kill(process.pid, signal.SIGTERM)
            process.join(self.settings.shutdown_grace_seconds + 20)
            if process.is_alive():
                process.kill()
        process.join(0)
