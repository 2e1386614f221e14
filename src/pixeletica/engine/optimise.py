"""The optimising mode: change blocks where that makes the picture, as the eye sees it, closer.

Starting from error diffusion, every block in turn is offered a few other palette colours; it takes
the one that lowers the blurred error of the whole picture most, if any does (a direct binary
search, as halftoning research uses: Analoui & Allebach, "Model-based halftoning using direct
binary search", 1992). The error is close to the one of :mod:`pixeletica.engine.quality`: the
difference between picture and source in linear light, blurred with the same Gaussian (cut at 3
sigmas, and taken as zero past the picture's edges), weighed at each pixel
by how CIEDE2000 judges a small difference around the source's colour there. Passes over the
picture repeat until a pass changes (almost) nothing or :data:`MAX_PASSES` are done, so the result
depends on the input alone.

With ``f`` the blurred error, ``g`` the Gaussian and ``W`` the local weights, changing a block by
``δ`` (in linear light) changes the error by ``2 δᵀ W (g * f) + (Σ g²) δᵀ W δ``: each offer costs a
few multiplications, and only an accepted change updates ``g * f`` (``twice``) around the block.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numba
import numpy as np
from numpy.typing import NDArray

from pixeletica.engine import color, quality
from pixeletica.engine.distance import ciede2000_weights, linear_to_space
from pixeletica.engine.nearest import Indices, Matcher, Points, clamp_query, nearest_one

#: Passes over the picture at the most.
MAX_PASSES = 3
#: A pass that changes fewer than this share of the blocks is the last.
SETTLED = 0.002
#: The blur's reach in sigmas (the tail beyond holds 0.3 % of its weight).
_BLUR_CUTOFF_SIGMAS = 3.0
#: Blocks offered to each block: the one that would cancel the error there and its 8 neighbours'.
_MAX_OFFERS = 1 + 8

_XYZ = color.SRGB_TO_XYZ / color.D65_WHITE[:, None]  # linear sRGB -> XYZ relative to white


#: Pixels searched between two progress reports (and chances to stop): about 20 ms with OKLab.
_BAND_PIXELS = 16384

Progress = Callable[[int, int], None]  # (rows searched, rows to search at the most)


def refine(
    rgb: NDArray[np.uint8],
    opaque: NDArray[np.bool_],
    indices: NDArray[np.int16],
    matcher: Matcher,
    progress: Progress | None = None,
) -> int:
    """Improve ``indices`` (a dithered picture of ``rgb``) in place; returns the number of passes made.

    ``progress`` hears of every band of rows searched, out of ``MAX_PASSES`` times the rows (the last
    report says all of them, also when the search settles sooner); an exception it raises stops the
    search, leaving ``indices`` a valid, partly improved picture.
    """
    h = rgb.shape[0]
    source = np.ascontiguousarray(color.SRGB8_TO_LINEAR[rgb])
    if progress is not None:
        progress(0, MAX_PASSES * h)
    weights = _weights(np.ascontiguousarray(quality.blur_opaque(source.astype(np.float32), opaque), dtype=np.float64))
    kernel = quality.gaussian_kernel(quality.SIGMA, reach=_BLUR_CUTOFF_SIGMAS).astype(np.float64)
    autocorrelation = np.correlate(kernel, kernel, mode="full")
    if progress is not None:
        progress(0, MAX_PASSES * h)  # the weights took a while: a chance to stop before the next step
    twice = _blurred_twice(source, opaque, indices, matcher.linear, autocorrelation)
    total = int(opaque.sum())
    band = max(1, _BAND_PIXELS // max(1, rgb.shape[1]))
    for done in range(MAX_PASSES):
        changes = 0
        for y0 in range(0, h, band):
            y1 = min(h, y0 + band)
            changes += _search(
                source, opaque, indices, *matcher.kernel_args, matcher.linear, weights, twice, autocorrelation, y0, y1
            )
            if progress is not None:
                progress(done * h + y1, MAX_PASSES * h)
        if changes <= SETTLED * total:
            break
    if progress is not None:
        progress(MAX_PASSES * h, MAX_PASSES * h)
    return done + 1


@numba.njit(cache=True, inline="always")
def _f(t: float) -> tuple[float, float]:
    """CIELAB's f and its derivative."""
    if t > 0.008856451679035631:
        c = np.cbrt(t)
        return c, 1.0 / (3.0 * c * c)
    return t * 7.787037037037037 + 4.0 / 29.0, 7.787037037037037


