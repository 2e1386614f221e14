"""Map art: the game's shading rule played on the written build, map files read back, seams, bad input."""

from __future__ import annotations

import io
from pathlib import Path

import amulet_nbt
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from PIL import Image

from pixeletica.engine import image_io, mapart, quality, staircase
from pixeletica.engine.exports import maps, schematic, world
from pixeletica.errors import InvalidInput

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
PLACEMENT = world.Placement(origin_x=-64, origin_y=64, origin_z=-64)


def files_by_path(made: list[maps.MapFile], summary: dict[str, object]) -> tuple[dict[str, bytes], dict[str, object]]:
    """The files of a map art by their relative paths, and its summary."""
    return {f.path: f.data for f in made}, summary


def framed(name: str, across: int = 1, down: int = 1, kind: str = "staircase") -> np.ndarray:
    loaded = image_io.load_image((SAMPLES / name).read_bytes())
    rgb, _ = image_io.split_alpha(maps.frame(loaded.rgba, (across, down), "crop", kind, "lanczos"))
    return rgb


def plan(rgb: np.ndarray, **settings: object) -> mapart.MapArt:
    return mapart.plan(rgb, np.ones(rgb.shape[:2], dtype=bool), mapart.MapArtSettings(**settings))


def read_schem(data: bytes) -> tuple[np.ndarray, list[str], tuple[int, int, int]]:
    """The blocks of a Sponge v3 file as (x, y, z) palette indices, its palette and its corner (second NBT reader)."""
    schem = amulet_nbt.load(data).compound["Schematic"]
    width, height, length = (int(schem[k]) for k in ("Width", "Height", "Length"))
    palette = {int(v): str(k) for k, v in schem["Blocks"]["Palette"].items()}
    raw = np.asarray(schem["Blocks"]["Data"]).astype(np.uint8)
    values, value, shift = [], 0, 0
    for byte in raw.tolist():  # varints
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            values.append(value)
            value, shift = 0, 0
    blocks = np.asarray(values).reshape(height, length, width).transpose(2, 0, 1)
    origin = tuple(int(v) for v in schem["Metadata"]["PixeleticaOrigin"])
    return blocks, [palette[i] for i in range(len(palette))], origin  # type: ignore[return-value]


