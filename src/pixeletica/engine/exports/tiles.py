"""The web map: a tile pyramid of the textured render, its metadata, a thumbnail and the block data.

Zoom ``max_zoom`` shows one block as ``scale`` pixels; each zoom below halves the size, down to
zoom 0 where the whole build fits in one tile. Tile ``{z}/{x}/{y}.png`` covers pixels
``[x * size, (x + 1) * size)`` by ``[y * size, (y + 1) * size)`` of the zoom-``z`` image. The
deepest zoom is rendered in strips of blocks, and every other zoom is made from the tiles below
it, so memory stays bounded by one strip whatever the size of the build.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from pixeletica.engine import render
from pixeletica.engine.blockgrid import BlockGrid
from pixeletica.errors import InvalidInput

TILE_SIZES = (256, 512)

#: write(relative path, bytes): how the caller stores a file (atomically, in its own folder).
Writer = Callable[[str, bytes], None]
#: read(relative path) -> bytes of a file written before.
Reader = Callable[[str], bytes]


@dataclass(frozen=True, kw_only=True)
class MapInfo:
    """What the viewer needs to know about a map (``metadata.json``)."""

    width: int
    height: int
    scale: int
    tile_size: int
    max_zoom: int

    def zoom_size(self, zoom: int) -> tuple[int, int]:
        factor = 2.0 ** (zoom - self.max_zoom)
        return max(1, math.ceil(self.width * self.scale * factor)), max(1, math.ceil(self.height * self.scale * factor))

    def tiles(self, zoom: int) -> tuple[int, int]:
        w, h = self.zoom_size(zoom)
        return math.ceil(w / self.tile_size), math.ceil(h / self.tile_size)


def plan(width: int, height: int, scale: int, tile_size: int = 256) -> MapInfo:
    if tile_size not in TILE_SIZES:
        raise InvalidInput(f"tile size must be one of {TILE_SIZES}, got {tile_size}")
    longest = max(width, height) * scale
    max_zoom = max(0, math.ceil(math.log2(longest / tile_size))) if longest > tile_size else 0
    return MapInfo(width=width, height=height, scale=scale, tile_size=tile_size, max_zoom=max_zoom)


def _png(image: np.ndarray | Image.Image) -> bytes:
    buf = io.BytesIO()
    (image if isinstance(image, Image.Image) else Image.fromarray(image, "RGBA")).save(
        buf, format="PNG", compress_level=1
    )
    return buf.getvalue()


def build(
    grid: BlockGrid,
    tiles: np.ndarray,
    write: Writer,
    read: Reader,
    *,
    tile_size: int = 256,
    full_image_max_pixels: int = 8192 * 8192,
    metadata: dict | None = None,
) -> MapInfo:
    """Write every tile, ``metadata.json``, ``thumbnail.png``, ``blockdata.json`` and (if small
    enough) ``full-image.png``. ``tiles`` is the texture atlas (see :mod:`pixeletica.engine.textures`)."""
    scale = tiles.shape[1]
    info = plan(grid.width, grid.height, scale, tile_size)
    top = info.max_zoom
    if tile_size % scale:
        raise InvalidInput(f"tile size {tile_size} is not a multiple of the scale {scale}")
    rows_per_strip = tile_size // scale
    columns, rows = info.tiles(top)
    full_pixels = grid.width * scale * grid.height * scale
    full = (
        np.zeros((grid.height * scale, grid.width * scale, 4), np.uint8)
        if full_pixels <= full_image_max_pixels
        else None
    )
    for ty in range(rows):
        strip = render.render(grid.indices, tiles, slice(ty * rows_per_strip, (ty + 1) * rows_per_strip))
        if full is not None:
            full[ty * tile_size : ty * tile_size + strip.shape[0]] = strip
        for tx in range(columns):
            tile = np.zeros((tile_size, tile_size, 4), np.uint8)
            part = strip[:, tx * tile_size : (tx + 1) * tile_size]
            tile[: part.shape[0], : part.shape[1]] = part
            write(f"tiles/{top}/{tx}/{ty}.png", _png(tile))
    for zoom in range(top - 1, -1, -1):
        columns, rows = info.tiles(zoom)
        child_columns, child_rows = info.tiles(zoom + 1)
        for ty in range(rows):
            for tx in range(columns):
                canvas = Image.new("RGBA", (tile_size * 2, tile_size * 2), (0, 0, 0, 0))
                for dy in (0, 1):
                    for dx in (0, 1):
                        cx, cy = tx * 2 + dx, ty * 2 + dy
                        if cx < child_columns and cy < child_rows:
                            child = Image.open(io.BytesIO(read(f"tiles/{zoom + 1}/{cx}/{cy}.png")))
                            canvas.paste(child, (dx * tile_size, dy * tile_size))
                write(f"tiles/{zoom}/{tx}/{ty}.png", _png(canvas.reduce(2)))
    thumbnail = Image.open(io.BytesIO(read("tiles/0/0/0.png")))
    w0, h0 = info.zoom_size(0)
    write("thumbnail.png", _png(thumbnail.crop((0, 0, w0, h0))))
    if full is not None:
        write("full-image.png", _png(full))
    write(
        "metadata.json",
        json.dumps(
            {
                **(metadata or {}),
                "width": grid.width,
                "height": grid.height,
                "tileSize": tile_size,
                "minZoom": 0,
                "maxZoom": top,
                "tileFormat": "png",
                "scale": scale,
                "imageWidth": grid.width * scale,
                "imageHeight": grid.height * scale,
                "fullImage": full is not None,
            },
            indent=1,
        ).encode(),
    )
    write("blockdata.json", _blockdata(grid, metadata or {}))
    return info


def read_from(folder: Path) -> Reader:
    def read(relative: str) -> bytes:
        return (folder / relative).read_bytes()

    return read


def _blockdata(grid: BlockGrid, metadata: dict) -> bytes:
    """``blockdata.json``: the palette and, row by row, the palette index of each block (-1 = air).

    Written row by row: a JSON encoder holding millions of small strings at once would need
    far more memory than the data.
    """
    head = json.dumps(
        {
            "width": grid.width,
            "height": grid.height,
            "origin_x": metadata.get("origin_x", 0),
            "origin_z": metadata.get("origin_z", 0),
            "palette": list(grid.block_ids),
            "names": list(grid.names),
        },
        separators=(",", ":"),
    )
    buf = io.StringIO()
    buf.write(head[:-1] + ',"blocks":[')
    for y, row in enumerate(grid.indices):
        if y:
            buf.write(",")
        buf.write("[" + ",".join(map(str, row.tolist())) + "]")
    buf.write("]}")
    return buf.getvalue().encode()
