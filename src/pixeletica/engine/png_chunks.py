"""A PNG's chunk framing, read without decoding: the header, palette, transparency and where the image data is.

Used to refuse a cut-short file before anything is decoded (:func:`scan` walks every chunk to
IEND in milliseconds) and to tell the streaming decoder (:mod:`pixeletica.engine.png_stream`)
what it will decode. PNG format: https://www.w3.org/TR/png-3/ (chunks, IHDR, PLTE, tRNS).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pixeletica.errors import UnsupportedImage

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Bit depths the PNG specification allows for each colour type.
_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
#: Samples per pixel of each colour type.
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


class CorruptPng(UnsupportedImage):
    """The PNG's structure or compressed data is broken or cut short."""


@dataclass(frozen=True)
class PngLayout:
    """Where a PNG's header, palette, transparency and image data are, from its chunk framing."""

    width: int
    height: int
    depth: int
    color_type: int
    interlaced: bool
    palette: bytes  # the PLTE payload (RGB triples), empty when absent
    transparency: bytes | None  # the tRNS payload, when it comes before the image data
    idat: tuple[tuple[int, int], ...]  # (start, end) of each payload in the first run of IDAT chunks

    @property
    def misread_by_pillow(self) -> bool:
        """Whether Pillow misreads this file's transparency key (gray at 2, 4 or 16 bits, RGB at 16 bits).

        Pillow compares a key with its already-scaled (2/4-bit) or truncated (16-bit) samples, so the
        key either never matches or matches the wrong pixels; :func:`decode` compares the file's own samples.
        """
        if self.transparency is None:
            return False
        return (self.color_type == 0 and self.depth in (2, 4, 16)) or (self.color_type == 2 and self.depth == 16)


def scan(data: bytes) -> PngLayout:
    """Walk a PNG's chunks (length, type, data, CRC), requiring each complete, an IDAT and an IEND.

    Cheap: it reads chunk headers only (CRCs are not recomputed, as Pillow does not for image data).
    Raises :class:`CorruptPng` saying what is wrong.
    """
    if not data.startswith(SIGNATURE):
        raise CorruptPng("not a PNG signature")
    size = len(data)
    pos = len(SIGNATURE)
    header: tuple[int, ...] | None = None
    palette = b""
    transparency: bytes | None = None
    idat: list[tuple[int, int]] = []
    idat_run_over = False
    while True:
        if pos + 8 > size:
            raise CorruptPng("the PNG ends before its IEND chunk")
        length, kind = struct.unpack_from(">I4s", data, pos)
        name = kind.decode("latin-1")
        if length > 0x7FFFFFFF:
            raise CorruptPng(f"the PNG's {name!r} chunk claims {length} bytes")
        start, end = pos + 8, pos + 8 + length
        if end + 4 > size:
            raise CorruptPng(f"the PNG ends inside its {name} chunk")
        if header is None and kind != b"IHDR":
            raise CorruptPng("the PNG does not start with an IHDR chunk")
        if kind == b"IHDR":
            if length != 13:
                raise CorruptPng("the PNG's IHDR chunk has the wrong length")
            header = struct.unpack_from(">IIBBBBB", data, start)
        elif kind == b"PLTE" and not idat:
            palette = data[start:end]
        elif kind == b"tRNS" and not idat:
            transparency = data[start:end]
        elif kind == b"IDAT":
            if not idat_run_over:  # as in Pillow, IDAT chunks after another chunk are not image data
                idat.append((start, end))
        elif kind == b"IEND":
            break
        elif idat:
            idat_run_over = True
        pos = end + 4
    assert header is not None
    width, height, depth, color_type, _, _, interlace = header
    if width == 0 or height == 0:
        raise CorruptPng(f"the PNG has no pixels ({width}x{height})")
    if depth not in _DEPTHS.get(color_type, ()):
        raise CorruptPng(f"the PNG's colour type {color_type} at {depth} bits is not a valid combination")
    if interlace not in (0, 1):
        raise CorruptPng(f"the PNG's interlace method {interlace} is unknown")
    if not idat:
        raise CorruptPng("the PNG has no image data (IDAT chunk)")
    if color_type == 3 and not palette:
        raise CorruptPng("the palette PNG has no PLTE chunk")
    return PngLayout(
        width=width,
        height=height,
        depth=depth,
        color_type=color_type,
        interlaced=interlace == 1,
        palette=palette,
        transparency=transparency,
        idat=tuple(idat),
    )
