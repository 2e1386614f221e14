"""A task's conversion settings: validated when the task is submitted, turned into engine options when it runs."""

from __future__ import annotations

import functools
import math
import types
import typing
from dataclasses import asdict, fields
from typing import Any

from pixeletica import names
from pixeletica.engine import image_io, palette, pipeline
from pixeletica.engine.exports import bundle, schematic
from pixeletica.errors import InvalidInput

_OPTION_FIELDS = {f.name for f in fields(pipeline.ConvertOptions)}
_FILTER_FIELDS = {f.name for f in fields(palette.PaletteFilter)}
_TUPLE_FIELDS = {"include_categories", "exclude_categories", "include_blocks", "exclude_blocks"}
_OTHER_FIELDS = {"face", "exports"}
#: The JSON type each conversion setting must have, from the engine's own declarations.
_TYPES: dict[str, Any] = {
    **typing.get_type_hints(pipeline.ConvertOptions),
    **typing.get_type_hints(palette.PaletteFilter),
    "face": str,
}
#: Seeds are 64-bit; larger numbers would only be cut down to that.
_SEED_LIMIT = 2**63
#: Longest schematic name, author and description kept (they go into the files' metadata).
_TEXT_LIMITS = {"schematic_name": 100, "schematic_author": 100, "schematic_description": 1000}


def normalise(settings: dict[str, Any], image_size: tuple[int, int] | None = None) -> dict[str, Any]:
    """Check conversion settings and fill in defaults; raise :class:`InvalidInput` naming the problem.

    Accepts the keys of :class:`~pixeletica.engine.pipeline.ConvertOptions` and
    :class:`~pixeletica.engine.palette.PaletteFilter`, plus ``face`` and ``exports`` (the
    reference's export fields). With the source image's (width, height), also checks everything
    that depends on the build's size — renders, parts, the schematic's place in the world — so
    that nothing the task will be asked to do fails after the conversion.
    """
    unknown = set(settings) - _OPTION_FIELDS - _FILTER_FIELDS - _OTHER_FIELDS
    if unknown:
        raise InvalidInput(f"unknown conversion setting(s): {', '.join(sorted(map(names.shown, unknown)))}")
    for key, value in settings.items():
        if key in _TYPES:
            _check_type(key, value, _TYPES[key])
    options = _options(settings)
    options.validated()
    if not -_SEED_LIMIT <= options.seed < _SEED_LIMIT:
        raise InvalidInput(f"seed must be a whole number below 2**63 in size, got {options.seed}")
    spec = _filter(settings)
    face = settings.get("face", "side")
    palette.select(spec, face=face)  # unknown categories/blocks/face fail now, not in the worker
    out = {**asdict(options), **asdict(spec), "face": face}
    if "exports" in settings:  # what the exports will need
        exports = settings["exports"]
        if not isinstance(exports, dict):
            raise InvalidInput("conversion setting 'exports' must be an object")
        exports = clean_exports(exports)
        rendering = render_options(exports)
        rendering.validate()
        place = placement(exports, "check")
        place.validate()
        schematic_formats(exports)
        if image_size is not None:
            size = image_io.target_size(*image_size, options.width, options.height, max_size=options.max_size)
            rendering.resolved(*size)
            if exports.get("generate_schematic"):
                place.check_fits(*size)
        out["exports"] = exports
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


def _check_type(name: str, value: Any, expected: Any) -> None:
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
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        what = "a number"
    elif kind is str:
        ok, what = isinstance(value, str), "a string"
    else:  # tuple[str, ...]: a list of names (one name alone is taken as a list of one)
        ok = isinstance(value, str) or (isinstance(value, list | tuple) and all(isinstance(v, str) for v in value))
        what = "a list of names"
    if not ok:
        raise InvalidInput(f"{name} must be {what}, got {names.shown(value)}")


