"""What a task is: its statuses, priorities, the transitions between statuses, and the record."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import IntEnum, StrEnum
from typing import Any, Protocol

from pixeletica.errors import InvalidInput


class Status(StrEnum):
    """The public statuses, exactly the seed's."""

    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"

    @classmethod
    def parse(cls, value: str) -> Status:
        try:
            return cls(value.strip().lower())
        except ValueError:
            raise InvalidInput(f"unknown status {value!r}; choose one of: {', '.join(s.value for s in cls)}") from None


FINISHED = frozenset({Status.COMPLETED, Status.FAILED})

#: Transitions the task system makes by itself. Manual overrides (the CLI's ``update``) may
#: move a task between any two different statuses; they are still compare-and-set and recorded.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.QUEUED: frozenset({Status.PROCESSING, Status.FAILED}),  # claimed; cancelled
    Status.PROCESSING: frozenset({Status.COMPLETED, Status.FAILED, Status.QUEUED}),  # done; failed; retry/lost
    Status.COMPLETED: frozenset({Status.QUEUED}),  # retried by hand
    Status.FAILED: frozenset({Status.QUEUED}),  # retried by hand
}


class Priority(IntEnum):
    """Workers take higher priority first, then the oldest."""

    LOW = 0
    NORMAL = 1
    HIGH = 2

    @classmethod
    def parse(cls, value: str | int) -> Priority:
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[value.strip().upper()]
        except KeyError:
            raise InvalidInput(f"unknown priority {value!r}; choose one of: high, normal, low") from None

    @property
    def label(self) -> str:
        return self.name.lower()


#: A task's priority when its submission names none.
DEFAULT_PRIORITY = Priority.NORMAL


class ErrorCode(StrEnum):
    """Why a task failed, for machines; the task's ``error`` says it for people."""

    INVALID_INPUT = "invalid_input"
    UNSUPPORTED_IMAGE = "unsupported_image"
    LIMIT_EXCEEDED = "limit_exceeded"
    TRANSIENT = "transient_error"
    RETRIES_EXHAUSTED = "retries_exhausted"
    WORKER_LOST = "worker_lost"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    MANUAL = "manual"
    OUT_OF_MEMORY = "out_of_memory"
    INTERNAL = "internal_error"


#: What anyone may read about failures whose details (exception text, paths, SQL) are for operators
#: only: the task's ``error`` of these codes is shown to the public as this sentence instead.
PUBLIC_ERRORS = {
    ErrorCode.INTERNAL.value: "an internal error stopped this conversion; the operators can see what happened",
    ErrorCode.TRANSIENT.value: "a temporary problem on the server interrupted this conversion; it is tried again",
    ErrorCode.RETRIES_EXHAUSTED.value: "temporary problems on the server kept interrupting this conversion; "
    "it was given up (try again later)",
}

_KNOWN_CODES = frozenset(code.value for code in ErrorCode)


def took_too_long(limit: float, *, by: str, from_setting: bool = True) -> str:
    """The error of a task failed for running longer than ``limit`` seconds (the same whoever stopped it)."""
    setting = " (TASK_MAX_PROCESSING_TIME)" if from_setting else ""
    return f"processing took longer than {limit:g} seconds{setting}; marked failed by {by}"


#: Longer than any task can have run (ten years); larger limits find nothing anyway.
_LONGEST = 10 * 365 * 86400.0


class ProcessingReads(Protocol):
    """What :func:`find_stuck` reads: the store, or the task tool's plain SQLite reader."""

    def processing_longer_than(self, seconds: float, limit: int = 1000) -> list[Task]: ...


def find_stuck(store: ProcessingReads, max_time: float) -> list[Task]:
    """Tasks processing for longer than ``max_time`` seconds (the seed's stuck tasks), oldest first."""
    if not max_time >= 0:  # also refuses NaN
        raise InvalidInput(f"the maximum processing time must be 0 or more seconds, got {max_time}")
    if max_time > _LONGEST:
        return []
    return store.processing_longer_than(max_time)


#: How many of its beats a process (worker, monitor) may miss and still count as alive.
MISSED_BEATS = 3


def beat_recently(seen: dt.datetime, now: dt.datetime, every: float, *, slack: float = 0.0) -> bool:
    """Whether a process that beats ``every`` seconds, last seen at ``seen``, is alive at ``now``: it
    missed fewer than :data:`MISSED_BEATS` beats (give or take ``slack`` seconds, for beats that come
    after work of their own, like the monitor's after each sweep)."""
    return (now - seen).total_seconds() <= MISSED_BEATS * every + slack


