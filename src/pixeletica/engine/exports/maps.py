"""Map art's files: the picture framed to whole maps, the build, map item files, per map and whole.

See :mod:`pixeletica.engine.mapart` for how a picture is planned.
"""

from __future__ import annotations

import gzip
import io
import re
from dataclasses import dataclass

import nbtlib
import numpy as np
from nbtlib.tag import Byte, ByteArray, Compound, Int, List, String
from numpy.typing import NDArray

from pixeletica import names
from pixeletica.engine import defaults, image_io, mapart, png, quality
from pixeletica.engine.blockgrid import BlockGrid
from pixeletica.engine.exports import materials, schematic, world
from pixeletica.engine.mapart import MAP_SIZE, MapArt
from pixeletica.errors import InvalidInput

FRAMINGS = ("crop", "fit")
#: Highest first map id: the ids of up to 32 x 32 maps after it stay within the game's 32-bit ids.
MAX_MAP_ID = 2**31 - 1 - 32 * 32
#: Most maps built at once (flat or staircase): a build holds one byte per position in memory, and
#: 64 maps of a staircase reach about a gigabyte with their files. Map files have no such limit.
MAX_BUILT_MAPS = 64
_MAPS = re.compile(r"([0-9]{1,3})x([0-9]{1,3})")  # ASCII digits only: int() refuses some that isdigit() takes
LAYOUTS = ("auto", "legacy", "modern")
#: A white that padding takes in a build (a map file pads with transparency instead).
_PAD_COLOUR = (255, 255, 255, 255)


#: Most maps across or down.
MAX_MAPS_SIDE = 32


def parse_maps(text: str) -> tuple[int, int]:
    """``"2x3"`` -> (2, 3): maps across and down, each 128 blocks."""
    match = _MAPS.fullmatch(text.strip().lower()) if isinstance(text, str) else None
    top = MAX_MAPS_SIDE
    across, down = match.groups() if match else ("0", "0")
    if not (1 <= int(across) <= top and 1 <= int(down) <= top):
        raise InvalidInput(
            f"maps must be two whole numbers from 1 to {top} as ACROSSxDOWN, e.g. 2x3; got {names.shown(text)}",
            field="maps",
        )
    return int(across), int(down)


