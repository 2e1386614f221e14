"""The web map's tile pyramid: every zoom down to one tile, tiles that agree with the full render."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from pixeletica.engine import palette, render, textures
from pixeletica.engine.blockgrid import BlockGrid
from pixeletica.engine.exports import tiles
from pixeletica.errors import InvalidInput


def test_pyramid_tiles_metadata_thumbnail_and_block_data():
    pal = palette.select(palette.PaletteFilter(include_categories=("wool",)))
    grid = BlockGrid.from_palette(np.random.default_rng(2).integers(-1, 16, (40, 70)).astype(np.int16), pal)
    atlas, _ = textures.atlas([b.textures["side"] for b in pal.blocks], pal.colors, 16, textures.source(None))
    files: dict[str, bytes] = {}
    info = tiles.build(grid, atlas, files.__setitem__, metadata={"origin_x": -8})
    assert info.max_zoom == 3  # 70 * 16 = 1120 px -> 256 * 2**3 = 2048 >= 1120
    for zoom in range(info.max_zoom + 1):
        columns, rows = info.tiles(zoom)
        assert all(f"tiles/{zoom}/{x}/{y}.png" in files for x in range(columns) for y in range(rows))
    assert info.tiles(0) == (1, 1)
    full = render.render(grid.indices, atlas)
    deepest = np.asarray(Image.open(io.BytesIO(files["tiles/3/1/0.png"])))
    assert (deepest[:, :256] == full[0:256, 256:512]).all()
    assert (np.asarray(Image.open(io.BytesIO(files["full-image.png"])).convert("RGBA")) == full).all()
    level = np.zeros((2048, 2048, 4), np.uint8)  # every zoom is the one below halved, tile by tile
    level[: full.shape[0], : full.shape[1]] = full
    for zoom in range(info.max_zoom, -1, -1):
        columns, rows = info.tiles(zoom)
        for x in range(columns):
            for y in range(rows):
                tile = np.asarray(Image.open(io.BytesIO(files[f"tiles/{zoom}/{x}/{y}.png"])).convert("RGBA"))
                assert (tile == level[y * 256 : (y + 1) * 256, x * 256 : (x + 1) * 256]).all(), (zoom, x, y)
        level = tiles._half(level)
    assert Image.open(io.BytesIO(files["thumbnail.png"])).size == (140, 80)
    meta = json.loads(files["metadata.json"])
    assert (meta["maxZoom"], meta["tileSize"], meta["origin_x"]) == (3, 256, -8)
    # The shape existing clients read: pixels at 16 per block, and the tiles of every zoom.
    assert (meta["width"], meta["height"], meta["widthBlocks"], meta["heightBlocks"]) == (1120, 640, 70, 40)
    assert meta["zoomLevels"] == [
        {"zoomLevel": z, "tiles_x": info.tiles(z)[0], "tiles_z": info.tiles(z)[1]} for z in range(4)
    ]
    data = json.loads(files["blockdata.json"])
    used = sorted({grid.block_ids[i] for i in np.unique(grid.indices) if i >= 0})
    assert [b["minecraft_id"] for b in data["blocks"].values()] == used and list(data["blocks"]) == [
        str(i) for i in range(len(used))
    ]
    for row in (0, 5, 39):
        for col in (0, 7, 69):
            key, index = data["matrix"][row][col], int(grid.indices[row, col])
            assert (key is None) if index < 0 else data["blocks"][key]["minecraft_id"] == grid.block_ids[index]
    assert data["blocks"]["0"]["rgb"] == grid.colors[grid.block_ids.index(used[0])].tolist()


def test_bad_tile_sizes_are_refused():
    with pytest.raises(InvalidInput, match="tile size must be one of"):
        tiles.plan(10, 10, 16, 300)


def test_halving_weights_colours_by_alpha():
    block = np.zeros((2, 2, 4), np.uint8)
    block[0, 0] = (200, 100, 50, 255)  # one opaque pixel beside three clear ones
    assert tiles._half(block)[0, 0].tolist() == [200, 100, 50, 64]  # its colour, a quarter of the cover
    block[...] = (10, 20, 30, 255)
    block[1, 1] = (50, 60, 70, 255)
    assert tiles._half(block)[0, 0].tolist() == [20, 30, 40, 255]