@numba.njit(cache=True, nogil=True)
def _weights(seen: NDArray[np.float64]) -> NDArray[np.float32]:  # pragma: no cover - compiled
    """Per pixel, the 3x3 matrix W with CIEDE2000(c, c + d)² ≈ dᵀ W d for small linear-light d around c.

    CIELAB's Jacobian at the colour, then CIEDE2000's weights of lightness, chroma and hue
    (Sharma, Wu & Dalal 2005: S_L, S_C, S_H, R_T and the a* stretch G).
    """
    h, w = seen.shape[0], seen.shape[1]
    out = np.zeros((h, w, 3, 3), dtype=np.float32)
    jac = np.empty((3, 3))
    fs = np.empty(3)
    ds = np.empty(3)
    for y in range(h):
        for x in range(w):
            for i in range(3):
                t = _XYZ[i, 0] * seen[y, x, 0] + _XYZ[i, 1] * seen[y, x, 1] + _XYZ[i, 2] * seen[y, x, 2]
                fs[i], ds[i] = _f(max(t, 0.0))
            lightness = 116.0 * fs[1] - 16.0
            a = 500.0 * (fs[0] - fs[1])
            b = 200.0 * (fs[1] - fs[2])
            c7 = math.sqrt(a * a + b * b) ** 7
            stretch = 1.0 + 0.5 * (1.0 - math.sqrt(c7 / (c7 + 6103515625.0)))
            for j in range(3):  # rows: L*, a'*, b* as functions of linear r, g, b
                jac[0, j] = 116.0 * ds[1] * _XYZ[1, j]
                jac[1, j] = stretch * 500.0 * (ds[0] * _XYZ[0, j] - ds[1] * _XYZ[1, j])
                jac[2, j] = 200.0 * (ds[1] * _XYZ[1, j] - ds[2] * _XYZ[2, j])
            ap = stretch * a
            chroma = math.sqrt(ap * ap + b * b)
            hue = math.degrees(math.atan2(b, ap)) % 360.0 if chroma > 0.0 else 0.0
            s_l, s_c, s_h, r_t = ciede2000_weights(lightness, chroma, hue)
            # Unit directions of chroma and hue in the (a', b) plane (any pair at the neutral axis).
            uc0, uc1 = (ap / chroma, b / chroma) if chroma > 1e-9 else (1.0, 0.0)
            uh0, uh1 = -uc1, uc0
            for i in range(3):
                for j in range(3):
                    dl_i, dl_j = jac[0, i], jac[0, j]
                    dc_i = uc0 * jac[1, i] + uc1 * jac[2, i]
                    dc_j = uc0 * jac[1, j] + uc1 * jac[2, j]
                    dh_i = uh0 * jac[1, i] + uh1 * jac[2, i]
                    dh_j = uh0 * jac[1, j] + uh1 * jac[2, j]
                    out[y, x, i, j] = (
                        dl_i * dl_j / (s_l * s_l)
                        + dc_i * dc_j / (s_c * s_c)
                        + dh_i * dh_j / (s_h * s_h)
                        + 0.5 * r_t * (dc_i * dh_j + dh_i * dc_j) / (s_c * s_h)
                    )
    return out


