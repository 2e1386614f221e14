"""Error diffusion's memo: the nearest block of small colour cells, and how far off it is.

The colours error diffusion asks for are not 8-bit, and the error can push them outside the sRGB
cube, so the 24-bit memo of :class:`~pixeletica.engine.nearest.Matcher` does not serve. Instead each
channel of a linear-light colour is rounded to one of 256 codes: even steps of the sRGB curve,
extended to negative values by symmetry, from -1 to 2 (about three 8-bit steps each). A cell's key
interleaves the bits of its three codes (red's highest), so that colours near each other have keys
near each other in memory. An entry packs the nearest block of the cell's colour and its OKLab
distance from that colour (how far the palette misses it); the cell of a palette colour is marked
:data:`SEARCH_EXACTLY` instead, so that a palette colour always finds its own block.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from pixeletica.engine import color
from pixeletica.engine.distance import SPACE_OKLAB, linear_to_space
from pixeletica.engine.nearest import Indices, Matcher, Points, clamp_query, nearest_one

#: A channel's light at each code, one dimension: (256,) float64.
Table = NDArray[np.float64]

_CODES = 256
_CODE_LOW, _CODE_HIGH = -1.0, 2.0  # the codes' range on the (extended) sRGB curve
#: Steps of :data:`LINEAR_TO_CODE` over the codes' range of light: about 10 per code where codes are finest.
_LOOKUP_STEPS = 1 << 16
#: An entry: ``(block + 1) | miss << MISS_SHIFT``, ``miss`` the OKLab distance times :data:`MISS_SCALE`.
INDEX_MASK = 0xFFF  # 12 bits: palettes have at most 4000 blocks
MISS_SHIFT = 12
_MISS_MAX = (1 << 20) - 1  # the 20 bits above the index
MISS_SCALE = float(1 << 19)  # distances up to 2 (OKLab's sRGB gamut spans about 1)
#: The entry of a cell that holds a palette colour: colours there are searched exactly. A filled
#: entry never equals it, since its index part is at most 4000.
SEARCH_EXACTLY = np.uint32(0xFFFFFFFF)


def _signed_encode(light: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.sign(light) * color.linear_to_srgb(np.abs(light))


def _signed_decode(encoded: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.sign(encoded) * color.srgb_to_linear(np.abs(encoded))


def _spread_bits(codes: NDArray[np.integer[Any]]) -> NDArray[np.uint32]:
    """Each 8-bit code with its bits moved to every third place (bit i to bit 3i)."""
    wide = codes.astype(np.uint32)
    out = np.zeros(codes.shape, dtype=np.uint32)
    for bit in range(8):
        out |= ((wide >> np.uint32(bit)) & np.uint32(1)) << np.uint32(3 * bit)
    return out


#: The linear light of each code.
CODE_LIGHT: Table = _signed_decode(np.linspace(_CODE_LOW, _CODE_HIGH, _CODES))
#: The nearest code of the light ``CODE_LIGHT[0] + i * (CODE_LIGHT[-1] - CODE_LIGHT[0]) / _LOOKUP_STEPS``,
#: i in 0.._LOOKUP_STEPS, with its bits spread out (see :func:`_spread_bits`): a key is three of these.
LINEAR_TO_CODE: NDArray[np.uint32] = _spread_bits(
    np.rint(
        (_signed_encode(np.linspace(CODE_LIGHT[0], CODE_LIGHT[-1], _LOOKUP_STEPS + 1)) - _CODE_LOW)
        * ((_CODES - 1) / (_CODE_HIGH - _CODE_LOW))
    ).astype(np.uint8)
)


@numba.njit(cache=True, inline="always")
def key(c0: float, c1: float, c2: float, codes: Table, to_code: NDArray[np.uint32]) -> np.int64:
    """The memo key of a linear-light colour (``codes`` is :data:`CODE_LIGHT`, ``to_code``
    :data:`LINEAR_TO_CODE`); beyond the codes' range a channel takes the last code."""
    steps = to_code.shape[0] - 1
    low = codes[0]
    per_step = steps / (codes[codes.shape[0] - 1] - low)
    i0 = min(max(int((c0 - low) * per_step + 0.5), 0), steps)
    i1 = min(max(int((c1 - low) * per_step + 0.5), 0), steps)
    i2 = min(max(int((c2 - low) * per_step + 0.5), 0), steps)
    return (np.int64(to_code[i0]) << 2) | (np.int64(to_code[i1]) << 1) | np.int64(to_code[i2])


@numba.njit(cache=True, inline="always")
def _gather_bits(cell: np.int64, shift: int) -> int:
    """The code whose bits sit at every third place of ``cell`` from ``shift``."""
    code = 0
    for bit in range(8):
        code |= int((cell >> (3 * bit + shift)) & 1) << bit
    return code


@numba.njit(cache=True, nogil=True)
def fill(
    pts: Points, box: Points, n: int, cell_start: Indices, cand: Indices, kind: int, space: int, oklab: Points,
    codes: Table, memo: NDArray[np.uint32], cell: np.int64, q: Points,
) -> int:  # pragma: no cover - compiled  # fmt: skip
    """Search the nearest block of the colour of ``cell`` (a key), remember the packed entry, return it."""
    lr = codes[_gather_bits(cell, 2)]
    lg = codes[_gather_bits(cell, 1)]
    lb = codes[_gather_bits(cell, 0)]
    linear_to_space(lr, lg, lb, space, q)
    clamp_query(box, q)
    p = nearest_one(pts, box, n, cell_start, cand, kind, q[0], q[1], q[2])
    linear_to_space(lr, lg, lb, SPACE_OKLAB, q)
    miss = np.sqrt((q[0] - oklab[p, 0]) ** 2 + (q[1] - oklab[p, 1]) ** 2 + (q[2] - oklab[p, 2]) ** 2)
    m = (p + 1) | (min(int(miss * MISS_SCALE + 0.5), _MISS_MAX) << MISS_SHIFT)
    memo[cell] = m
    return m


@numba.njit(cache=True, nogil=True)
def _mark_palette_cells(linear: Points, codes: Table, to_code: NDArray[np.uint32], memo: NDArray[np.uint32]) -> None:
    for p in range(linear.shape[0]):  # pragma: no cover - compiled
        memo[key(linear[p, 0], linear[p, 1], linear[p, 2], codes, to_code)] = SEARCH_EXACTLY


def table(matcher: Matcher) -> NDArray[np.uint32]:
    """The matcher's diffusion memo (zero = not yet searched), made the first time it is asked for.

    Allocated with zeros, so the operating system hands out pages only as cells fill in.
    """

    def make() -> NDArray[np.uint32]:
        memo = np.zeros(1 << 24, dtype=np.uint32)
        _mark_palette_cells(matcher.linear, CODE_LIGHT, LINEAR_TO_CODE, memo)
        return memo

    return matcher.memo("diffusion", make)
