"""`python -m pixeletica.engine.precompile` leaves nothing for a conversion to compile (what the image relies on)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _cache(folder: Path) -> dict[str, float]:
    return {str(p.relative_to(folder)): p.stat().st_mtime for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_after_precompiling_conversions_of_every_kind_compile_nothing(tmp_path):
    cache = tmp_path / "numba"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "NUMBA_CPU_NAME": "generic"}
    done = subprocess.run(
        [sys.executable, "-m", "pixeletica.engine.precompile"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "every kernel compiled or loaded" in done.stderr
    compiled = _cache(cache)
    assert sum(name.endswith(".nbc") for name in compiled) > 20
    conversions = [
        [SAMPLES / "chelsea.jpg", "--width", "70", "--lines", "both", "--division", "2", "--schematic"],
        [SAMPLES / "logo.png", "--width", "50", "-d", "atkinson", "-m", "ciede2000", "--serpentine"],
        [SAMPLES / "coffee.jpg", "--width", "30", "-d", "optimise", "-m", "redmean", "--resample", "nearest"],
        [SAMPLES / "moon.jpg", "--map-art", "staircase", "--max-height", "12", "--support", "all"],
    ]
    for arguments in conversions:
        made = subprocess.run(
            [sys.executable, "-m", "pixeletica", "convert", *map(str, arguments), "--out", str(tmp_path / "out")],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
    assert _cache(cache) == compiled  # not one kernel compiled, nor one recompiled