def frame(rgba: NDArray[np.uint8], maps: tuple[int, int], framing: str, kind: str, resample: str) -> NDArray[np.uint8]:
    """Resize an (H, W, 4) picture to exactly ``maps`` maps: cover and cut the middle out (``crop``)
    or fit inside and pad around (``fit``; transparent in map files, white in builds).

    A crop cuts the middle out of the source first, so nothing larger than the maps is ever made
    (a 5000x1 picture does not become 640,000 pixels wide on its way to one map)."""
    if framing not in FRAMINGS:
        raise InvalidInput(
            f"unknown framing {names.shown(framing)}; choose one of: {', '.join(FRAMINGS)}", field="framing"
        )
    width, height = maps[0] * MAP_SIZE, maps[1] * MAP_SIZE
    h, w = rgba.shape[:2]
    if framing == "crop":  # the middle part of the source with the maps' proportions
        keep_w, keep_h = min(w, max(1, round(h * width / height))), min(h, max(1, round(w * height / width)))
        top, left = (h - keep_h) // 2, (w - keep_w) // 2
        rgba = np.ascontiguousarray(rgba[top : top + keep_h, left : left + keep_w])
        h, w = rgba.shape[:2]
    scale = (max if framing == "crop" else min)(width / w, height / h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resized = image_io.resize(rgba, size, resample)
    out = np.zeros((height, width, 4), dtype=np.uint8)
    if kind != "map-file":
        out[:] = _PAD_COLOUR
    # centre: crop takes the middle of the resized picture, fit puts it in the middle of the frame
    sy, sx = max(0, (size[1] - height) // 2), max(0, (size[0] - width) // 2)
    dy, dx = max(0, (height - size[1]) // 2), max(0, (width - size[0]) // 2)
    part = resized[sy : sy + height, sx : sx + width]
    out[dy : dy + part.shape[0], dx : dx + part.shape[1]] = part
    return out


def on_white(rgba: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """(H, W, 3) RGB of a picture laid over white: a build shows every position, so what is transparent
    in the picture is built white, like ``fit``'s padding (map files keep transparency instead)."""
    alpha = rgba[..., 3:4].astype(np.uint16)
    return ((rgba[..., :3].astype(np.uint16) * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)


def support_needed(art: MapArt) -> NDArray[np.bool_]:
    """(H, W) True where a support block goes under the block (see :attr:`MapArtSettings.support`)."""
    mode = art.settings.support
    shape = art.colour_ids.shape
    if mode == "none" or art.heights is None:
        return np.zeros(shape, dtype=bool)
    if mode == "all":
        return np.ones(shape, dtype=bool)
    needs = np.zeros(256, dtype=bool)
    for colour_id, block in art.blocks.items():
        needs[colour_id] = block.needs_support
    return needs[art.colour_ids]


def build(art: MapArt, origin: tuple[int, int, int]) -> schematic.Build:
    """The build of a planned map art, for the schematic writers.

    ``origin`` is the world position of the picture's top-left block at level 0; the line of blocks
    that shades the top row lies one block north of it (z - 1), and support blocks one level below
    the blocks they hold.
    """
    if art.heights is None:
        raise ValueError("map files have no build")
    h, w = art.colour_ids.shape
    support = support_needed(art)
    below = 1 if support.any() else 0
    north_needs = art.settings.support == "all"
    below = max(below, 1 if north_needs else 0)
    palette = [schematic.AIR, art.settings.support_block]  # each block once, also where support and art share one
    index_of = np.zeros(256, dtype=np.int32)
    for colour_id in sorted(art.blocks):
        block = art.blocks[colour_id].block
        if block not in palette:
            palette.append(block)
        index_of[colour_id] = palette.index(block)
    levels = art.heights.astype(np.int32) + below
    # one byte a position: a map-art palette has at most 63 blocks
    blocks = np.zeros((w, int(levels.max()) + 1, h + 1), dtype=np.uint8)
    xs = np.arange(w)
    blocks[xs, levels[0], 0] = 1  # the north line, in the support block
    if north_needs:
        blocks[xs, levels[0] - 1, 0] = 1
    for z in range(h):
        blocks[xs, levels[z + 1], z + 1] = index_of[art.colour_ids[z]]
        held = support[z]
        blocks[xs[held], levels[z + 1][held] - 1, z + 1] = 1
    x, y, z = origin
    return schematic.Build(blocks, palette, (x, y - below, z - 1))


def block_grid(art: MapArt) -> BlockGrid:
    """The map art as a block grid for its web map: one palette entry per (block, shade) it uses, in the
    colour the map shows for that shade and named with it, so a flat render shows exactly the map's
    colours; transparent pixels (map files only) are air."""
    codes = art.map_bytes  # colour id * 4 + shade; 0 transparent
    used = np.unique(codes[art.colour_ids > 0])
    index = np.full(256, -1, dtype=np.int16)
    index[used] = np.arange(len(used), dtype=np.int16)
    by_id = {c.id: c for c in mapart.map_colours()}
    entries = []
    for code in used.tolist():
        colour_id, shade = divmod(code, 4)
        block = art.blocks[colour_id]
        entries.append((block.block, f"{block.name}, {mapart.SHADE_NAMES[shade]} shade", by_id[colour_id].shade(shade)))
    indices = index[codes]
    indices[art.colour_ids == 0] = -1
    return BlockGrid(
        indices=indices,
        block_ids=tuple(e[0] for e in entries),
        names=tuple(e[1] for e in entries),
        colors=np.array([e[2] for e in entries], dtype=np.uint8).reshape(-1, 3),
        face="top",
        meta={"map_art": art.settings.kind},
    )


def map_file(colours: NDArray[np.uint8], data_version: int, centre: tuple[int, int]) -> bytes:
    """A map item file (gzipped NBT) showing ``colours`` (128x128 map bytes, row by row)."""
    if colours.shape != (MAP_SIZE, MAP_SIZE):
        raise ValueError(f"a map is {MAP_SIZE}x{MAP_SIZE}, got {colours.shape}")
    dimension = String("minecraft:overworld") if data_version >= 2566 else Int(0)
    data = Compound(
        {
            "dimension": dimension,
            "xCenter": Int(centre[0]),
            "zCenter": Int(centre[1]),
            "scale": Byte(0),
            "colors": ByteArray(colours.astype(np.uint8).view(np.int8).ravel()),
            "trackingPosition": Byte(0),
            "unlimitedTracking": Byte(0),
            "locked": Byte(1),
            "banners": List[Compound]([]),
            "frames": List[Compound]([]),
        }
    )
    buf = io.BytesIO()
    nbtlib.File(Compound({"DataVersion": Int(data_version), "data": data}), root_name="").write(buf)
    return gzip.compress(buf.getvalue(), mtime=0)


def _counter_file(last_id: int, data_version: int) -> bytes:
    buf = io.BytesIO()
    root = Compound({"DataVersion": Int(data_version), "data": Compound({"map": Int(last_id)})})
    nbtlib.File(root, root_name="").write(buf)
    return gzip.compress(buf.getvalue(), mtime=0)


def map_files(
    art: MapArt, *, start_id: int, data_version: int, layout: str, origin: tuple[int, int]
) -> list[tuple[str, bytes]]:
    """Every map's item file, row by row of maps from ``start_id``, and the save's id counter, as
    (path inside a world save, bytes). ``legacy``: ``data/map_<n>.dat`` and ``data/idcounts.dat``;
    ``modern`` (Java 26.1 and later): ``data/minecraft/maps/<n>.dat`` and ``data/minecraft/maps/last_id.dat``.
    ``origin`` is the world x, z of the picture's top-left block (the maps' centres follow from it)."""
    if layout not in LAYOUTS:
        raise InvalidInput(
            f"unknown map file layout {names.shown(layout)}; choose one of: {', '.join(LAYOUTS)}", field="layout"
        )
    if not 0 <= start_id <= MAX_MAP_ID:
        raise InvalidInput(f"map_id must be a whole number from 0 to {MAX_MAP_ID:,}, got {start_id}", field="map_id")
    modern = layout == "modern"
    pixels = art.map_bytes
    h, w = pixels.shape
    out = []
    n = start_id
    for row in range(h // MAP_SIZE):
        for col in range(w // MAP_SIZE):
            tile = pixels[row * MAP_SIZE : (row + 1) * MAP_SIZE, col * MAP_SIZE : (col + 1) * MAP_SIZE]
            centre = (origin[0] + col * MAP_SIZE + MAP_SIZE // 2, origin[1] + row * MAP_SIZE + MAP_SIZE // 2)
            path = f"data/minecraft/maps/{n}.dat" if modern else f"data/map_{n}.dat"
            out.append((path, map_file(tile, data_version, centre)))
            n += 1
    counter = "data/minecraft/maps/last_id.dat" if modern else "data/idcounts.dat"
    out.append((counter, _counter_file(n - 1, data_version)))
    return out


def check_origin(x: int, z: int) -> None:
    """Refuse a build origin off the game's map grid: a map shows x and z from 128 k - 64 to 128 k + 63."""
    for axis, value in (("origin_x", x), ("origin_z", z)):
        if (value + MAP_SIZE // 2) % MAP_SIZE:
            near = (value + MAP_SIZE // 2) // MAP_SIZE * MAP_SIZE - MAP_SIZE // 2
            raise InvalidInput(
                f"{axis} {value} is not on a map's edge: map art starts where a map does, 64 less than a "
                f"multiple of 128 (e.g. {near} or {near + MAP_SIZE})",
                field=axis,
            )


def resolve_layout(layout: str, game_version: str) -> str:
    """``auto`` -> ``modern`` for Java 26.1 and later, else ``legacy``."""
    if layout not in LAYOUTS:
        raise InvalidInput(
            f"unknown map file layout {names.shown(layout)}; choose one of: {', '.join(LAYOUTS)}", field="layout"
        )
    if layout != "auto":
        return layout
    numbers = tuple(int(p) for p in game_version.split(".") if p.isdigit())
    return "modern" if numbers >= (26, 1) else "legacy"


def _height_picture(heights: NDArray[np.int16]) -> NDArray[np.uint8]:
    """(H, W, 4) grey levels of the picture's blocks (the north line left out): black lowest, white highest."""
    levels = heights[1:].astype(np.float64)
    top = max(1.0, float(levels.max()))
    grey = np.rint(levels / top * 255).astype(np.uint8)
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])


def _materials(build: schematic.Build, names_of: dict[str, str]) -> list[materials.Material]:
    counts = np.bincount(build.blocks.ravel(), minlength=len(build.palette))
    found = [
        materials.material(block, names_of.get(block, _display_name(block)), int(counts[i]))
        for i, block in enumerate(build.palette)
        if i > 0 and counts[i] > 0
    ]
    return sorted(found, key=lambda m: (-m.count, m.block_id))


def _display_name(block: str) -> str:
    """``minecraft:cobblestone`` -> ``Cobblestone``."""
    return block.split(":")[-1].split("[")[0].replace("_", " ").title()


def _piece(build: schematic.Build, x0: int, x1: int, z0: int, z1: int) -> schematic.Build:
    """The part of a build over columns x0..x1 and rows z0..z1 of its volume (levels trimmed to what is used)."""
    part = build.blocks[x0:x1, :, z0:z1]
    used = np.nonzero(part.any(axis=(0, 2)))[0]
    low, high = (int(used[0]), int(used[-1]) + 1) if used.size else (0, 1)
    ox, oy, oz = build.origin
    return schematic.Build(np.ascontiguousarray(part[:, low:high]), build.palette, (ox + x0, oy + low, oz + z0))


@dataclass(frozen=True)
class MapFile:
    """One file of a map art: where it goes, what it is, which map it is of (None: all of them)."""

    #: Path relative to the output folder, as ``pixeletica convert`` writes it (``maps/...``, ``world/...``).
    path: str
    #: What it is: map_preview, height_map, materials, schematic, worldedit, structure, mcfunction or map_files.
    kind: str
    #: ``r<row>c<column>`` of the map it is of, counted from 1; None for the whole picture and the map files.
    map: str | None
    data: bytes


def made_files(
    art: MapArt,
    source: NDArray[np.uint8],
    stem: str,
    placement: world.Placement,
    *,
    start_id: int = defaults.DEFAULT_MAP_ID,
    layout: str = defaults.DEFAULT_MAP_LAYOUT,
    formats: tuple[str, ...] = ("litematic", "schem", "nbt", "mcfunction"),
    build_stem: str | None = None,
) -> tuple[list[MapFile], dict[str, object]]:
    """Every file of a map art and a summary (sizes, levels, scores per map).

    ``source`` is the framed (H, W, 3) picture the art was planned from, for the scores. Builds
    stand at the placement's origin (its x and z on a map's edge, see :func:`check_origin`) and are
    named after ``build_stem`` (else ``stem``); per map files go under ``maps/``, map item files
    under ``world/`` as a save holds them.
    """
    h, w = art.colour_ids.shape
    across, down = w // MAP_SIZE, h // MAP_SIZE
    files: list[MapFile] = []
    preview = art.preview()
    files.append(MapFile(f"{stem}_map.png", "map_preview", None, png.encode(preview)))
    opaque = art.colour_ids > 0
    per_map: list[dict[str, object]] = []
    for row in range(down):
        for col in range(across):
            rows = slice(row * MAP_SIZE, (row + 1) * MAP_SIZE)
            cols = slice(col * MAP_SIZE, (col + 1) * MAP_SIZE)
            label = f"r{row + 1}c{col + 1}"
            score = quality.score(source[rows, cols], preview[rows, cols, :3], opaque[rows, cols])
            per_map.append({"map": label, "blurred_delta_e2000": _finite(score.blurred)})
            if across * down > 1:
                files.append(
                    MapFile(f"maps/{stem}_map_{label}.png", "map_preview", label, png.encode(preview[rows, cols]))
                )
    whole = quality.score(source, preview[..., :3], opaque)
    summary: dict[str, object] = {
        "kind": art.settings.kind,
        "maps": f"{across}x{down}",
        "blocks": f"{w} x {h}",
        "blurred_delta_e2000": _finite(whole.blurred),
        "per_pixel_delta_e2000": _finite(whole.per_pixel),
        "per_map": per_map,
    }
    version = placement.data_version
    chosen = resolve_layout(layout, placement.game_version)
    for path, data in map_files(art, start_id=start_id, data_version=version, layout=chosen, origin=(
        placement.origin_x, placement.origin_z)):  # fmt: skip
        files.append(MapFile(f"world/{path}", "map_files", None, data))
    summary["map_ids"] = f"{start_id}..{start_id + across * down - 1}"
    if art.heights is None:
        return files, summary
    files.append(MapFile(f"{stem}_heights.png", "height_map", None, png.encode(_height_picture(art.heights))))
    whole_build = build(art, (placement.origin_x, placement.origin_y, placement.origin_z))
    names_of = {b.block: b.name for b in art.blocks.values()}
    summary["levels"] = int(whole_build.blocks.shape[1])
    summary["materials"] = sum(m.count for m in _materials(whole_build, names_of))
    named = build_stem or stem
    pieces: list[tuple[str | None, str, schematic.Build]] = [(None, named, whole_build)]
    if across * down > 1:
        for row in range(down):
            for col in range(across):
                z0 = 0 if row == 0 else 1 + row * MAP_SIZE  # the first row of maps keeps the north line
                piece = _piece(whole_build, col * MAP_SIZE, (col + 1) * MAP_SIZE, z0, 1 + (row + 1) * MAP_SIZE)
                label = f"r{row + 1}c{col + 1}"
                pieces.append((label, f"maps/{named}_{label}", piece))
    for of_map, name, piece in pieces:
        rows_ = _materials(piece, names_of)
        listed = materials.to_text(rows_, width=piece.blocks.shape[0], height=piece.blocks.shape[2])
        files.append(MapFile(f"{name}_materials.csv", "materials", of_map, materials.to_csv(rows_)))
        files.append(MapFile(f"{name}_materials.txt", "materials", of_map, listed))
        if "litematic" in formats:
            files.append(MapFile(f"{name}.litematic", "schematic", of_map, schematic.to_litematic(piece, placement)))
        if "schem" in formats:
            files.append(MapFile(f"{name}.schem", "worldedit", of_map, schematic.to_sponge(piece, placement)))
        if "mcfunction" in formats:
            files.append(MapFile(f"{name}.mcfunction", "mcfunction", of_map, schematic.to_mcfunction(piece, placement)))
        if "nbt" in formats:
            for offset, _, data in schematic.to_structures(piece, placement):
                files.append(MapFile(f"{name}_{offset}.nbt", "structure", of_map, data))
    return files, summary


def _finite(value: float) -> float | None:
    return None if value != value else round(value, 3)  # NaN: nothing to score
