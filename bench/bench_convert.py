#!/usr/bin/env python3
"""Conversion speed and memory: prints Markdown tables for the README's Performance section.

    .venv/bin/python bench/bench_convert.py            # everything (about two minutes)
    .venv/bin/python bench/bench_convert.py --quick    # fewer repeats

What it measures, on one core (the engine is single-threaded):

1. ns per pixel of the dithering step (nearest-colour search + dithering) for every algorithm
   and metric, on a 1024x1024 photograph (samples/astronaut.jpg, 512x512, enlarged with
   Lanczos), with the full default palette: warm (the palette's memo tables filled, as for every
   image after the first with that palette) and, for oklab, the first image through a new
   palette. ciede2000 with error diffusion is slow and is measured on a 256x256 crop.
2. Start-up: a fresh process that converts the photograph, once with an empty compilation cache
   and once with the cache filled by the first.
3. Peak memory (max RSS) of a process converting a 4096x4096 input to a 4096x4096 grid.
4. For scale, the original Pixeletica's method: a Python loop over the palette for every pixel.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from pixeletica.engine import distance, dither, nearest, palette  # noqa: E402

PHOTO = ROOT / "samples" / "astronaut.jpg"


def photograph(size: int) -> np.ndarray:
    with Image.open(PHOTO) as im:
        return np.asarray(im.convert("RGB").resize((size, size), Image.Resampling.LANCZOS))


def warm_ns(rgb: np.ndarray, colors: np.ndarray, metric: str, algorithm: str, repeats: int) -> float:
    """Median ns/pixel of repeated runs on one matcher (memo tables filled by a first run)."""
    opaque = np.ones(rgb.shape[:2], dtype=bool)
    algo = dither.get_algorithm(algorithm)
    matcher = nearest.Matcher(colors, distance.get_metric(metric))
    dither.dither(rgb, opaque, matcher, algo)
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        dither.dither(rgb, opaque, matcher, algo)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs) / (rgb.shape[0] * rgb.shape[1]) * 1e9


def first_image(rgb: np.ndarray, colors: np.ndarray, metric: str, algorithm: str) -> tuple[float, float]:
    """(ms to build a fresh matcher, ns/pixel of its first image): median of three fresh matchers."""
    opaque = np.ones(rgb.shape[:2], dtype=bool)
    algo = dither.get_algorithm(algorithm)
    builds, runs = [], []
    for _ in range(3):
        start = time.perf_counter()
        matcher = nearest.Matcher(colors, distance.get_metric(metric))
        built = time.perf_counter()
        dither.dither(rgb, opaque, matcher, algo)
        builds.append(built - start)
        runs.append(time.perf_counter() - built)
    return statistics.median(builds) * 1e3, statistics.median(runs) / (rgb.shape[0] * rgb.shape[1]) * 1e9


def speed_tables(repeats: int) -> str:
    colors = palette.select().colors
    big = photograph(1024)
    crop = np.ascontiguousarray(big[384:640, 384:640])
    for metric in distance.METRICS:  # compile (or load) every kernel before timing anything
        for algorithm in ("none", "ordered", "floyd_steinberg"):
            warm_ns(np.ascontiguousarray(crop[:8, :8]), colors, metric, algorithm, 1)
    lines = [
        f"Dithering step (nearest colour + dithering), ns per pixel, one core, default palette ({len(colors)} "
        "blocks), 1024x1024 photograph; warm: median of repeated runs with the palette's memo tables filled.",
        "",
        "| algorithm | " + " | ".join(distance.METRICS) + " |",
        "|---|" + "---|" * len(distance.METRICS),
    ]
    for algorithm in dither.ALGORITHMS:
        cells = []
        for metric in distance.METRICS:
            slow = metric == "ciede2000" and dither.ALGORITHMS[algorithm].family == "diffusion"
            ns = warm_ns(crop if slow else big, colors, metric, algorithm, 1 if slow else repeats)
            cells.append(f"{ns:,.0f}" + " (256²)" if slow else f"{ns:,.0f}")
        lines.append(f"| {algorithm} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "First image through a new palette (oklab): building the search grid, then the dithering step with",
        "empty memo tables (every distinct colour of the photograph searched once). Median of 3.",
        "",
        "| algorithm | build matcher | first image, ns/pixel | warm, ns/pixel |",
        "|---|---|---|---|",
    ]
    for algorithm in ("none", "ordered", "floyd_steinberg"):
        build_ms, first_ns = first_image(big, colors, "oklab", algorithm)
        warm = warm_ns(big, colors, "oklab", algorithm, repeats)
        lines.append(f"| {algorithm} | {build_ms:.0f} ms | {first_ns:,.0f} | {warm:,.0f} |")
    return "\n".join(lines)


_CHILD = """
def peak_mb():
    # VmHWM: this process's own peak RSS (ru_maxrss would also count the parent's, inherited across exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
