"""Schematics read back with independent readers (amulet-nbt, litemapy; they are written with nbtlib and by hand)."""

from __future__ import annotations

import amulet_nbt
import numpy as np
import pytest

from pixeletica.engine import palette
from pixeletica.engine.blockgrid import BlockGrid
from pixeletica.engine.exports import schematic, world
from pixeletica.errors import InvalidInput


@pytest.fixture(scope="module")
def grid() -> BlockGrid:
    pal = palette.select(palette.PaletteFilter(include_blocks=("stone", "oak_log", "white_wool", "red_concrete")))
    rng = np.random.default_rng(4)
    indices = rng.integers(-1, len(pal), (70, 100)).astype(np.int16)  # -1 = air
    return BlockGrid.from_palette(indices, pal)


def block_at(grid: BlockGrid, row: int, col: int) -> str:
    i = int(grid.indices[row, col])
    return "minecraft:air" if i < 0 else grid.block_ids[i]


def _root(data: bytes):
    tag = amulet_nbt.load(data)
    return tag.compound


def test_sponge_v3_for_worldedit(grid):
    placement = world.Placement(orientation="wall", origin_x=5, origin_y=120, origin_z=-3)
    root = _root(schematic.to_sponge(grid, placement))["Schematic"]
    assert int(root["Version"]) == 3 and int(root["DataVersion"]) == 3955
    width, height, length = int(root["Width"]), int(root["Height"]), int(root["Length"])
    assert (width, height, length) == (100, 70, 1)
    names = {int(v): k for k, v in root["Blocks"]["Palette"].items()}
    raw = bytes(np.asarray(root["Blocks"]["Data"], dtype=np.int8).view(np.uint8))
    values, value, shift = [], 0, 0
    for byte in raw:  # varints
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            values.append(value)
            value, shift = 0, 0
    assert len(values) == width * height * length
    for row, col in [(0, 0), (0, 99), (69, 0), (35, 50), (12, 77)]:
        x, y, z = col, height - 1 - row, 0  # wall: row 0 is the top layer
        assert names[values[x + z * width + y * width * length]] == block_at(grid, row, col)


def test_litematica(grid):
    placement = world.Placement(orientation="floor", name="cat", author="me", description="a test")
    root = _root(schematic.to_litematic(grid, placement))
    assert str(root["Metadata"]["Name"]) == "cat" and str(root["Metadata"]["Author"]) == "me"
    assert int(root["MinecraftDataVersion"]) == 3955
    region = root["Regions"]["cat"]
    size = {k: abs(int(region["Size"][k])) for k in ("x", "y", "z")}
    assert size == {"x": 100, "y": 1, "z": 70}
    names = [str(entry["Name"]) for entry in region["BlockStatePalette"]]
    longs = np.asarray(region["BlockStates"], dtype=np.int64).view(np.uint64)
    bits = max(2, (len(names) - 1).bit_length())

    def entry(i: int) -> int:  # Litematica packs entries tightly across 64-bit words
        start = i * bits
        word, offset = divmod(start, 64)
        value = int(longs[word]) >> offset
        if offset + bits > 64:
            value |= int(longs[word + 1]) << (64 - offset)
        return value & ((1 << bits) - 1)

    for row, col in [(0, 0), (69, 99), (35, 50), (5, 93)]:
        x, y, z = col, 0, row  # floor: rows along +Z
        assert names[entry((y * size["z"] + z) * size["x"] + x)] == block_at(grid, row, col)


def test_structure_pieces_are_at_most_48_and_cover_the_build(grid):
    placement = world.Placement(orientation="floor")
    pieces = schematic.to_structures(grid, placement)
    assert len(pieces) == 3 * 2  # 100 -> 48 + 48 + 4 along x, 70 -> 48 + 22 along z
    seen = 0
    for name, (x0, y0, z0), data in pieces:
        root = _root(data)
        size = [int(v) for v in root["size"]]
        assert all(1 <= s <= 48 for s in size) and name == f"x{x0}_y{y0}_z{z0}"
        states = [str(p["Name"]) for p in root["palette"]]
        assert "minecraft:air" not in states
        for block in root["blocks"]:
            x, _, z = (int(v) for v in block["pos"])  # floor: one layer
            assert states[int(block["state"])] == block_at(grid, z0 + z, x0 + x)
            seen += 1
    assert seen == int((grid.indices >= 0).sum())


def test_mcfunction_merges_runs_into_fill(grid):
    pal = palette.select(palette.PaletteFilter(include_blocks=("stone", "white_wool")))
    line = BlockGrid.from_palette(np.array([[0, 0, 0, 1, -1, 1]], dtype=np.int16), pal)
    text = schematic.to_mcfunction(line, world.Placement(orientation="floor", origin_x=-2, origin_y=64)).decode()
    commands = [c for c in text.splitlines() if not c.startswith("#")]
    first, second = pal.ids
    assert commands == [f"fill -2 64 0 0 64 0 {first}", f"setblock 1 64 0 {second}", f"setblock 3 64 0 {second}"]


