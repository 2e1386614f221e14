"""Reading the task tables: one task, its events and files, lists and counts for the dashboard and
analytics, and what the monitor's sweeps look for. Nothing here writes."""

from __future__ import annotations

import builtins
import datetime as dt
from typing import Any

import sqlalchemy as sa

from pixeletica.errors import InvalidInput, NotFound
from pixeletica.tasks.model import Artifact, Event, Status, Task
from pixeletica.tasks.schema import artifacts, events, tasks
from pixeletica.tasks.store.database import Database


class TaskReads(Database):
    """The store's queries of tasks, events and artifacts."""

    # --- one task -----------------------------------------------------------------------------

    def get(self, task_id: str) -> Task:
        """The task with exactly this id; :class:`NotFound` if there is none."""
        if "\x00" in task_id:  # no id has one, and PostgreSQL refuses text that does
            raise NotFound("task not found: an id has no NUL character")
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

    # --- lists and counts (dashboard, analytics, metrics) -------------------------------------

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
    ) -> builtins.list[Task]:
        """Tasks, newest (largest) first unless ``oldest_first``; ``search`` matches id prefix or file name."""
        if sort not in self.SORTABLE:
            raise ValueError(f"sort must be one of {', '.join(self.SORTABLE)}")
        query = _matching(sa.select(tasks), status, created_after, created_before, search)
        column = tasks.c[sort]
        query = query.order_by(column.asc() if oldest_first else column.desc(), tasks.c.id).limit(limit).offset(offset)
        return self._tasks(query)

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

    def stats_rows(self, created_after: dt.datetime) -> builtins.list[Any]:
        """(status, created_at, started_at, finished_at, error_code) of tasks created after a time."""
        query = sa.select(
            tasks.c.status, tasks.c.created_at, tasks.c.started_at, tasks.c.finished_at, tasks.c.error_code
        ).where(tasks.c.created_at >= created_after)
        with self._read() as connection:
            return list(connection.execute(query))

    def error_counts(self) -> dict[str, int]:
        """Failed tasks in the store by error code."""
        query = (
            sa.select(tasks.c.error_code, sa.func.count())
            .where(tasks.c.status == Status.FAILED.value)
            .group_by(tasks.c.error_code)
        )
        with self._read() as connection:
            return {str(code or "unknown"): int(n) for code, n in connection.execute(query)}

    def with_artifact(
        self, file_id: str, limit: int = 200, *, everyone: bool = True, owner: str | None = None
    ) -> builtins.list[Task]:
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
        return self._tasks(query)

    # --- what the monitor looks for ---------------------------------------------------------

    def processing_longer_than(self, seconds: float, limit: int = 1000) -> builtins.list[Task]:
        """``processing`` tasks started more than ``seconds`` ago (the seed's stuck tasks), oldest first."""
        started = tasks.c.started_at
        return self._tasks(
            sa.select(tasks)
            .where(tasks.c.status == Status.PROCESSING.value, started < self._now(-seconds))
            .order_by(started)
            .limit(limit)
        )

    def lease_expired(self, limit: int = 1000) -> builtins.list[Task]:
        """``processing`` tasks whose lease ran out: their worker is gone."""
        lease = tasks.c.lease_expires_at
        return self._tasks(
            sa.select(tasks)
            .where(tasks.c.status == Status.PROCESSING.value, lease < self._now())
            .order_by(lease)
            .limit(limit)
        )

    def finished_longer_than(self, status: Status, seconds: float, limit: int = 1000) -> builtins.list[Task]:
        """Finished tasks of ``status`` that finished more than ``seconds`` ago (for retention)."""
        finished = tasks.c.finished_at
        return self._tasks(
            sa.select(tasks)
            .where(tasks.c.status == status.value, finished < self._now(-seconds))
            .order_by(finished)
            .limit(limit)
        )

    def _tasks(self, query: sa.Select[Any]) -> builtins.list[Task]:
        """The tasks ``query`` selects, in its order."""
        with self._read() as connection:
            return [Task.from_row(r) for r in connection.execute(query)]


def _matching(
    query: sa.Select[Any],
    status: Status | None,
    created_after: dt.datetime | None,
    created_before: dt.datetime | None,
    search: str | None,
) -> sa.Select[Any]:
    """``query`` restricted to tasks with this status, created in this range, matching ``search``."""
    if status is not None:
        query = query.where(tasks.c.status == status.value)
    if created_after is not None:
        query = query.where(tasks.c.created_at >= created_after)
    if created_before is not None:
        query = query.where(tasks.c.created_at < created_before)
    needle = (search or "").replace("\x00", "").strip().lower()
    if needle:  # matched as it is written: % and _ are characters here, not wildcards
        query = query.where(
            sa.or_(
                tasks.c.id.startswith(needle, autoescape=True),
                sa.func.lower(tasks.c.input_name).contains(needle, autoescape=True),
            )
        )
    return query
