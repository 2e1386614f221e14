"""Writing files so that readers never see half of one: the one place files are written."""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import sys
import weakref
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
    """Write ``data`` to ``path`` via a temporary file in the same folder, fsync, then rename.

    Wherever an exception (a signal's handler raising, say) stops it, ``path`` holds its old
    content or the new, and no temporary file is left behind.
    """
    path = Path(path)
    tmp = _temporary_name(path)
    try:
        _write_new(tmp, data, sync=True)
        os.replace(tmp, path)
    except FileExistsError:
        raise  # the name was someone else's: not ours to remove
    except BaseException:
        _remove(tmp)
        raise


#: The longest file name most file systems take, in bytes.
_NAME_MAX = 255


def _temporary_name(path: Path) -> str:
    """A fresh name for a hidden temporary file beside ``path``: ``.<name>.<16 hex digits>.tmp``, the name cut
    short where it would make the temporary name longer than a file system takes (the file's own name fits)."""
    suffix = f".{secrets.token_hex(8)}.tmp"
    room = _NAME_MAX - 1 - len(suffix)
    name = os.fsencode(path.name)[:room].decode(errors="ignore") if len(os.fsencode(path.name)) > room else path.name
    return str(path.with_name(f".{name}{suffix}"))


def _write_new(tmp: str, data: bytes, *, sync: bool) -> None:
    """Create ``tmp`` (it must not exist; mode as a plain open() gives) holding ``data``.

    The caller chose the name before the file exists and removes it however this is stopped; an
    existing file of that name is never touched.
    """
    # "x" is O_EXCL; the file object owns the descriptor from the moment it exists, so that
    # whatever stops this closes it (a bare descriptor leaked when stopped just after os.open)
    with open(tmp, "xb") as handle:
        handle.write(data)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _remove_all(paths: set[str]) -> None:
    for path in list(paths):
        _remove(path)
        paths.discard(path)


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
        # every temporary name is registered before its file can exist, so that whatever stops
        # the batch (even a signal on the first step of __exit__) can remove it; the finalizer
        # is the last resort for a batch dropped without discard()
        self._temporary: set[str] = set()
        self._last_resort = weakref.finalize(self, _remove_all, self._temporary)

    def write(self, path: Path, data: bytes) -> None:
        path = Path(path)
        tmp = _temporary_name(path)
        self._temporary.add(tmp)
        _write_new(tmp, data, sync=False)
        old = self._pending.pop(path, None)
        self._pending[path] = tmp
        if old is not None:
            _remove(old)
            self._temporary.discard(old)

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
                try:
                    os.replace(tmp, path)
                except OSError as exc:  # named after the file, not after its temporary name
                    raise OSError(exc.errno, exc.strerror, str(path)) from exc
                self._temporary.discard(tmp)
                del self._pending[path]
        except BaseException:
            self.discard()
            raise
        # nothing left to remove: no finalizer runs when the batch is collected (a signal's handler that
        # raised inside one would be swallowed, and the stop it asked for lost)
        self._last_resort.detach()

    def discard(self) -> None:
        """Remove every temporary file not yet renamed into place."""
        _remove_all(self._temporary)
        self._pending.clear()
        self._last_resort.detach()


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
    """Write several files so that they appear together, as a :class:`Batch`: every file's bytes go to a
    temporary file first, all are made durable with one sync, and only then is each renamed into place.

    A failure or a stop while writing (a full disk, a name that cannot be) leaves every destination as it
    was. One during the renames removes the files this call created; those it replaced stay replaced.
    An :class:`OSError` names the file that could not be written (not its temporary file).
    """
    created: list[Path] = []
    batch = Batch()
    try:
        with batch:
            for path, data in files.items():
                try:
                    batch.write(Path(path), data)
                except OSError as exc:
                    raise OSError(exc.errno, exc.strerror, str(path)) from exc
            # before any is renamed into place, so that a stop anywhere in the renames removes it;
            # lexists: a dangling symlink is not ours to remove
            created = [Path(path) for path in files if not os.path.lexists(path)]
    except BaseException:
        batch.discard()  # (stopped as the batch ended, its temporary files may still be there)
        for path in created:
            _remove(str(path))  # never masks the exception that brought us here
        raise
    return list(files)
