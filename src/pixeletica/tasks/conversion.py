"""A task's conversion settings: validated when the task is submitted, turned into engine options when it runs."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from pixeletica.engine import palette, pipeline
from pixeletica.errors import InvalidInput

_OPTION_FIELDS = {f.name for f in fields(pipeline.ConvertOptions)}
_FILTER_FIELDS = {f.name for f in fields(palette.PaletteFilter)}
_TUPLE_FIELDS = {"include_categories", "exclude_categories", "include_blocks", "exclude_blocks"}
_OTHER_FIELDS = {"face", "exports"}


def normalise(settings: dict[str, Any]) -> dict[str, Any]:
    """Check conversion settings and fill in defaults; raise :class:`InvalidInput` naming the problem.

    Accepts the keys of :class:`~pixeletica.engine.pipeline.ConvertOptions` and
    :class:`~pixeletica.engine.palette.PaletteFilter`, plus ``face``.
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
        if not isinstance(settings["exports"], dict):
            raise InvalidInput("conversion setting 'exports' must be an object")
        out["exports"] = settings["exports"]
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
    return palette.PaletteFilter(**values)


def engine_inputs(settings: dict[str, Any]) -> tuple[palette.Palette, pipeline.ConvertOptions]:
    """The palette and options a stored task's settings describe."""
    return palette.select(_filter(settings), face=str(settings.get("face", "side"))), _options(settings)
