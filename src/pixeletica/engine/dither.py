"""Dithering: turn an image into palette indices, one block per pixel.

Four families, chosen by name from :data:`ALGORITHMS`:

- ``none``: every pixel takes its exact nearest palette colour.
- error diffusion (``floyd_steinberg`` and friends): pixels are visited in scan order (optionally
  serpentine); each pixel takes the block nearest (in the metric) to its colour plus the error
  it was given, and passes its own error on to its unvisited neighbours with the kernel's
  weights. The nearest block is looked up in a memo of small colour cells (about three 8-bit steps
  wide, see :mod:`pixeletica.engine.diffusion_memo`); a cell that holds a palette colour is
  searched exactly, so palette colours keep their blocks. The error is carried in linear light,
  where averaging neighbouring blocks is what the eye does; where no block comes within
  :data:`REACH` of the colour (too dark, too saturated),
  only that much of the error is passed on, so that it cannot pile up and burst out as streaks.
  Kernels: Floyd & Steinberg (1976); Jarvis, Judice & Ninke (1976); Stucki (1981); Burkes
  (1988); Sierra (1989) and Sierra Lite; Atkinson (Apple, 1984; passes on only 3/4 of the error).
- threshold dithering (``ordered`` = Bayer 4x4, ``ordered_2x2``, ``ordered_8x8``,
  ``blue_noise``, ``random``): each pixel is between its nearest colour p1 and the next colour
  p2 along its error, at a ratio r (see :func:`pixeletica.engine.nearest.fill_pair`); it takes p2
  when the pixel's threshold (:mod:`pixeletica.engine.thresholds`, or seeded noise) is below r.
  Exact palette colours have r = 0 and never move.
- ``optimise``: Floyd-Steinberg, then :func:`pixeletica.engine.optimise.refine` changes blocks
  wherever that brings the blurred picture closer to the source.

Pixels marked transparent become air (-1) and neither give nor take error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray

from pixeletica import names
from pixeletica.engine import diffusion_memo, optimise, thresholds
from pixeletica.engine.color import SRGB8_TO_LINEAR
from pixeletica.engine.diffusion_memo import INDEX_MASK, MISS_SCALE, MISS_SHIFT, SEARCH_EXACTLY
from pixeletica.engine.distance import SPACE_OKLAB, linear_to_space
from pixeletica.engine.nearest import Indices, Matcher, Points, clamp_query, fill_nearest, fill_pair, nearest_one
from pixeletica.errors import InvalidInput

AIR = -1
_PAD = 2  # widest kernel reach (2 columns, 2 rows)
#: OKLab distance (lightness runs from 0 to 1) beyond which the palette is taken not to reach a
#: colour: error diffusion passes on only this much of a larger error (chosen with bench_quality.py).
REACH = 0.15


@dataclass(frozen=True, kw_only=True)
class Algorithm:
    """A dithering method: its family and, for error diffusion, its kernel."""

    name: str
    family: str  # "none" | "diffusion" | "ordered" | "random" | "optimise"
    description: str
    kernel: tuple[tuple[int, int, float], ...] = ()  # (dx, dy, weight) for diffusion and optimise's start
    bayer_size: int = 0  # ordered: a Bayer matrix of this size, or 0 for the blue-noise map


def _kernel(divisor: float, *rows: str) -> tuple[tuple[int, int, float], ...]:
    """A diffusion kernel as the papers print it: rows of weights, ``*`` the pixel being set.

    The first row holds ``*`` (only the weights after it count); each row is centred on it.
    Returns (dx, dy, weight / divisor) for every non-zero weight.
    """
    cells = [row.split() for row in rows]
    centre = cells[0].index("*")
    if len(rows) > _PAD + 1 or max(len(row) for row in cells) - 1 - centre > _PAD or centre > _PAD:
        raise ValueError(f"a kernel may reach at most {_PAD} rows and columns from the pixel")
    return tuple(
        (dx - centre, dy, int(w) / divisor)
        for dy, row in enumerate(cells)
        for dx, w in enumerate(row)
        if w not in ("*", "-", "0") and (dy > 0 or dx > centre)
    )


# fmt: off
_DIFFUSION = {
    "floyd_steinberg": ("Floyd-Steinberg (default)", _kernel(16, "- * 7",
                                                                  "3 5 1")),
    "atkinson": ("Atkinson: 3/4 of the error, crisp", _kernel(8, "- * 1 1",
                                                                 "1 1 1 -",
                                                                 "- 1 - -")),
    "jarvis_judice_ninke": ("Jarvis-Judice-Ninke: wide, smooth", _kernel(48, "- - * 7 5",
                                                                             "3 5 7 5 3",
                                                                             "1 3 5 3 1")),
    "stucki": ("Stucki: wide, sharp", _kernel(42, "- - * 8 4",
                                                  "2 4 8 4 2",
                                                  "1 2 4 2 1")),
    "burkes": ("Burkes: two rows", _kernel(32, "- - * 8 4",
                                               "2 4 8 4 2")),
    "sierra": ("Sierra: three rows", _kernel(32, "- - * 5 3",
                                                 "2 4 5 4 2",
                                                 "- 2 3 2 -")),
    "sierra_lite": ("Sierra Lite: fast, small", _kernel(4, "- * 2",
                                                           "1 1 -")),
}
# fmt: on

ALGORITHMS: dict[str, Algorithm] = {
    "none": Algorithm(name="none", family="none", description="nearest colour, no dithering"),
    **{
        name: Algorithm(name=name, family="diffusion", description=desc, kernel=kernel)
        for name, (desc, kernel) in _DIFFUSION.items()
    },
    "ordered": Algorithm(name="ordered", family="ordered", description="Bayer 4x4 (ordered_4x4)", bayer_size=4),
    "ordered_2x2": Algorithm(name="ordered_2x2", family="ordered", description="Bayer 2x2", bayer_size=2),
    "ordered_4x4": Algorithm(name="ordered_4x4", family="ordered", description="Bayer 4x4", bayer_size=4),
    "ordered_8x8": Algorithm(name="ordered_8x8", family="ordered", description="Bayer 8x8", bayer_size=8),
    "blue_noise": Algorithm(name="blue_noise", family="ordered", description="blue-noise threshold map, fine grain"),
    "random": Algorithm(name="random", family="random", description="seeded random thresholds"),
    "optimise": Algorithm(
        name="optimise",
        family="optimise",
        description="Floyd-Steinberg, then blocks changed wherever that brings the picture closer (slower, best)",
        kernel=_DIFFUSION["floyd_steinberg"][1],
    ),
}
_ALIASES = {
    "fs": "floyd_steinberg",
    "floyd": "floyd_steinberg",
    "jjn": "jarvis_judice_ninke",
    "bayer": "ordered",
    "optimize": "optimise",
    "dbs": "optimise",
}


def get_algorithm(name: str) -> Algorithm:
    """Look a dithering algorithm up by name (``-`` and ``_`` alike); the error lists valid names."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = _ALIASES.get(key, key)
    try:
        return ALGORITHMS[key]
    except KeyError:
        raise InvalidInput(
            f"unknown dithering algorithm {names.shown(name)}; choose one of: {', '.join(ALGORITHMS)}",
            field="algorithm",
        ) from None


