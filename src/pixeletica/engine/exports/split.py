"""Splitting a build into parts of near-equal size whose borders follow chunk lines where possible."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from pixeletica.errors import InvalidInput

#: How far (in blocks) a cut may move to land on a chunk border.
_SNAP = 8


@dataclass(frozen=True, kw_only=True)
class Part:
    """A rectangle of the block grid, rows row0..row1 and columns col0..col1 (ends excluded)."""

    row0: int
    row1: int
    col0: int
    col1: int
    origin_x: int
    origin_z: int

    @property
    def label(self) -> str:
        """World coordinate range, e.g. 'x-16..15_z0..31'."""
        x0, x1 = self.origin_x + self.col0, self.origin_x + self.col1 - 1
        z0, z1 = self.origin_z + self.row0, self.origin_z + self.row1 - 1
        return f"x{x0}..{x1}_z{z0}..{z1}"


def _grid_shape(width: int, height: int, count: int) -> tuple[int, int]:
    """(rows, cols) with rows * cols == count whose parts are closest to square."""
    best = (count, 1)
    best_score = float("inf")
    for rows in range(1, count + 1):
        if count % rows:
            continue
        cols = count // rows
        if rows > height or cols > width:
            continue
        aspect = (width / cols) / (height / rows)
        score = max(aspect, 1 / aspect)
        if score < best_score:
            best, best_score = (rows, cols), score
    return best


def _cuts(length: int, pieces: int, origin: int) -> list[int]:
    """Cut positions 0 = c0 < c1 < ... < c_pieces = length, moved onto chunk borders when near one."""
    cuts = [0]
    for k in range(1, pieces):
        ideal = round(k * length / pieces)
        border = ideal - ((origin + ideal) % 16)  # the chunk border at or before the ideal cut
        candidates = [c for c in (border, border + 16) if abs(c - ideal) <= _SNAP]
        cut = min(candidates, key=lambda c: abs(c - ideal)) if candidates else ideal
        if not cuts[-1] < cut < length:
            cut = ideal
        cuts.append(cut)
    cuts.append(length)
    if any(b <= a for a, b in itertools.pairwise(cuts)):
        raise InvalidInput(f"cannot split {length} blocks into {pieces} parts")
    return cuts


def parts(width: int, height: int, count: int, origin_x: int = 0, origin_z: int = 0) -> list[Part]:
    """``count`` parts of a width x height grid, in reading order (top row first)."""
    if count < 1:
        raise InvalidInput(f"image_division must be 1 or more, got {count}", field="image_division")
    if count > width * height:
        raise InvalidInput(
            f"image_division {count} is more parts than the {width}x{height} grid has blocks", field="image_division"
        )
    rows, cols = _grid_shape(width, height, count)
    if rows > height or cols > width:
        raise InvalidInput(
            f"image_division {count} cannot split a {width}x{height} grid into a grid of parts", field="image_division"
        )
    row_cuts = _cuts(height, rows, origin_z)
    col_cuts = _cuts(width, cols, origin_x)
    return [
        Part(
            row0=row_cuts[r],
            row1=row_cuts[r + 1],
            col0=col_cuts[c],
            col1=col_cuts[c + 1],
            origin_x=origin_x,
            origin_z=origin_z,
        )
        for r in range(rows)
        for c in range(cols)
    ]
