"""Shared fixtures: real photographs from samples/, and a fresh numba-friendly environment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


@pytest.fixture(scope="session")
def photo_path() -> Path:
    """A real photograph (NASA portrait of an astronaut, public domain), 512x512 JPEG."""
    return SAMPLES / "astronaut.jpg"


@pytest.fixture(scope="session")
def photo_rgb(photo_path: Path) -> np.ndarray:
    with Image.open(photo_path) as im:
        return np.asarray(im.convert("RGB"))


@pytest.fixture(scope="session")
def small_photo_rgb(photo_path: Path) -> np.ndarray:
    """The photograph at 96x96: big enough to have texture, small enough for many runs."""
    with Image.open(photo_path) as im:
        return np.asarray(im.convert("RGB").resize((96, 96), Image.Resampling.LANCZOS))


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL cluster for the session (see tests/servers.py)."""
    from tests import servers

    with servers.postgres() as cluster:
        yield cluster
