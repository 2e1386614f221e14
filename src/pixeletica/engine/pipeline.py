"""The conversion pipeline: image bytes + palette + options -> block grid. The engine's entry point."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from pixeletica.engine import defaults, distance, dither, image_io, quality
from pixeletica.engine.blockgrid import BlockGrid
from pixeletica.engine.nearest import MAX_PALETTE_SIZE, Matcher
from pixeletica.engine.palette import Palette
from pixeletica.errors import InvalidInput

#: Options worth keeping in the block grid's metadata.
_RECORDED_OPTIONS = ("strength", "serpentine", "seed", "resample", "alpha_threshold")


#: progress(fraction 0..1, step name)
ProgressCallback = Callable[[float, str], None]


@dataclass(frozen=True, kw_only=True)
class ConvertOptions:
    """Everything a conversion needs besides the image and the palette."""

    width: int | None = None
    height: int | None = None
    algorithm: str = defaults.DEFAULT_ALGORITHM
    metric: str = defaults.DEFAULT_METRIC
    strength: float = defaults.DEFAULT_STRENGTH
    serpentine: bool = False
    seed: int = defaults.DEFAULT_SEED
    resample: str = defaults.DEFAULT_RESAMPLE
    alpha_threshold: int = defaults.DEFAULT_ALPHA_THRESHOLD
    max_input_pixels: int = defaults.DEFAULT_MAX_INPUT_PIXELS
    max_size: int = defaults.DEFAULT_MAX_SIZE

    def validated(self) -> tuple[dither.Algorithm, distance.Metric]:
        """Check the options that do not depend on the image; return the algorithm and metric."""
        algorithm = dither.get_algorithm(self.algorithm)
        metric = distance.get_metric(self.metric)
        dither.check_strength(self.strength)
        dither.check_seed(self.seed)
        for limit in ("max_size", "max_input_pixels"):  # the server's or the command line's, not a request's
            if getattr(self, limit) < 1:
                raise InvalidInput(f"{limit} must be at least 1, got {getattr(self, limit)}")
        image_io.check_resample(self.resample)
        image_io.check_alpha_threshold(self.alpha_threshold)
        image_io.check_block_count("width", self.width, self.max_size)
        image_io.check_block_count("height", self.height, self.max_size)
        return algorithm, metric


@dataclass(frozen=True)
class Conversion:
    """The result of a conversion: the grid, the resized source it was made from, and numbers."""

    grid: BlockGrid
    source: NDArray[np.uint8]  # (H, W, 4) resized input
    mean_delta_e2000: float  # per pixel
    blurred_delta_e2000: float  # as the eye sees it from a few steps back (see quality.py)
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)


@lru_cache(maxsize=16)
def _matcher(colors: bytes, metric_name: str) -> Matcher:
    palette_rgb = np.frombuffer(colors, dtype=np.uint8).reshape(-1, 3)
    return Matcher(palette_rgb, distance.get_metric(metric_name))


def matcher_for(palette: Palette, metric: distance.Metric) -> Matcher:
    """The (cached) nearest-colour search for a palette under a metric."""
    if len(palette) > MAX_PALETTE_SIZE:
        raise InvalidInput(f"the palette has {len(palette)} blocks; at most {MAX_PALETTE_SIZE} are supported")
    return _matcher(palette.colors.tobytes(), metric.name)


def convert(
    data: bytes, palette: Palette, options: ConvertOptions, progress: ProgressCallback | None = None
) -> Conversion:
    """Convert image bytes into a block grid. Raises InvalidInput subclasses for bad input."""
    report = progress or (lambda fraction, step: None)
    options.validated()
    clock = _Clock()
    report(0.0, "reading")
    loaded = image_io.load_image(data, max_pixels=options.max_input_pixels)
    clock.lap("read")
    report(0.05, "resizing")
    rgba = _fitted(loaded, options)
    del loaded  # the full-size picture is not needed past this point
    return _convert_fitted(rgba, palette, options, report, clock)


def convert_image(
    loaded: image_io.LoadedImage,
    palette: Palette,
    options: ConvertOptions,
    progress: ProgressCallback | None = None,
    *,
    measure: bool = True,
) -> Conversion:
    """Convert an image decoded already (a preview's, decoded at a reduced size) into a block grid.

    ``measure=False`` skips the colour error (both ΔE2000 are then NaN): a preview does not show it.
    """
    report = progress or (lambda fraction, step: None)
    options.validated()
    clock = _Clock()
    return _convert_fitted(_fitted(loaded, options), palette, options, report, clock, measure=measure)


class _Clock:
    """Seconds per step of a conversion, and in all."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.timings: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = now - self.last
        self.last = now


def _fitted(loaded: image_io.LoadedImage, options: ConvertOptions) -> NDArray[np.uint8]:
    """The image resized to its block grid: (H, W, 4) uint8."""
    size = image_io.target_size(loaded.width, loaded.height, options.width, options.height, max_size=options.max_size)
    return image_io.resize(loaded.rgba, size, options.resample)


def _convert_fitted(
    rgba: NDArray[np.uint8],
    palette: Palette,
    options: ConvertOptions,
    report: ProgressCallback,
    clock: _Clock,
    *,
    measure: bool = True,
) -> Conversion:
    algorithm, metric = options.validated()
    rgb, opaque = image_io.split_alpha(rgba, options.alpha_threshold)
    clock.lap("resize")
    report(0.2, "matching colours")
    matcher = matcher_for(palette, metric)
    clock.lap("palette")

    def rows_done(done: int, total: int) -> None:
        report(0.2 + 0.75 * done / total, "dithering")

    indices = dither.dither(
        rgb,
        opaque,
        matcher,
        algorithm,
        strength=options.strength,
        serpentine=options.serpentine,
        seed=options.seed,
        progress=rows_done,
    )
    clock.lap("dither")
    score = quality.Score(math.nan, math.nan)
    if measure:
        report(0.95, "measuring error")
        score = quality.score(rgb, palette.colors[np.maximum(indices, 0)], opaque)
        clock.lap("measure")
    meta = {
        "algorithm": algorithm.name,
        "metric": metric.name,
        **{k: v for k, v in asdict(options).items() if k in _RECORDED_OPTIONS},
    }
    grid = BlockGrid.from_palette(indices, palette, meta)
    report(1.0, "done")
    return Conversion(
        grid=grid,
        source=rgba,
        mean_delta_e2000=score.per_pixel,
        blurred_delta_e2000=score.blurred,
        seconds=time.perf_counter() - clock.started,
        timings=clock.timings,
    )
