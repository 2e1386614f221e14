"""The nearest-colour search returns exactly what a brute-force search over the palette returns."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pixeletica.engine import color, distance, nearest, palette
from pixeletica.errors import InvalidInput

from .test_color import SHARMA


def brute_force(metric: distance.Metric, points: np.ndarray, queries: np.ndarray) -> np.ndarray:
    d = metric.distance_between(queries[:, None, :], points[None, :, :])
    return d.argmin(axis=1), d


def assert_exact(matcher: nearest.Matcher, queries: np.ndarray) -> None:
    got = matcher.nearest(queries)
    clamped = np.clip(queries, matcher.box[:3], matcher.box[3:6])
    want, d = brute_force(matcher.metric, matcher.points, clamped)
    rows = np.arange(len(queries))
    # Equal distances may pick either colour; anything else must be the very same index.
    assert np.allclose(d[rows, got], d[rows, want], rtol=0, atol=1e-9), "a query did not get its nearest colour"


@pytest.mark.parametrize("name", list(distance.METRICS))
def test_default_palette_photo_colours_are_matched_exactly(name, small_photo_rgb):
    metric = distance.get_metric(name)
    matcher = nearest.Matcher(palette.select().colors, metric)
    queries = metric.from_srgb(small_photo_rgb.reshape(-1, 3)[::7] / 255.0)
    assert_exact(matcher, queries)


@settings(max_examples=40, deadline=None)
@given(
    colors=arrays(np.uint8, st.tuples(st.integers(1, 60), st.just(3))),
    queries=arrays(np.float64, st.tuples(st.integers(1, 50), st.just(3)), elements=st.floats(0.0, 1.0)),
    name=st.sampled_from(list(distance.METRICS)),
)
def test_random_palettes_and_queries_are_matched_exactly(colors, queries, name):
    metric = distance.get_metric(name)
    matcher = nearest.Matcher(colors, metric)
    assert_exact(matcher, metric.from_srgb(queries))


def test_queries_outside_the_gamut_are_clamped_first():
    metric = distance.get_metric("oklab")
    matcher = nearest.Matcher(np.array([[0, 0, 0], [255, 255, 255]], dtype=np.uint8), metric)
    assert list(matcher.nearest(np.array([[5.0, 0.0, 0.0], [-3.0, 0.0, 0.0]]))) == [1, 0]


def test_grid_prunes_candidates_for_euclidean_metrics():
    colors = palette.select().colors
    for name in ("rgb", "redmean", "cielab", "oklab"):
        matcher = nearest.Matcher(colors, distance.get_metric(name))
        assert matcher.mean_candidates < 12, name
    assert nearest.Matcher(colors, distance.get_metric("ciede2000")).mean_candidates == len(colors)


def test_compiled_ciede2000_matches_sharma_table():
    for lab1, lab2, expected in SHARMA:
        assert np.sqrt(distance.distance2(distance.DIST_CIEDE2000, *lab1, *lab2)) == pytest.approx(expected, abs=1e-4)


def test_compiled_conversion_matches_numpy_reference():
    rgb = np.random.default_rng(3).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    for space, reference in ((distance.SPACE_LAB, color.srgb_to_lab), (distance.SPACE_OKLAB, color.srgb_to_oklab)):
        out = np.empty(3)
        for r, g, b in rgb.reshape(-1, 3):
            distance.srgb8_to_space(r, g, b, space, out)
            assert out == pytest.approx(reference(np.array([r, g, b]) / 255.0), abs=1e-6)
            distance.linear_to_space(*color.srgb_to_linear(np.array([r, g, b]) / 255.0), space, out)
            assert out == pytest.approx(reference(np.array([r, g, b]) / 255.0), abs=1e-6)


def test_unknown_metric_names_the_valid_ones():
    with pytest.raises(InvalidInput, match="choose one of: rgb, redmean, cielab, ciede2000, oklab"):
        distance.get_metric("euclid")


def test_palette_size_limit():
    with pytest.raises(ValueError, match="limit"):
        nearest.Matcher(np.zeros((nearest.MAX_PALETTE_SIZE + 1, 3), dtype=np.uint8), distance.get_metric("rgb"))


@pytest.mark.parametrize("name", list(distance.METRICS))
def test_every_8_bit_colour_lies_inside_the_grid_box(name):
    metric = distance.get_metric(name)
    lo, hi = nearest.gamut_box(metric)
    axis = np.arange(256) / 255.0
    u, v = (a.ravel() for a in np.meshgrid(axis, axis))
    faces = []
    for fixed in (0.0, 1.0):
        f = np.full_like(u, fixed)
        faces += [np.stack([f, u, v], -1), np.stack([u, f, v], -1), np.stack([u, v, f], -1)]
    inside = np.random.default_rng(0).integers(0, 256, (200_000, 3)) / 255.0
    values = metric.from_srgb(np.concatenate([*faces, inside]))
    assert (values >= lo).all() and (values <= hi).all()
