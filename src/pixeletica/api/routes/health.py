"""Liveness and readiness."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from pixeletica import __version__
from pixeletica.api.deps import AppState, state
from pixeletica.tasks.model import Status

router = APIRouter(tags=["health"])
State = Annotated[AppState, Depends(state)]


@router.get("/", summary="Root")
def root() -> dict[str, Any]:
    """The service answers (liveness)."""
    return {"status": "ok", "service": "Pixeletica API", "version": __version__}


@router.get("/api/health", summary="Health")
def health(app: State) -> JSONResponse:
    """Readiness: the task store answers; queue depth and tasks in progress."""
    try:
        counts = app.store.counts()
    except Exception as exc:
        return JSONResponse({"status": "unavailable", "store": f"unreachable: {exc}"}, status_code=503)
    return JSONResponse(
        {
            "status": "ok",
            "version": __version__,
            "store": "ok",
            "queued": counts[Status.QUEUED],
            "processing": counts[Status.PROCESSING],
        }
    )
