"""The committed block list is exactly what the generator script makes from the textures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_generator_reproduces_the_committed_file(tmp_path):
    out = tmp_path / "blocks.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_palette.py"), "--output", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "wrote" in run.stdout
    committed = ROOT / "src" / "pixeletica" / "engine" / "data" / "blocks.json"
    assert out.read_bytes() == committed.read_bytes()
