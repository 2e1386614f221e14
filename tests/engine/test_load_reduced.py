"""Reduced decoding for previews: the same picture as a full decode boxed down, without the full decode's memory."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from pixeletica.engine import image_io
from pixeletica.engine.reduced import decode_cost, load_reduced
from pixeletica.errors import InvalidInput, LimitExceeded, UnsupportedImage
from tests.engine import memory, pngs


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **params)
    return buf.getvalue()


def box_reduce(rgba: np.ndarray, factor: int) -> np.ndarray:
    """The reference reduction of an upright image: mean of each f x f box, colour weighted by alpha.

    Boxes that do not fit whole sit on the right and bottom; a fully transparent box is (0, 0, 0, 0).
    """
    height, width = rgba.shape[:2]
    out_h, out_w = -(-height // factor), -(-width // factor)
    padded = np.zeros((out_h * factor, out_w * factor, 4))
    padded[:height, :width] = rgba
    counts = np.zeros((out_h * factor, out_w * factor))
    counts[:height, :width] = 1

    def sums(plane: np.ndarray) -> np.ndarray:
        return plane.reshape(out_h, factor, out_w, factor).sum(axis=(1, 3))

    alpha = padded[..., 3]
    alpha_sum = sums(alpha)
    out = np.zeros((out_h, out_w, 4))
    out[..., 3] = alpha_sum / sums(counts)
    for c in range(3):
        out[..., c] = sums(padded[..., c] * alpha) / np.where(alpha_sum > 0, alpha_sum, 1)
    out[alpha_sum == 0] = 0
    return np.floor(out + 0.5).astype(np.uint8)


def assert_close(actual: np.ndarray, expected: np.ndarray, tolerance: int = 1) -> None:
    assert actual.shape == expected.shape
    worst = int(np.abs(actual.astype(int) - expected.astype(int)).max(initial=0))
    assert worst <= tolerance, f"differs by up to {worst} levels"


# --- PNG: every colour type, bit depth and interlacing ------------------------------------------------------------

PNG_KINDS = [
    ("gray1", 0, 1),
    ("gray2", 0, 2),
    ("gray4", 0, 4),
    ("gray8", 0, 8),
    ("gray16", 0, 16),
    ("rgb8", 2, 8),
    ("rgb16", 2, 16),
    ("palette1", 3, 1),
    ("palette2", 3, 2),
    ("palette4", 3, 4),
    ("palette8", 3, 8),
    ("gray-alpha8", 4, 8),
    ("gray-alpha16", 4, 16),
    ("rgba8", 6, 8),
    ("rgba16", 6, 16),
]


def _random_png(color_type: int, depth: int, size: tuple[int, int], *, interlaced: bool, seed: int) -> bytes:
    """A PNG of random samples (smooth enough to show misplaced boxes), palette and tRNS where they apply."""
    width, height = size
    rng = np.random.default_rng(seed)
    channels = pngs.CHANNELS[color_type]
    top = (1 << depth) - 1
    ramp = (np.add.outer(np.arange(height), np.arange(width)) * top // (width + height)).astype(np.int64)
    samples = np.clip(ramp[..., None] + rng.integers(-top // 8 - 1, top // 8 + 2, (height, width, channels)), 0, top)
    if color_type in (4, 6):  # alpha: opaque, transparent and in between
        samples[..., -1] = rng.choice([0, top, top // 3], (height, width))
    palette = transparency = None
    if color_type == 3:
        palette = rng.integers(0, 256, 3 * min(1 << depth, 200), dtype=np.uint8).tobytes()  # some indices past PLTE
        transparency = rng.integers(0, 256, min(1 << depth, 7), dtype=np.uint8).tobytes()
    return pngs.encode(
        samples, depth, color_type, interlaced=interlaced, palette=palette, transparency=transparency, idat_size=300
    )


@pytest.mark.parametrize("interlaced", [False, True], ids=["straight", "adam7"])
@pytest.mark.parametrize(("name", "color_type", "depth"), PNG_KINDS, ids=[k[0] for k in PNG_KINDS])
def test_png_reduces_like_a_full_decode(name, color_type, depth, interlaced):
    data = _random_png(color_type, depth, (53, 41), interlaced=interlaced, seed=depth * 10 + color_type)
    full = image_io.load_image(data)
    reduced = load_reduced(data, 12, 9)  # f = min(53 // 12, 41 // 9) = 4
    assert (reduced.format, reduced.mode) == (full.format, full.mode)
    assert_close(reduced.rgba, box_reduce(full.rgba, 4))


@pytest.mark.parametrize("interlaced", [False, True], ids=["straight", "adam7"])
@pytest.mark.parametrize(("name", "color_type", "depth"), PNG_KINDS, ids=[k[0] for k in PNG_KINDS])
def test_png_without_room_to_reduce_is_the_full_decode(name, color_type, depth, interlaced):
    data = _random_png(color_type, depth, (23, 17), interlaced=interlaced, seed=depth + color_type)
    reduced = load_reduced(data, 12, 9)  # 23 // 12 = 1: f = 1
    assert (reduced.rgba == image_io.load_image(data).rgba).all()


@pytest.mark.parametrize("interlaced", [False, True], ids=["straight", "adam7"])
@pytest.mark.parametrize(("color_type", "depth"), [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (2, 8), (2, 16)])
def test_png_transparency_keys_follow_the_specification(color_type, depth, interlaced):
    # The expected picture comes from the samples (PNG specification, tRNS), not from a decoder.
    rng = np.random.default_rng(depth)
    channels = pngs.CHANNELS[color_type]
    samples = rng.integers(0, 1 << depth, (30, 34, channels))
    key = samples[3, 4].copy()
    samples[::3, ::2] = key
    data = pngs.encode(
        samples, depth, color_type, interlaced=interlaced, transparency=struct.pack(f">{channels}H", *key)
    )
    expected = np.zeros((30, 34, 4), np.uint8)
    if color_type == 0:
        gray = (samples[..., 0] + 128) // 257 if depth == 16 else samples[..., 0] * (255 // ((1 << depth) - 1))
        expected[..., :3] = gray[..., None]
    else:
        expected[..., :3] = samples >> 8 if depth == 16 else samples
    expected[..., 3] = np.where((samples == key).all(axis=2), 0, 255)
    assert (image_io.load_image(data).rgba == expected).all()
    assert_close(load_reduced(data, 10, 10).rgba, box_reduce(expected, 3))


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (5, 1), (1, 9), (9, 2)])
def test_tiny_interlaced_pngs_with_empty_passes(size):
    for color_type, depth in ((0, 1), (6, 16), (3, 4)):
        data = _random_png(color_type, depth, size, interlaced=True, seed=sum(size))
        full = image_io.load_image(data).rgba
        factor = min(size)
        expected = full if factor == 1 else box_reduce(full, factor)
        assert (load_reduced(data, 1, 1).rgba == expected).all()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_png_orientation_puts_partial_boxes_on_the_upright_right_and_bottom(orientation):
    rng = np.random.default_rng(orientation)
    samples = rng.integers(0, 256, (31, 45, 4))
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = pngs.encode(samples, 8, 6, before_idat=[pngs.chunk(b"eXIf", exif.tobytes()[6:])])
    full = image_io.load_image(data)
    reduced = load_reduced(data, 7, 7)  # f = 4 either way up; 31 and 45 leave partial boxes
    assert (reduced.height, reduced.width) == (-(-full.height // 4), -(-full.width // 4))
    assert_close(reduced.rgba, box_reduce(full.rgba, 4))


def test_png_with_an_icc_profile_is_colour_managed_like_a_full_decode():
    rng = np.random.default_rng(7)
    samples = rng.integers(0, 256, (40, 40, 4))
    icc = pngs.chunk(b"iCCP", b"test\0\0" + zlib.compress(pngs.rgb_icc_profile()))
    data = pngs.encode(samples, 8, 6, before_idat=[icc])
    full = image_io.load_image(data)
    assert not (full.rgba == samples).all()  # the profile did change the colours
    assert_close(load_reduced(data, 10, 10).rgba, box_reduce(full.rgba, 4))


# --- JPEG and the other formats ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smooth_photo(photo_path) -> Image.Image:
    """A photograph blurred to detail of about 30 pixels: smooth at the scale of a JPEG's 8x8 blocks.

    DCT scaling averages each block in the frequency domain and, when f is not a multiple of the
    scale, its pixels are split between boxes by area; both agree with a box filter only where the
    picture does not change much within a block. On sharp photographs the mean error stays at 1-3
    levels but single pixels at strong edges can differ by tens of levels. 512x384 divides by 16:
    boxes that do not fit whole (where the orientation puts them) would split blocks too.
    """
    with Image.open(photo_path) as im:
        return im.convert("RGB").resize((16, 12), Image.Resampling.LANCZOS).resize((512, 384), Image.Resampling.BICUBIC)


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
@pytest.mark.parametrize("orientation", [1, 6, 7])
def test_jpeg_reduces_like_a_full_decode(smooth_photo, progressive, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(smooth_photo, "JPEG", quality=95, progressive=progressive, exif=exif.tobytes())
    full = image_io.load_image(data)
    for factor in (2, 4, 8, 16):  # decoded at 1/2, 1/4, 1/8 and 1/8 then halved
        reduced = load_reduced(data, full.width // factor, full.height // factor)
        assert_close(reduced.rgba, box_reduce(full.rgba, factor), tolerance=2)
    for factor in (3, 5, 6, 12, 25):  # a scale that does not divide f: edge pixels split between boxes
        reduced = load_reduced(data, full.width // factor, full.height // factor)
        diff = np.abs(reduced.rgba.astype(int) - box_reduce(full.rgba, factor).astype(int))
        assert diff.mean() <= 1.0 and diff.max() <= 8


def test_cmyk_jpeg_reduces_like_a_full_decode(smooth_photo):
    data = encode(smooth_photo.convert("CMYK"), "JPEG", quality=95)
    full = image_io.load_image(data)
    reduced = load_reduced(data, 60, 40)  # f = 8: decoded at 1/8
    assert reduced.mode == "CMYK"
    assert_close(reduced.rgba, box_reduce(full.rgba, 8), tolerance=2)


def _rgba_picture() -> Image.Image:
    rng = np.random.default_rng(11)
    pixels = rng.integers(0, 256, (70, 90, 4), dtype=np.uint8)
    pixels[..., 3] = rng.choice(np.array([0, 255, 90], np.uint8), (70, 90))
    return Image.fromarray(pixels, "RGBA")


@pytest.mark.parametrize(
    ("fmt", "params"),
    [("WEBP", {"lossless": True}), ("BMP", {}), ("TIFF", {"tiffinfo": {0x0112: 8}}), ("GIF", {"transparency": 0})],
)
def test_other_formats_reduce_like_a_full_decode(fmt, params):
    picture = _rgba_picture()
    if fmt == "GIF":
        picture = picture.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    data = encode(picture, fmt, **params)
    full = image_io.load_image(data)
    if fmt == "TIFF":
        assert (full.width, full.height) == (70, 90)  # orientation 8 turns it
    for factor in (2, 3, 7):
        reduced = load_reduced(data, full.width // factor, full.height // factor)
        assert reduced.format == fmt
        assert_close(reduced.rgba, box_reduce(full.rgba, factor))
    assert (load_reduced(data, full.width, full.height).rgba == full.rgba).all()


def test_animated_gif_reduces_its_first_frame():
    frames = [Image.new("RGB", (40, 40), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert tuple(load_reduced(data, 10, 10).rgba[2, 2]) == (255, 0, 0, 255)


# --- refusals: the same as load_image's, and never another exception ---------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"hello, this is text and not a picture\n", "not an image Pixeletica can read"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "SVG"),
        (pngs.SIGNATURE + b"\0\0\0\x0dIHDR", "truncated or corrupt"),
    ],
)
def test_non_images_are_refused(data, message):
    with pytest.raises(UnsupportedImage, match=message):
        load_reduced(data, 4, 4)
    with pytest.raises(UnsupportedImage, match=message):
        decode_cost(data, 4, 4)


def test_too_many_pixels_are_refused_before_decoding():
    header = struct.pack(">IIBBBBB", 20_000, 20_000, 8, 2, 0, 0, 0)
    bomb = (
        pngs.SIGNATURE
        + pngs.chunk(b"IHDR", header)
        + pngs.chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + pngs.chunk(b"IEND", b"")
    )
    with pytest.raises(LimitExceeded, match="megapixels") as info:
        load_reduced(bomb, 256, 256, max_pixels=64_000_000)
    assert info.value.setting == "max_input_pixels"


def test_reduced_size_must_be_positive():
    data = encode(Image.new("RGB", (8, 8)), "PNG")
    for size in ((0, 4), (4, -1)):
        with pytest.raises(InvalidInput, match="positive"):
            load_reduced(data, *size)
        with pytest.raises(InvalidInput, match="positive"):
            decode_cost(data, *size)


def _png_with_stream(raw: bytes, width: int = 8, height: int = 4) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return pngs.SIGNATURE + pngs.chunk(b"IHDR", header) + pngs.chunk(b"IDAT", raw) + pngs.chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (zlib.compress(b"\0" * 9 + b"\x07" + b"\0" * 8 + b"\0" * 18), "unknown filter type 7"),
        (zlib.compress(b"\0" * 20), "ends before its last row"),
        (b"this is not zlib data at all", "compressed image data is broken"),
        (zlib.compress(b"\0" * 36)[:-8], "ends before its last row"),
    ],
    ids=["bad-filter", "too-few-rows", "not-zlib", "cut-stream"],
)
def test_broken_png_streams_are_refused(raw, message):
    data = _png_with_stream(raw, width=8, height=4)
    with pytest.raises(UnsupportedImage, match=message):
        load_reduced(data, 2, 2)
    with pytest.raises(UnsupportedImage, match="truncated or corrupt"):
        image_io.load_image(data)


def test_truncated_files_are_refused(photo):
    for data in (encode(photo, "PNG"), encode(photo, "JPEG"), encode(photo, "JPEG", progressive=True)):
        for cut in np.linspace(20, len(data) - 1, 25).astype(int):
            with pytest.raises(UnsupportedImage, match=r"truncated or corrupt|not an image"):
                load_reduced(data[:cut], 20, 20)


@pytest.fixture(scope="module")
def fuzz_inputs(photo) -> dict[str, bytes]:
    return {
        "png": pngs.encode(np.asarray(photo), 8, 2, idat_size=1000),
        "adam7": pngs.encode(np.asarray(photo.convert("RGBA")), 8, 6, interlaced=True, idat_size=1000),
        "jpeg": encode(photo, "JPEG", quality=85),
        "gif": encode(photo.convert("P"), "GIF"),
    }


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(["png", "adam7", "jpeg", "gif"]),
    where=st.floats(0.0, 1.0, exclude_max=True),
    flips=st.lists(st.integers(1, 255), min_size=1, max_size=4),
)
def test_corrupt_files_are_read_or_refused_never_crash(fuzz_inputs, kind, where, flips):
    data = bytearray(fuzz_inputs[kind])
    at = 8 + int(where * (len(data) - 8 - len(flips)))
    for i, flip in enumerate(flips):
        data[at + i] ^= flip
    try:
        loaded = load_reduced(bytes(data), 20, 20)
    except (UnsupportedImage, LimitExceeded):  # a damaged header may claim a huge size: refused as too large
        return
    assert loaded.rgba.dtype == np.uint8 and loaded.rgba.shape[2] == 4


# --- memory: never the full decoded image ------------------------------------------------------------------------


#: Read the file named by the first argument and load (or compile) the kernels before measuring.
WARM_SETUP = """
    import pathlib
    import sys

    import numpy as np

    from pixeletica.engine import image_io
    from pixeletica.engine.reduced import load_reduced, decode_cost

    data = pathlib.Path(sys.argv[1]).read_bytes()
    load_reduced(image_io.encode_png(np.zeros((4, 4, 4), np.uint8)), 2, 2)
