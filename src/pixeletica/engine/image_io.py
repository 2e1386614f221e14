"""Reading images into RGBA arrays, sizing them to the block grid, and writing PNGs.

Reading is defensive: the header is checked (format, pixel count, and for PNG and JPEG that the
file is complete) before any pixel is decoded, so a decompression bomb or a cut-off upload is
refused without being expanded; EXIF orientation is applied; an embedded ICC profile is converted
to sRGB; 16-bit, grayscale, palette and CMYK inputs all end as 8-bit sRGB + alpha.

A preview decodes at a reduced size (:func:`load_reduced`): PNG is streamed row by row into the
reduced image (:mod:`pixeletica.engine.png_stream`), JPEG is scaled while it is decoded; the other
formats are decoded whole, and :func:`decode_cost` says so before anything is decoded.
"""

from __future__ import annotations

import contextlib
import functools
import io
import struct
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from pixeletica.engine import color, png_stream
from pixeletica.errors import InvalidInput, LimitExceeded, UnsupportedImage

#: Pillow format names we accept (MPO is the multi-picture JPEG many phones write).
SUPPORTED_FORMATS = ("PNG", "JPEG", "MPO", "GIF", "WEBP", "BMP", "TIFF")
RESAMPLING = ("lanczos", "nearest")
DEFAULT_MAX_INPUT_PIXELS = 64_000_000
DEFAULT_MAX_SIZE = 4096
DEFAULT_ALPHA_THRESHOLD = 128

_EXIF_ORIENTATION = 0x0112
#: For each EXIF orientation, whether the stored x and y axes run backwards in the upright picture.
_FLIPS = {2: (True, False), 3: (True, True), 4: (False, True), 6: (False, True), 7: (True, True), 8: (True, False)}
#: Memory a decode holds whatever the image: interpreter objects, zlib and Pillow state, a few buffers.
_BASE_COST = 6 << 20


@dataclass(frozen=True)
class LoadedImage:
    """A decoded image: (H, W, 4) uint8 sRGB + alpha, and where it came from."""

    rgba: np.ndarray
    format: str
    mode: str  # the file's own pixel mode, e.g. "CMYK", "I;16", "P"

    @property
    def width(self) -> int:
        return int(self.rgba.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgba.shape[0])


def _sniff_unsupported(data: bytes) -> str | None:
    head = data[:1024].lstrip()
    lowered = head.lower()
    if lowered.startswith(b"<?xml") or lowered.startswith(b"<svg") or b"<svg" in lowered:
        return "an SVG (vector) drawing; export it to PNG first"
    if head.startswith(b"%PDF"):
        return "a PDF document; export the page as a PNG first"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        return "a HEIC/AVIF image; save it as JPEG or PNG first"
    return None


def probe(data: bytes, *, max_pixels: int = DEFAULT_MAX_INPUT_PIXELS) -> tuple[str, int, int]:
    """(format, width, height) from the header alone; the same refusals as :func:`load_image`.

    No pixel is decoded. The size is the upright one: an EXIF orientation that turns the picture
    swaps width and height (see :func:`_orientation` for where the orientation is read from).
    """
    with _opened(data, max_pixels) as (im, _):
        width, height = _upright_size(im.size, _orientation(im))
        return str(im.format), width, height


def load_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_INPUT_PIXELS) -> LoadedImage:
    """Decode image bytes, refusing what is not a supported image or is too large.

    Raises :class:`UnsupportedImage` (empty, corrupt, truncated, unknown or vector format) or
    :class:`LimitExceeded` (more than ``max_pixels`` pixels), before decoding the pixels.
    """
    with _opened(data, max_pixels) as (im, png):
        orientation = _orientation(im)
        with _decoding():
            stored = _decode_full(data, im, png)
        return LoadedImage(
            rgba=np.ascontiguousarray(_upright(stored, orientation)), format=str(im.format), mode=im.mode
        )


