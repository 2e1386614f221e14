"""The block grid: which block goes where. The one result every export reads.

Stored as a ``.npz`` file (numpy's zip of arrays, read with ``numpy.load(path)``, no pickling):

============= ================ ==========================================================
array         shape, dtype     meaning
============= ================ ==========================================================
indices       (H, W) int16     palette index of the block at row y (top = 0), column x;
                               -1 = air (a transparent pixel: no block)
block_ids     (P,) str         namespaced block id of each palette index
names         (P,) str         display name of each palette index
colors        (P, 3) uint8     sRGB colour of each palette index on the chosen face
face          () str           "side" (walls) or "top" (floors)
meta          () str           JSON object: algorithm, metric, source size, ...
format        () int           format version, currently 1
============= ================ ==========================================================
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pixeletica.engine import defaults
from pixeletica.engine.palette import Palette
from pixeletica.errors import InvalidInput

FORMAT_VERSION = 1
#: zlib level of the .npz: the fastest (a block grid is written by every task; reading is as fast).
_NPZ_COMPRESSION = 1
AIR = -1


@dataclass(frozen=True)
class BlockGrid:
    """Palette indices per position plus the palette they index."""

    indices: NDArray[np.int16]
    block_ids: tuple[str, ...]
    names: tuple[str, ...]
    colors: NDArray[np.uint8]
    face: str = defaults.DEFAULT_FACE
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_palette(
        cls, indices: NDArray[np.int16], palette: Palette, meta: dict[str, Any] | None = None
    ) -> BlockGrid:
        return cls(
            indices=indices,
            block_ids=tuple(palette.ids),
            names=tuple(b.name for b in palette.blocks),
            colors=palette.colors,
            face=palette.face,
            meta=dict(meta or {}),
        )

    @property
    def width(self) -> int:
        return int(self.indices.shape[1])

    @property
    def height(self) -> int:
        return int(self.indices.shape[0])

    @property
    def air_count(self) -> int:
        return int((self.indices == AIR).sum())

    def counts(self) -> NDArray[np.intp]:
        """Number of blocks of each palette index, shape (P,); air is not counted."""
        flat = self.indices.ravel()
        return np.bincount(flat[flat >= 0], minlength=len(self.block_ids))

    def to_rgba(self) -> NDArray[np.uint8]:
        """(H, W, 4) uint8 picture: one pixel per block in its colour; air fully transparent."""
        lut = np.zeros((len(self.block_ids) + 1, 4), dtype=np.uint8)
        lut[1:, :3] = self.colors
        lut[1:, 3] = 255
        rgba: NDArray[np.uint8] = lut[self.indices.astype(np.int32) + 1]
        return rgba

    def to_npz(self) -> bytes:
        """The grid as a compressed ``.npz`` (what ``np.savez_compressed`` writes, at the fastest
        compression level: 3-6 times faster than its default for files about a fifth larger)."""
        arrays = {
            "indices": self.indices.astype(np.int16),
            "block_ids": np.array(self.block_ids, dtype=str),
            "names": np.array(self.names, dtype=str),
            "colors": self.colors.astype(np.uint8),
            "face": np.array(self.face),
            "meta": np.array(json.dumps(self.meta, sort_keys=True)),
            "format": np.array(FORMAT_VERSION),
        }
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=_NPZ_COMPRESSION) as archive:
            for name, array in arrays.items():
                with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.save(member, array, allow_pickle=False)
        return buf.getvalue()

    @classmethod
    def from_npz(cls, data: bytes) -> BlockGrid:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                version = int(npz["format"])
                if version != FORMAT_VERSION:
                    raise InvalidInput(f"block grid format {version} is not supported (expected {FORMAT_VERSION})")
                indices = npz["indices"]
                grid = cls(
                    indices=indices,
                    block_ids=tuple(str(s) for s in npz["block_ids"]),
                    names=tuple(str(s) for s in npz["names"]),
                    colors=npz["colors"],
                    face=str(npz["face"]),
                    meta=json.loads(str(npz["meta"])),
                )
        except (KeyError, ValueError, OSError) as exc:
            raise InvalidInput(f"not a Pixeletica block grid file: {exc}") from None
        if grid.indices.ndim != 2 or grid.indices.max(initial=-1) >= len(grid.block_ids):
            raise InvalidInput("block grid file is inconsistent: an index points past its palette")
        return grid
