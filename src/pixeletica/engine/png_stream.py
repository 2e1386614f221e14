"""Decoding a PNG row by row into a box-reduced image, never holding the full picture.

A preview of an 8000x8000 PNG needs about 256x256 pixels; decoding it whole would take 256 MB.
Here the compressed data is inflated in pieces, each scanline is unfiltered against the one
before it and turned into 8-bit RGBA, and the rows are summed into f x f boxes at once
(:class:`BoxReducer`), so memory holds the compressed file, two scanlines, a batch of rows and
the reduced image. Adam7-interlaced files are decoded the same way: each pass is a sub-image
whose pixels land on a known grid, so its rows go straight into the boxes too (the sums of the
whole reduced image then stay open until the last pass).

Samples become 8-bit RGBA exactly as Pillow reads the same file, so a reduced decode agrees with
:func:`pixeletica.engine.image_io.load_image`: gray 1/2/4-bit scaled to 0..255, 16-bit gray
rounded to value / 257, the other 16-bit types keep their high byte, palette entries missing from
PLTE are black. Transparency keys (tRNS for gray and RGB) are compared with the file's own samples
(at 16 bits for 16-bit files), as the PNG specification says.

PNG format: https://www.w3.org/TR/png-3/ (chunks, IHDR, PLTE, tRNS, filters, Adam7).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator

from pixeletica.engine import _jit
from pixeletica.engine.box_reduce import BATCH_BYTES, BoxReducer
from pixeletica.engine.png_chunks import CHANNELS, CorruptPng, PngLayout

_jit.configure_cache()  # before any compiled kernel below is defined

import numba  # noqa: E402
import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

#: Adam7 passes as (first column, first row, column step, row step).
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
#: Compressed bytes handed to zlib at a time, and the most it may inflate them to in one call.
_IN_PIECE = 1 << 14
_OUT_PIECE = 1 << 18


def decode(
    data: bytes,
    layout: PngLayout,
    sink: BoxReducer,
    transform: Callable[[NDArray[np.uint8]], NDArray[np.uint8]] | None = None,
) -> None:
    """Decode ``layout``'s image data from ``data`` into ``sink``, a batch of rows at a time.

    ``transform`` (colour management) maps an (n, W, 4) uint8 batch to a new one of the same shape.
    Raises :class:`CorruptPng` when the compressed data is broken or ends before the last row.
    """
    width, depth = layout.width, layout.depth
    channels = CHANNELS[layout.color_type]
    bpp = max(1, channels * depth // 8)
    passes = _passes(layout)
    cap = max(1, min(layout.height, BATCH_BYTES // (4 * width)))
    batch = np.zeros((cap, width, 4), np.uint8)
    batch_y = np.zeros(cap, np.int64)
    batch_pass = np.zeros(cap, np.int64)
    longest = int(passes[:, 6].max())
    current = np.zeros(longest + 1, np.uint8)
    previous = np.zeros(longest, np.uint8)
    state = np.zeros(3, np.int64)  # pass, row within the pass, bytes of the current scanline so far
    palette, key = _palette_and_key(layout)

    def flush(n: int) -> None:
        if n == 0:
            return
        if transform is not None:
            batch[:n] = transform(batch[:n])
        sink.add(batch, n, batch_y, batch_pass, passes)

    done = False
    try:
        for inflated in _inflated(data, layout):
            piece = np.frombuffer(inflated, np.uint8)
            pos = 0
            while pos < piece.size and not done:
                pos, n, bad_filter = _feed(
                    piece, pos, state, current, previous, passes, bpp, depth,
                    layout.color_type, palette, key, batch, batch_y, batch_pass,
                )  # fmt: skip
                if bad_filter >= 0:
                    raise CorruptPng(f"the PNG has a scanline with the unknown filter type {bad_filter}")
                flush(n)
                done = bool(state[0] >= passes.shape[0])
            if done:
                break  # what follows the last row in the stream is ignored, as by Pillow
    except zlib.error as exc:
        raise CorruptPng(f"the PNG's compressed image data is broken: {exc}") from None
    if not done:
        raise CorruptPng("the PNG's image data ends before its last row")


def _inflated(data: bytes, layout: PngLayout) -> Iterator[bytes]:
    """The image data inflated in pieces of at most ``_OUT_PIECE`` bytes (a flat image compresses 1000:1)."""
    inflater = zlib.decompressobj()
    view = memoryview(data)
    for start, end in layout.idat:
        for offset in range(start, end, _IN_PIECE):
            pending: bytes | memoryview = view[offset : min(end, offset + _IN_PIECE)]
            while pending:
                yield inflater.decompress(pending, _OUT_PIECE)
                if inflater.eof:
                    return
                pending = inflater.unconsumed_tail
    yield inflater.flush()  # output zlib still holds once all input is in (less than its 32 KB window)


def _passes(layout: PngLayout) -> NDArray[np.int64]:
    """The non-empty passes as rows of (x0, y0, dx, dy, width, height, bytes per scanline)."""
    grid = _ADAM7 if layout.interlaced else ((0, 0, 1, 1),)
    bits = CHANNELS[layout.color_type] * layout.depth
    rows = []
    for x0, y0, dx, dy in grid:
        pw = max(0, -(-(layout.width - x0) // dx))
        ph = max(0, -(-(layout.height - y0) // dy))
        if pw and ph:
            rows.append((x0, y0, dx, dy, pw, ph, (pw * bits + 7) // 8))
    return np.array(rows, np.int64)


def _palette_and_key(layout: PngLayout) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """The palette as 256 RGBA entries (black and opaque past PLTE) and the transparency key (-1: none)."""
    palette = np.zeros((256, 4), np.uint8)
    palette[:, 3] = 255
    key = np.full(3, -1, np.int64)
    if layout.color_type == 3:
        entries = np.frombuffer(layout.palette[: len(layout.palette) // 3 * 3][: 256 * 3], np.uint8).reshape(-1, 3)
        palette[: len(entries), :3] = entries
        if layout.transparency is not None:
            alpha = np.frombuffer(layout.transparency[:256], np.uint8)
            palette[: len(alpha), 3] = alpha
    elif layout.transparency is not None:
        n = 1 if layout.color_type == 0 else 3 if layout.color_type == 2 else 0
        if n and len(layout.transparency) >= 2 * n:
            key[:n] = struct.unpack_from(f">{n}H", layout.transparency)
    return palette, key


@numba.njit(cache=True, nogil=True)
def _feed(
    piece: NDArray[np.uint8], pos: int, state: NDArray[np.int64], current: NDArray[np.uint8],
    previous: NDArray[np.uint8], passes: NDArray[np.int64], bpp: int, depth: int, color_type: int,
    palette: NDArray[np.uint8], key: NDArray[np.int64], batch: NDArray[np.uint8], batch_y: NDArray[np.int64],
    batch_pass: NDArray[np.int64],
) -> tuple[int, int, np.int64]:  # pragma: no cover - compiled  # fmt: skip
    """Consume inflated bytes from ``piece[pos:]`` until it ends, the batch is full or the image is done.

    Completed scanlines are unfiltered (PNG filters None, Sub, Up, Average, Paeth) and converted to
    RGBA into ``batch``. Returns (new pos, rows in the batch, unknown filter type or -1).
    """
    n = 0
    size = piece.shape[0]
    while pos < size and n < batch.shape[0] and state[0] < passes.shape[0]:
        p = state[0]
        line = passes[p, 6] + 1
        take = min(line - state[2], size - pos)
        fill = state[2]
        for i in range(take):
            current[fill + i] = piece[pos + i]
        pos += take
        state[2] = fill + take
        if state[2] < line:
            break
        state[2] = 0
        kind = current[0]
        if kind > 4:
            return pos, n, np.int64(kind)
        _unfilter(current, previous, line - 1, bpp, kind)
        _to_rgba(current, passes[p, 4], depth, color_type, palette, key, batch[n])
        batch_y[n] = passes[p, 1] + state[1] * passes[p, 3]
        batch_pass[n] = p
        n += 1
        for i in range(line - 1):
            previous[i] = current[i + 1]
        state[1] += 1
        if state[1] == passes[p, 5]:
            state[0] += 1
            state[1] = 0
            previous[:] = 0  # each pass starts as if above it were a row of zeros
    return pos, n, np.int64(-1)


@numba.njit(cache=True, inline="always")
def _unfilter(
    line: NDArray[np.uint8], previous: NDArray[np.uint8], size: int, bpp: int, kind: int
) -> None:  # pragma: no cover - compiled
    """Undo one scanline's filter in place: ``line[1:size+1]`` from its filtered bytes and ``previous``."""
    if kind == 1:
        for i in range(bpp, size):
            line[i + 1] = (line[i + 1] + line[i + 1 - bpp]) & 255
    elif kind == 2:
        for i in range(size):
            line[i + 1] = (line[i + 1] + previous[i]) & 255
    elif kind == 3:
        for i in range(size):
            left = np.int64(line[i + 1 - bpp]) if i >= bpp else np.int64(0)
            line[i + 1] = (line[i + 1] + ((left + previous[i]) >> 1)) & 255
    elif kind == 4:
        for i in range(size):
            a = np.int64(line[i + 1 - bpp]) if i >= bpp else np.int64(0)
            b = np.int64(previous[i])
            c = np.int64(previous[i - bpp]) if i >= bpp else np.int64(0)
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            if pa <= pb and pa <= pc:
                guess = a
            elif pb <= pc:
                guess = b
            else:
                guess = c
            line[i + 1] = (line[i + 1] + guess) & 255