def utcnow() -> dt.datetime:
    """Now in UTC, naive (the store keeps naive UTC on every database)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def iso(value: dt.datetime | None) -> str | None:
    """A stored (naive UTC) time as ISO 8601 with milliseconds and 'Z'."""
    return value.isoformat(timespec="milliseconds") + "Z" if value else None


@dataclass(frozen=True, kw_only=True)
class Task:
    """One conversion task as stored. Built from a database row with :meth:`from_row`."""

    id: str
    status: Status
    priority: Priority
    progress: int
    step: str | None
    settings: dict[str, Any]
    input_name: str
    input_size: int
    input_sha256: str
    attempt: int
    max_attempts: int
    worker_id: str | None
    lease_expires_at: dt.datetime | None
    created_at: dt.datetime
    queued_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    updated_at: dt.datetime
    not_before: dt.datetime | None
    error: str | None
    error_code: str | None
    traceback: str | None
    result: dict[str, Any] = field(default_factory=dict)
    dispatched_at: dt.datetime | None = None  # when a broker was last told to run it (None: not yet / local)
    owner: str | None = None  # SHA-256 of the key of whoever submitted it (see pixeletica.api.access)
    public: bool = False  # its map is listed and readable by every visitor

    @classmethod
    def from_row(cls, row: Any) -> Task:
        return cls.from_mapping(row._mapping)

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> Task:
        """The task of a row of the ``tasks`` table, by column name."""
        return cls(
            id=m["id"],
            status=Status(m["status"]),
            priority=Priority(m["priority"]),
            progress=m["progress"],
            step=m["step"],
            settings=json.loads(m["settings"] or "{}"),
            input_name=m["input_name"],
            input_size=m["input_size"],
            input_sha256=m["input_sha256"],
            attempt=m["attempt"],
            max_attempts=m["max_attempts"],
            worker_id=m["worker_id"],
            lease_expires_at=m["lease_expires_at"],
            created_at=m["created_at"],
            queued_at=m["queued_at"],
            started_at=m["started_at"],
            finished_at=m["finished_at"],
            updated_at=m["updated_at"],
            not_before=m["not_before"],
            error=m["error"],
            error_code=m["error_code"],
            traceback=m["traceback"],
            result=json.loads(m["result"] or "{}"),
            dispatched_at=m.get("dispatched_at"),
            owner=m.get("owner"),
            public=bool(m.get("public") or False),
        )

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def public_error(self) -> str | None:
        """The error as anyone may read it: a sentence, without exception text, paths or SQL."""
        if self.error is None:
            return None
        if self.error_code in PUBLIC_ERRORS:
            return PUBLIC_ERRORS[self.error_code]
        if self.error_code not in _KNOWN_CODES:
            return "this conversion failed"
        return self.error

    def as_json(self) -> dict[str, Any]:
        """Every field as JSON-ready values: ISO times with 'Z', status and priority by name."""
        out = dict(self.__dict__)  # (field by field: `task find-stuck --json` writes a thousand of these)
        out["status"], out["priority"] = self.status.value, self.priority.label
        for key in _TIMES:
            out[key] = iso(out[key])
        return out


#: The fields of a :class:`Task` that are times.
_TIMES = tuple(f.name for f in fields(Task) if "datetime" in str(f.type))


@dataclass(frozen=True, kw_only=True)
class Event:
    """One row of a task's append-only history."""

    id: int
    task_id: str
    at: dt.datetime
    from_status: str | None
    to_status: str
    attempt: int
    actor: str
    message: str

    @classmethod
    def from_row(cls, row: Any) -> Event:
        return cls.from_mapping(row._mapping)

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> Event:
        return cls(
            **{k: m[k] for k in ("id", "task_id", "at", "from_status", "to_status", "attempt", "actor", "message")}
        )


@dataclass(frozen=True, kw_only=True)
class NewArtifact:
    """A file a task produced, to record with the task when it completes."""

    file_id: str
    category: str
    filename: str
    media_type: str
    size: int
    sha256: str
    path: str  # relative to the tasks folder


@dataclass(frozen=True, kw_only=True)
class Artifact(NewArtifact):
    """A file a task produced, kept in the task's folder."""

    task_id: str

    @classmethod
    def from_row(cls, row: Any) -> Artifact:
        return cls.from_mapping(row._mapping)

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> Artifact:
        return cls(**{f.name: m[f.name] for f in fields(cls)})
