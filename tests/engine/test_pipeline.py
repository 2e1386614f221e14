"""The whole conversion, the block grid file and the materials list."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from PIL import Image

from pixeletica.engine import blockgrid, palette, pipeline
from pixeletica.engine.exports import materials
from pixeletica.errors import InvalidInput


@pytest.fixture(scope="module")
def converted(photo_path) -> pipeline.Conversion:
    options = pipeline.ConvertOptions(width=64)
    return pipeline.convert(photo_path.read_bytes(), palette.select(), options)


def test_conversion_of_a_photograph(converted):
    grid = converted.grid
    assert (grid.width, grid.height) == (64, 64)
    assert grid.air_count == 0
    assert grid.meta["algorithm"] == "floyd_steinberg" and grid.meta["metric"] == "oklab"
    assert 0 < converted.mean_delta_e2000 < 10
    assert converted.source.shape == (64, 64, 4)
    assert len(np.unique(grid.indices)) > 50


def test_transparent_pixels_become_air_and_are_not_materials():
    rgba = np.zeros((20, 30, 4), dtype=np.uint8)
    rgba[..., :3] = (200, 30, 30)
    rgba[..., 3] = 255
    rgba[:, :10, 3] = 0
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
    result = pipeline.convert(buf.getvalue(), palette.select(), pipeline.ConvertOptions())
    assert result.grid.air_count == 200
    assert result.grid.to_rgba()[:, :10, 3].max() == 0
    assert sum(m.count for m in materials.materials(result.grid)) == 400


def test_block_grid_file_round_trips(converted):
    data = converted.grid.to_npz()
    again = blockgrid.BlockGrid.from_npz(data)
    assert (again.indices == converted.grid.indices).all()
    assert again.block_ids == converted.grid.block_ids and again.meta == converted.grid.meta
    with np.load(io.BytesIO(data), allow_pickle=False) as raw:  # readable with plain numpy
        assert raw["indices"].dtype == np.int16 and int(raw["format"]) == 1
    with pytest.raises(InvalidInput, match="not a Pixeletica block grid"):
        blockgrid.BlockGrid.from_npz(b"garbage")


def test_dithered_picture_uses_only_palette_colours(converted):
    rgba = converted.grid.to_rgba()
    colours = {tuple(c) for c in rgba[..., :3].reshape(-1, 3)}
    assert colours <= {tuple(c) for c in converted.grid.colors}


def test_materials_count_stacks_and_shulker_boxes(converted):
    rows = materials.materials(converted.grid)
    assert sum(r.count for r in rows) == 64 * 64
    assert [r.count for r in rows] == sorted((r.count for r in rows), reverse=True)
    m = materials.material("minecraft:stone", "Stone", 1728 + 3 * 64 + 12)
    assert (m.stacks, m.remainder, m.shulker_boxes, m.stacks_after_boxes) == (30, 12, 1, 3)
    assert m.summary == "1 shulker box + 3 stacks + 12"
    assert materials.material("minecraft:stone", "Stone", 64).summary == "1 stack"
    parsed = list(csv.DictReader(io.StringIO(materials.to_csv(rows).decode())))
    assert int(parsed[0]["count"]) == rows[0].count and parsed[0]["block_id"] == rows[0].block_id
    document = json.loads(materials.to_json(rows, width=64, height=64, air=0))
    assert document["total_blocks"] == 4096 and document["materials"][0]["summary"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (pipeline.ConvertOptions(algorithm="dots"), "unknown dithering algorithm"),
        (pipeline.ConvertOptions(metric="hsv"), "unknown colour metric"),
        (pipeline.ConvertOptions(width=-1), "width must be a positive"),
        (pipeline.ConvertOptions(strength=2), "strength"),
        (pipeline.ConvertOptions(resample="cubic"), "resampling"),
        (pipeline.ConvertOptions(width=5000), "limited to 4096"),
        (pipeline.ConvertOptions(max_input_pixels=1000), "megapixels"),
    ],
)
def test_bad_options_are_refused(photo_path, options, message):
    with pytest.raises(InvalidInput, match=message):
        pipeline.convert(photo_path.read_bytes(), palette.select(), options)


def test_progress_runs_from_zero_to_one(photo_path):
    seen: list[tuple[float, str]] = []
    pipeline.convert(
        photo_path.read_bytes(),
        palette.select(),
        pipeline.ConvertOptions(width=32),
        lambda fraction, step: seen.append((fraction, step)),
    )
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert {"reading", "resizing", "dithering", "done"} <= {s for _, s in seen}
