"""The bundled map viewer, loaded by a real headless Chromium: it reads the map and shows its tiles."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .test_conversion_api import PHOTO, start, wait_done

pytestmark = pytest.mark.browser

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


def test_pointer_readout_names_the_block_and_its_world_coordinates(server, tmp_path):
    from playwright.sync_api import sync_playwright

    task_id = start(server, PHOTO, {"width": 40, "origin_x": -20, "origin_z": 7}).json()["taskId"]
    assert wait_done(server, task_id)["status"] == "completed"
    blocks = server.client.get(f"/api/map/{task_id}/blockdata.json").json()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 900, "height": 700})
            page.goto(f"{server.url}/map/{task_id}")
            page.wait_for_function("window.pixeleticaMap !== undefined", timeout=30_000)
            box = page.locator("#map").bounding_box()
            for row, col in [(0, 0), (12, 31), (26, 5)]:
                x, y = page.evaluate(
                    """([row, col]) => {
                        const v = window.pixeleticaMap;
                        const at = v.map.unproject([(col + 0.5) * v.scale, (row + 0.5) * v.scale], v.zoom);
                        const point = v.map.latLngToContainerPoint(at);
                        return [point.x, point.y];
                    }""",
                    [row, col],
                )
                page.mouse.move(box["x"] + x, box["y"] + y)
                key = blocks["matrix"][row][col]
                block = "air" if key is None else blocks["blocks"][key]["minecraft_id"]
                expected = f"{block} at x {-20 + col}, z {7 + row}"
                assert page.locator("#info").inner_text() == expected
            page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] - 2)  # beyond the build
            assert page.locator("#info").inner_text() == "Outside the build"
            page.screenshot(path=str(tmp_path / "viewer.png"))
        finally:
            browser.close()
