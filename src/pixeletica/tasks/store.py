"""The task store: every read and write of tasks, events and artifacts, behind one class.

Every status change is one compare-and-set ``UPDATE ... WHERE id = ? AND status = ? AND
attempt = ?`` in the same transaction as its event row; a change that did not apply is detected
from the row count and raised as :class:`~pixeletica.errors.TransitionConflict`, never assumed.

Any SQLAlchemy database works. SQLite gets tuning only: WAL, a busy timeout, foreign keys, and
write transactions that take the write lock up front (``BEGIN IMMEDIATE``) so that concurrent
writers wait for each other instead of failing.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pixeletica.config import safe_url
from pixeletica.errors import InvalidInput, NotFound, TransitionConflict
from pixeletica.tasks import model
from pixeletica.tasks.model import Artifact, Event, Priority, Status, Task
from pixeletica.tasks.schema import admin_sessions, artifacts, events, heartbeats, tasks

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The newest migration in ``migrations/versions`` (a test checks they agree).
HEAD_REVISION = "0004"
_BUSY_TIMEOUT_MS = 30_000
#: Seconds to connect for workers, the monitor and commands, which nobody waits on at once (the API
#: passes PIXELETICA_STORE_TIMEOUT, the time it may keep a client waiting).
BACKGROUND_TIMEOUT = 5.0


@dataclass(frozen=True, kw_only=True)
class NewArtifact:
    """An artifact to record when a task completes."""

    file_id: str
    category: str
    filename: str
    media_type: str
    size: int
    sha256: str
    path: str


def _configure_sqlite(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        _wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        readonly = connection.get_execution_options().get("pixeletica_readonly", False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def _wal(cursor: Any) -> None:
    """Switch the database file to WAL (once: the mode is kept in the file).

    While processes starting together create the same new database, SQLite can answer the
    switch with "database is locked" at once, without waiting for the busy timeout: try again.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _revision(connection: sa.Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


class Store:
    """All access to the task tables. Thread-safe; one per process is enough.

    Every time that decides something — a lease, a retry delay, what a sweep finds, when a task
    started or finished — is the database's clock, never the process's: workers on machines whose
    clocks disagree still agree on every lease. ``time_offset`` (seconds, 0 in production) moves
    that clock for tests, which then need no sleeps.
    """

    time_offset: float = 0.0

    def __init__(self, url: str, *, timeout: float = BACKGROUND_TIMEOUT) -> None:
        """``timeout``: seconds to connect, or to wait for a pooled connection (PostgreSQL statements stop at 30 s)."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        try:
            parsed = sa.engine.make_url(url)
            if self.is_sqlite and parsed.database in (None, "", ":memory:"):
                raise InvalidInput(
                    f"the task database {url!r} is in memory, where other processes cannot see it: give a file, "
                    "like sqlite:////var/lib/pixeletica/pixeletica.db"
                )
            if self.is_sqlite:
                folder = Path(parsed.database).expanduser().parent
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise InvalidInput(
                        f"cannot create the folder of the task database '{folder}': {exc.strerror or exc}"
                    ) from None
            if self.is_sqlite:
                self.engine = sa.create_engine(url)
            else:  # connecting gives up in seconds; a statement the server runs, after 30 s (a stopped server
                # cannot stop its own statements: callers that must answer bound their wait, as the API does)
                connect = {"connect_timeout": max(2, math.ceil(timeout)), "options": "-c statement_timeout=30000"}
                self.engine = sa.create_engine(url, pool_pre_ping=True, pool_timeout=timeout, connect_args=connect)
        except ImportError as missing:  # a dialect whose driver is not installed (mysql, asyncpg...)
            raise InvalidInput(
                f"the task database URL {safe_url(url)!r} needs the Python module {missing.name!r}, which is not "
                "installed; Pixeletica's store runs on PostgreSQL (postgresql+psycopg://...) or SQLite"
            ) from None
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ValueError):
            raise InvalidInput(
                f"the task database URL {safe_url(url)!r} is not one Pixeletica can use; write it like "
                "postgresql+psycopg://user:password@host:5432/name or sqlite:////path/to/pixeletica.db"
            ) from None
        if self.is_sqlite:
            _configure_sqlite(self.engine)

    @classmethod
    def open(cls, url: str, *, timeout: float = BACKGROUND_TIMEOUT) -> Store:
        """A store at ``url`` with its schema up to date; a bad URL or a database out of reach is one
        :class:`InvalidInput` sentence (for the commands that start services), never a traceback."""
        store = cls(url, timeout=timeout)
        try:
            store.upgrade()
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:  # out of reach; anything else is a bug
            store.dispose()
            text = str(getattr(exc, "orig", None) or exc).strip()
            reason = text.splitlines()[0] if text else type(exc).__name__
            raise InvalidInput(f"cannot use the task database at {safe_url(url)}: {reason}") from None
        return store

    # --- schema -----------------------------------------------------------------------------

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (safe to call from many processes at once).

        Alembic is only loaded when there is something to migrate: most starts just read the
        schema's revision.
        """
        if self.revision() == HEAD_REVISION:
            return
        from alembic import command
        from alembic.config import Config

        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET LOCAL statement_timeout = 0")  # a migration may take its time
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7370343)")
            if _revision(connection) != HEAD_REVISION:  # another process may have just done it
                cfg = Config()
                cfg.set_main_option("script_location", str(_MIGRATIONS))
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, "head")

    def revision(self) -> str | None:
        """The schema's migration revision, or None for an empty database."""
        with self._read() as connection:
            return _revision(connection)

    # --- the database's clock ------------------------------------------------------------------

    def _now(self, plus: float = 0.0) -> Any:
        """SQL for the database's current UTC time, ``plus`` seconds (naive, as every time is stored)."""
        return _clock_sql(self.is_sqlite, round(float(plus) + self.time_offset, 3))

    def clock(self) -> dt.datetime:
        """The database's current UTC time (what leases and sweeps are measured against)."""
        with self._read() as connection:
            return connection.execute(sa.select(sa.type_coerce(self._now(), sa.DateTime))).scalar_one()

    # --- transactions -----------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self.engine.connect().execution_options(pixeletica_readonly=True) as connection, connection.begin():
            yield connection

    def _event(
        self, connection: sa.Connection, task_id: str, from_status: str | None, to_status: str, attempt: int,
        actor: str, message: str,
    ) -> None:  # fmt: skip
        connection.execute(
            events.insert().values(
                task_id=task_id,
                at=self._now(),
                from_status=from_status,
                to_status=to_status,
                attempt=attempt,
                actor=actor,
                message=message,
            )
        )

    # --- creating and reading ---------------------------------------------------------------

    def create(
        self,
        *,
        settings: dict[str, Any],
        input_name: str,
        input_size: int,
        input_sha256: str,
        priority: Priority = Priority.NORMAL,
        max_attempts: int = 3,
        actor: str = "api",
        task_id: str | None = None,
        owner: str | None = None,
        public: bool = False,
    ) -> Task:
        """Store a new task as ``queued`` (with its first event) and return it."""
        now = self._now()
        task_id = task_id or str(uuid.uuid4())
        with self._write() as connection:
            connection.execute(
                tasks.insert().values(
                    id=task_id,
                    status=Status.QUEUED.value,
                    priority=int(priority),
                    progress=0,
                    step=None,
                    settings=json.dumps(settings, sort_keys=True),
                    input_name=input_name,
                    input_size=input_size,
                    input_sha256=input_sha256,
                    attempt=0,
                    max_attempts=max_attempts,
                    created_at=now,
                    queued_at=now,
                    updated_at=now,
                    result="{}",
                    owner=owner,
                    public=public,
                )
            )
            self._event(connection, task_id, None, Status.QUEUED.value, 0, actor, "task created")
        return self.get(task_id)

    def get(self, task_id: str) -> Task:
        """The task with exactly this id; :class:`NotFound` if there is none."""
        with self._read() as connection:
            row = connection.execute(sa.select(tasks).where(tasks.c.id == task_id)).first()
        if row is None:
            raise NotFound(f"task not found: {task_id}")
        return Task.from_row(row)

    def resolve(self, prefix: str) -> Task:
        """The task whose id starts with ``prefix`` (ids may be abbreviated to a unique prefix)."""
        prefix = prefix.strip().lower()
        if not prefix or not all(c in "0123456789abcdef-" for c in prefix):
            raise NotFound(f"task not found: {prefix!r} is not a task id")
        with self._read() as connection:
            rows = connection.execute(
                sa.select(tasks).where(tasks.c.id >= prefix, tasks.c.id < prefix + "\uffff").limit(2)
            ).all()
        if not rows:
            raise NotFound(f"task not found: {prefix}")
        if len(rows) > 1:
            raise InvalidInput(f"task id prefix {prefix!r} is ambiguous; give more characters")
        return Task.from_row(rows[0])

    #: Columns tasks can be listed by (``list(sort=...)``).
    SORTABLE = ("created_at", "updated_at", "status", "priority", "progress", "input_name")

    def list(
        self,
        *,
        status: Status | None = None,
        limit: int = 50,
        offset: int = 0,
        created_after: dt.datetime | None = None,
        created_before: dt.datetime | None = None,
        search: str | None = None,
        oldest_first: bool = False,
        sort: str = "created_at",
    ) -> list[Task]:
        """Tasks, newest (largest) first unless ``oldest_first``; ``search`` matches id prefix or file name."""
        if sort not in self.SORTABLE:
            raise ValueError(f"sort must be one of {', '.join(self.SORTABLE)}")
        query = _matching(sa.select(tasks), status, created_after, created_before, search)
        column = tasks.c[sort]
        query = query.order_by(column.asc() if oldest_first else column.desc(), tasks.c.id).limit(limit).offset(offset)
        with self._read() as connection:
            return [Task.from_row(r) for r in connection.execute(query)]

    def count_matching(
        self,
        *,
        status: Status | None = None,
        created_after: dt.datetime | None = None,
        created_before: dt.datetime | None = None,
        search: str | None = None,
    ) -> int:
        """How many tasks :meth:`list` would page through with these filters."""
        query = _matching(sa.select(sa.func.count()).select_from(tasks), status, created_after, created_before, search)
        with self._read() as connection:
            return int(connection.execute(query).scalar_one())

    def count(self, status: Status | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(tasks)
        if status is not None:
            query = query.where(tasks.c.status == status.value)
        with self._read() as connection:
            return int(connection.execute(query).scalar_one())

    def counts(self) -> dict[Status, int]:
        """How many tasks are in each status."""
        query = sa.select(tasks.c.status, sa.func.count()).group_by(tasks.c.status)
        with self._read() as connection:
            found = {Status(s): int(n) for s, n in connection.execute(query)}
        return {s: found.get(s, 0) for s in Status}

    def stats_rows(self, created_after: dt.datetime) -> list[Any]:
        """(status, created_at, started_at, finished_at, error_code) of tasks created after a time."""
        query = sa.select(
            tasks.c.status, tasks.c.created_at, tasks.c.started_at, tasks.c.finished_at, tasks.c.error_code
        ).where(tasks.c.created_at >= created_after)
        with self._read() as connection:
            return list(connection.execute(query))

    def with_artifact(
        self, file_id: str, limit: int = 200, *, everyone: bool = True, owner: str | None = None
    ) -> list[Task]:
        """Completed tasks that have an artifact with this file id, newest first.

        Unless ``everyone``, only the public ones and those of ``owner`` (an owner key's digest).
        """
        query = (
            sa.select(tasks)
            .join(artifacts, artifacts.c.task_id == tasks.c.id)
            .where(artifacts.c.file_id == file_id, tasks.c.status == Status.COMPLETED.value)
            .order_by(tasks.c.created_at.desc())
            .limit(limit)
        )
        if not everyone:
            visible = tasks.c.public == sa.true()
            query = query.where(sa.or_(visible, tasks.c.owner == owner) if owner else visible)
        with self._read() as connection:
            return [Task.from_row(r) for r in connection.execute(query)]

    def error_counts(self) -> dict[str, int]:
        """Failed tasks in the store by error code."""
        query = (
            sa.select(tasks.c.error_code, sa.func.count())
            .where(tasks.c.status == Status.FAILED.value)
            .group_by(tasks.c.error_code)
        )
        with self._read() as connection:
            return {str(code or "unknown"): int(n) for code, n in connection.execute(query)}

    def events(self, task_id: str) -> list[Event]:
        query = sa.select(events).where(events.c.task_id == task_id).order_by(events.c.id)
        with self._read() as connection:
            return [Event.from_row(r) for r in connection.execute(query)]

    def artifact(self, task_id: str, file_id: str) -> Artifact | None:
        """One file of a task by its id (None if the task has no such file)."""
        query = sa.select(artifacts).where(artifacts.c.task_id == task_id, artifacts.c.file_id == file_id)
        with self._read() as connection:
            row = connection.execute(query).first()
        return Artifact.from_row(row) if row is not None else None

    def artifacts(self, task_id: str) -> list[Artifact]:
        query = sa.select(artifacts).where(artifacts.c.task_id == task_id).order_by(artifacts.c.file_id)
        with self._read() as connection:
            return [Artifact.from_row(r) for r in connection.execute(query)]

    # --- status changes ---------------------------------------------------------------------

    def transition(
        self,
        task: Task,
        to: Status,
        *,
        actor: str,
        message: str,
        manual: bool = False,
        retry_in: float | None = None,
        lease_seconds: float | None = None,
        only_if_lease_expired: bool = False,
        **fields: Any,
    ) -> Task:
        """Move ``task`` from the status and attempt it was read with to ``to``, or raise.

        Raises :class:`TransitionConflict` if the stored task is no longer in that status and
        attempt (someone else changed it first), or if the change is not allowed. Back to
        ``queued``, ``retry_in`` seconds delay the next claim. Into ``processing`` (only by hand:
        workers claim), the task gets a start time and a lease of ``lease_seconds`` held by nobody,
        so that the lease sweep finds it. ``only_if_lease_expired``: only if its lease has run out
        by the database's clock at that very moment (a heartbeat that came meanwhile wins).
        """
        if to == task.status:
            raise TransitionConflict(f"task {task.id} is already {to.value}")
        if not manual and to not in model.TRANSITIONS[task.status]:
            raise TransitionConflict(f"task {task.id} cannot go from {task.status.value} to {to.value}")
        now = self._now()
        values: dict[str, Any] = {"status": to.value, "updated_at": now, **fields}
        if to == Status.QUEUED:
            values.setdefault("queued_at", now)
            values.update(worker_id=None, lease_expires_at=None, finished_at=None, dispatched_at=None)
            values.setdefault("progress", 0)
            values.setdefault("step", None)
            if retry_in is not None:
                values["not_before"] = self._now(retry_in)
        elif to == Status.PROCESSING:
            if lease_seconds is None:
                raise ValueError("a task put in processing needs a lease (lease_seconds)")
            values.update(started_at=now, lease_expires_at=self._now(lease_seconds), finished_at=None, not_before=None)
            values.setdefault("worker_id", f"nobody (set by {actor})")
        elif to in model.FINISHED:
            values.setdefault("finished_at", now)
            values.update(lease_expires_at=None)
            if to == Status.COMPLETED:
                values.setdefault("progress", 100)
        for key in ("result", "settings"):
            if key in values and not isinstance(values[key], str):
                values[key] = json.dumps(values[key], sort_keys=True)
        with self._write() as connection:
            where = [tasks.c.id == task.id, tasks.c.status == task.status.value, tasks.c.attempt == task.attempt]
            if only_if_lease_expired:
                where.append(tasks.c.lease_expires_at < self._now())
            changed = connection.execute(tasks.update().where(*where).values(**values)).rowcount
            if changed != 1:
                raise TransitionConflict(
                    f"task {task.id} changed before it could go from {task.status.value} to {to.value}"
                )
            if task.status == Status.COMPLETED:  # its results are no longer the task's (files stay until deleted)
                connection.execute(artifacts.delete().where(artifacts.c.task_id == task.id))
            self._event(
                connection, task.id, task.status.value, to.value, fields.get("attempt", task.attempt), actor, message
            )
        return self.get(task.id)

    def claim(self, worker_id: str, lease_seconds: float, task_id: str | None = None) -> Task | None:
        """Take the next runnable queued task (highest priority, then oldest) for ``worker_id``.

        With ``task_id``, take that task only (a broker delivered it). Sets it ``processing``
        with a lease, counts the attempt, and records the event; returns None if nothing is
        runnable (for ``task_id``: it is not queued, or waits for a retry delay). Two workers
        never get the same task: the update only applies to a row still ``queued``.
        """
        if task_id is not None:
            return self._claim_one(worker_id, lease_seconds, task_id)
        for _ in range(5):
            now = self._now()
            candidate = (
                sa.select(tasks.c.id, tasks.c.attempt)
                .where(
                    tasks.c.status == Status.QUEUED.value,
                    sa.or_(tasks.c.not_before.is_(None), tasks.c.not_before <= now),
                )
                .order_by(tasks.c.priority.desc(), tasks.c.queued_at.asc(), tasks.c.id)
                .limit(1)
            )
            if not self.is_sqlite:
                candidate = candidate.with_for_update(skip_locked=True)
            with self._write() as connection:
                row = connection.execute(candidate).first()
                if row is None:
                    return None
                where = (tasks.c.id == row.id, tasks.c.status == Status.QUEUED.value, tasks.c.attempt == row.attempt)
                claimed = self._take(connection, where, worker_id, lease_seconds, now)
                if claimed is not None:
                    return claimed
        return None

    def _claim_one(self, worker_id: str, lease_seconds: float, task_id: str) -> Task | None:
        """Claim one named task in a single compare-and-set update (no search, so no row to skip)."""
        now = self._now()
        where = (
            tasks.c.id == task_id,
            tasks.c.status == Status.QUEUED.value,
            sa.or_(tasks.c.not_before.is_(None), tasks.c.not_before <= now),
        )
        with self._write() as connection:
            return self._take(connection, where, worker_id, lease_seconds, now)

    def _take(
        self, connection: sa.Connection, where: tuple[Any, ...], worker_id: str, lease_seconds: float, now: Any
    ) -> Task | None:
        """queued -> processing for the row ``where`` selects, with a lease and the next attempt; the event too."""
        claimed = connection.execute(
            tasks.update()
            .where(*where)
            .values(
                status=Status.PROCESSING.value,
                attempt=tasks.c.attempt + 1,
                worker_id=worker_id,
                lease_expires_at=self._now(lease_seconds),
                started_at=now,
                updated_at=now,
                progress=0,
                step="starting",
                not_before=None,
            )
            .returning(*tasks.c)
        ).first()
        if claimed is None:
            return None
        task = Task.from_row(claimed)
        self._event(
            connection, task.id, Status.QUEUED.value, Status.PROCESSING.value, task.attempt,
            f"worker:{worker_id}", f"claimed (attempt {task.attempt})",
        )  # fmt: skip
        return task

    # --- dispatch outbox ----------------------------------------------------------------------

    def to_dispatch(self, redispatch_after: float | None = None, limit: int = 500) -> list[tuple[str, int]]:
        """(id, priority) of queued, runnable tasks the broker has not been told about.

        With ``redispatch_after`` (seconds), also those told longer ago than that and still queued:
        their message may have been lost (a broker restarted without persistence, or flushed).
        """
        now = self._now()
        told = tasks.c.dispatched_at.is_(None)
        if redispatch_after is not None:
            told = sa.or_(told, tasks.c.dispatched_at < self._now(-redispatch_after))
        query = (
            sa.select(tasks.c.id, tasks.c.priority)
            .where(
                tasks.c.status == Status.QUEUED.value,
                told,
                sa.or_(tasks.c.not_before.is_(None), tasks.c.not_before <= now),
            )
            .order_by(tasks.c.priority.desc(), tasks.c.queued_at.asc())
            .limit(limit)
        )
        with self._read() as connection:
            return [(row.id, row.priority) for row in connection.execute(query)]

    def mark_dispatched(self, task_ids: Iterable[str]) -> None:
        """Record that the broker was sent a message for each of these tasks.

        Whatever their status now: a worker may have claimed one the moment its message went out.
        (One re-queued in that same moment is marked too and is sent again by the monitor's
        re-dispatch, ``PIXELETICA_REDISPATCH_SECONDS`` later: late, never lost.)
        """
        ids = list(task_ids)
        if not ids:
            return
        with self._write() as connection:
            connection.execute(tasks.update().where(tasks.c.id.in_(ids)).values(dispatched_at=self._now()))

    def heartbeat(self, task: Task, lease_seconds: float) -> bool:
        """Renew the lease; False if the task is no longer this attempt's (re-queued or finished)."""
        with self._write() as connection:
            return (
                connection.execute(
                    tasks.update()
                    .where(*self._owned(task))
                    .values(lease_expires_at=self._now(lease_seconds), updated_at=self._now())
                ).rowcount
                == 1
            )

    def set_progress(self, task: Task, progress: int, step: str) -> bool:
        """Record progress (0-100) and the current step; False if the task is no longer this attempt's."""
        with self._write() as connection:
            return (
                connection.execute(
                    tasks.update()
                    .where(*self._owned(task))
                    .values(progress=max(0, min(100, int(progress))), step=step[:64], updated_at=self._now())
                ).rowcount
                == 1
            )

    def complete(self, task: Task, files: Iterable[NewArtifact], result: dict[str, Any], actor: str) -> Task:
        """processing -> completed with its artifacts, in one transaction (compare-and-set)."""
        now = self._now()
        with self._write() as connection:
            finished = connection.execute(
                tasks.update()
                .where(*self._owned(task))
                .values(
                    status=Status.COMPLETED.value,
                    progress=100,
                    step="done",
                    finished_at=now,
                    updated_at=now,
                    lease_expires_at=None,
                    result=json.dumps(result, sort_keys=True),
                    error=None,
                    error_code=None,
                    traceback=None,
                )
                .returning(*tasks.c)
            ).first()
            if finished is None:
                raise TransitionConflict(f"task {task.id} changed before it could complete (attempt {task.attempt})")
            # No rows to clear first: a task has artifacts only while completed (leaving it drops them).
            rows = [{"task_id": task.id, **f.__dict__} for f in files]
            if rows:
                connection.execute(artifacts.insert(), rows)
            self._event(
                connection, task.id, Status.PROCESSING.value, Status.COMPLETED.value, task.attempt, actor,
                f"completed with {len(rows)} files",
            )  # fmt: skip
        return Task.from_row(finished)

    @staticmethod
    def _owned(task: Task) -> tuple[Any, ...]:
        return (tasks.c.id == task.id, tasks.c.status == Status.PROCESSING.value, tasks.c.attempt == task.attempt)

    # --- what the monitor looks for ---------------------------------------------------------

    def processing_longer_than(self, seconds: float, limit: int = 1000) -> list[Task]:
        """``processing`` tasks started more than ``seconds`` ago (the seed's stuck tasks), oldest first."""
        query = (
            sa.select(tasks)
            .where(tasks.c.status == Status.PROCESSING.value, tasks.c.started_at < self._now(-seconds))
            .order_by(tasks.c.started_at)
            .limit(limit)
        )
        with self._read() as connection:
            return [Task.from_row(r) for r in connection.execute(query)]

    def lease_expired(self, limit: int = 1000) -> list[Task]:
        """``processing`` tasks whose lease ran out: their worker is gone."""
        query = (
            sa.select(tasks)
            .where(tasks.c.status == Status.PROCESSING.value, tasks.c.lease_expires_at < self._now())
            .order_by(tasks.c.lease_expires_at)
            .limit(limit)
        )
        with self._read() as connection:
            return [Task.from_row(r) for r in connection.execute(query)]

    def finished_longer_than(self, status: Status, seconds: float, limit: int = 1000) -> list[Task]:
        """Finished tasks of ``status`` that finished more than ``seconds`` ago (for retention)."""
        query = (
            sa.select(tasks)
            .where(tasks.c.status == status.value, tasks.c.finished_at < self._now(-seconds))
            .order_by(tasks.c.finished_at)
            .limit(limit)
        )
        with self._read() as connection:
            return [Task.from_row(r) for r in connection.execute(query)]

    def delete(self, task: Task) -> bool:
        """Delete a task (events and artifacts go with it) if it is still as it was read."""
        with self._write() as connection:
            gone = connection.execute(
                tasks.delete().where(
                    tasks.c.id == task.id, tasks.c.status == task.status.value, tasks.c.attempt == task.attempt
                )
            ).rowcount
            if gone == 1:  # the foreign keys cascade; said again for databases that do not enforce them
                connection.execute(artifacts.delete().where(artifacts.c.task_id == task.id))
                connection.execute(events.delete().where(events.c.task_id == task.id))
            return gone == 1

    # --- heartbeats of workers and monitors ------------------------------------------------

    def beat(self, name: str, kind: str, info: dict[str, Any] | None = None) -> None:
        """Record that a long-running process (``kind`` worker or monitor) is alive."""
        values = {"kind": kind, "seen_at": self._now(), "info": json.dumps(info or {}, sort_keys=True)}
        with self._write() as connection:
            if connection.execute(heartbeats.update().where(heartbeats.c.name == name).values(**values)).rowcount:
                return
            connection.execute(heartbeats.insert().values(name=name, **values))

    def forget(self, name: str) -> None:
        """A process that stops cleanly removes its heartbeat."""
        with self._write() as connection:
            connection.execute(heartbeats.delete().where(heartbeats.c.name == name))

    def heartbeats(self, kind: str) -> list[tuple[str, dt.datetime, dict[str, Any]]]:
        """(name, last seen, info) of every process of ``kind`` that has beaten, most recent first."""
        query = sa.select(heartbeats).where(heartbeats.c.kind == kind).order_by(heartbeats.c.seen_at.desc())
        with self._read() as connection:
            return [(r.name, r.seen_at, json.loads(r.info)) for r in connection.execute(query)]

    # --- dashboard sessions ----------------------------------------------------------------

    def open_session(self, session_id: str, token_digest: str, seconds: float) -> None:
        """Record a signed-in dashboard session (by its digest) for ``seconds``; drop expired ones."""
        now = self._now()
        with self._write() as connection:
            connection.execute(admin_sessions.delete().where(admin_sessions.c.expires_at <= now))
            connection.execute(
                admin_sessions.insert().values(
                    id=session_id, token_digest=token_digest, created_at=now,
                    expires_at=self._now(seconds),
                )
            )  # fmt: skip

    def session_valid(self, session_id: str, token_digest: str) -> bool:
        """Whether this session exists, has not expired, and was signed in with the current admin token."""
        query = sa.select(admin_sessions.c.id).where(
            admin_sessions.c.id == session_id,
            admin_sessions.c.token_digest == token_digest,
            admin_sessions.c.expires_at > self._now(),
        )
        with self._read() as connection:
            return connection.execute(query).first() is not None

    def close_session(self, session_id: str) -> None:
        """Sign a session out: it is valid no more."""
        with self._write() as connection:
            connection.execute(admin_sessions.delete().where(admin_sessions.c.id == session_id))

    def dispose(self) -> None:
        self.engine.dispose()


def _matching(query, status, created_after, created_before, search):
    """``query`` restricted to tasks with this status, created in this range, matching ``search``."""
    if status is not None:
        query = query.where(tasks.c.status == status.value)
    if created_after is not None:
        query = query.where(tasks.c.created_at >= created_after)
    if created_before is not None:
        query = query.where(tasks.c.created_at < created_before)
    if search:
        needle = search.strip().lower()
        query = query.where(sa.or_(tasks.c.id.startswith(needle), tasks.c.input_name.ilike(f"%{needle}%")))
    return query


@functools.lru_cache(maxsize=256)
def _clock_sql(sqlite: bool, seconds: float) -> Any:
    """The SQL of :meth:`Store._now`, built once per offset: a task's statements use a handful of them.

    (Building a SQLAlchemy function expression costs about as much as running a small statement.)
    """
    if sqlite:
        return sa.func.strftime("%Y-%m-%d %H:%M:%f", "now", f"{seconds:+.3f} seconds")
    now = sa.func.timezone("UTC", sa.func.now())
    return now if seconds == 0 else now + sa.func.make_interval(0, 0, 0, 0, 0, 0, seconds)
