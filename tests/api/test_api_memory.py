"""The API process never decodes a large upload at full size: starts read the header, previews a reduced decode.

An 8000x8000 PNG is 256 MB once decoded (RGBA) but a few hundred KB as a file. Before, every start
decoded it whole to read its EXIF orientation, and every preview converted it at full size (about
1.2 GB each). The API process's peak memory is read from /proc (VmHWM, reset after start-up).
"""

from __future__ import annotations

import concurrent.futures
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ..tasks.conftest import fast_settings
from .conftest import TOKEN, running_server

pytestmark = pytest.mark.slow


def _peak_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024


@pytest.fixture(scope="module")
def big_png() -> bytes:
    rgb = np.empty((8000, 8000, 3), np.uint8)
    rgb[..., 0] = (np.arange(8000) // 250 * 8).astype(np.uint8)[:, None]
    rgb[..., 1] = (np.arange(8000) // 250 * 8).astype(np.uint8)[None, :]
    rgb[..., 2] = 90
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def test_big_uploads_do_not_take_the_api_s_memory(tmp_path, big_png):
    settings = fast_settings(tmp_path / "data", admin_token=TOKEN, preview_rate_limit="off", preview_timeout=60.0)
    settings.data_dir.mkdir(parents=True)
    with running_server(settings, 0, "--no-monitor") as server:
        small = io.BytesIO()
        Image.new("RGB", (32, 32), (200, 10, 10)).save(small, format="PNG")
        warm = server.client.post("/api/conversion/preview", data={"width": "8", "height": "8"},
                                  files={"image_file": ("s.png", small.getvalue())})  # fmt: skip
        assert warm.status_code == 200
        Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # peak memory counted from here
        before = _peak_mb(server.pid)

        def preview(_: int) -> int:
            return server.client.post(
                "/api/conversion/preview",
                data={"width": "128", "height": "128"},
                files={"image_file": ("big.png", big_png, "image/png")},
            ).status_code

        def start(_: int) -> int:
            return server.client.post(
                "/api/conversion/start",
                data={"metadata": json.dumps({"width": 128})},
                files={"image_file": ("big.png", big_png, "image/png")},
            ).status_code

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            previews = list(pool.map(preview, range(6)))
            starts = list(pool.map(start, range(6)))
        assert previews == [200] * 6 and starts == [202] * 6
        grown = _peak_mb(server.pid) - before
        assert grown < 120, f"the API process grew by {grown:.0f} MB"  # one full decode alone is 256 MB
