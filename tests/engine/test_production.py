"""The one conversion function: the files a plan asks for, the summary, and progress up to the files."""

from __future__ import annotations

import io
import itertools
import json

import numpy as np
import pytest
from PIL import Image

from pixeletica.engine import conversion_settings as settings
from pixeletica.engine import mapart, palette, pipeline, production, staircase


@pytest.fixture(scope="module")
def image(photo_path) -> bytes:
    return photo_path.read_bytes()


def test_a_task_plan_gives_every_file_and_the_summary(image):
    raw = {"width": 32, "exports": {"generate_web_files": True, "generate_schematic": True}}
    task = settings.ConversionSettings.from_dict(raw)
    web: dict[str, bytes] = {}
    steps: list[tuple[float, str]] = []
    made = production.produce(
        image,
        task.palette(),
        task.options,
        task.plan("photo", "photo.jpg"),
        progress=lambda fraction, step: steps.append((fraction, step)),
        web=web.__setitem__,
    )
    ids = [o.file_id for o in made.outputs]
    assert ids[:2] == ["dithered_image", "block_grid"] and ids[-1] == "photo_task.zip"
    assert "rendered_no_lines" in ids and "web_metadata" in ids and "photo.litematic" in ids
    assert "metadata.json" in web and len(web) > 2
    assert made.summary["width"] == 32 and made.summary["render_scale"] == 16
    assert [s for _, s in steps][-3:] == ["rendering", "map tiles", "schematics"]
    assert all(a <= b for (a, _), (b, _) in itertools.pairwise(steps))


def test_a_plan_with_a_web_map_needs_somewhere_to_write_it(image):
    plan = production.Plan(stem="photo", web_map=True)
    with pytest.raises(ValueError, match="web map"):
        production.produce(image, palette.select(), pipeline.ConvertOptions(width=8), plan)


def _web_of(image: bytes, map_art: dict) -> tuple[production.Production, dict[str, bytes]]:
    raw = {"map_art": map_art, "exports": {"generate_web_files": True, "origin_y": 64, "schematic_formats": ["schem"]}}
    task = settings.ConversionSettings.from_dict(raw)
    web: dict[str, bytes] = {}
    made = production.produce(image, task.palette(), task.options, task.plan("photo", "photo.jpg"), web=web.__setitem__)
    return made, web


def test_a_map_art_task_s_web_map_shows_the_maps_colours_each_block_s_level_and_the_maps(image):
    made, web = _web_of(image, {"kind": "staircase", "maps": "2x1", "max_height": 6})
    art = made.map_art
    assert art is not None and art.heights is not None
    assert "web_metadata" in [o.file_id for o in made.outputs]
    meta = json.loads(web["metadata.json"])
    assert meta["map_art"] == {"kind": "staircase", "maps": "2x1", "map_size": 128}
    assert (meta["widthBlocks"], meta["heightBlocks"]) == (256, 128)
    assert (meta["origin_x"], meta["origin_y"], meta["origin_z"]) == (-64, 64, -64)  # the picture's north-west block
    data = json.loads(web["blockdata.json"])
    heights = np.array(data["heights"])
    assert heights.shape == (128, 256) and np.array_equal(heights, art.heights[1:])  # the north line left out
    # within max_height (6 levels: 0..5; the default blocks need no support, so no level goes to supports)
    assert heights.min() == 0 and heights.max() <= 6 - 1
    preview = art.preview()
    shown = np.array([[data["blocks"][key]["rgb"] for key in row] for row in data["matrix"]])
    assert np.array_equal(shown, preview[..., :3])  # the block data has exactly the maps' colours
    full = np.asarray(Image.open(io.BytesIO(web["full-image.png"])).convert("RGBA"))
    assert full.shape == (128 * 16, 256 * 16, 4) and np.array_equal(full[::16, ::16], preview)  # and so do the tiles
    # the name under the pointer says the shade that the levels give by the game's rule
    shade_names = np.array(mapart.SHADE_NAMES)[staircase.shades_from_heights(art.heights)]
    named = np.array([[data["blocks"][key]["name"].rsplit(", ", 1)[1] for key in row] for row in data["matrix"]])
    assert np.array_equal(named, np.char.add(shade_names, " shade"))
    block_of = {colour_id: block.block for colour_id, block in art.blocks.items()}
    ids = np.array([[data["blocks"][key]["minecraft_id"] for key in row] for row in data["matrix"]])
    assert np.array_equal(ids, np.vectorize(block_of.get)(art.colour_ids))


def test_a_map_file_s_web_map_has_no_levels_and_its_padding_is_air():
    wide = io.BytesIO()
    Image.new("RGB", (64, 32), (200, 30, 30)).save(wide, "PNG")
    _, web = _web_of(wide.getvalue(), {"kind": "map-file", "framing": "fit"})  # padded above and below
    assert json.loads(web["metadata.json"])["map_art"]["kind"] == "map-file"
    data = json.loads(web["blockdata.json"])
    assert "heights" not in data
    assert data["matrix"][0][0] is None and data["matrix"][64][64] is not None
    full = np.asarray(Image.open(io.BytesIO(web["full-image.png"])).convert("RGBA"))
    assert full[0, 0, 3] == 0 and full[64 * 16, 64 * 16, 3] == 255
