"""Box reduction of an image that arrives row by row: f x f pixels become one, never holding the full picture.

Rows come in batches (``BATCH_BYTES`` of RGBA at a time) from the streaming PNG decoder, from a
JPEG decoded at 1/2..1/8 scale, or from strips of an image Pillow decoded whole. Each batch row
names its source row and its *pass*: a row of the ``passes`` table is (first column, first row,
column step, row step, width, height, bytes per scanline) — seven Adam7 passes for an interlaced
PNG, one pass (0, 0, 1, 1, W, H, -) for everything else (:func:`single_pass`).
"""

from __future__ import annotations

from pixeletica.engine import _jit

_jit.configure_cache()  # before any compiled kernel below is defined

import numba  # noqa: E402
import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

#: Bytes of decoded RGBA rows gathered before they are colour-managed and summed (at least one row).
BATCH_BYTES = 1 << 20


def single_pass(width: int, height: int = 1) -> NDArray[np.int64]:
    """The ``passes`` table of a picture that is not interlaced: one pass covering every pixel."""
    return np.array([[0, 0, 1, 1, width, height, 0]], np.int64)


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
            raise RuntimeError(f"a box reduction needs 1 <= scale <= factor, got scale {scale} and factor {factor}")
        self.width, self.height, self.factor, self.scale = width, height, factor, scale
        self._copy = factor == 1
        self.out = np.zeros((-(-height // factor), -(-width // factor), 4), np.uint8)
        self._strip_pass = single_pass(-(-width // scale))
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

    def add(
        self,
        batch: NDArray[np.uint8],
        n: int,
        ys: NDArray[np.int64],
        pass_of: NDArray[np.int64],
        passes: NDArray[np.int64],
    ) -> None:
        """Add ``n`` rows: row k is ``batch[k]``, source row ``ys[k]`` of pass ``pass_of[k]`` (see ``_passes``)."""
        if self._copy:
            _place(batch, n, ys, pass_of, passes, self.out)
            return
        cols, rows = self._cols, self._rows
        _accumulate(
            batch, n, ys, pass_of, passes, cols[0], cols[1], cols[2], rows[0], rows[1], rows[2],
            self._sums, self.out, self._state, self._rolling,
        )  # fmt: skip

    def add_strip(self, rows: NDArray[np.uint8], top: int) -> None:
        """Add consecutive full rows (k, W, 4) uint8 whose first is row ``top`` (in rows of 1/scale size)."""
        n = rows.shape[0]
        if rows.shape[1:] != (self._strip_pass[0, 4], 4) or top < 0 or top + n > -(-self.height // self.scale):
            # The kernels do not check bounds: a decoder that gave another size must not reach them.
            raise RuntimeError(
                f"rows {top}..{top + n} of shape {rows.shape} do not fit a {self.width}x{self.height} image"
            )
        ys = np.arange(top, top + n, dtype=np.int64)
        self.add(np.ascontiguousarray(rows), n, ys, np.zeros(n, np.int64), self._strip_pass)

    def result(self) -> NDArray[np.uint8]:
        """The (ceil(H/f), ceil(W/f), 4) uint8 reduced image, once every row was added."""
        if not self._copy:
            _finish(self._sums, self.out, self._state, self._rolling)
        return self.out


def _weights(
    size: int, factor: int, scale: int, flip: bool
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
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
def _place(
    batch: NDArray[np.uint8], n: int, ys: NDArray[np.int64], pass_of: NDArray[np.int64], passes: NDArray[np.int64],
    out: NDArray[np.uint8],
) -> None:  # pragma: no cover - compiled  # fmt: skip
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
    batch: NDArray[np.uint8], n: int, ys: NDArray[np.int64], pass_of: NDArray[np.int64], passes: NDArray[np.int64],
    col_box: NDArray[np.int64], col_w0: NDArray[np.float64], col_w1: NDArray[np.float64], row_box: NDArray[np.int64],
    row_w0: NDArray[np.float64], row_w1: NDArray[np.float64], sums: NDArray[np.float64], out: NDArray[np.uint8],
    state: NDArray[np.int64], rolling: bool,
) -> None:  # pragma: no cover - compiled  # fmt: skip
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
def _add(
    cell: NDArray[np.float64], w: float, r: float, g: float, b: float, a: float | np.float64
) -> None:  # pragma: no cover - compiled
    cell[0] += w * r
    cell[1] += w * g
    cell[2] += w * b
    cell[3] += w * a
    cell[4] += w


@numba.njit(cache=True, nogil=True)
def _finish(
    sums: NDArray[np.float64], out: NDArray[np.uint8], state: NDArray[np.int64], rolling: bool
) -> None:  # pragma: no cover - compiled
    """Turn the sums still open into output pixels."""
    if rolling:
        for by in range(state[0], min(state[0] + 2, out.shape[0])):
            _finish_row(sums[by % 2], out[by])
        state[0] = out.shape[0]
    else:
        for by in range(out.shape[0]):
            _finish_row(sums[by], out[by])


@numba.njit(cache=True, inline="always")
def _finish_row(sums: NDArray[np.float64], out: NDArray[np.uint8]) -> None:  # pragma: no cover - compiled
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
