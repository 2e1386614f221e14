"""Pixeletica's exception hierarchy; the edges (CLI, HTTP) translate these into exit codes and statuses."""

from __future__ import annotations


class PixeleticaError(Exception):
    """Something went wrong in Pixeletica."""


class InvalidInput(PixeleticaError):
    """The input or the settings are wrong; retrying the same request cannot succeed."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        #: The setting at fault, when there is one (its message then starts with its name): the edges
        #: can name it as their users know it, e.g. ``metadata.<field>`` in the HTTP API.
        self.field = field

    @classmethod
    def unless_one_of(cls, field: str, value: object, choices: tuple[str, ...], wanted: str = "") -> None:
        """Refuse ``value`` unless it is one of ``choices``: "<field> must be <wanted>, got <value>".

        ``wanted`` says what is allowed, by default "one of" the choices; the value is quoted cut short.
        """
        if not isinstance(value, str) or value not in choices:
            from pixeletica import names  # (names imports nothing of Pixeletica's)

            wanted = wanted or f"one of {', '.join(choices)}"
            raise cls(f"{field} must be {wanted}, got {names.shown(value)}", field=field)


class UnsupportedImage(InvalidInput):
    """The file is not an image Pixeletica can read."""


class LimitExceeded(InvalidInput):
    """The input is larger than a configured limit."""

    def __init__(self, message: str, *, setting: str | None = None, field: str | None = None) -> None:
        super().__init__(message, field=field)
        #: Name of the setting that holds the limit (e.g. ``max_input_pixels``), for the edges' hints.
        self.setting = setting


class TransientError(PixeleticaError):
    """A temporary failure (I/O, busy database, broker down); the same request may succeed later."""


class StorageUnavailable(TransientError):
    """The data folder cannot be written (full, read-only, wrong permissions); nothing can be stored now."""


class TimedOut(PixeleticaError):
    """It took longer than its time limit; a smaller request may fit."""


class NotFound(PixeleticaError):
    """The task (or file) asked for does not exist."""


class TransitionConflict(PixeleticaError):
    """A status change did not apply: the task had changed (or the change is not allowed)."""
