"""Liveness and readiness."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse

from pixeletica import __version__
from pixeletica.api import deps
from pixeletica.api.deps import AppState, state
from pixeletica.tasks import retry
from pixeletica.tasks.model import Status, beat_recently, iso
from pixeletica.tasks.store import Store

router = APIRouter(tags=["health"])
#: A store that is silent (timed out) or refusing: either way, not ready.
_NOT_READY: tuple[type[BaseException], ...] = (HTTPException, *retry.RETRYABLE)
State = Annotated[AppState, Depends(state)]


@router.get("/api/health", summary="Health")
async def health(app: State, request: Request) -> JSONResponse:
    """Liveness and readiness: the store answers (else 503); live workers; the monitor's last sweep.

    ``status`` is ``ok`` when a worker and a monitor have beaten recently, ``degraded`` otherwise
    (tasks are accepted but may wait). Which hosts and processes they are, only operators (and
    everyone on an open server) are told.
    """
    settings = app.settings
    try:
        counts, workers, monitors, now = await deps.in_thread(_read, app.store)
        operator = await deps.in_thread(_sees_everything, request)
    except _NOT_READY:
        return JSONResponse(
            {"status": "unavailable", "store": "unreachable", "detail": "the task store does not answer"},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    live = [name for name, seen, _ in workers if beat_recently(seen, now, settings.heartbeat_seconds)]
    monitor = None
    if monitors:
        name, seen, info = monitors[0]
        age = (now - seen).total_seconds()
        monitor = {"name": name, "last_sweep": iso(seen), "seconds_ago": round(age, 1), **info}
    monitor_ok = monitor is not None and beat_recently(monitors[0][1], now, settings.lease_sweep_seconds, slack=5)
    if not operator:
        live_names: list[str] = []
        if monitor is not None:
            monitor["name"] = "monitor"
            monitor.pop("last_error", None)  # its text is for operators
    else:
        live_names = live
    return JSONResponse(
        {
            "status": "ok" if live and monitor_ok else "degraded",
            "version": __version__,
            "store": "ok",
            "workers": {"alive": len(live), "names": live_names},
            "monitor": monitor,
            "queued": counts[Status.QUEUED],
            "processing": counts[Status.PROCESSING],
        }
    )


Beats = list[tuple[str, dt.datetime, dict[str, Any]]]


def _read(store: Store) -> tuple[dict[Status, int], Beats, Beats, dt.datetime]:
    """Everything health reports from the store, with the database's clock to age the heartbeats against."""
    return store.counts(), store.heartbeats("worker"), store.heartbeats("monitor"), store.clock()


def _sees_everything(request: Request) -> bool:
    """Whether this request is an operator's (or the server is open): reads the dashboard sessions."""
    return deps.visitor(request).sees_everything
