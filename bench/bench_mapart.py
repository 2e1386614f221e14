#!/usr/bin/env python3
"""Map art: how faithful each kind is, and how long a whole 4x4-map build takes.

    .venv/bin/python bench/bench_mapart.py                  # every photograph, every kind, and the timing
    .venv/bin/python bench/bench_mapart.py --photos coffee,moon --maps 1x1

Every photograph in ``samples/`` is framed to the maps (crop, Lanczos) and planned as each kind of
map art with the default blocks (60 base colours: water left out); the map preview is scored with
blurred ΔE2000 against the framed picture (:func:`pixeletica.engine.quality.score`; lower is
better). Then a 4x4-map (512x512 blocks) staircase with a height limit of 32 is made with every
output (preview, height map, .litematic, .schem, .nbt pieces, .mcfunction, materials, map files,
whole and per map), timed in this process (compile cache filled) on one core.

Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402

from pixeletica.engine import conversion_settings, image_io, mapart, production, quality  # noqa: E402
from pixeletica.engine.exports import maps, world  # noqa: E402

PHOTOS = sorted(p for p in (ROOT / "samples").iterdir() if p.suffix in (".jpg", ".png"))
KINDS = {
    "flat": {"kind": "flat"},
    "staircase": {"kind": "staircase"},
    "staircase, max height 32": {"kind": "staircase", "max_height": 32},
    "staircase, max height 16": {"kind": "staircase", "max_height": 16},
    "map file (4 shades)": {"kind": "map-file"},
}


def framed(path: Path, across: int, down: int) -> np.ndarray:
    loaded = image_io.load_image(path.read_bytes())
    rgb, _ = image_io.split_alpha(maps.frame(loaded.rgba, (across, down), "crop", "staircase", "lanczos"))
    return rgb


def score(rgb: np.ndarray, settings: dict[str, object]) -> float:
    opaque = np.ones(rgb.shape[:2], dtype=bool)
    art = mapart.plan(rgb, opaque, mapart.MapArtSettings(**settings))  # type: ignore[arg-type]
    return quality.score(rgb, art.preview()[..., :3], opaque).blurred


def whole_build(path: Path) -> tuple[float, float, int]:
    """Seconds to plan and to make every output of a 4x4-map staircase within 32 levels, and the file count."""
    started = time.perf_counter()
    rgb = framed(path, 4, 4)
    art = mapart.plan(rgb, np.ones(rgb.shape[:2], dtype=bool), mapart.MapArtSettings(kind="staircase", max_height=32))
    planned = time.perf_counter()
    placement = world.Placement(origin_x=-64, origin_y=64, origin_z=-64)
    files, _ = maps.made_files(art, rgb, path.stem, placement)
    return planned - started, time.perf_counter() - planned, len(files)


def whole_task(path: Path) -> tuple[float, int, int]:
    """Seconds a task takes for the same map art with everything a task makes (builds, map files, web map
    tiles, the ZIP), the outputs and the web map's files."""
    settings = conversion_settings.ConversionSettings.from_dict(
        {"map_art": {"kind": "staircase", "maps": "4x4", "max_height": 32},
         "exports": {"origin_y": 64, "generate_web_files": True}}
    )  # fmt: skip
    web: list[str] = []
    started = time.perf_counter()
    made = production.produce(
        path.read_bytes(), settings.palette(), settings.options, settings.plan(path.stem, path.name),
        web=lambda name, data: web.append(name),
    )  # fmt: skip
    return time.perf_counter() - started, len(made.outputs), len(web)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", default="", help="comma-separated stems (default: every photograph in samples/)")
    parser.add_argument("--maps", default="1x1", help="size of the quality runs, in maps (ACROSSxDOWN)")
    args = parser.parse_args()
    photos = [p for p in PHOTOS if not args.photos or p.stem in args.photos.split(",")]
    across, down = maps.parse_maps(args.maps)
    print(f"Machine: {platform.machine()}, CPython {platform.python_version()}, numpy {np.__version__}.\n")
    print(f"### Blurred ΔE2000 of the map preview, {across * 128}x{down * 128} blocks (lower is better)\n")
    print("| kind | " + " | ".join(p.stem for p in photos) + " | mean | vs flat |")
    print("|---|" + "---|" * (len(photos) + 2))
    pictures = {p.stem: framed(p, across, down) for p in photos}
    flat_mean = None
    for label, settings in KINDS.items():
        scores = [score(pictures[p.stem], settings) for p in photos]
        mean = statistics.fmean(scores)
        flat_mean = flat_mean if flat_mean is not None else mean
        change = f"{(mean / flat_mean - 1) * 100:+.0f} %"
        print(f"| {label} | " + " | ".join(f"{s:.2f}" for s in scores) + f" | **{mean:.2f}** | {change} |")
    print("\n### A 4x4-map staircase within 32 levels, every output, one core\n")
    print("| run | plan (frame, dither, levels) | files | total | files written |")
    print("|---|---|---|---|---|")
    photo = next(p for p in PHOTOS if p.stem == "astronaut")
    for run in ("first in this process (compiling if the cache is empty)", "second", "third"):
        plan_s, files_s, count = whole_build(photo)
        print(f"| {run} | {plan_s:.2f} s | {files_s:.2f} s | {plan_s + files_s:.2f} s | {count} |")
    print("\nThe same as a task makes it (read, frame, dither, builds, map files, web map tiles, ZIP), one core:\n")
    print("| run | total | outputs | web map files |")
    print("|---|---|---|---|")
    for run in ("first", "second"):
        seconds, outputs, web = whole_task(photo)
        print(f"| {run} | {seconds:.2f} s | {outputs} | {web} |")


if __name__ == "__main__":
    main()
