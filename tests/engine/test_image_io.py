"""Reading every supported kind of image, and refusing what is not one, before decoding it."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from pixeletica.engine import image_io
from pixeletica.errors import InvalidInput, LimitExceeded, UnsupportedImage
from tests.engine import memory, pngs


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **params)
    return buf.getvalue()


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


# --- the header check never decodes, and refuses what is visibly incomplete --------------------------------------


@pytest.mark.slow
def test_probe_of_a_huge_png_never_decodes_its_pixels(flat_8000_png):
    setup = """
        import sys
        from pixeletica.engine import image_io
        data = open(sys.argv[1], "rb").read()
    """
    work = """
        assert image_io.probe(data) == ("PNG", 8000, 8000)
    """
    # Decoded, the picture would take 8000 * 8000 * 4 bytes = 256 MB in Pillow.
    assert memory.peak_increase(setup, work, str(flat_8000_png)) < 16 * 2**20


def _exif_with_thumbnail(orientation: int, thumbnail: bytes) -> bytes:
    """An EXIF block (little-endian TIFF) with an Orientation and a JPEG thumbnail in IFD1, as cameras write."""
    ifd0 = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack("<I", 26)
    thumb_at = 26 + 2 + 24 + 4
    ifd1 = (
        struct.pack("<H", 2)
        + struct.pack("<HHII", 0x0201, 4, 1, thumb_at)  # JPEGInterchangeFormat
        + struct.pack("<HHII", 0x0202, 4, 1, len(thumbnail))  # JPEGInterchangeFormatLength
        + struct.pack("<I", 0)
    )
    return b"Exif\0\0" + b"II*\0" + struct.pack("<I", 8) + ifd0 + ifd1 + thumbnail


@pytest.fixture(scope="module")
def thumbnail_jpegs(photo) -> dict[str, bytes]:
    """A baseline and a progressive JPEG whose APP1 carries a thumbnail JPEG (with its own FF D9)."""
    thumbnail = encode(photo.resize((40, 27)), "JPEG", quality=70)
    exif = _exif_with_thumbnail(6, thumbnail)
    return {
        "baseline": encode(photo, "JPEG", quality=90, exif=exif),
        "progressive": encode(photo, "JPEG", quality=90, exif=exif, progressive=True),
    }


@pytest.mark.parametrize("kind", ["baseline", "progressive"])
def test_probe_refuses_a_jpeg_cut_inside_its_scans(thumbnail_jpegs, kind):
    data = thumbnail_jpegs[kind]
    assert data.find(b"\xff\xd9") < data.rfind(b"\xff\xda")  # the thumbnail's end comes before the main scan
    assert image_io.probe(data) == ("JPEG", 80, 120)
    first_scan = data.find(b"\xff\xda", data.find(b"\xff\xd9") + 2)
    last_scan = data.rfind(b"\xff\xda")
    cuts = {first_scan + 40, (first_scan + len(data)) // 2, last_scan, len(data) - 2, len(data) - 1}
    for cut in sorted(cuts):
        for call in (image_io.probe, image_io.load_image):
            with pytest.raises(UnsupportedImage, match="truncated or corrupt"):
                call(data[:cut])


def test_probe_refuses_a_jpeg_cut_inside_its_headers(thumbnail_jpegs):
    data = thumbnail_jpegs["baseline"]
    for cut in (30, 200, data.find(b"\xff\xdb") + 10):  # inside APP1 (and its thumbnail), inside a table
        with pytest.raises(UnsupportedImage):
            image_io.probe(data[:cut])


def _chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, start, end) of each chunk of a PNG, end after its CRC."""
    found, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        found.append((data[pos + 4 : pos + 8], pos, pos + 12 + length))
        pos += 12 + length
    return found