def shades_the_game_shows(art: mapart.MapArt, data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Play the game's rule on a written build: each column's top block, shaded by the top block north of it.

    Returns the map colour id and shade of every picture block."""
    blocks, palette, _ = read_schem(data)
    top = blocks.shape[1] - 1 - np.argmax(blocks[:, ::-1, :] != 0, axis=1)  # (x, z) highest block's level
    colour_of = {b.block: cid for cid, b in art.blocks.items()}
    ids = np.array([[colour_of[palette[blocks[x, top[x, z], z]]] for x in range(blocks.shape[0])]
                    for z in range(1, blocks.shape[2])], dtype=np.uint8)  # fmt: skip
    levels = top.T  # (z, x), row 0 the north line
    shades = np.where(levels[1:] > levels[:-1], 2, np.where(levels[1:] == levels[:-1], 1, 0))
    return ids, shades.astype(np.uint8)


@pytest.mark.parametrize("photo", ["coffee.jpg", "hubble_deep_field.jpg"])
@pytest.mark.parametrize(
    ("kind", "max_height"), [("flat", None), ("staircase", None), ("staircase", 8), ("staircase", 3)]
)
def test_the_written_build_shows_exactly_the_planned_picture(photo, kind, max_height):
    rgb = framed(photo, kind=kind)
    art = plan(rgb, kind=kind, max_height=max_height)
    data = schematic.to_sponge(maps.build(art, (-64, 64, -64)), PLACEMENT)
    ids, shades = shades_the_game_shows(art, data)
    assert np.array_equal(ids, art.colour_ids) and np.array_equal(shades, art.shades)
    assert set(np.unique(art.shades)) <= set(mapart.KIND_SHADES[kind])
    levels = read_schem(data)[0].shape[1]
    if max_height is not None:
        assert levels <= max_height
    if kind == "staircase":
        assert len(np.unique(art.shades)) == 3


def test_columns_stand_as_low_as_their_shades_allow():
    shades = np.array([[2], [2], [2], [0], [0], [1], [2], [0]], dtype=np.uint8)
    heights = staircase.heights_for(shades)[:, 0].tolist()
    # the north line, three rises, two falls (the falls need only sink to 0), level, a rise and a fall
    assert heights == [0, 1, 2, 3, 1, 0, 0, 1, 0]
    assert np.array_equal(staircase.shades_from_heights(staircase.heights_for(shades)), shades)


@examples(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2), min_size=1, max_size=40), min_size=1, max_size=6))
def test_any_shades_get_levels_that_show_them_from_the_ground_up(columns):
    width = len(columns)
    height = max(len(c) for c in columns)
    shades = np.array([[c[z % len(c)] for c in columns] for z in range(height)], dtype=np.uint8)
    heights = staircase.heights_for(shades)
    assert np.array_equal(staircase.shades_from_heights(heights), shades)
    assert (heights.min(axis=0) == 0).all()  # every column stands on the ground
    assert heights.shape == (height + 1, width)


@examples(max_examples=25, deadline=None)
@given(
    stripes=st.integers(1, 12),
    max_height=st.integers(2, 9),
    support=st.sampled_from(mapart.SUPPORT_MODES),
    preset=st.sampled_from(mapart.PRESETS),
)
def test_no_picture_makes_a_staircase_taller_than_its_limit(stripes, max_height, support, preset):
    # Light and dark stripes running north to south want long runs of rises and falls.
    ramp = np.linspace(0, 255, 64, dtype=np.uint8)[:, None, None]
    rgb = np.broadcast_to(ramp, (64, 32, 3)).copy()
    rgb[:, ::stripes] = 255 - rgb[:, ::stripes]
    wanted = {"kind": "staircase", "max_height": max_height, "support": support, "preset": preset}
    try:
        art = plan(rgb, **wanted)
    except InvalidInput as refused:  # too few levels for the supports this preset needs
        assert "needs at least" in str(refused)
        return
    assert maps.build(art, (-64, 64, -64)).blocks.shape[1] <= max_height


def test_a_height_limit_costs_little_and_three_shades_beat_one():
    rgb = framed("coffee.jpg")
    score = {}
    for label, settings in {
        "flat": {"kind": "flat"},
        "free": {"kind": "staircase"},
        "32": {"kind": "staircase", "max_height": 32},
    }.items():
        preview = plan(rgb, **settings).preview()[..., :3]
        score[label] = quality.score(rgb, preview, np.ones(rgb.shape[:2], dtype=bool)).blurred
    assert score["free"] < 0.8 * score["flat"]
    assert score["32"] < 1.1 * score["free"]


def test_map_files_read_back_byte_for_byte(tmp_path):
    rgba = np.zeros((256, 128, 4), dtype=np.uint8)
    rgba[..., :3] = framed("astronaut.jpg", 1, 2, kind="map-file")
    rgba[..., 3] = 255
    rgba[:40, :30, 3] = 0  # a transparent corner
    rgb, opaque = image_io.split_alpha(rgba)
    art = mapart.plan(rgb, opaque, mapart.MapArtSettings(kind="map-file"))
    assert (art.colour_ids[:40, :30] == 0).all() and (art.shades == 3).any()
    placement = world.Placement(origin_x=64, origin_z=-64, game_version="1.20.1")
    files, summary = files_by_path(*maps.made_files(art, rgb, "astro", placement, start_id=7))
    assert summary["map_ids"] == "7..8" and "astro.litematic" not in files
    for n, rows in ((7, slice(0, 128)), (8, slice(128, 256))):
        root = amulet_nbt.load(files[f"world/data/map_{n}.dat"]).compound
        assert int(root["DataVersion"]) == world.DATA_VERSIONS["1.20.1"]
        data = root["data"]
        colours = np.asarray(data["colors"]).astype(np.uint8)
        assert colours.size == 128 * 128
        assert np.array_equal(colours.reshape(128, 128), art.map_bytes[rows])
        assert str(data["dimension"]) == "minecraft:overworld" and int(data["scale"]) == 0
        assert (int(data["xCenter"]), int(data["zCenter"])) == (128, -64 + 64 + 128 * (n - 7))
    assert int(amulet_nbt.load(files["world/data/idcounts.dat"]).compound["data"]["map"]) == 8
    modern, _ = files_by_path(*maps.made_files(art, rgb, "astro", placement, layout="modern"))
    assert {"world/data/minecraft/maps/0.dat", "world/data/minecraft/maps/last_id.dat"} <= set(modern)
    preview = art.preview()
    assert (preview[:40, :30, 3] == 0).all() and (preview[40:, :, 3] == 255).all()


def test_a_picture_split_into_maps_is_the_unsplit_picture():
    rgb = framed("coffee.jpg", 2, 2)
    art = plan(rgb, kind="staircase", max_height=16)
    files, summary = files_by_path(*maps.made_files(art, rgb, "c", PLACEMENT, formats=("schem",)))
    whole, palette, (ox, oy, oz) = read_schem(files["c.schem"])
    assert len(summary["per_map"]) == 4
    for row in (1, 2):
        for col in (1, 2):
            piece, piece_palette, (px, py, pz) = read_schem(files[f"maps/c_r{row}c{col}.schem"])
            names = np.array(piece_palette, dtype=object)[piece]
            x0, z0 = px - ox, pz - oz
            y0 = py - oy
            expected = np.array(palette, dtype=object)[whole[x0 : x0 + piece.shape[0], y0 : y0 + piece.shape[1],
                                                             z0 : z0 + piece.shape[2]]]  # fmt: skip
            assert np.array_equal(names, expected)
            assert piece.shape[0] == 128 and piece.shape[2] == (129 if row == 1 else 128)
    for row in (1, 2):  # each map's picture is its part of the whole one
        for col in (1, 2):
            tile = files[f"maps/c_map_r{row}c{col}.png"]
            with Image.open(io.BytesIO(tile)) as picture:
                part = art.preview()[(row - 1) * 128 : row * 128, (col - 1) * 128 : col * 128]
                assert np.array_equal(np.asarray(picture.convert("RGBA")), part)


def test_support_blocks_go_under_blocks_that_need_them():
    rgb = framed("coffee.jpg")
    rgb[40:80, 30:90] = (127, 178, 56)  # GRASS's light shade
    settings = {"kind": "staircase", "blocks": {"GRASS": "minecraft:slime_block"}, "exclude": ()}
    art = plan(rgb, **settings)
    build = maps.build(art, (-64, 64, -64))
    slime = build.palette.index("minecraft:slime_block")
    support = build.palette.index(mapart.DEFAULT_SUPPORT_BLOCK)
    x, y, z = np.nonzero(build.blocks == slime)
    assert x.size > 0
    assert (build.blocks[x, y - 1, z] == support).all()
    everywhere = maps.build(plan(rgb, kind="flat", support="all"), (-64, 64, -64))
    assert (everywhere.blocks[:, 0, 1:] == everywhere.palette.index(mapart.DEFAULT_SUPPORT_BLOCK)).all()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"blocks": {"NOT_A_COLOUR": "minecraft:stone"}}, "unknown map colour 'NOT_A_COLOUR'"),
        ({"blocks": {"GRASS": "minecraft:stone"}}, "does not show map colour GRASS"),
        (
            {"blocks": {"COLOR_ORANGE": "minecraft:honeycomb_block"}, "game_version": "1.14.4"},
            "not in Minecraft 1.14.4",
        ),
        ({"kind": "staircase", "max_height": 2, "support": "all"}, "a staircase needs at least 3 levels"),
        ({"kind": "flat", "max_height": 3}, "max_height is for staircase map art"),
        ({"blocks": {"WATER": "minecraft:water"}}, "the game shades water by its depth"),
        ({"kind": "staircase", "max_height": 1, "support": "none"}, "a staircase needs at least 2 levels"),
        ({"kind": "sideways"}, "unknown kind of map art 'sideways'"),
        ({"support": "sometimes"}, "unknown support mode 'sometimes'"),
        ({"preset": "gold"}, "unknown block preset 'gold'"),
        ({"exclude": tuple(c.name for c in mapart.map_colours())}, "every map colour is excluded"),
    ],
)
def test_bad_settings_name_the_problem(settings, message):
    with pytest.raises(InvalidInput, match=message):
        plan(np.zeros((4, 4, 3), dtype=np.uint8), **settings)


@pytest.mark.parametrize("text", ["3", "0x2", "2x33", "ax1", "", "2x2x2"])
def test_map_counts_are_whole_maps(text):
    with pytest.raises(InvalidInput, match="maps must be two whole numbers"):
        maps.parse_maps(text)


def test_builds_start_on_a_map_s_edge():
    maps.check_origin(-64, 64)
    with pytest.raises(InvalidInput, match=r"origin_x 0 is not on a map's edge.*\(e\.g\. -64 or 64\)"):
        maps.check_origin(0, -64)


def test_presets_start_from_carpets_or_greys_and_carpets_stand_on_supports():
    carpets = mapart.choose_blocks(mapart.MapArtSettings(preset="carpets"))
    assert len(carpets) == 16 and all(b.block.endswith("_carpet") and b.needs_support for b in carpets.values())
    greys = mapart.choose_blocks(mapart.MapArtSettings(preset="greyscale"))
    by_id = {c.id: c for c in mapart.map_colours()}
    assert greys and all(len(set(by_id[i].rgb)) == 1 for i in greys)
    art = plan(framed("coffee.jpg"), kind="staircase", preset="carpets", max_height=12)
    build = maps.build(art, (-64, 64, -64))
    support = build.palette.index(mapart.DEFAULT_SUPPORT_BLOCK)
    x, y, z = np.nonzero(build.blocks[:, :, 1:] > 1)
    assert x.size == 128 * 128 and (build.blocks[x, y - 1, z + 1] == support).all()
    assert build.blocks.shape[1] <= 12


def test_a_support_block_that_is_also_an_art_block_is_one_palette_entry():
    rgb = framed("coffee.jpg")
    art = mapart.plan(
        rgb,
        np.ones(rgb.shape[:2], dtype=bool),
        mapart.MapArtSettings(kind="staircase", support="all", support_block="minecraft:andesite"),
    )
    build = maps.build(art, (-64, 64, -64))
    assert len(build.palette) == len(set(build.palette))
    blocks, palette, _ = read_schem(schematic.to_sponge(build, PLACEMENT))
    assert sorted(palette) == sorted(build.palette) and blocks.max() < len(palette)
    ids, shades = shades_the_game_shows(art, schematic.to_sponge(build, PLACEMENT))
    assert np.array_equal(ids, art.colour_ids) and np.array_equal(shades, art.shades)


def test_framing_a_very_long_picture_makes_nothing_larger_than_the_maps():
    long = np.zeros((1, 5000, 4), dtype=np.uint8)
    long[..., 3] = 255
    framed_ = maps.frame(long, (2, 1), "crop", "staircase", "lanczos")
    assert framed_.shape == (128, 256, 4)
    half = np.zeros((2, 2, 4), dtype=np.uint8)
    half[0, 0] = (0, 0, 0, 255)  # black, opaque; the rest transparent
    assert maps.on_white(half).tolist() == [[[0, 0, 0], [255, 255, 255]], [[255, 255, 255], [255, 255, 255]]]


@pytest.mark.parametrize(
    ("blocks", "exclude", "message"),
    [
        ({"GRASS": "minecraft:grass_block", "grass": "minecraft:slime_block"}, (), "GRASS is given a block twice"),
        ({"GRASS": "minecraft:grass_block"}, ("GRASS",), "both given a block and excluded"),
    ],
)
def test_a_colour_is_chosen_once(blocks, exclude, message):
    with pytest.raises(InvalidInput, match=message):
        mapart.choose_blocks(mapart.MapArtSettings(blocks=blocks, exclude=exclude))


@pytest.mark.parametrize("text", ["²x1", "1x³", "①x1", "١x1"])
def test_map_counts_are_ascii_digits(text):
    with pytest.raises(InvalidInput, match="maps must be two whole numbers"):
        maps.parse_maps(text)