"""


@pytest.mark.slow
def test_huge_png_reduces_within_a_few_megabytes(flat_8000_png):
    setup = WARM_SETUP
    work = """
        loaded = load_reduced(data, 256, 256)
        assert (loaded.width, loaded.height) == (259, 259)  # f = 31
    """
    # The full picture would be 256 MB as RGBA (and about 1 GB of peak memory through Pillow).
    assert memory.peak_increase(setup, work, str(flat_8000_png)) < 16 * 2**20


@pytest.mark.slow
def test_huge_png_reduced_shows_the_picture(flat_8000_png):
    loaded = load_reduced(flat_8000_png.read_bytes(), 256, 256)
    assert tuple(loaded.rgba[10, 200]) == (90, 160, 230, 255)  # sky
    assert tuple(loaded.rgba[130, 200]) == (20, 30, 40, 255)  # the dark band across the middle
    assert tuple(loaded.rgba[10, 10]) == (200, 30, 30, 255)  # the red stripe down the left


def test_decode_cost_is_small_for_png_and_jpeg_and_full_size_for_the_rest(flat_8000_png):
    assert decode_cost(flat_8000_png.read_bytes(), 256, 256) < 16 * 2**20  # decoded: 256 MB
    picture = Image.new("RGB", (4000, 3000), (40, 90, 200))
    jpeg = encode(picture, "JPEG")
    assert decode_cost(jpeg, 250, 250) < 16 * 2**20
    assert decode_cost(encode(picture, "JPEG", progressive=True), 250, 250) >= 4000 * 3000 * 3
    assert decode_cost(encode(picture, "BMP"), 250, 250) >= 4000 * 3000 * 4
    assert decode_cost(jpeg, 3000, 3000) >= 4000 * 3000 * 4  # no room to reduce: a full decode


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fmt", "params", "size"),
    [
        ("PNG", {}, (250, 250)),
        ("PNG", {}, (1500, 1000)),
        ("JPEG", {"quality": 90}, (250, 250)),
        ("JPEG", {"quality": 90, "progressive": True}, (250, 250)),
        ("BMP", {}, (250, 250)),
        ("WEBP", {"quality": 80}, (250, 250)),
        ("JPEG", {"quality": 90}, (2000, 2000)),
    ],
    ids=["png", "png-f2", "jpeg", "jpeg-progressive", "bmp", "webp", "jpeg-full"],
)
def test_decode_cost_covers_the_measured_peak(tmp_path, fmt, params, size):
    y, x = np.mgrid[0:1500, 0:2000]
    pixels = np.dstack([x % 256, y % 256, (x + y) // 16 % 256]).astype(np.uint8)
    path = tmp_path / f"picture.{fmt.lower()}"
    path.write_bytes(encode(Image.fromarray(pixels), fmt, **params))
    work = """
        load_reduced(data, int(sys.argv[2]), int(sys.argv[3]))
    """
    peak = memory.peak_increase(WARM_SETUP, work, str(path), *map(str, size))
    cost = decode_cost(path.read_bytes(), *size)
    assert peak <= cost, f"measured {peak / 2**20:.1f} MB, estimated {cost / 2**20:.1f} MB"
