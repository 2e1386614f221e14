"""Compiled kernels are cached in a folder keyed on the engine's source, so a cache is never stale."""

from __future__ import annotations

import os
import subprocess
import sys

import numba
import pytest

from pixeletica.engine import _jit


def test_cache_folder_is_keyed_on_the_engine_source():
    digest = _jit.source_digest()
    assert len(digest) == 16 and digest == _jit.source_digest()
    if not os.environ.get("NUMBA_CACHE_DIR"):
        assert numba.config.CACHE_DIR.endswith(os.path.join("pixeletica", "numba", digest))


@pytest.mark.slow
def test_user_choice_of_cache_folder_wins(tmp_path):
    code = "import numba, pixeletica.engine.distance; print(numba.config.CACHE_DIR)"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == str(tmp_path)