def load_reduced(
    data: bytes, min_width: int, min_height: int, *, max_pixels: int = DEFAULT_MAX_INPUT_PIXELS
) -> LoadedImage:
    """Decode image bytes reduced by the largest integer factor f that keeps at least ``min_width`` x ``min_height``.

    For previews: the full image is never decoded for PNG (streamed row by row, interlaced or not)
    or JPEG (scaled by 1/8, 1/4 or 1/2 while decoding, the largest not above f, then reduced by the
    rest of f); other formats are decoded whole first (:func:`decode_cost` tells the caller).
    f counts in upright pixels; f = 1 when no reduction fits, and then the result is exactly
    :func:`load_image`'s. Each output pixel is the mean of its f x f upright source pixels (colour
    weighted by alpha); the image is ceil(W/f) x ceil(H/f), the last column and row averaging what
    is left. For JPEG the decoder's scaled pixels stand for those means: where f is not a multiple
    of the scale, a scaled pixel on a box edge is shared between the boxes by area, which is close
    on smooth pictures and off by more at sharp edges. Orientation, ICC profile, alpha, palette,
    gray and 16-bit samples are handled as by :func:`load_image`, and so are the refusals.
    """
    _check_reduced_size(min_width, min_height)
    with _opened(data, max_pixels) as (im, png):
        orientation = _orientation(im)
        factor = _factor(im.size, orientation, min_width, min_height)
        with _decoding():
            if factor == 1:
                stored = _decode_full(data, im, png)
            elif png is not None:
                flip_x, flip_y = _FLIPS.get(orientation, (False, False))
                sink = png_stream.BoxReducer(
                    png.width, png.height, factor, flip_x=flip_x, flip_y=flip_y, in_order=not png.interlaced
                )
                png_stream.decode(data, png, sink, _Colour.of(im).row_transform)
                stored = sink.result()
            else:
                stored = _reduce_with_pillow(im, factor, orientation)
        return LoadedImage(
            rgba=np.ascontiguousarray(_upright(stored, orientation)), format=str(im.format), mode=im.mode
        )


def decode_cost(data: bytes, min_width: int, min_height: int) -> int:
    """Estimate, from the header alone, of the peak bytes :func:`load_reduced` allocates for ``data``.

    Small for PNG and baseline JPEG (the reduced image, a few rows, the decoder's state); a
    progressive JPEG adds its coefficients (about 2 bytes per pixel per full-size component, which
    libjpeg keeps even when scaling); other formats, and any image that cannot be reduced (f = 1),
    cost their full decoded size. ``data`` itself is not counted. Raises what :func:`probe` raises
    for a file that is not a readable image (the pixel limit is left to :func:`load_reduced`).
    """
    _check_reduced_size(min_width, min_height)
    with _opened(data, None) as (im, png):
        need = _decode_bytes(data, im, png, min_width, min_height)
    return _BASE_COST + need + need // 8  # an eighth more for the allocator's slack and fragmentation


def _decode_bytes(
    data: bytes, im: Image.Image, png: png_stream.PngLayout | None, min_width: int, min_height: int
) -> int:
    """The buffers :func:`load_reduced` allocates for this file, as measured on Pillow 13 and numpy 1.26."""
    width, height = im.size
    orientation = _orientation(im)
    factor = _factor(im.size, orientation, min_width, min_height)
    result = 4 * _ceil_div(width, factor) * _ceil_div(height, factor) * (1 if orientation == 1 else 2)
    extra = _jpeg_coefficient_bytes(im)
    if im.format == "WEBP":  # libwebp decodes into canvases of its own, then Pillow copies the frame out
        extra += len(data) + 12 * width * height
    if factor == 1:
        # Pillow's image, its RGBA conversion, the array made from that, the upright copy.
        return extra + width * height * (_pillow_bytes_per_pixel(im.mode) + 12)
    if png is not None:
        rows = png_stream.BATCH_BYTES + 4 * width + 2 * (8 * width + 1)  # the batch and two scanlines
        sums = png_stream.BoxReducer.working_bytes(width, height, factor, in_order=not png.interlaced)
        return result + sums + rows
    scale = _jpeg_scale(im, factor, dry_run=True) if im.format in ("JPEG", "MPO") else 1
    decoded = _ceil_div(width, scale) * _ceil_div(height, scale) * _pillow_bytes_per_pixel(im.mode)
    strips = 3 * (png_stream.BATCH_BYTES + 4 * width)  # a strip cropped, converted and colour-managed
    sums = png_stream.BoxReducer.working_bytes(width, height, factor, scale=scale)
    return extra + decoded + strips + sums + result


