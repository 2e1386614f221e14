"""The task tool's reads of an SQLite store through the standard library's driver.

``pixeletica task list``, ``info`` and ``find-stuck`` answer an operator at once: loading SQLAlchemy
alone takes longer than the whole command may. These are the same queries as
:class:`pixeletica.tasks.store.reads.TaskReads`, written in SQL (the model-based test compares both
readers' answers after every step). Nothing here writes. Where this reader cannot answer for sure —
no database file yet, a schema to migrate, a URL with options, any error of the driver — it says so
(``None`` from :meth:`SqliteReads.open`, or :class:`sqlite3.Error`), and the command asks the Store.
"""

from __future__ import annotations

import builtins
import datetime as dt
import sqlite3
from typing import Any, Self

from pixeletica.errors import InvalidInput, NotFound
from pixeletica.tasks.migrations import HEAD_REVISION
from pixeletica.tasks.model import Artifact, Event, Status, Task

#: How long a read waits for a lock (seconds): in WAL mode only a database opened for exclusive use holds one
#: against readers; the Store then waits its own, longer, timeout and says so.
_BUSY_TIMEOUT = 2.0
#: The columns stored as times (SQLite keeps them as text).
_TIMES = frozenset(
    {"lease_expires_at", "created_at", "queued_at", "started_at", "finished_at", "updated_at", "not_before",
     "dispatched_at", "at"}
)  # fmt: skip


def database_path(url: str) -> str | None:
    """The file of a plain ``sqlite:///<path>`` URL; None for anything else (options, escapes, memory)."""
    path = url.removeprefix("sqlite:///")
    if path == url or not path or path == ":memory:" or any(c in path for c in "%?#~"):
        return None
    return path


def unicode_lower(text: str | None) -> str | None:
    """SQL ``lower()`` for SQLite, whose own lowers ASCII letters only (a search for "äö" would miss "ÄÖ")."""
    return text.lower() if isinstance(text, str) else text


def _escaped(text: str) -> str:
    """``text`` for a LIKE pattern with ``ESCAPE '/'``: its % and _ match themselves."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


class SqliteReads:
    """A read-only look at an SQLite task store whose schema is the newest."""

    #: Seconds added to the database's clock, as :attr:`pixeletica.tasks.store.Store.time_offset` (tests).
    time_offset: float = 0.0

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    @classmethod
    def open(cls, url: str) -> Self | None:
        """A reader of the store at ``url``, or None where only the Store can answer (not a plain SQLite URL,
        no such file, a schema that is not the newest, a file the driver cannot read)."""
        path = database_path(url)
        if path is None:
            return None
        try:
            connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=_BUSY_TIMEOUT)
        except sqlite3.Error:
            return None
        try:
            connection.row_factory = sqlite3.Row
            connection.create_function("lower", 1, unicode_lower, deterministic=True)
            revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error:
            revision = None
        if revision is None or revision[0] != HEAD_REVISION:
            connection.close()
            return None
        return cls(connection)

    def close(self) -> None:
        self.connection.close()

    def _rows(self, sql: str, *parameters: object) -> list[dict[str, Any]]:
        rows = self.connection.execute(sql, parameters).fetchall()
        return [
            {key: dt.datetime.fromisoformat(value) if key in _TIMES and value is not None else value
             for key, value in zip(row.keys(), row, strict=True)}
            for row in rows
        ]  # fmt: skip

    def _tasks(self, sql: str, *parameters: object) -> list[Task]:
        return [Task.from_mapping(row) for row in self._rows(sql, *parameters)]

    # --- as TaskReads ---------------------------------------------------------------------------

    def resolve(self, prefix: str) -> Task:
        """The task whose id starts with ``prefix``; :class:`NotFound` or :class:`InvalidInput` as the Store."""
        prefix = prefix.strip().lower()
        if not prefix or not all(c in "0123456789abcdef-" for c in prefix):
            raise NotFound(f"task not found: {prefix!r} is not a task id")
        rows = self._tasks("SELECT * FROM tasks WHERE id >= ? AND id < ? LIMIT 2", prefix, prefix + "\uffff")
        if not rows:
            raise NotFound(f"task not found: {prefix}")
        if len(rows) > 1:
            raise InvalidInput(f"task id prefix {prefix!r} is ambiguous; give more characters")
        return rows[0]

    def events(self, task_id: str) -> list[Event]:
        rows = self._rows("SELECT * FROM task_events WHERE task_id = ? ORDER BY id", task_id)
        return [Event.from_mapping(row) for row in rows]

    def artifacts(self, task_id: str) -> list[Artifact]:
        rows = self._rows("SELECT * FROM task_artifacts WHERE task_id = ? ORDER BY file_id", task_id)
        return [Artifact.from_mapping(row) for row in rows]

    def list(self, *, status: Status | None = None, limit: int = 50, search: str | None = None) -> list[Task]:
        """Tasks newest first; ``search`` matches an id prefix or part of the input file name."""
        where, parameters = ["1 = 1"], []
        if status is not None:
            where.append("status = ?")
            parameters.append(status.value)
        needle = (search or "").replace("\x00", "").strip().lower()
        if needle:  # matched as it is written: % and _ are characters here, not wildcards
            where.append("(id LIKE ? || '%' ESCAPE '/' OR lower(input_name) LIKE '%' || ? || '%' ESCAPE '/')")
            parameters += [_escaped(needle), _escaped(needle)]
        sql = f"SELECT * FROM tasks WHERE {' AND '.join(where)} ORDER BY created_at DESC, id LIMIT ?"
        return self._tasks(sql, *parameters, limit)

    def processing_longer_than(self, seconds: float, limit: int = 1000) -> builtins.list[Task]:
        """``processing`` tasks started more than ``seconds`` ago by the database's clock, oldest first."""
        return self._tasks(
            "SELECT * FROM tasks WHERE status = ? AND started_at < strftime('%Y-%m-%d %H:%M:%f', 'now', ?)"
            " ORDER BY started_at LIMIT ?",
            Status.PROCESSING.value,
            f"{round(float(-seconds) + self.time_offset, 3):+.3f} seconds",
            limit,
        )