@pytest.mark.parametrize(
    ("facing", "step"),  # world (dx, dz) from one column to the next, as the wall's viewer reads it
    [("south", (1, 0)), ("north", (-1, 0)), ("east", (0, -1)), ("west", (0, 1))],
)
def test_wall_facing_turns_the_picture_towards_its_viewer(facing, step):
    pal = palette.select(palette.PaletteFilter(include_blocks=("stone", "white_wool", "oak_planks", "red_concrete")))
    small = BlockGrid.from_palette(np.array([[0, 1, 2], [3, 0, 1]], dtype=np.int16), pal)
    placement = world.Placement(orientation="wall", facing=facing, origin_x=10, origin_y=70, origin_z=-5)
    text = schematic.to_mcfunction(small, placement).decode()
    placed = {}
    for command in text.splitlines():
        if command.startswith("setblock"):
            _, x, y, z, block = command.split()
            placed[int(x), int(y), int(z)] = block
    expected = {
        (10 + step[0] * col, 70 - row, -5 + step[1] * col): block_at(small, row, col)
        for row in range(2)
        for col in range(3)
    }
    assert placed == expected  # the top-left block is at the origin, the rest follow the viewer's right
    sponge = _root(schematic.to_sponge(small, placement))["Schematic"]
    assert (int(sponge["Width"]), int(sponge["Length"])) == ((3, 1) if step[1] == 0 else (1, 3))


def test_schematics_record_the_chosen_game_version(grid):
    placement = world.Placement(orientation="floor", game_version="1.19.2")
    assert int(_root(schematic.to_sponge(grid, placement))["Schematic"]["DataVersion"]) == 3120
    assert int(_root(schematic.to_litematic(grid, placement))["MinecraftDataVersion"]) == 3120
    assert all(int(_root(data)["DataVersion"]) == 3120 for _, _, data in schematic.to_structures(grid, placement))


def test_bad_placements_name_the_field(grid):
    with pytest.raises(InvalidInput, match="orientation must be floor or wall, got 'ceiling'"):
        schematic.to_sponge(grid, world.Placement(orientation="ceiling"))
    with pytest.raises(InvalidInput, match=r"game_version must be a Java release from 1\.13 .*, got '1\.8'"):
        schematic.to_sponge(grid, world.Placement(game_version="1.8"))
    with pytest.raises(InvalidInput, match="facing must be one of south, north, east, west, got 'up'"):
        schematic.to_sponge(grid, world.Placement(orientation="wall", facing="up"))


def test_placements_stay_inside_the_world():
    with pytest.raises(InvalidInput, match="origin_x 2147483648 is outside the world"):
        world.Placement(origin_x=2**31).validate()
    with pytest.raises(InvalidInput, match="origin_y 320 is outside the build height"):
        world.Placement(origin_y=320).validate()
    with pytest.raises(InvalidInput, match=r"origin_y -1 .* y runs from 0 to 255"):
        world.Placement(origin_y=-1, game_version="1.17.1").validate()
    world.Placement(origin_y=-64).validate()
    with pytest.raises(InvalidInput, match="below the world's bottom"):
        world.Placement(orientation="wall", origin_y=100).check_fits(10, 200)
    world.Placement(orientation="wall", origin_y=319).check_fits(10, 384)
    world.Placement(orientation="floor", origin_x=-29_999_983).check_fits(16, 16)  # runs towards +x: fits
    world.Placement(orientation="wall", origin_z=29_999_980).check_fits(300, 10)  # one block deep
    with pytest.raises(InvalidInput, match="past the world's edge"):
        world.Placement(orientation="floor", origin_z=29_999_000).check_fits(10, 2000)
    with pytest.raises(InvalidInput, match="whole number"):
        world.Placement(origin_x=1.5).validate()


def test_litematica_files_read_back_with_litemapy_block_for_block(tmp_path):
    from litemapy import Schematic

    rng = np.random.default_rng(7)
    for size in (2, 5, 37, 300):  # 1, 2, 6 and 9 bits per block, some spanning two 64-bit words
        names = ["minecraft:air", *(f"minecraft:block_{i}" for i in range(size - 2)), "minecraft:birch_log[axis=y]"]
        blocks = rng.integers(0, size, (7, 5, 9)).astype(np.int32)
        path = tmp_path / f"b{size}.litematic"
        path.write_bytes(schematic.to_litematic(schematic.Build(blocks, names, (0, 0, 0)), world.Placement()))
        region = next(iter(Schematic.load(str(path)).regions.values()))
        assert (region.width, region.height, region.length) == blocks.shape
        for x, y, z in np.ndindex(*blocks.shape):
            state = region[x, y, z]
            name, properties = schematic.block_state(names[blocks[x, y, z]])
            assert state.id == name and dict(state.properties()) == properties
