#!/usr/bin/env python3
"""Textured render speed: prints a Markdown table for the README's Performance section.

    .venv/bin/python bench/bench_render.py

1. Render throughput: a 512x512-block grid of the default palette drawn with real textures at
   16 px per block (8192x8192 pixels), output megapixels per second (median of 3).
2. Every output of a 512x512-block conversion of a photograph: dithered picture, block grid,
   materials, the four line variants as PNG renders (zlib level 1), the schematics and the web map.
3. Peak memory of a process building the web map of a 2048x2048-block build.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402

from pixeletica.engine import palette, pipeline, render, textures  # noqa: E402
from pixeletica.engine.exports import bundle, tiles, world  # noqa: E402


def main() -> None:
    pal = palette.select()
    atlas = tiles_atlas(pal)
    grid = np.random.default_rng(0).integers(0, len(pal), (512, 512)).astype(np.int16)
    render.render(grid[:8], atlas)
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        image = render.render(grid, atlas)
        runs.append(time.perf_counter() - start)
    mp = image.shape[0] * image.shape[1] / 1e6
    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, one core used\n")
    print("| step | size | time | throughput |")
    print("|---|---|---|---|")
    print(f"| textured render | 512x512 blocks, 16 px/block ({mp:.0f} MP) | {statistics.median(runs):.2f} s "
          f"| {mp / statistics.median(runs):.0f} MP/s |")  # fmt: skip
    data = (ROOT / "samples" / "astronaut.jpg").read_bytes()
    pipeline.convert(data, pal, pipeline.ConvertOptions(width=16))
    start = time.perf_counter()
    result = pipeline.convert(data, pal, pipeline.ConvertOptions(width=512))
    converted = time.perf_counter() - start
    outputs = bundle.basic_outputs(result, "astronaut")
    basic = time.perf_counter() - start - converted
    options = bundle.RenderOptions(line_visibilities=tuple(render.LINE_VARIANTS))
    rendered, _ = bundle.rendered_outputs(result.grid, "astronaut", options)
    total = time.perf_counter() - start
    size = sum(len(o.data) for o in outputs + rendered) / 1e6
    print(f"| convert (floyd_steinberg, oklab) | 512x512 blocks | {converted:.2f} s | |")
    print(f"| dithered PNG, block grid, materials | | {basic:.2f} s | |")
    print(f"| 4 renders (every line variant), PNG level 1 | 4 x 8192x8192 px | {total - converted - basic:.2f} s | |")
    start = time.perf_counter()
    placement = world.Placement(orientation="floor")
    schematics = bundle.schematic_outputs(result.grid, "astronaut", placement)
    schem_time = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        web = Path(folder)

        def write(relative: str, data: bytes) -> None:
            (web / relative).parent.mkdir(parents=True, exist_ok=True)
            (web / relative).write_bytes(data)

        start = time.perf_counter()
        info = tiles.build(result.grid, atlas, write)
        tile_time = time.perf_counter() - start
        count = sum(1 for _ in web.rglob("*.png"))
    size += sum(len(o.data) for o in schematics) / 1e6
    pieces = sum(o.category == "structure" for o in schematics)
    label = f"schematics (.litematic, .schem, {pieces} .nbt pieces, .mcfunction)"
    print(f"| {label} | 512x512 blocks | {schem_time:.2f} s | |")
    label = f"web map ({count} tiles, zooms 0-{info.max_zoom}, thumbnail, full image, blocks)"
    print(f"| {label} | | {tile_time:.2f} s | |")
    print(f"| all of it | {size:.0f} MB of files + the map | {total + schem_time + tile_time:.2f} s | |")
    print()
    print(tile_memory())


def tiles_atlas(pal: palette.Palette) -> np.ndarray:
    atlas, _ = textures.atlas([b.textures["side"] for b in pal.blocks], pal.colors, 16, textures.source(None))
    return atlas


_CHILD = """
def peak_mb():
    # VmHWM: this process's own peak RSS (ru_maxrss would also count the parent's, inherited across exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
import sys, tempfile, time
from pathlib import Path
import numpy as np
from pixeletica.engine import palette, textures
from pixeletica.engine.blockgrid import BlockGrid
from pixeletica.engine.exports import tiles
pal = palette.select()
atlas, _ = textures.atlas([b.textures["side"] for b in pal.blocks], pal.colors, 16, textures.source(None))
grid = BlockGrid.from_palette(np.random.default_rng(1).integers(0, len(pal), (2048, 2048)).astype(np.int16), pal)
with tempfile.TemporaryDirectory() as folder:
    web = Path(folder)
    def write(relative, data):
        (web / relative).parent.mkdir(parents=True, exist_ok=True)
        (web / relative).write_bytes(data)
    start = time.perf_counter()
    info = tiles.build(grid, atlas, write, full_image_max_pixels=0)
    seconds = time.perf_counter() - start
    count = sum(1 for _ in web.rglob("*.png"))
print(count, info.max_zoom, round(seconds, 1), round(peak_mb()))
"""


def tile_memory() -> str:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    ).stdout.split()
    count, zoom, seconds, rss = out
    return (
        "| web map of a 2048x2048-block build (32768x32768 px at zoom " + zoom + ") | tiles | time | peak RSS |\n"
        "|---|---|---|---|\n"
        f"| every zoom, no full image | {count} | {seconds} s | {rss} MB |"
    )


if __name__ == "__main__":
    main()
