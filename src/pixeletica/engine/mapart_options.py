"""A map-art task's options: what it asks for beyond a conversion's settings, checked once, stored, read back.

:class:`MapArtOptions` is the ``map_art`` part of a task's
:class:`~pixeletica.engine.conversion_settings.ConversionSettings`: the kind of map art, how many
maps, how the picture is framed, the height limit, the blocks, the support, the map ids and their
files' layout. The rest comes from the conversion's own settings (dithering, colour metric,
resampling, game version, origin, schematic formats and name). Errors name the field at fault
(:attr:`~pixeletica.errors.InvalidInput.field`) by the names of this class's fields.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pixeletica import names
from pixeletica.engine import defaults, mapart, palette
from pixeletica.engine.exports import maps, world
from pixeletica.errors import InvalidInput

#: Where map art starts when its settings do not say: x and z of the map whose centre is 0, 0.
MAP_ORIGIN = -mapart.MAP_SIZE // 2
#: Highest first map id: the ids of up to 32 x 32 maps after it stay within the game's 32-bit ids.
MAX_MAP_ID = maps.MAX_MAP_ID


@dataclass(frozen=True, kw_only=True)
class MapArtOptions:
    """What kind of map art a task makes, over how many maps, from which blocks, with which map ids."""

    kind: str
    #: Maps across x down, e.g. ``"2x3"``; each is 128 x 128 blocks.
    maps: str = defaults.DEFAULT_MAPS
    framing: str = defaults.DEFAULT_FRAMING
    #: Levels the build may use, support blocks and the north line included; None: unlimited.
    max_height: int | None = None
    #: (colour name, block id) for colours whose block is not the default one.
    blocks: tuple[tuple[str, str], ...] = ()
    #: Colour names not to use.
    exclude: tuple[str, ...] = ()
    support: str = defaults.DEFAULT_SUPPORT
    support_block: str = mapart.DEFAULT_SUPPORT_BLOCK
    #: The set of blocks to start from (see :data:`pixeletica.engine.mapart.PRESETS`).
    preset: str = defaults.DEFAULT_MAP_PRESET
    #: Id of the first map file (the others follow, row by row).
    map_id: int = defaults.DEFAULT_MAP_ID
    #: How map files are laid out in a save: auto (by game version), legacy or modern.
    layout: str = defaults.DEFAULT_MAP_LAYOUT

    @classmethod
    def from_dict(cls, raw: object) -> MapArtOptions:
        """Options from their JSON object, each checked on its own; raises :class:`InvalidInput` naming the field.

        What depends on the rest of the settings (game version, origin) is checked by :meth:`check`.
        """
        if not isinstance(raw, dict):
            raise InvalidInput(f"map_art must be an object, got {names.shown(raw)}")
        unknown = set(raw) - set(_FIELDS)
        if unknown:
            raise InvalidInput(f"unknown map art setting(s): {', '.join(sorted(map(names.shown, unknown)))}")
        if "kind" not in raw:
            raise InvalidInput(f"kind is required: one of {', '.join(mapart.KINDS)}", field="kind")
        # null leaves a field at its default; only max_height has a meaning for it (no limit)
        values = {k: v for k, v in raw.items() if v is not None or k == "max_height"}
        for key in ("kind", "maps", "framing", "support", "support_block", "layout", "preset"):
            _expect(key, values.get(key, ""), _is_text, "a string")
        _expect("max_height", values.get("max_height"), _is_whole_or_none, "a whole number")
        _expect("map_id", values.get("map_id", defaults.DEFAULT_MAP_ID), _is_whole_or_none, "a whole number")
        _expect("blocks", values.get("blocks", {}), _is_block_choice, "an object of colour names to block ids")
        _expect("exclude", values.get("exclude", []), _is_name_list, "a list of colour names")
        _choice("kind", values["kind"], mapart.KINDS)
        _choice("framing", values.get("framing", defaults.DEFAULT_FRAMING), maps.FRAMINGS)
        _choice("support", values.get("support", defaults.DEFAULT_SUPPORT), mapart.SUPPORT_MODES)
        _choice("layout", values.get("layout", defaults.DEFAULT_MAP_LAYOUT), maps.LAYOUTS)
        _choice("preset", values.get("preset", defaults.DEFAULT_MAP_PRESET), mapart.PRESETS)
        across, down = maps.parse_maps(values.get("maps", defaults.DEFAULT_MAPS))
        if values["kind"] != "map-file" and across * down > maps.MAX_BUILT_MAPS:
            raise InvalidInput(
                f"maps {across}x{down} is {across * down} maps; at most {maps.MAX_BUILT_MAPS} are built at once "
                "(e.g. 8x8): split the picture, or make map files (kind map-file), which have no such limit",
                field="maps",
            )
        values["maps"] = f"{across}x{down}"
        values["blocks"] = tuple(values.get("blocks", {}).items())
        values["exclude"] = tuple(values.get("exclude", ()))
        for name, _ in values["blocks"]:
            mapart.colour_named(name, "blocks")
        for name in values["exclude"]:
            mapart.colour_named(name, "exclude")
        if "support_block" in values:
            values["support_block"] = support_block_id(values["support_block"])
        map_id = values.get("map_id", defaults.DEFAULT_MAP_ID)
        if not 0 <= map_id <= MAX_MAP_ID:
            raise InvalidInput(f"map_id must be a whole number from 0 to {MAX_MAP_ID:,}, got {map_id}", field="map_id")
        options = cls(**values)
        options.settings().validate()
        return options

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> MapArtOptions:
        """Options as a task stored them (checked when it was submitted): what ``from_dict`` gave."""
        values = {k: v for k, v in stored.items() if k in _FIELDS}
        values["blocks"] = tuple((str(k), str(v)) for k, v in dict(values.get("blocks", {})).items())
        values["exclude"] = tuple(values.get("exclude", ()))
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The stored form: every field, as JSON values."""
        out = {name: getattr(self, name) for name in _FIELDS}
        out["blocks"] = dict(self.blocks)
        out["exclude"] = list(self.exclude)
        return out

    @property
    def map_counts(self) -> tuple[int, int]:
        """Maps across and down."""
        return maps.parse_maps(self.maps)

    @property
    def size(self) -> tuple[int, int]:
        """The picture's width and height in blocks (pixels of the maps)."""
        across, down = self.map_counts
        return across * mapart.MAP_SIZE, down * mapart.MAP_SIZE

    def settings(self, game_version: str | None = None, *, room: int | None = None) -> mapart.MapArtSettings:
        """The engine's settings for planning the picture in ``game_version`` (None: the default); an unlimited
        staircase keeps within ``room`` levels (what the world has above its origin), if given."""
        chosen: dict[str, Any] = {"game_version": game_version} if game_version else {}
        if room is not None and self.kind == "staircase" and self.max_height is None:
            chosen["max_height"] = room
        return mapart.MapArtSettings(
            kind=self.kind,
            max_height=chosen.pop("max_height", self.max_height),
            blocks=dict(self.blocks),
            exclude=self.exclude,
            support=self.support,
            support_block=self.support_block,
            preset=self.preset,
            **chosen,
        )

    def check(self, placement: world.Placement) -> None:
        """Refuse what cannot be made where ``placement`` says: a wall, an origin off the map grid, a build
        past the world's edge or height, blocks or map files not in its game version; raises :class:`InvalidInput`."""
        if placement.orientation != "floor":
            raise InvalidInput(
                "orientation must be floor for map art (a map shows the ground), got "
                f"{names.shown(placement.orientation)}",
                field="orientation",
            )
        maps.check_origin(placement.origin_x, placement.origin_z)
        width, height = self.size
        placement.check_fits(width, height + 1)  # and the line of blocks north of the picture
        maps.resolve_layout(self.layout, placement.game_version)
        settings = self.settings(placement.game_version)
        mapart.choose_blocks(settings)
        if self.kind == "map-file":
            return
        low, high = placement.build_height
        bottom = placement.origin_y - settings.support_levels
        if bottom < low:
            raise InvalidInput(
                f"origin_y {placement.origin_y} leaves no room for support blocks under the map art: the world's "
                f"bottom is y {low}; raise origin_y",
                field="origin_y",
            )
        levels = self.max_height or 2  # an unlimited staircase keeps within the room there is, if it has two levels
        if bottom + levels - 1 > high:
            raise InvalidInput(
                f"max_height {levels} from y {bottom} would reach y {bottom + levels - 1}, above the world's top "
                f"(y {high}) in Minecraft {placement.game_version}; lower max_height or origin_y",
                field="max_height",
            )


