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
from dataclasses import dataclass
from typing import Any

import nbtlib
import numba
import numpy as np
from nbtlib.tag import ByteArray, Compound, Int, IntArray, List, Long, LongArray, Short, String
from numpy.typing import NDArray

from pixeletica.engine import _jit
from pixeletica.engine.blockgrid import BlockGrid
from pixeletica.engine.exports.world import Placement

_jit.configure_cache()  # before the compiled kernel below is defined

STRUCTURE_LIMIT = 48  # largest structure-block size per axis
AIR = "minecraft:air"


@dataclass(frozen=True)
class Build:
    """What the writers take: an (X, Y, Z) array of indices into ``palette`` (entry 0 is air) and
    the world position of its (0, 0, 0) corner (its smallest x, y and z)."""

    blocks: NDArray[np.uint8] | NDArray[np.int32]  # one byte a position where the palette is small
    palette: list[str]  # block ids, with their state where it matters: "minecraft:birch_log[axis=y]"
    origin: tuple[int, int, int]


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


def _as_build(source: BlockGrid | Build, placement: Placement) -> Build:
    if isinstance(source, Build):
        placement.validate()
        return source
    blocks, palette = volume(source, placement)
    return Build(blocks, palette, world_origin(source, placement))


def block_state(block: str) -> tuple[str, dict[str, str]]:
    """``"minecraft:birch_log[axis=y]"`` -> ``("minecraft:birch_log", {"axis": "y"})``."""
    name, _, rest = block.partition("[")
    properties = dict(item.split("=", 1) for item in rest.rstrip("]").split(",") if "=" in item)
    return name, properties


#: gzip's level for schematics: level 9 takes twice as long for a few per cent smaller files.
_GZIP_LEVEL = 6


def _nbt_bytes(root: Compound, name: str = "") -> bytes:
    buf = io.BytesIO()
    nbtlib.File(root, root_name=name).write(buf)
    return gzip.compress(buf.getvalue(), compresslevel=_GZIP_LEVEL, mtime=0)


def _varints(values: NDArray[np.uint8] | NDArray[np.int32]) -> bytes:
    """Each value (0 <= v < 2**21) as a protocol varint: 7 bits a byte, low first, the top bit saying more follow."""
    if int(values.max(initial=0)) < 1 << 7:  # every value one byte: the usual palette of under 128 blocks
        return values.astype(np.uint8).tobytes()
    flat = values.astype(np.uint32).ravel()
    lengths = 1 + (flat >= 1 << 7) + (flat >= 1 << 14)
    if int(flat.max(initial=0)) >= 1 << 21:
        raise ValueError("a block palette this large cannot be written")
    out = np.zeros((flat.size, 3), dtype=np.uint8)
    for k in range(3):
        more = lengths > k + 1
        out[:, k] = ((flat >> np.uint32(7 * k)) & 0x7F) | np.where(more, 0x80, 0)
    keep = np.arange(3)[None, :] < lengths[:, None]
    return out[keep].tobytes()


def to_sponge(source: BlockGrid | Build, placement: Placement) -> bytes:
    """Sponge schematic version 3 (``.schem``), read by WorldEdit and FastAsyncWorldEdit."""
    build = _as_build(source, placement)
    blocks, palette = build.blocks, build.palette
    width, height, length = blocks.shape
    order = blocks.transpose(1, 2, 0).ravel()  # index = x + z * width + y * width * length
    ox, oy, oz = build.origin
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


def to_structures(source: BlockGrid | Build, placement: Placement) -> list[tuple[str, tuple[int, int, int], bytes]]:
    """Vanilla structure files (``.nbt``) of at most 48x48x48 each: (offset name, offset in the build, bytes).

    The offset name is ``x<x>_y<y>_z<z>``; callers put the build's file stem before it. Place each
    piece with a structure block at the build's corner plus its offset. Air is left out, so
    loading a piece does not clear what is already there.
    """
    build = _as_build(source, placement)
    blocks, palette = build.blocks, build.palette
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
        name, properties = block_state(block)
        raw = name.encode()
        out += _name(_TAG_STRING, "Name") + len(raw).to_bytes(2, "big") + raw
        if properties:
            out += _name(_TAG_COMPOUND, "Properties")
            for key, value in properties.items():
                out += _name(_TAG_STRING, key) + len(value.encode()).to_bytes(2, "big") + value.encode()
            out += bytes([_TAG_END])
        out += bytes([_TAG_END])
    out += _name(_TAG_LIST, "blocks") + bytes([_TAG_COMPOUND]) + len(entries).to_bytes(4, "big") + entries.tobytes()
    out += _name(_TAG_LIST, "entities") + bytes([_TAG_COMPOUND]) + (0).to_bytes(4, "big")
    out += bytes([_TAG_END])
    return gzip.compress(bytes(out), compresslevel=_GZIP_LEVEL, mtime=0)


