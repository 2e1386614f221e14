"""The original Pixeletica web client's contract, driven the way it drives the server.

Beyond the OpenAPI document, the client relies on answers the original server gave (written
down in shared/reference/README.md): ``GET /api/`` before every preview and start, map metadata
with ``width``/``height`` in pixels at 16 per block and a ``zoomLevels`` list, ``blockdata.json``
with ``blocks`` and ``matrix``, the plain render ``<stem>_rendered.png`` in ``rendered.no_lines``,
and a "download all" ZIP. Every request here is one the client makes, with its exact fields.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

#: The metadata the client builds (src/api/conversion.ts: mapFormValuesToApiParams + startConversion)
#: for a user who keeps the defaults, ticks "no lines" and "both", and asks for a schematic.
CLIENT_METADATA = {
    "width": 72,
    "height": 48,
    "dithering_algorithm": "floyd_steinberg",
    "color_palette": "minecraft",
    "origin_x": -40,
    "origin_y": 100,
    "origin_z": 24,
    "chunk_line_color": "#FF0000ff",
    "block_line_color": "#000000cc",
    "line_visibilities": ["chunk_lines_only", "both"],
    "image_division": 1,
    "generate_schematic": True,
    "schematic_name": "my_schematic",
    "schematic_author": "Pixeletica API",
    "schematic_description": "An awesome schematic",
    "generate_web_files": True,
}


def health_check(client) -> None:
    """What the client does before every preview and every start (src/api/health.ts)."""
    answer = client.get("/api/")
    assert 200 <= answer.status_code < 300, answer.text
    answer.json()


@pytest.fixture(scope="module")
def converted(server):
    """One conversion made exactly as the client makes it: health, preview, health, start, poll."""
    photo = (SAMPLES / "coffee.jpg").read_bytes()
    health_check(server.client)
    preview = server.client.post(
        "/api/conversion/preview",
        files={"image_file": ("coffee.jpg", photo, "image/jpeg")},
        data={"width": "72", "height": "48", "algorithm": "floyd_steinberg"},
    )
    assert preview.status_code == 200 and "image/png" in preview.headers["content-type"], preview.text
    health_check(server.client)
    started = server.client.post(
        "/api/conversion/start",
        files={"image_file": ("coffee.jpg", photo, "image/jpeg")},
        data={"metadata": json.dumps(CLIENT_METADATA)},
    )
    assert started.status_code == 202, started.text
    task_id = started.json()["taskId"]
    deadline = time.monotonic() + 180
    while True:  # src/api/conversion.ts pollTaskStatus
        status = server.client.get(f"/api/conversion/{task_id}").json()
        if status["status"] in ("completed", "failed"):
            break
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    assert status["status"] == "completed", status
    return task_id


def test_the_api_root_answers_as_the_original_did(server):
    for path in ("/api/", "/api"):
        answer = server.client.get(path)
        assert answer.status_code == 200, path
        body = answer.json()
        assert body["name"] == "Pixeletica API" and body["status"] == "online" and body["version"]
    assert server.client.get("/", headers={"accept": "application/json"}).json()["status"] == "online"


def test_start_answers_the_documented_shape(server):
    started = server.client.post(
        "/api/conversion/start",
        files={"image_file": ("coffee.jpg", (SAMPLES / "coffee.jpg").read_bytes(), "image/jpeg")},
        data={"metadata": json.dumps({**CLIENT_METADATA, "generate_web_files": False, "generate_schematic": False})},
    )
    assert started.status_code == 202
    body = started.json()
    assert body["status"] == "queued" and body["progress"] == 0 and body["error"] is None
    assert re.fullmatch(r"[0-9a-f-]{36}", body["taskId"]) and body["timestamp"].endswith("Z")


def test_the_file_list_has_the_plain_render_the_client_shows_first(server, converted):
    listing = server.client.get(f"/api/conversion/{converted}/files").json()
    rendered = listing["categories"]["rendered"]
    assert [f["filename"] for f in rendered["no_lines"]] == ["coffee_rendered.png"]  # not asked for, always there
    assert {"chunk_lines", "both_lines"} <= set(rendered)
    for group in ("input", "dithered", "schematic", "task_zip"):
        assert {"fileId", "filename", "type", "size"} <= set(listing["categories"][group]), group
    plain = server.client.get(f"/api/conversion/{converted}/files/{rendered['no_lines'][0]['fileId']}")
    assert Image.open(io.BytesIO(plain.content)).size == (72 * 16, 48 * 16)


def test_download_all_holds_every_file_once_and_not_the_task_zip_again(server, converted):
    answer = server.client.get(f"/api/conversion/{converted}/download")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
    assert len(names) == len(set(names))
    assert not [n for n in names if n.endswith(".zip")], names  # the task's own ZIP is not nested
    assert "rendered/no_lines/coffee_rendered.png" in names and "input/coffee.jpg" in names
    listing = server.client.get(f"/api/conversion/{converted}/files").json()["categories"]
    wanted = [listing["dithered"]["fileId"], listing["schematic"]["fileId"]]
    chosen = server.client.post(f"/api/conversion/{converted}/download", json={"fileIds": wanted})
    assert sorted(zipfile.ZipFile(io.BytesIO(chosen.content)).namelist()) == [
        "dithered/coffee_dithered.png",
        "schematic/my_schematic.litematic",
    ]


def test_map_metadata_gives_pixels_and_every_zoom_s_tiles(server, converted):
    listed = {m["id"]: m for m in server.client.get("/api/maps.json").json()["maps"]}
    assert listed[converted]["width"] == 72 * 16 and listed[converted]["height"] == 48 * 16
    meta = server.client.get(f"/api/map/{converted}/metadata.json").json()
    assert meta["id"] == converted and meta["name"] == "coffee.jpg" and meta["created"]
    assert (meta["width"], meta["height"]) == (72 * 16, 48 * 16)  # the client divides by 16
    assert (meta["origin_x"], meta["origin_z"]) == (-40, 24)
    assert meta["tileFormat"] == "png" and meta["minZoom"] == 0 and meta["maxZoom"] >= 2
    levels = meta["zoomLevels"]
    assert [z["zoomLevel"] for z in levels] == list(range(meta["minZoom"], meta["maxZoom"] + 1))
    size = meta["tileSize"]
    for level in levels:
        z, columns, rows = level["zoomLevel"], level["tiles_x"], level["tiles_z"]
        scale = 2.0 ** (z - meta["maxZoom"])  # pixels of the picture at this zoom
        assert columns == -(-int(meta["width"] * scale) // size) and rows == -(-int(meta["height"] * scale) // size)
        for x in range(columns):
            for y in range(rows):
                tile = server.client.get(f"/api/map/{converted}/tiles/{z}/{x}/{y}.png")
                assert tile.status_code == 200 and Image.open(io.BytesIO(tile.content)).size == (size, size)
        assert server.client.get(f"/api/map/{converted}/tiles/{z}/{columns}/0.png").status_code == 404
        assert server.client.get(f"/api/map/{converted}/tiles/{z}/0/{rows}.png").status_code == 404
    deepest = levels[-1]
    assert deepest["tiles_x"] * deepest["tiles_z"] > 1  # this map has tiles beyond the first


def test_blockdata_names_the_block_at_every_position(server, converted):
    data = server.client.get(f"/api/map/{converted}/blockdata.json").json()
    blocks, matrix = data["blocks"], data["matrix"]
    assert list(blocks) == [str(i) for i in range(len(blocks))]
    ids = [b["minecraft_id"] for b in blocks.values()]
    assert ids == sorted(ids) and all(i.startswith("minecraft:") for i in ids)
    for block in blocks.values():
        assert block["name"] and re.fullmatch(r"#[0-9a-f]{6}", block["hex"])
        assert block["hex"] == "#{:02x}{:02x}{:02x}".format(*block["rgb"])
    assert len(matrix) == 48 and all(len(row) == 72 for row in matrix)
    # The same blocks as the block grid of the conversion, position by position.
    listing = server.client.get(f"/api/conversion/{converted}/files").json()["categories"]
    grid_file = next(f for f in listing["blocks"] if f["filename"].endswith("_blocks.npz"))
    grid = np.load(io.BytesIO(server.client.get(f"/api/conversion/{converted}/files/{grid_file['fileId']}").content))
    palette = [str(b) for b in grid["block_ids"]]
    expected = [[None if i < 0 else palette[i] for i in row] for row in grid["indices"].tolist()]
    assert [[None if key is None else blocks[key]["minecraft_id"] for key in row] for row in matrix] == expected
