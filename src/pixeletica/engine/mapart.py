"""Map art: a picture that an in-game map shows, and the build on the ground that makes it.

A map shows each block of the ground as one of 61 base colours (``data/map-colors.csv``) in a
shade that depends on the block north of it (-Z): higher than it, the light shade (255/255 of the
base colour); level, the normal one (220); lower, the dark one (180). A fourth, darkest shade (135)
exists only in map files. One block is chosen to show each colour (``data/map-color-blocks.csv``).

Kinds of map art (:data:`KINDS`):

- ``flat``: one level, so every block shows the normal shade: 61 colours.
- ``staircase``: three shades, by building each block higher, level or lower than the one north of
  it. Each north-south column then stands as low as its shades allow: every block is only as high
  as the longest run of rises that ends at it (or of falls that starts at it) needs, so that a run
  falling from a height is followed by one starting again from the ground (as "valley" builders
  do). With a height limit, the dithering itself chooses, pixel by pixel, shades that keep every
  column within it (see :func:`pixeletica.engine.staircase.diffuse_within`), so the picture is made for the limit rather
  than cut to it.
- ``map-file``: nothing to build; map item files with all four shades, and transparency.

The top row is shaded against a line of blocks north of the picture (row 0 of :attr:`MapArt.heights`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray

from pixeletica import names
from pixeletica.engine import color, defaults, distance, dither, nearest, staircase
from pixeletica.errors import InvalidInput

KINDS = ("flat", "staircase", "map-file")
#: What each shade multiplies a base colour by (/255): shade 0 dark, 1 normal, 2 light, 3 darkest.
SHADE_MULTIPLIERS = (180, 220, 255, 135)
#: What each shade is called, by number.
SHADE_NAMES = ("dark", "normal", "light", "darkest")
FLAT_SHADE = 1
#: The shades each kind can show.
KIND_SHADES = {"flat": (1,), "staircase": (0, 1, 2), "map-file": (0, 1, 2, 3)}
#: Blocks per map side.
MAP_SIZE = 128
SUPPORT_MODES = ("none", "needed", "all")
#: Named block sets to start from (see :func:`choose_blocks`).
PRESETS = ("default", "carpets", "greyscale")
DEFAULT_SUPPORT_BLOCK = "minecraft:cobblestone"
#: Left out of the default set: water shows its shade by depth, not by height.
_NOT_BY_DEFAULT = ("WATER",)


@dataclass(frozen=True)
class MapColour:
    """One of the game's base map colours."""

    id: int  # 1..61; 0 is "none" (transparent)
    name: str  # e.g. "GRASS"
    rgb: tuple[int, int, int]

    def shade(self, shade: int) -> tuple[int, int, int]:
        """The colour the map shows in ``shade`` (0..3): floor(base * m / 255) per channel."""
        m = SHADE_MULTIPLIERS[shade]
        r, g, b = self.rgb
        return (r * m // 255, g * m // 255, b * m // 255)


@dataclass(frozen=True)
class MapBlock:
    """A block that shows a map colour."""

    colour_id: int
    block: str  # block id with its state where it matters, e.g. "minecraft:birch_log[axis=y]"
    name: str
    since: str  # the earliest Java version listed for it
    needs_support: bool
    flammable: bool


def _csv_rows(name: str) -> list[dict[str, str]]:
    text = resources.files("pixeletica.engine").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@lru_cache(maxsize=1)
def map_colours() -> tuple[MapColour, ...]:
    """The 61 base colours, in id order."""
    return tuple(
        MapColour(int(row["id"]), row["name"], (int(row["r"]), int(row["g"]), int(row["b"])))
        for row in _csv_rows("map-colors.csv")
    )


@lru_cache(maxsize=1)
def map_blocks() -> tuple[MapBlock, ...]:
    """Every block that shows a map colour, in the order of the game's table."""
    return tuple(
        MapBlock(
            colour_id=int(row["color_id"]),
            block=row["block"],
            name=row["display_name"],
            since=row["earliest_version_listed"],
            needs_support=row["needs_support"] == "yes",
            flammable=row["flammable"] == "yes",
        )
        for row in _csv_rows("map-color-blocks.csv")
    )


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def colour_named(name: str, field: str | None = None) -> MapColour:
    """A base colour by name (any case) or id; the error lists the names and names ``field``."""
    key = name.strip().upper().replace("-", "_").replace(" ", "_")
    for colour in map_colours():
        if key in (colour.name, str(colour.id)):
            return colour
    raise InvalidInput(
        f"unknown map colour {names.shown(name)}; choose one of: {', '.join(c.name for c in map_colours())}",
        field=field,
    )


@dataclass(frozen=True, kw_only=True)
class MapArtSettings:
    """What kind of map art to make and from which blocks."""

    kind: str = "staircase"
    #: Levels the build may use at the most, support blocks and the north line included; None: unlimited.
    max_height: int | None = None
    game_version: str = defaults.DEFAULT_GAME_VERSION
    #: Colour name (or id) -> block id, for colours whose block is not the default one.
    blocks: Mapping[str, str] = field(default_factory=dict)
    #: Colour names (or ids) not to use at all.
    exclude: tuple[str, ...] = ()
    #: Under which blocks a support block goes: none, needed (blocks that fall or float), all.
    support: str = defaults.DEFAULT_SUPPORT
    support_block: str = DEFAULT_SUPPORT_BLOCK
    preset: str = defaults.DEFAULT_MAP_PRESET  # the set of blocks to start from: see PRESETS

    def validate(self) -> None:
        if self.kind not in KINDS:
            raise InvalidInput(
                f"unknown kind of map art {names.shown(self.kind)}; choose one of: {', '.join(KINDS)}", field="kind"
            )
        if self.preset not in PRESETS:
            raise InvalidInput(
                f"unknown block preset {names.shown(self.preset)}; choose one of: {', '.join(PRESETS)}", field="preset"
            )
        if self.support not in SUPPORT_MODES:
            raise InvalidInput(
                f"unknown support mode {names.shown(self.support)}; choose one of: {', '.join(SUPPORT_MODES)}",
                field="support",
            )
        if self.max_height is not None:
            if self.kind != "staircase":
                raise InvalidInput(
                    f"max_height is for staircase map art ({self.kind} map art has one level)", field="max_height"
                )
            if isinstance(self.max_height, bool) or not isinstance(self.max_height, int):
                raise InvalidInput(f"max_height must be a whole number, got {self.max_height!r}", field="max_height")
            if self.kind == "staircase" and self.max_height < 2 + self.support_levels:
                raise InvalidInput(
                    f"a staircase needs at least {2 + self.support_levels} levels "
                    f"({'one for support blocks and ' if self.support_levels else ''}two for the art), got max_height "
                    f"{self.max_height}; raise it, or make flat map art (one level)",
                    field="max_height",
                )
            if self.max_height < 1:
                raise InvalidInput(f"max_height must be at least 1, got {self.max_height}", field="max_height")

    @property
    def support_levels(self) -> int:
        """Levels support blocks take under the art: 1 if any block gets one (every block with ``all``,
        the blocks that fall or cannot float with ``needed``), else 0."""
        if self.support == "all":
            return 1
        if self.support == "none":
            return 0
        return int(any(block.needs_support for block in choose_blocks(self).values()))


def choose_blocks(settings: MapArtSettings) -> dict[int, MapBlock]:
    """The block that shows each usable colour: colour id -> block.

    By default the first block of the game's table that is valid in the game version, stands
    without support and does not burn (failing that, the first valid one); water is left out
    unless chosen. The ``carpets`` preset keeps only the colours a carpet shows, in carpets; the
    ``greyscale`` preset only the grey colours. ``settings.blocks`` overrides (or adds) colours one
    by one; ``settings.exclude`` drops them.
    """
    version = _version_key(settings.game_version)
    offered: dict[int, list[MapBlock]] = {}
    for block in map_blocks():
        offered.setdefault(block.colour_id, []).append(block)
    excluded = {colour_named(name, "exclude").id for name in settings.exclude}
    chosen: dict[int, MapBlock] = {}
    for colour in map_colours():
        valid = [b for b in offered.get(colour.id, []) if _version_key(b.since) <= version]
        if colour.name in _NOT_BY_DEFAULT or not valid:
            continue
        if settings.preset == "greyscale" and len(set(colour.rgb)) > 1:
            continue
        calm = [b for b in valid if not b.needs_support and not b.flammable]
        carpets = [b for b in valid if b.block.endswith("_carpet")] if settings.preset == "carpets" else []
        chosen[colour.id] = (carpets or calm or valid)[0]
        if settings.preset == "carpets" and not carpets:
            del chosen[colour.id]
    picked: set[int] = set()
    for name, block_id in settings.blocks.items():
        colour = colour_named(name, "blocks")
        if colour.id in picked:
            raise InvalidInput(f"map colour {colour.name} is given a block twice; choose one", field="blocks")
        if colour.id in excluded:
            raise InvalidInput(
                f"map colour {colour.name} is both given a block and excluded; do one or the other", field="blocks"
            )
        picked.add(colour.id)
        if colour.name in _NOT_BY_DEFAULT:
            raise InvalidInput(
                f"map colour {colour.name} cannot be chosen: the game shades water by its depth, not by the "
                "block north of it, which Pixeletica does not plan",
                field="blocks",
            )
        wanted = block_id.strip().lower()
        if ":" not in wanted:
            wanted = "minecraft:" + wanted
        candidates = offered.get(colour.id, [])
        match = [b for b in candidates if b.block == wanted or b.block.split("[")[0] == wanted]
        if not match:
            raise InvalidInput(
                f"{names.shown(block_id)} does not show map colour {colour.name}; blocks that do: "
                f"{', '.join(b.block for b in candidates)}",
                field="blocks",
            )
        if _version_key(match[0].since) > version:
            raise InvalidInput(
                f"{match[0].block} (map colour {colour.name}) is not in Minecraft {settings.game_version}: "
                f"it came in {match[0].since}",
                field="blocks",
            )
        chosen[colour.id] = match[0]
    for colour_id in excluded:
        chosen.pop(colour_id, None)
    if not chosen:
        raise InvalidInput("every map colour is excluded: leave at least one", field="exclude")
    return chosen


@dataclass(frozen=True)
class MapArt:
    """A planned map-art picture: per pixel its base colour and shade, and the build's heights."""

    colour_ids: NDArray[np.uint8]  # (H, W), 0 = transparent (map files only)
    shades: NDArray[np.uint8]  # (H, W), 0..3
    #: (H + 1, W) level of every block, row 0 the line north of the picture; None for map files.
    heights: NDArray[np.int16] | None
    blocks: dict[int, MapBlock]
    settings: MapArtSettings

    @property
    def map_bytes(self) -> NDArray[np.uint8]:
        """What a map item stores per pixel: ``colour id * 4 + shade`` (0 transparent)."""
        out: NDArray[np.uint8] = (self.colour_ids.astype(np.uint16) * 4 + self.shades).astype(np.uint8)
        out[self.colour_ids == 0] = 0
        return out

    def preview(self) -> NDArray[np.uint8]:
        """(H, W, 4) RGBA: exactly the colours the map shows (transparent where nothing is)."""
        table = np.zeros((256, 4), dtype=np.uint8)
        for colour in map_colours():
            for shade in range(4):
                table[colour.id * 4 + shade] = (*colour.shade(shade), 255)
        return table[self.map_bytes]


def candidates(settings: MapArtSettings, blocks: dict[int, MapBlock]) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """The (colour id, shade) pairs a picture may use, as two arrays, and nothing else."""
    shades = KIND_SHADES[settings.kind]
    ids = np.array([cid for cid in sorted(blocks) for _ in shades], dtype=np.uint8)
    per = np.array([s for _ in sorted(blocks) for s in shades], dtype=np.uint8)
    return ids, per


def plan(
    rgb: NDArray[np.uint8],
    opaque: NDArray[np.bool_],
    settings: MapArtSettings,
    *,
    algorithm: str = defaults.DEFAULT_ALGORITHM,
    metric: str = defaults.DEFAULT_METRIC,
    strength: float = defaults.DEFAULT_STRENGTH,
    progress: dither.Progress | None = None,
) -> MapArt:
    """Choose every pixel's colour and shade (and the build's levels) for an (H, W, 3) picture.

    Only map files keep transparency: a build shows every pixel, so there ``opaque`` is ignored.
    With a height limit the picture is dithered by Floyd-Steinberg in OKLab at full strength within
    it, whatever ``algorithm``, ``metric`` and ``strength`` say, and ``progress`` hears only of the end.
    """
    settings.validate()
    blocks = choose_blocks(settings)
    cand_ids, cand_shades = candidates(settings, blocks)
    by_id = {c.id: c for c in map_colours()}
    cand_rgb = np.array([by_id[int(i)].shade(int(s)) for i, s in zip(cand_ids, cand_shades, strict=True)], np.uint8)
    if settings.kind != "map-file":
        opaque = np.ones(rgb.shape[:2], dtype=bool)
    levels = None if settings.max_height is None else settings.max_height - settings.support_levels
    if settings.kind == "staircase" and levels is not None:
        light = np.ascontiguousarray(color.SRGB8_TO_LINEAR[rgb])
        chosen = staircase.diffuse_within(
            light,
            np.ascontiguousarray(color.SRGB8_TO_LINEAR[cand_rgb]),
            np.ascontiguousarray(color.srgb_to_oklab(cand_rgb / 255.0)),
            (cand_shades.astype(np.int8)),
            levels - 1,
            dither.REACH,
        )
        if progress is not None:
            progress(rgb.shape[0], rgb.shape[0])
    else:
        matcher = nearest.Matcher(cand_rgb, distance.get_metric(metric))
        chosen = dither.dither(
            rgb, opaque, matcher, dither.get_algorithm(algorithm), strength=strength, progress=progress
        ).astype(np.int32)
    air = chosen < 0
    safe = np.maximum(chosen, 0)
    colour_ids = np.where(air, 0, cand_ids[safe]).astype(np.uint8)
    shades = np.where(air, 0, cand_shades[safe]).astype(np.uint8)
    heights = None
    if settings.kind == "flat":
        heights = np.zeros((rgb.shape[0] + 1, rgb.shape[1]), dtype=np.int16)
    elif settings.kind == "staircase":
        heights = staircase.heights_for(shades)
    return MapArt(colour_ids=colour_ids, shades=shades, heights=heights, blocks=blocks, settings=settings)
