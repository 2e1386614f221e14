"""Reading images into RGBA arrays, sizing them to the block grid, and writing PNGs.

Reading is defensive: the header is checked (format, pixel count, and for PNG and JPEG that the
file is complete) before any pixel is decoded, so a decompression bomb or a cut-off upload is
refused without being expanded; EXIF orientation is applied; an embedded ICC profile is converted
to sRGB; 16-bit, grayscale, palette and CMYK inputs all end as 8-bit sRGB + alpha.

A preview decodes at a reduced size instead (:mod:`pixeletica.engine.reduced`); EXIF orientation
is read in :mod:`pixeletica.engine.orientation`.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageCms, UnidentifiedImageError

from pixeletica import names
from pixeletica.engine import color, completeness, defaults, orientation, png_chunks
from pixeletica.engine.defaults import DEFAULT_ALPHA_THRESHOLD, DEFAULT_MAX_INPUT_PIXELS, DEFAULT_MAX_SIZE
from pixeletica.errors import InvalidInput, LimitExceeded, UnsupportedImage

#: Pillow format names we accept (MPO is the multi-picture JPEG many phones write).
SUPPORTED_FORMATS = ("PNG", "JPEG", "MPO", "GIF", "WEBP", "BMP", "TIFF")
RESAMPLING = ("lanczos", "nearest")


@dataclass(frozen=True)
class LoadedImage:
    """A decoded image: (H, W, 4) uint8 sRGB + alpha, and where it came from."""

    rgba: NDArray[np.uint8]
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
    with opened(data, max_pixels) as (im, _):
        width, height = orientation.upright_size(im.size, orientation.of(im))
        return str(im.format), width, height


def load_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_INPUT_PIXELS) -> LoadedImage:
    """Decode image bytes, refusing what is not a supported image or is too large.

    Raises :class:`UnsupportedImage` (empty, corrupt, truncated, unknown or vector format) or
    :class:`LimitExceeded` (more than ``max_pixels`` pixels), before decoding the pixels.
    """
    with opened(data, max_pixels) as (im, png):
        turn = orientation.of(im)
        with decoding():
            stored = decode_stored(data, im, png)
        return LoadedImage(
            rgba=np.ascontiguousarray(orientation.upright(stored, turn)), format=str(im.format), mode=im.mode
        )


def decode_stored(data: bytes, im: Image.Image, png: png_chunks.PngLayout | None) -> NDArray[np.uint8]:
    """The stored (not yet upright) pixels of the first frame as (H, W, 4) uint8 sRGB + alpha."""
    if png is not None and png.misread_by_pillow:
        from pixeletica.engine import box_reduce, png_stream  # compiled kernels: loaded when first needed

        sink = box_reduce.BoxReducer(png.width, png.height, 1)
        png_stream.decode(data, png, sink, Colour.of(im).row_transform)
        return sink.result()
    im.seek(0)  # animated GIF/WebP, multi-page TIFF: the first frame
    im.load()
    return Colour.of(im).rgba(im)


@contextlib.contextmanager
def opened(data: bytes, max_pixels: int | None) -> Iterator[tuple[Image.Image, png_chunks.PngLayout | None]]:
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
        yield im, completeness.check(data, im)
    finally:
        im.close()


def _signature(data: bytes) -> str | None:
    """The supported format whose magic bytes ``data`` starts with (unambiguous signatures only)."""
    if data.startswith(png_chunks.SIGNATURE):
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
def decoding() -> Iterator[None]:
    """Turn any decoder failure (Pillow's or png_stream's) into :class:`UnsupportedImage`."""
    with _quiet():
        try:
            yield
        except png_chunks.CorruptPng as exc:
            raise UnsupportedImage(f"the image data is truncated or corrupt ({exc})") from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:  # what Pillow's decoders raise
            raise UnsupportedImage(f"the image data is truncated or corrupt ({exc})") from exc


@dataclass(frozen=True)
class Colour:
    """How one file's samples become 8-bit sRGB + alpha: its ICC transform and its gray range."""

    transform: ImageCms.ImageCmsTransform | None  # the embedded profile to sRGB (RGB, RGBA, CMYK files)
    white: float  # the sample value of white in Pillow's gray modes "I", "I;16"... and "F"
    inverted: bool  # a TIFF whose gray samples say how black a pixel is (WhiteIsZero)

    @classmethod
    def of(cls, im: Image.Image) -> Colour:
        """How to read this file's samples: its ICC profile and, for gray TIFFs, their bits per sample (from
        the header; only a floating-point image's range needs its pixels, decoded by the caller already).

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
            extrema = cast(tuple[float, float], im.getextrema())  # one band: (lowest, highest)
            white = 1.0 if (extrema[1] or 0.0) <= 1.0 else 255.0
        return cls(transform=transform, white=max(1.0, white), inverted=inverted)

    def rgba(self, im: Image.Image) -> NDArray[np.uint8]:
        """Any Pillow mode -> (H, W, 4) uint8 sRGB + alpha."""
        if im.mode.startswith("I") or im.mode == "F":
            values = np.asarray(im, dtype=np.float64)
            gray = np.clip(np.rint(values / (self.white / 255.0)), 0, 255).astype(np.uint8)
            if self.inverted:
                gray = 255 - gray
            return np.dstack([gray, gray, gray, np.full_like(gray, 255)])
        if self.transform is not None and im.mode == "CMYK":
            return np.asarray(self._apply(im).convert("RGBA"))
        rgba = im if im.mode == "RGBA" else im.convert("RGBA")  # (converting to its own mode copies it)
        if self.transform is not None and im.mode in ("RGB", "RGBA"):
            rgba = self._apply(rgba)  # after the conversion, so alpha from a tRNS key survives
        return np.asarray(rgba)

    @property
    def row_transform(self) -> Callable[[NDArray[np.uint8]], NDArray[np.uint8]] | None:
        """What colour-manages rows decoded by :mod:`png_stream` (None: nothing to do)."""
        return self._rows if self.transform is not None else None

    def _rows(self, rgba: NDArray[np.uint8]) -> NDArray[np.uint8]:
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
    check_block_count("width", width)
    check_block_count("height", height)
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


def check_block_count(name: str, value: int | None, max_size: int | None = None) -> None:
    """Refuse a ``width`` or ``height`` (``name``; None: left to the image) that is not a positive
    number of blocks, or (with ``max_size``) is over it."""
    if value is None:
        return
    if value <= 0:
        raise InvalidInput(f"{name} must be a positive number of blocks, got {value}", field=name)
    if max_size is not None and value > max_size:
        raise LimitExceeded(
            f"the block grid would be {value} blocks in {name}; width and height are limited to {max_size} blocks",
            setting="max_size",
            field=name,
        )


def check_resample(name: str) -> None:
    """Refuse a resampling method that is not one of :data:`RESAMPLING`."""
    if name not in RESAMPLING:
        raise InvalidInput(
            f"unknown resampling {names.shown(name)}; choose one of: {', '.join(RESAMPLING)}", field="resample"
        )


def check_alpha_threshold(threshold: int) -> None:
    """Refuse an alpha threshold outside 0..255."""
    if not 0 <= threshold <= 255:
        raise InvalidInput(f"alpha threshold must be between 0 and 255, got {threshold}", field="alpha_threshold")


def resize(
    rgba: NDArray[np.uint8], size: tuple[int, int], resample: str = defaults.DEFAULT_RESAMPLE
) -> NDArray[np.uint8]:
    """Resize (H, W, 4) uint8 RGBA to ``size`` = (width, height).

    ``lanczos`` filters in linear light with premultiplied alpha, so neither dark fringes nor
    colour bleeding from transparent pixels appear. ``nearest`` copies pixels (pixel art).
    """
    width, height = size
    check_resample(resample)
    if (rgba.shape[1], rgba.shape[0]) == (width, height):
        return rgba
    if resample == "nearest":
        return np.asarray(Image.fromarray(rgba, "RGBA").resize((width, height), Image.Resampling.NEAREST))

    def filtered(plane: NDArray[np.float32]) -> NDArray[np.float64]:
        image = Image.fromarray(plane.astype(np.float32, copy=False), "F")
        return np.asarray(image.resize((width, height), Image.Resampling.LANCZOS), dtype=np.float64)

    opaque_everywhere = bool(rgba[..., 3].min() == 255)
    # A plane of floats the size of the input is a large part of a big picture's memory: no alpha plane
    # where every pixel is opaque.
    alpha = None if opaque_everywhere else rgba[..., 3].astype(np.float32) * np.float32(1.0 / 255.0)
    lut = color.SRGB8_TO_LINEAR.astype(np.float32)
    out = np.empty((height, width, 4), dtype=np.uint8)
    new_alpha = np.ones((height, width)) if alpha is None else np.clip(filtered(alpha), 0.0, 1.0)
    safe_alpha = np.where(new_alpha > 1e-6, new_alpha, 1.0)
    for c in range(3):
        plane = lut[rgba[..., c]]
        if alpha is not None:
            plane *= alpha
        linear = filtered(plane) / safe_alpha
        out[..., c] = np.rint(color.linear_to_srgb(np.clip(linear, 0.0, 1.0)) * 255.0).astype(np.uint8)
        del plane, linear
    out[..., 3] = np.rint(new_alpha * 255.0).astype(np.uint8)
    return out


def split_alpha(
    rgba: NDArray[np.uint8], threshold: int = DEFAULT_ALPHA_THRESHOLD
) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
    """(H, W, 3) RGB and (H, W) bool mask of pixels solid enough to become blocks (alpha >= threshold)."""
    check_alpha_threshold(threshold)
    return np.ascontiguousarray(rgba[..., :3]), rgba[..., 3] >= threshold


def encode_png(rgba: NDArray[np.uint8], compress_level: int = 6) -> bytes:
    """PNG bytes of an (H, W, 4) uint8 image (zlib level 1 for big renders: fast, a bit larger)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba), "RGBA").save(
        buf, format="PNG", optimize=False, compress_level=compress_level
    )
    return buf.getvalue()
