"""The fidelity score, and the picture quality it promises: real photographs, the default and the optimising mode."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pixeletica.engine import color, distance, dither, image_io, nearest, optimise, palette, quality, thresholds
from tests.conftest import SAMPLES


def photograph(name: str, width: int = 64) -> tuple[np.ndarray, np.ndarray]:
    loaded = image_io.load_image((SAMPLES / name).read_bytes())
    size = image_io.target_size(loaded.width, loaded.height, width, None, max_size=1024)
    return image_io.split_alpha(image_io.resize(loaded.rgba, size))


@pytest.fixture(scope="module")
def colors() -> np.ndarray:
    return palette.select().colors


@pytest.fixture(scope="module")
def matcher(colors) -> nearest.Matcher:
    return nearest.Matcher(colors, distance.get_metric("oklab"))


def blurred(rgb, opaque, matcher, name) -> float:
    indices = dither.dither(rgb, opaque, matcher, dither.get_algorithm(name))
    return quality.score(rgb, matcher.colors_srgb8[np.maximum(indices, 0)], opaque).blurred


def test_a_picture_scores_zero_against_itself():
    rgb = np.random.default_rng(1).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    s = quality.score(rgb, rgb, np.ones((20, 30), dtype=bool))
    assert s.blurred == pytest.approx(0.0, abs=1e-3)
    assert s.per_pixel == pytest.approx(0.0, abs=1e-9)  # rounding differs with the CPU's instructions (FMA)


def test_a_fine_black_and_white_pattern_is_seen_as_the_grey_of_half_the_light():
    grey = round(255 * color.linear_to_srgb(np.array(0.5)).item())  # 188: half the light, not 128
    source = np.full((32, 32, 3), grey, dtype=np.uint8)
    checker = ((np.indices((32, 32)).sum(axis=0) % 2) * 255).astype(np.uint8)
    picture = np.repeat(checker[..., None], 3, axis=2)
    s = quality.score(source, picture, np.ones((32, 32), dtype=bool))
    assert s.blurred < 1.0  # the eye sees the grey
    assert s.per_pixel > 30.0  # every block is far off on its own
    darker = quality.score(np.full_like(source, 128), picture, np.ones((32, 32), dtype=bool))
    assert darker.blurred > 10.0  # sRGB's middle value is much darker than half the light


def test_air_is_left_out_of_the_blur_and_the_mean():
    rgb = np.random.default_rng(2).integers(0, 256, (24, 24, 3), dtype=np.uint8)
    opaque = np.ones((24, 24), dtype=bool)
    opaque[:, 12:] = False
    other = rgb.copy()
    other[:, 12:] = 255 - other[:, 12:]  # what stands where the picture is air does not count
    assert quality.score(rgb, rgb, opaque) == quality.score(rgb, other, opaque)
    assert all(math.isnan(v) for v in vars(quality.score(rgb, rgb, np.zeros((24, 24), dtype=bool))).values())


def test_blur_mirrors_at_the_borders_like_the_reference():
    image = np.random.default_rng(3).random((9, 11, 3)).astype(np.float32)
    kernel = quality.gaussian_kernel()
    r = len(kernel) // 2
    padded = np.pad(image, ((r, r), (r, r), (0, 0)), mode="symmetric")
    expected = sum(
        kernel[i] * kernel[j] * padded[i : i + 9, j : j + 11] for i in range(len(kernel)) for j in range(len(kernel))
    )
    assert quality.blur(image) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("name", ["hubble_deep_field.jpg", "rocket.jpg", "retina.jpg", "color_chart.jpg"])
def test_the_default_is_never_worse_than_no_dithering_on_dark_and_saturated_photographs(name, matcher):
    # Floyd-Steinberg once burst into streaks where no block is dark or saturated enough (the star field).
    rgb, opaque = photograph(name)
    assert blurred(rgb, opaque, matcher, "floyd_steinberg") < blurred(rgb, opaque, matcher, "none")


def test_the_optimising_mode_brings_the_picture_closer_and_is_reproducible(matcher):
    rgb, opaque = photograph("coffee.jpg")
    first = dither.dither(rgb, opaque, matcher, dither.get_algorithm("optimise"))
    again = dither.dither(rgb, opaque, matcher, dither.get_algorithm("optimise"))
    assert np.array_equal(first, again)
    score = quality.score(rgb, matcher.colors_srgb8[first], opaque).blurred
    assert score < 0.85 * blurred(rgb, opaque, matcher, "floyd_steinberg")


def test_the_optimising_mode_leaves_air_alone_and_stops_when_nothing_helps(matcher, colors):
    rgb, opaque = photograph("logo.png")
    opaque[10:30, 20:40] = False  # a hole
    out = dither.dither(rgb, opaque, matcher, dither.get_algorithm("optimise"))
    assert (out[~opaque] == dither.AIR).all()
    further = out.copy()
    optimise.refine(rgb, opaque, further, matcher)  # more passes only take changes that bring it closer
    before, after = (quality.score(rgb, matcher.colors_srgb8[np.maximum(i, 0)], opaque).blurred for i in (out, further))
    assert after <= before + 0.01
    assert (further[~opaque] == dither.AIR).all()
    exact = np.broadcast_to(colors[5], (16, 16, 3)).copy()
    indices = np.full((16, 16), 5, dtype=np.int16)
    assert optimise.refine(exact, np.ones((16, 16), dtype=bool), indices, matcher) == 1  # nothing to gain
    assert (indices == 5).all()


def test_the_optimising_mode_reports_progress_through_its_passes_and_stops_when_told(matcher):
    rgb, opaque = photograph("coffee.jpg", width=640)  # 640x427: several bands of rows a pass
    seen: list[tuple[int, int]] = []
    dither.dither(rgb, opaque, matcher, dither.get_algorithm("optimise"), progress=lambda d, t: seen.append((d, t)))
    h = rgb.shape[0]
    total = h * (1 + optimise.MAX_PASSES)
    done = [d for d, t in seen]
    assert {t for d, t in seen} == {total}
    assert done == sorted(done) and done[-1] == total
    assert sum(h < d < total for d in done) >= 10  # heard of during the search, not only after it

    class Stop(Exception):
        pass

    def stop_in_the_search(d: int, t: int) -> None:
        if d > h:
            raise Stop

    with pytest.raises(Stop):
        dither.dither(rgb, opaque, matcher, dither.get_algorithm("optimise"), progress=stop_in_the_search)


def test_the_blue_noise_map_holds_every_threshold_once_and_has_no_clumps():
    m = thresholds.blue_noise_matrix()
    n = thresholds.BLUE_NOISE_SIZE
    assert m.shape == (n, n)
    assert np.array_equal(np.sort(m.ravel()), (np.arange(n * n) + 0.5) / (n * n))
    # The lowest tenth of the thresholds (where a tenth of the pixels take the second colour) is spread
    # evenly: every 8x8 window (wrapping around) holds 3 to 10 of them, 6.4 on average. A shuffled
    # map of the same values leaves some windows empty and crowds others with 16.
    low = (m < 0.1).astype(int)
    windows = sum(np.roll(low, (dy, dx), axis=(0, 1)) for dy in range(8) for dx in range(8))
    assert windows.min() >= 3 and windows.max() <= 10


def test_a_picture_whose_blocks_all_fall_between_the_sampled_pixels_still_has_a_score():
    # Over a million opaque pixels are sampled; a sample on a grid of every other row and column
    # once missed a picture whose blocks are all on odd rows and columns, and called it air.
    size = 2100
    opaque = np.zeros((size, size), dtype=bool)
    opaque[1::2, 1::2] = True
    rgb = np.full((size, size, 3), 90, dtype=np.uint8)
    picture = np.full((size, size, 3), 100, dtype=np.uint8)
    result = quality.score(rgb, picture, opaque)
    assert np.isfinite(result.blurred) and np.isfinite(result.per_pixel) and result.per_pixel > 0


def test_an_empty_image_dithers_to_an_empty_grid(matcher):
    for shape in ((0, 5), (5, 0), (0, 0)):
        out = dither.dither(
            np.zeros((*shape, 3), np.uint8), np.ones(shape, bool), matcher, dither.get_algorithm("optimise")
        )
        assert out.shape == shape
