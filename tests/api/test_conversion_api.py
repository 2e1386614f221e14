"""The compatible API through a real server: submit a photograph, follow it, fetch its files, delete it."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image

from ..tasks.conftest import fast_settings
from .conftest import running_server

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
METADATA = {
    "width": 64,
    "height": 43,
    "dithering_algorithm": "floyd_steinberg",
    "color_palette": "minecraft",
    "origin_x": 0,
    "origin_y": 100,
    "origin_z": 0,
    "chunk_line_color": "#FF0000FF",
    "block_line_color": "#000000FF",
    "line_visibilities": ["chunk_lines_only"],
    "image_division": 2,
    "generate_schematic": True,
    "schematic_name": "my_schematic",
    "schematic_author": "Pixeletica API",
    "schematic_description": "An awesome schematic",
    "generate_web_files": True,
}


def start(server, data: bytes, metadata, name: str = "coffee.jpg"):
    text = metadata if isinstance(metadata, str) else json.dumps(metadata)
    return server.client.post(
        "/api/conversion/start", files={"image_file": (name, data, "image/jpeg")}, data={"metadata": text}
    )


def wait_done(server, task_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = server.client.get(f"/api/conversion/{task_id}").json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} did not finish")


def test_a_photograph_from_start_to_delete(server):
    photo = (SAMPLES / "coffee.jpg").read_bytes()
    answer = start(server, photo, METADATA)
    assert answer.status_code == 202
    body = answer.json()
    assert body["status"] == "queued" and body["progress"] == 0 and body["error"] is None
    assert body["timestamp"].endswith("Z")
    task_id = body["taskId"]

    assert body["quality"] is None  # nothing to score before the picture exists
    done = wait_done(server, task_id)
    assert done["status"] == "completed" and done["progress"] == 100
    fidelity = done["quality"]
    assert 0 < fidelity["blurredDeltaE2000"] < fidelity["meanDeltaE2000"] < 20  # dithering averages out
    assert "blurred" in fidelity["explanation"] and "\n" not in fidelity["explanation"]

    listing = server.client.get(f"/api/conversion/{task_id}/files").json()
    assert listing["taskId"] == task_id
    categories = listing["categories"]
    assert categories["input"]["filename"] == "coffee.jpg" and categories["input"]["size"] == len(photo)
    assert categories["dithered"]["type"] == "image/png"
    only_dithered = server.client.get(f"/api/conversion/{task_id}/files", params={"category": "dithered"}).json()
    assert list(only_dithered["categories"]) == ["dithered"]

    picture = server.client.get(f"/api/conversion/{task_id}/files/{categories['dithered']['fileId']}")
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(picture.content)).size == (64, 43)
    original = server.client.get(f"/api/conversion/{task_id}/files/{categories['input']['fileId']}")
    assert hashlib.sha256(original.content).digest() == hashlib.sha256(photo).digest()

    everything = server.client.get(f"/api/conversion/{task_id}/download")
    assert everything.status_code == 200 and everything.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(everything.content)).namelist()
    assert "input/coffee.jpg" in names and "dithered/coffee_dithered.png" in names
    assert "rendered/chunk_lines/coffee_chunk_lines.png" in names and "rendered/no_lines/coffee_rendered.png" in names
    assert not any(n.endswith(".zip") for n in names)  # the task's own ZIP is not nested in it
    assert "schematic/my_schematic.litematic" in names and "worldedit/my_schematic.schem" in names
    assert "mcfunction/my_schematic.mcfunction" in names
    assert sum(n.startswith("structure/") for n in names) == 2  # 64 blocks wide: two 48-block pieces
    assert "materials/materials.txt" in names and "materials/materials_parts.csv" in names
    # input, dithered, blocks, 4 materials (csv, json, text, per part), the plain render and the chunk-lines
    # render with 2 parts each, 3 schematics + 2 pieces
    assert len(names) == 18
    assert categories["schematic"]["filename"] == "my_schematic.litematic"

    parts = categories["rendered"]["chunk_lines"]
    assert [p["fileId"] for p in parts] == [
        "rendered_chunk_lines",
        "rendered_chunk_lines_split1",
        "rendered_chunk_lines_split2",
    ]
    assert "_x0..31_z0..42" in parts[1]["filename"]  # named by world coordinates (origin 0, 0)
    bundle = server.client.get(f"/api/conversion/{task_id}/files/{categories['task_zip']['fileId']}")
    inner = zipfile.ZipFile(io.BytesIO(bundle.content))
    assert "README.txt" in inner.namelist() and "dithered/coffee_dithered.png" in inner.namelist()
    assert "coffee_chunk_lines_split2" in inner.read("README.txt").decode()

    chosen = server.client.post(f"/api/conversion/{task_id}/download", json={"fileIds": ["materials_csv"]})
    assert zipfile.ZipFile(io.BytesIO(chosen.content)).namelist() == ["materials/materials.csv"]
    unknown = server.client.post(f"/api/conversion/{task_id}/download", json={"fileIds": ["nope"]})
    assert unknown.status_code == 404 and unknown.json()["detail"] == "File not found: nope"

    # The web map (generate_web_files is on).
    maps = server.client.get("/api/maps.json").json()["maps"]
    assert any(m["id"] == task_id and m["thumbnail"] == f"/api/map/{task_id}/thumbnail.png" for m in maps)
    meta = server.client.get(f"/api/map/{task_id}/metadata.json").json()
    assert meta["id"] == task_id and (meta["width"], meta["height"]) == (64 * 16, 43 * 16)
    assert meta["tileSize"] == 256 and meta["minZoom"] == 0 and meta["maxZoom"] == 2 and meta["tileFormat"] == "png"
    deepest = server.client.get(f"/api/map/{task_id}/tiles/2/3/2.png")
    assert deepest.status_code == 200 and Image.open(io.BytesIO(deepest.content)).size == (256, 256)
    assert server.client.get(f"/api/map/{task_id}/tiles/0/0/0.png").status_code == 200
    assert server.client.get(f"/api/map/{task_id}/tiles/2/4/0.png").status_code == 404
    assert server.client.get(f"/api/map/{task_id}/tiles/9/0/0.png").status_code == 404
    full = server.client.get(f"/api/map/{task_id}/full-image.png")
    assert Image.open(io.BytesIO(full.content)).size == (64 * 16, 43 * 16)
    assert Image.open(io.BytesIO(server.client.get(f"/api/map/{task_id}/thumbnail.png").content)).size == (256, 172)
    blockdata = server.client.get(f"/api/map/{task_id}/blockdata.json").json()
    assert len(blockdata["matrix"]) == 43 and len(blockdata["matrix"][0]) == 64 and blockdata["blocks"]

    deleted = server.client.delete(f"/api/conversion/{task_id}")
    assert deleted.json() == {"message": f"Task {task_id} deletion initiated", "success": True}
    gone = server.client.get(f"/api/conversion/{task_id}")
    assert gone.status_code == 404 and gone.json()["detail"] == f"Task not found: {task_id}"
    assert not (server.settings.tasks_dir / task_id).exists()


def _bomb() -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


PHOTO = (SAMPLES / "chelsea.jpg").read_bytes()


@pytest.mark.parametrize(
    ("data", "metadata", "status", "detail"),
    [
        (PHOTO, "{not json", 400, "Invalid JSON metadata format"),
        (PHOTO, "[1, 2]", 400, "Invalid JSON metadata format: expected a JSON object"),
        (PHOTO, {"height": "tall"}, 400, "metadata.height must be a whole number"),
        (PHOTO, {"color_palette": "minecraft"}, 400, "metadata.width is required"),
        (PHOTO, {"width": -4}, 400, "metadata.width must be a positive number"),
        (PHOTO, {"width": 8, "dithering_algorithm": "sparkle"}, 400, "metadata.dithering_algorithm: unknown dithering"),
        (PHOTO, {"width": 8, "strength": 2}, 400, "metadata.strength: dithering strength must be between 0 and 1"),
        (PHOTO, {"width": 8, "metric": "hsv"}, 400, "metadata.metric: unknown colour metric 'hsv'"),
        (PHOTO, {"width": 8, "resample": "cubic"}, 400, "metadata.resample: unknown resampling 'cubic'"),
        (PHOTO, {"width": 8, "alpha_threshold": 300}, 400, "metadata.alpha_threshold: alpha threshold must be"),
        (PHOTO, {"width": 8, "face": "bottom"}, 400, "metadata.face: unknown face 'bottom'"),
        (PHOTO, {"width": 8, "exclude_blocks": ["nope"]}, 400, "metadata.exclude_blocks: unknown block id 'nope'"),
        (PHOTO, {"width": 8, "color_palette": "bedrock"}, 400, "metadata.color_palette must be one of"),
        (PHOTO, {"width": 8, "line_visibilities": ["grid"]}, 400, "metadata.line_visibilities"),
        (PHOTO, {"width": 8, "priority": "urgent"}, 400, "metadata.priority must be high, normal or low"),
        (PHOTO, {"width": 8, "orientation": "ceiling"}, 400, "metadata.orientation must be floor or wall"),
        (PHOTO, {"width": 8, "image_division": 0}, 400, "metadata.image_division must be a positive"),
        (PHOTO, {"width": 8, "chunk_line_color": "red"}, 400, "metadata.chunk_line_color must be a colour"),
        (PHOTO, {"width": 8, "image_division": 100}, 400, "image_division 100 is more parts than the 8x5 grid"),
        (PHOTO, {"width": 8, "facing": "up"}, 400, "metadata.facing must be one of south, north, east, west"),
        (PHOTO, {"width": 8, "game_version": "1.8"}, 400, "metadata.game_version must be a Java release"),
        (PHOTO, {"width": 8, "chunk_labels": "yes"}, 400, "metadata.chunk_labels must be true or false"),
        (PHOTO, {"width": 8, "include_categories": ["nope"]}, 400, "metadata.include_categories: unknown category"),
        (PHOTO, {"width": 8, "no_gravity": "yes"}, 400, "no_gravity must be true or false"),
        (PHOTO, {"width": 5000}, 400, "metadata.width: the block grid would be 5000 blocks in width; width and"),
        (b"just some text", {"width": 8}, 415, "not an image"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', {"width": 8}, 415, "SVG"),
        (_bomb(), {"width": 8}, 400, "megapixels"),
    ],
)
def test_bad_requests_name_the_problem_and_store_nothing(server, data, metadata, status, detail):
    before = server.store.count()
    answer = start(server, data, metadata)
    assert answer.status_code == status, answer.text
    assert detail in answer.json()["detail"]
    assert server.store.count() == before


def test_missing_form_fields_are_422(server):
    answer = server.client.post("/api/conversion/start", data={"metadata": json.dumps({"width": 8})})
    assert answer.status_code == 422


def test_an_upload_over_the_limit_is_413(server):
    big = b"\xff\xd8" + b"\0" * (server.settings.max_upload_size + 300_000)
    answer = start(server, big, {"width": 8})
    assert answer.status_code == 413 and answer.json()["detail"] == "Image size exceeds maximum limit of 10MB"


@pytest.mark.parametrize(
    "path",
    [
        "/api/conversion/00000000-0000-0000-0000-000000000000",
        "/api/conversion/00000000-0000-0000-0000-000000000000/files",
        "/api/conversion/00000000-0000-0000-0000-000000000000/download",
        "/api/map/00000000-0000-0000-0000-000000000000/metadata.json",
        "/api/map/abc/tiles/0/0/0.png",
    ],
)
def test_unknown_tasks_and_maps_are_404(server, path):
    answer = server.client.get(path)
    assert answer.status_code == 404 and "not found" in answer.json()["detail"].lower()


def test_file_ids_cannot_leave_the_task_folder(server):
    task_id = start(server, PHOTO, {"width": 8}).json()["taskId"]
    wait_done(server, task_id)
    for file_id in ("..%2F..%2Fpixeletica.db", "../../pixeletica.db", "%2e%2e", "input_..%2F..%2Fadmin-token"):
        answer = server.client.get(f"/api/conversion/{task_id}/files/{file_id}")
        assert answer.status_code == 404


def test_preview_returns_a_png_quickly(server):
    answer = server.client.post(
        "/api/conversion/preview",
        data={"width": "40", "height": "30", "algorithm": "ordered"},
        files={"image_file": ("c.jpg", PHOTO, "image/jpeg")},
    )
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(answer.content)).size == (40, 30)
    blank = server.client.post("/api/conversion/preview", data={"width": "8", "height": "8"})
    assert blank.status_code == 200
    too_big = server.client.post("/api/conversion/preview", data={"width": "4000", "height": "4000"})
    assert too_big.status_code == 400 and "too large for preview" in too_big.json()["detail"]


def test_maps_list_and_health(server):
    assert isinstance(server.client.get("/api/maps.json").json()["maps"], list)
    root = server.client.get("/").json()
    assert root["status"] == "online" and root["name"] == "Pixeletica API"
    deadline = time.monotonic() + 10
    while (health := server.client.get("/api/health").json())["status"] != "ok" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert health["status"] == "ok" and health["store"] == "ok"
    assert health["workers"]["alive"] == 1 and health["monitor"]["last_full_sweep"].endswith("Z")
    assert server.client.get("/docs").status_code == 200


def test_start_is_rate_limited_per_client(tmp_path):
    settings = fast_settings(tmp_path / "data", rate_limit="2/minute", preview_rate_limit="1/minute")
    settings.data_dir.mkdir(parents=True)
    with running_server(settings, workers=0) as limited:
        codes = [start(limited, PHOTO, {"width": 8}) for _ in range(3)]
        previews = [limited.client.post("/api/conversion/preview", data={"width": "8", "height": "8"}) for _ in "ab"]
        health = limited.client.get("/api/health").json()
    assert health["status"] == "degraded" and health["workers"]["alive"] == 0  # serve --workers 0
    assert [c.status_code for c in codes] == [202, 202, 429]
    assert int(codes[2].headers["Retry-After"]) > 0 and "2/minute" in codes[2].json()["detail"]
    # previews have their own limit (the conversion page previews as its options change)
    assert [p.status_code for p in previews] == [200, 429] and "1/minute" in previews[1].json()["detail"]


def test_progress_streams_as_server_sent_events_to_the_end(server):
    task_id = start(server, (SAMPLES / "astronaut.jpg").read_bytes(), {"width": 300, "metric": "ciede2000"}).json()[
        "taskId"
    ]
    seen = []
    with server.client.stream("GET", f"/api/conversion/{task_id}/events", timeout=120) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        kind = None
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                seen.append((kind, json.loads(line[6:])))
                if kind == "end":
                    break
    assert seen[-1][0] == "end" and seen[-1][1]["status"] == "completed"
    progress = [body["progress"] for kind, body in seen if kind == "progress"]
    assert progress == sorted(progress) and progress[-1] == 100
    assert len({body["status"] for _, body in seen}) >= 2  # it saw the task change
    missing = server.client.get("/api/conversion/00000000-0000-0000-0000-000000000000/events")
    assert missing.status_code == 404


def test_prometheus_metrics(server):
    task_id = start(server, PHOTO, {"width": 8}).json()["taskId"]
    wait_done(server, task_id)
    server.client.get("/api/conversion/00000000-0000-0000-0000-000000000000")
    text = server.client.get("/metrics").text
    assert 'pixeletica_tasks{status="completed"}' in text and "pixeletica_queue_depth" in text
    assert "pixeletica_task_processing_seconds_bucket" in text and "pixeletica_task_wait_seconds_gsum" in text
    assert 'route="/conversion/{task_id}",status="404"' in text  # the template within /api
    assert "pixeletica_http_request_seconds_bucket" in text
    alive = next(line for line in text.splitlines() if line.startswith("pixeletica_workers_alive "))
    assert float(alive.split()[1]) >= 1  # the server's local workers beat


def test_renders_with_the_requested_lines_are_listed_and_downloadable(server):
    metadata = {"width": 20, "line_visibilities": ["both", "no_lines"], "origin_x": -3}
    task_id = start(server, PHOTO, metadata).json()["taskId"]
    assert wait_done(server, task_id)["status"] == "completed"
    rendered = server.client.get(f"/api/conversion/{task_id}/files").json()["categories"]["rendered"]
    assert set(rendered) == {"both_lines", "no_lines"}
    info = rendered["both_lines"][0]
    picture = server.client.get(f"/api/conversion/{task_id}/files/{info['fileId']}")
    assert picture.status_code == 200 and Image.open(io.BytesIO(picture.content)).size[0] == 20 * 16
    only = server.client.get(f"/api/conversion/{task_id}/files", params={"category": "rendered"}).json()
    assert list(only["categories"]) == ["rendered"]


def test_palette_filters_facing_game_version_and_labels_over_http(server):
    import amulet_nbt

    from pixeletica.engine import palette

    metadata = {
        "width": 40, "generate_schematic": True, "orientation": "wall", "facing": "north", "game_version": "1.20.1",
        "line_visibilities": ["both"], "chunk_labels": True, "no_gravity": True, "exclude_categories": ["wool"],
        "image_division": 2, "generate_web_files": False,
    }  # fmt: skip
    task_id = start(server, PHOTO, metadata).json()["taskId"]
    assert wait_done(server, task_id)["status"] == "completed"
    categories = server.client.get(f"/api/conversion/{task_id}/files").json()["categories"]
    [schem_file] = categories["worldedit"]
    schem = amulet_nbt.load(server.client.get(f"/api/conversion/{task_id}/files/{schem_file['fileId']}").content)
    root = schem.compound["Schematic"]
    assert int(root["DataVersion"]) == 3465 and (int(root["Width"]), int(root["Length"])) == (40, 1)
    used = {str(name) for name in root["Blocks"]["Palette"]} - {"minecraft:air"}
    blocks = {b.id: b for b in palette.default_blocks()}
    assert used and not any(blocks[b].gravity or "wool" in blocks[b].categories for b in used)
    assert all(tuple(map(int, blocks[b].since.split("."))) <= (1, 20, 1) for b in used)
    listing = server.client.get(f"/api/conversion/{task_id}/files", params={"category": "materials"}).json()
    names = {f["filename"] for f in listing["categories"]["materials"]}
    assert {"materials.txt", "materials_parts.csv"} <= names
