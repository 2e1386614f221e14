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
from dataclasses import dataclass

from pixeletica.engine import _jit

_jit.configure_cache()  # before any compiled kernel below is defined

import numba  # noqa: E402
import numpy as np  # noqa: E402

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Bit depths the PNG specification allows for each colour type.
_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
#: Adam7 passes as (first column, first row, column step, row step).
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
#: Compressed bytes handed to zlib at a time, and the most it may inflate them to in one call.
_IN_PIECE = 1 << 14
_OUT_PIECE = 1 << 18
#: Bytes of decoded RGBA rows gathered before they are colour-managed and summed (at least one row).
BATCH_BYTES = 1 << 20


class CorruptPng(ValueError):
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


def decode(
    data: bytes,
    layout: PngLayout,
    sink: BoxReducer,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
) -> None:
    """Decode ``layout``'s image data from ``data`` into ``sink``, a batch of rows at a time.

    ``transform`` (colour management) maps an (n, W, 4) uint8 batch to a new one of the same shape.
    Raises :class:`CorruptPng` when the compressed data is broken or ends before the last row.
    """
    width, depth = layout.width, layout.depth
    channels = _CHANNELS[layout.color_type]
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


def _passes(layout: PngLayout) -> np.ndarray:
    """The non-empty passes as rows of (x0, y0, dx, dy, width, height, bytes per scanline)."""
    grid = _ADAM7 if layout.interlaced else ((0, 0, 1, 1),)
    bits = _CHANNELS[layout.color_type] * layout.depth
    rows = []
    for x0, y0, dx, dy in grid:
        pw = max(0, -(-(layout.width - x0) // dx))
        ph = max(0, -(-(layout.height - y0) // dy))
        if pw and ph:
            rows.append((x0, y0, dx, dy, pw, ph, (pw * bits + 7) // 8))
    return np.array(rows, np.int64)


def _palette_and_key(layout: PngLayout) -> tuple[np.ndarray, np.ndarray]:
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


class BoxReducer:
    """Sums rows of 8-bit RGBA into f x f boxes and gives their alpha-weighted means.

    The source is ``width`` x ``height`` pixels; rows may come at 1/``scale`` of that size (a JPEG
    decoded with DCT scaling): a row pixel then stands for ``scale`` x ``scale`` source pixels and its
    weight in each box is the source area it shares with the box, so ``factor`` need not be a
    multiple of ``scale`` (``scale`` <= ``factor``). Output pixel (i, j) is the mean of the box's
    pixels: alpha the plain mean, colour weighted by alpha (a fully transparent box is 0, 0, 0, 0),
    the box filter of Pillow's ``Image.reduce`` without its 8-bit premultiplied rounding.

    The output is ceil(width / factor) x ceil(height / factor); the boxes that do not fit whole sit
    on the right and bottom, or on the left (``flip_x``) or top (``flip_y``) when the caller will
    mirror the result so they end on the right and bottom of the upright picture. With
    ``in_order`` rows come top to bottom and only two rows of sums are kept; otherwise (interlaced
    rows) the sums of the whole output are. With factor 1 and scale 1 pixels are copied unchanged.
    """

    def __init__(
        self,
        width: int,
        height: int,
        factor: int,
        *,
        scale: int = 1,
        flip_x: bool = False,
        flip_y: bool = False,
        in_order: bool = True,
    ) -> None:
        if factor < 1 or not 1 <= scale <= factor:
            raise ValueError(f"a box reduction needs 1 <= scale <= factor, got scale {scale} and factor {factor}")
        self.width, self.height, self.factor, self.scale = width, height, factor, scale
        self._copy = factor == 1
        self.out = np.zeros((-(-height // factor), -(-width // factor), 4), np.uint8)
        self._strip_pass = np.array([[0, 0, 1, 1, -(-width // scale), 1, 0]], np.int64)
        if self._copy:
            return
        self._cols = _weights(width, factor, scale, flip_x)
        self._rows = _weights(height, factor, scale, flip_y)
        self._rolling = in_order
        self._sums = np.zeros((2 if in_order else self.out.shape[0], self.out.shape[1], 5), np.float64)
        self._state = np.zeros(1, np.int64)  # rolling: the first box row still open

    @staticmethod
    def working_bytes(width: int, height: int, factor: int, *, scale: int = 1, in_order: bool = True) -> int:
        """Bytes a reducer of this size holds besides its output: the sums and the column and row weights."""
        if factor == 1:
            return 0
        out_w, out_h = -(-width // factor), -(-height // factor)
        sums = (2 if in_order else out_h) * out_w * 5 * 8
        return sums + 24 * (-(-width // scale) + -(-height // scale))

    def add(self, batch: np.ndarray, n: int, ys: np.ndarray, pass_of: np.ndarray, passes: np.ndarray) -> None:
        """Add ``n`` rows: row k is ``batch[k]``, source row ``ys[k]`` of pass ``pass_of[k]`` (see ``_passes``)."""
        if self._copy:
            _place(batch, n, ys, pass_of, passes, self.out)
            return
        cols, rows = self._cols, self._rows
        _accumulate(
            batch, n, ys, pass_of, passes, cols[0], cols[1], cols[2], rows[0], rows[1], rows[2],
            self._sums, self.out, self._state, self._rolling,
        )  # fmt: skip

    def add_strip(self, rows: np.ndarray, top: int) -> None:
        """Add consecutive full rows (k, W, 4) uint8 whose first is row ``top`` (in rows of 1/scale size)."""
        n = rows.shape[0]
        if rows.shape[1:] != (self._strip_pass[0, 4], 4) or top < 0 or top + n > -(-self.height // self.scale):
            # The kernels do not check bounds: a decoder that gave another size must not reach them.
            raise ValueError(
                f"rows {top}..{top + n} of shape {rows.shape} do not fit a {self.width}x{self.height} image"
            )
        ys = np.arange(top, top + n, dtype=np.int64)
        self.add(np.ascontiguousarray(rows), n, ys, np.zeros(n, np.int64), self._strip_pass)

    def result(self) -> np.ndarray:
        """The (ceil(H/f), ceil(W/f), 4) uint8 reduced image, once every row was added."""
        if not self._copy:
            _finish(self._sums, self.out, self._state, self._rolling)
        return self.out


def _weights(size: int, factor: int, scale: int, flip: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each pixel of a line of ``size`` source pixels seen at 1/``scale``: its box and its weights.

    Pixel j covers source pixels [scale*j, scale*(j+1)) (cut at ``size``); box b covers
    [b*factor - pad, (b+1)*factor - pad), where ``pad`` moves the partial box to the start when
    ``flip``. A pixel overlaps at most two boxes (scale <= factor): weight w0 goes to its first box,
    w1 to the next.
    """
    pad = (-size) % factor if flip else 0
    lo = np.arange(0, size, scale, dtype=np.int64)
    hi = np.minimum(lo + scale, size)
    box = (lo + pad) // factor
    split = (box + 1) * factor - pad
    w0 = (np.minimum(hi, split) - lo).astype(np.float64)
    w1 = (hi - lo).astype(np.float64) - w0
    return box, w0, w1


# --- compiled kernels -------------------------------------------------------------------------


@numba.njit(cache=True, nogil=True)
def _feed(
    piece, pos, state, current, previous, passes, bpp, depth, color_type, palette, key, batch, batch_y, batch_pass
):  # pragma: no cover - compiled
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
def _unfilter(line, previous, size, bpp, kind):  # pragma: no cover - compiled
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
def _sample(line, i, depth):  # pragma: no cover - compiled
    """Sample ``i`` of an unfiltered scanline (after its filter byte) at 1, 2, 4, 8 or 16 bits."""
    if depth == 8:
        return np.int64(line[1 + i])
    if depth == 16:
        return (np.int64(line[1 + 2 * i]) << 8) | np.int64(line[2 + 2 * i])
    bit = i * depth
    return (np.int64(line[1 + (bit >> 3)]) >> (8 - depth - (bit & 7))) & ((1 << depth) - 1)


@numba.njit(cache=True, inline="always")
def _to_8bit(value, depth):  # pragma: no cover - compiled
    """A non-gray sample as Pillow keeps it: 8-bit as is, 16-bit by its high byte."""
    return value >> 8 if depth == 16 else value


@numba.njit(cache=True, inline="always")
def _to_rgba(line, width, depth, color_type, palette, key, out):  # pragma: no cover - compiled
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


@numba.njit(cache=True, nogil=True)
def _place(batch, n, ys, pass_of, passes, out):  # pragma: no cover - compiled
    """Copy rows into the full-size output (factor 1): pixel i of a pass row lands at x0 + i*dx."""
    for k in range(n):
        p = pass_of[k]
        y = ys[k]
        for i in range(passes[p, 4]):
            x = passes[p, 0] + i * passes[p, 2]
            for c in range(4):
                out[y, x, c] = batch[k, i, c]


@numba.njit(cache=True, nogil=True)
def _accumulate(
    batch, n, ys, pass_of, passes, col_box, col_w0, col_w1, row_box, row_w0, row_w1, sums, out, state, rolling
):  # pragma: no cover - compiled
    """Add rows into the box sums (w*a*r, w*a*g, w*a*b, w*a, w per box); rolling sums keep two box rows."""
    rows = sums.shape[0]
    for k in range(n):
        p = pass_of[k]
        y = ys[k]
        by = row_box[y]
        wy0 = row_w0[y]
        wy1 = row_w1[y]
        if rolling:
            while state[0] < by:  # rows come in order: the boxes above are complete
                _finish_row(sums[state[0] % 2], out[state[0]])
                sums[state[0] % 2] = 0.0
                state[0] += 1
        r0 = by % rows
        r1 = (by + 1) % rows
        x0 = passes[p, 0]
        dx = passes[p, 2]
        for i in range(passes[p, 4]):
            x = x0 + i * dx
            a = np.float64(batch[k, i, 3])
            r = a * batch[k, i, 0]
            g = a * batch[k, i, 1]
            b = a * batch[k, i, 2]
            bx = col_box[x]
            wx0 = col_w0[x]
            wx1 = col_w1[x]
            _add(sums[r0, bx], wy0 * wx0, r, g, b, a)
            if wx1 > 0.0:
                _add(sums[r0, bx + 1], wy0 * wx1, r, g, b, a)
            if wy1 > 0.0:
                _add(sums[r1, bx], wy1 * wx0, r, g, b, a)
                if wx1 > 0.0:
                    _add(sums[r1, bx + 1], wy1 * wx1, r, g, b, a)


@numba.njit(cache=True, inline="always")
def _add(cell, w, r, g, b, a):  # pragma: no cover - compiled
    cell[0] += w * r
    cell[1] += w * g
    cell[2] += w * b
    cell[3] += w * a
    cell[4] += w


@numba.njit(cache=True, nogil=True)
def _finish(sums, out, state, rolling):  # pragma: no cover - compiled
    """Turn the sums still open into output pixels."""
    if rolling:
        for by in range(state[0], min(state[0] + 2, out.shape[0])):
            _finish_row(sums[by % 2], out[by])
        state[0] = out.shape[0]
    else:
        for by in range(out.shape[0]):
            _finish_row(sums[by], out[by])


@numba.njit(cache=True, inline="always")
def _finish_row(sums, out):  # pragma: no cover - compiled
    """Alpha = area-weighted mean of alpha; colour = alpha-weighted mean of colour, rounded half up."""
    for j in range(out.shape[0]):
        area = sums[j, 4]
        alpha = sums[j, 3]
        if area <= 0.0 or alpha <= 0.0:
            for c in range(4):
                out[j, c] = 0
            continue
        out[j, 3] = min(255, np.int64(np.floor(alpha / area + 0.5)))
        for c in range(3):
            out[j, c] = min(255, np.int64(np.floor(sums[j, c] / alpha + 0.5)))
