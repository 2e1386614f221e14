"""Schematics of a block grid: Litematica, Sponge v3 (WorldEdit), structure blocks, .mcfunction.

Placement: ``floor`` lays the picture flat (columns along +X, rows along +Z, one layer at
``origin_y``, the picture's top towards north). ``wall`` stands it up, one block thick, rows going
down from ``origin_y``, its front facing ``facing``: a wall facing south is read by someone standing
south of it, so its columns run along +X; north: along -X; east: along -Z; west: along +Z. In every
case (origin_x, origin_y, origin_z) is the world position of the picture's top-left block as its
viewer sees it. Transparent pixels are air. Files record the target game's data version.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbtlib
import numpy as np
from nbtlib.tag import ByteArray, Compound, Int, IntArray, List, Long, Short, String
from numpy.typing import NDArray

from pixeletica.engine import defaults
from pixeletica.engine.blockgrid import BlockGrid
from pixeletica.errors import InvalidInput

ORIENTATIONS = ("floor", "wall")
FACINGS = ("south", "north", "east", "west")
#: Data version of every Java release since the flattening (the ``version.json`` in the client jar).
DATA_VERSIONS = {
    "1.13": 1519, "1.13.1": 1628, "1.13.2": 1631,
    "1.14": 1952, "1.14.1": 1957, "1.14.2": 1963, "1.14.3": 1968, "1.14.4": 1976,
    "1.15": 2225, "1.15.1": 2227, "1.15.2": 2230,
    "1.16": 2566, "1.16.1": 2567, "1.16.2": 2578, "1.16.3": 2580, "1.16.4": 2584, "1.16.5": 2586,
    "1.17": 2724, "1.17.1": 2730,
    "1.18": 2860, "1.18.1": 2865, "1.18.2": 2975,
    "1.19": 3105, "1.19.1": 3117, "1.19.2": 3120, "1.19.3": 3218, "1.19.4": 3337,
    "1.20": 3463, "1.20.1": 3465, "1.20.2": 3578, "1.20.3": 3698, "1.20.4": 3700, "1.20.5": 3837, "1.20.6": 3839,
    "1.21": 3953, "1.21.1": 3955, "1.21.2": 4080, "1.21.3": 4082, "1.21.4": 4189,
}  # fmt: skip
STRUCTURE_LIMIT = 48  # largest structure-block size per axis
AIR = "minecraft:air"
#: Blocks can be placed up to this far from 0 along x and z (the world border's reach).
WORLD_LIMIT = 29_999_983
#: Lowest and highest buildable y since 1.18 (the caves-and-cliffs world height), and before it.
BUILD_HEIGHT = (-64, 319)
BUILD_HEIGHT_BEFORE_1_18 = (0, 255)


@dataclass(frozen=True, kw_only=True)
class Placement:
    """Where and how a build stands in the world, and for which game version."""

    orientation: str = defaults.DEFAULT_ORIENTATION
    facing: str = defaults.DEFAULT_FACING  # which way a wall's picture faces; ignored for floor
    origin_x: int = 0
    origin_y: int = defaults.DEFAULT_ORIGIN_Y
    origin_z: int = 0
    game_version: str = defaults.DEFAULT_GAME_VERSION
    name: str = "pixeletica"
    author: str = defaults.DEFAULT_AUTHOR
    description: str = ""

    def validate(self) -> None:
        if self.orientation not in ORIENTATIONS:
            raise InvalidInput(f"unknown orientation {self.orientation!r}; choose one of: {', '.join(ORIENTATIONS)}")
        if self.facing not in FACINGS:
            raise InvalidInput(f"unknown facing {self.facing!r}; choose one of: {', '.join(FACINGS)}")
        if self.game_version not in DATA_VERSIONS:
            raise InvalidInput(
                f"unknown game version {self.game_version!r} for schematics; choose a Java release from "
                f"1.13 to {list(DATA_VERSIONS)[-1]}, e.g. {defaults.DEFAULT_GAME_VERSION}"
            )
        for axis in ("origin_x", "origin_y", "origin_z"):
            value = getattr(self, axis)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput(f"{axis} must be a whole number, got {value!r}", field=axis)
        for axis in ("origin_x", "origin_z"):
            value = getattr(self, axis)
            if not -WORLD_LIMIT <= value <= WORLD_LIMIT:
                raise InvalidInput(
                    f"{axis} {value} is outside the world: blocks can be placed from {-WORLD_LIMIT:,} "
                    f"to {WORLD_LIMIT:,}",
                    field=axis,
                )
        low, high = self.build_height
        if not low <= self.origin_y <= high:
            raise InvalidInput(
                f"origin_y {self.origin_y} is outside the build height of Minecraft {self.game_version}: "
                f"y runs from {low} to {high}",
                field="origin_y",
            )

    @property
    def data_version(self) -> int:
        return DATA_VERSIONS[self.game_version]

    @property
    def build_height(self) -> tuple[int, int]:
        """The lowest and highest y a block can be placed at in the chosen game version."""
        return BUILD_HEIGHT if self.data_version >= DATA_VERSIONS["1.18"] else BUILD_HEIGHT_BEFORE_1_18

    def check_fits(self, width: int, height: int) -> None:
        """Refuse a build of ``width`` x ``height`` blocks that would reach outside the world from this origin."""
        self.validate()
        if self.orientation == "wall":
            low, high = self.build_height
            bottom = self.origin_y - (height - 1)
            if bottom < low:
                raise InvalidInput(
                    f"a wall {height} blocks tall with its top row at y {self.origin_y} would reach down to y "
                    f"{bottom}, below the world's bottom (y {low}); at most {self.origin_y - low + 1} blocks fit "
                    f"under y {self.origin_y} ({high - low + 1} in all): raise origin_y, make the picture "
                    "smaller, or build it as a floor"
                )
        for axis, (low_end, high_end) in self.extent(width, height).items():
            if low_end < -WORLD_LIMIT or high_end > WORLD_LIMIT:
                raise InvalidInput(
                    f"the build would reach {axis} {high_end if high_end > WORLD_LIMIT else low_end}, past the "
                    f"world's edge (±{WORLD_LIMIT:,}): move origin_{axis} closer to 0"
                )

    def extent(self, width: int, height: int) -> dict[str, tuple[int, int]]:
        """The lowest and highest world x and z a build of ``width`` x ``height`` blocks occupies."""
        x, z, across = self.origin_x, self.origin_z, width - 1
        if self.orientation == "floor":
            return {"x": (x, x + across), "z": (z, z + height - 1)}
        return {  # a wall: one block deep, its columns along the axis its facing says
            "south": {"x": (x, x + across), "z": (z, z)},
            "north": {"x": (x - across, x), "z": (z, z)},
            "east": {"x": (x, x), "z": (z - across, z)},
            "west": {"x": (x, x), "z": (z, z + across)},
        }[self.facing]


def volume(grid: BlockGrid, placement: Placement) -> tuple[NDArray[np.int32], list[str]]:
    """(X, Y, Z) array of indices into a palette whose entry 0 is air, and that palette."""
    placement.validate()
    used = sorted({int(i) for i in np.unique(grid.indices) if i >= 0})
    palette = [AIR] + [grid.block_ids[i] for i in used]
    remap = np.zeros(len(grid.block_ids) + 1, dtype=np.int32)
    for new, old in enumerate(used, start=1):
        remap[old + 1] = new
    flat = remap[grid.indices.astype(np.int32) + 1]  # (rows, cols), 0 = air
    if placement.orientation == "floor":
        blocks = flat.T[:, None, :]  # x = col, y = 0, z = row
    else:
        upright = flat.T[:, ::-1]  # (col, y) with y = rows - 1 - row: row 0 on top
        blocks = {
            "south": upright[:, :, None],  # x = col
            "north": upright[::-1, :, None],  # x = -col
            "east": upright[::-1].T[None, :, :],  # z = -col
            "west": upright.T[None, :, :],  # z = col
        }[placement.facing]
    return np.ascontiguousarray(blocks), palette


def world_origin(grid: BlockGrid, placement: Placement) -> tuple[int, int, int]:
    """World position of the volume's (0, 0, 0) corner (its smallest x, y and z)."""
    x, y, z = placement.origin_x, placement.origin_y, placement.origin_z
    if placement.orientation == "floor":
        return x, y, z
    back = grid.width - 1  # how far the last column is from the first
    y -= grid.height - 1
    if placement.facing == "north":
        return x - back, y, z
    if placement.facing == "east":
        return x, y, z - back
    return x, y, z


