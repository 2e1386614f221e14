"""A staircase's levels: each block's shade from its level and its northern neighbour's, the lowest
levels that give every block its shade, and dithering that keeps every column within a height limit.

A map shades a block light when it stands higher than the block north of it (-Z), normal when
level, dark when lower (see :mod:`pixeletica.engine.mapart`). Heights are (H + 1, W): row 0 is the
line of blocks north of the picture.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from pixeletica.engine import distance


def shades_from_heights(heights: NDArray[np.integer[Any]]) -> NDArray[np.uint8]:
    """The game's rule: each block's shade from its level and the level of the block north of it."""
    north, here = heights[:-1].astype(np.int32), heights[1:].astype(np.int32)
    return np.where(here > north, 2, np.where(here == north, 1, 0)).astype(np.uint8)


@numba.njit(cache=True, nogil=True)
def _valley(steps: NDArray[np.int8]) -> NDArray[np.int16]:  # pragma: no cover - compiled
    """Lowest levels (>= 0) for columns of steps (+1 rise, 0 level, -1 fall) from each row to the next.

    ``steps`` is (H, W): row z's step is from level z to level z + 1 of the (H + 1, W) result. The
    lowest level of a block is the longest run of rises ending at it (levels in between allowed)
    or of falls starting at it, whichever is longer.
    """
    h, w = steps.shape
    out = np.zeros((h + 1, w), dtype=np.int16)
    for x in range(w):
        rise = 0
        for z in range(1, h + 1):
            s = steps[z - 1, x]
            rise = 0 if s < 0 else rise + s
            out[z, x] = rise
        fall = 0
        for z in range(h - 1, -1, -1):
            s = steps[z, x]
            fall = 0 if s > 0 else fall - s
            if fall > out[z, x]:
                out[z, x] = fall
    return out


def heights_for(shades: NDArray[np.uint8]) -> NDArray[np.int16]:
    """The lowest levels that give every block its shade (see :func:`_valley`)."""
    steps = (shades.astype(np.int8) - 1).astype(np.int8)  # shade 2 rises, 1 stays, 0 falls
    return _valley(np.ascontiguousarray(steps))


@numba.njit(cache=True, nogil=True)
def diffuse_within(
    light: NDArray[np.float64], cand_linear: NDArray[np.float64], cand_oklab: NDArray[np.float64],
    cand_shade: NDArray[np.int8], limit: int, reach: float,
) -> NDArray[np.int32]:  # fmt: skip
    """Floyd-Steinberg in linear light, matched in OKLab, each column kept within ``limit`` steps of
    the ground. Returns the candidate index per pixel.

    The lowest level of a block (see :func:`_valley`) is the longest run of rises since the last
    fall, or of falls since the last rise; so a column stays within the limit exactly when no such
    run is longer than ``limit``. Per column we count both runs as the rows go by. Where the
    picture wants a rise that would make its run too long, the block falls instead (the best block
    of the dark shade): a level block would leave the column blocked for every rise to come, while
    one fall frees ``limit`` more (and the other way round for falls).
    """
    h, w = light.shape[0], light.shape[1]  # pragma: no cover - compiled
    out = np.empty((h, w), dtype=np.int32)
    rises = np.zeros(w, dtype=np.int64)
    falls = np.zeros(w, dtype=np.int64)
    work = np.zeros((2, w + 2, 3))
    lab = np.empty(3)
    shade_best = np.empty(3, dtype=np.int64)
    shade_d = np.empty(3)
    for x in range(w):
        work[0, x + 1] = light[0, x]
    for y in range(h):
        row = work[y & 1]
        below = work[(y + 1) & 1]
        below[:] = 0.0
        if y + 1 < h:
            for x in range(w):
                below[x + 1] = light[y + 1, x]
        for x in range(w):
            c = row[x + 1]
            distance.linear_to_space(c[0], c[1], c[2], distance.SPACE_OKLAB, lab)
            best = -1
            best_d = np.inf
            # The best block of each shade; then the shade the picture wants, unless the column cannot take it.
            for k in range(3):
                shade_best[k] = -1
                shade_d[k] = np.inf
            for k in range(cand_shade.shape[0]):
                s = cand_shade[k]
                d = (
                    (lab[0] - cand_oklab[k, 0]) ** 2
                    + (lab[1] - cand_oklab[k, 1]) ** 2
                    + (lab[2] - cand_oklab[k, 2]) ** 2
                )
                if d < shade_d[s]:
                    shade_d[s] = d
                    shade_best[s] = k
            blocked_rise = rises[x] >= limit
            blocked_fall = falls[x] >= limit
            wanted = (
                0 if shade_d[0] <= shade_d[1] and shade_d[0] <= shade_d[2] else (1 if shade_d[1] <= shade_d[2] else 2)
            )
            if wanted == 2 and blocked_rise:
                # A level block would keep the column blocked for every rise to come: fall now, once,
                # and the next rises are free again.
                best = shade_best[0]
            elif wanted == 0 and blocked_fall:
                best = shade_best[2]
            else:
                best = shade_best[wanted]
            best_d = shade_d[cand_shade[best]]
            out[y, x] = best
            s = cand_shade[best]
            if s == 2:
                rises[x] += 1
                falls[x] = 0
            elif s == 0:
                falls[x] += 1
                rises[x] = 0
            miss = math.sqrt(best_d)
            scale = reach / miss if miss > reach else 1.0
            e0 = (c[0] - cand_linear[best, 0]) * scale
            e1 = (c[1] - cand_linear[best, 1]) * scale
            e2 = (c[2] - cand_linear[best, 2]) * scale
            for dx, dy, wk in ((1, 0, 7.0 / 16.0), (-1, 1, 3.0 / 16.0), (0, 1, 5.0 / 16.0), (1, 1, 1.0 / 16.0)):
                target = row if dy == 0 else below
                target[x + 1 + dx, 0] += e0 * wk
                target[x + 1 + dx, 1] += e1 * wk
                target[x + 1 + dx, 2] += e2 * wk
    return out
