#!/usr/bin/env python3
"""How faithful the pictures are: blurred and per-pixel CIEDE2000 of every method on real photographs.

    .venv/bin/python bench/bench_quality.py                      # 128 and 256 wide, every method
    .venv/bin/python bench/bench_quality.py --widths 128 --algorithms floyd_steinberg,none --metrics oklab

Every photograph in ``samples/`` is resized to the width (Lanczos, as the default does) and dithered
with the full default palette, face ``side``. Each method is scored with
:func:`pixeletica.engine.quality.score` (blurred ΔE2000: both pictures blurred with σ = 1 block in
linear light, then CIEDE2000; lower is better) and, in the summary table, per-pixel ΔE2000 and
speed. The first row is the original tool's method for comparison: sRGB Euclidean matching and
Floyd–Steinberg diffusion of the unclamped error in sRGB, on the same palette.

Prints Markdown: per width, a table of blurred ΔE2000 per photograph and on average, then a table of
the mean blurred and per-pixel ΔE2000 and the warm dithering time per pixel of each method.
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import numba  # noqa: E402
import numpy as np  # noqa: E402

from pixeletica.engine import distance, dither, image_io, nearest, palette, quality  # noqa: E402

PHOTOS = sorted(p for p in (ROOT / "samples").iterdir() if p.suffix in (".jpg", ".png"))
ORIGINAL = "original (sRGB FS, unclamped)"


@numba.njit(cache=True)
def _original_fs(rgb: np.ndarray, opaque: np.ndarray, colors: np.ndarray) -> np.ndarray:  # pragma: no cover
    """The original tool's Floyd–Steinberg: nearest by sRGB distance, error carried in sRGB, never clamped."""
    h, w = rgb.shape[0], rgb.shape[1]
    work = np.zeros((h + 1, w + 2, 3))
    for y in range(h):
        for x in range(w):
            for c in range(3):
                work[y, x + 1, c] = rgb[y, x, c]
    pal = colors.astype(np.float64)
    out = np.full((h, w), -1, dtype=np.int16)
    for y in range(h):
        for x in range(w):
            if not opaque[y, x]:
                continue
            best = 0
            best_d = 1e300
            for p in range(pal.shape[0]):
                d = 0.0
                for c in range(3):
                    t = work[y, x + 1, c] - pal[p, c]
                    d += t * t
                if d < best_d:
                    best_d = d
                    best = p
            out[y, x] = best
            for c in range(3):
                e = work[y, x + 1, c] - pal[best, c]
                work[y, x + 2, c] += e * 7 / 16
                work[y + 1, x, c] += e * 3 / 16
                work[y + 1, x + 1, c] += e * 5 / 16
                work[y + 1, x + 2, c] += e * 1 / 16
    return out


def load(path: Path, width: int) -> tuple[np.ndarray, np.ndarray]:
    loaded = image_io.load_image(path.read_bytes())
    size = image_io.target_size(loaded.width, loaded.height, width, None, max_size=4096)
    return image_io.split_alpha(image_io.resize(loaded.rgba, size))


def run(method: tuple[str, str], rgb: np.ndarray, opaque: np.ndarray, colors: np.ndarray) -> tuple[np.ndarray, float]:
    """Palette indices and warm seconds (the best of three runs after the first) of one method."""
    algorithm, metric = method
    if algorithm == ORIGINAL:
        work = lambda: _original_fs(rgb, opaque, colors)  # noqa: E731
    else:
        matcher = nearest.Matcher(colors, distance.get_metric(metric))
        algo = dither.get_algorithm(algorithm)
        work = lambda: dither.dither(rgb, opaque, matcher, algo)  # noqa: E731
    indices = work()
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return indices, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", default="128,256")
    parser.add_argument("--algorithms", default=",".join(dither.ALGORITHMS))
    parser.add_argument("--metrics", default=",".join(distance.METRICS))
    parser.add_argument("--photos", default="", help="comma-separated stems (default: every photograph in samples/)")
    args = parser.parse_args()
    photos = [p for p in PHOTOS if not args.photos or p.stem in args.photos.split(",")]
    colors = palette.select().colors
    methods = [(ORIGINAL, "rgb")] + [
        (a, m)
        for a in args.algorithms.split(",")
        for m in args.metrics.split(",")
        if not (a.startswith("ordered") and m == "ciede2000")  # four Bayer maps x the slowest metric: left out for time
    ]
    print(f"Palette: {len(colors)} colours (default, face side). Machine: {platform.machine()}, "
          f"{platform.python_implementation()} {platform.python_version()}, numpy {np.__version__}.\n")  # fmt: skip
    for width in (int(w) for w in args.widths.split(",")):
        images = {p.stem: load(p, width) for p in photos}
        blurred: dict[tuple[str, str], list[float]] = {}
        per_pixel: dict[tuple[str, str], list[float]] = {}
        ns: dict[tuple[str, str], list[float]] = {}
        for method in methods:
            for rgb, opaque in images.values():
                indices, seconds = run(method, rgb, opaque, colors)
                picture = colors[np.maximum(indices, 0)]
                s = quality.score(rgb, picture, opaque)
                blurred.setdefault(method, []).append(s.blurred)
                per_pixel.setdefault(method, []).append(s.per_pixel)
                ns.setdefault(method, []).append(seconds / indices.size * 1e9)
        print(f"### Blurred ΔE2000 at {width} blocks wide (lower is better)\n")
        print("| method | " + " | ".join(images) + " | mean |")
        print("|---" * (len(images) + 2) + "|")
        for method, values in blurred.items():
            cells = " | ".join(f"{v:.2f}" for v in values)
            print(f"| {method[0]} / {method[1]} | {cells} | **{statistics.mean(values):.2f}** |")
        print(f"\n### Means at {width} blocks wide\n")
        print("| method | blurred ΔE2000 | per-pixel ΔE2000 | ns per pixel (warm) |")
        print("|---|---|---|---|")
        for method in methods:
            print(
                f"| {method[0]} / {method[1]} | {statistics.mean(blurred[method]):.2f} | "
                f"{statistics.mean(per_pixel[method]):.2f} | {statistics.median(ns[method]):.0f} |"
            )
        print()


if __name__ == "__main__":
    main()
