"""Colour-distance metrics: which space each one works in, and compiled distance kernels.

A metric is a working space (where colours are compared) plus a distance in that space:

=========== ============== ===================================================
name        space          distance
=========== ============== ===================================================
rgb         sRGB 0..255    Euclidean (what the original Pixeletica used)
redmean     sRGB 0..255    weighted Euclidean, weights depending on mean red
                           (T. Riemersma, "Colour metric", compuphase.com)
cielab      CIELAB (D65)   Euclidean = CIE 1976 Delta E*ab
ciede2000   CIELAB (D65)   CIEDE2000 (Sharma, Wu, Dalal 2005)
oklab       OKLab          Euclidean (Ottosson 2020) — the default
=========== ============== ===================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pixeletica import names
from pixeletica.engine import _jit

_jit.configure_cache()  # before any compiled kernel below is defined

import numba  # noqa: E402
import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

from pixeletica.engine import color  # noqa: E402
from pixeletica.errors import InvalidInput  # noqa: E402

SPACE_SRGB = 0
SPACE_LAB = 1
SPACE_OKLAB = 2

DIST_EUCLID = 0
DIST_REDMEAN = 1
DIST_CIEDE2000 = 2


@dataclass(frozen=True, kw_only=True)
class Metric:
    """A named colour distance and the space it is computed in."""

    name: str
    space: int
    distance: int
    description: str

    def from_srgb(self, srgb: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        """Convert sRGB colours (0..1, last axis = channels) into this metric's space."""
        if self.space == SPACE_SRGB:
            return np.asarray(srgb, dtype=np.float64) * 255.0
        if self.space == SPACE_LAB:
            return color.srgb_to_lab(srgb)
        return color.srgb_to_oklab(srgb)

    def distance_between(self, a: NDArray[np.floating[Any]], b: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        """Distance between colours already in this metric's space (vectorised, for checks)."""
        a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
        if self.distance == DIST_CIEDE2000:
            return color.ciede2000(a, b)
        d = a - b
        if self.distance == DIST_REDMEAN:
            rmean = (a[..., 0] + b[..., 0]) / 2.0
            redmean: NDArray[np.float64] = np.sqrt(
                (2.0 + rmean / 256.0) * d[..., 0] ** 2
                + 4.0 * d[..., 1] ** 2
                + (2.0 + (255.0 - rmean) / 256.0) * d[..., 2] ** 2
            )
            return redmean
        euclidean: NDArray[np.float64] = np.sqrt((d**2).sum(axis=-1))
        return euclidean


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(name="rgb", space=SPACE_SRGB, distance=DIST_EUCLID, description="Euclidean sRGB (the original's)"),
        Metric(name="redmean", space=SPACE_SRGB, distance=DIST_REDMEAN, description="weighted sRGB"),
        Metric(name="cielab", space=SPACE_LAB, distance=DIST_EUCLID, description="CIE76 Delta E in CIELAB"),
        Metric(name="ciede2000", space=SPACE_LAB, distance=DIST_CIEDE2000, description="CIEDE2000"),
        Metric(name="oklab", space=SPACE_OKLAB, distance=DIST_EUCLID, description="Euclidean OKLab (default)"),
    )
}


def get_metric(name: str) -> Metric:
    """Look a metric up by name; the error lists the valid names."""
    try:
        return METRICS[name.lower()]
    except KeyError:
        raise InvalidInput(
            f"unknown colour metric {names.shown(name)}; choose one of: {', '.join(METRICS)}", field="metric"
        ) from None


# --- compiled kernels -------------------------------------------------------------------------

_SRGB8_LINEAR = color.SRGB8_TO_LINEAR.copy()
_SRGB_TO_XYZ = color.SRGB_TO_XYZ.copy()
_SRGB_TO_LMS = color.SRGB_TO_LMS.copy()
_LMS_TO_OKLAB = color.LMS_TO_OKLAB.copy()
_D65 = color.D65_WHITE.copy()


