"""The web-map endpoints of the reference. Tiles come with the exports; until then maps are not found."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from pixeletica.api.responses import MapListResponse

router = APIRouter(tags=["maps"])

_NOT_YET = "web map tiles are not generated yet by this version of Pixeletica"


@router.get("/maps.json", summary="List Maps", response_model=MapListResponse)
def list_maps() -> MapListResponse:
    """Completed tasks that have a web map (none until map tiles are generated)."""
    return MapListResponse(maps=[])


def _no_map(map_id: str) -> HTTPException:
    return HTTPException(404, f"Map not found: {map_id} ({_NOT_YET})")


@router.get("/map/{map_id}/metadata.json", summary="Get Map Metadata")
def map_metadata(map_id: str) -> dict:
    raise _no_map(map_id)


@router.get("/map/{map_id}/tiles/{zoom}/{x}/{y}.png", summary="Get Map Tile")
def map_tile(map_id: str, zoom: int, x: int, y: int) -> dict:
    raise _no_map(map_id)


@router.get("/map/{map_id}/thumbnail.png", summary="Get Map Thumbnail")
def map_thumbnail(map_id: str) -> dict:
    raise _no_map(map_id)


@router.get("/map/{map_id}/full-image.png", summary="Get Map Full Image")
def map_full_image(map_id: str) -> dict:
    raise _no_map(map_id)


@router.options("/map/{map_id}/metadata.json", summary="Options Map Endpoints")
@router.options("/map/{map_id}/thumbnail.png", summary="Options Map Endpoints")
@router.options("/map/{map_id}/full-image.png", summary="Options Map Endpoints")
def options_map(map_id: str) -> dict:
    return {}


@router.options("/map/{map_id}/tiles/{zoom}/{x}/{y}.png", summary="Options Map Endpoints")
def options_tile(map_id: str, zoom: int, x: int, y: int) -> dict:
    return {}