def test_probe_refuses_a_png_cut_anywhere_after_its_header(photo):
    text = pngs.chunk(b"tEXt", b"Comment\0made for a test")
    data = pngs.encode(np.asarray(photo), 8, 2, after_idat=[text], idat_size=2000)
    assert image_io.probe(data) == ("PNG", 120, 80)
    chunks = _chunks(data)
    idats = [(start, end) for kind, start, end in chunks if kind == b"IDAT"]
    cuts = {
        idats[0][0] + 6,  # inside the first IDAT's header
        (idats[0][0] + idats[0][1]) // 2,  # inside the first IDAT's data
        idats[-1][1] - 2,  # inside the last IDAT's CRC
        idats[-1][1],  # after all the image data: no IEND
        len(data) - 12,  # just the IEND missing
        len(data) - 1,  # inside IEND
    }
    for cut in sorted(cuts):
        for call in (image_io.probe, image_io.load_image):
            with pytest.raises(UnsupportedImage, match="truncated or corrupt"):
                call(data[:cut])


def test_probe_refuses_a_png_without_image_data(photo):
    data = encode(photo, "PNG")
    no_idat = b"".join(data[start:end] for kind, start, end in _chunks(data) if kind != b"IDAT")
    with pytest.raises(UnsupportedImage, match="no image data"):
        image_io.probe(data[:8] + no_idat)


# --- EXIF orientation: read once, from what opening the file parsed ---------------------------------------------


def _png_with_exif(photo, orientation: int, *, before_idat: bool) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    chunk = pngs.chunk(b"eXIf", exif.tobytes()[6:])  # eXIf holds the TIFF data, without "Exif\0\0"
    where = {"before_idat": [chunk]} if before_idat else {"after_idat": [chunk]}
    return pngs.encode(np.asarray(photo), 8, 2, **where)


def test_png_exif_before_the_image_data_turns_the_picture(photo):
    data = _png_with_exif(photo, 6, before_idat=True)
    assert image_io.probe(data) == ("PNG", 80, 120)
    loaded = image_io.load_image(data)
    assert (loaded.width, loaded.height) == (80, 120)
    assert (loaded.rgba[..., :3] == np.asarray(photo.transpose(Image.Transpose.ROTATE_270))).all()