def _nbt_bytes(root: Compound, name: str = "") -> bytes:
    buf = io.BytesIO()
    nbtlib.File(root, root_name=name).write(buf)
    return gzip.compress(buf.getvalue(), mtime=0)


def _varints(values: NDArray[np.int32]) -> bytes:
    out = bytearray()
    for value in values.tolist():
        while value >= 0x80:
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        out.append(value)
    return bytes(out)


def to_sponge(grid: BlockGrid, placement: Placement) -> bytes:
    """Sponge schematic version 3 (``.schem``), read by WorldEdit and FastAsyncWorldEdit."""
    blocks, palette = volume(grid, placement)
    width, height, length = blocks.shape
    order = blocks.transpose(1, 2, 0).ravel()  # index = x + z * width + y * width * length
    ox, oy, oz = world_origin(grid, placement)
    schematic = Compound(
        {
            "Version": Int(3),
            "DataVersion": Int(placement.data_version),
            "Width": Short(width),
            "Height": Short(height),
            "Length": Short(length),
            "Offset": IntArray([0, 0, 0]),
            "Metadata": Compound(
                {
                    "Name": String(placement.name),
                    "Author": String(placement.author),
                    "Date": Long(int(dt.datetime.now(dt.UTC).timestamp() * 1000)),
                    "WEOffsetX": Int(0),
                    "WEOffsetY": Int(0),
                    "WEOffsetZ": Int(0),
                    "PixeleticaOrigin": IntArray([ox, oy, oz]),
                }
            ),
            "Blocks": Compound(
                {
                    "Palette": Compound({block: Int(i) for i, block in enumerate(palette)}),
                    "Data": ByteArray(np.frombuffer(_varints(order), dtype=np.int8)),
                    "BlockEntities": List[Compound]([]),
                }
            ),
        }
    )
    return _nbt_bytes(Compound({"Schematic": schematic}))


