"""Names and text from outside, made safe for where they go: the one place they are cleaned and bounded.

Anything a user names — an upload's file name, a schematic's name, author and description —
ends up in file paths, ZIP entries, database columns, files read by the game's mods and lines
printed on a terminal. Each destination gets its own function here:

- :func:`file_name` / :func:`file_stem`: one path component, ASCII letters, digits, ``.``,
  ``_`` and ``-`` only, never ``.``/``..``, at most 100 characters: safe in any file system,
  ZIP entry, URL segment and database column.
- :func:`label`: free text on one line for a database column or a file's metadata: control and
  bidirectional-override characters removed, whitespace collapsed, bounded in length.
- :func:`printable`: text for a terminal: control characters shown as escapes, never executed.
- :func:`shown`: a value quoted in an error message, cut short if it is long.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

#: Longest file name (without folder) Pixeletica writes; leaves room for suffixes under 255.
MAX_FILE_NAME = 100
_UNSAFE_FILE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
#: Characters that reorder or hide text on screen (bidi overrides and isolates, zero widths).
_INVISIBLE = frozenset("\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")


def file_name(name: str, default: str = "file", max_length: int = MAX_FILE_NAME) -> str:
    """One safe path component from any name: the last path part, odd characters as ``_``, bounded.

    >>> file_name("../../etc/passwd")
    'passwd'
    >>> file_name("My Castle (1).png")
    'My_Castle_1_.png'
    """
    base = PurePosixPath(str(name).replace("\\", "/").replace("\x00", "")).name
    cleaned = _UNSAFE_FILE_CHARACTERS.sub("_", base).strip("._")
    if len(cleaned) > max_length:
        _, dot, suffix = cleaned.rpartition(".")
        keep = suffix if dot and 0 < len(suffix) <= 10 else ""
        cleaned = (cleaned[: max_length - len(keep) - 1].rstrip("._") + "." + keep) if keep else cleaned[:max_length]
    return cleaned.strip("._") or default


def file_stem(name: str, default: str = "build", max_length: int = 64) -> str:
    """A safe stem for the files of a build: like :func:`file_name`, shorter, so suffixes fit."""
    return file_name(name, default, max_length)


def label(text: object, max_length: int = 200) -> str:
    """Free text made one clean line: no control or invisible characters, whitespace collapsed, bounded."""
    kept = []
    for character in str(text):
        if character in _INVISIBLE:
            continue
        category = unicodedata.category(character)
        if category in ("Zl", "Zp") or character in "\t\n\r\x0b\x0c":
            kept.append(" ")
        elif category not in ("Cc", "Cs", "Co", "Cn"):
            kept.append(character)
    line = " ".join("".join(kept).split())
    return line if len(line) <= max_length else line[: max_length - 1].rstrip() + "…"


def printable(text: object, *, one_line: bool = False) -> str:
    """Text for a terminal: control and invisible characters shown as ``\\x1b``-style escapes.

    Line breaks and tabs are kept, so tracebacks stay readable, unless ``one_line`` (a name in a
    title or a table cell); nothing can move the cursor, change colours, set the window title or
    hide text.
    """
    kept = "" if one_line else "\n\t"
    out = []
    for character in str(text):
        if character in kept:
            out.append(character)
        elif character in _INVISIBLE or unicodedata.category(character) in ("Cc", "Cs"):
            code = ord(character)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(character)
    return "".join(out)


def shown(value: object, max_length: int = 60) -> str:
    """A value as quoted in an error message (``repr``), cut to ``max_length`` characters."""
    text = repr(value)
    return text if len(text) <= max_length else text[: max_length - 1] + "…"
