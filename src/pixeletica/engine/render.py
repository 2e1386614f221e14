"""The textured render: every block drawn with its face texture, with block and chunk lines.

Image columns are world X and rows world Z (a map seen from above): block (row, col) sits at
``x = origin_x + col``, ``z = origin_z + row``. Chunk lines fall where x or z is a multiple of 16
(negative coordinates included), not on multiples of 16 in the image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pixeletica.engine import defaults
from pixeletica.errors import InvalidInput, LimitExceeded

#: The reference's line visibilities and the file-list group each one goes in.
LINE_VARIANTS: dict[str, tuple[bool, bool, str]] = {
    "no_lines": (False, False, "no_lines"),
    "block_grid_only": (True, False, "block_lines"),
    "chunk_lines_only": (False, True, "chunk_lines"),
    "both": (True, True, "both_lines"),
}
#: Chunk labels need at least this many pixels per block to be readable.
MIN_LABEL_SCALE = 4
_HEX = re.compile(r"#?([0-9a-fA-F]{6})([0-9a-fA-F]{2})?")


def parse_rgba(value: str, field: str = "colour") -> tuple[int, int, int, int]:
    """'#RRGGBB' or '#RRGGBBAA' -> (r, g, b, a)."""
    match = _HEX.fullmatch(value) if isinstance(value, str) else None  # nothing around it, not even a newline
    if not match:
        raise InvalidInput(f"{field} must be a colour like #RRGGBB or #RRGGBBAA, got {value!r}", field=field)
    rgb, alpha = match.group(1), match.group(2) or "ff"
    return int(rgb[0:2], 16), int(rgb[2:4], 16), int(rgb[4:6], 16), int(alpha, 16)


_DEFAULT_BLOCK_COLOR = parse_rgba(defaults.DEFAULT_BLOCK_LINE_COLOR)
_DEFAULT_CHUNK_COLOR = parse_rgba(defaults.DEFAULT_CHUNK_LINE_COLOR)


@dataclass(frozen=True, kw_only=True)
class Lines:
    """Which lines to draw and how."""

    block: bool = False
    chunk: bool = False
    block_color: tuple[int, int, int, int] = _DEFAULT_BLOCK_COLOR
    chunk_color: tuple[int, int, int, int] = _DEFAULT_CHUNK_COLOR
    origin_x: int = 0
    origin_z: int = 0

    @classmethod
    def variant(cls, name: str, **kw: object) -> Lines:
        variants = tuple(LINE_VARIANTS)
        InvalidInput.unless_one_of("line_visibilities", name, variants, f"a list of some of: {', '.join(variants)}")
        block, chunk, _ = LINE_VARIANTS[name]
        return cls(block=block, chunk=chunk, **kw)  # type: ignore[arg-type]  # (kw: the other fields, by name)


def check_size(width: int, height: int, scale: int, max_pixels: int = defaults.DEFAULT_MAX_RENDER_PIXELS) -> None:
    """Refuse a full render larger than ``max_pixels`` with a message that says what to do."""
    pixels = width * scale * height * scale
    if pixels > max_pixels:
        raise LimitExceeded(
            f"the render would be {width * scale}x{height * scale} pixels; the limit is {max_pixels:,} pixels "
            "(use a smaller scale or grid)",
            setting="max_render_pixels",
        )


def fitting_scale(
    width: int, height: int, preferred: int = 16, max_pixels: int = defaults.DEFAULT_MAX_RENDER_PIXELS
) -> int:
    """The largest scale, halving from ``preferred`` down to 1, at which a render fits in ``max_pixels``."""
    scale = preferred
    while scale > 1 and width * scale * height * scale > max_pixels:
        scale //= 2
    check_size(width, height, scale, max_pixels)
    return scale


def render(indices: NDArray[np.int16], tiles: NDArray[np.uint8], rows: slice = slice(None)) -> NDArray[np.uint8]:
    """Draw rows of a block grid with an atlas from :func:`pixeletica.engine.textures.atlas`.

    ``indices`` is (H, W) int16 with -1 for air; returns (h * scale, W * scale, 4) uint8.
    """
    part = indices[rows]
    scale = tiles.shape[1]
    h, w = part.shape
    out = np.empty((h * scale, w * scale, 4), dtype=np.uint8)
    view = out.reshape(h, scale, w, scale, 4)
    for row in range(h):  # row by row: no (h, w, scale, scale, 4) temporary
        view[row] = tiles[part[row].astype(np.intp) + 1].transpose(1, 0, 2, 3)
    return out


def _paint(
    image: NDArray[np.uint8], index: tuple[slice | NDArray[np.intp], ...], color: tuple[int, int, int, int]
) -> None:
    """Blend ``color`` over the pixels ``image[index]`` (alpha-over; opaque colours just replace)."""
    if color[3] == 255:
        image[index] = color
        return
    pixels = image[index]
    alpha = color[3] / 255.0
    rgb = np.array(color[:3], dtype=np.float32)
    pixels[..., :3] = np.rint(pixels[..., :3] * (1.0 - alpha) + rgb * alpha).astype(np.uint8)
    pixels[..., 3] = np.maximum(pixels[..., 3], color[3])
    image[index] = pixels


def _edges(blocks: list[int], scale: int, width: int) -> NDArray[np.intp]:
    """Pixel offsets of the first ``width`` pixels of each block in ``blocks``."""
    return (np.asarray(blocks, dtype=np.intp)[:, None] * scale + np.arange(width)).ravel()


def draw_lines(image: NDArray[np.uint8], scale: int, lines: Lines, first_row: int = 0) -> NDArray[np.uint8]:
    """Draw block and chunk lines onto a render (in place) and return it.

    ``first_row`` is the grid row of the image's top row of blocks (for renders made in strips).
    Block lines are 1 pixel on the top and left edge of every block; chunk lines are
    ``max(1, scale // 8)`` pixels on the top and left edge of blocks whose x or z is a multiple of 16.
    Vertical lines are drawn before horizontal ones, block lines before chunk lines.
    """
    h, w = image.shape[0] // scale, image.shape[1] // scale
    if lines.block:
        _paint(image, (slice(None), _edges(list(range(w)), scale, 1)), lines.block_color)
        _paint(image, (_edges(list(range(h)), scale, 1),), lines.block_color)
    if lines.chunk:
        width = max(1, scale // 8)
        cols = [c for c in range(w) if (lines.origin_x + c) % 16 == 0]
        rows = [r for r in range(h) if (lines.origin_z + first_row + r) % 16 == 0]
        if cols:
            _paint(image, (slice(None), _edges(cols, scale, width)), lines.chunk_color)
        if rows:
            _paint(image, (_edges(rows, scale, width),), lines.chunk_color)
    return image


def draw_chunk_labels(image: NDArray[np.uint8], scale: int, lines: Lines, first_row: int = 0) -> NDArray[np.uint8]:
    """Write the world ``x, z`` of every chunk corner just inside it (in place), on a light box.

    A chunk corner is where a vertical and a horizontal chunk line cross; the text is in the chunk
    line colour and sized to fit a chunk (twice the scale, at most 32 px). A label stays within
    its chunk's top 16 blocks, so strips cut on chunk rows can be labelled one by one.
    """
    from PIL import Image, ImageDraw, ImageFont

    h, w = image.shape[0] // scale, image.shape[1] // scale
    cols = [c for c in range(w) if (lines.origin_x + c) % 16 == 0]
    rows = [r for r in range(h) if (lines.origin_z + first_row + r) % 16 == 0]
    font = ImageFont.load_default(size=min(2 * scale, 32))
    inset = max(1, scale // 8) + 1  # clear of the chunk line
    ink = (*lines.chunk_color[:3], 255)
    for row in rows:
        for col in cols:
            text = f"{lines.origin_x + col}, {lines.origin_z + first_row + row}"
            left, top, right, bottom = font.getbbox(text)  # whole pixels, though typed as floats
            label = Image.new("RGBA", (int(right - left) + 4, int(bottom - top) + 4), (255, 255, 255, 200))
            ImageDraw.Draw(label).text((2 - left, 2 - top), text, font=font, fill=ink)
            y, x = row * scale + inset, col * scale + inset
            region = image[y : y + label.height, x : x + label.width]
            if region.size == 0:
                continue
            under = Image.fromarray(np.ascontiguousarray(region), "RGBA")
            under.alpha_composite(label.crop((0, 0, under.width, under.height)))
            region[...] = np.asarray(under)
    return image
