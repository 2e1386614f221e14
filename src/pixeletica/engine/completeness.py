"""Refusing a cut-short image file from its framing alone, before (and without) decoding a pixel.

An upload that stopped half-way must be refused when it arrives, not fail later in a worker. Each
check reads only structure: a PNG's chunks to IEND, a JPEG's segments to the end-of-image marker,
a BMP's pixel array against its declared size, a TIFF's strips or tiles against the file's end, a
GIF's trailer. WebP (a RIFF size) Pillow checks when it opens the file.
"""

from __future__ import annotations

from PIL import Image

from pixeletica.engine import png_chunks
from pixeletica.errors import UnsupportedImage

_TIFF_OFFSETS = (273, 324)  # StripOffsets, TileOffsets
_TIFF_COUNTS = (279, 325)  # StripByteCounts, TileByteCounts


def check(data: bytes, im: Image.Image) -> png_chunks.PngLayout | None:
    """Refuse a file whose structure shows it is cut short, from its framing only; a PNG's chunk layout."""
    reason = None
    layout = None
    fmt = str(im.format)
    if fmt == "PNG":
        try:
            layout = png_chunks.scan(data)
        except png_chunks.CorruptPng as exc:
            reason = str(exc)
    elif fmt in ("JPEG", "MPO"):
        reason = _jpeg_incomplete(data)
    elif fmt == "BMP":
        reason = _bmp_incomplete(data, im)
    elif fmt == "TIFF":
        reason = _tiff_incomplete(data, im)
    elif fmt == "GIF" and not data.rstrip(b"\x00").endswith(b";"):
        reason = "the GIF has no trailer: the file is cut short"
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


def _bmp_incomplete(data: bytes, im: Image.Image) -> str | None:
    """Why a BMP is cut short, or None: its pixel array (from its header) must end within the file."""
    if len(data) < 54 or data[14:18] == b"\x0c\x00\x00\x00":  # the old OS/2 header: Pillow's own checks
        return None
    offset = int.from_bytes(data[10:14], "little")
    compression = int.from_bytes(data[30:34], "little")
    size = int.from_bytes(data[34:38], "little")
    if compression in (0, 3, 6):  # uncompressed rows (bit fields too): the size follows from the header
        bits = int.from_bytes(data[28:30], "little")
        size = (im.width * bits + 31) // 32 * 4 * im.height
    if size and offset + size > len(data):
        return f"the BMP's pixels need {offset + size:,} bytes, the file has {len(data):,}"
    return None


def _tiff_incomplete(data: bytes, im: Image.Image) -> str | None:
    """Why a TIFF is cut short, or None: every strip (or tile) of its first image must end within the file."""
    tags = getattr(im, "tag_v2", None)
    if tags is None:
        return None
    for offsets_tag, counts_tag in zip(_TIFF_OFFSETS, _TIFF_COUNTS, strict=True):
        offsets, counts = tags.get(offsets_tag), tags.get(counts_tag)
        if offsets is None or counts is None:
            continue
        offsets = offsets if isinstance(offsets, tuple) else (offsets,)
        counts = counts if isinstance(counts, tuple) else (counts,)
        end = max((o + c for o, c in zip(offsets, counts, strict=False)), default=0)
        if end > len(data):
            return f"the TIFF's image data runs to byte {end:,}, the file has {len(data):,}"
    return None
