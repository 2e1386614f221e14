"""Exact nearest-palette-colour search under any metric, without a per-pixel loop over the palette.

The working space is cut into a uniform grid of cells. For each cell we keep only the palette
colours that can be the nearest to *some* point of that cell: with ``T`` the smallest, over the
palette, of the largest distance from the cell to a colour, a colour whose smallest distance to
the cell exceeds ``T`` can never win inside it. A query then compares against its cell's few
candidates, which gives exactly the brute-force answer (ties go to the lower palette index).

- Euclidean metrics (rgb, cielab, oklab) use the box-to-point distance bounds directly.
- redmean's weights lie in [2, 3] for red and blue and are 4 for green, so the bounds use the
  smallest weights for the lower bound and the largest for the upper bound: still exact.
- ciede2000 is not a distance in any fixed space, so it gets one cell holding every colour in
  order of lightness, scanned outward from the query's lightness until a lower bound of the
  difference (see :func:`_scan_ciede2000`) rules out the rest: exact, and a few times faster
  than trying every colour.

Queries are first clamped to the grid's box, the bounding box of the sRGB gamut in the working
space (plus a margin); every 8-bit sRGB colour lies inside it.

Matching whole 8-bit images goes through a memo keyed by the 24-bit colour, filled lazily: each
distinct colour of an image is searched once. Error diffusion, whose colours are not 8-bit, has a
memo of its own (:mod:`pixeletica.engine.diffusion_memo`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from pixeletica.engine import color
from pixeletica.engine.distance import (
    DIST_CIEDE2000,
    DIST_EUCLID,
    DIST_REDMEAN,
    Metric,
    distance2,
    srgb8_to_space,
)

#: Largest palette the packed memo can index (12 bits per palette index).
MAX_PALETTE_SIZE = 4000
_GRID_CELLS_PER_AXIS = 32

#: Colours in the metric's working space (palette points, queries) and the grid box: float64.
Points = NDArray[np.float64]
#: The grid's cell starts and candidate palette indices: int32.
Indices = NDArray[np.int32]
#: What compiled kernels take to search a palette (see :attr:`Matcher.kernel_args`).
KernelArgs = tuple[Points, Points, int, Indices, Indices, int, int]


def gamut_box(metric: Metric) -> tuple[Points, Points]:
    """Bounding box of the sRGB gamut in ``metric``'s space, with a 2 % margin on each side."""
    axis = np.linspace(0.0, 1.0, 18)
    cube = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    values = metric.from_srgb(cube)
    lo, hi = values.min(axis=0), values.max(axis=0)
    margin = (hi - lo) * 0.02
    return lo - margin, hi + margin


@numba.njit(cache=True, nogil=True)
def _refine(
    points: Points, lo: Points, step: Points, n: int, parent_start: Indices, parent_cand: Indices, kind: int
) -> tuple[Indices, Indices]:  # pragma: no cover - compiled
    """Split every cell of an (n/2)-grid in eight and keep, per child, the parent's candidates
    that can still be nearest somewhere in the child (see the module docstring)."""
    if kind == DIST_REDMEAN:
        w_lo = np.array([2.0, 4.0, 2.0])
        w_hi = np.array([3.0, 4.0, 3.0])
    else:
        w_lo = np.ones(3)
        w_hi = np.ones(3)
    half = n // 2
    cell_start = np.zeros(n * n * n + 1, dtype=np.int32)
    cand = np.empty(max(parent_cand.shape[0] * 4, 1024), dtype=np.int32)
    used = 0
    dmin = np.empty(points.shape[0])
    c_lo = np.empty(3)
    c_hi = np.empty(3)
    for i in range(n):
        for j in range(n):
            for k in range(n):
                parent = ((i >> 1) * half + (j >> 1)) * half + (k >> 1) if half > 0 else 0
                c_lo[0] = lo[0] + i * step[0]
                c_lo[1] = lo[1] + j * step[1]
                c_lo[2] = lo[2] + k * step[2]
                for a in range(3):
                    c_hi[a] = c_lo[a] + step[a]
                best_max = np.inf
                for t in range(parent_start[parent], parent_start[parent + 1]):
                    p = parent_cand[t]
                    near = 0.0
                    far = 0.0
                    for a in range(3):
                        v = points[p, a]
                        gap = max(c_lo[a] - v, v - c_hi[a], 0.0)
                        span = max(abs(v - c_lo[a]), abs(v - c_hi[a]))
                        near += w_lo[a] * gap * gap
                        far += w_hi[a] * span * span
                    dmin[p] = near
                    if far < best_max:
                        best_max = far
                for t in range(parent_start[parent], parent_start[parent + 1]):
                    p = parent_cand[t]
                    if dmin[p] <= best_max:
                        if used == cand.shape[0]:
                            grown = np.empty(cand.shape[0] * 2, dtype=np.int32)
                            grown[:used] = cand[:used]
                            cand = grown
                        cand[used] = p
                        used += 1
                cell = (i * n + j) * n + k
                cell_start[cell + 1] = used
    return cell_start, cand[:used].copy()