def to_mcfunction(source: BlockGrid | Build, placement: Placement) -> bytes:
    """A datapack function of ``setblock``/``fill`` commands at absolute coordinates; runs merged."""
    build = _as_build(source, placement)
    blocks, palette = build.blocks, build.palette
    ox, oy, oz = build.origin
    width, height, length = blocks.shape
    lines = [f"# Pixeletica: {placement.name}, {width}x{height}x{length} blocks (x, y, z), {placement.orientation}"]
    rows = blocks.transpose(1, 2, 0).reshape(-1, width)  # one row of x per (y, z), y outermost
    flat = rows.ravel()
    starts = np.ones(flat.size, dtype=bool)  # where a run of one block along x begins
    starts[1:] = flat[1:] != flat[:-1]
    starts[::width] = True
    begin = np.flatnonzero(starts)
    end = np.append(begin[1:], flat.size) - 1
    solid = flat[begin] != 0
    for first, last in zip(begin[solid].tolist(), end[solid].tolist(), strict=True):
        row, x0 = divmod(first, width)
        y, z = divmod(row, length)
        block = palette[int(flat[first])]
        wy, wz = oy + y, oz + z
        if last == first:
            lines.append(f"setblock {ox + x0} {wy} {wz} {block}")
        else:
            lines.append(f"fill {ox + x0} {wy} {wz} {ox + last % width} {wy} {wz} {block}")
    return ("\n".join(lines) + "\n").encode()


#: Litematica's format version and sub-version that these files follow.
_LITEMATIC_VERSION = (6, 1)


@numba.njit(cache=True, nogil=True)
def _packed_longs(values: NDArray[Any], bits: int) -> NDArray[np.int64]:  # pragma: no cover - compiled
    """Values of ``bits`` bits each, packed low bit first into 64-bit words, spanning word boundaries
    (Litematica's block-state array)."""
    flat = values.ravel()
    out = np.zeros((flat.size * bits + 63) // 64, dtype=np.uint64)
    for i in range(flat.size):
        value = np.uint64(flat[i])
        start = i * bits
        word, offset = start >> 6, start & 63
        out[word] |= value << np.uint64(offset)
        if offset + bits > 64:
            out[word + 1] |= value >> np.uint64(64 - offset)
    return out.view(np.int64)


def to_litematic(source: BlockGrid | Build, placement: Placement) -> bytes:
    """Litematica schematic (``.litematic``): one region, the build's blocks in a packed block-state array."""
    build = _as_build(source, placement)
    blocks, palette = build.blocks, build.palette
    sx, sy, sz = blocks.shape
    bits = max(2, (len(palette) - 1).bit_length())
    order = np.ascontiguousarray(blocks.transpose(1, 2, 0))  # index = x + z * sx + y * sx * sz
    now = Long(int(dt.datetime.now(dt.UTC).timestamp() * 1000))
    states = []
    for block in palette:
        name, properties = block_state(block)
        entry = {"Name": String(name)}
        if properties:
            entry["Properties"] = Compound({k: String(v) for k, v in properties.items()})
        states.append(Compound(entry))
    size = Compound({"x": Int(sx), "y": Int(sy), "z": Int(sz)})
    region = Compound(
        {
            "Position": Compound({"x": Int(0), "y": Int(0), "z": Int(0)}),
            "Size": size,
            "BlockStatePalette": List[Compound](states),
            "Entities": List[Compound]([]),
            "TileEntities": List[Compound]([]),
            "PendingBlockTicks": List[Compound]([]),
            "PendingFluidTicks": List[Compound]([]),
            "BlockStates": LongArray(_packed_longs(order, bits)),
        }
    )
    metadata = Compound(
        {
            "EnclosingSize": size,
            "Author": String(placement.author),
            "Description": String(placement.description),
            "Name": String(placement.name),
            "RegionCount": Int(1),
            "TimeCreated": now,
            "TimeModified": now,
            "TotalBlocks": Int(int(np.count_nonzero(blocks))),
            "TotalVolume": Int(sx * sy * sz),
        }
    )
    root = Compound(
        {
            "Version": Int(_LITEMATIC_VERSION[0]),
            "SubVersion": Int(_LITEMATIC_VERSION[1]),
            "MinecraftDataVersion": Int(placement.data_version),
            "Metadata": metadata,
            "Regions": Compound({placement.name: region}),
        }
    )
    return _nbt_bytes(root)
