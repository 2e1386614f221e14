"""What the web pages rely on, over real HTTP: pages at their addresses, the dashboard's cookie
sign-in, task listing with totals and sorting, the timeline for charts, options and previews."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from .conftest import TOKEN
from .test_conversion_api import PHOTO, start, wait_done

pytestmark = pytest.mark.slow


def test_pages_are_served_and_root_still_answers_json_to_api_clients(server):
    assert server.client.get("/").json()["status"] == "online"
    page = server.client.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/static/convert.js" in page.text
    assert "/static/task.js" in server.client.get("/task/anything").text
    admin = server.client.get("/admin").text
    assert "/static/admin.js" in admin and "/static/chartjs/chart.umd.min.js" in admin
    for asset in ("app.css", "common.js", "convert.js", "task.js", "admin.js", "chartjs/chart.umd.min.js"):
        assert server.client.get(f"/static/{asset}").status_code == 200, asset
    for text in (page.text, admin):
        assert "http://" not in text and "https://" not in text  # nothing fetched from the internet


def test_sign_in_sets_an_httponly_cookie_that_opens_the_admin_endpoints(server):
    import httpx

    with httpx.Client(base_url=server.url) as browser:
        assert browser.get("/api/admin/session").status_code == 401
        wrong = browser.post("/api/admin/session", json={"token": "nope"})
        assert wrong.status_code == 403 and wrong.json()["detail"] == "the admin token is not valid"
        assert not browser.cookies
        odd = browser.post("/api/admin/session", json={"token": "jeton-non-ascii-é✓"})
        assert odd.status_code == 403
        latin1 = {"Authorization": "Bearer caf\xe9".encode("latin-1")}  # a header byte above 127
        assert browser.get("/api/tasks", headers=latin1).status_code == 403
        signed = browser.post("/api/admin/session", json={"token": TOKEN})
        assert signed.status_code == 204
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and TOKEN not in cookie
        assert browser.get("/api/admin/session").status_code == 204
        assert browser.get("/api/tasks").status_code == 200
        # a change signed in by cookie alone must carry the header a cross-site form cannot send
        refused = browser.post("/api/tasks/reset-stuck?max_time=99999")
        assert refused.status_code == 403 and "X-Requested-With" in refused.json()["detail"]
        done = browser.post("/api/tasks/reset-stuck?max_time=99999", headers={"X-Requested-With": "pixeletica"})
        assert done.status_code == 200
        assert browser.delete("/api/admin/session").status_code == 204
        assert browser.get("/api/tasks").status_code == 401
    with httpx.Client(base_url=server.url, cookies={"pixeletica_admin": "forged"}) as forger:
        assert forger.get("/api/tasks").status_code == 401


def test_task_listing_has_a_total_and_sorts_by_any_column(server):
    ids = [start(server, PHOTO, {"width": 8}, name=f"{n}-listing.jpg").json()["taskId"] for n in "bca"]
    for task_id in ids:
        wait_done(server, task_id)
    listed = server.client.get("/api/tasks", params={"limit": 2, "search": "listing"}, headers=server.admin).json()
    assert len(listed["tasks"]) == 2 and listed["total"] >= 3
    names = server.client.get(
        "/api/tasks", params={"sort": "input_name", "order": "oldest", "limit": 500}, headers=server.admin
    ).json()["tasks"]
    assert [t["input_name"] for t in names] == sorted(t["input_name"] for t in names)
    ours = [t["input_name"] for t in names if t["input_name"].endswith("-listing.jpg")]
    assert ours == ["a-listing.jpg", "b-listing.jpg", "c-listing.jpg"]
    bad = server.client.get("/api/tasks", params={"sort": "password"}, headers=server.admin)
    assert bad.status_code == 422


def test_timeline_counts_tasks_per_interval(server):
    task_id = start(server, PHOTO, {"width": 8}).json()["taskId"]
    wait_done(server, task_id)
    timeline = server.client.get("/api/tasks/timeline", params={"since_hours": 1, "buckets": 6}, headers=server.admin)
    body = timeline.json()
    assert timeline.status_code == 200 and len(body["buckets"]) == 6 and body["bucket_seconds"] == 600
    last = body["buckets"][-1]
    assert last["created"] >= 1 and last["completed"] >= 1 and last["processing_seconds"]["p50"] > 0
    assert server.client.get("/api/tasks/timeline").status_code == 401


def test_options_list_every_choice_the_start_endpoint_accepts(server):
    options = server.client.get("/api/options").json()
    assert "floyd_steinberg" in [a["name"] for a in options["algorithms"]]
    assert "oklab" in [m["name"] for m in options["metrics"]] and "wool" in options["categories"]
    assert options["line_visibilities"] == ["no_lines", "block_grid_only", "chunk_lines_only", "both"]
    assert options["priorities"] == ["high", "normal", "low"] and "1.20.1" in options["game_versions"]
    # each choice the form offers is accepted by the start endpoint
    meta = {
        "width": 8, "dithering_algorithm": options["algorithms"][-1]["name"], "metric": options["metrics"][0]["name"],
        "include_categories": options["categories"][:3], "line_visibilities": options["line_visibilities"],
        "orientation": options["orientations"][-1], "facing": options["facings"][-1],
        "game_version": options["game_versions"][-1], "priority": options["priorities"][-1],
    }  # fmt: skip
    assert start(server, PHOTO, meta).status_code == 202


def test_options_give_the_defaults_a_request_that_names_nothing_is_converted_with(server):
    options = server.client.get("/api/options").json()
    assert options["resamplings"] == ["lanczos", "nearest"] and options["faces"] == ["side", "top"]
    assert options["default_facing"] == "south" and options["default_priority"] == "normal"
    given = options["conversion_defaults"]
    assert given["resample"] in options["resamplings"] and given["face"] in options["faces"]
    task_id = start(server, PHOTO, {"width": 8}).json()["taskId"]
    stored = server.store.get(task_id).settings
    assert {key: stored[key] for key in given} == given
    assert {key: stored["exports"][key] for key in options["export_defaults"]} == options["export_defaults"]
    # each of the other choices is accepted too, the defaults named
    for resample, face in zip(options["resamplings"], reversed(options["faces"]), strict=True):
        meta = {"width": 8, **given, "resample": resample, "face": face, "facing": options["default_facing"]}
        assert start(server, PHOTO, {**meta, "priority": options["default_priority"]}).status_code == 202


def test_preview_follows_the_metric_and_palette_of_the_metadata(server):
    def preview(metadata: dict | None) -> Image.Image:
        data = {"width": "24", "height": "16"}
        if metadata is not None:
            data["metadata"] = json.dumps(metadata)
        answer = server.client.post(
            "/api/conversion/preview", data=data, files={"image_file": ("c.jpg", PHOTO, "image/jpeg")}
        )
        assert answer.status_code == 200, answer.text
        return Image.open(io.BytesIO(answer.content)).convert("RGB")

    plain = preview(None)
    wool = preview({"width": 24, "include_categories": ["wool"]})
    assert plain.size == wool.size == (24, 16)
    assert len(wool.getcolors(4096)) <= 16 < len(plain.getcolors(4096))  # 16 wool colours at most
    bad = server.client.post(
        "/api/conversion/preview",
        data={"width": "8", "height": "8", "metadata": json.dumps({"width": 8, "include_categories": ["cheese"]})},
        files={"image_file": ("c.jpg", PHOTO, "image/jpeg")},
    )
    assert bad.status_code == 400 and "cheese" in bad.json()["detail"]


def test_schematic_formats_can_be_chosen(server):
    meta = {"width": 12, "generate_schematic": True, "schematic_formats": ["schem", "nbt"]}
    task_id = start(server, PHOTO, meta).json()["taskId"]
    assert wait_done(server, task_id)["status"] == "completed"
    categories = server.client.get(f"/api/conversion/{task_id}/files").json()["categories"]
    assert "worldedit" in categories and "structure" in categories
    assert "schematic" not in categories and "mcfunction" not in categories
    for formats in (["mca"], [], "schem"):
        bad = start(server, PHOTO, {"width": 8, "generate_schematic": True, "schematic_formats": formats})
        assert bad.status_code == 400 and bad.json()["detail"].startswith("metadata.schematic_formats must be")