def _build_grid(points: Points, lo: Points, hi: Points, n: int, kind: int) -> tuple[Indices, Indices]:
    """Candidate lists of an n-per-axis grid, built coarse to fine (each level 8x the cells)."""
    cell_start = np.array([0, len(points)], dtype=np.int32)
    if kind == DIST_CIEDE2000:
        # One cell with every colour, ordered by lightness for the pruned scan (_scan_ciede2000).
        return cell_start, np.argsort(points[:, 0], kind="stable").astype(np.int32)
    cand = np.arange(len(points), dtype=np.int32)
    level = 1
    while level < n:
        level *= 2
        cell_start, cand = _refine(points, lo, (hi - lo) / level, level, cell_start, cand, kind)
    return cell_start, cand


@numba.njit(cache=True, inline="always")
def clamp_query(box: Points, q: Points) -> None:
    """Clamp a query colour ``q`` (3,) into the grid box (``box[0:3]`` low, ``box[3:6]`` high), in place."""
    for a in range(3):
        if q[a] < box[a]:
            q[a] = box[a]
        elif q[a] > box[3 + a]:
            q[a] = box[3 + a]


@numba.njit(cache=True, inline="always")
def nearest_one(
    pts: Points, box: Points, n: int, cell_start: Indices, cand: Indices, kind: int, q0: float, q1: float, q2: float,
) -> int:  # pragma: no cover - compiled  # fmt: skip
    """Palette index nearest to a colour inside the grid box.

    The arguments are :attr:`Matcher.kernel_args` (minus ``space``) and the query. Candidates
    of a cell are stored in palette order and only a strictly smaller distance replaces the
    best, so ties go to the lower palette index, as in a brute-force search.
    """
    i = min(max(int((q0 - box[0]) * box[6]), 0), n - 1)
    j = min(max(int((q1 - box[1]) * box[7]), 0), n - 1)
    k = min(max(int((q2 - box[2]) * box[8]), 0), n - 1)
    cell = (i * n + j) * n + k
    start = cell_start[cell]
    stop = cell_start[cell + 1]
    best = -1
    best_d = np.inf
    if kind == DIST_EUCLID:
        for t in range(start, stop):
            p = cand[t]
            d0 = q0 - pts[p, 0]
            d1 = q1 - pts[p, 1]
            d2 = q2 - pts[p, 2]
            d = d0 * d0 + d1 * d1 + d2 * d2
            if d < best_d:
                best_d = d
                best = p
    elif kind == DIST_CIEDE2000:
        best = _scan_ciede2000(pts, cand, q0, q1, q2)
    else:
        best = _scan_general(pts, cand, start, stop, kind, q0, q1, q2)
    return best


#: An upper bound of CIEDE2000's S_L = 1 + 0.015 (L - 50)^2 / sqrt(20 + (L - 50)^2) for mean
#: lightness within 60 of 50 (palette L* is 0..100, queries are clamped to -2..102).
_MAX_SL = 1.0 + 0.015 * 3600.0 / np.sqrt(3620.0)