@numba.njit(cache=True, nogil=True)
def _blurred_twice(
    source: NDArray[np.float64], opaque: NDArray[np.bool_], out: NDArray[np.int16], linear: Points,
    a: NDArray[np.float64],
) -> NDArray[np.float64]:  # pragma: no cover - compiled  # fmt: skip
    """(a ⊗ a) * (picture - source): the error each block's change is weighed against.

    ``a`` is the 1-D autocorrelation of the blur (the blur of the blurred error is ``a ⊗ a``).
    """
    h, w = source.shape[0], source.shape[1]
    r = a.shape[0] // 2
    err = np.zeros((h, w, 3))
    for y in range(h):
        for x in range(w):
            if opaque[y, x]:
                for c in range(3):
                    err[y, x, c] = linear[out[y, x], c] - source[y, x, c]
    rows = np.zeros((h, w, 3))
    for y in range(h):
        for x in range(w):
            for dx in range(max(-r, -x), min(r, w - 1 - x) + 1):
                for c in range(3):
                    rows[y, x, c] += a[dx + r] * err[y, x + dx, c]
    twice = err  # reused: every value is replaced
    twice[:] = 0.0
    for y in range(h):
        for dy in range(max(-r, -y), min(r, h - 1 - y) + 1):
            for x in range(w):
                for c in range(3):
                    twice[y, x, c] += a[dy + r] * rows[y + dy, x, c]
    return twice


@numba.njit(cache=True, nogil=True)
def _search(
    source: NDArray[np.float64], opaque: NDArray[np.bool_], out: NDArray[np.int16], pts: Points, box: Points, n: int,
    cs: Indices, cand: Indices, kind: int, space: int, linear: Points, weights: NDArray[np.float32],
    twice: NDArray[np.float64], a: NDArray[np.float64], y0: int, y1: int,
) -> int:  # pragma: no cover - compiled  # fmt: skip
    """One pass of the search over rows y0..y1; returns the number of blocks changed.

    ``twice`` (see :func:`_blurred_twice`) follows every change.
    """
    h, w = source.shape[0], source.shape[1]
    r = a.shape[0] // 2
    g2 = a[r] * a[r]  # Σ g², the blur's energy
    want = np.empty(3)
    query = np.empty(3)
    step = np.empty(3)
    offers = np.empty(_MAX_OFFERS, dtype=np.int64)
    changes = 0
    for y in range(y0, y1):
        for x in range(w):
            if not opaque[y, x]:
                continue
            now = out[y, x]
            # Offers: the block nearest to the colour that would cancel the error here, and the neighbours' blocks.
            for c in range(3):
                want[c] = linear[now, c] - twice[y, x, c] / g2
            linear_to_space(want[0], want[1], want[2], space, query)
            clamp_query(box, query)
            count = 1
            offers[0] = nearest_one(pts, box, n, cs, cand, kind, query[0], query[1], query[2])
            for dy in range(max(-1, -y), min(1, h - 1 - y) + 1):
                for dx in range(max(-1, -x), min(1, w - 1 - x) + 1):
                    other = out[y + dy, x + dx]
                    if opaque[y + dy, x + dx] and other != now:
                        offers[count] = other
                        count += 1
            best_gain = -1e-12
            best = -1
            wp = weights[y, x]
            for k in range(count):
                p = offers[k]
                if p == now:
                    continue
                for c in range(3):
                    step[c] = linear[p, c] - linear[now, c]
                gain = 0.0
                for i in range(3):
                    s = 0.0
                    for j in range(3):
                        s += wp[i, j] * (2.0 * twice[y, x, j] + g2 * step[j])
                    gain += step[i] * s
                if gain < best_gain:
                    best_gain = gain
                    best = p
            if best < 0:
                continue
            for c in range(3):
                step[c] = linear[best, c] - linear[now, c]
            out[y, x] = best
            changes += 1
            for dy in range(max(-r, -y), min(r, h - 1 - y) + 1):
                ay = a[dy + r]
                for dx in range(max(-r, -x), min(r, w - 1 - x) + 1):
                    axy = ay * a[dx + r]
                    for c in range(3):
                        twice[y + dy, x + dx, c] += axy * step[c]
    return changes
