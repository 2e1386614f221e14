"""Writing files: every file whole or absent, durable before it appears, nothing left behind on failure."""

from __future__ import annotations

import os

import pytest

from pixeletica import fsutil


def test_a_batch_appears_only_when_it_is_committed(tmp_path):
    (tmp_path / "web").mkdir()
    with fsutil.Batch() as batch:
        batch.write(tmp_path / "a.png", b"one")
        batch.write(tmp_path / "web" / "b.json", b"{}")
        batch.write(tmp_path / "a.png", b"two")  # written again: the last bytes win
        assert tmp_path / "a.png" in batch
        assert not (tmp_path / "a.png").exists() and not (tmp_path / "web" / "b.json").exists()
    assert (tmp_path / "a.png").read_bytes() == b"two" and (tmp_path / "web" / "b.json").read_bytes() == b"{}"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.png", "b.json", "web"]  # no temporary files
    assert oct((tmp_path / "a.png").stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def test_a_failing_batch_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), fsutil.Batch() as batch:
        batch.write(tmp_path / "a.png", b"one")
        raise RuntimeError("render failed")
    assert list(tmp_path.iterdir()) == []


def test_files_are_flushed_by_syncfs_or_fsync(tmp_path, monkeypatch):
    flushed = []
    monkeypatch.setattr(fsutil, "_SYNCFS", None)  # a system without syncfs: one fsync per file
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (flushed.append(fd), real(fd)))
    with fsutil.Batch() as batch:
        for name in "abc":
            batch.write(tmp_path / name, name.encode())
    assert len(flushed) == 3 and sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "c"]


def test_syncfs_is_used_on_linux():
    assert fsutil._SYNCFS is not None  # this machine is Linux with glibc


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