@numba.njit(cache=True, nogil=True)
def _scan_ciede2000(pts: Points, cand: Indices, q0: float, q1: float, q2: float) -> int:  # pragma: no cover - compiled
    """Exact CIEDE2000 nearest colour, visiting colours outward from the query's lightness.

    The chroma/hue part of CIEDE2000 is a quadratic form that is never negative (|R_T| <= 1.74
    < 2), so the difference is at least |dL| / S_L >= |dL| / max S_L. ``cand`` lists the colours
    in order of L*; the scan stops on each side once that bound exceeds the best found.
    """
    count = cand.shape[0]
    lo = 0
    hi = count
    while lo < hi:  # first colour with L >= query L
        mid = (lo + hi) // 2
        if pts[cand[mid], 0] < q0:
            lo = mid + 1
        else:
            hi = mid
    best = -1
    best_d = np.inf
    up = lo
    down = lo - 1
    while up < count or down >= 0:
        bound_up = (pts[cand[up], 0] - q0) / _MAX_SL if up < count else np.inf
        bound_down = (q0 - pts[cand[down], 0]) / _MAX_SL if down >= 0 else np.inf
        if min(bound_up, bound_down) > best_d:
            break
        if bound_up <= bound_down:
            p = cand[up]
            up += 1
        else:
            p = cand[down]
            down -= 1
        d = np.sqrt(distance2(DIST_CIEDE2000, q0, q1, q2, pts[p, 0], pts[p, 1], pts[p, 2]))
        if d < best_d or (d == best_d and p < best):
            best_d = d
            best = p
    return best


@numba.njit(cache=True, nogil=True)
def _scan_general(
    pts: Points, cand: Indices, start: int, stop: int, kind: int, q0: float, q1: float, q2: float
) -> int:  # pragma: no cover - compiled
    best = -1
    best_d = np.inf
    for t in range(start, stop):
        p = cand[t]
        d = distance2(kind, q0, q1, q2, pts[p, 0], pts[p, 1], pts[p, 2])
        if d < best_d:
            best_d = d
            best = p
    return best


@numba.njit(cache=True, nogil=True)
def nearest_many(
    pts: Points, box: Points, n: int, cell_start: Indices, cand: Indices, kind: int, space: int, values: Points
) -> NDArray[np.int16]:  # pragma: no cover - compiled
    """Nearest palette index for each row of ``values`` (N, 3), clamped into the box first."""
    out = np.empty(values.shape[0], dtype=np.int16)
    q = np.empty(3)
    for r in range(values.shape[0]):
        q[0] = values[r, 0]
        q[1] = values[r, 1]
        q[2] = values[r, 2]
        clamp_query(box, q)
        out[r] = nearest_one(pts, box, n, cell_start, cand, kind, q[0], q[1], q[2])
    return out


@numba.njit(cache=True, nogil=True)
def fill_nearest(
    pts: Points, box: Points, n: int, cell_start: Indices, cand: Indices, kind: int, space: int,
    memo: NDArray[np.uint16], key: np.int64, q: Points,
) -> int:  # pragma: no cover  # fmt: skip
    """Search the colour with 24-bit sRGB ``key``, remember ``index + 1`` in ``memo``, return it."""
    srgb8_to_space((key >> 16) & 255, (key >> 8) & 255, key & 255, space, q)
    clamp_query(box, q)
    m = nearest_one(pts, box, n, cell_start, cand, kind, q[0], q[1], q[2]) + 1
    memo[key] = m
    return m


@numba.njit(cache=True, nogil=True)
def fill_pair(
    pts: Points, box: Points, n: int, cell_start: Indices, cand: Indices, kind: int, space: int, spread: float,
    memo: NDArray[np.uint32], key: np.int64, q: Points,
) -> int:  # pragma: no cover  # fmt: skip
    """Search and remember the (nearest, next, ratio) triple of a 24-bit sRGB colour.

    Packed as ``(p1 + 1) | p2 << 12 | ratio << 24``, ratio in 0..255: where the colour lies
    between p1 and p2, projected onto the segment. p2 is the nearest colour to a point one
    palette spacing (``spread``) beyond the colour along its quantisation error. An exact
    palette colour has ratio 0, so ordered and random dithering leave it alone. A filled entry
    is never zero (p1 + 1 >= 1).
    """
    srgb8_to_space((key >> 16) & 255, (key >> 8) & 255, key & 255, space, q)
    clamp_query(box, q)
    p1 = nearest_one(pts, box, n, cell_start, cand, kind, q[0], q[1], q[2])
    e0 = q[0] - pts[p1, 0]
    e1 = q[1] - pts[p1, 1]
    e2 = q[2] - pts[p1, 2]
    norm = np.sqrt(e0 * e0 + e1 * e1 + e2 * e2)
    p2 = p1
    ratio = 0
    if norm > 0.0:
        s = spread / norm
        q[0] += e0 * s
        q[1] += e1 * s
        q[2] += e2 * s
        clamp_query(box, q)
        p2 = nearest_one(pts, box, n, cell_start, cand, kind, q[0], q[1], q[2])
        if p2 != p1:
            d0 = pts[p2, 0] - pts[p1, 0]
            d1 = pts[p2, 1] - pts[p1, 1]
            d2 = pts[p2, 2] - pts[p1, 2]
            t = (e0 * d0 + e1 * d1 + e2 * d2) / (d0 * d0 + d1 * d1 + d2 * d2)
            ratio = int(min(max(t, 0.0), 1.0) * 255.0 + 0.5)
    m = (p1 + 1) | (p2 << 12) | (ratio << 24)
    memo[key] = m
    return m


