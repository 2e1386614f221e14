"""Decoding an image at a reduced size, for previews: never the full picture for PNG and JPEG.

PNG is streamed row by row into the reduced image (:mod:`pixeletica.engine.png_stream`), JPEG is
scaled while libjpeg decodes it; the other formats are decoded whole, and :func:`decode_cost`
says, from the header alone, how much memory a decode will take.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from pixeletica.engine import box_reduce, defaults, image_io, orientation, png_chunks, png_stream
from pixeletica.errors import InvalidInput

#: Memory a decode holds whatever the image: interpreter objects, zlib and Pillow state, a few buffers.
_BASE_COST = 6 << 20


def load_reduced(
    data: bytes, min_width: int, min_height: int, *, max_pixels: int = defaults.DEFAULT_MAX_INPUT_PIXELS
) -> image_io.LoadedImage:
    """Decode image bytes reduced by the largest integer factor f that keeps at least ``min_width`` x ``min_height``.

    For previews: the full image is never decoded for PNG (streamed row by row, interlaced or not)
    or JPEG (scaled by 1/8, 1/4 or 1/2 while decoding, the largest not above f, then reduced by the
    rest of f); other formats are decoded whole first (:func:`decode_cost` tells the caller).
    f counts in upright pixels; f = 1 when no reduction fits, and then the result is exactly
    :func:`~.image_io.load_image`'s. Each output pixel is the mean of its f x f upright source pixels (colour
    weighted by alpha); the image is ceil(W/f) x ceil(H/f), the last column and row averaging what
    is left. For JPEG the decoder's scaled pixels stand for those means: where f is not a multiple
    of the scale, a scaled pixel on a box edge is shared between the boxes by area, which is close
    on smooth pictures and off by more at sharp edges. Orientation, ICC profile, alpha, palette,
    gray and 16-bit samples are handled as by :func:`~.image_io.load_image`, and so are the refusals.
    """
    _check_reduced_size(min_width, min_height)
    with image_io.opened(data, max_pixels) as (im, png):
        turn = orientation.of(im)
        factor = _factor(im.size, turn, min_width, min_height)
        with image_io.decoding():
            if factor == 1:
                stored = image_io.decode_stored(data, im, png)
            elif png is not None:
                flip_x, flip_y = orientation.FLIPS.get(turn, (False, False))
                sink = box_reduce.BoxReducer(
                    png.width, png.height, factor, flip_x=flip_x, flip_y=flip_y, in_order=not png.interlaced
                )
                png_stream.decode(data, png, sink, image_io.Colour.of(im).row_transform)
                stored = sink.result()
            else:
                stored = _reduce_with_pillow(im, factor, turn)
        return image_io.LoadedImage(
            rgba=np.ascontiguousarray(orientation.upright(stored, turn)), format=str(im.format), mode=im.mode
        )


def decode_cost(data: bytes, min_width: int, min_height: int) -> int:
    """Estimate, from the header alone, of the peak bytes :func:`load_reduced` allocates for ``data``.

    Small for PNG and baseline JPEG (the reduced image, a few rows, the decoder's state); a
    progressive JPEG adds its coefficients (about 2 bytes per pixel per full-size component, which
    libjpeg keeps even when scaling); other formats, and any image that cannot be reduced (f = 1),
    cost their full decoded size. ``data`` itself is not counted. Raises what :func:`~.image_io.probe` raises
    for a file that is not a readable image (the pixel limit is left to :func:`load_reduced`).
    """
    _check_reduced_size(min_width, min_height)
    with image_io.opened(data, None) as (im, png):
        need = _decode_bytes(data, im, png, min_width, min_height)
    return _BASE_COST + need + need // 8  # an eighth more for the allocator's slack and fragmentation


def _decode_bytes(
    data: bytes, im: Image.Image, png: png_chunks.PngLayout | None, min_width: int, min_height: int
) -> int:
    """The buffers :func:`load_reduced` allocates for this file, as measured on Pillow 13 and numpy 1.26."""
    width, height = im.size
    turn = orientation.of(im)
    factor = _factor(im.size, turn, min_width, min_height)
    result = 4 * _ceil_div(width, factor) * _ceil_div(height, factor) * (1 if turn == 1 else 2)
    extra = _jpeg_coefficient_bytes(im)
    if im.format == "WEBP":  # libwebp decodes into canvases of its own, then Pillow copies the frame out
        extra += len(data) + 12 * width * height
    if factor == 1:
        # Pillow's image, its RGBA conversion, the array made from that, the upright copy.
        return extra + width * height * (_pillow_bytes_per_pixel(im.mode) + 12)
    if png is not None:
        rows = box_reduce.BATCH_BYTES + 4 * width + 2 * (8 * width + 1)  # the batch and two scanlines
        sums = box_reduce.BoxReducer.working_bytes(width, height, factor, in_order=not png.interlaced)
        return result + sums + rows
    scale = _jpeg_scale(im, factor, dry_run=True) if im.format in ("JPEG", "MPO") else 1
    decoded = _ceil_div(width, scale) * _ceil_div(height, scale) * _pillow_bytes_per_pixel(im.mode)
    strips = 3 * (box_reduce.BATCH_BYTES + 4 * width)  # a strip cropped, converted and colour-managed
    sums = box_reduce.BoxReducer.working_bytes(width, height, factor, scale=scale)
    return extra + decoded + strips + sums + result


def _reduce_with_pillow(im: Image.Image, factor: int, turn: int) -> NDArray[np.uint8]:
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
    flip_x, flip_y = orientation.FLIPS.get(turn, (False, False))
    sink = box_reduce.BoxReducer(width, height, factor, scale=scale, flip_x=flip_x, flip_y=flip_y)
    colour = image_io.Colour.of(im)
    decoded_width, decoded_height = im.size
    step = max(1, box_reduce.BATCH_BYTES // (4 * decoded_width))
    for top in range(0, decoded_height, step):
        rows = colour.rgba(im.crop((0, top, decoded_width, min(decoded_height, top + step))))
        sink.add_strip(np.require(rows, requirements=["C", "W"]), top)
    return sink.result()


def _check_reduced_size(min_width: int, min_height: int) -> None:
    for name, value in (("min_width", min_width), ("min_height", min_height)):
        if value < 1:
            raise InvalidInput(f"{name} must be a positive number of pixels, got {value}")


def _factor(size: tuple[int, int], turn: int, min_width: int, min_height: int) -> int:
    width, height = orientation.upright_size(size, turn)
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
