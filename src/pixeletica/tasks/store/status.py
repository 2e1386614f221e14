"""Status changes: the one function that moves a task from one status to another, and the store's
operations built on it (create, claim, complete, transition, delete).

Every status change is one compare-and-set ``UPDATE ... WHERE id = ? AND status = ? AND
attempt = ?`` in the same transaction as its event row (:func:`change`); a change that did not
apply is detected from the returned row, never assumed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa

from pixeletica.errors import TransitionConflict
from pixeletica.tasks import model
from pixeletica.tasks.model import NewArtifact, Priority, Status, Task
from pixeletica.tasks.schema import artifacts, events, tasks
from pixeletica.tasks.store.database import Database


def change(
    db: Database,
    connection: sa.Connection,
    task_id: str,
    from_status: Status,
    to: Status,
    *,
    attempt: int | None,
    values: dict[str, Any],
    actor: str,
    message: str | Callable[[Task], str],
    only_if: Iterable[Any] = (),
    manual: bool = False,
) -> Task | None:
    """Move a task from ``from_status`` (and ``attempt``) to ``to`` with ``values``, and record the event.

    The one place a task's status changes. One ``UPDATE ... RETURNING`` that applies only to the
    row still in ``from_status`` and ``attempt`` (``None``: whatever its attempt, for a delivered
    task being claimed) and meeting ``only_if``, then the event row, in ``connection``'s
    transaction. ``message`` may be made from the changed task. Returns the changed task, or None
    if the stored task was no longer as expected. Raises :class:`TransitionConflict` for a change
    the task system never makes by itself (unless ``manual``: an operator may set any other status).
    """
    if to == from_status:
        raise TransitionConflict(f"task {task_id} is already {to.value}")
    if not manual and to not in model.TRANSITIONS[from_status]:
        raise TransitionConflict(f"task {task_id} cannot go from {from_status.value} to {to.value}")
    where = [tasks.c.id == task_id, tasks.c.status == from_status.value, *only_if]
    if attempt is not None:
        where.append(tasks.c.attempt == attempt)
    row = connection.execute(
        tasks.update().where(*where).values({"updated_at": db._now(), **values, "status": to.value}).returning(*tasks.c)
    ).first()
    if row is None:
        return None
    task = Task.from_row(row)
    text = message if isinstance(message, str) else message(task)
    _record(db, connection, task.id, from_status.value, to.value, task.attempt, actor, text)
    return task


def held(task: Task) -> tuple[Any, ...]:
    """The rows still ``processing`` in ``task``'s attempt: what only its worker may write."""
    return (tasks.c.id == task.id, tasks.c.status == Status.PROCESSING.value, tasks.c.attempt == task.attempt)


def _record(
    db: Database, connection: sa.Connection, task_id: str, from_status: str | None, to_status: str, attempt: int,
    actor: str, message: str,
) -> None:  # fmt: skip
    """Append a task's event row."""
    connection.execute(
        events.insert().values(
            task_id=task_id,
            at=db._now(),
            from_status=from_status,
            to_status=to_status,
            attempt=attempt,
            actor=actor,
            message=message,
        )
    )


class StatusChanges(Database):
    """The store's writes of a task's status, each through :func:`change` (a new task: its first status)."""

    def create(
        self,
        *,
        settings: dict[str, Any],
        input_name: str,
        input_size: int,
        input_sha256: str,
        max_attempts: int,
        priority: Priority = Priority.NORMAL,
        actor: str = "api",
        task_id: str | None = None,
        owner: str | None = None,
        public: bool = False,
    ) -> Task:
        """Store a new task as ``queued`` (with its first event) and return it."""
        now = self._now()
        task_id = task_id or str(uuid.uuid4())
        with self._write() as connection:
            row = connection.execute(
                tasks.insert()
                .values(
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
                .returning(*tasks.c)
            ).one()
            _record(self, connection, task_id, None, Status.QUEUED.value, 0, actor, "task created")
        return Task.from_row(row)

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
        now = self._now()
        values: dict[str, Any] = {"updated_at": now, **fields}
        if to == Status.QUEUED:
            values.setdefault("queued_at", now)
            values.update(worker_id=None, lease_expires_at=None, finished_at=None, dispatched_at=None)
            values.setdefault("progress", 0)
            values.setdefault("step", None)
            if retry_in is not None:
                values["not_before"] = self._now(retry_in)
        elif to == Status.PROCESSING and task.status != to:  # (already processing: change() refuses it)
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
        expired = (tasks.c.lease_expires_at < self._now(),) if only_if_lease_expired else ()
        with self._write() as connection:
            changed = change(
                self, connection, task.id, task.status, to, attempt=task.attempt, values=values, actor=actor,
                message=message, only_if=expired, manual=manual,
            )  # fmt: skip
            if changed is None:
                raise TransitionConflict(
                    f"task {task.id} changed before it could go from {task.status.value} to {to.value}"
                )
            if task.status == Status.COMPLETED:  # its results are no longer the task's (files stay until deleted)
                connection.execute(artifacts.delete().where(artifacts.c.task_id == task.id))
        return changed

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
                claimed = self._take(connection, row.id, row.attempt, (), worker_id, lease_seconds, now)
                if claimed is not None:
                    return claimed
        return None

    def _claim_one(self, worker_id: str, lease_seconds: float, task_id: str) -> Task | None:
        """Claim one named task in a single compare-and-set update (no search, so no row to skip)."""
        now = self._now()
        runnable = (sa.or_(tasks.c.not_before.is_(None), tasks.c.not_before <= now),)
        with self._write() as connection:
            return self._take(connection, task_id, None, runnable, worker_id, lease_seconds, now)

    def _take(
        self, connection: sa.Connection, task_id: str, attempt: int | None, only_if: tuple[Any, ...], worker_id: str,
        lease_seconds: float, now: Any,
    ) -> Task | None:  # fmt: skip
        """queued -> processing for this task, with a lease and the next attempt; the event too."""
        values = {
            "attempt": tasks.c.attempt + 1,
            "worker_id": worker_id,
            "lease_expires_at": self._now(lease_seconds),
            "started_at": now,
            "updated_at": now,
            "progress": 0,
            "step": "starting",
            "not_before": None,
        }
        return change(
            self, connection, task_id, Status.QUEUED, Status.PROCESSING, attempt=attempt, values=values,
            actor=f"worker:{worker_id}", message=_claimed, only_if=only_if,
        )  # fmt: skip

    def complete(self, task: Task, files: Iterable[NewArtifact], result: dict[str, Any], actor: str) -> Task:
        """processing -> completed with its artifacts, in one transaction (compare-and-set)."""
        now = self._now()
        rows = [{"task_id": task.id, **f.__dict__} for f in files]
        values = {
            "progress": 100,
            "step": "done",
            "finished_at": now,
            "updated_at": now,
            "lease_expires_at": None,
            "result": json.dumps(result, sort_keys=True),
            "error": None,
            "error_code": None,
            "traceback": None,
        }
        with self._write() as connection:
            finished = change(
                self, connection, task.id, Status.PROCESSING, Status.COMPLETED, attempt=task.attempt, values=values,
                actor=actor, message=f"completed with {len(rows)} files",
            )  # fmt: skip
            if finished is None:
                raise TransitionConflict(f"task {task.id} changed before it could complete (attempt {task.attempt})")
            # No rows to clear first: a task has artifacts only while completed (leaving it drops them).
            if rows:
                connection.execute(artifacts.insert(), rows)
        return finished

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


def _claimed(task: Task) -> str:
    return f"claimed (attempt {task.attempt})"
