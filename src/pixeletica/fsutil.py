"""Writing files so that readers never see half of one: the one place files are written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder, fsync, then rename."""
    path = Path(path)
    umask = os.umask(0)
    os.umask(umask)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            os.fchmod(handle.fileno(), 0o666 & ~umask)  # mkstemp makes 0600; give the usual mode
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_all(files: Mapping[Path, bytes]) -> list[Path]:
    """Write several files atomically; if any write fails, remove the ones this call created.

    Files that existed before and were replaced stay replaced (each write is atomic on its own).
    """
    written: list[Path] = []
    try:
        for path, data in files.items():
            existed = Path(path).exists()
            atomic_write(Path(path), data)
            if not existed:
                written.append(Path(path))
    except BaseException:
        for path in written:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        raise
    return list(files)
