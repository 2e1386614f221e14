"""The task store as request handlers see it: every call answers within PIXELETICA_STORE_TIMEOUT, or a 503.

A database that stops answering without refusing (a stopped process, a frozen machine, dropped
packets) leaves a driver call waiting for ever: the connect timeout is past, and PostgreSQL's
statement timeout cannot fire while its process is stopped. So each call of the store runs in one
of a few threads of its own, and the caller waits for it no longer than the limit; past it, the
call raises :class:`StoreSilent`, which the API answers 503 with Retry-After. The call itself goes
on, and finishes or fails whenever the database answers again; calls that had not started by then
are dropped. While the pool's threads all wait on a silent database, later calls wait in its
queue, within the same limit, so the server itself never hangs and recovers on its own.

A call that went on may still change something after its 503. One store call is one transaction,
so that is whole or nothing. An operation of several steps that cleans up when a step fails
(a submission keeps the input file only if its task is stored; a deletion sets the files aside
and puts them back if the record stays) must see its steps end, not a time limit: it runs as a
whole with :meth:`BoundedStore.run`, on the store itself, and goes on to its end in its thread.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar, cast

from pixeletica.errors import TransientError
from pixeletica.tasks.store import Store

log = logging.getLogger("pixeletica.api")
T = TypeVar("T")

#: Threads that talk to the store for request handlers (more wait on a silent database than this
#: only in the queue).
THREADS = 16


class StoreSilent(TransientError):
    """the task store does not answer; try again shortly (a change asked for may still be made when it answers)"""


class BoundedStore:
    """:class:`Store`'s methods, each bounded in time (``seconds``); anything else of the store as it is."""

    def __init__(self, store: Store, seconds: float, threads: int = THREADS) -> None:
        self.inner = store
        self.seconds = seconds
        self._calls: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple, dict]] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._serve, name=f"store-call-{n}", daemon=True) for n in range(threads)
        ]
        self._started = False
        self._lock = threading.Lock()

    def as_store(self) -> Store:
        """This view, to its callers the same :class:`Store` (each method bounded in time)."""
        return cast(Store, self)

    def run(self, operation: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``operation(store, *args, **kwargs)`` on the store itself, waited for at most the limit as a whole.

        Past the limit, :class:`StoreSilent`; the operation goes on to its end in its thread.
        """
        result: T = self.call(operation, self.inner, *args, **kwargs)
        return result

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if name.startswith("_") or not callable(attribute):
            return attribute
        return lambda *args, **kwargs: self.call(attribute, *args, **kwargs)

    def call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)`` in a store thread; its result, or :class:`StoreSilent` past the limit."""
        self._start()
        future: Future[Any] = Future()
        self._calls.put((future, function, args, kwargs))
        try:
            result = future.result(self.seconds)
        except FutureTimeout:
            future.cancel()  # not started yet: it never will be
            log.warning("the task store did not answer within %g s (%s)", self.seconds, function.__name__)
            raise StoreSilent(StoreSilent.__doc__) from None
        if isinstance(result, Iterator | contextlib.AbstractContextManager):  # would go on outside the bound
            raise TypeError(
                f"Store.{function.__name__} returns {type(result).__name__}; a bounded call must return values"
            )
        return result

    def _start(self) -> None:
        if self._started:
            return
        with self._lock:
            if not self._started:
                for thread in self._threads:
                    thread.start()
                self._started = True

    def _serve(self) -> None:
        while True:
            future, function, args, kwargs = self._calls.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(function(*args, **kwargs))
            except BaseException as exc:  # handed to the caller, which raises it
                future.set_exception(exc)
