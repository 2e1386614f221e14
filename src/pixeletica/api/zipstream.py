"""A ZIP archive of files on disk, streamed as it is written: memory stays at one chunk whatever the size."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from pathlib import Path

_CHUNK = 256 * 1024
#: Files that are compressed already: stored as they are (deflating them again gains nothing).
_PACKED = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".npz", ".zip", ".litematic", ".schem", ".nbt")


class _Sink:
    """A write-only file that hands what was written to the generator below (``zipfile`` needs ``tell``)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def stream(entries: list[tuple[str, Path]]) -> Iterator[bytes]:
    """The bytes of a ZIP holding each ``(name in the archive, file)``, produced chunk by chunk."""
    return (chunk for chunk in _chunks(entries) if chunk)


def _chunks(entries: list[tuple[str, Path]]) -> Iterator[bytes]:
    sink = _Sink()
    with zipfile.ZipFile(sink, "w") as archive:  # type: ignore[call-overload]  # (a sink, not a path or IO)
        for name, path in entries:
            stat = path.stat()
            when = max(dt.datetime.fromtimestamp(stat.st_mtime), dt.datetime(1980, 1, 1))  # ZIP's epoch
            info = zipfile.ZipInfo(name, when.timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED if path.suffix.lower() in _PACKED else zipfile.ZIP_DEFLATED
            info.file_size = stat.st_size
            with path.open("rb") as source, archive.open(info, "w") as target:
                while chunk := source.read(_CHUNK):
                    target.write(chunk)
                    yield sink.take()
            yield sink.take()
    yield sink.take()
