"""Colour-space conversions: sRGB <-> linear light <-> CIE XYZ/CIELAB (D65) and OKLab.

All functions take and return numpy arrays whose last axis holds the three channels; any
leading shape is allowed. sRGB values are floats in 0..1 (use ``/ 255`` for 8-bit input).

References:
- sRGB transfer function and primaries: IEC 61966-2-1:1999.
- CIELAB: CIE 15:2004, with the D65 white of the sRGB standard.
- OKLab: Björn Ottosson, "A perceptual color space for image processing" (2020),
  https://bottosson.github.io/posts/oklab/ (matrices copied from there).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

#: D65 reference white (X, Y, Z), as used by sRGB, Y normalised to 1.
D65_WHITE: NDArray[np.float64] = np.array([0.95047, 1.0, 1.08883])

#: Linear sRGB -> XYZ (D65), IEC 61966-2-1.
SRGB_TO_XYZ: NDArray[np.float64] = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
XYZ_TO_SRGB: NDArray[np.float64] = np.linalg.inv(SRGB_TO_XYZ)

#: OKLab matrices (Ottosson 2020): linear sRGB -> LMS, XYZ -> LMS, LMS' -> Lab.
SRGB_TO_LMS: NDArray[np.float64] = np.array(
    [
        [0.4122214708, 0.5363325363, 0.0514459929],
        [0.2119034982, 0.6806995451, 0.1073969566],
        [0.0883024619, 0.2817188376, 0.6299787005],
    ]
)
XYZ_TO_LMS: NDArray[np.float64] = np.array(
    [
        [0.8189330101, 0.3618667424, -0.1288597137],
        [0.0329845436, 0.9293118715, 0.0361456387],
        [0.0482003018, 0.2643662691, 0.6338517070],
    ]
)
LMS_TO_OKLAB: NDArray[np.float64] = np.array(
    [
        [0.2104542553, 0.7936177850, -0.0040720468],
        [1.9779984951, -2.4285922050, 0.4505937099],
        [0.0259040371, 0.7827717662, -0.8086757660],
    ]
)
OKLAB_TO_LMS: NDArray[np.float64] = np.linalg.inv(LMS_TO_OKLAB)
LMS_TO_SRGB: NDArray[np.float64] = np.linalg.inv(SRGB_TO_LMS)

_LAB_EPSILON = (6.0 / 29.0) ** 3
_LAB_KAPPA_INV = 1.0 / (3.0 * (6.0 / 29.0) ** 2)


def _as_float(values: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape[-1:] != (3,):
        raise ValueError(f"expected colours with 3 channels on the last axis, got shape {arr.shape}")
    return arr


def srgb_to_linear(srgb: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    """Decode sRGB (0..1) to linear light (0..1) with the IEC 61966-2-1 transfer function."""
    c = np.asarray(srgb, dtype=np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    """Encode linear light (0..1) to sRGB (0..1); inverse of :func:`srgb_to_linear`."""
    c = np.clip(np.asarray(linear, dtype=np.float64), 0.0, None)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1.0 / 2.4) - 0.055)


#: The linear-light value of each 8-bit sRGB code, for table look-ups.
SRGB8_TO_LINEAR = srgb_to_linear(np.arange(256) / 255.0)


def linear_to_xyz(linear: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    """Linear sRGB -> CIE XYZ (D65, Y of white = 1)."""
    return _as_float(linear) @ SRGB_TO_XYZ.T


def xyz_to_linear(xyz: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    """CIE XYZ (D65) -> linear sRGB (not clipped: out-of-gamut colours go below 0 or above 1)."""
    return _as_float(xyz) @ XYZ_TO_SRGB.T


def xyz_to_lab(xyz: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    """CIE XYZ -> CIELAB (L* 0..100) relative to the D65 white."""
    t = _as_float(xyz) / D65_WHITE
    f = np.where(t > _LAB_EPSILON, np.cbrt(t), t * _LAB_KAPPA_INV + 4.0 / 29.0)
    lightness = 116.0 * f[..., 1] - 16.0
    a = 500.0 * (f[..., 0] - f[..., 1])
    b = 200.0 * (f[..., 1] - f[..., 2])
    return np.stack([lightness, a, b], axis=-1)


def lab_to_xyz(lab: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    """CIELAB (D65) -> CIE XYZ; inverse of :func:`xyz_to_lab`."""
    lab = _as_float(lab)
    fy = (lab[..., 0] + 16.0) / 116.0
    fx = fy + lab[..., 1] / 500.0
    fz = fy - lab[..., 2] / 200.0
    f = np.stack([fx, fy, fz], axis=-1)
    t = np.where(f > 6.0 / 29.0, f**3, (f - 4.0 / 29.0) / _LAB_KAPPA_INV)
    return t * D65_WHITE


def xyz_to_oklab(xyz: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    """CIE XYZ (D65) -> OKLab."""
    lms = _as_float(xyz) @ XYZ_TO_LMS.T
    lms_cbrt: NDArray[np.float64] = np.cbrt(lms)
    return lms_cbrt @ LMS_TO_OKLAB.T


def linear_to_oklab(linear: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    """Linear sRGB -> OKLab (L 0..1)."""
    lms = _as_float(linear) @ SRGB_TO_LMS.T
    lms_cbrt: NDArray[np.float64] = np.cbrt(lms)
    return lms_cbrt @ LMS_TO_OKLAB.T


def oklab_to_linear(oklab: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    """OKLab -> linear sRGB (not clipped)."""
    lms = (_as_float(oklab) @ OKLAB_TO_LMS.T) ** 3
    return lms @ LMS_TO_SRGB.T


def srgb_to_lab(srgb: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    """sRGB (0..1) -> CIELAB (D65)."""
    return xyz_to_lab(linear_to_xyz(srgb_to_linear(srgb)))


def lab_to_srgb(lab: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    """CIELAB (D65) -> sRGB (0..1), clipped to the gamut."""
    return np.clip(linear_to_srgb(xyz_to_linear(lab_to_xyz(lab))), 0.0, 1.0)


def srgb_to_oklab(srgb: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    """sRGB (0..1) -> OKLab."""
    return linear_to_oklab(srgb_to_linear(srgb))


def oklab_to_srgb(oklab: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    """OKLab -> sRGB (0..1), clipped to the gamut."""
    return np.clip(linear_to_srgb(oklab_to_linear(oklab)), 0.0, 1.0)


def ciede2000(lab1: NDArray[np.floating[Any]], lab2: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    """CIEDE2000 colour difference between CIELAB colours (kL = kC = kH = 1).

    Implements Sharma, Wu and Dalal, "The CIEDE2000 color-difference formula: implementation
    notes, supplementary test data, and mathematical observations" (2005), equations 1-17.
    Broadcasts like numpy; returns an array of the broadcast leading shape.
    """
    lab1, lab2 = np.broadcast_arrays(_as_float(lab1), _as_float(lab2))
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2.0
    c_bar7 = c_bar**7
    g = 0.5 * (1.0 - np.sqrt(c_bar7 / (c_bar7 + 25.0**7)))
    a1p, a2p = (1.0 + g) * a1, (1.0 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.where(c1p == 0, 0.0, np.degrees(np.arctan2(b1, a1p)) % 360.0)
    h2p = np.where(c2p == 0, 0.0, np.degrees(np.arctan2(b2, a2p)) % 360.0)

    dlp = l2 - l1
    dcp = c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180.0, dh - 360.0, np.where(dh < -180.0, dh + 360.0, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dhp = 2.0 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh) / 2.0)

    lp_bar = (l1 + l2) / 2.0
    cp_bar = (c1p + c2p) / 2.0
    hsum = h1p + h2p
    hp_bar = np.where(
        np.abs(h1p - h2p) <= 180.0, hsum / 2.0, np.where(hsum < 360.0, (hsum + 360.0) / 2.0, (hsum - 360.0) / 2.0)
    )
    hp_bar = np.where(c1p * c2p == 0, hsum, hp_bar)
    t = (
        1.0
        - 0.17 * np.cos(np.radians(hp_bar - 30.0))
        + 0.24 * np.cos(np.radians(2.0 * hp_bar))
        + 0.32 * np.cos(np.radians(3.0 * hp_bar + 6.0))
        - 0.20 * np.cos(np.radians(4.0 * hp_bar - 63.0))
    )
    d_theta = 30.0 * np.exp(-(((hp_bar - 275.0) / 25.0) ** 2))
    cp_bar7 = cp_bar**7
    r_c = 2.0 * np.sqrt(cp_bar7 / (cp_bar7 + 25.0**7))
    s_l = 1.0 + 0.015 * (lp_bar - 50.0) ** 2 / np.sqrt(20.0 + (lp_bar - 50.0) ** 2)
    s_c = 1.0 + 0.045 * cp_bar
    s_h = 1.0 + 0.015 * cp_bar * t
    r_t = -np.sin(np.radians(2.0 * d_theta)) * r_c
    delta_e: NDArray[np.float64] = np.sqrt(
        (dlp / s_l) ** 2 + (dcp / s_c) ** 2 + (dhp / s_h) ** 2 + r_t * (dcp / s_c) * (dhp / s_h)
    )
    return delta_e
