"""Reading every supported kind of image, and refusing what is not one, before decoding it."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from pixeletica.engine import image_io
from pixeletica.errors import InvalidInput, LimitExceeded, UnsupportedImage


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **params)
    return buf.getvalue()


@pytest.fixture(scope="module")
def photo(photo_path) -> Image.Image:
    with Image.open(photo_path) as im:
        return im.convert("RGB").resize((120, 80), Image.Resampling.LANCZOS)


@pytest.mark.parametrize(
    ("fmt", "params", "tolerance"),
    [
        ("PNG", {}, 0),
        ("JPEG", {"quality": 95}, 12),
        ("WEBP", {"lossless": True}, 0),
        ("BMP", {}, 0),
        ("TIFF", {}, 0),
        ("GIF", {}, 60),
    ],
)
def test_formats_decode_to_the_same_picture(photo, fmt, params, tolerance):
    loaded = image_io.load_image(encode(photo, fmt, **params))
    assert (loaded.width, loaded.height) == (120, 80)
    assert loaded.format == fmt
    diff = np.abs(loaded.rgba[..., :3].astype(int) - np.asarray(photo).astype(int))
    assert np.median(diff) <= tolerance
    assert (loaded.rgba[..., 3] == 255).all()


def test_jpeg_exif_orientation_is_applied(photo):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    data = encode(photo, "JPEG", exif=exif.tobytes())
    loaded = image_io.load_image(data)
    assert (loaded.width, loaded.height) == (80, 120)
    assert image_io.probe(data) == ("JPEG", 80, 120)  # the header check sees the upright size too
    upright = np.asarray(photo.transpose(Image.Transpose.ROTATE_270)).astype(int)
    assert np.median(np.abs(loaded.rgba[..., :3].astype(int) - upright)) < 12


def test_grayscale_palette_and_cmyk_inputs(photo):
    gray = image_io.load_image(encode(photo.convert("L"), "PNG"))
    assert (gray.rgba[..., 0] == gray.rgba[..., 1]).all() and gray.mode == "L"

    pal = photo.convert("P", palette=Image.Palette.ADAPTIVE, colors=32)
    pal.info["transparency"] = 0
    loaded = image_io.load_image(encode(pal, "PNG", transparency=0))
    assert loaded.mode == "P"
    assert (loaded.rgba[..., 3] == 0).any() and (loaded.rgba[..., 3] == 255).any()

    cmyk = image_io.load_image(encode(photo.convert("CMYK"), "JPEG", quality=95))
    assert cmyk.mode == "CMYK"
    assert np.median(np.abs(cmyk.rgba[..., :3].astype(int) - np.asarray(photo).astype(int))) < 16


def test_16_bit_grayscale_is_scaled_not_clipped():
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (8, 1))
    loaded = image_io.load_image(encode(Image.fromarray(ramp), "PNG"))
    assert loaded.rgba[0, 0, 0] == 0
    assert loaded.rgba[0, -1, 0] == 255
    assert 120 <= loaded.rgba[0, 32, 0] <= 135  # mid-grey, not white


def test_animated_gif_gives_its_first_frame():
    red = Image.new("RGB", (10, 10), (255, 0, 0))
    blue = Image.new("RGB", (10, 10), (0, 0, 255))
    data = encode(red, "GIF", save_all=True, append_images=[blue], duration=100)
    loaded = image_io.load_image(data)
    assert tuple(loaded.rgba[5, 5, :3]) == (255, 0, 0)


def test_alpha_threshold_makes_air():
    rgba = np.zeros((2, 3, 4), dtype=np.uint8)
    rgba[..., 3] = [[0, 127, 128], [200, 255, 50]]
    _, opaque = image_io.split_alpha(rgba, 128)
    assert opaque.tolist() == [[False, False, True], [True, True, False]]
    with pytest.raises(InvalidInput, match="between 0 and 255"):
        image_io.split_alpha(rgba, 300)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"hello, this is text and not a picture\n", "not an image Pixeletica can read"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "SVG"),
        (b"%PDF-1.7\n...", "PDF"),
    ],
)
def test_non_images_are_refused_with_a_clear_reason(data, message):
    with pytest.raises(UnsupportedImage, match=message):
        image_io.load_image(data)


def test_truncated_image_is_refused(photo):
    data = encode(photo, "PNG")
    with pytest.raises(UnsupportedImage, match="truncated or corrupt"):
        image_io.load_image(data[: len(data) // 2])


def test_unsupported_format_is_refused(photo):
    with pytest.raises(UnsupportedImage, match="ICO images are not supported"):
        image_io.load_image(encode(photo.resize((32, 32)), "ICO"))


def _png_claiming(width: int, height: int) -> bytes:
    """A valid PNG header announcing a huge image, followed by a tiny data stream: a bomb."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("size", [(20_000, 20_000), (100_000, 100_000)])
