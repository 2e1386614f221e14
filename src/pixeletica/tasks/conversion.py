"""A task's conversion settings: validated when the task is submitted, turned into engine options when it runs."""

from __future__ import annotations

import functools
from dataclasses import asdict, fields
from typing import Any

from pixeletica.engine import image_io, palette, pipeline
from pixeletica.engine.exports import bundle, schematic
from pixeletica.errors import InvalidInput

_OPTION_FIELDS = {f.name for f in fields(pipeline.ConvertOptions)}
_FILTER_FIELDS = {f.name for f in fields(palette.PaletteFilter)}
_TUPLE_FIELDS = {"include_categories", "exclude_categories", "include_blocks", "exclude_blocks"}
_BOOL_FIELDS = {"survival_only", "stable_only", "no_gravity", "no_light", "no_support"}
_OTHER_FIELDS = {"face", "exports"}


def normalise(settings: dict[str, Any], image_size: tuple[int, int] | None = None) -> dict[str, Any]:
    """Check conversion settings and fill in defaults; raise :class:`InvalidInput` naming the problem.

    Accepts the keys of :class:`~pixeletica.engine.pipeline.ConvertOptions` and
    :class:`~pixeletica.engine.palette.PaletteFilter`, plus ``face`` and ``exports`` (the
    reference's export fields). With the source image's (width, height), also checks that the
    build can be split into ``image_division`` parts.
    """
    unknown = set(settings) - _OPTION_FIELDS - _FILTER_FIELDS - _OTHER_FIELDS
    if unknown:
        raise InvalidInput(f"unknown conversion setting(s): {', '.join(sorted(unknown))}")
    options = _options(settings)
    options.validated()
    spec = _filter(settings)
    face = str(settings.get("face", "side"))
    palette.select(spec, face=face)  # unknown categories/blocks/face fail now, not in the worker
    out = {**asdict(options), **asdict(spec), "face": face}
    if "exports" in settings:  # what the exports will need; kept as given
        exports = settings["exports"]
        if not isinstance(exports, dict):
            raise InvalidInput("conversion setting 'exports' must be an object")
        rendering = render_options(exports)
        rendering.validate()
        placement(exports, "check").validate()
        schematic_formats(exports)
        if image_size is not None and rendering.image_division > 1:
            size = image_io.target_size(*image_size, options.width, options.height, max_size=options.max_size)
            rendering.parts(*size)
        out["exports"] = exports
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


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
        if not all(isinstance(v, str) for v in values[key]):
            raise InvalidInput(f"{key} must be a list of names, got {value!r}")
    for key in _BOOL_FIELDS & set(values):
        if not isinstance(values[key], bool):
            raise InvalidInput(f"{key} must be true or false, got {values[key]!r}")
    if values.get("game_version") is not None and not isinstance(values["game_version"], str):
        raise InvalidInput(f"game_version must be a version like 1.20.1, got {values['game_version']!r}")
    return palette.PaletteFilter(**values)


def engine_inputs(settings: dict[str, Any]) -> tuple[palette.Palette, pipeline.ConvertOptions]:
    """The palette and options a stored task's settings describe."""
    return _palette(_filter(settings), str(settings.get("face", "side"))), _options(settings)


@functools.lru_cache(maxsize=32)
def _palette(spec: palette.PaletteFilter, face: str) -> palette.Palette:
    """A worker runs many tasks with the same few palettes: choose each once (it is immutable)."""
    return palette.select(spec, face=face)


def render_options(exports: dict[str, Any]) -> bundle.RenderOptions:
    """Render options from a task's export settings (the reference's field names)."""
    return bundle.RenderOptions(
        line_visibilities=tuple(exports.get("line_visibilities") or ()),
        origin_x=int(exports.get("origin_x", 0)),
        origin_z=int(exports.get("origin_z", 0)),
        block_line_color=str(exports.get("block_line_color", "#000000FF")),
        chunk_line_color=str(exports.get("chunk_line_color", "#FF0000FF")),
        image_division=int(exports.get("image_division", 1)),
        chunk_labels=bool(exports.get("chunk_labels", False)),
    )


def schematic_formats(exports: dict[str, Any]) -> tuple[str, ...]:
    """The schematic formats a task's export settings ask for (all of them unless it says)."""
    formats = exports.get("schematic_formats") or bundle.SCHEMATIC_FORMATS
    if isinstance(formats, str) or not isinstance(formats, list | tuple):
        raise InvalidInput(f"schematic_formats must be a list of names, got {formats!r}")
    return bundle.check_schematic_formats(tuple(formats))


def placement(exports: dict[str, Any], stem: str) -> schematic.Placement:
    """Schematic placement from a task's export settings."""
    return schematic.Placement(
        orientation=str(exports.get("orientation", "floor")),
        facing=str(exports.get("facing", "south")),
        origin_x=int(exports.get("origin_x", 0)),
        origin_y=int(exports.get("origin_y", 100)),
        origin_z=int(exports.get("origin_z", 0)),
        game_version=str(exports.get("game_version") or schematic.DEFAULT_GAME_VERSION),
        name=str(exports.get("schematic_name") or stem),
        author=str(exports.get("schematic_author") or "Pixeletica API"),
        description=str(exports.get("schematic_description") or ""),
    )
