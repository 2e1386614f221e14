"""What every worker process is made of, whichever executor starts it: a store, a runner made from
the settings, and a liveness heartbeat that tells the store the process is alive."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pixeletica.config import Settings
from pixeletica.tasks.retry import report
from pixeletica.tasks.runner import Runner
from pixeletica.tasks.store import Store

log = logging.getLogger("pixeletica.worker")


def preload_kernels(settings: Settings) -> None:
    """With ``PIXELETICA_PRELOAD_KERNELS``, load every compiled kernel now: in a worker process before its first
    task, or in a Celery worker's main process before it forks its pool (which then has them).

    Only a head start: a kernel that fails to load here is logged, and compiled when a task needs it."""
    if not settings.preload_kernels:
        return
    from pixeletica.engine import precompile  # numpy, numba: only a worker that converts needs them

    started = time.monotonic()
    try:
        precompile.run_every_kernel()
    except Exception:
        log.exception("kernels could not all be loaded in advance (PIXELETICA_PRELOAD_KERNELS): tasks compile them")
        return
    log.info("kernels loaded", extra={"seconds": round(time.monotonic() - started, 1)})


class Liveness:
    """A thread that records in the store, every heartbeat, that this worker process is alive.

    For health checks and metrics only: the tasks it runs have their own leases.
    """

    def __init__(self, store: Store, name: str, every: float) -> None:
        self.store, self.name, self.every = store, name, every
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name="beat")
        self._thread.start()

    def _beat(self) -> None:
        while True:
            try:
                self.store.beat(self.name, "worker")
            except Exception as exc:  # a missed beat only makes health look worse for a while
                report(log, f"worker={self.name} heartbeat failed", exc)
            if self._stopped.wait(self.every):
                return

    def stop(self) -> None:
        """Stop beating and remove the heartbeat: a worker that stops cleanly is gone, not lost."""
        self._stopped.set()
        self._thread.join(self.every + 1)
        try:
            self.store.forget(self.name)
        except Exception as exc:  # the store may be gone; the heartbeat then simply ages
            report(log, f"worker={self.name} could not remove its heartbeat", exc)


@dataclass(frozen=True)
class Worker:
    """A worker process's runner (with its store) and its liveness heartbeat."""

    runner: Runner
    liveness: Liveness

    @classmethod
    def start(
        cls,
        settings: Settings,
        *,
        worker_id: str | None = None,
        should_stop: Callable[[], str | None] | None = None,
        time_limit_errors: tuple[type[BaseException], ...] = (),
    ) -> Worker:
        """Open the store (schema up to date), make the runner from ``settings`` and start beating."""
        store = Store.open(settings.store_url)
        runner = Runner.from_settings(
            store, settings, worker_id=worker_id, should_stop=should_stop, time_limit_errors=time_limit_errors
        )
        return cls(runner=runner, liveness=Liveness(store, runner.worker_id, settings.heartbeat_seconds))

    def stop(self) -> None:
        """Stop the heartbeat, remove it, and close the store."""
        self.liveness.stop()
        self.runner.store.dispose()