@numba.njit(cache=True, inline="always")
def fast_cbrt(x: float) -> float:
    """Cube root to within 1e-14 relative error, about 3x faster than libm's cbrt.

    A first guess from the bit pattern (dividing the exponent by three) refined by two Halley
    iterations, each of which roughly cubes the relative error.
    """
    if x == 0.0:
        return 0.0
    a = abs(x)
    y = float(np.int64(np.float64(a).view(np.int64) // 3 + np.int64(0x2A9F7893782DA1CE)).view(np.float64))
    y3 = y * y * y
    y = y * (y3 + 2.0 * a) / (2.0 * y3 + a)
    y3 = y * y * y
    y = y * (y3 + 2.0 * a) / (2.0 * y3 + a)
    return y if x > 0.0 else -y


@numba.njit(cache=True, inline="always")
def _lab_f(t: float) -> float:
    if t > 0.008856451679035631:  # (6/29)^3
        return fast_cbrt(t)
    return t * 7.787037037037037 + 4.0 / 29.0


@numba.njit(cache=True, inline="always")
def srgb8_to_space(
    r: int | np.integer[Any], g: int | np.integer[Any], b: int | np.integer[Any], space: int, out: NDArray[np.float64]
) -> None:
    """Convert one 8-bit sRGB colour into ``space``, writing the three channels into ``out``."""
    if space == SPACE_SRGB:
        out[0] = r
        out[1] = g
        out[2] = b
        return
    linear_to_space(_SRGB8_LINEAR[r], _SRGB8_LINEAR[g], _SRGB8_LINEAR[b], space, out)


@numba.njit(cache=True, inline="always")
def _encode_srgb(c: float) -> float:
    """Linear light (clamped to 0..1) to sRGB 0..255."""
    c = min(max(c, 0.0), 1.0)
    return 255.0 * (c * 12.92 if c <= 0.0031308 else 1.055 * c ** (1.0 / 2.4) - 0.055)


@numba.njit(cache=True, inline="always")
def linear_to_space(lr: float, lg: float, lb: float, space: int, out: NDArray[np.float64]) -> None:
    """Convert one linear-light sRGB colour (0..1) into ``space``, writing the three channels into ``out``."""
    if space == SPACE_SRGB:
        out[0] = _encode_srgb(lr)
        out[1] = _encode_srgb(lg)
        out[2] = _encode_srgb(lb)
        return
    if space == SPACE_LAB:
        m = _SRGB_TO_XYZ
        fx = _lab_f((m[0, 0] * lr + m[0, 1] * lg + m[0, 2] * lb) / _D65[0])
        fy = _lab_f((m[1, 0] * lr + m[1, 1] * lg + m[1, 2] * lb) / _D65[1])
        fz = _lab_f((m[2, 0] * lr + m[2, 1] * lg + m[2, 2] * lb) / _D65[2])
        out[0] = 116.0 * fy - 16.0
        out[1] = 500.0 * (fx - fy)
        out[2] = 200.0 * (fy - fz)
        return
    m = _SRGB_TO_LMS
    lc = fast_cbrt(m[0, 0] * lr + m[0, 1] * lg + m[0, 2] * lb)
    mc = fast_cbrt(m[1, 0] * lr + m[1, 1] * lg + m[1, 2] * lb)
    sc = fast_cbrt(m[2, 0] * lr + m[2, 1] * lg + m[2, 2] * lb)
    k = _LMS_TO_OKLAB
    out[0] = k[0, 0] * lc + k[0, 1] * mc + k[0, 2] * sc
    out[1] = k[1, 0] * lc + k[1, 1] * mc + k[1, 2] * sc
    out[2] = k[2, 0] * lc + k[2, 1] * mc + k[2, 2] * sc


@numba.njit(cache=True, inline="always")
def ciede2000_weights(lightness: float, chroma: float, hue: float) -> tuple[float, float, float, float]:
    """CIEDE2000's S_L, S_C, S_H and R_T at a mean lightness, chroma (of a'*) and hue (degrees)."""
    t = (
        1.0
        - 0.17 * math.cos(math.radians(hue - 30.0))
        + 0.24 * math.cos(math.radians(2.0 * hue))
        + 0.32 * math.cos(math.radians(3.0 * hue + 6.0))
        - 0.20 * math.cos(math.radians(4.0 * hue - 63.0))
    )
    d_theta = 30.0 * math.exp(-(((hue - 275.0) / 25.0) ** 2))
    c7 = chroma**7
    r_c = 2.0 * math.sqrt(c7 / (c7 + 6103515625.0))
    l50 = (lightness - 50.0) ** 2
    s_l = 1.0 + 0.015 * l50 / math.sqrt(20.0 + l50)
    return s_l, 1.0 + 0.045 * chroma, 1.0 + 0.015 * chroma * t, -math.sin(math.radians(2.0 * d_theta)) * r_c


@numba.njit(cache=True, inline="always")
def _ciede2000(l1: float, a1: float, b1: float, l2: float, a2: float, b2: float) -> float:
    c_bar = 0.5 * (math.sqrt(a1 * a1 + b1 * b1) + math.sqrt(a2 * a2 + b2 * b2))
    c7 = c_bar**7
    g = 0.5 * (1.0 - math.sqrt(c7 / (c7 + 6103515625.0)))
    a1p = (1.0 + g) * a1
    a2p = (1.0 + g) * a2
    c1p = math.sqrt(a1p * a1p + b1 * b1)
    c2p = math.sqrt(a2p * a2p + b2 * b2)
    h1p = 0.0 if c1p == 0.0 else math.degrees(math.atan2(b1, a1p)) % 360.0
    h2p = 0.0 if c2p == 0.0 else math.degrees(math.atan2(b2, a2p)) % 360.0
    dlp = l2 - l1
    dcp = c2p - c1p
    cc = c1p * c2p
    dh = h2p - h1p
    if cc == 0.0:
        dh = 0.0
    elif dh > 180.0:
        dh -= 360.0
    elif dh < -180.0:
        dh += 360.0
    dhp = 2.0 * math.sqrt(cc) * math.sin(math.radians(dh) * 0.5)
    lp_bar = 0.5 * (l1 + l2)
    cp_bar = 0.5 * (c1p + c2p)
    hsum = h1p + h2p
    if cc == 0.0:
        hp_bar = hsum
    elif abs(h1p - h2p) <= 180.0:
        hp_bar = 0.5 * hsum
    elif hsum < 360.0:
        hp_bar = 0.5 * (hsum + 360.0)
    else:
        hp_bar = 0.5 * (hsum - 360.0)
    s_l, s_c, s_h, r_t = ciede2000_weights(lp_bar, cp_bar, hp_bar)
    x = dlp / s_l
    y = dcp / s_c
    z = dhp / s_h
    return math.sqrt(max(x * x + y * y + z * z + r_t * y * z, 0.0))


@numba.njit(cache=True, inline="always")
def distance2(kind: int, p0: float, p1: float, p2: float, q0: float, q1: float, q2: float) -> float:
    """Squared distance of kind ``kind`` between two colours of the metric's space."""
    if kind == DIST_EUCLID:
        d0 = p0 - q0
        d1 = p1 - q1
        d2 = p2 - q2
        return d0 * d0 + d1 * d1 + d2 * d2
    if kind == DIST_REDMEAN:
        rmean = 0.5 * (p0 + q0)
        d0 = p0 - q0
        d1 = p1 - q1
        d2 = p2 - q2
        return (2.0 + rmean / 256.0) * d0 * d0 + 4.0 * d1 * d1 + (2.0 + (255.0 - rmean) / 256.0) * d2 * d2
    d = _ciede2000(p0, p1, p2, q0, q1, q2)
    return d * d
