"""Heartbeats of long-running processes (workers, monitors): who is alive, for health and metrics."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from pixeletica.tasks.schema import heartbeats
from pixeletica.tasks.store.database import Database


class Heartbeats(Database):
    """When each process last said it was alive (tasks have their own leases)."""

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
