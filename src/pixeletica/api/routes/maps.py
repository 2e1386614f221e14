"""The web-map endpoints: maps of completed tasks made with web files, their tiles and images.

A map is visible to whoever may see its task (:mod:`pixeletica.api.access`): ``/maps.json`` lists
the visitor's own maps and the public ones (every map on an open server).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse

from pixeletica.api import deps, paths
from pixeletica.api.deps import AppState, state
from pixeletica.api.responses import MapInfo, MapListResponse
from pixeletica.engine.exports import tiles
from pixeletica.tasks.model import Task, iso

router = APIRouter(tags=["maps"])
State = Annotated[AppState, Depends(state)]


def _web_dir(app: AppState, request: Request, map_id: str) -> tuple[Task, Path]:
    try:
        task = deps.visible_task(request, map_id, for_map=True)
    except HTTPException:
        raise HTTPException(404, f"Map not found: {map_id}") from None
    artifact = app.store.artifact(task.id, "web_metadata")
    if artifact is None:
        raise HTTPException(404, f"Map not found: {map_id} (the task has no web map; ask for generate_web_files)")
    return task, paths.contained(app.settings.tasks_dir, artifact.path, f"Map {map_id}").parent


def _png(folder: Path, relative: str, what: str) -> FileResponse:
    return FileResponse(paths.contained(folder, relative, what), media_type="image/png")


@router.get("/maps.json", summary="List Maps", response_model=MapListResponse)
def list_maps(app: State, request: Request) -> MapListResponse:
    """Completed tasks that have a web map, newest first: the visitor's own and the public ones."""
    who = deps.visitor(request)
    found = app.store.with_artifact("web_metadata", everyone=who.sees_everything, owner=who.owner)
    maps = [
        MapInfo(
            id=t.id,
            name=t.input_name,
            created=iso(t.created_at) or "",
            thumbnail=f"/api/map/{t.id}/thumbnail.png",
            width=t.result["width"] * tiles.CLIENT_PIXELS_PER_BLOCK if "width" in t.result else None,
            height=t.result["height"] * tiles.CLIENT_PIXELS_PER_BLOCK if "height" in t.result else None,
        )
        for t in found
    ]
    return MapListResponse(maps=maps)


@router.get("/map/{map_id}/metadata.json", summary="Get Map Metadata")
def map_metadata(app: State, request: Request, map_id: str) -> dict[str, Any]:
    """What a viewer needs: sizes (``width``/``height`` in pixels at 16 per block), tiles per zoom, origin."""
    task, folder = _web_dir(app, request, map_id)
    stored = json.loads(paths.contained(folder, "metadata.json", "Map metadata").read_text())
    if "zoomLevels" not in stored:  # written by an earlier version: width/height were blocks then
        info = tiles.plan(stored["width"], stored["height"], stored["scale"], stored["tileSize"])
        extra = {k: stored[k] for k in ("origin_x", "origin_z") if k in stored}
        stored = tiles.describe(info, bool(stored.get("fullImage")), extra)
    return {"id": task.id, "name": task.input_name, "created": iso(task.created_at), **stored}


@router.get("/map/{map_id}/tiles/{zoom}/{x}/{y}.png", summary="Get Map Tile")
def map_tile(app: State, request: Request, map_id: str, zoom: int, x: int, y: int) -> FileResponse:
    _, folder = _web_dir(app, request, map_id)
    if min(zoom, x, y) < 0:
        raise HTTPException(404, f"Tile not found: {zoom}/{x}/{y}")
    return _png(folder, f"tiles/{zoom}/{x}/{y}.png", f"Tile {zoom}/{x}/{y}")


@router.get("/map/{map_id}/thumbnail.png", summary="Get Map Thumbnail")
def map_thumbnail(app: State, request: Request, map_id: str) -> FileResponse:
    _, folder = _web_dir(app, request, map_id)
    return _png(folder, "thumbnail.png", "Thumbnail")


@router.get("/map/{map_id}/full-image.png", summary="Get Map Full Image")
def map_full_image(app: State, request: Request, map_id: str) -> FileResponse:
    _, folder = _web_dir(app, request, map_id)
    return _png(folder, "full-image.png", "Full image (larger than the full-image limit)")


@router.get("/map/{map_id}/blockdata.json", summary="Block at every position, for viewers' block inspectors")
def map_blockdata(app: State, request: Request, map_id: str) -> FileResponse:
    """``{"blocks": {short id: {name, minecraft_id, hex, rgb}}, "matrix": [[short id or null, ...], ...]}``."""
    _, folder = _web_dir(app, request, map_id)
    return FileResponse(paths.contained(folder, "blockdata.json", "Block data"), media_type="application/json")


@router.options("/map/{map_id}/metadata.json", summary="Options Map Endpoints")
@router.options("/map/{map_id}/thumbnail.png", summary="Options Map Endpoints")
@router.options("/map/{map_id}/full-image.png", summary="Options Map Endpoints")
def options_map(map_id: str) -> dict:
    return {}


@router.options("/map/{map_id}/tiles/{zoom}/{x}/{y}.png", summary="Options Map Endpoints")
def options_tile(map_id: str, zoom: int, x: int, y: int) -> dict:
    return {}