_FIELDS = tuple(MapArtOptions.__dataclass_fields__)


def support_block_id(block: str) -> str:
    """A support block's full id (``cobblestone`` -> ``minecraft:cobblestone``), if it is a block Pixeletica
    knows (of its block palette or of the map colours'); raises :class:`InvalidInput` otherwise."""
    wanted = block.strip().lower()
    if ":" not in wanted:
        wanted = "minecraft:" + wanted
    if wanted not in _standing_blocks():
        reason = "falls or needs a block under it" if wanted in _known_blocks() else "is not a block Pixeletica knows"
        raise InvalidInput(
            f"support_block {names.shown(block)} {reason}; give a solid block that stands on its own, like "
            f"{mapart.DEFAULT_SUPPORT_BLOCK}",
            field="support_block",
        )
    return wanted


@functools.lru_cache(maxsize=1)
def _known_blocks() -> frozenset[str]:
    known = {b.id for b in palette.default_blocks()}
    for block in mapart.map_blocks():
        known.update((block.block, block.block.split("[")[0]))
    return frozenset(known)


@functools.lru_cache(maxsize=1)
def _standing_blocks() -> frozenset[str]:
    """Blocks that can hold another up: neither falling nor needing a block under them themselves."""
    standing = {b.id for b in palette.default_blocks() if not (b.gravity or b.needs_support)}
    for block in mapart.map_blocks():
        if block.needs_support:  # map colours' table: falls or cannot float
            standing.discard(block.block.split("[")[0])
        else:
            standing.update((block.block, block.block.split("[")[0]))
    return frozenset(standing)


def _expect(field: str, value: object, ok: Callable[[object], bool], what: str) -> None:
    if not ok(value):
        raise InvalidInput(f"{field} must be {what}, got {names.shown(value)}", field=field)


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_whole_or_none(value: object) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _is_block_choice(value: object) -> bool:
    return isinstance(value, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _is_name_list(value: object) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)


def _choice(field: str, value: str, choices: tuple[str, ...]) -> None:
    InvalidInput.unless_one_of(field, value, choices)


def room_above(placement: world.Placement, settings: mapart.MapArtSettings) -> int:
    """Levels a build has from its support blocks (or its lowest art block) up to the world's top."""
    return placement.build_height[1] - (placement.origin_y - settings.support_levels) + 1
