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
    info = tiles.build(grid, atlas, files.__setitem__, files.__getitem__, metadata={"origin_x": -8})
    assert info.max_zoom == 3  # 70 * 16 = 1120 px -> 256 * 2**3 = 2048 >= 1120
    for zoom in range(info.max_zoom + 1):
        columns, rows = info.tiles(zoom)
        assert all(f"tiles/{zoom}/{x}/{y}.png" in files for x in range(columns) for y in range(rows))
    assert info.tiles(0) == (1, 1)
    full = render.render(grid.indices, atlas)
    deepest = np.asarray(Image.open(io.BytesIO(files["tiles/3/1/0.png"])))
    assert (deepest[:, :256] == full[0:256, 256:512]).all()
    assert np.asarray(Image.open(io.BytesIO(files["full-image.png"]))).shape == full.shape
    assert Image.open(io.BytesIO(files["thumbnail.png"])).size == (140, 80)
    meta = json.loads(files["metadata.json"])
    assert (meta["maxZoom"], meta["tileSize"], meta["origin_x"]) == (3, 256, -8)
    blocks = json.loads(files["blockdata.json"])
    assert blocks["blocks"][5][7] == int(grid.indices[5, 7]) and blocks["palette"] == list(grid.block_ids)


def test_bad_tile_sizes_are_refused():
    with pytest.raises(InvalidInput, match="tile size must be one of"):
        tiles.plan(10, 10, 16, 300)
