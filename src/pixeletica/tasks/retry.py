"""What to do when a task fails: fail now, or try again later. Policy as data, in one place."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

import sqlalchemy.exc

from pixeletica import names
from pixeletica.errors import InvalidInput, LimitExceeded, TransientError, UnsupportedImage
from pixeletica.tasks.model import PUBLIC_ERRORS, ErrorCode

#: Failures that pass by themselves (the store or broker briefly out of reach, the disk busy): a loop
#: that meets one logs a line and tries again. Anything else is a bug, logged with its traceback.
RETRYABLE: tuple[type[BaseException], ...] = (
    TransientError,
    OSError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,
)


def report(log: logging.Logger, what: str, exc: BaseException) -> str:
    """Log a failure of a long-running loop — one line if it passes by itself, else with its traceback — and
    return it in one bounded line (for health checks)."""
    if isinstance(exc, RETRYABLE):
        log.warning("%s: %s", what, exc)
    else:
        log.error("%s: unexpected %s", what, type(exc).__name__, exc_info=exc)
    return names.label(f"{type(exc).__name__}: {exc}", 300)


@dataclass(frozen=True, kw_only=True)
class Failure:
    """A classified exception: whether trying again can help, a code, and a sentence for people.

    The sentence never quotes an unforeseen exception (its text may hold paths or SQL): that goes
    to the log and the task's traceback, which only operators see.
    """

    transient: bool
    code: ErrorCode
    message: str


def classify(exc: BaseException) -> Failure:
    """Bad input or settings fail at once; I/O, a busy database or a lost connection may pass."""
    if isinstance(exc, UnsupportedImage):
        return Failure(transient=False, code=ErrorCode.UNSUPPORTED_IMAGE, message=str(exc))
    if isinstance(exc, LimitExceeded):
        return Failure(transient=False, code=ErrorCode.LIMIT_EXCEEDED, message=str(exc))
    if isinstance(exc, InvalidInput):
        return Failure(transient=False, code=ErrorCode.INVALID_INPUT, message=str(exc))
    if isinstance(exc, MemoryError):
        return Failure(transient=False, code=ErrorCode.OUT_OF_MEMORY, message="not enough memory for this conversion")
    if isinstance(exc, RETRYABLE):
        return Failure(transient=True, code=ErrorCode.TRANSIENT, message=PUBLIC_ERRORS[ErrorCode.TRANSIENT.value])
    return Failure(transient=False, code=ErrorCode.INTERNAL, message=PUBLIC_ERRORS[ErrorCode.INTERNAL.value])


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Exponential backoff with jitter: base * 2**(attempt - 1), capped, times a factor in [0.5, 1.5)."""

    base_seconds: float
    max_seconds: float

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        raw = min(self.max_seconds, self.base_seconds * 2.0 ** max(0, attempt - 1))
        jitter = rng.random() if rng is not None else random.random()
        return raw * (0.5 + jitter)