#: Seeds are 64-bit; larger numbers would only be cut down to that.
_SEED_LIMIT = 2**63


def check_seed(seed: int) -> None:
    """Refuse a seed a signed 64-bit number cannot hold (a task stores it as one)."""
    if not -_SEED_LIMIT <= seed < _SEED_LIMIT:
        raise InvalidInput(f"seed must be a whole number below 2**63 in size, got {seed}", field="seed")


def check_strength(strength: float) -> None:
    """Refuse a dithering strength outside 0..1."""
    if not 0.0 <= strength <= 1.0:
        raise InvalidInput(f"dithering strength must be between 0 and 1, got {strength}", field="strength")


# --- compiled kernels -------------------------------------------------------------------------


@numba.njit(cache=True, inline="always")
def _colour_key(rgb: NDArray[np.uint8], y: int, x: int) -> np.int64:
    """The pixel's 24-bit colour: its index in the memo tables."""
    return (np.int64(rgb[y, x, 0]) << 16) | (np.int64(rgb[y, x, 1]) << 8) | np.int64(rgb[y, x, 2])


@numba.njit(cache=True, nogil=True)
def _match_none(
    rgb: NDArray[np.uint8], opaque: NDArray[np.bool_], pts: Points, box: Points, n: int, cs: Indices, cand: Indices,
    kind: int, space: int, memo: NDArray[np.uint16], out: NDArray[np.int16], y0: int, y1: int,
) -> None:  # pragma: no cover  # fmt: skip
    q = np.empty(3)
    for y in range(y0, y1):
        for x in range(rgb.shape[1]):
            if not opaque[y, x]:
                out[y, x] = AIR
                continue
            key = _colour_key(rgb, y, x)
            m: int | np.int64 = np.int64(memo[key])
            if m == 0:
                m = fill_nearest(pts, box, n, cs, cand, kind, space, memo, key, q)
            out[y, x] = m - 1


@numba.njit(cache=True, inline="always")
def _random_threshold(seed: np.uint64, y: int, x: int) -> float:
    # SplitMix64 of (seed, y, x): the same numbers on every machine, no state, no memory.
    z = seed + np.uint64(y) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(x) * np.uint64(0xC2B2AE3D27D4EB4F)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True, nogil=True)
