"""Run every compiled kernel once, so that numba compiles it (into its cache) or loads it from there.

A kernel is compiled the first time a process calls it with new types of argument, which costs
seconds; numba keeps the result in its cache, and a later process loads it from there in well under
a second. :func:`run_preview_kernels` runs what a preview uses (the API calls it at start-up, off the
request path); :func:`run_every_kernel` runs that and everything else: every kind of input file, every
output (renders, web map, schematics, ZIP) and map art of each kind. The container image runs
``python -m pixeletica.engine.precompile`` at build time, so that nothing compiles on first use.

Under ``NUMBA_CPU_NAME=generic`` (as in the image) the cache serves any CPU of the architecture;
without it, only CPUs like this one.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from PIL import Image

from pixeletica.engine import (
    conversion_settings,
    distance,
    dither,
    image_io,
    mapart,
    palette,
    pipeline,
    production,
    reduced,
    render,
)

#: The reference's export settings for every output a task can make.
_EVERY_OUTPUT: dict[str, Any] = {
    "line_visibilities": list(render.LINE_VARIANTS),
    "image_division": 2,
    "chunk_labels": True,
    "generate_web_files": True,
    "generate_schematic": True,
}


def _pictures() -> Iterator[tuple[str, bytes]]:
    """Small pictures in every kind of file that the kernels read differently."""
    y, x = np.mgrid[0:20, 0:24]
    rgba = np.stack([x * 10, y * 12, (x + y) * 5, np.where(x < 3, 0, 255)], axis=-1).astype(np.uint8)
    picture = Image.fromarray(rgba, "RGBA")
    kinds: list[tuple[str, Image.Image, dict[str, Any]]] = [
        ("rgba.png", picture, {"format": "PNG"}),
        ("interlaced.png", picture, {"format": "PNG", "interlace": 1}),
        ("rgb.png", picture.convert("RGB"), {"format": "PNG"}),
        ("grey.png", picture.convert("L"), {"format": "PNG"}),
        ("palette.png", picture.convert("P"), {"format": "PNG"}),
        ("grey16.png", Image.fromarray(rgba[..., 0].astype(np.uint16) * 257), {"format": "PNG"}),
        ("photo.jpg", picture.convert("RGB"), {"format": "JPEG", "quality": 90}),
    ]
    for name, image, options in kinds:
        buffer = io.BytesIO()
        image.save(buffer, **options)
        yield name, buffer.getvalue()


def run_preview_kernels(pictures: Sequence[tuple[str, bytes]] = ()) -> None:
    """Run once what a preview runs: reduced decoding (of ``pictures``, by default a JPEG and an RGBA PNG),
    each algorithm under each metric, the height plan of each kind of map art."""
    chosen = palette.select()
    pictures = pictures or [picture for picture in _pictures() if picture[0] in ("photo.jpg", "rgba.png")]
    for _, data in pictures:
        loaded = reduced.load_reduced(data, 4, 4)
    for algorithm in dither.ALGORITHMS:
        for metric in distance.METRICS:
            options = pipeline.ConvertOptions(width=4, height=4, algorithm=algorithm, metric=metric)
            pipeline.convert_image(loaded, chosen, options)
    rgb, opaque = image_io.split_alpha(loaded.rgba)  # contiguous, as a preview's: the same compiled kernels
    for kind, height in (("flat", None), ("staircase", None), ("staircase", 8), ("map-file", None)):
        mapart.plan(rgb, opaque, mapart.MapArtSettings(kind=kind, max_height=height))


def _produce(picture: bytes | image_io.LoadedImage, settings: dict[str, Any], name: str) -> None:
    checked = conversion_settings.ConversionSettings.from_dict(settings)
    plan = checked.plan("precompile", name)
    production.produce(picture, checked.palette(), checked.options, plan, web=lambda relative, content: None)


def run_every_kernel() -> None:
    """Run once everything a conversion, a task or a preview can run."""
    pictures = list(_pictures())
    run_preview_kernels(pictures)
    for name, data in pictures:
        _produce(data, {"width": 16, "exports": _EVERY_OUTPUT}, name)
    loaded = image_io.load_image(pictures[0][1])
    for algorithm in dither.ALGORITHMS:
        for metric in distance.METRICS:
            settings = {"width": 12, "algorithm": algorithm, "metric": metric, "serpentine": True}
            _produce(pictures[0][1], settings, "picture.png")
            _produce(loaded, {**settings, "resample": "nearest"}, "picture.png")
    for art in ({"kind": "flat"}, {"kind": "staircase"}, {"kind": "staircase", "max_height": 8}, {"kind": "map-file"}):
        settings = {"map_art": {**art, "support": "all"}, "exports": {"generate_web_files": True}}
        _produce(pictures[0][1], settings, "art.png")


def main() -> None:
    started = time.perf_counter()
    run_every_kernel()
    print(f"every kernel compiled or loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
