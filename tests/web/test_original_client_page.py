"""A page that speaks exactly the original Pixeletica web client's contract, in a real Chromium.

The page below does what the original client does, with nothing else to lean on: it checks
``GET /api/`` before the preview and before the start, polls the status, shows the plain render
it finds in ``rendered.no_lines`` as the main picture, lays out a map's tiles from
``metadata.json``'s ``zoomLevels`` (tiles beyond the first included), and names the block under a
click from ``blockdata.json``, taking ``width``/``height`` as pixels at 16 per block. It is served
from the server's own origin, as the original is behind its proxy, so it meets the same cookies.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import numpy as np
import pytest

from ..api.conftest import TOKEN, running_server
from ..tasks.conftest import fast_settings

pytestmark = pytest.mark.browser

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
META = {
    "width": 72,
    "height": 48,
    "dithering_algorithm": "floyd_steinberg",
    "color_palette": "minecraft",
    "origin_x": 16,
    "origin_y": 100,
    "origin_z": -32,
    "chunk_line_color": "#FF0000ff",
    "block_line_color": "#000000ff",
    "line_visibilities": ["chunk_lines_only"],
    "image_division": 1,
    "generate_schematic": False,
    "schematic_name": "my_schematic",
    "schematic_author": "Pixeletica API",
    "schematic_description": "An awesome schematic",
    "generate_web_files": True,
}

CLIENT = """<!doctype html>
<html><head><meta charset="utf-8"><title>client</title>
<style>body { margin: 0 } #mosaic { position: absolute; left: 0; top: 0 } #mosaic img { position: absolute }
#panel { position: absolute; left: 0; top: 1000px }</style></head>
<body><div id="mosaic"></div><div id="panel"><input type="file" id="file"><img id="main">
<p id="inspector">click a block</p><p id="log"></p></div>
<script>
const BASE = "/api";
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
async function checkHealth() {
  const response = await fetch(`${BASE}/`);
  if (!response.ok) throw new Error(`Health check failed with status ${response.status}`);
  return response.json();
}
async function json(path, init) {
  const response = await fetch(BASE + path, init);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response;
}
window.convert = async (meta) => {
  const file = document.getElementById("file").files[0];
  await checkHealth();
  const preview = new FormData();
  preview.append("image_file", file);
  preview.append("width", String(meta.width));
  preview.append("height", String(meta.height));
  preview.append("algorithm", meta.dithering_algorithm);
  const shown = await json("/conversion/preview", { method: "POST", body: preview });
  if (!shown.headers.get("content-type").includes("image/png")) throw new Error("preview is not a PNG");
  await checkHealth();
  const form = new FormData();
  form.append("image_file", file);
  form.append("metadata", JSON.stringify(meta));
  const started = await json("/conversion/start", { method: "POST", body: form });
  if (started.status !== 202) throw new Error(`start answered ${started.status}`);
  const task = await started.json();
  for (;;) {
    const status = await (await json(`/conversion/${task.taskId}`)).json();
    if (status.status === "completed") break;
    if (status.status === "failed") throw new Error(status.error);
    await sleep(300);
  }
  const files = await (await json(`/conversion/${task.taskId}/files`)).json();
  const main = files.categories.rendered.no_lines.find((f) => f.filename.endsWith("_rendered.png"));
  const image = document.getElementById("main");
  await new Promise((done, fail) => { image.onload = done; image.onerror = fail;
    image.src = `${BASE}/conversion/${task.taskId}/files/${main.fileId}`; });
  return { taskId: task.taskId, mainWidth: image.naturalWidth, mainHeight: image.naturalHeight };
};
window.showMap = async (id, zoom) => {
  const meta = await (await json(`/map/${id}/metadata.json`)).json();
  const level = meta.zoomLevels.find((z) => z.zoomLevel === zoom);
  const mosaic = document.getElementById("mosaic");
  mosaic.replaceChildren();
  const loads = [];
  for (let x = 0; x < level.tiles_x; x++) {
    for (let y = 0; y < level.tiles_z; y++) {
      const tile = document.createElement("img");
      tile.style.left = `${x * meta.tileSize}px`;
      tile.style.top = `${y * meta.tileSize}px`;
      loads.push(new Promise((done) => { tile.onload = () => done(true); tile.onerror = () => done(false); }));
      tile.src = `${BASE}/map/${id}/tiles/${zoom}/${x}/${y}.png`;
      mosaic.append(tile);
    }
  }
  const loaded = await Promise.all(loads);
  const data = await (await json(`/map/${id}/blockdata.json`)).json();
  const perBlock = 16 * Math.pow(2, zoom - meta.maxZoom);  // the picture's pixels per block at this zoom
  const blocksWide = meta.width / 16, blocksHigh = meta.height / 16;
  mosaic.style.width = `${blocksWide * perBlock}px`;
  mosaic.style.height = `${blocksHigh * perBlock}px`;
  mosaic.onclick = (event) => {
    const box = mosaic.getBoundingClientRect();
    const bx = Math.floor((event.clientX - box.left) / perBlock), bz = Math.floor((event.clientY - box.top) / perBlock);
    const key = data.matrix[bz][bx];
    const block = key === null ? null : data.blocks[key];
    document.getElementById("inspector").textContent = JSON.stringify({
      id: block ? block.minecraft_id : "air", name: block ? block.name : "", hex: block ? block.hex : "",
      x: meta.origin_x + bx, z: meta.origin_z + bz,
    });
  };
  return { tiles: loaded.length, loaded: loaded.filter(Boolean).length, perBlock, blocksWide, blocksHigh,
           maxZoom: meta.maxZoom };
};
</script></body></html>
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    settings = fast_settings(
        tmp_path_factory.mktemp("original") / "data", admin_token=TOKEN, preview_rate_limit="off", task_access="owner"
    )
    settings.data_dir.mkdir(parents=True)
    with running_server(settings, 1) as server:
        yield server


