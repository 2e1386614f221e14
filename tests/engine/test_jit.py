"""Compiled kernels are cached in a folder keyed on the engine's source, so a cache is never stale."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import numba
import pytest

from pixeletica.engine import _jit, distance  # distance: a module that defines kernels


def test_cache_folder_is_keyed_on_the_engine_source():
    digest = _jit.source_digest()
    assert len(digest) == 16 and digest == _jit.source_digest()
    if not os.environ.get("NUMBA_CACHE_DIR"):
        assert distance.METRICS  # its kernels are defined: the cache folder is chosen
        assert numba.config.CACHE_DIR.endswith(os.path.join("pixeletica", "numba", digest))


@pytest.mark.slow
def test_user_choice_of_cache_folder_wins(tmp_path):
    code = "import numba, pixeletica.engine.distance; print(numba.config.CACHE_DIR)"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == str(tmp_path)


@pytest.mark.slow
def test_where_the_users_cache_cannot_be_written_kernels_go_to_a_folder_of_the_users_own(tmp_path):
    """As a container run as a user without a home: numba would refuse to define a cached kernel."""
    blocked = tmp_path / "a-file"  # a cache folder below a file cannot be made, not even by root
    blocked.write_text("")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env |= {"XDG_CACHE_HOME": str(blocked / "cache"), "TMPDIR": str(temporary)}
    converted = subprocess.run(
        [sys.executable, "-m", "pixeletica", "convert", "samples/logo.png", "-w", "8", "--out", str(tmp_path / "o")],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert converted.returncode == 0, converted.stderr
    private = temporary / f"pixeletica-numba-{os.getuid()}"
    assert private.stat().st_mode & 0o777 == 0o700
    assert list(private.rglob("*.nbi"))  # the kernels were cached there


def test_the_users_own_folder_starts_as_a_copy_of_a_cache_made_in_advance(tmp_path, monkeypatch):
    """A container image's kernels, compiled when it was built, serve a user who cannot write to them."""
    seed = tmp_path / "image" / "digest"
    (seed / "engine").mkdir(parents=True)
    (seed / "engine" / "kernel.nbi").write_bytes(b"index")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    folder = _jit._private_copy(seed, "digest")
    assert folder == tmp_path / "tmp" / f"pixeletica-numba-{os.getuid()}" / "digest"
    assert (folder / "engine" / "kernel.nbi").read_bytes() == b"index"
    (seed / "engine" / "kernel.nbi").write_bytes(b"changed")
    assert _jit._private_copy(seed, "digest") == folder  # reused by the user's later processes, not copied again
    assert (folder / "engine" / "kernel.nbi").read_bytes() == b"index"


def test_a_folder_someone_else_could_write_is_not_trusted(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    shared = tmp_path / f"pixeletica-numba-{os.getuid()}"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    folder = _jit._private_copy(tmp_path / "no-seed", "digest")
    assert folder.parent != shared and folder.is_dir()
