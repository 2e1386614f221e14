"""Careless and hostile requests, each found by trying: every one is a 4xx with a sentence naming the
problem (or a task that completes), never a 500, a stack trace, a late failure or something left behind."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from PIL import Image

from pixeletica.tasks.model import Status

from ..tasks.conftest import fast_settings
from .conftest import TOKEN, running_server

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
PHOTO = (SAMPLES / "coffee.jpg").read_bytes()


def start(server, metadata: dict | str, data: bytes = PHOTO, name: str = "coffee.jpg") -> httpx.Response:
    text = metadata if isinstance(metadata, str) else json.dumps(metadata)
    return server.client.post("/api/conversion/start", files={"image_file": (name, data)}, data={"metadata": text})


def preview(server, metadata: dict | str) -> httpx.Response:
    text = metadata if isinstance(metadata, str) else json.dumps(metadata)
    return server.client.post(
        "/api/conversion/preview",
        files={"image_file": ("coffee.jpg", PHOTO)},
        data={"width": "16", "height": "12", "metadata": text},
    )


def finished(server, task_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = server.client.get(f"/api/conversion/{task_id}").json()
        if body["status"] in ("completed", "failed"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


WRONG_TYPES = [
    ({"metric": 5}, "metric"),
    ({"strength": "0.5"}, "strength"),
    ({"alpha_threshold": "128"}, "alpha_threshold"),
    ({"face": "bottom"}, "face"),
    ({"face": 3}, "face"),
    ({"include_categories": 5}, "include_categories"),
    ({"exclude_blocks": [1, 2]}, "exclude_blocks"),
    ({"seed": "abc"}, "seed"),
    ({"seed": 1.5}, "seed"),
    ({"seed": 2**70}, "seed"),
    ({"serpentine": "no"}, "serpentine"),
    ({"survival_only": 1}, "survival_only"),
    ({"game_version": 1.2}, "game_version"),
    ({"resample": ["nearest"]}, "resample"),
    ({"dithering_algorithm": {"name": "x"}}, "dithering_algorithm"),
    ({"color_palette": ["minecraft"]}, "color_palette"),
    ({"origin_x": 2**31, "generate_schematic": True}, "origin_x"),
    ({"origin_z": -(10**9)}, "origin_z"),
    ({"origin_y": 5000, "generate_schematic": True}, "origin_y"),
    ({"origin_x": 1.5}, "origin_x"),
    ({"image_division": True}, "image_division"),
    ({"chunk_line_color": "#FF0000\n"}, "chunk_line_color"),
    ({"block_line_color": "#00000"}, "block_line_color"),
    ({"line_visibilities": "both"}, "line_visibilities"),
    ({"line_visibilities": [["both"]]}, "line_visibilities"),
    ({"schematic_formats": [{}]}, "schematic_formats"),
    ({"schematic_name": ["x"]}, "schematic_name"),
    ({"priority": 5}, "priority"),
    ({"priority": ["high"]}, "priority"),
    ({"chunk_labels": "yes"}, "chunk_labels"),
]


@pytest.mark.parametrize(("extra", "field"), WRONG_TYPES, ids=[f for _, f in WRONG_TYPES])
def test_wrong_types_are_400_naming_the_field_on_start_and_preview(server, extra, field):
    before = server.store.count()
    answer = start(server, {"width": 16, **extra})
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["detail"]
    assert server.store.count() == before  # nothing stored
    if field not in ("schematic_formats", "line_visibilities", "chunk_line_color", "block_line_color"):
        shown = preview(server, {"width": 16, **extra})
        assert shown.status_code == 400 and field in shown.json()["detail"], shown.text


@pytest.mark.parametrize(
    "text",
    [
        "[" * 1000 + "]" * 1000,
        '{"width": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"width": NaN}',
        '{"width": Infinity}',
        '{"width": ' + "9" * 5000 + "}",
        '{"width": 10, "strength": 1e999}',
        '{"width": 10, "strength": 1' + "0" * 400 + "}",
        "x" * 100_000,
        '"just a string"',
        "",
    ],
    ids=[
        "deep-list",
        "deep-value",
        "nan",
        "infinity",
        "huge-number",
        "overflow",
        "int-beyond-float",
        "huge",
        "string",
        "empty",
    ],
)
def test_malformed_metadata_is_400(server, text):
    answer = start(server, text)
    assert answer.status_code in (400, 422), answer.text
    assert isinstance(answer.json()["detail"], str | list)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"])
def test_a_truncated_image_is_refused_at_start(server, fmt):
    whole = io.BytesIO()
    picture = Image.effect_noise((300, 200), 60).convert("RGB")
    (picture.convert("P") if fmt == "GIF" else picture).save(whole, format=fmt)
    before = server.store.count()
    for cut in (len(whole.getvalue()) // 2, len(whole.getvalue()) - 20):
        answer = start(server, {"width": 16}, whole.getvalue()[:cut], f"cut.{fmt.lower()}")
        assert answer.status_code == 415, answer.text
        assert "truncated" in answer.json()["detail"]
    assert server.store.count() == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/admin/session", '{"token": NaN}'),
        ("/api/admin/session", '{"token": 1e999999}'),
        ("/api/conversion/00000000-0000-0000-0000-000000000000/download", '{"fileIds": NaN}'),
        ("/api/conversion/00000000-0000-0000-0000-000000000000/download", '{"fileIds": [Infinity]}'),
        ("/api/conversion/00000000-0000-0000-0000-000000000000/download", '{"fileIds": ' + "[" + "1," * 20000 + "1]}"),
    ],
    ids=["nan-token", "huge-token", "nan-list", "infinity-item", "long-list"],
)
def test_json_bodies_that_do_not_fit_are_422_listing_the_field_without_echoing_it(server, path, body):
    answer = server.client.post(path, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 422, answer.text
    problems = answer.json()["detail"]
    assert problems and all(set(p) == {"loc", "msg", "type"} for p in problems)
    assert "NaN" not in answer.text and len(answer.text) < 4000


def test_a_json_body_that_does_not_parse_is_400(server):
    answer = server.client.post(
        "/api/admin/session", content='{"token": ' + '["x",' * 5000, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400 and isinstance(answer.json()["detail"], str)


def test_a_size_whose_render_is_too_big_for_16_px_is_rendered_smaller(server):
    """1100 blocks at 16 px would be 17600 px wide, over the render limit: drawn at 8 px, never failed late."""
    square = io.BytesIO()
    Image.new("RGB", (200, 200), (90, 120, 200)).save(square, format="PNG")
    answer = start(server, {"width": 1100, "generate_web_files": False}, square.getvalue(), "square.png")
    assert answer.status_code == 202, answer.text
    task_id = answer.json()["taskId"]
    assert finished(server, task_id, 600)["status"] == "completed"
    task = server.store.get(task_id)
    assert task.result["render_scale"] == 8
    listing = server.client.get(f"/api/conversion/{task_id}/files").json()["categories"]["rendered"]
    plain = server.client.get(f"/api/conversion/{task_id}/files/{listing['no_lines'][0]['fileId']}")
    assert Image.open(io.BytesIO(plain.content)).size == (1100 * 8, 1100 * 8)


def test_hostile_schematic_names_are_cleaned_everywhere(server):
    name = "../../../evil/\x1b[31mred\x1b]0;title\x07\u202e" + "x" * 300 + "\x00end"
    answer = start(
        server,
        {"width": 20, "generate_schematic": True, "schematic_name": name, "schematic_author": "a\x00\x1bb" * 50},
    )
    assert answer.status_code == 202, answer.text
    task_id = answer.json()["taskId"]
    assert finished(server, task_id)["status"] == "completed"
    files = server.client.get(f"/api/conversion/{task_id}/files").json()["categories"]
    listed = []
    for group in files.values():
        if isinstance(group, dict) and "fileId" not in group:  # rendered: lists by line kind
            listed += [f for kind in group.values() for f in kind]
        else:
            listed += group if isinstance(group, list) else [group]
    names = [f["filename"] for f in listed] + [f["fileId"] for f in listed if f["fileId"] != "input_coffee.jpg"]
    for filename in names:
        assert "/" not in filename and ".." not in filename and len(filename) <= 100, filename
        assert all(c.isalnum() or c in "._-" for c in filename), filename
    for fileid in [f["fileId"] for f in files["structure"]]:
        assert server.client.get(f"/api/conversion/{task_id}/files/{fileid}").status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(server.client.get(f"/api/conversion/{task_id}/download").content))
    task_zip = files["task_zip"]["fileId"]
    inner = zipfile.ZipFile(io.BytesIO(server.client.get(f"/api/conversion/{task_id}/files/{task_zip}").content))
    for entry in archive.namelist() + inner.namelist():
        assert ".." not in entry and not entry.startswith("/") and "\x1b" not in entry, entry
    stored = server.store.get(task_id).settings["exports"]
    assert "\x1b" not in stored["schematic_name"] and "\x00" not in stored["schematic_author"]
    assert len(stored["schematic_name"]) <= 100


def test_errors_the_public_sees_are_sentences_without_internals(server):
    """A task that hits an unforeseen error shows a sentence; the exception stays in the admin view."""
    answer = start(server, {"width": 16})
    task_id = answer.json()["taskId"]
    assert finished(server, task_id)["status"] == "completed"
    # Make its settings impossible behind the API's back, then run it again: an internal error.
    with server.store.engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE tasks SET settings = ? WHERE id = ?", ('{"width": "/srv/secret/path", "height": null}', task_id)
        )
    server.client.post(f"/api/tasks/{task_id}/retry", headers=server.admin)
    public = finished(server, task_id)
    assert public["status"] == "failed"
    assert (
        "/srv/secret" not in public["error"]
        and "TypeError" not in public["error"]
        and "Traceback" not in public["error"]
    )
    assert public["error"].startswith("an internal error")
    admin = server.client.get(f"/api/tasks/{task_id}", headers=server.admin).json()
    assert admin["error_code"] == "internal_error" and "TypeError" in admin["traceback"]
    assert any("TypeError" in e["message"] for e in admin["events"])


def test_created_after_far_in_the_past_with_an_offset_lists_tasks(server):
    for value in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        answer = server.client.get("/api/tasks", params={"created_after": value}, headers=server.admin)
        assert answer.status_code == 200, answer.text
        answer = server.client.get("/api/tasks", params={"created_before": value}, headers=server.admin)
        assert answer.status_code == 200, answer.text


def test_download_all_is_streamed(server):
    task_id = start(server, {"width": 24}).json()["taskId"]
    assert finished(server, task_id)["status"] == "completed"
    with server.client.stream("GET", f"/api/conversion/{task_id}/download") as answer:
        assert answer.status_code == 200
        assert answer.headers.get("transfer-encoding") == "chunked" and "content-length" not in answer.headers
        body = b"".join(answer.iter_bytes())
    assert zipfile.ZipFile(io.BytesIO(body)).testzip() is None


def test_a_task_whose_files_cannot_be_removed_is_not_deleted_half(server):
    task_id = start(server, {"width": 12}).json()["taskId"]
    assert finished(server, task_id)["status"] == "completed"
    blocker = server.settings.tasks_dir / f".deleting-{task_id}" / "in-the-way"
    blocker.parent.mkdir()
    blocker.write_text("a folder the task's files cannot be moved onto")
    answer = server.client.delete(f"/api/conversion/{task_id}")
    assert answer.status_code == 503 and "cannot be deleted" in answer.json()["detail"], answer.text
    assert server.client.get(f"/api/conversion/{task_id}").status_code == 200  # nothing changed
    assert (server.settings.tasks_dir / task_id / "input" / "coffee.jpg").is_file()
    blocker.unlink()
    blocker.parent.rmdir()
    assert server.client.delete(f"/api/conversion/{task_id}").status_code == 200
    assert not (server.settings.tasks_dir / task_id).exists()
    assert not any(p.name.startswith(".deleting-") for p in server.settings.tasks_dir.iterdir())


def test_an_unwritable_tasks_folder_is_503_and_leaves_nothing(tmp_path):
    settings = fast_settings(tmp_path / "data", admin_token=TOKEN)
    settings.data_dir.mkdir(parents=True)
    with running_server(settings, 0) as server:
        tasks_dir = settings.tasks_dir
        tasks_dir.rmdir() if tasks_dir.is_dir() and not any(tasks_dir.iterdir()) else None
        tasks_dir.write_text("a file where the tasks folder should be")
        answer = start(server, {"width": 16})
        assert answer.status_code == 503 and answer.headers["retry-after"], answer.text
        assert "cannot store" in answer.json()["detail"] and str(tmp_path) not in answer.json()["detail"]
        assert server.store.count() == 0 and server.store.count(Status.QUEUED) == 0
        assert tasks_dir.read_text().startswith("a file")
        tasks_dir.unlink()
        assert start(server, {"width": 16}).status_code == 202  # and back to normal once it is fixed