def _decode_full(data: bytes, im: Image.Image, png: png_stream.PngLayout | None) -> np.ndarray:
    """The stored (not yet upright) pixels of the first frame as (H, W, 4) uint8 sRGB + alpha."""
    if png is not None and png.misread_by_pillow:
        sink = png_stream.BoxReducer(png.width, png.height, 1)
        png_stream.decode(data, png, sink, _Colour.of(im).row_transform)
        return sink.result()
    im.seek(0)  # animated GIF/WebP, multi-page TIFF: the first frame
    im.load()
    return _Colour.of(im).rgba(im)


def _reduce_with_pillow(im: Image.Image, factor: int, orientation: int) -> np.ndarray:
    """The stored pixels reduced by ``factor``: a JPEG decoded at 1/2, 1/4 or 1/8 first, anything else whole.

    Pillow's image is then converted to RGBA and summed into the boxes a strip of rows at a time,
    so no full-size RGBA copy is ever made.
    """
    width, height = im.size  # before a JPEG draft shrinks it
    if im.format in ("JPEG", "MPO"):
        scale = _jpeg_scale(im, factor)  # an MPO is on its first frame already: seeking would undo the draft
    else:
        scale = 1
        im.seek(0)  # animated GIF/WebP, multi-page TIFF: the first frame
    im.load()
    flip_x, flip_y = _FLIPS.get(orientation, (False, False))
    sink = png_stream.BoxReducer(width, height, factor, scale=scale, flip_x=flip_x, flip_y=flip_y)
    colour = _Colour.of(im)
    decoded_width, decoded_height = im.size
    step = max(1, png_stream.BATCH_BYTES // (4 * decoded_width))
    for top in range(0, decoded_height, step):
        rows = colour.rgba(im.crop((0, top, decoded_width, min(decoded_height, top + step))))
        sink.add_strip(np.require(rows, requirements=["C", "W"]), top)
    return sink.result()


def _check_reduced_size(min_width: int, min_height: int) -> None:
    for name, value in (("min_width", min_width), ("min_height", min_height)):
        if value < 1:
            raise InvalidInput(f"{name} must be a positive number of pixels, got {value}")


def _factor(size: tuple[int, int], orientation: int, min_width: int, min_height: int) -> int:
    width, height = _upright_size(size, orientation)
    return max(1, min(width // min_width, height // min_height))


def _jpeg_scale(im: Image.Image, factor: int, *, dry_run: bool = False) -> int:
    """Ask libjpeg to decode at 1/8, 1/4 or 1/2 (the largest not above ``factor``); the scale it will use."""
    scale = next(s for s in (8, 4, 2, 1) if s <= factor)
    if dry_run or scale == 1:
        return scale
    width, height = im.size
    # Pillow picks the largest of 8, 4, 2, 1 not above min(W // w, H // h): asking for (W // s, H // s) gives s.
    drafted = im.draft(im.mode, (width // scale, height // scale))
    return round(width / drafted[1][2]) if drafted else 1


def _jpeg_coefficient_bytes(im: Image.Image) -> int:
    """What libjpeg buffers for a progressive JPEG: 2 bytes per DCT coefficient of every component."""
    if im.format not in ("JPEG", "MPO") or not im.info.get("progressive"):
        return 0
    layers = getattr(im, "layer", None) or [("", 1, 1, 0)] * len(im.getbands())
    h_max = max(layer[1] for layer in layers)
    v_max = max(layer[2] for layer in layers)
    width, height = im.size
    total = 0
    for _, h, v, _ in layers:
        blocks = _ceil_div(_ceil_div(width * h, h_max), 8) * _ceil_div(_ceil_div(height * v, v_max), 8)
        total += blocks * 64 * 2
    return total


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _pillow_bytes_per_pixel(mode: str) -> int:
    return 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4


@contextlib.contextmanager
def _opened(data: bytes, max_pixels: int | None) -> Iterator[tuple[Image.Image, png_stream.PngLayout | None]]:
    """Open image bytes lazily (header only), refusing what is not a supported image, too large or incomplete.

    Yields the Pillow image and, for a PNG, its chunk layout.
    """
    if not data:
        raise UnsupportedImage("the file is empty")
    vector = _sniff_unsupported(data)
    if vector:
        raise UnsupportedImage(f"the file is {vector}; supported formats: {', '.join(SUPPORTED_FORMATS)}")
    limit = f"the limit is {max_pixels / 1e6:g} megapixels" if max_pixels else "it is too large to decode"
    with _quiet():
        try:
            im = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise LimitExceeded(f"the image has too many pixels; {limit}", setting="max_input_pixels") from None
        except UnidentifiedImageError:
            looks_like = _signature(data)
            if looks_like:
                reason = f"a {looks_like} file whose header cannot be read"
                raise UnsupportedImage(f"the image data is truncated or corrupt ({reason})") from None
            raise UnsupportedImage(
                f"the file is not an image Pixeletica can read; supported formats: {', '.join(SUPPORTED_FORMATS)}"
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise UnsupportedImage(f"the image data is truncated or corrupt ({exc})") from None
    try:
        if im.format not in SUPPORTED_FORMATS:
            raise UnsupportedImage(
                f"{im.format} images are not supported; supported formats: {', '.join(SUPPORTED_FORMATS)}"
            )
        width, height = im.size
        if width <= 0 or height <= 0:
            raise UnsupportedImage(f"the image has no pixels ({width}x{height})")
        if max_pixels is not None and width * height > max_pixels:
            raise LimitExceeded(
                f"the image is {width}x{height} pixels ({width * height / 1e6:.1f} megapixels); {limit}",
                setting="max_input_pixels",
            )
        yield im, _check_complete(data, str(im.format))
    finally:
        im.close()


def _signature(data: bytes) -> str | None:
    """The supported format whose magic bytes ``data`` starts with (unambiguous signatures only)."""
    if data.startswith(png_stream.SIGNATURE):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if data[:4] in (b"II*\0", b"MM\0*"):
        return "TIFF"
    return None


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keep Pillow's warnings (corrupt EXIF, bomb warnings) off stderr: a bad file is refused or read, never noisy."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def _decoding() -> Iterator[None]:
    """Turn any decoder failure (Pillow's or png_stream's) into :class:`UnsupportedImage`."""
    with _quiet():
        try:
            yield
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise UnsupportedImage(f"the image data is truncated or corrupt ({exc})") from None


def _check_complete(data: bytes, fmt: str) -> png_stream.PngLayout | None:
    """Refuse a PNG or JPEG whose structure is visibly cut short, from its framing only; a PNG's layout."""
    reason = None
    layout = None
    if fmt == "PNG":
        try:
            layout = png_stream.scan(data)
        except png_stream.CorruptPng as exc:
            reason = str(exc)
    elif fmt in ("JPEG", "MPO"):
        reason = _jpeg_incomplete(data)
    if reason:
        raise UnsupportedImage(f"the image data is truncated or corrupt ({reason})")
    return layout


def _jpeg_incomplete(data: bytes) -> str | None:
    """Why a JPEG is cut short, or None: every segment before the first scan whole, and an EOI after it.

    Segments are skipped by their lengths, so an EXIF thumbnail (a whole JPEG inside APP1, with its
    own end marker) is never mistaken for the end. Entropy-coded data cannot contain FF D9 (a 0xFF
    byte there is followed by 00 or a restart marker), and between the scans of a progressive file
    there are only table and scan headers: the first FF D9 after the first scan header is the end.
    """
    size = len(data)
    pos = 2  # after SOI, which Pillow checked
    while True:
        pos = data.find(b"\xff", pos)  # stray bytes between segments are skipped, as libjpeg does
        while 0 <= pos < size and data[pos] == 0xFF:
            pos += 1  # fill bytes
        if pos < 0 or pos >= size:
            return "the JPEG ends before its image data"
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            return "the JPEG ends before its image data"
        if marker in (0x00, 0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            continue  # markers without a length
        if pos + 2 > size:
            return "the JPEG ends inside a segment header"
        length = (data[pos] << 8) | data[pos + 1]
        if length < 2 or pos + length > size:
            return f"the JPEG ends inside its segment FF{marker:02X}"
        pos += length
        if marker == 0xDA:
            if data.find(b"\xff\xd9", pos) < 0:
                return "the JPEG has no end-of-image marker: the file is cut short"
            return None


def _orientation(im: Image.Image) -> int:
    """EXIF orientation (1..8) from what opening the file parsed, never from decoding; 1 if absent or unreadable.

    Read from the JPEG/MPO APP1 segment, a WebP EXIF chunk, a PNG eXIf chunk that comes before the
    image data, or a TIFF's own Orientation tag (which Pillow 13 applies itself: then 1). A PNG
    eXIf after IDAT is ignored, by :func:`probe`, :func:`load_image` and :func:`load_reduced`
    alike: the PNG specification puts eXIf before IDAT, browsers ignore a late one
    (web-platform-tests css/css-images/image-orientation/image-orientation-exif-png-2.html), and
    honouring it would mean decoding the whole image to learn the upright size. Orientation in XMP
    or in ImageMagick's "Raw profile type exif" text is not read (browsers ignore them too).
    """
    tags = getattr(im, "tag_v2", None)
    if tags is not None:
        if _pillow_turns_tiffs():
            return 1  # the size Pillow reports and the pixels it decodes are upright already
        value = tags.get(_EXIF_ORIENTATION)
        return value if isinstance(value, int) and 1 <= value <= 8 else 1
    return _exif_orientation(im.info.get("exif"))


@functools.cache
def _pillow_turns_tiffs() -> bool:
    """Whether this Pillow applies a TIFF's Orientation tag itself (Pillow 13 does, at open and load)."""
    buffer = io.BytesIO()
    Image.new("L", (2, 1)).save(buffer, format="TIFF", tiffinfo={_EXIF_ORIENTATION: 6})
    with Image.open(buffer) as im:
        return im.size == (1, 2)


def _exif_orientation(exif: object) -> int:
    """The Orientation tag of an EXIF block's first IFD, parsed by hand: no warnings, no exceptions, no tag soup."""
    if not isinstance(exif, bytes):
        return 1
    if exif.startswith(b"Exif\x00\x00"):
        exif = exif[6:]
    order = {b"II": "<", b"MM": ">"}.get(exif[:2])
    if order is None or len(exif) < 8:
        return 1
    magic, ifd = struct.unpack_from(order + "HI", exif, 2)
    if magic != 42 or ifd + 2 > len(exif):
        return 1
    (count,) = struct.unpack_from(order + "H", exif, ifd)
    for entry in range(ifd + 2, min(ifd + 2 + 12 * count, len(exif) - 11), 12):
        tag, kind = struct.unpack_from(order + "HH", exif, entry)
        if tag == _EXIF_ORIENTATION:
            if kind == 3:  # SHORT
                (value,) = struct.unpack_from(order + "H", exif, entry + 8)
            elif kind == 4:  # LONG
                (value,) = struct.unpack_from(order + "I", exif, entry + 8)
            else:
                return 1
            return value if 1 <= value <= 8 else 1
    return 1


def _upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    width, height = size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _upright(stored: np.ndarray, orientation: int) -> np.ndarray:
    """A view of (H, W, ...) stored pixels turned upright as EXIF orientation says (Pillow's transposes).

    Which stored axes come out reversed is what ``_FLIPS`` records for the box reduction.
    """
    if orientation == 2:
        return stored[:, ::-1]
    if orientation == 3:
        return stored[::-1, ::-1]
    if orientation == 4:
        return stored[::-1]
    if orientation == 5:
        return stored.swapaxes(0, 1)
    if orientation == 6:
        return np.rot90(stored, -1)
    if orientation == 7:
        return np.rot90(stored, -1)[::-1]
    if orientation == 8:
        return np.rot90(stored, 1)
    return stored


@dataclass(frozen=True)
class _Colour:
    """How one file's samples become 8-bit sRGB + alpha: its ICC transform and its gray range."""

    transform: ImageCms.ImageCmsTransform | None  # the embedded profile to sRGB (RGB, RGBA, CMYK files)
    white: float  # the sample value of white in Pillow's gray modes "I", "I;16"... and "F"
    inverted: bool  # a TIFF whose gray samples say how black a pixel is (WhiteIsZero)

    @classmethod
    def of(cls, im: Image.Image) -> _Colour:
        """Read from the file's header: the ICC profile, and for gray TIFFs their bits per sample.

        Pillow opens 16-bit gray PNG and TIFF as "I;16" (or "I;16B"), full range 0..65535, but
        12-bit TIFFs as "I;16" too, and signed 16-bit and 32-bit TIFFs as "I": their white is
        2^bits - 1 (2^(bits-1) - 1 when signed, negative values are black), never a guess from the
        pixels. Floating-point TIFFs ("F") have no bit depth: white is 1.0 when no sample of the
        whole (decoded) image exceeds 1, else 255.
        """
        transform = None
        icc = im.info.get("icc_profile")
        if icc and im.mode in ("RGB", "RGBA", "CMYK"):
            try:
                source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
                modes = ("CMYK", "RGB") if im.mode == "CMYK" else ("RGBA", "RGBA")
                # A fresh sRGB profile each time: LittleCMS profiles are not safe to share between threads.
                transform = ImageCms.buildTransform(source, ImageCms.createProfile("sRGB"), *modes)
            except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
                transform = None  # a broken profile: treat the values as sRGB
        bits, signed, inverted = (16 if im.mode.startswith("I;16") else 32), im.mode == "I", False
        tags = getattr(im, "tag_v2", None)
        if tags is not None:
            bits = _first(tags.get(258), bits)  # BitsPerSample
            signed = _first(tags.get(339), 1) == 2  # SampleFormat: 2 = signed integer
            inverted = _first(tags.get(262), 1) == 0  # PhotometricInterpretation: 0 = WhiteIsZero
        white = float((1 << (bits - 1)) - 1 if signed else (1 << bits) - 1)
        if im.mode == "F":
            white = 1.0 if (im.getextrema()[1] or 0.0) <= 1.0 else 255.0
        return cls(transform=transform, white=max(1.0, white), inverted=inverted)

    def rgba(self, im: Image.Image) -> np.ndarray:
        """Any Pillow mode -> (H, W, 4) uint8 sRGB + alpha."""
        if im.mode.startswith("I") or im.mode == "F":
            values = np.asarray(im, dtype=np.float64)
            gray = np.clip(np.rint(values / (self.white / 255.0)), 0, 255).astype(np.uint8)
            if self.inverted:
                gray = 255 - gray
            return np.dstack([gray, gray, gray, np.full_like(gray, 255)])
        if self.transform is not None and im.mode == "CMYK":
            return np.asarray(self._apply(im).convert("RGBA"))
        rgba = im.convert("RGBA")
        if self.transform is not None and im.mode in ("RGB", "RGBA"):
            rgba = self._apply(rgba)  # after the conversion, so alpha from a tRNS key survives
        return np.asarray(rgba)

    @property
    def row_transform(self) -> Callable[[np.ndarray], np.ndarray] | None:
        """What colour-manages rows decoded by :mod:`png_stream` (None: nothing to do)."""
        return self._rows if self.transform is not None else None

    def _rows(self, rgba: np.ndarray) -> np.ndarray:
        """(n, W, 4) uint8 RGBA rows of an RGB(A) file colour-managed to sRGB."""
        image = Image.frombuffer(
            "RGBA", (rgba.shape[1], rgba.shape[0]), np.ascontiguousarray(rgba), "raw", "RGBA", 0, 1
        )
        return np.asarray(self._apply(image))

    def _apply(self, im: Image.Image) -> Image.Image:
        assert self.transform is not None
        try:
            return ImageCms.applyTransform(im, self.transform) or im
        except ImageCms.PyCMSError:
            return im  # a profile LittleCMS accepted but cannot apply: treat the values as sRGB


def _first(value: object, default: int) -> int:
    """A TIFF tag's first value (Pillow gives a number or a tuple per sample), or ``default``."""
    if isinstance(value, tuple):
        value = value[0] if value else None
    return value if isinstance(value, int) else default


def target_size(
    src_width: int, src_height: int, width: int | None, height: int | None, *, max_size: int = DEFAULT_MAX_SIZE
) -> tuple[int, int]:
    """Block-grid size for a source image.

    Given one of width/height, the other follows the source's aspect ratio (at least 1);
    given both, both are used; given neither, the source size is used.
    """
    for name, value in (("width", width), ("height", height)):
        if value is not None and value <= 0:
            raise InvalidInput(f"{name} must be a positive number of blocks, got {value}")
    if width is None and height is None:
        width, height = src_width, src_height
    elif width is None:
        assert height is not None
        width = max(1, round(src_width * height / src_height))
    elif height is None:
        height = max(1, round(src_height * width / src_width))
    if width > max_size or height > max_size:
        raise LimitExceeded(
            f"the block grid would be {width}x{height}; width and height are limited to {max_size} blocks",
            setting="max_size",
        )
    return int(width), int(height)


def resize(rgba: np.ndarray, size: tuple[int, int], resample: str = "lanczos") -> np.ndarray:
    """Resize (H, W, 4) uint8 RGBA to ``size`` = (width, height).

    ``lanczos`` filters in linear light with premultiplied alpha, so neither dark fringes nor
    colour bleeding from transparent pixels appear. ``nearest`` copies pixels (pixel art).
    """
    width, height = size
    if resample not in RESAMPLING:
        raise InvalidInput(f"unknown resampling {resample!r}; choose one of: {', '.join(RESAMPLING)}")
    if (rgba.shape[1], rgba.shape[0]) == (width, height):
        return rgba
    if resample == "nearest":
        return np.asarray(Image.fromarray(rgba, "RGBA").resize((width, height), Image.Resampling.NEAREST))

    def filtered(plane: np.ndarray) -> np.ndarray:
        image = Image.fromarray(plane.astype(np.float32, copy=False), "F")
        return np.asarray(image.resize((width, height), Image.Resampling.LANCZOS), dtype=np.float64)

    alpha = rgba[..., 3].astype(np.float32) * np.float32(1.0 / 255.0)
    opaque_everywhere = bool(rgba[..., 3].min() == 255)
    lut = color.SRGB8_TO_LINEAR.astype(np.float32)
    out = np.empty((height, width, 4), dtype=np.uint8)
    new_alpha = np.ones((height, width)) if opaque_everywhere else np.clip(filtered(alpha), 0.0, 1.0)
    safe_alpha = np.where(new_alpha > 1e-6, new_alpha, 1.0)
    for c in range(3):
        plane = lut[rgba[..., c]]
        if not opaque_everywhere:
            plane *= alpha
        linear = filtered(plane) / safe_alpha
        out[..., c] = np.rint(color.linear_to_srgb(np.clip(linear, 0.0, 1.0)) * 255.0).astype(np.uint8)
        del plane, linear
    out[..., 3] = np.rint(new_alpha * 255.0).astype(np.uint8)
    return out


def split_alpha(rgba: np.ndarray, threshold: int = DEFAULT_ALPHA_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) RGB and (H, W) bool mask of pixels solid enough to become blocks (alpha >= threshold)."""
    if not 0 <= threshold <= 255:
        raise InvalidInput(f"alpha threshold must be between 0 and 255, got {threshold}")
    return np.ascontiguousarray(rgba[..., :3]), rgba[..., 3] >= threshold


def encode_png(rgba: np.ndarray, compress_level: int = 6) -> bytes:
    """PNG bytes of an (H, W, 4) uint8 image (zlib level 1 for big renders: fast, a bit larger)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba), "RGBA").save(
        buf, format="PNG", optimize=False, compress_level=compress_level
    )
    return buf.getvalue()
