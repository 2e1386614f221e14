"""The one guard between a request and a file on disk: nothing outside the tasks folder is ever served."""

from __future__ import annotations

from pathlib import Path

from fastapi import HTTPException


def contained(root: Path, relative: str | Path, what: str) -> Path:
    """``root / relative`` if it is an existing file inside ``root`` (links resolved); 404 naming ``what`` otherwise."""
    base = Path(root).resolve()
    try:
        path = (base / relative).resolve()
    except (OSError, ValueError):  # a NUL byte, a loop of links
        raise HTTPException(404, f"{what} not found") from None
    if not path.is_relative_to(base) or not path.is_file():
        raise HTTPException(404, f"{what} not found")
    return path
