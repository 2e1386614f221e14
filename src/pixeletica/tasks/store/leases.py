"""What a worker writes while it holds a task: its lease and its progress (never its status)."""

from __future__ import annotations

from pixeletica.tasks.model import Task
from pixeletica.tasks.schema import tasks
from pixeletica.tasks.store.database import Database
from pixeletica.tasks.store.status import held


class Leases(Database):
    """A running attempt's writes; each applies only while the task is still that attempt's."""

    def heartbeat(self, task: Task, lease_seconds: float) -> bool:
        """Renew the lease; False if the task is no longer this attempt's (re-queued or finished)."""
        return self._update_held(task, lease_expires_at=self._now(lease_seconds))

    def set_progress(self, task: Task, progress: int, step: str) -> bool:
        """Record progress (0-100) and the current step; False if the task is no longer this attempt's."""
        return self._update_held(task, progress=max(0, min(100, int(progress))), step=step[:64])

    def _update_held(self, task: Task, **values: object) -> bool:
        with self._write() as connection:
            update = tasks.update().where(*held(task)).values(**values, updated_at=self._now())
            return connection.execute(update).rowcount == 1