def _median_nn_distance(points: Points, metric: Metric) -> float:
    if len(points) < 2:
        return 1.0
    d = metric.distance_between(points[:, None, :], points[None, :, :])
    np.fill_diagonal(d, np.inf)
    return float(np.median(d.min(axis=1)))


class Matcher:
    """Exact nearest-colour search for one palette under one metric, with its memo tables.

    Build once per (palette, metric) and reuse: the memo tables fill as images pass through.
    Concurrent threads may race to fill the same memo entry; they write the same value.
    """

    def __init__(self, colors_srgb8: NDArray[np.uint8], metric: Metric) -> None:
        colors = np.asarray(colors_srgb8, dtype=np.uint8).reshape(-1, 3)
        if len(colors) == 0:
            raise ValueError("palette is empty")
        if len(colors) > MAX_PALETTE_SIZE:
            raise ValueError(f"palette has {len(colors)} colours; the limit is {MAX_PALETTE_SIZE}")
        self.metric = metric
        self.colors_srgb8 = colors
        self.points = np.ascontiguousarray(metric.from_srgb(colors / 255.0), dtype=np.float64)
        #: The colours in linear light and in OKLab, for kernels that mix light or weigh errors.
        self.linear = np.ascontiguousarray(color.SRGB8_TO_LINEAR[colors])
        self.oklab = np.ascontiguousarray(color.srgb_to_oklab(colors / 255.0))
        lo, hi = gamut_box(metric)
        n = 1 if metric.distance == DIST_CIEDE2000 else _GRID_CELLS_PER_AXIS
        self.box = np.concatenate([lo, hi, n / (hi - lo)])
        self.n = n
        self.cell_start, self.cand = _build_grid(self.points, lo, hi, n, metric.distance)
        self.spread = _median_nn_distance(self.points, metric)
        self._lock = threading.Lock()
        self._memos: dict[str, NDArray[Any]] = {}

    @property
    def size(self) -> int:
        return len(self.colors_srgb8)

    @property
    def kernel_args(self) -> KernelArgs:
        """``(points, box, n, cell_start, cand, kind, space)``: what compiled kernels take."""
        return (self.points, self.box, self.n, self.cell_start, self.cand, self.metric.distance, self.metric.space)

    @property
    def mean_candidates(self) -> float:
        """Average colours compared per query (1 = perfect, palette size = brute force)."""
        return len(self.cand) / (len(self.cell_start) - 1)

    def nearest(self, values: NDArray[np.floating[Any]]) -> NDArray[np.int16]:
        """Nearest palette index for colours given in the metric's space, shape (..., 3)."""
        arr = np.ascontiguousarray(values, dtype=np.float64)
        flat = nearest_many(*self.kernel_args, arr.reshape(-1, 3))
        return flat.reshape(arr.shape[:-1])

    def nearest_memo(self) -> NDArray[np.uint16]:
        """The 24-bit colour -> nearest index + 1 memo (zero = not yet searched).

        Allocated with zeros, so the operating system hands out pages only as colours fill in.
        """
        return self.memo("nearest", lambda: np.zeros(1 << 24, dtype=np.uint16))

    def pair_memo(self) -> NDArray[np.uint32]:
        """The 24-bit colour -> packed (nearest, next, ratio) memo used by ordered/random dithering."""
        return self.memo("pair", lambda: np.zeros(1 << 24, dtype=np.uint32))

    def memo(self, name: str, make: Callable[[], NDArray[Any]]) -> NDArray[Any]:
        """A memo table kept with this matcher under ``name``, made by ``make()`` the first time."""
        with self._lock:
            if name not in self._memos:
                self._memos[name] = make()
            return self._memos[name]


__all__ = ["MAX_PALETTE_SIZE", "Matcher", "clamp_query", "fill_nearest", "fill_pair", "gamut_box", "nearest_one"]
