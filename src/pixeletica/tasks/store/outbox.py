"""The dispatch outbox: which queued tasks a broker still has to be told about."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from pixeletica.tasks.model import Status
from pixeletica.tasks.schema import tasks
from pixeletica.tasks.store.database import Database


class Outbox(Database):
    """Tasks are stored first and sent to the broker after; ``dispatched_at`` says when they were sent."""

    def to_dispatch(self, redispatch_after: float | None = None, limit: int = 500) -> list[tuple[str, int]]:
        """(id, priority) of queued, runnable tasks the broker has not been told about.

        With ``redispatch_after`` (seconds), also those told longer ago than that and still queued:
        their message may have been lost (a broker restarted without persistence, or flushed).
        """
        now = self._now()
        told: sa.ColumnElement[bool] = tasks.c.dispatched_at.is_(None)
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
