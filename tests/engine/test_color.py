"""Colour conversions against published reference values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pixeletica.engine import color


def test_srgb_transfer_function_reference_points():
    # IEC 61966-2-1: the linear segment below 0.04045 and the 2.4 power above.
    assert color.srgb_to_linear(np.array([0.0, 0.04045, 1.0])) == pytest.approx([0.0, 0.04045 / 12.92, 1.0])
    assert color.srgb_to_linear(np.array([0.5])) == pytest.approx([0.21404114], abs=1e-7)
    assert color.linear_to_srgb(np.array([0.21404114])) == pytest.approx([0.5], abs=1e-7)


@pytest.mark.parametrize(
    ("rgb8", "lab"),
    [
        # Values from Bruce Lindbloom's calculator (sRGB, D65, 2 degree observer).
        ((255, 255, 255), (100.0, 0.0, 0.0)),
        ((0, 0, 0), (0.0, 0.0, 0.0)),
        ((255, 0, 0), (53.2408, 80.0925, 67.2032)),
        ((0, 255, 0), (87.7347, -86.1827, 83.1793)),
        ((0, 0, 255), (32.2970, 79.1875, -107.8602)),
        ((119, 119, 119), (50.0308, 0.0, 0.0)),
    ],
)
def test_srgb_to_cielab_matches_reference(rgb8, lab):
    got = color.srgb_to_lab(np.array(rgb8) / 255.0)
    assert got == pytest.approx(lab, abs=0.01)


@pytest.mark.parametrize(
    ("xyz", "oklab"),
    [
        # The table in Ottosson, "A perceptual color space for image processing" (2020).
        ((0.950, 1.000, 1.089), (1.000, 0.000, 0.000)),
        ((1.000, 0.000, 0.000), (0.450, 1.236, -0.019)),
        ((0.000, 1.000, 0.000), (0.922, -0.671, 0.263)),
        ((0.000, 0.000, 1.000), (0.153, -1.415, -0.449)),
    ],
)
def test_xyz_to_oklab_matches_published_table(xyz, oklab):
    assert color.xyz_to_oklab(np.array(xyz)) == pytest.approx(oklab, abs=0.001)


def test_srgb_primaries_in_oklab():
    # Widely reproduced values, e.g. CSS Color 4's sample conversions.
    red = color.srgb_to_oklab(np.array([1.0, 0.0, 0.0]))
    assert red == pytest.approx([0.62796, 0.22486, 0.12585], abs=1e-4)
    white = color.srgb_to_oklab(np.array([1.0, 1.0, 1.0]))
    assert white == pytest.approx([1.0, 0.0, 0.0], abs=1e-4)


# Sharma, Wu & Dalal (2005), Table 1: selected pairs and their CIEDE2000 differences.
SHARMA = [
    ((50.0000, 2.6772, -79.7751), (50.0000, 0.0000, -82.7485), 2.0425),
    ((50.0000, 3.1571, -77.2803), (50.0000, 0.0000, -82.7485), 2.8615),
    ((50.0000, 2.8361, -74.0200), (50.0000, 0.0000, -82.7485), 3.4412),
    ((50.0000, -1.3802, -84.2814), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, 0.0000, 0.0000), (50.0000, -1.0000, 2.0000), 2.3669),
    ((50.0000, -1.0000, 2.0000), (50.0000, 0.0000, 0.0000), 2.3669),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0011), 7.2195),
    ((50.0000, 2.5000, 0.0000), (73.0000, 25.0000, -18.0000), 27.1492),
    ((50.0000, 2.5000, 0.0000), (61.0000, -5.0000, 29.0000), 22.8977),
    ((50.0000, 2.5000, 0.0000), (56.0000, -27.0000, -3.0000), 31.9030),
    ((50.0000, 2.5000, 0.0000), (58.0000, 24.0000, 15.0000), 19.4535),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


@pytest.mark.parametrize(("lab1", "lab2", "expected"), SHARMA)
def test_ciede2000_matches_sharma_table(lab1, lab2, expected):
    assert float(color.ciede2000(np.array(lab1), np.array(lab2))) == pytest.approx(expected, abs=1e-4)


def test_ciede2000_is_vectorised():
    lab1 = np.array([p[0] for p in SHARMA])
    lab2 = np.array([p[1] for p in SHARMA])
    assert color.ciede2000(lab1, lab2) == pytest.approx([p[2] for p in SHARMA], abs=1e-4)


unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@given(st.tuples(unit, unit, unit))
def test_round_trips(rgb):
    srgb = np.array(rgb)
    assert color.lab_to_srgb(color.srgb_to_lab(srgb)) == pytest.approx(srgb, abs=1e-7)
    assert color.oklab_to_srgb(color.srgb_to_oklab(srgb)) == pytest.approx(srgb, abs=1e-7)
    # IEC 61966-2-1's two knees (0.04045 and 0.0031308) disagree by 3e-8, so no tighter than that.
    assert color.linear_to_srgb(color.srgb_to_linear(srgb)) == pytest.approx(srgb, abs=1e-7)


def test_conversions_keep_leading_shape_and_reject_bad_shapes():
    image = np.random.default_rng(0).random((4, 5, 3))
    assert color.srgb_to_oklab(image).shape == (4, 5, 3)
    with pytest.raises(ValueError, match="3 channels"):
        color.srgb_to_lab(np.zeros((4, 2)))
