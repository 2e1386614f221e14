"""The ``metadata`` JSON of ``POST /conversion/start``: the reference's request shape, turned into task settings.

Every setting is checked by :class:`~pixeletica.engine.conversion_settings.ConversionSettings`;
this module only renames the reference's fields into settings keys, reads the task's priority
and visibility, and names a setting at fault as the client sent it (``metadata.<field> ...``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException

from pixeletica import names
from pixeletica.engine import conversion_settings, defaults
from pixeletica.engine.conversion_settings import ConversionSettings
from pixeletica.errors import InvalidInput
from pixeletica.tasks.model import DEFAULT_PRIORITY, Priority

#: The metadata is a few hundred bytes; anything near this is not a conversion request.
MAX_METADATA_BYTES = 64 * 1024


@dataclass(frozen=True)
class StartRequest:
    """What the ``metadata`` of a start asks for: the task's settings, its priority, and whether its map is public."""

    settings: ConversionSettings
    priority: Priority
    public: bool | None  # None: the server's default (PIXELETICA_PUBLIC_GALLERY)


#: Conversion options beyond the reference that clients may send (palette filters included); the
#: limits (``max_size``, ``max_input_pixels``) are the server's.
EXTRA_OPTIONS = (
    "metric", "strength", "serpentine", "seed", "resample", "alpha_threshold", "face",
    "include_categories", "exclude_categories", "include_blocks", "exclude_blocks",
    "survival_only", "stable_only", "no_gravity", "no_light",
)  # fmt: skip
#: The map-art fields of the metadata (``map_art`` names the kind; absent or null: no map art), by the
#: names of :class:`~pixeletica.engine.mapart_options.MapArtOptions`' fields.
MAP_ART_FIELDS = {
    "map_art": "kind", "maps": "maps", "map_framing": "framing", "max_height": "max_height",
    "map_blocks": "blocks", "exclude_colours": "exclude", "support": "support", "support_block": "support_block",
    "map_id": "map_id", "map_layout": "layout", "map_preset": "preset",
}  # fmt: skip
#: The reference's name of a setting, where it is not the setting's own.
_REQUEST_NAMES = {"algorithm": "dithering_algorithm", **{own: asked for asked, own in MAP_ART_FIELDS.items()}}


def _bad(field: str, problem: str) -> HTTPException:
    return HTTPException(400, f"metadata.{field} {problem}")


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


def _settings(meta: dict[str, Any]) -> dict[str, Any]:
    """The settings the metadata asks for, under the settings' names (checked by the engine, not here).

    With ``map_art`` the size is the maps' (``width`` and ``height`` are not read) and the origin
    defaults to a map's edge.
    """
    map_art = meta.get("map_art") is not None
    if not map_art and meta.get("width") is None and meta.get("height") is None:
        raise _bad("width", "is required (give width, height or both)")
    conversion_settings.check_color_palette(meta.get("color_palette", defaults.DEFAULT_COLOR_PALETTE))
    settings = {
        **({} if map_art else {"width": meta.get("width"), "height": meta.get("height")}),
        "algorithm": meta.get("dithering_algorithm", defaults.DEFAULT_ALGORITHM),
        **{key: meta[key] for key in EXTRA_OPTIONS if key in meta},
    }
    if map_art:
        settings["map_art"] = {own: meta[asked] for asked, own in MAP_ART_FIELDS.items() if asked in meta}
    given = {key: meta[key] for key in conversion_settings.EXPORT_FIELDS if key in meta}
    exports = {**conversion_settings.request_export_defaults(map_art=map_art), **given}
    if exports["image_division"] is None:  # null: the documented default
        exports["image_division"] = defaults.DEFAULT_IMAGE_DIVISION
    if "game_version" in meta:  # blocks that exist in this version, and the schematics' data version
        settings["game_version"] = meta["game_version"]
    return {**settings, "exports": exports}


def _named(exc: InvalidInput, field: str) -> HTTPException:
    """The engine's error about setting ``field``, naming it as the metadata does."""
    message = str(exc)
    rest = message[len(field) :] if message.startswith(field) else f": {message}"
    return HTTPException(400, f"metadata.{_REQUEST_NAMES.get(field, field)}{rest}")


def parse(text: str, *, max_size: int, max_input_pixels: int) -> StartRequest:
    """Task settings (within the server's limits), priority and visibility from the metadata JSON;
    HTTP 400 naming the field otherwise (what depends on the image's size is checked with the image)."""
    meta = _load(text)
    try:
        limits = {"max_size": max_size, "max_input_pixels": max_input_pixels}
        settings = ConversionSettings.from_dict({**_settings(meta), **limits})
    except InvalidInput as exc:
        if exc.field is None:
            raise
        raise _named(exc, exc.field) from None
    given = meta.get("priority", DEFAULT_PRIORITY.label)
    if not isinstance(given, str) or given.strip().upper() not in Priority.__members__:
        *others, last = [p.label for p in reversed(Priority)]
        raise _bad("priority", f"must be {', '.join(others)} or {last}, got {names.shown(given)}")
    public = meta.get("public")
    if public is not None and not isinstance(public, bool):
        raise _bad("public", f"must be true or false, got {names.shown(public)}")
    return StartRequest(settings=settings, priority=Priority.parse(given), public=public)