def test_decompression_bombs_are_refused_before_decoding(size):
    with pytest.raises(LimitExceeded, match="megapixels") as info:
        image_io.load_image(_png_claiming(*size), max_pixels=64_000_000)
    assert info.value.setting == "max_input_pixels"


@pytest.mark.parametrize(
    ("src", "width", "height", "expected"),
    [
        ((400, 200), 100, None, (100, 50)),
        ((400, 200), None, 100, (200, 100)),
        ((400, 200), 30, 40, (30, 40)),
        ((400, 200), None, None, (400, 200)),
        ((1000, 3), 10, None, (10, 1)),
    ],
)
def test_target_size_keeps_the_aspect_ratio(src, width, height, expected):
    assert image_io.target_size(*src, width, height) == expected


@pytest.mark.parametrize(("width", "height"), [(0, None), (-5, None), (None, 0)])
def test_non_positive_sizes_are_refused(width, height):
    with pytest.raises(InvalidInput, match="positive"):
        image_io.target_size(100, 100, width, height)


def test_oversized_grid_is_refused():
    with pytest.raises(LimitExceeded, match="limited to 4096 blocks"):
        image_io.target_size(100, 100, 5000, None)


def test_lanczos_resizes_in_linear_light():
    # A fine black/white checkerboard averages to the grey of half the light (sRGB 188),
    # not to the sRGB midpoint 128 that gamma-blind resizing gives.
    board = np.indices((64, 64)).sum(axis=0) % 2 * 255
    rgba = np.dstack([board, board, board, np.full_like(board, 255)]).astype(np.uint8)
    small = image_io.resize(rgba, (8, 8), "lanczos")
    assert abs(int(small[4, 4, 0]) - 188) <= 2
    assert (small[..., 3] == 255).all()


def test_transparent_pixels_do_not_bleed_colour_when_resizing():
    rgba = np.zeros((32, 32, 4), dtype=np.uint8)
    rgba[:, :16] = (0, 0, 255, 255)  # opaque blue left half
    rgba[:, 16:] = (255, 0, 0, 0)  # fully transparent "red" right half
    small = image_io.resize(rgba, (8, 8), "lanczos")
    edge = small[4, 3]
    assert edge[0] < 10 and edge[2] > 240  # no red fringe at the edge


def test_nearest_resampling_copies_pixels():
    rgba = np.random.default_rng(0).integers(0, 256, (4, 4, 4), dtype=np.uint8)
    big = image_io.resize(rgba, (8, 8), "nearest")
    assert (big[::2, ::2] == rgba).all()
    with pytest.raises(InvalidInput, match="lanczos, nearest"):
        image_io.resize(rgba, (8, 8), "bicubic")


def test_png_encoding_round_trips():
    rgba = np.random.default_rng(1).integers(0, 256, (5, 7, 4), dtype=np.uint8)
    assert (np.asarray(Image.open(io.BytesIO(image_io.encode_png(rgba)))) == rgba).all()
