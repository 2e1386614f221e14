"""The web-map endpoints: maps of completed tasks made with web files, their tiles and images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse

from pixeletica.api.deps import AppState, state
from pixeletica.api.responses import MapInfo, MapListResponse
from pixeletica.errors import NotFound
from pixeletica.tasks.model import Task, iso

router = APIRouter(tags=["maps"])
State = Annotated[AppState, Depends(state)]


def _web_dir(app: AppState, map_id: str) -> tuple[Task, Path]:
    try:
        task = app.store.get(map_id)
    except NotFound:
        raise HTTPException(404, f"Map not found: {map_id}") from None
    artifact = next((a for a in app.store.artifacts(task.id) if a.file_id == "web_metadata"), None)
    if artifact is None:
        raise HTTPException(404, f"Map not found: {map_id} (the task has no web map; ask for generate_web_files)")
    root = app.settings.tasks_dir.resolve()
    folder = (root / artifact.path).resolve().parent
    if not folder.is_relative_to(root):
        raise HTTPException(404, f"Map not found: {map_id}")
    return task, folder


def _file(folder: Path, relative: str, what: str) -> FileResponse:
    path = (folder / relative).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        raise HTTPException(404, f"{what} not found")
    return FileResponse(path, media_type="image/png")


@router.get("/maps.json", summary="List Maps", response_model=MapListResponse)
def list_maps(app: State) -> MapListResponse:
    """Completed tasks that have a web map, newest first."""
    maps = [
        MapInfo(
            id=t.id,
            name=t.input_name,
            created=iso(t.created_at) or "",
            thumbnail=f"/api/map/{t.id}/thumbnail.png",
            width=t.result.get("width"),
            height=t.result.get("height"),
        )
        for t in app.store.with_artifact("web_metadata")
    ]
    return MapListResponse(maps=maps)


@router.get("/map/{map_id}/metadata.json", summary="Get Map Metadata")
def map_metadata(app: State, map_id: str) -> dict:
    task, folder = _web_dir(app, map_id)
    meta = json.loads((folder / "metadata.json").read_text())
    return {"id": task.id, "name": task.input_name, "created": iso(task.created_at), **meta}


@router.get("/map/{map_id}/tiles/{zoom}/{x}/{y}.png", summary="Get Map Tile")
def map_tile(app: State, map_id: str, zoom: int, x: int, y: int) -> FileResponse:
    _, folder = _web_dir(app, map_id)
    if min(zoom, x, y) < 0:
        raise HTTPException(404, f"Tile not found: {zoom}/{x}/{y}")
    return _file(folder, f"tiles/{zoom}/{x}/{y}.png", f"Tile {zoom}/{x}/{y}")


@router.get("/map/{map_id}/thumbnail.png", summary="Get Map Thumbnail")
def map_thumbnail(app: State, map_id: str) -> FileResponse:
    _, folder = _web_dir(app, map_id)
    return _file(folder, "thumbnail.png", "Thumbnail")


@router.get("/map/{map_id}/full-image.png", summary="Get Map Full Image")
def map_full_image(app: State, map_id: str) -> FileResponse:
    _, folder = _web_dir(app, map_id)
    return _file(folder, "full-image.png", "Full image (larger than the full-image limit)")


@router.get("/map/{map_id}/blockdata.json", summary="Block id per position, for viewers")
def map_blockdata(app: State, map_id: str) -> FileResponse:
    _, folder = _web_dir(app, map_id)
    path = folder / "blockdata.json"
    if not path.is_file():
        raise HTTPException(404, "Block data not found")
    return FileResponse(path, media_type="application/json")


@router.options("/map/{map_id}/metadata.json", summary="Options Map Endpoints")
@router.options("/map/{map_id}/thumbnail.png", summary="Options Map Endpoints")
@router.options("/map/{map_id}/full-image.png", summary="Options Map Endpoints")
def options_map(map_id: str) -> dict:
    return {}


@router.options("/map/{map_id}/tiles/{zoom}/{x}/{y}.png", summary="Options Map Endpoints")
def options_tile(map_id: str, zoom: int, x: int, y: int) -> dict:
    return {}
