"""A task's conversion settings: its stored JSON read into the engine's typed settings, and back.

The settings are checked once, when the task is submitted (:func:`normalise`); the row keeps
their stored form, and a run reads it back with :func:`settings_of`.
"""

from __future__ import annotations

from typing import Any

from pixeletica.engine.settings import ConversionSettings


def normalise(settings: dict[str, Any], image_size: tuple[int, int] | None = None) -> dict[str, Any]:
    """The stored form of conversion settings, checked and with defaults filled in.

    Raises :class:`~pixeletica.errors.InvalidInput` naming the problem; see
    :meth:`ConversionSettings.from_dict` (with the image's size, the size-dependent checks too).
    """
    return ConversionSettings.from_dict(settings, image_size).to_dict()


def settings_of(stored: dict[str, Any]) -> ConversionSettings:
    """The typed settings a task's stored settings describe."""
    return ConversionSettings.from_stored(stored)
