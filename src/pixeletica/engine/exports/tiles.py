"""The web map: a tile pyramid of the textured render, its metadata, a thumbnail and the block data.

Zoom ``max_zoom`` shows one block as ``scale`` pixels; each zoom below halves the size, down to
zoom 0 where the whole build fits in one tile. Tile ``{z}/{x}/{y}.png`` covers pixels
``[x * size, (x + 1) * size)`` by ``[y * size, (y + 1) * size)`` of the zoom-``z`` image. The
deepest zoom is rendered in strips of blocks, and every other zoom is made from the strips below
it as they come, so memory stays bounded by a few strips whatever the size of the build.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pixeletica.engine import png, render
from pixeletica.engine.blockgrid import BlockGrid
from pixeletica.errors import InvalidInput

TILE_SIZES = (256, 512)
#: Pixels per block that existing clients assume for the ``width``/``height`` of ``metadata.json``.
CLIENT_PIXELS_PER_BLOCK = 16

#: write(relative path, bytes): how the caller stores a file (atomically, in its own folder).
Writer = Callable[[str, bytes], None]


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


def _half(image: NDArray[np.uint8], chunk: int = 1024) -> NDArray[np.uint8]:
    """(2h, 2w, 4) -> (h, w, 4): each pixel the mean of four, weighted by alpha (no dark fringes).

    Works ``chunk`` output columns at a time to keep the wide integer temporaries small.
    """
    out = np.empty((image.shape[0] // 2, image.shape[1] // 2, 4), np.uint8)
    for left in range(0, out.shape[1], chunk):
        out[:, left : left + chunk] = _half_block(image[:, 2 * left : 2 * (left + chunk)])
    return out


def _half_block(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    a = image[0::2, 0::2].astype(np.uint32), image[0::2, 1::2], image[1::2, 0::2], image[1::2, 1::2]
    if all(bool((q[..., 3] == 255).all()) for q in a):
        opaque: NDArray[np.uint8] = ((a[0] + a[1] + a[2] + a[3] + 2) >> 2).astype(np.uint8)
        return opaque
    alpha = a[0][..., 3] + a[1][..., 3] + a[2][..., 3] + a[3][..., 3]
    rgb = sum(q[..., :3].astype(np.uint32) * q[..., 3:4] for q in a)
    out = np.empty(image[0::2, 0::2].shape, np.uint8)
    out[..., :3] = (rgb + alpha[..., None] // 2) // np.maximum(alpha, 1)[..., None]
    out[..., 3] = (alpha + 2) >> 2
    return out


class _Pyramid:
    """Takes the deepest zoom one row of tiles at a time; writes its tiles and every zoom above.

    Each zoom keeps at most one row of tiles waiting for the row below it, so memory stays at
    about two rows of tiles per zoom whatever the size of the map.
    """

    def __init__(self, info: MapInfo, write: Writer) -> None:
        self.info, self.write = info, write
        self.waiting: dict[int, NDArray[np.uint8]] = {}
        self.top_tile: NDArray[np.uint8] | None = None

    def add(self, zoom: int, ty: int, strip: NDArray[np.uint8]) -> None:
        """``strip``: row ``ty`` of zoom ``zoom``, tile_size tall, padded to whole tiles across."""
        size = self.info.tile_size
        columns, rows = self.info.tiles(zoom)
        for tx in range(columns):
            self.write(f"tiles/{zoom}/{tx}/{ty}.png", png.encode(strip[:, tx * size : (tx + 1) * size]))
        if zoom == 0:
            self.top_tile = strip
            return
        if ty % 2 == 0 and ty + 1 < rows:
            self.waiting[zoom] = strip
            return
        upper = self.waiting.pop(zoom, None) if ty % 2 else None
        pair = np.zeros((2 * size, strip.shape[1], 4), np.uint8)
        if upper is not None:
            pair[:size], pair[size:] = upper, strip
        else:
            pair[:size] = strip
        parent_columns, _ = self.info.tiles(zoom - 1)
        half = _half(pair)
        parent = np.zeros((size, parent_columns * size, 4), np.uint8)
        parent[:, : half.shape[1]] = half[:, : parent_columns * size]
        self.add(zoom - 1, ty // 2, parent)


def build(
    grid: BlockGrid,
    tiles: NDArray[np.uint8],
    write: Writer,
    *,
    tile_size: int = 256,
    full_image_max_pixels: int = 8192 * 8192,
    metadata: dict[str, Any] | None = None,
    layers: Mapping[str, NDArray[np.integer[Any]]] | None = None,
) -> MapInfo:
    """Write every tile, ``metadata.json``, ``thumbnail.png``, ``blockdata.json`` and (if small
    enough) ``full-image.png``. ``tiles`` is the texture atlas (see :mod:`pixeletica.engine.textures`,
    or :func:`flat_atlas`); ``layers`` are (H, W) whole numbers per position that ``blockdata.json``
    holds beside ``matrix``, under their names (map art's ``heights``).

    The deepest zoom is rendered one row of tiles at a time; the zooms above are made from it as
    it goes, and the full image is PNG-encoded from the same strips, so no full-size picture is held.
    """
    scale = tiles.shape[1]
    info = plan(grid.width, grid.height, scale, tile_size)
    top = info.max_zoom
    for name, layer in (layers or {}).items():
        if layer.shape != grid.indices.shape:
            raise ValueError(f"layer {name} is {layer.shape}, the grid {grid.indices.shape}")
    if tile_size % scale:
        raise InvalidInput(f"tile size {tile_size} is not a multiple of the scale {scale}")
    rows_per_strip = tile_size // scale
    columns, rows = info.tiles(top)
    width, height = grid.width * scale, grid.height * scale
    alpha = bool((grid.indices < 0).any()) or not bool((tiles[1:, ..., 3] == 255).all())
    full = png.Writer(width, height, alpha=alpha) if width * height <= full_image_max_pixels else None
    pyramid = _Pyramid(info, write)
    for ty in range(rows):
        strip = render.render(grid.indices, tiles, slice(ty * rows_per_strip, (ty + 1) * rows_per_strip))
        if full is not None:
            full.write(strip)
        padded = np.zeros((tile_size, columns * tile_size, 4), np.uint8)
        padded[: strip.shape[0], : strip.shape[1]] = strip
        pyramid.add(top, ty, padded)
    w0, h0 = info.zoom_size(0)
    assert pyramid.top_tile is not None  # the last row of every zoom is passed up: zoom 0 is reached
    write("thumbnail.png", png.encode(pyramid.top_tile[:h0, :w0]))
    if full is not None:
        write("full-image.png", full.finish())
    write("metadata.json", json.dumps(describe(info, full is not None, metadata), indent=1).encode())
    write("blockdata.json", _blockdata(grid, metadata or {}, layers or {}))
    return info


def flat_atlas(colors: NDArray[np.uint8], scale: int) -> NDArray[np.uint8]:
    """(P + 1, scale, scale, 4) tiles of one flat colour per palette index, tile 0 transparent air: an atlas
    for a map drawn in exact colours rather than textures."""
    atlas = np.zeros((len(colors) + 1, scale, scale, 4), dtype=np.uint8)
    atlas[1:, ..., :3] = np.asarray(colors, dtype=np.uint8).reshape(-1, 1, 1, 3)
    atlas[1:, ..., 3] = 255
    return atlas


def describe(info: MapInfo, full_image: bool, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """``metadata.json``: what map viewers need, in the shape existing Pixeletica clients read.

    ``width``/``height`` are pixels of the picture at 16 px per block (clients divide by 16);
    ``zoomLevels`` lists the tiles that exist at every zoom (clients request only those).
    ``widthBlocks``/``heightBlocks``, ``scale`` and ``imageWidth``/``imageHeight`` (pixels of the
    deepest zoom) say the same without that convention.
    """
    width, height = info.zoom_size(info.max_zoom)
    return {
        **(extra or {}),
        "width": info.width * CLIENT_PIXELS_PER_BLOCK,
        "height": info.height * CLIENT_PIXELS_PER_BLOCK,
        "widthBlocks": info.width,
        "heightBlocks": info.height,
        "tileSize": info.tile_size,
        "minZoom": 0,
        "maxZoom": info.max_zoom,
        "zoomLevels": [
            {"zoomLevel": zoom, "tiles_x": info.tiles(zoom)[0], "tiles_z": info.tiles(zoom)[1]}
            for zoom in range(info.max_zoom + 1)
        ],
        "tileFormat": "png",
        "scale": info.scale,
        "imageWidth": width,
        "imageHeight": height,
        "fullImage": full_image,
    }


def _blockdata(grid: BlockGrid, metadata: dict[str, Any], layers: Mapping[str, NDArray[np.integer[Any]]]) -> bytes:
    """``blockdata.json``: the blocks used, by short id, and the short id at every position.

    The shape existing Pixeletica clients read: ``blocks`` maps short ids ``"0"``..``"n-1"``
    (the blocks used, sorted by block id) to ``{name, minecraft_id, hex, rgb}``; ``matrix`` holds
    the rows top to bottom, each position's short id or ``null`` for air; each layer, its rows of
    numbers likewise. Written row by row: a JSON encoder holding millions of small strings at once
    would need far more memory than the data.
    """
    used = sorted((int(i) for i in np.unique(grid.indices) if i >= 0), key=lambda i: grid.block_ids[i])
    blocks = {}
    token = np.full(len(grid.block_ids) + 1, "null", dtype=object)  # index + 1 -> JSON text; 0 is air
    for short, index in enumerate(used):
        r, g, b = (int(v) for v in grid.colors[index])
        blocks[str(short)] = {
            "name": grid.names[index],
            "minecraft_id": grid.block_ids[index],
            "hex": f"#{r:02x}{g:02x}{b:02x}",
            "rgb": [r, g, b],
        }
        token[index + 1] = f'"{short}"'
    head = json.dumps(
        {
            "width": grid.width,
            "height": grid.height,
            "origin_x": metadata.get("origin_x", 0),
            "origin_z": metadata.get("origin_z", 0),
            "blocks": blocks,
        },
        separators=(",", ":"),
    )
    buf = io.StringIO()
    buf.write(head[:-1] + ',"matrix":[')
    for y, row in enumerate(grid.indices):
        if y:
            buf.write(",")
        buf.write("[" + ",".join(token[row.astype(np.intp) + 1].tolist()) + "]")
    buf.write("]")
    for name, layer in layers.items():
        buf.write(f",{json.dumps(name)}:[")
        for y, numbers in enumerate(layer):
            buf.write(("," if y else "") + "[" + ",".join(map(str, numbers.tolist())) + "]")
        buf.write("]")
    buf.write("}")
    return buf.getvalue().encode()