def to_structures(grid: BlockGrid, placement: Placement) -> list[tuple[str, tuple[int, int, int], bytes]]:
    """Vanilla structure files (``.nbt``) of at most 48x48x48 each: (offset name, offset in the build, bytes).

    The offset name is ``x<x>_y<y>_z<z>``; callers put the build's file stem before it. Place each
    piece with a structure block at the build's corner plus its offset. Air is left out, so
    loading a piece does not clear what is already there.
    """
    blocks, palette = volume(grid, placement)
    size = blocks.shape
    pieces = []
    for x0 in range(0, size[0], STRUCTURE_LIMIT):
        for y0 in range(0, size[1], STRUCTURE_LIMIT):
            for z0 in range(0, size[2], STRUCTURE_LIMIT):
                part = blocks[x0 : x0 + STRUCTURE_LIMIT, y0 : y0 + STRUCTURE_LIMIT, z0 : z0 + STRUCTURE_LIMIT]
                used = sorted(int(v) for v in np.unique(part) if v != 0)
                local = np.zeros(len(palette), dtype=np.int32)
                local[used] = np.arange(len(used), dtype=np.int32)
                positions = np.argwhere(part != 0)  # x, y, z of every block that is not air
                states = local[part[part != 0]]
                data = _structure_nbt(part.shape, [palette[i] for i in used], positions, states, placement.data_version)
                name = f"x{x0}_y{y0}_z{z0}"
                pieces.append((name, (x0, y0, z0), data))
    return pieces


#: One entry of a structure's block list, {pos: [x, y, z], state: n}, as NBT bytes (big-endian).
_BLOCK_ENTRY = np.dtype(
    [
        ("pos_tag", "u1"), ("pos_name_len", ">u2"), ("pos_name", "S3"), ("pos_type", "u1"), ("pos_len", ">i4"),
        ("pos", ">i4", (3,)),
        ("state_tag", "u1"), ("state_name_len", ">u2"), ("state_name", "S5"), ("state", ">i4"),
        ("end", "u1"),
    ]
)  # fmt: skip
_TAG_END, _TAG_INT, _TAG_STRING, _TAG_LIST, _TAG_COMPOUND = 0, 3, 8, 9, 10


