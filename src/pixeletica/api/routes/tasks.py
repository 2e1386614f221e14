"""Task management for operators (admin token): list, inspect, retry, cancel, override, reset, stats."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel

from pixeletica.api.deps import AppState, require_admin, state
from pixeletica.errors import NotFound
from pixeletica.tasks import analytics, operations
from pixeletica.tasks.model import Status, Task, iso
from pixeletica.tasks.monitor import Monitor

router = APIRouter(prefix="/tasks", tags=["tasks (admin)"], dependencies=[Depends(require_admin)])
State = Annotated[AppState, Depends(state)]
ACTOR = "api"


def _get(app: AppState, task_id: str) -> Task:
    try:
        return app.store.get(task_id)
    except NotFound:
        raise HTTPException(404, f"Task not found: {task_id}") from None


def _status(value: str | None) -> Status | None:
    if value is None:
        return None
    try:
        return Status(value)
    except ValueError:
        raise HTTPException(400, f"status must be one of: {', '.join(s.value for s in Status)}") from None


@router.get("", summary="List tasks")
def list_tasks(
    app: State,
    status: str | None = None,
    created_after: dt.datetime | None = None,
    created_before: dt.datetime | None = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    order: Annotated[str, Query(pattern="^(newest|oldest)$")] = "newest",
    sort: Annotated[str, Query(pattern="^(created|updated|status|priority|progress|input_name)$")] = "created",
) -> dict[str, Any]:
    """Tasks filtered by status, creation time and id/file name, sorted (``order=newest``: largest first),
    with ``total``: how many match."""

    def naive(value: dt.datetime | None) -> dt.datetime | None:
        """UTC without a zone, as the store keeps times; a time that UTC cannot hold is the earliest/latest."""
        if value is None or value.tzinfo is None:
            return value
        try:
            return value.astimezone(dt.UTC).replace(tzinfo=None)
        except OverflowError:  # 0001-01-01T00:00+14:00 is before year 1 in UTC
            return dt.datetime.min if value.year == dt.MINYEAR else dt.datetime.max

    filters: dict[str, Any] = {
        "status": _status(status),
        "created_after": naive(created_after),
        "created_before": naive(created_before),
        "search": search,
    }
    column = f"{sort}_at" if sort in ("created", "updated") else sort
    rows = app.store.list(**filters, limit=limit, offset=offset, oldest_first=order == "oldest", sort=column)
    total = app.store.count_matching(**filters)
    return {"tasks": [t.as_json() for t in rows], "limit": limit, "offset": offset, "total": total}


@router.get("/stats", summary="Task statistics")
def stats(app: State, since_hours: Annotated[float, Query(gt=0, le=24 * 365)] = 24.0) -> dict[str, Any]:
    """The same numbers as `pixeletica task stats`."""
    return analytics.stats(app.store, dt.timedelta(hours=since_hours))


@router.get("/timeline", summary="Task counts over time, for charts")
def timeline(
    app: State,
    since_hours: Annotated[float, Query(gt=0, le=24 * 365)] = 24.0,
    buckets: Annotated[int, Query(ge=1, le=500)] = 24,
) -> dict[str, Any]:
    """Per span of the window: tasks created, completed and failed, queue depth, processing-time percentiles."""
    return analytics.timeline(app.store, dt.timedelta(hours=since_hours), buckets)


@router.post("/reset-stuck", summary="Fail stuck tasks")
def reset_stuck(app: State, max_time: Annotated[float | None, Query(ge=0)] = None) -> dict[str, Any]:
    """Mark tasks processing for longer than max_time seconds (default: TASK_MAX_PROCESSING_TIME) as failed."""
    report = Monitor.from_settings(app.store, app.settings).fail_stuck(max_time, actor=ACTOR)
    return {"failed": report.failed}


@router.get("/{task_id}", summary="A task with its history and files")
def get_task(app: State, task_id: str) -> dict[str, Any]:
    task = _get(app, task_id)
    return {
        **task.as_json(),
        "events": [{**e.__dict__, "at": iso(e.at)} for e in app.store.events(task.id)],
        "artifacts": [a.__dict__ for a in app.store.artifacts(task.id)],
    }


@router.post("/{task_id}/retry", summary="Queue a finished task again")
def retry(app: State, task_id: str) -> dict[str, Any]:
    task = operations.retry(app.store, _get(app, task_id), actor=ACTOR)
    app.queued.set()
    return task.as_json()


@router.post("/{task_id}/cancel", summary="Cancel a queued or processing task")
def cancel(app: State, task_id: str) -> dict[str, Any]:
    return operations.cancel(app.store, _get(app, task_id), actor=ACTOR).as_json()


class StatusOverride(BaseModel):
    status: str


@router.patch("/{task_id}", summary="Set a task's status by hand")
def override(app: State, task_id: str, body: StatusOverride) -> dict[str, Any]:
    status = _status(body.status)
    assert status is not None
    task = operations.update_status(
        app.store, _get(app, task_id), status, actor=ACTOR, lease_seconds=app.settings.lease_seconds
    )
    app.queued.set()
    return task.as_json()
