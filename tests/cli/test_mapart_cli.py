"""``pixeletica convert --map-art``: files, the summary, and bad input as one line with exit code 2."""

from __future__ import annotations

import json

import amulet_nbt
import numpy as np
import pytest
from PIL import Image

from .test_convert_cli import run


def test_staircase_map_art_with_a_height_limit(tmp_path, photo_path):
    out = tmp_path / "o"
    result = run("convert", str(photo_path), "--map-art", "staircase", "--maps", "2x1", "--max-height", "20",
                 "--map-id", "5", "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "map ids 5..6" in result.stdout and "Fidelity" in result.stdout
    with Image.open(out / "astronaut_map.png") as preview:
        assert preview.size == (256, 128)
    whole = ("astronaut.litematic", "astronaut.schem", "astronaut.mcfunction", "astronaut_heights.png")
    for name in (
        *whole,
        "astronaut_materials.csv",
        "maps/r1c2/astronaut_map_r1c2.png",
        "maps/r1c2/astronaut_r1c2.schem",
    ):
        assert (out / name).is_file(), name
    schem = amulet_nbt.load((out / "astronaut.schem").read_bytes()).compound["Schematic"]
    assert int(schem["Height"]) <= 20 and (int(schem["Width"]), int(schem["Length"])) == (256, 129)
    assert int(schem["Metadata"]["PixeleticaOrigin"][0]) == -64  # on a map's edge by default
    assert int(amulet_nbt.load((out / "world/data/idcounts.dat").read_bytes()).compound["data"]["map"]) == 6


def test_map_files_only_with_chosen_blocks(tmp_path, photo_path):
    choices = tmp_path / "blocks.json"
    choices.write_text(json.dumps({"GRASS": "minecraft:slime_block"}))
    out = tmp_path / "o"
    result = run("convert", str(photo_path), "--map-art", "map-file", "--map-blocks", str(choices),
                 "--exclude-colour", "snow", "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    made = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert made == {"astronaut_map.png", "world/data/map_0.dat", "world/data/idcounts.dat"}
    colours = np.asarray(amulet_nbt.load((out / "world/data/map_0.dat").read_bytes()).compound["data"]["colors"])
    assert not ((colours.astype(np.uint8) // 4) == 8).any()  # SNOW (8) left out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--map-art", "sideways"], "--map-art must be one of flat, staircase, map-file, got 'sideways'"),
        (["--map-art", "staircase", "--maps", "3"], "maps must be two whole numbers"),
        (["--map-art", "staircase", "--max-height", "1"], "a staircase needs at least 2 levels"),
        (["--map-art", "flat", "--origin-x", "10"], "--origin-x 10 is not on a map's edge"),
        (["--map-art", "flat", "--support", "sometimes"], "support must be one of none, needed, all"),
        (["--map-art", "flat", "--exclude-colour", "mauve"], "unknown map colour 'mauve'"),
        (["--map-art", "flat", "--map-layout", "newest"], "layout must be one of auto, legacy, modern"),
        (["--map-art", "flat", "--width", "300"], "--width is not used with --map-art"),
        (["--map-art", "flat", "--orientation", "wall"], "orientation must be floor for map art"),
        (["--map-art", "staircase", "--support-block", "minecraft:sand"], "support"),
        (["--map-art", "staircase", "--origin-y", "310", "--max-height", "40"], "above the world's top"),
        (["--map-art", "flat", "--game-version", "1.14.4", "--map-blocks", "BLOCKS"], "not in Minecraft 1.14.4"),
    ],
)
def test_bad_map_art_requests_are_one_line_exit_2_and_no_files(tmp_path, photo_path, args, message):
    blocks = tmp_path / "blocks.csv"
    blocks.write_text("colour,block\nCOLOR_ORANGE,minecraft:honeycomb_block\n")
    out = tmp_path / "o"
    result = run("convert", str(photo_path), *[str(blocks) if a == "BLOCKS" else a for a in args], "--out", str(out))
    assert result.returncode == 2, result.stdout
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # a block id reaches .mcfunction commands and schematic palettes: only known blocks pass
        (["--support", "all", "--support-block", "stone\nsay pwned"], "is not a block Pixeletica knows"),
        (["--support-block", "stone; op @a"], "is not a block Pixeletica knows"),
        (["--maps", "²x1"], "maps must be two whole numbers"),
        (["--maps", "9x8"], "at most 64 are built at once"),
        (["--map-id", "99999999999"], "--map-id must be a whole number from 0 to"),
    ],
)
def test_hostile_map_art_options_are_refused_in_one_line(tmp_path, photo_path, args, message):
    out = tmp_path / "o"
    result = run("convert", str(photo_path), "--map-art", "staircase", *args, "--out", str(out))
    assert result.returncode == 2, result.stdout
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"GRASS": "minecraft:slime_block", "GRASS": "minecraft:grass_block"}', "names 'GRASS' twice"),
        (b"GRASS,minecraft:slime_block\ngrass,minecraft:grass_block\n", "GRASS is given a block twice"),
        (b'{"a": ' + b"9" * 5000 + b"}", "is not a JSON object of colour names and block ids"),
        (b'{"a":' * 3000 + b"1" + b"}" * 3000, "is not a JSON object of colour names and block ids"),
        (b"\xff\xfe\x00G", "is not UTF-8 text"),
        (b"GRASS,minecraft:slime_block,extra\n", "expected 'colour,block'"),
    ],
)
def test_hostile_block_choice_files_are_refused_in_one_line(tmp_path, photo_path, content, message):
    choices = tmp_path / "blocks.txt"
    choices.write_bytes(content)
    out = tmp_path / "o"
    result = run("convert", str(photo_path), "--map-art", "flat", "--map-blocks", str(choices), "--out", str(out))
    assert result.returncode == 2, result.stdout
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_a_block_choice_file_from_a_spreadsheet_may_start_with_a_byte_order_mark(tmp_path, photo_path):
    choices = tmp_path / "blocks.csv"
    choices.write_bytes(b"\xef\xbb\xbfcolour,block\nGRASS,minecraft:slime_block\n")
    result = run("convert", str(photo_path), "--map-art", "flat", "--map-blocks", str(choices), "--out",
                 str(tmp_path / "o"))  # fmt: skip
    assert result.returncode == 0, result.stderr