import sys, time, json
t0 = time.perf_counter()
from pixeletica.engine import pipeline, palette
t_import = time.perf_counter() - t0
data = open(sys.argv[1], "rb").read()
opts = pipeline.ConvertOptions(width=int(sys.argv[2]))
t1 = time.perf_counter()
first = pipeline.convert(data, palette.select(), opts)
t_first = time.perf_counter() - t1
t2 = time.perf_counter()
pipeline.convert(data, palette.select(), opts)
t_second = time.perf_counter() - t2
rss_mb = peak_mb()
print(json.dumps({"import": t_import, "first": t_first, "second": t_second, "rss_mb": rss_mb}))
"""


def child(image: Path, width: int, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(image), str(width)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **env},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def startup_and_memory_table(tmp: Path) -> str:
    photo = tmp / "photo1024.png"
    Image.fromarray(photograph(1024)).save(photo)
    cache = tmp / "numba-cache"
    cold = child(photo, 1024, {"NUMBA_CACHE_DIR": str(cache)})
    warm = child(photo, 1024, {"NUMBA_CACHE_DIR": str(cache)})
    huge = tmp / "photo4096.png"
    Image.fromarray(photograph(4096)).save(huge)
    mem = child(huge, 4096, {"NUMBA_CACHE_DIR": str(cache)})
    lines = [
        "Whole conversion in a new process (read, resize, dither, measure error), floyd_steinberg / oklab.",
        "",
        "| process | import | first convert() | second convert() | peak RSS |",
        "|---|---|---|---|---|",
        f"| 1024² photo, empty compile cache | {cold['import']:.2f} s | {cold['first']:.2f} s "
        f"| {cold['second']:.2f} s | {cold['rss_mb']:.0f} MB |",
        f"| 1024² photo, compile cache filled | {warm['import']:.2f} s | {warm['first']:.2f} s "
        f"| {warm['second']:.2f} s | {warm['rss_mb']:.0f} MB |",
        f"| 4096² photo to 4096² grid, cache filled | {mem['import']:.2f} s | {mem['first']:.2f} s "
        f"| {mem['second']:.2f} s | {mem['rss_mb']:.0f} MB |",
    ]
    return "\n".join(lines)


def original_method_table() -> str:
    """The original's approach: for each pixel, a Python loop over the palette in plain RGB."""
    colors = [tuple(int(v) for v in c) for c in palette.select().colors]
    rgb = photograph(64)
    start = time.perf_counter()
    for row in rgb:
        for r, g, b in row:
            _best, best_d = 0, float("inf")
            for i, (pr, pg, pb) in enumerate(colors):
                d = (int(r) - pr) ** 2 + (int(g) - pg) ** 2 + (int(b) - pb) ** 2
                if d < best_d:
                    _best, best_d = i, d
    per_pixel = (time.perf_counter() - start) / rgb.shape[0] / rgb.shape[1] * 1e6
    return (
        f"Original method (Python loop over {len(colors)} colours per pixel, rgb, no dithering) on a 64x64 "
        f"photo: {per_pixel:.1f} µs per pixel, i.e. {per_pixel:.0f} s per megapixel."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one warm repeat instead of three")
    args = parser.parse_args()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"numpy {np.__version__}, {time.strftime('%Y-%m-%d')}")  # fmt: skip
    print()
    print(speed_tables(1 if args.quick else 3))
    print()
    with tempfile.TemporaryDirectory() as tmp:
        print(startup_and_memory_table(Path(tmp)))
    print()
    print(original_method_table())


if __name__ == "__main__":
    main()
