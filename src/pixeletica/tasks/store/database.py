"""The task database: the engine, SQLite's tuning, migrations, transactions and the database's clock.

Any SQLAlchemy database works. SQLite gets tuning only: WAL, a busy timeout, foreign keys, and
write transactions that take the write lock up front (``BEGIN IMMEDIATE``) so that concurrent
writers wait for each other instead of failing.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import sqlalchemy as sa

from pixeletica.config import safe_url
from pixeletica.errors import InvalidInput
from pixeletica.tasks.migrations import HEAD_REVISION
from pixeletica.tasks.sqlite_reads import unicode_lower

_MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
#: How long SQLite waits for another writer's lock (milliseconds).
_BUSY_TIMEOUT_MS = 30_000
#: How long PostgreSQL lets a statement run (milliseconds).
_STATEMENT_TIMEOUT_MS = 30_000
#: Seconds to connect for workers, the monitor and commands, which nobody waits on at once (the API
#: passes PIXELETICA_STORE_TIMEOUT, the time it may keep a client waiting).
BACKGROUND_TIMEOUT = 5.0


class Database:
    """A connection pool to the task database, its schema and its clock. Thread-safe.

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
        self.engine = _engine(url, self.is_sqlite, timeout)
        if self.is_sqlite:
            _configure_sqlite(self.engine)

    @classmethod
    def open(cls, url: str, *, timeout: float = BACKGROUND_TIMEOUT) -> Self:
        """A store at ``url`` with its schema up to date; a bad URL or a database out of reach is one
        :class:`InvalidInput` sentence (for the commands that start services), never a traceback."""
        store = cls(url, timeout=timeout)
        try:
            store.upgrade()
        except sa.exc.DatabaseError as exc:
            reason = unusable_reason(exc)
            if reason is None:  # a bug, not the database's state
                raise
            store.dispose()
            raise InvalidInput(f"cannot use the task database at {safe_url(url)}: {reason}") from None
        return store

    def dispose(self) -> None:
        self.engine.dispose()

    # --- schema -----------------------------------------------------------------------------

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (safe to call from many processes at once).

        Alembic is only loaded when there is something to migrate: most starts just read the
        schema's revision.
        """
        revision = self.revision()
        if revision == HEAD_REVISION:
            return
        if revision is not None and revision > HEAD_REVISION:  # revisions are numbered 0001, 0002, ...
            raise InvalidInput(
                f"the task database at {safe_url(self.url)} was made by a newer Pixeletica (schema {revision}; this "
                f"one knows up to {HEAD_REVISION}): upgrade Pixeletica"
            )
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


def _engine(url: str, is_sqlite: bool, timeout: float) -> sa.Engine:
    """The SQLAlchemy engine of ``url``; a URL Pixeletica cannot use is an :class:`InvalidInput` sentence."""
    try:
        parsed = sa.engine.make_url(url)
        if is_sqlite and parsed.database in (None, "", ":memory:"):
            raise InvalidInput(
                f"the task database {url!r} is in memory, where other processes cannot see it: give a file, "
                "like sqlite:////var/lib/pixeletica/pixeletica.db"
            )
        if is_sqlite:
            folder = Path(parsed.database or "").expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InvalidInput(
                    f"cannot create the folder of the task database '{folder}': {exc.strerror or exc}"
                ) from None
            return sa.create_engine(url)
        # Connecting gives up in seconds; a statement the server runs, after 30 s (a stopped server
        # cannot stop its own statements: callers that must answer bound their wait, as the API does).
        connect = {
            "connect_timeout": max(2, math.ceil(timeout)),
            "options": f"-c statement_timeout={_STATEMENT_TIMEOUT_MS}",
        }
        return sa.create_engine(url, pool_pre_ping=True, pool_timeout=timeout, connect_args=connect)
    except ImportError as missing:  # a dialect whose driver is not installed (mysql, asyncpg...)
        raise InvalidInput(
            f"the task database URL {safe_url(url)!r} needs the Python module {missing.name!r}, which is not "
            "installed; Pixeletica's store runs on PostgreSQL (postgresql+psycopg://..., with "
            "pip install 'pixeletica[postgres]') or SQLite"
        ) from None
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ValueError):
        raise InvalidInput(
            f"the task database URL {safe_url(url)!r} is not one Pixeletica can use; write it like "
            "postgresql+psycopg://user:password@host:5432/name or sqlite:////path/to/pixeletica.db"
        ) from None


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
        dbapi_connection.create_function("lower", 1, unicode_lower, deterministic=True)

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


def unusable_reason(exc: BaseException) -> str | None:
    """What the database said, in one line, if ``exc`` is the database out of reach or damaged (the operator's to
    fix, so a command says it in a sentence); None for any other error."""
    if not isinstance(exc, sa.exc.DatabaseError) or not _unusable(exc):
        return None
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _unusable(exc: sa.exc.DatabaseError) -> bool:
    """A database out of reach, or a file that is not (or no longer) an SQLite database: the operator's to
    fix. (SQLite says so only in words: SQLITE_NOTADB and SQLITE_CORRUPT are one Python exception.)"""
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return True
    return any(words in str(exc.orig) for words in ("file is not a database", "database disk image is malformed"))


def _revision(connection: sa.Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


@functools.lru_cache(maxsize=256)
def _clock_sql(sqlite: bool, seconds: float) -> Any:
    """The SQL of :meth:`Database._now`, built once per offset: a task's statements use a handful of them.

    (Building a SQLAlchemy function expression costs about as much as running a small statement.)
    """
    if sqlite:
        return sa.func.strftime("%Y-%m-%d %H:%M:%f", "now", f"{seconds:+.3f} seconds")
    now = sa.func.timezone("UTC", sa.func.now())
    return now if seconds == 0 else now + sa.func.make_interval(0, 0, 0, 0, 0, 0, seconds)