def test_the_original_client_converts_shows_tiles_and_names_clicked_blocks(site, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.route(f"{site.url}/original-client/", lambda route: route.fulfill(body=CLIENT, content_type="text/html"))
    page.goto(f"{site.url}/original-client/")
    page.set_input_files("#file", str(SAMPLES / "coffee.jpg"))
    done = page.evaluate("(meta) => window.convert(meta)", META)
    task_id = done["taskId"]
    assert (done["mainWidth"], done["mainHeight"]) == (72 * 16, 48 * 16)  # the plain render, at 16 px per block

    # What the blocks really are: the conversion's own block grid (over the same owner's cookie).
    owner = httpx.Client(base_url=site.url, cookies={c["name"]: c["value"] for c in page.context.cookies()})
    listing = owner.get(f"/api/conversion/{task_id}/files").json()["categories"]
    grid_id = next(f["fileId"] for f in listing["blocks"] if f["filename"].endswith("_blocks.npz"))
    grid = np.load(io.BytesIO(owner.get(f"/api/conversion/{task_id}/files/{grid_id}").content))
    ids = [str(b) for b in grid["block_ids"]]

    meta = owner.get(f"/api/map/{task_id}/metadata.json").json()
    for zoom in (meta["maxZoom"], meta["maxZoom"] - 1):
        shown = page.evaluate("([id, zoom]) => window.showMap(id, zoom)", [task_id, zoom])
        assert shown["loaded"] == shown["tiles"] and (zoom < meta["maxZoom"] or shown["tiles"] > 1), shown
        assert (shown["blocksWide"], shown["blocksHigh"]) == (72, 48)
        per_block = shown["perBlock"]
        # The first tile, one beyond it to the right, one below, and the far corner.
        for bx, bz in ((3, 2), (71, 0), (0, 47), (70, 46), (40, 30)):
            page.mouse.click(bx * per_block + per_block / 2, bz * per_block + per_block / 2)
            said = json.loads(page.inner_text("#inspector"))
            index = int(grid["indices"][bz, bx])
            assert said["id"] == (ids[index] if index >= 0 else "air"), (zoom, bx, bz, said)
            assert (said["x"], said["z"]) == (16 + bx, -32 + bz)
    # A visitor without the owner's cookie gets nothing of it, in the same browser engine.
    stranger = browser.new_page()
    stranger.route(f"{site.url}/original-client/", lambda route: route.fulfill(body=CLIENT, content_type="text/html"))
    stranger.goto(f"{site.url}/original-client/")
    refused = stranger.evaluate(f"fetch('/api/map/{task_id}/metadata.json').then(r => r.status)")
    assert refused == 404
