"""Block palettes: the default block list, filters over it, and user palette files.

The default list (``data/blocks.json``) is generated from real block textures by
``scripts/build_palette.py``; every colour in it is a texture mean in linear light.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pixeletica import fsutil, names
from pixeletica.engine import defaults
from pixeletica.engine.exports import world
from pixeletica.errors import InvalidInput

FACES = ("side", "top")
_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")
_ID = re.compile(r"^([a-z0-9_.-]+:)?[a-z0-9_./-]+$")


@dataclass(frozen=True, kw_only=True)
class Block:
    """One placeable block and how it looks from the side (walls) and from the top (floors)."""

    id: str
    name: str
    colors: dict[str, str]  # face -> "#rrggbb"
    textures: dict[str, str] = field(default_factory=dict)  # face -> "minecraft:block/..."
    categories: tuple[str, ...] = ()
    gravity: bool = False
    emits_light: bool = False
    needs_support: bool = False
    changes: bool = False
    survival: bool = True
    since: str = "1.13"

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Block:
        return cls(
            id=record["id"],
            name=record["name"],
            colors={face: record["faces"][face]["color"] for face in FACES},
            textures={face: record["faces"][face]["texture"] for face in FACES},
            categories=tuple(record["categories"]),
            gravity=record["gravity"],
            emits_light=record["emits_light"],
            needs_support=record["needs_support"],
            changes=record["changes"],
            survival=record["survival"],
            since=record["since"],
        )

    def rgb(self, face: str = defaults.DEFAULT_FACE) -> tuple[int, int, int]:
        value = self.colors[face].lstrip("#")
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)

    @property
    def flag_count(self) -> int:
        """How many caveats the block has, for choosing between blocks of identical colour."""
        return sum((self.gravity, self.emits_light, self.needs_support, self.changes, not self.survival))


@lru_cache(maxsize=1)
def default_blocks() -> tuple[Block, ...]:
    """Every block of the generated default list, in id order."""
    text = resources.files("pixeletica.engine").joinpath("data/blocks.json").read_text(encoding="utf-8")
    return tuple(Block.from_record(r) for r in json.loads(text)["blocks"])


def categories() -> list[str]:
    """All category names used by the default list."""
    return sorted({c for b in default_blocks() for c in b.categories})


def _version_key(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        raise InvalidInput(
            f"game version {version!r} is not a version number like 1.20 or 1.21.1", field="game_version"
        ) from None


def normalise_id(block_id: str, field: str | None = None) -> str:
    """``stone`` -> ``minecraft:stone``; ids are lower-case. ``field``: the setting it came from, for errors."""
    block_id = block_id.strip().lower()
    if not _ID.match(block_id):
        raise InvalidInput(f"{block_id!r} is not a block id like minecraft:white_concrete", field=field)
    return block_id if ":" in block_id else f"minecraft:{block_id}"


@dataclass(frozen=True, kw_only=True)
class PaletteFilter:
    """Which blocks to use. Empty include lists mean 'everything'."""

    include_categories: tuple[str, ...] = ()
    exclude_categories: tuple[str, ...] = ()
    include_blocks: tuple[str, ...] = ()
    exclude_blocks: tuple[str, ...] = ()
    survival_only: bool = True
    stable_only: bool = True  # no oxidising copper, no live coral
    no_gravity: bool = False
    no_light: bool = False
    no_support: bool = False
    game_version: str | None = None


@dataclass(frozen=True)
class Palette:
    """An ordered list of blocks seen from one face; index i of a block grid means blocks[i]."""

    blocks: tuple[Block, ...]
    face: str = defaults.DEFAULT_FACE

    def __post_init__(self) -> None:
        if not self.blocks:
            raise InvalidInput("the palette has no blocks left; loosen the palette filters")
        if self.face not in FACES:
            raise InvalidInput(f"unknown face {self.face!r}; choose one of: {', '.join(FACES)}", field="face")

    def __len__(self) -> int:
        return len(self.blocks)

    @property
    def ids(self) -> list[str]:
        return [b.id for b in self.blocks]

    @cached_property
    def colors(self) -> NDArray[np.uint8]:
        """(P, 3) uint8 sRGB colours of the chosen face (read-only)."""
        colors = np.array([b.rgb(self.face) for b in self.blocks], dtype=np.uint8).reshape(-1, 3)
        colors.flags.writeable = False
        return colors

    @property
    def key(self) -> str:
        """Stable identity of the colours (for caches)."""
        return hashlib.sha256(self.colors.tobytes()).hexdigest()[:16]


def _check_names(given: tuple[str, ...], valid: list[str], what: str, field: str) -> None:
    for name in given:
        if name not in valid:
            close = difflib.get_close_matches(name, valid, n=3)
            plural = "categories" if what == "category" else f"{what}s"
            hint = f" (did you mean {', '.join(close)}?)" if close else f"; valid {plural}: {', '.join(valid)}"
            raise InvalidInput(f"unknown {what} {names.shown(name)}{hint}", field=field)


def _check_ids(given: tuple[str, ...], known: dict[str, Block], field: str) -> tuple[str, ...]:
    out = []
    for raw in given:
        block_id = normalise_id(raw, field)
        if block_id not in known:
            close = difflib.get_close_matches(block_id, list(known), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise InvalidInput(f"unknown block id {names.shown(raw)}{hint}", field=field)
        out.append(block_id)
    return tuple(out)


def select(
    spec: PaletteFilter | None = None, *, face: str = defaults.DEFAULT_FACE, blocks: tuple[Block, ...] | None = None
) -> Palette:
    """Apply a filter to a block list (the default list unless ``blocks`` is given).

    Blocks whose colour on ``face`` equals an earlier one's are dropped, keeping the one with
    the fewest caveats (so waxed copper wins over copper that would oxidise).
    """
    if face not in FACES:
        raise InvalidInput(f"unknown face {names.shown(face)}; choose one of: {', '.join(FACES)}", field="face")
    spec = spec or PaletteFilter()
    source = default_blocks() if blocks is None else blocks
    known = {b.id: b for b in source}
    valid_categories = sorted({c for b in source for c in b.categories})
    _check_names(spec.include_categories, valid_categories, "category", "include_categories")
    _check_names(spec.exclude_categories, valid_categories, "category", "exclude_categories")
    include_ids = set(_check_ids(spec.include_blocks, known, "include_blocks"))
    exclude_ids = set(_check_ids(spec.exclude_blocks, known, "exclude_blocks"))
    max_version = None
    if spec.game_version:  # a version number first (its own message), then one Pixeletica knows
        max_version = _version_key(spec.game_version)
        world.check_game_version(spec.game_version)

    chosen = []
    for block in source:
        wanted = not (spec.include_categories or include_ids) or (
            block.id in include_ids or any(c in spec.include_categories for c in block.categories)
        )
        if not wanted or block.id in exclude_ids:
            continue
        if any(c in spec.exclude_categories for c in block.categories) and block.id not in include_ids:
            continue
        if (spec.survival_only and not block.survival) or (spec.stable_only and block.changes):
            continue
        if (spec.no_gravity and block.gravity) or (spec.no_light and block.emits_light):
            continue
        if spec.no_support and block.needs_support:
            continue
        if max_version is not None and _version_key(block.since) > max_version:
            continue
        chosen.append(block)

    by_preference = sorted(chosen, key=lambda b: b.flag_count)
    seen: set[str] = set()
    keep: set[str] = set()
    for block in by_preference:
        if block.colors[face] not in seen:
            seen.add(block.colors[face])
            keep.add(block.id)
    return Palette(tuple(b for b in chosen if b.id in keep), face=face)


# --- user palette files ---------------------------------------------------------------------


def _parse_hex(value: str, where: str) -> str:
    match = _HEX.match(value.strip())
    if not match:
        raise InvalidInput(f"{where}: {value!r} is not a colour like #aabbcc")
    return "#" + match.group(1).lower()


def _user_block(block_id: str, hex_color: str, name: str | None) -> Block:
    block_id = normalise_id(block_id)
    base = next((b for b in default_blocks() if b.id == block_id), None)
    colors = {face: hex_color for face in FACES}
    if base is not None:
        return Block(
            id=base.id,
            name=name or base.name,
            colors=colors,
            textures=base.textures,
            categories=base.categories,
            gravity=base.gravity,
            emits_light=base.emits_light,
            needs_support=base.needs_support,
            changes=base.changes,
            survival=base.survival,
            since=base.since,
        )
    display = name or block_id.split(":", 1)[1].replace("_", " ").title()
    return Block(id=block_id, name=display, colors=colors, categories=("custom",))


def _rows_from_csv(text: str, source: str) -> list[Block]:
    dialect = ";" if text.count(";") > text.count(",") else ","
    blocks = []
    for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=dialect), start=1):
        cells = [c.strip() for c in row if c.strip()]
        if not cells or (cells[0].startswith("#") and len(cells) == 1):
            continue
        hex_cell = next((c for c in cells if _HEX.match(c) and c.startswith("#")), None)
        id_cell = next((c for c in cells if ":" in c and _ID.match(c.lower())), None)
        if id_cell is None:
            id_cell = next((c for c in cells if _ID.match(c.lower()) and c != hex_cell), None)
        if hex_cell is None or id_cell is None:
            if number == 1 and len(text.strip().splitlines()) > 1:
                continue  # a header line (a file of one line has none)
            raise InvalidInput(f"{source} line {number}: expected a block id and a #rrggbb colour, got {row!r}")
        name = next((c for c in cells if c not in (hex_cell, id_cell) and not c.startswith("(")), None)
        blocks.append(_user_block(id_cell, _parse_hex(hex_cell, f"{source} line {number}"), name))
    return blocks


def _rows_from_json(text: str, source: str) -> list[Block]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{source} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise InvalidInput(f"{source} nests lists or objects too deeply to be a palette") from None
    if isinstance(data, dict) and "blocks" in data:
        data = data["blocks"]
    if isinstance(data, dict):
        data = [{"id": k, "color": v} for k, v in data.items()]
    if not isinstance(data, list):
        raise InvalidInput(f"{source}: expected a list of {{'id', 'color'}} objects")
    blocks = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or "id" not in item:
            raise InvalidInput(f"{source} entry {i}: expected an object with 'id' and 'color'")
        if "color" in item:
            hex_color = _parse_hex(str(item["color"]), f"{source} entry {i}")
        elif "rgb" in item and len(item["rgb"]) == 3 and all(isinstance(v, int) and 0 <= v <= 255 for v in item["rgb"]):
            hex_color = "#{:02x}{:02x}{:02x}".format(*item["rgb"])
        else:
            raise InvalidInput(f"{source} entry {i}: needs 'color' ('#rrggbb') or 'rgb' ([r, g, b] in 0..255)")
        blocks.append(_user_block(str(item["id"]), hex_color, item.get("name")))
    return blocks


#: A palette file lists a few hundred blocks; anything this big is not one.
MAX_PALETTE_FILE_BYTES = 8 * 1024 * 1024


def load_palette_file(path: str | Path) -> tuple[Block, ...]:
    """Read a user palette: CSV (``id,#rrggbb`` or the original's ``name;id;#hex;(r, g, b)``) or JSON."""
    path = Path(path)
    data = fsutil.read_capped(path, MAX_PALETTE_FILE_BYTES, "palette file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"palette file {str(path)!r} cannot be read: {exc}") from None
    stripped = text.lstrip()
    blocks = _rows_from_json(text, path.name) if stripped.startswith(("[", "{")) else _rows_from_csv(text, path.name)
    if not blocks:
        raise InvalidInput(f"palette file {str(path)!r} lists no blocks")
    unique: dict[str, Block] = {}
    for block in blocks:
        unique.setdefault(block.id, block)
    return tuple(unique.values())
