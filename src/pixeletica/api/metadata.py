"""The ``metadata`` JSON of ``POST /conversion/start``: checked field by field, turned into task settings."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException

from pixeletica import names
from pixeletica.engine import conversion_settings, defaults
from pixeletica.engine.exports import bundle, schematic
from pixeletica.tasks.model import Priority

PALETTES = conversion_settings.COLOR_PALETTES
LINE_VISIBILITIES = conversion_settings.LINE_VISIBILITIES
_RGBA = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
#: The metadata is a few hundred bytes; anything near this is not a conversion request.
MAX_METADATA_BYTES = 64 * 1024


@dataclass(frozen=True)
class StartRequest:
    """What the ``metadata`` of a start asks for: the task's settings, its priority, and whether its map is public."""

    settings: dict[str, Any]
    priority: Priority
    public: bool | None  # None: the server's default (PIXELETICA_PUBLIC_GALLERY)


#: Export options of the reference, kept with the task for the exports (defaults as documented).
EXPORT_DEFAULTS = conversion_settings.REQUEST_EXPORT_DEFAULTS
#: Conversion options beyond the reference that clients may send (palette filters included).
EXTRA_OPTIONS = (
    "metric", "strength", "serpentine", "seed", "resample", "alpha_threshold", "face",
    "include_categories", "exclude_categories", "include_blocks", "exclude_blocks",
    "survival_only", "stable_only", "no_gravity", "no_light",
)  # fmt: skip


def _bad(field: str, problem: str) -> HTTPException:
    return HTTPException(400, f"metadata.{field} {problem}")


