"""EXIF orientation: read from what opening a file parsed (never by decoding), and applied to pixels.

Orientation 1 is upright; 2..8 are the mirrorings and quarter turns of the EXIF specification
(CIPA DC-008, tag 0x0112), applied here as Pillow's ``ImageOps.exif_transpose`` does.
"""

from __future__ import annotations

import functools
import io
import struct

import numpy as np
from numpy.typing import NDArray
from PIL import Image

EXIF_ORIENTATION = 0x0112
#: For each EXIF orientation, whether the stored x and y axes run backwards in the upright picture.
FLIPS = {2: (True, False), 3: (True, True), 4: (False, True), 6: (False, True), 7: (True, True), 8: (True, False)}


def of(im: Image.Image) -> int:
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
        value = tags.get(EXIF_ORIENTATION)
        return value if isinstance(value, int) and 1 <= value <= 8 else 1
    return _exifof(im.info.get("exif"))


@functools.cache
def _pillow_turns_tiffs() -> bool:
    """Whether this Pillow applies a TIFF's Orientation tag itself (Pillow 13 does, at open and load)."""
    buffer = io.BytesIO()
    Image.new("L", (2, 1)).save(buffer, format="TIFF", tiffinfo={EXIF_ORIENTATION: 6})
    with Image.open(buffer) as im:
        return im.size == (1, 2)


def _exifof(exif: object) -> int:
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
        if tag == EXIF_ORIENTATION:
            if kind == 3:  # SHORT
                (value,) = struct.unpack_from(order + "H", exif, entry + 8)
            elif kind == 4:  # LONG
                (value,) = struct.unpack_from(order + "I", exif, entry + 8)
            else:
                return 1
            return value if 1 <= value <= 8 else 1
    return 1


def upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    width, height = size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def upright(stored: NDArray[np.uint8], orientation: int) -> NDArray[np.uint8]:
    """A view of (H, W, ...) stored pixels turned upright as EXIF orientation says (Pillow's transposes).

    Which stored axes come out reversed is what ``FLIPS`` records for the box reduction.
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