def test_png_exif_after_the_image_data_is_ignored_by_probe_and_load_alike(photo):
    # The PNG specification puts eXIf before IDAT and browsers ignore a late one; honouring it
    # would mean decoding the whole image just to learn its upright size.
    data = _png_with_exif(photo, 6, before_idat=False)
    assert image_io.probe(data) == ("PNG", 120, 80)
    loaded = image_io.load_image(data)
    assert (loaded.width, loaded.height) == (120, 80)
    assert (loaded.rgba[..., :3] == np.asarray(photo)).all()


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "TIFF", "PNG"])
@pytest.mark.parametrize("orientation", [3, 5, 6, 7, 8])
def test_probe_and_load_agree_on_the_upright_size(photo, fmt, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    if fmt == "TIFF":  # a TIFF's orientation is a tag of the image itself
        data = encode(photo, "TIFF", tiffinfo={0x0112: orientation})
    else:
        data = encode(photo, fmt, exif=exif.tobytes())
    expected = (80, 120) if orientation >= 5 else (120, 80)
    assert image_io.probe(data) == (fmt, *expected)
    loaded = image_io.load_image(data)
    assert (loaded.width, loaded.height) == expected


def _jpeg_with_corrupt_exif(photo) -> bytes:
    broken = struct.pack("<HHII", 0x011A, 5, 1, 9999)  # XResolution, stored past the end of the block
    orientation = struct.pack("<HHIHH", 0x0112, 3, 1, 6, 0)
    exif = b"Exif\0\0II*\0" + struct.pack("<IH", 8, 2) + broken + orientation + b"\0\0\0\0"
    return encode(photo, "JPEG", quality=90, exif=exif)


def test_corrupt_exif_gives_no_warning(photo):
    data = _jpeg_with_corrupt_exif(photo)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert image_io.probe(data) == ("JPEG", 80, 120)  # the intact Orientation tag is still read
        loaded = image_io.load_image(data)
    assert [str(w.message) for w in caught] == []
    assert (loaded.width, loaded.height) == (80, 120)


def test_corrupt_exif_prints_nothing_on_the_command_line(photo, tmp_path):
    path = tmp_path / "corrupt-exif.jpg"
    path.write_bytes(_jpeg_with_corrupt_exif(photo))
    code = (
        "import pathlib, sys; from pixeletica.engine import image_io; data = pathlib.Path(sys.argv[1]).read_bytes(); "
        "print(image_io.probe(data)); print(image_io.load_image(data).rgba.shape)"
    )
    done = subprocess.run([sys.executable, "-W", "error", "-c", code, str(path)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.splitlines() == ["('JPEG', 80, 120)", "(120, 80, 4)"]


def test_unreadable_exif_means_no_orientation(photo):
    for garbage in (b"Exif\0\0", b"Exif\0\0MM\0*\xff\xff\xff\xff", b"Exif\0\0II*\0\x08\0\0\0\xff\xff", b"\x00" * 40):
        data = encode(photo, "JPEG", exif=garbage)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert image_io.probe(data) == ("JPEG", 120, 80)
        assert caught == []


# --- 16-bit samples scale by the file's bit depth, never by a guess from the pixels ---------------------------------


def test_dark_16_bit_gray_png_stays_dark():
    values = np.tile(np.arange(256, dtype=np.uint16), (4, 1))  # 0..255 out of 65535: nearly black
    loaded = image_io.load_image(pngs.encode(values[..., None], 16, 0))
    assert loaded.mode == "I;16"
    assert loaded.rgba[..., :3].max() <= 1
    via_pillow = image_io.load_image(encode(Image.fromarray(values), "PNG"))
    assert via_pillow.rgba[..., :3].max() <= 1


@pytest.mark.parametrize("mode", ["I;16", "I;16B"])
def test_dark_16_bit_gray_tiff_stays_dark(mode):
    values = np.tile(np.arange(0, 256, 4, dtype=np.uint16), (4, 1))
    image = Image.fromarray(values)
    if mode == "I;16B":
        image = Image.frombytes("I;16B", image.size, values.astype(">u2").tobytes())
    loaded = image_io.load_image(encode(image, "TIFF"))
    assert loaded.mode == mode
    assert loaded.rgba[..., :3].max() <= 1
    full = Image.fromarray(np.array([[0, 32768, 65535]], np.uint16))
    assert image_io.load_image(encode(full, "TIFF")).rgba[0, :, 0].tolist() == [0, 128, 255]


@pytest.mark.parametrize(
    ("depth", "color_type"), [(2, 0), (4, 0), (16, 0), (16, 2)], ids=["gray2", "gray4", "gray16", "rgb16"]
)
def test_png_transparency_keys_pillow_misreads(depth, color_type):
    # Pillow compares a tRNS key with samples it has already scaled (2, 4 bits) or cut to 8 bits
    # (16 bits): the key then never matches, or matches the wrong pixels.
    rng = np.random.default_rng(depth + color_type)
    channels = pngs.CHANNELS[color_type]
    samples = rng.integers(0, 1 << depth, (9, 11, channels))
    key = samples[4, 5].copy()
    samples[::2, ::3] = key
    if depth == 16:  # a pixel equal to the key in its high bytes only must stay opaque
        samples[1, 1] = key ^ 1
    data = pngs.encode(samples, depth, color_type, transparency=struct.pack(f">{channels}H", *key))
    loaded = image_io.load_image(data)
    transparent = (samples == key).all(axis=2)
    assert (loaded.rgba[..., 3] == np.where(transparent, 0, 255)).all()


def test_icc_profile_is_applied_and_keeps_a_transparency_key():
    samples = np.zeros((4, 6, 3), np.int64)
    samples[...] = (100, 150, 100)
    samples[0, 0] = (1, 2, 3)
    icc = pngs.chunk(b"iCCP", b"test\0\0" + zlib.compress(pngs.rgb_icc_profile()))
    data = pngs.encode(samples, 8, 2, transparency=struct.pack(">3H", 1, 2, 3), before_idat=[icc])
    loaded = image_io.load_image(data)
    assert tuple(loaded.rgba[2, 2]) == (66, 151, 97, 255)  # Adobe RGB (100, 150, 100) in sRGB
    assert loaded.rgba[0, 0, 3] == 0