@numba.njit(cache=True, inline="always")
def _sample(line: NDArray[np.uint8], i: int, depth: int) -> np.int64:  # pragma: no cover - compiled
    """Sample ``i`` of an unfiltered scanline (after its filter byte) at 1, 2, 4, 8 or 16 bits."""
    if depth == 8:
        return np.int64(line[1 + i])
    if depth == 16:
        return (np.int64(line[1 + 2 * i]) << 8) | np.int64(line[2 + 2 * i])
    bit = i * depth
    return (np.int64(line[1 + (bit >> 3)]) >> (8 - depth - (bit & 7))) & ((1 << depth) - 1)


@numba.njit(cache=True, inline="always")
def _to_8bit(value: np.int64, depth: int) -> np.int64:  # pragma: no cover - compiled
    """A non-gray sample as Pillow keeps it: 8-bit as is, 16-bit by its high byte."""
    return value >> 8 if depth == 16 else value


@numba.njit(cache=True, inline="always")
def _to_rgba(
    line: NDArray[np.uint8], width: int, depth: int, color_type: int, palette: NDArray[np.uint8],
    key: NDArray[np.int64], out: NDArray[np.uint8],
) -> None:  # pragma: no cover - compiled  # fmt: skip
    """Convert ``width`` pixels of an unfiltered scanline into ``out`` (W, 4) uint8 RGBA."""
    if color_type == 3:
        for i in range(width):
            v = _sample(line, i, depth)
            for c in range(4):
                out[i, c] = palette[v, c]
    elif color_type == 0:
        for i in range(width):
            v = _sample(line, i, depth)
            if depth == 16:
                g = (v + 128) // 257
            else:
                g = v * (255 // ((1 << depth) - 1))
            out[i, 0] = g
            out[i, 1] = g
            out[i, 2] = g
            out[i, 3] = 0 if v == key[0] else 255
    elif color_type == 2:
        for i in range(width):
            r = _sample(line, 3 * i, depth)
            g = _sample(line, 3 * i + 1, depth)
            b = _sample(line, 3 * i + 2, depth)
            out[i, 0] = _to_8bit(r, depth)
            out[i, 1] = _to_8bit(g, depth)
            out[i, 2] = _to_8bit(b, depth)
            out[i, 3] = 0 if (r == key[0] and g == key[1] and b == key[2]) else 255
    elif color_type == 4:
        for i in range(width):
            g = _to_8bit(_sample(line, 2 * i, depth), depth)
            out[i, 0] = g
            out[i, 1] = g
            out[i, 2] = g
            out[i, 3] = _to_8bit(_sample(line, 2 * i + 1, depth), depth)
    else:
        for i in range(width):
            for c in range(4):
                out[i, c] = _to_8bit(_sample(line, 4 * i + c, depth), depth)
