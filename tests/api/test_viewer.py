"""The bundled map viewer, loaded by a real headless Chromium: it reads the map and shows its tiles."""

from __future__ import annotations

import shutil
import subprocess

from .test_conversion_api import PHOTO, start, wait_done

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def test_viewer_page_shows_the_map_with_its_tiles(server, tmp_path):
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is installed by scripts/test.sh"
    task_id = start(server, PHOTO, {"width": 48, "origin_x": -40}).json()["taskId"]
    assert wait_done(server, task_id)["status"] == "completed"
    assert server.client.get("/static/leaflet/leaflet.js").status_code == 200
    page = server.client.get(f"/map/{task_id}")
    assert page.status_code == 200 and "/static/leaflet/leaflet.js" in page.text and "cdn" not in page.text.lower()
    dom = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
         "--dump-dom", f"{server.url}/map/{task_id}"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    assert "coffee.jpg — 48×32 blocks" in dom  # the page read metadata.json
    assert f"/api/map/{task_id}/tiles/" in dom  # and Leaflet asked for tiles
    assert "leaflet-container" in dom
