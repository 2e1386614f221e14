"""Writing files: every file whole or absent, durable before it appears, nothing left behind on failure."""

from __future__ import annotations

import os

import pytest

from pixeletica import fsutil

from .interrupts import interrupt_everywhere


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


def test_a_file_written_atomically_is_old_or_new_however_it_is_stopped(tmp_path):
    def check(before, after, interrupted):
        assert after["a.txt"] in (before["a.txt"], b"new")
        assert not interrupted or after["a.txt"] in (b"old", b"new")

    (tmp_path / "a.txt").write_bytes(b"old")
    assert interrupt_everywhere(tmp_path, lambda: fsutil.atomic_write(tmp_path / "a.txt", b"new"), check) > 50


def test_several_files_written_are_all_there_or_none_however_it_is_stopped(tmp_path):
    names = ["a.png", "b.json", "c.nbt"]

    def write():
        fsutil.write_all({tmp_path / name: name.encode() for name in names})

    def check(before, after, interrupted):
        whole = {name: name.encode() for name in names}
        assert after == whole if not interrupted else after in ({}, whole), sorted(after)
        for name in after:
            (tmp_path / name).unlink()

    assert interrupt_everywhere(tmp_path, write, check) > 150


def test_a_batch_stopped_before_its_commit_leaves_nothing(tmp_path):
    batches = []  # kept until the interruption is over: a batch's last resort runs when it is collected

    def write():
        with fsutil.Batch() as batch:
            batches.append(batch)
            for name in ("a.png", "b.png", "a.png"):
                batch.write(tmp_path / name, name.encode())
        for name in ("a.png", "b.png"):  # so that the next step starts from nothing again
            (tmp_path / name).unlink()

    def check(before, after, interrupted):
        assert all(after[name] == name.encode() for name in after)  # whole or absent (a commit renames one by one)
        for name in after:
            (tmp_path / name).unlink()

    assert interrupt_everywhere(tmp_path, write, check, settle=batches.clear) > 100


@pytest.mark.parametrize("name", ["n" * 255, "é" * 125 + ".png", "m" * 234])
def test_a_file_whose_name_is_as_long_as_the_file_system_takes_is_written(tmp_path, name):
    """The temporary name beside it is longer than the file's own; cut short, it still fits."""
    for folder in ("a", "w", "b"):
        (tmp_path / folder).mkdir()
    fsutil.atomic_write(tmp_path / "a" / name, b"one")
    fsutil.write_all({tmp_path / "w" / name: b"two"})
    with fsutil.Batch() as batch:
        batch.write(tmp_path / "b" / name, b"three")
    assert [(tmp_path / f / name).read_bytes() for f in ("a", "w", "b")] == [b"one", b"two", b"three"]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [name] * 3  # no temporary file left


def test_a_failed_write_of_several_files_leaves_the_files_it_would_have_replaced_as_they_were(tmp_path):
    (tmp_path / "a.png").write_bytes(b"old")
    (tmp_path / "blocker").write_bytes(b"a file, where the next name needs a folder")
    with pytest.raises(OSError) as failed:
        fsutil.write_all({tmp_path / "a.png": b"new", tmp_path / "new.json": b"{}", tmp_path / "blocker" / "b": b"b"})
    assert failed.value.filename == str(tmp_path / "blocker" / "b")  # named after the file, not a temporary one
    assert (tmp_path / "a.png").read_bytes() == b"old" and not (tmp_path / "new.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "blocker"]
