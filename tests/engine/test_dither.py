"""Dithering properties: palette-only output, exact colours kept, mean light kept, reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from pixeletica.engine import color, distance, dither, nearest, palette, thresholds
from pixeletica.errors import InvalidInput

ALL = list(dither.ALGORITHMS)
DIFFUSION = [name for name, a in dither.ALGORITHMS.items() if a.family == "diffusion"]


@pytest.fixture(scope="module")
def default_palette() -> palette.Palette:
    return palette.select()


def matcher_for(pal: palette.Palette, metric: str = "oklab") -> nearest.Matcher:
    return nearest.Matcher(pal.colors, distance.get_metric(metric))


@pytest.mark.parametrize("name", ALL)
def test_every_pixel_is_a_palette_index_or_air(name, small_photo_rgb, default_palette):
    opaque = np.ones(small_photo_rgb.shape[:2], dtype=bool)
    opaque[10:20, 30:50] = False  # a transparent hole
    out = dither.dither(small_photo_rgb, opaque, matcher_for(default_palette), dither.get_algorithm(name))
    assert out.shape == small_photo_rgb.shape[:2]
    assert out.dtype == np.int16
    assert (out[~opaque] == dither.AIR).all()
    assert ((out[opaque] >= 0) & (out[opaque] < len(default_palette))).all()
    assert len(np.unique(out[opaque])) > 20  # a photograph uses many blocks


@pytest.mark.parametrize("metric", list(distance.METRICS))
@pytest.mark.parametrize("name", ALL)
def test_an_exact_palette_colour_yields_that_block_everywhere(name, metric, default_palette):
    index = 37
    rgb = np.broadcast_to(default_palette.colors[index], (24, 40, 3)).copy()
    opaque = np.ones(rgb.shape[:2], dtype=bool)
    out = dither.dither(rgb, opaque, matcher_for(default_palette, metric), dither.get_algorithm(name))
    assert (out == index).all()


@pytest.mark.parametrize("metric", list(distance.METRICS))
@pytest.mark.parametrize("name", DIFFUSION)
def test_every_palette_colour_yields_its_own_block_under_error_diffusion(name, metric, default_palette):
    # Error diffusion matches through a memo of coarse colour cells; a palette colour must still
    # find exactly its own block (or the first block of the same colour), whatever its neighbours.
    colours = default_palette.colors
    rgb = np.repeat(colours[:, None, :], 5, axis=1)
    matcher = matcher_for(default_palette, metric)
    out = dither.dither(rgb, np.ones(rgb.shape[:2], dtype=bool), matcher, dither.get_algorithm(name))
    own = matcher.nearest(matcher.metric.from_srgb(colours / 255.0))
    assert (colours[own] == colours).all()
    assert (out == own[:, None]).all()


def _mean_light(rgb: np.ndarray) -> np.ndarray:
    """The mean colour as the eye sees it from afar: light averages linearly."""
    return color.srgb_to_linear(rgb.reshape(-1, 3) / 255.0).mean(axis=0)


@pytest.mark.parametrize("name", DIFFUSION)
def test_error_diffusion_keeps_the_mean_light_of_a_gradient(name):
    # A coarse palette makes the test meaningful: plain nearest-colour is far off on average.
    pal = palette.select(palette.PaletteFilter(include_categories=("wool",)))
    ramp = np.linspace(0.0, 1.0, 256)
    rgb = np.zeros((48, 256, 3), dtype=np.uint8)
    rgb[..., 0] = np.rint(255 * ramp)
    rgb[..., 1] = np.rint(160 * (1 - ramp) + 40)
    rgb[..., 2] = 90
    opaque = np.ones(rgb.shape[:2], dtype=bool)
    matcher = matcher_for(pal)
    target = _mean_light(rgb)

    out = dither.dither(rgb, opaque, matcher, dither.get_algorithm(name))
    got = _mean_light(pal.colors[out])
    plain = _mean_light(pal.colors[dither.dither(rgb, opaque, matcher, dither.get_algorithm("none"))])

    # Atkinson passes on only 3/4 of the error; every kernel lets go of what wool cannot reach at the ends.
    tolerance = 0.02 if name == "atkinson" else 0.01
    assert np.abs(got - target).max() < tolerance
    assert np.abs(got - target).max() < np.abs(plain - target).max() / 3


def test_random_dithering_is_reproducible_by_seed(small_photo_rgb, default_palette):
    opaque = np.ones(small_photo_rgb.shape[:2], dtype=bool)
    algorithm = dither.get_algorithm("random")
    a = dither.dither(small_photo_rgb, opaque, matcher_for(default_palette), algorithm, seed=7)
    b = dither.dither(small_photo_rgb, opaque, matcher_for(default_palette), algorithm, seed=7)
    c = dither.dither(small_photo_rgb, opaque, matcher_for(default_palette), algorithm, seed=8)
    assert (a == b).all()
    assert (a != c).any()


@pytest.mark.parametrize("name", ["floyd_steinberg", "ordered", "random"])
def test_strength_zero_is_plain_nearest_colour(name, small_photo_rgb, default_palette):
    opaque = np.ones(small_photo_rgb.shape[:2], dtype=bool)
    matcher = matcher_for(default_palette)
    none = dither.dither(small_photo_rgb, opaque, matcher, dither.get_algorithm("none"))
    zero = dither.dither(small_photo_rgb, opaque, matcher, dither.get_algorithm(name), strength=0.0)
    full = dither.dither(small_photo_rgb, opaque, matcher, dither.get_algorithm(name), strength=1.0)
    assert (zero == none).all()
    assert (full != none).any()


def test_serpentine_scanning_changes_the_pattern(small_photo_rgb, default_palette):
    opaque = np.ones(small_photo_rgb.shape[:2], dtype=bool)
    algorithm = dither.get_algorithm("floyd_steinberg")
    plain = dither.dither(small_photo_rgb, opaque, matcher_for(default_palette), algorithm)
    snake = dither.dither(small_photo_rgb, opaque, matcher_for(default_palette), algorithm, serpentine=True)
    assert (plain != snake).any()
    assert (plain[0] == snake[0]).all()  # the first row runs left to right in both


def test_none_is_the_exact_nearest_colour(small_photo_rgb, default_palette):
    matcher = matcher_for(default_palette, "cielab")
    opaque = np.ones(small_photo_rgb.shape[:2], dtype=bool)
    out = dither.dither(small_photo_rgb, opaque, matcher, dither.get_algorithm("none"))
    lab = color.srgb_to_lab(small_photo_rgb.reshape(-1, 3) / 255.0)
    d = np.linalg.norm(lab[:, None, :] - matcher.points[None, :, :], axis=2)
    rows = np.arange(len(lab))
    assert np.allclose(d[rows, out.ravel()], d.min(axis=1), atol=1e-9)


def test_ordered_uses_the_bayer_pattern():
    assert thresholds.bayer_matrix(2).tolist() == [[0.125, 0.625], [0.875, 0.375]]
    m8 = thresholds.bayer_matrix(8)
    assert sorted(m8.ravel()) == pytest.approx((np.arange(64) + 0.5) / 64)
    assert dither.get_algorithm("ordered").bayer_size == 4


def test_progress_reports_rows(small_photo_rgb, default_palette):
    seen = []
    opaque = np.ones(small_photo_rgb.shape[:2], dtype=bool)
    dither.dither(
        small_photo_rgb,
        opaque,
        matcher_for(default_palette),
        dither.get_algorithm("none"),
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen[-1] == (96, 96)


@pytest.mark.parametrize("alias", ["floyd-steinberg", "Floyd_Steinberg", "fs", "none", "ordered", "random"])
def test_original_names_and_aliases_are_accepted(alias):
    assert dither.get_algorithm(alias).name in dither.ALGORITHMS


def test_unknown_algorithm_and_bad_strength_are_refused(small_photo_rgb, default_palette):
    with pytest.raises(InvalidInput, match="unknown dithering algorithm 'pink_noise'; choose one of: none, "):
        dither.get_algorithm("pink_noise")
    with pytest.raises(InvalidInput, match="between 0 and 1"):
        dither.dither(
            small_photo_rgb,
            np.ones(small_photo_rgb.shape[:2], dtype=bool),
            matcher_for(default_palette),
            dither.get_algorithm("none"),
            strength=1.5,
        )


def test_an_unknown_name_is_quoted_cut_short_not_echoed_whole():
    with pytest.raises(InvalidInput) as error:
        dither.get_algorithm("x" * 60_000)
    assert len(str(error.value)) < 400 and "…" in str(error.value)
