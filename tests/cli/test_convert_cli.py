"""`pixeletica convert` and `pixeletica palette` as a user runs them: real processes, real files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pixeletica.cli import convert
from pixeletica.engine.blockgrid import BlockGrid

from ..interrupts import interrupt_everywhere

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "pixeletica"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, check=False, timeout=300)


def test_convert_a_photograph(tmp_path, photo_path):
    out = tmp_path / "out"
    result = run("convert", str(photo_path), "--width", "96", "--out", str(out))
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "astronaut_blocks.npz",
        "astronaut_dithered.png",
        "astronaut_materials.csv",
        "astronaut_materials.json",
        "astronaut_materials.txt",
    ]

    with Image.open(out / "astronaut_dithered.png") as im:
        assert im.size == (96, 96) and im.mode == "RGBA"
    grid = BlockGrid.from_npz((out / "astronaut_blocks.npz").read_bytes())
    assert grid.indices.shape == (96, 96)
    document = json.loads((out / "astronaut_materials.json").read_text())
    assert document["total_blocks"] == 96 * 96
    assert sum(m["count"] for m in document["materials"]) == 96 * 96
    assert "ΔE2000" in result.stdout and "96 x 96 blocks" in result.stdout
    fidelity = next(line for line in result.stdout.splitlines() if "Fidelity" in line)
    assert "ΔE2000 blurred" in fidelity and "per block" in fidelity


def test_a_picture_of_air_has_no_fidelity_score(tmp_path):
    Image.fromarray(np.zeros((8, 8, 4), dtype=np.uint8), "RGBA").save(tmp_path / "empty.png")
    result = run("convert", str(tmp_path / "empty.png"), "--out", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    assert "nothing to measure: every pixel is air" in result.stdout and "nan" not in result.stdout.lower()


def test_console_script_and_options(tmp_path):
    script = Path(sys.executable).with_name("pixeletica")
    assert script.exists(), "the pixeletica console script is installed next to python"
    source = Path(__file__).resolve().parents[2] / "samples" / "coffee.jpg"
    out = tmp_path / "o"
    result = subprocess.run(
        [
            str(script), "convert", str(source), "--height", "40", "--out", str(out), "--dither", "ordered_8x8",
            "--metric", "ciede2000", "--category", "wool", "--category", "concrete", "--face", "top",
        ],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    grid = BlockGrid.from_npz((out / "coffee_blocks.npz").read_bytes())
    assert grid.indices.shape == (40, 60)
    assert all(("wool" in b) or ("concrete" in b) for b in grid.block_ids)
    assert grid.face == "top" and grid.meta["metric"] == "ciede2000" and grid.meta["algorithm"] == "ordered_8x8"


def test_transparent_png_gives_air(tmp_path):
    rgba = np.zeros((16, 16, 4), dtype=np.uint8)
    rgba[4:12, 4:12] = (30, 160, 60, 255)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "sprite.png")
    result = run("convert", str(tmp_path / "sprite.png"), "--resample", "nearest", "--out", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "o" / "sprite_dithered.png") as im:
        alpha = np.asarray(im)[..., 3]
    assert (alpha == 0).sum() == 256 - 64
    assert json.loads((tmp_path / "o" / "sprite_materials.json").read_text())["air"] == 256 - 64


def _bad_inputs(tmp_path: Path, photo_path: Path) -> dict[str, tuple[list[str], str]]:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.png"
    data = (Path(__file__).resolve().parents[2] / "samples" / "chelsea.jpg").read_bytes()
    Image.open(photo_path).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:20000])
    text = tmp_path / "notes.jpg"
    text.write_text("these are my notes, not a picture")
    svg = tmp_path / "logo.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>')
    cut_jpeg = tmp_path / "cut.jpg"
    cut_jpeg.write_bytes(data[:100])
    one_line = tmp_path / "mine.csv"
    one_line.write_text("stone,#gggggg\n")  # no header: its one line is a block with a bad colour
    photo = str(photo_path)
    return {
        "missing": ([str(tmp_path / "nope.png")], "does not exist"),
        "empty": ([str(empty)], "the file is empty"),
        "truncated": ([str(truncated)], "truncated or corrupt"),
        "cut": ([str(cut_jpeg)], "truncated or corrupt"),
        "text": ([str(text)], "not an image Pixeletica can read"),
        "svg": ([str(svg)], "SVG (vector) drawing"),
        "zero": ([photo, "--width", "0"], "width must be a positive number of blocks, got 0"),
        "negative": ([photo, "--height", "-3"], "height must be a positive number of blocks, got -3"),
        "huge": ([photo, "--width", "5000"], "limited to 4096 blocks (raise it with --max-size"),
        "bomb": ([photo, "--max-input-pixels", "1000"], "the limit is 0.001 megapixels (raise it with"),
        "algorithm": ([photo, "--dither", "sparkle"], "unknown dithering algorithm 'sparkle'; choose one of"),
        "metric": ([photo, "--metric", "hsv"], "unknown colour metric 'hsv'; choose one of"),
        "seed": ([photo, "--seed", str(2**64)], "seed must be a whole number below 2**63 in size"),
        "limit": ([photo, "--max-size", "-1"], "max_size must be at least 1, got -1"),
        "map-only": ([photo, "--maps", "2x2", "--support", "all"], "--maps, --support: only with --map-art"),
        "one-line-palette": ([photo, "--palette-file", str(one_line)], "line 1: expected a block id and a #rrggbb"),
        "block": ([photo, "--block", "minecraft:stonee"], "unknown block id 'minecraft:stonee'"),
        "category": ([photo, "--category", "wol"], "unknown category 'wol'"),
        "palette": ([photo, "--palette-file", str(tmp_path / "nope.csv")], "palette file"),
        "division": ([photo, "-w", "10", "--division", "500"], "--division 500 is more parts than the 10x10 grid"),
        "facing": ([photo, "--schematic", "--orientation", "wall", "--facing", "up"], "facing must be one of south"),
        "version": ([photo, "--schematic", "--game-version", "1.8"], "--game-version must be a Java release from 1.13"),
        "labels": ([photo, "--lines", "both", "--chunk-labels", "--scale", "2"], "chunk_labels need a scale of 4"),
        "format": ([photo, "--schematic", "--schematic-format", "mca"], "--schematic-format must be a list of some of"),
    }


@pytest.mark.parametrize(
    "case",
    ["missing", "empty", "truncated", "cut", "text", "svg", "zero", "negative", "huge", "bomb", "algorithm",
     "metric", "seed", "limit", "map-only", "one-line-palette", "block", "category", "palette", "division",
     "facing", "version", "labels", "format"],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2_and_no_files(tmp_path, photo_path, case):
    args, message = _bad_inputs(tmp_path, photo_path)[case]
    out = tmp_path / "out"
    result = run("convert", *args, "--out", str(out))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0]
    assert not out.exists() or not any(out.iterdir())


def test_pictures_converted_into_one_folder_each_keep_their_own_materials(tmp_path, photo_path):
    out = tmp_path / "out"
    assert run("convert", str(photo_path), "-w", "16", "--out", str(out)).returncode == 0
    assert run("convert", str(photo_path.parent / "coffee.jpg"), "-w", "24", "--out", str(out)).returncode == 0
    astronaut = json.loads((out / "astronaut_materials.json").read_text())
    coffee = json.loads((out / "coffee_materials.json").read_text())
    assert (astronaut["total_blocks"], coffee["total_blocks"]) == (16 * 16, 24 * 16)


def test_unwritable_output_leaves_nothing_behind(tmp_path, photo_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "astronaut_materials.json").mkdir()  # the last file cannot be written: a folder is in the way
    result = run("convert", str(photo_path), "--width", "16", "--out", str(out))
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot write to")
    assert sorted(p.name for p in out.iterdir()) == ["astronaut_materials.json"]
    assert not list(out.glob(".*tmp"))


def test_palette_list_and_categories(tmp_path):
    result = run("palette", "list", "--category", "wool", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 16 and all(r["id"].endswith("_wool") for r in rows)

    table = run("palette", "list", "--no-gravity", "--game-version", "1.16")
    assert table.returncode == 0 and "minecraft:white_concrete" in table.stdout
    assert "minecraft:sand " not in table.stdout and "deepslate" not in table.stdout

    cats = run("palette", "categories")
    assert cats.returncode == 0 and "glazed_terracotta" in cats.stdout

    bad = run("palette", "list", "--category", "nope")
    assert bad.returncode == 2 and bad.stderr.startswith("error: --category: unknown category 'nope'")


def test_version_and_help():
    assert run("--version").stdout.strip().startswith("pixeletica ")
    assert "convert" in run("--help").stdout


def test_outputs_are_written_with_normal_permissions(tmp_path, photo_path):
    out = tmp_path / "o"
    assert run("convert", str(photo_path), "--width", "8", "--out", str(out)).returncode == 0
    for path in out.iterdir():
        assert path.stat().st_mode & 0o044 == 0o044, path  # group/other can read, like any file


def test_sample_images_are_real_photographs():
    samples = Path(__file__).resolve().parents[2] / "samples"
    assert shutil.disk_usage(samples)
    for name in ("astronaut.jpg", "coffee.jpg", "chelsea.jpg"):
        with Image.open(samples / name) as im:
            assert im.format == "JPEG" and min(im.size) >= 300


def test_textured_renders_from_the_command_line(tmp_path, photo_path):
    out = tmp_path / "o"
    result = run(
        "convert", str(photo_path), "-w", "24", "--lines", "chunk_lines_only", "--scale", "8", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    with Image.open(out / "astronaut_chunk_lines.png") as im:
        assert im.size == (24 * 8, 24 * 8)
    bad = run("convert", str(photo_path), "-w", "24", "--lines", "grid", "--out", str(tmp_path / "b"))
    assert bad.returncode == 2 and "--lines must be a list of some of: " in bad.stderr
    assert "got 'grid'" in bad.stderr
    colour = run(
        "convert", str(photo_path), "--lines", "both", "--chunk-line-color", "red", "--out", str(tmp_path / "c")
    )
    assert colour.returncode == 2 and "--chunk-line-color must be a colour" in colour.stderr
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())


def test_schematics_from_the_command_line(tmp_path, photo_path):
    import amulet_nbt

    out = tmp_path / "o"
    result = run("convert", str(photo_path), "-w", "50", "--schematic", "--orientation", "wall", "--out", str(out))
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert {"astronaut.litematic", "astronaut.schem", "astronaut.mcfunction", "astronaut_x0_y0_z0.nbt"} <= set(names)
    schem = amulet_nbt.load((out / "astronaut.schem").read_bytes()).compound["Schematic"]
    assert (int(schem["Width"]), int(schem["Height"]), int(schem["Length"])) == (50, 50, 1)
    bad = run("convert", str(photo_path), "--schematic", "--orientation", "ceiling", "--out", str(tmp_path / "b"))
    assert bad.returncode == 2 and "orientation must be floor or wall, got 'ceiling'" in bad.stderr
    only = tmp_path / "only"
    chosen = ("--schematic-format", "schem", "--schematic-format", "mcfunction")
    result = run("convert", str(photo_path), "-w", "20", "--schematic", *chosen, "--out", str(only))
    assert result.returncode == 0, result.stderr
    made = {p.suffix for p in only.iterdir()}
    assert {".schem", ".mcfunction"} <= made and not made & {".litematic", ".nbt"}


def test_split_build_with_labels_facing_and_game_version(tmp_path, photo_path):
    import amulet_nbt

    out = tmp_path / "o"
    result = run(
        "convert", str(photo_path), "-w", "40", "--lines", "chunk_lines_only", "--chunk-labels", "--scale", "4",
        "--division", "4", "--origin-x", "-8", "--schematic", "--orientation", "wall", "--facing", "west",
        "--game-version", "1.20.1", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    names = {p.name for p in out.iterdir()}
    split = "astronaut_chunk_lines_split1_x-8..15_z0..15.png"
    assert {split, "astronaut_materials_parts.csv", "astronaut_materials.txt"} <= names
    document = json.loads((out / "astronaut_materials.json").read_text())
    assert [p["range"] for p in document["parts"]] == [
        "x-8..15_z0..15",
        "x16..31_z0..15",
        "x-8..15_z16..39",
        "x16..31_z16..39",
    ]
    for block in document["materials"]:  # the parts' lists add up to the whole build's
        per_part = [m["count"] for p in document["parts"] for m in p["materials"] if m["block_id"] == block["block_id"]]
        assert sum(per_part) == block["count"]
    text = (out / "astronaut_materials.txt").read_text()
    assert "Materials for a 40 x 40 build: 1,600 blocks" in text and "Part 4 (x16..31_z16..39)" in text
    schem = amulet_nbt.load((out / "astronaut.schem").read_bytes()).compound["Schematic"]
    assert int(schem["DataVersion"]) == 3465  # 1.20.1
    assert (int(schem["Width"]), int(schem["Height"]), int(schem["Length"])) == (1, 40, 40)  # facing west: along z


def test_files_written_by_convert_are_all_there_or_none_wherever_it_is_stopped(tmp_path):
    out = tmp_path / "made" / "here"
    files = {out / "art.png": b"png", out / "art.litematic": b"nbt", out / "maps" / "map_0.dat": b"map"}
    whole = {"made": None, "made/here": None, "made/here/maps": None} | {
        path.relative_to(tmp_path).as_posix(): data for path, data in files.items()
    }

    def check(before, after, interrupted):
        assert after == whole if not interrupted else after in ({}, whole), sorted(after)
        shutil.rmtree(tmp_path / "made", ignore_errors=True)

    assert interrupt_everywhere(tmp_path, lambda: convert._write(out, files), check) > 100


def test_an_out_folder_whose_name_is_too_long_is_one_line_and_exit_2(tmp_path):
    source = Path(__file__).resolve().parents[2] / "samples" / "coffee.jpg"
    result = run("convert", str(source), "--width", "8", "--out", str(tmp_path / ("o" * 256)))
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "cannot be used: File name too long" in result.stderr and not list(tmp_path.iterdir())
