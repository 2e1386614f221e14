"""Reading images into RGBA arrays, sizing them to the block grid, and writing PNGs.

Reading is defensive: the header is checked (format, pixel count) before any pixel is decoded,
so a decompression bomb is refused without being expanded; EXIF orientation is applied; an
embedded ICC profile is converted to sRGB; 16-bit, grayscale, palette and CMYK inputs all end as
8-bit sRGB + alpha.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from pixeletica.engine import color
from pixeletica.errors import InvalidInput, LimitExceeded, UnsupportedImage

#: Pillow format names we accept (MPO is the multi-picture JPEG many phones write).
SUPPORTED_FORMATS = ("PNG", "JPEG", "MPO", "GIF", "WEBP", "BMP", "TIFF")
RESAMPLING = ("lanczos", "nearest")
DEFAULT_MAX_INPUT_PIXELS = 64_000_000
DEFAULT_MAX_SIZE = 4096
DEFAULT_ALPHA_THRESHOLD = 128


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


def _to_rgba(im: Image.Image) -> np.ndarray:
    """Any Pillow mode -> (H, W, 4) uint8 sRGB + alpha."""
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        values = np.asarray(im, dtype=np.float64)
        scale = 257.0 if values.max(initial=0) > 255 else 1.0
        gray = np.clip(np.rint(values / scale), 0, 255).astype(np.uint8)
        return np.dstack([gray, gray, gray, np.full_like(gray, 255)])
    if im.mode == "F":
        values = np.asarray(im, dtype=np.float64)
        scale = 255.0 if values.max(initial=0) <= 1.0 else 1.0
        gray = np.clip(np.rint(values * scale), 0, 255).astype(np.uint8)
        return np.dstack([gray, gray, gray, np.full_like(gray, 255)])
    icc = im.info.get("icc_profile")
    if icc and im.mode in ("RGB", "RGBA", "CMYK"):
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.createProfile("sRGB")
            out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
            im = ImageCms.profileToProfile(im, src, dst, outputMode=out_mode)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: fall back to treating the values as sRGB
    return np.asarray(im.convert("RGBA"))


def probe(data: bytes, *, max_pixels: int = DEFAULT_MAX_INPUT_PIXELS) -> tuple[str, int, int]:
    """(format, width, height) from the header alone; the same refusals as :func:`load_image`.

    The size is the upright one: an EXIF orientation that turns the picture swaps width and height.
    """
    with _opened(data, max_pixels) as im:
        width, height = im.size
        if im.getexif().get(0x0112) in (5, 6, 7, 8):  # rotated by 90 degrees one way or the other
            width, height = height, width
        return str(im.format), width, height


def load_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_INPUT_PIXELS) -> LoadedImage:
    """Decode image bytes, refusing what is not a supported image or is too large.

    Raises :class:`UnsupportedImage` (empty, corrupt, truncated, unknown or vector format) or
    :class:`LimitExceeded` (more than ``max_pixels`` pixels), before decoding the pixels.
    """
    with _opened(data, max_pixels) as im:
        mode = im.mode
        fmt = str(im.format)
        try:
            im.seek(0)  # animated GIF/WebP, multi-page TIFF: the first frame
            im.load()
            rgba = _to_rgba(ImageOps.exif_transpose(im))
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise UnsupportedImage(f"the image data is truncated or corrupt ({exc})") from None
    return LoadedImage(rgba=np.ascontiguousarray(rgba), format=fmt, mode=mode)


@contextlib.contextmanager
def _opened(data: bytes, max_pixels: int) -> Iterator[Image.Image]:
    """Open image bytes lazily (header only), refusing what is not a supported image or too large."""
    if not data:
        raise UnsupportedImage("the file is empty")
    vector = _sniff_unsupported(data)
    if vector:
        raise UnsupportedImage(f"the file is {vector}; supported formats: {', '.join(SUPPORTED_FORMATS)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise LimitExceeded(
                f"the image has too many pixels; the limit is {max_pixels / 1e6:g} megapixels",
                setting="max_input_pixels",
            ) from None
        except UnidentifiedImageError:
            raise UnsupportedImage(
                f"the file is not an image Pixeletica can read; supported formats: {', '.join(SUPPORTED_FORMATS)}"
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise UnsupportedImage(f"the image data is truncated or corrupt ({exc})") from None
        if im.format not in SUPPORTED_FORMATS:
            raise UnsupportedImage(
                f"{im.format} images are not supported; supported formats: {', '.join(SUPPORTED_FORMATS)}"
            )
        width, height = im.size
        if width <= 0 or height <= 0:
            raise UnsupportedImage(f"the image has no pixels ({width}x{height})")
        if width * height > max_pixels:
            raise LimitExceeded(
                f"the image is {width}x{height} pixels ({width * height / 1e6:.1f} megapixels); "
                f"the limit is {max_pixels / 1e6:g} megapixels",
                setting="max_input_pixels",
            )
        yield im


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
