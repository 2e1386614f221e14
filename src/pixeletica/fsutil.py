"""Writing files so that readers never see half of one: the one place files are written."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from pixeletica.errors import InvalidInput, LimitExceeded


def read_capped(path: Path, limit: int, what: str, setting: str | None = None) -> bytes:
    """The bytes of a file of at most ``limit`` bytes; never reads more than one byte past it.

    Devices and pipes (``/dev/zero``) are read the same way, so nothing can fill the memory.
    Raises :class:`InvalidInput` for a missing or unreadable file, :class:`LimitExceeded` beyond the limit.
    """
    path = Path(path)
    if path.is_dir():
        raise InvalidInput(f"{what} '{path}' is a folder, not a file")
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InvalidInput(f"{what} '{path}' does not exist") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {what} '{path}': {exc.strerror or exc}") from None
    if len(data) > limit:
        raise LimitExceeded(f"{what} '{path}' is larger than {limit / 2**20:g} MB", setting=setting)
    return data


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder, fsync, then rename."""
    path = Path(path)
    tmp = _write_temporary(path, data, sync=True)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _write_temporary(path: Path, data: bytes, *, sync: bool) -> str:
    """``data`` in a new temporary file beside ``path`` (mode as a plain open() would give); its name."""
    umask = os.umask(0)
    os.umask(umask)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            os.fchmod(handle.fileno(), 0o666 & ~umask)  # mkstemp makes 0600; give the usual mode
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


class Batch:
    """Many files written at once, each appearing whole or not at all, made durable together.

    ``write`` puts each file's bytes in a temporary file; leaving the ``with`` block makes them
    all durable with one ``syncfs`` of their file system (Linux; elsewhere one fsync per file)
    and only then renames each into place. An exception inside the block removes them all.
    One sync instead of one per file is what makes a web map's thousands of tiles, or the half
    dozen files of a small conversion, cheap to write safely.
    """

    def __init__(self) -> None:
        self._pending: dict[Path, str] = {}

    def write(self, path: Path, data: bytes) -> None:
        path = Path(path)
        tmp = _write_temporary(path, data, sync=False)
        old = self._pending.pop(path, None)
        if old is not None:
            os.unlink(old)
        self._pending[path] = tmp

    def __contains__(self, path: object) -> bool:
        return path in self._pending

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()

    def commit(self) -> None:
        """Make every pending file durable, then rename each into place."""
        try:
            _sync(list(self._pending.values()))
            for path, tmp in list(self._pending.items()):
                os.replace(tmp, path)
                del self._pending[path]
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        for tmp in self._pending.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        self._pending.clear()


def _load_syncfs() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes, function.restype = [ctypes.c_int], ctypes.c_int
    return function


_SYNCFS = _load_syncfs()


def _sync(paths: list[str]) -> None:
    """Flush these files' data to disk: one syncfs per file system, or one fsync per file."""
    if not paths:
        return
    if _SYNCFS is not None:
        devices: dict[int, str] = {}
        for path in paths:
            devices.setdefault(os.stat(path).st_dev, path)
        if all(_syncfs(path) for path in devices.values()):
            return
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _syncfs(path: str) -> bool:
    fd = os.open(path, os.O_RDONLY)
    try:
        return _SYNCFS(fd) == 0
    finally:
        os.close(fd)


def write_all(files: Mapping[Path, bytes]) -> list[Path]:
    """Write several files atomically; if any write fails, remove the ones this call created.

    Files that existed before and were replaced stay replaced (each write is atomic on its own).
    An :class:`OSError` names the file that could not be written (not its temporary file).
    """
    written: list[Path] = []
    try:
        for path, data in files.items():
            existed = Path(path).exists()
            try:
                atomic_write(Path(path), data)
            except OSError as exc:
                raise OSError(exc.errno, exc.strerror, str(path)) from exc
            if not existed:
                written.append(Path(path))
    except BaseException:
        for path in written:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        raise
    return list(files)
