#!/usr/bin/env python3
"""Textured render speed: prints a Markdown table for the README's Performance section.

    .venv/bin/python bench/bench_render.py

1. Render throughput: a 512x512-block grid of the default palette drawn with real textures at
   16 px per block (8192x8192 pixels), output megapixels per second (median of 3).
2. Every output of a 512x512-block conversion of a photograph: dithered picture, block grid,
   materials, and the four line variants as PNG renders (zlib level 1).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402

from pixeletica.engine import palette, pipeline, render, textures  # noqa: E402
from pixeletica.engine.exports import bundle  # noqa: E402


def main() -> None:
    pal = palette.select()
    tiles, _ = textures.atlas([b.textures["side"] for b in pal.blocks], pal.colors, 16, textures.source(None))
    grid = np.random.default_rng(0).integers(0, len(pal), (512, 512)).astype(np.int16)
    render.render(grid[:8], tiles)
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        image = render.render(grid, tiles)
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
    print(f"| all of it | {size:.0f} MB of files | {total:.2f} s | |")


if __name__ == "__main__":
    main()
