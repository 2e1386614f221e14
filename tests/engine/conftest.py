"""Fixtures shared by the engine's image-reading tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.engine import pngs


@pytest.fixture(scope="session")
def photo(photo_path) -> Image.Image:
    """The sample photograph at 120x80."""
    with Image.open(photo_path) as im:
        return im.convert("RGB").resize((120, 80), Image.Resampling.LANCZOS)


@pytest.fixture(scope="session")
def flat_8000_png(tmp_path_factory) -> Path:
    """An 8000x8000 RGB PNG, mostly flat: about 230 KB compressed, 192 MB of pixels once decoded."""
    path = tmp_path_factory.mktemp("big") / "flat-8000.png"
    path.write_bytes(pngs.flat_rgb(8000, 8000))
    return path