def _match_threshold(
    rgb: NDArray[np.uint8], opaque: NDArray[np.bool_], pts: Points, box: Points, n: int, cs: Indices, cand: Indices,
    kind: int, space: int, spread: float, memo: NDArray[np.uint32], matrix: NDArray[np.float64], use_random: bool,
    seed: np.uint64, strength: float, out: NDArray[np.int16], y0: int, y1: int,
) -> None:  # pragma: no cover - compiled  # fmt: skip
    q = np.empty(3)
    size = matrix.shape[0]
    scale = strength / 255.0
    for y in range(y0, y1):
        row = matrix[y % size]
        for x in range(rgb.shape[1]):
            if not opaque[y, x]:
                out[y, x] = AIR
                continue
            key = _colour_key(rgb, y, x)
            m: int | np.int64 = np.int64(memo[key])
            if m == 0:
                m = fill_pair(pts, box, n, cs, cand, kind, space, spread, memo, key, q)
            t = _random_threshold(seed, y, x) if use_random else row[x % size]
            if t < (m >> 24) * scale:
                out[y, x] = (m >> 12) & 0xFFF
            else:
                out[y, x] = (m & 0xFFF) - 1


@numba.njit(cache=True, nogil=True)
def _load_row(rgb: NDArray[np.uint8], to_linear: diffusion_memo.Table, work: NDArray[np.float64], y: int) -> None:
    """Put row ``y`` of the image, in linear light, into its slot of the rolling ``work`` rows."""
    slot = work[y % work.shape[0]]  # pragma: no cover - compiled
    slot[:] = 0.0
    if y < rgb.shape[0]:
        for x in range(rgb.shape[1]):
            for c in range(3):
                slot[x + _PAD, c] = to_linear[rgb[y, x, c]]


@numba.njit(cache=True, nogil=True)
def _diffuse(
    rgb: NDArray[np.uint8], to_linear: diffusion_memo.Table, work: NDArray[np.float64], opaque: NDArray[np.bool_],
    pts: Points, box: Points, n: int, cs: Indices, cand: Indices, kind: int, space: int, linear: Points, oklab: Points,
    memo: NDArray[np.uint32], codes: diffusion_memo.Table, to_code: NDArray[np.uint32], dxs: NDArray[np.int64],
    dys: NDArray[np.int64], weights: NDArray[np.float64], serpentine: bool, strength: float, out: NDArray[np.int16],
    y0: int, y1: int,
) -> None:  # fmt: skip
    """Error diffusion in linear light over rows y0..y1 of the image.

    ``work`` holds _PAD + 1 rows (padded by _PAD columns each side) in turn: row y in slot
    y % (_PAD + 1), loaded with the image's light before the error reaches it (see :func:`dither`).
    A colour is matched through ``memo`` (:func:`pixeletica.engine.diffusion_memo.table`; ``codes``
    and ``to_code`` are that module's ``CODE_LIGHT`` and ``LINEAR_TO_CODE``), which also tells how
    far the block is from the colour; colours in the cell of a palette colour are searched exactly.
    """
    w = out.shape[1]  # pragma: no cover - compiled
    rows = work.shape[0]
    k_count = dxs.shape[0]
    seen = np.empty(3)
    for y in range(y0, y1):
        reverse = serpentine and (y & 1) == 1
        sign = -1 if reverse else 1
        row = work[y % rows]
        for i in range(w):
            x = w - 1 - i if reverse else i
            if not opaque[y, x]:
                out[y, x] = AIR
                continue
            xp = x + _PAD
            c0 = row[xp, 0]
            c1 = row[xp, 1]
            c2 = row[xp, 2]
            cell = diffusion_memo.key(c0, c1, c2, codes, to_code)
            m: int | np.int64 = np.int64(memo[cell])
            if m == 0:
                m = diffusion_memo.fill(pts, box, n, cs, cand, kind, space, oklab, codes, memo, cell, seen)
            if m != SEARCH_EXACTLY:
                p = (m & INDEX_MASK) - 1
                miss = (m >> MISS_SHIFT) / MISS_SCALE
            else:  # near a palette colour: it must find its own block
                linear_to_space(c0, c1, c2, space, seen)
                clamp_query(box, seen)
                p = nearest_one(pts, box, n, cs, cand, kind, seen[0], seen[1], seen[2])
                linear_to_space(c0, c1, c2, SPACE_OKLAB, seen)
                d0 = seen[0] - oklab[p, 0]
                d1 = seen[1] - oklab[p, 1]
                d2 = seen[2] - oklab[p, 2]
                miss = math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
            out[y, x] = p
            # Where no block comes near the colour, pass on only part of the error: it cannot be
            # paid back, and carried on it would burst out as streaks further along.
            scale = strength * (REACH / miss if miss > REACH else 1.0)
            e0 = (c0 - linear[p, 0]) * scale
            e1 = (c1 - linear[p, 1]) * scale
            e2 = (c2 - linear[p, 2]) * scale
            for k in range(k_count):
                target = work[(y + dys[k]) % rows]
                nx = xp + sign * dxs[k]
                wk = weights[k]
                target[nx, 0] += e0 * wk
                target[nx, 1] += e1 * wk
                target[nx, 2] += e2 * wk
        _load_row(rgb, to_linear, work, y + rows)