def clean_exports(exports: dict[str, Any]) -> dict[str, Any]:
    """The export settings with their free-text names cleaned and bounded (they reach files and terminals)."""
    cleaned = dict(exports)
    for key, limit in _TEXT_LIMITS.items():
        value = cleaned.get(key)
        if value is not None:
            if not isinstance(value, str):
                raise InvalidInput(f"{key} must be a string, got {names.shown(value)}")
            cleaned[key] = names.label(value, limit) or None
    return cleaned


def _options(settings: dict[str, Any]) -> pipeline.ConvertOptions:
    try:
        return pipeline.ConvertOptions(**{k: v for k, v in settings.items() if k in _OPTION_FIELDS})
    except TypeError as exc:
        raise InvalidInput(f"bad conversion settings: {exc}") from None


def _filter(settings: dict[str, Any]) -> palette.PaletteFilter:
    values = {k: v for k, v in settings.items() if k in _FILTER_FIELDS}
    for key in _TUPLE_FIELDS & set(values):
        value = values[key]
        values[key] = (value,) if isinstance(value, str) else tuple(value or ())
    return palette.PaletteFilter(**values)


def engine_inputs(settings: dict[str, Any]) -> tuple[palette.Palette, pipeline.ConvertOptions]:
    """The palette and options a stored task's settings describe."""
    return _palette(_filter(settings), str(settings.get("face", "side"))), _options(settings)


@functools.lru_cache(maxsize=32)
def _palette(spec: palette.PaletteFilter, face: str) -> palette.Palette:
    """A worker runs many tasks with the same few palettes: choose each once (it is immutable)."""
    return palette.select(spec, face=face)


def render_options(exports: dict[str, Any]) -> bundle.RenderOptions:
    """Render options from a task's export settings (the reference's field names).

    A task always renders the plain picture (``no_lines``) besides the variants asked for: existing
    clients show it as the main rendered image.
    """
    asked = tuple(exports.get("line_visibilities") or ())
    return bundle.RenderOptions(
        line_visibilities=asked if "no_lines" in asked else ("no_lines", *asked),
        origin_x=exports.get("origin_x", 0),
        origin_z=exports.get("origin_z", 0),
        block_line_color=exports.get("block_line_color", "#000000FF"),
        chunk_line_color=exports.get("chunk_line_color", "#FF0000FF"),
        image_division=exports.get("image_division", 1),
        chunk_labels=bool(exports.get("chunk_labels", False)),
    )


def schematic_formats(exports: dict[str, Any]) -> tuple[str, ...]:
    """The schematic formats a task's export settings ask for (all of them unless it says)."""
    formats = exports.get("schematic_formats") or bundle.SCHEMATIC_FORMATS
    if isinstance(formats, str) or not isinstance(formats, list | tuple):
        raise InvalidInput(f"schematic_formats must be a list of names, got {names.shown(formats)}")
    return bundle.check_schematic_formats(tuple(formats))


def schematic_stem(exports: dict[str, Any], stem: str) -> str:
    """The file stem of a task's schematic files: its schematic name made safe, or the input's stem."""
    return names.file_stem(exports.get("schematic_name") or stem)


def placement(exports: dict[str, Any], stem: str) -> schematic.Placement:
    """Schematic placement from a task's export settings."""
    return schematic.Placement(
        orientation=exports.get("orientation", "floor"),
        facing=exports.get("facing", "south"),
        origin_x=exports.get("origin_x", 0),
        origin_y=exports.get("origin_y", 100),
        origin_z=exports.get("origin_z", 0),
        game_version=exports.get("game_version") or schematic.DEFAULT_GAME_VERSION,
        name=names.label(exports.get("schematic_name") or stem, _TEXT_LIMITS["schematic_name"]),
        author=names.label(exports.get("schematic_author") or "Pixeletica API", _TEXT_LIMITS["schematic_author"]),
        description=names.label(exports.get("schematic_description") or "", _TEXT_LIMITS["schematic_description"]),
    )