def _int(meta: dict[str, Any], field: str, *, required: bool = False, positive: bool = False) -> int | None:
    value = meta.get(field)
    if value is None:
        if required:
            raise _bad(field, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(field, f"must be a whole number, got {names.shown(value)}")
    if positive and value <= 0:
        raise _bad(field, f"must be a positive number of blocks, got {value}")
    return value


def _not_a_number(constant: str) -> None:
    raise ValueError(f"{constant} is not a number JSON allows")


def _load(text: str) -> dict[str, Any]:
    """The metadata JSON object; HTTP 400 with a sentence for anything else (bad JSON, too big, too deep)."""
    if len(text) > MAX_METADATA_BYTES:
        raise HTTPException(400, f"metadata is {len(text):,} characters long; the limit is {MAX_METADATA_BYTES:,}")
    try:
        meta = json.loads(text, parse_constant=_not_a_number)
    except json.JSONDecodeError as exc:
        where = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        raise HTTPException(400, f"Invalid JSON metadata format: {where}") from None
    except RecursionError:
        raise HTTPException(400, "Invalid JSON metadata format: it is nested too deeply") from None
    except ValueError as exc:  # NaN/Infinity, or a number of thousands of digits
        problem = str(exc) if "JSON allows" in str(exc) else "a number in it has thousands of digits"
        raise HTTPException(400, f"Invalid JSON metadata format: {problem}") from None
    if not isinstance(meta, dict):
        raise HTTPException(400, "Invalid JSON metadata format: expected a JSON object")
    return meta


def parse(text: str) -> StartRequest:
    """Task settings, priority and visibility from the metadata JSON; HTTP 400 naming the field otherwise."""
    meta = _load(text)
    width = _int(meta, "width", positive=True)
    height = _int(meta, "height", positive=True)
    if width is None and height is None:
        raise _bad("width", "is required (give width, height or both)")
    settings: dict[str, Any] = {"width": width, "height": height}
    algorithm = meta.get("dithering_algorithm", defaults.DEFAULT_ALGORITHM)
    if not isinstance(algorithm, str):
        raise _bad("dithering_algorithm", f"must be a string, got {names.shown(algorithm)}")
    settings["algorithm"] = algorithm
    palette = meta.get("color_palette", defaults.DEFAULT_COLOR_PALETTE)
    if not isinstance(palette, str) or palette not in PALETTES:
        raise _bad("color_palette", f"must be one of {', '.join(PALETTES)}, got {names.shown(palette)}")
    for key in EXTRA_OPTIONS:
        if key in meta:
            settings[key] = meta[key]
    exports = {**EXPORT_DEFAULTS}
    for key in ("origin_x", "origin_y", "origin_z"):
        exports[key] = _int(meta, key) if key in meta else exports[key]
    division = _int(meta, "image_division", positive=True)
    if division is not None:
        exports["image_division"] = division
    for key in ("chunk_line_color", "block_line_color"):
        if key in meta:
            if not isinstance(meta[key], str) or not _RGBA.fullmatch(meta[key]):
                raise _bad(key, f"must be a colour like #RRGGBB or #RRGGBBAA, got {names.shown(meta[key])}")
            exports[key] = meta[key]
    if "line_visibilities" in meta:
        lines = meta["line_visibilities"]
        if not isinstance(lines, list) or not all(isinstance(v, str) and v in LINE_VISIBILITIES for v in lines):
            raise _bad("line_visibilities", f"must be a list of: {', '.join(LINE_VISIBILITIES)}")
        exports["line_visibilities"] = lines
    if "orientation" in meta:
        if not isinstance(meta["orientation"], str) or meta["orientation"] not in schematic.ORIENTATIONS:
            choices = " or ".join(schematic.ORIENTATIONS)
            raise _bad("orientation", f"must be {choices}, got {names.shown(meta['orientation'])}")
        exports["orientation"] = meta["orientation"]
    if "facing" in meta:
        if not isinstance(meta["facing"], str) or meta["facing"] not in schematic.FACINGS:
            raise _bad("facing", f"must be one of {', '.join(schematic.FACINGS)}, got {names.shown(meta['facing'])}")
        exports["facing"] = meta["facing"]
    if "game_version" in meta:  # blocks that exist in this version, and the schematics' data version
        version = meta["game_version"]
        if not isinstance(version, str) or version not in schematic.DATA_VERSIONS:
            latest = list(schematic.DATA_VERSIONS)[-1]
            wanted = f'must be a Java release from 1.13 to {latest} like "1.20.1"'
            raise _bad("game_version", f"{wanted}, got {names.shown(version)}")
        settings["game_version"] = exports["game_version"] = version
    for key in ("generate_schematic", "generate_web_files", "chunk_labels"):
        if key in meta:
            if not isinstance(meta[key], bool):
                raise _bad(key, f"must be true or false, got {names.shown(meta[key])}")
            exports[key] = meta[key]
    if "schematic_formats" in meta:
        formats = meta["schematic_formats"]
        if (
            not isinstance(formats, list)
            or not formats
            or not all(isinstance(f, str) and f in bundle.SCHEMATIC_FORMATS for f in formats)
        ):
            raise _bad("schematic_formats", f"must be a list of some of: {', '.join(bundle.SCHEMATIC_FORMATS)}")
        exports["schematic_formats"] = list(dict.fromkeys(formats))
    for key in ("schematic_name", "schematic_author", "schematic_description"):
        if key in meta:
            if meta[key] is not None and not isinstance(meta[key], str):
                raise _bad(key, f"must be a string, got {names.shown(meta[key])}")
            exports[key] = meta[key]
    settings["exports"] = exports
    given = meta.get("priority", "normal")
    if not isinstance(given, str) or given.strip().upper() not in Priority.__members__:
        *others, last = [p.label for p in reversed(Priority)]
        raise _bad("priority", f"must be {', '.join(others)} or {last}, got {names.shown(given)}")
    public = meta.get("public")
    if public is not None and not isinstance(public, bool):
        raise _bad("public", f"must be true or false, got {names.shown(public)}")
    return StartRequest(settings=settings, priority=Priority.parse(given), public=public)