# --- entry point ------------------------------------------------------------------------------

Progress = Callable[[int, int], None]  # (rows done, rows to do; the optimising mode goes over them again)
#: Pixels dithered between two progress reports: about 0.2 s with CIEDE2000, well under 1 ms otherwise.
_BAND_PIXELS = 16384


def dither(
    rgb: NDArray[np.uint8],
    opaque: NDArray[np.bool_],
    matcher: Matcher,
    algorithm: Algorithm,
    *,
    strength: float = 1.0,
    serpentine: bool = False,
    seed: int = 0,
    progress: Progress | None = None,
) -> NDArray[np.int16]:
    """Palette index per pixel of an (H, W, 3) uint8 sRGB image; -1 where ``opaque`` is False.

    ``strength`` (0..1) scales the error passed on (diffusion) or the chance of taking the second
    colour (ordered/random); 0 is the same as ``none``. The optimising mode's search ignores it (it
    scales only the diffusion the search starts from): any strength above 0 optimises fully.
    Returns (H, W) int16.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {rgb.shape} {rgb.dtype}")
    if opaque.shape != rgb.shape[:2]:
        raise ValueError(f"mask shape {opaque.shape} does not match image {rgb.shape[:2]}")
    check_strength(strength)
    rgb = np.ascontiguousarray(rgb)
    opaque = np.ascontiguousarray(opaque, dtype=np.bool_)
    h = rgb.shape[0]
    out = np.empty(rgb.shape[:2], dtype=np.int16)
    if out.size == 0:
        return out
    family = "none" if strength == 0.0 else algorithm.family
    args = matcher.kernel_args

    if family in ("diffusion", "optimise"):
        work = np.empty((_PAD + 1, rgb.shape[1] + 2 * _PAD, 3))
        for y in range(_PAD + 1):
            _load_row(rgb, SRGB8_TO_LINEAR, work, y)
        dxs = np.array([k[0] for k in algorithm.kernel], dtype=np.int64)
        dys = np.array([k[1] for k in algorithm.kernel], dtype=np.int64)
        weights = np.array([k[2] for k in algorithm.kernel], dtype=np.float64)
        memo = diffusion_memo.table(matcher)

        def run(y0: int, y1: int) -> None:
            _diffuse(
                rgb, SRGB8_TO_LINEAR, work, opaque, *args, matcher.linear, matcher.oklab, memo,
                diffusion_memo.CODE_LIGHT, diffusion_memo.LINEAR_TO_CODE, dxs, dys, weights, serpentine,
                float(strength), out, y0, y1,
            )  # fmt: skip

    elif family == "none":
        nearest_memo = matcher.nearest_memo()

        def run(y0: int, y1: int) -> None:
            _match_none(rgb, opaque, *args, nearest_memo, out, y0, y1)

    else:
        pair_memo = matcher.pair_memo()
        if family == "random":
            matrix = np.zeros((1, 1))
        elif algorithm.bayer_size:
            matrix = thresholds.bayer_matrix(algorithm.bayer_size)
        else:
            matrix = thresholds.blue_noise_matrix()
        seed64 = np.uint64(seed & 0xFFFFFFFFFFFFFFFF)

        def run(y0: int, y1: int) -> None:
            use_random = family == "random"
            _match_threshold(
                rgb, opaque, *args, matcher.spread, pair_memo, matrix, use_random, seed64, float(strength), out, y0, y1
            )

    # The optimising mode's passes come after the diffusion: progress counts rows of both.
    total = h * (1 + optimise.MAX_PASSES) if family == "optimise" else h
    band = max(1, _BAND_PIXELS // max(1, rgb.shape[1]))
    for y0 in range(0, h, band):
        y1 = min(h, y0 + band)
        run(y0, y1)
        if progress is not None:
            progress(y1, total)
    if family == "optimise":
        report = None if progress is None else (lambda done, _: progress(h + done, total))
        optimise.refine(rgb, opaque, out, matcher, report)
    return out
