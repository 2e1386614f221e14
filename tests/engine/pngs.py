"""PNG files written by hand for the decoder tests: every colour type, bit depth, filter and Adam7.

Pillow cannot write interlaced PNGs, 2-bit gray or chosen filters, so the tests build their own
files from raw sample arrays, straight from the PNG specification (https://www.w3.org/TR/png-3/).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def encode(
    samples: np.ndarray,
    depth: int,
    color_type: int,
    *,
    interlaced: bool = False,
    palette: bytes | None = None,
    transparency: bytes | None = None,
    before_idat: Iterable[bytes] = (),
    after_idat: Iterable[bytes] = (),
    idat_size: int = 4096,
    seed: int = 0,
) -> bytes:
    """A PNG of (H, W, C) raw samples; each scanline gets a random filter (None, Sub, Up, Average, Paeth)."""
    height, width = samples.shape[:2]
    samples = samples.reshape(height, width, CHANNELS[color_type]).astype(np.int64)
    rng = np.random.default_rng(seed)
    grid = ADAM7 if interlaced else ((0, 0, 1, 1),)
    raw = bytearray()
    for x0, y0, dx, dy in grid:
        sub = samples[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        prior = None
        for row in sub:
            line = _pack(row, depth)
            kind = int(rng.integers(0, 5))
            raw.append(kind)
            raw += _filter(line, prior, kind, max(1, CHANNELS[color_type] * depth // 8))
            prior = line
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 1 if interlaced else 0)
    parts = [SIGNATURE, chunk(b"IHDR", header)]
    if palette is not None:
        parts.append(chunk(b"PLTE", palette))
    if transparency is not None:
        parts.append(chunk(b"tRNS", transparency))
    parts += list(before_idat)
    stream = zlib.compress(bytes(raw), 6)
    parts += [chunk(b"IDAT", stream[i : i + idat_size]) for i in range(0, len(stream), idat_size)]
    parts += list(after_idat)
    parts.append(chunk(b"IEND", b""))
    return b"".join(parts)


def _pack(row: np.ndarray, depth: int) -> np.ndarray:
    """One scanline's bytes from a (W, C) row of samples."""
    values = row.reshape(-1)
    if depth == 16:
        return np.stack([values >> 8, values & 255], axis=1).reshape(-1)
    if depth == 8:
        return values
    per_byte = 8 // depth
    padded = np.zeros(-(-values.size // per_byte) * per_byte, np.int64)
    padded[: values.size] = values
    shifts = (8 - depth) - depth * np.arange(per_byte)
    return (padded.reshape(-1, per_byte) << shifts).sum(axis=1)


def _filter(line: np.ndarray, prior: np.ndarray | None, kind: int, bpp: int) -> bytes:
    up = np.zeros_like(line) if prior is None else prior
    left = np.concatenate([np.zeros(bpp, np.int64), line[:-bpp]])[: line.size]
    up_left = np.concatenate([np.zeros(bpp, np.int64), up[:-bpp]])[: line.size]
    if kind == 0:
        guess = np.zeros_like(line)
    elif kind == 1:
        guess = left
    elif kind == 2:
        guess = up
    elif kind == 3:
        guess = (left + up) // 2
    else:
        p = left + up - up_left
        pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - up_left)
        guess = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, up_left))
    return ((line - guess) % 256).astype(np.uint8).tobytes()


def flat_rgb(width: int, height: int) -> bytes:
    """A big, mostly flat RGB PNG written a row at a time (never the whole picture in memory).

    Sky-blue, with a dark band across the middle and a red stripe down the left: a few hundred
    KB for 8000x8000, and a reduced copy that shows where each part went.
    """
    sky = np.tile(np.array([90, 160, 230], np.uint8), width)
    band = np.tile(np.array([20, 30, 40], np.uint8), width)
    for line in (sky, band):
        line[: 3 * max(1, width // 10)] = np.tile(np.array([200, 30, 30], np.uint8), max(1, width // 10))
    packer = zlib.compressobj(6)
    parts = [SIGNATURE, chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))]
    pending = []
    for y in range(height):
        line = band if height * 2 // 5 <= y < height * 3 // 5 else sky
        pending.append(packer.compress(b"\0" + line.tobytes()))
    pending.append(packer.flush())
    stream = b"".join(pending)
    parts += [chunk(b"IDAT", stream[i : i + 65536]) for i in range(0, len(stream), 65536)]
    parts.append(chunk(b"IEND", b""))
    return b"".join(parts)


def rgb_icc_profile() -> bytes:
    """A minimal ICC v2 display profile: Adobe RGB (1998) primaries (D50-adapted), gamma 2.2.

    Wide enough that converting to sRGB visibly changes colours (ICC.1:2001-04, matrix/TRC profiles).
    """

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    text = b"Adobe-RGB-like test profile\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 8 + b"\0\0\0" + b"\0" * 67
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0233) + b"\0\0"  # gamma 563/256 = 2.2
    tags = [
        (b"desc", desc),
        (b"cprt", b"text\0\0\0\0no copyright\0"),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.6097, 0.3111, 0.0195)),
        (b"gXYZ", xyz(0.2053, 0.6257, 0.0609)),
        (b"bXYZ", xyz(0.1492, 0.0632, 0.7446)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = [struct.pack(">I", len(tags))], b""
    for signature, payload in tags:
        payload += b"\0" * (-len(payload) % 4)
        table.append(signature + struct.pack(">II", offset + len(body), len(payload)))
        body += payload
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"\0\0\0\0"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + b"".join(table) + body