def _name(tag: int, name: str) -> bytes:
    raw = name.encode()
    return bytes([tag]) + len(raw).to_bytes(2, "big") + raw


def _structure_nbt(
    size: tuple[int, ...],
    names: list[str],
    positions: NDArray[np.intp],
    states: NDArray[np.int32],
    data_version: int,
) -> bytes:
    """A structure file's NBT, written directly: a build has up to 110 592 blocks per piece, and
    building a tag object for each takes seconds. Layout: https://minecraft.wiki/w/Structure_file."""
    entries = np.zeros(len(states), dtype=_BLOCK_ENTRY)
    entries["pos_tag"], entries["pos_name_len"], entries["pos_name"] = _TAG_LIST, 3, b"pos"
    entries["pos_type"], entries["pos_len"], entries["pos"] = _TAG_INT, 3, positions
    entries["state_tag"], entries["state_name_len"], entries["state_name"] = _TAG_INT, 5, b"state"
    entries["state"] = states
    entries["end"] = _TAG_END
    out = bytearray(_name(_TAG_COMPOUND, ""))
    out += _name(_TAG_INT, "DataVersion") + data_version.to_bytes(4, "big", signed=True)
    out += _name(_TAG_LIST, "size") + bytes([_TAG_INT]) + (3).to_bytes(4, "big") + np.asarray(size, ">i4").tobytes()
    out += _name(_TAG_LIST, "palette") + bytes([_TAG_COMPOUND]) + len(names).to_bytes(4, "big")
    for block in names:
        raw = block.encode()
        out += _name(_TAG_STRING, "Name") + len(raw).to_bytes(2, "big") + raw + bytes([_TAG_END])
    out += _name(_TAG_LIST, "blocks") + bytes([_TAG_COMPOUND]) + len(entries).to_bytes(4, "big") + entries.tobytes()
    out += _name(_TAG_LIST, "entities") + bytes([_TAG_COMPOUND]) + (0).to_bytes(4, "big")
    out += bytes([_TAG_END])
    return gzip.compress(bytes(out), compresslevel=6, mtime=0)


def to_mcfunction(grid: BlockGrid, placement: Placement) -> bytes:
    """A datapack function of ``setblock``/``fill`` commands at absolute coordinates; runs merged."""
    blocks, palette = volume(grid, placement)
    ox, oy, oz = world_origin(grid, placement)
    lines = [f"# Pixeletica: {placement.name}, {grid.width}x{grid.height} blocks, {placement.orientation}"]
    width, height, length = blocks.shape
    for y in range(height):
        for z in range(length):
            row = blocks[:, y, z]
            x = 0
            while x < width:
                value = int(row[x])
                end = x
                while end + 1 < width and row[end + 1] == value:
                    end += 1
                if value != 0:
                    wx, wy, wz = ox + x, oy + y, oz + z
                    if end == x:
                        lines.append(f"setblock {wx} {wy} {wz} {palette[value]}")
                    else:
                        lines.append(f"fill {wx} {wy} {wz} {ox + end} {wy} {wz} {palette[value]}")
                x = end + 1
    return ("\n".join(lines) + "\n").encode()


def to_litematic(grid: BlockGrid, placement: Placement) -> bytes:
    """Litematica schematic (``.litematic``), written with litemapy."""
    from litemapy import BlockState, Region, Schematic

    blocks, palette = volume(grid, placement)
    region = Region(0, 0, 0, *blocks.shape)
    states = [BlockState(block) for block in palette]
    for state in states[1:]:  # register the palette once, then fill the index array in one go
        region[0, 0, 0] = state
    region[0, 0, 0] = states[0]
    store = region._Region__blocks  # litemapy keeps palette indices in this (x, y, z) array
    order = [region._Region__palette.index(state) for state in states]
    store[...] = np.asarray(order, dtype=store.dtype)[blocks]
    schematic = Schematic(
        name=placement.name,
        author=placement.author,
        description=placement.description,
        regions={placement.name: region},
        mc_version=placement.data_version,
    )
    with tempfile.TemporaryDirectory() as folder:  # litemapy writes to a path only
        path = Path(folder) / "build.litematic"
        schematic.save(str(path))
        return path.read_bytes()
