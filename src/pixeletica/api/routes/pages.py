"""The web pages: the conversion page at ``/`` (for browsers; API clients get JSON there), a task's
page, the admin dashboard and the map viewer. Static HTML whose scripts call the JSON API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from pixeletica import __version__

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"
router = APIRouter()


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC / name, media_type="text/html", headers={"Cache-Control": "no-cache"})


def _online() -> JSONResponse:
    """What ``GET /`` of the API answers, as the original server did: existing clients ask it before every
    preview and every start and refuse to go on without a 2xx."""
    return JSONResponse({"name": "Pixeletica API", "version": __version__, "status": "online"})


@router.get("/", summary="Root", response_model=None)
def root(request: Request) -> Any:
    """The service answers (liveness): JSON, or the conversion page when a browser asks for HTML."""
    accept = request.headers.get("accept", "")
    if "text/html" in accept:
        return _page("convert.html")
    return _online()


@router.get("/api", summary="API root", tags=["health"])
@router.get("/api/", summary="API root", tags=["health"], include_in_schema=False)
def api_root() -> JSONResponse:
    """The API answers: its name, version and ``"status": "online"`` (what clients with base URL /api ask)."""
    return _online()


@router.get("/task/{task_id}", include_in_schema=False)
def task_page(task_id: str) -> FileResponse:
    """A task's progress, and its results once done (the page reads the id from its address)."""
    return _page("task.html")


@router.get("/admin", include_in_schema=False)
def dashboard() -> FileResponse:
    """The operators' dashboard (signs in with the admin token)."""
    return _page("admin.html")


@router.get("/map/{map_id}", include_in_schema=False)
def viewer(map_id: str) -> FileResponse:
    """The web-map viewer page (Leaflet, bundled); it reads the map's files from /api/map/{id}/."""
    return FileResponse(STATIC / "viewer.html", media_type="text/html")
