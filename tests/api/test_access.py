"""Who may list, see and delete tasks: owners, operators and public maps on a private server; anyone on
a private machine's own server; never an anonymous visitor of a server on a network."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from ..tasks.conftest import fast_settings
from .conftest import TOKEN, running_server

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
META = {"width": 24, "height": 16, "generate_web_files": True, "line_visibilities": ["no_lines"]}


def start(client: httpx.Client, **extra: object) -> dict:
    answer = client.post(
        "/api/conversion/start",
        files={"image_file": ("coffee.jpg", (SAMPLES / "coffee.jpg").read_bytes(), "image/jpeg")},
        data={"metadata": json.dumps({**META, **extra})},
    )
    assert answer.status_code == 202, answer.text
    return answer.json()


def wait_completed(client: httpx.Client, task_id: str) -> None:
    deadline = time.monotonic() + 120
    while client.get(f"/api/conversion/{task_id}").json()["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.1)


def reads(client: httpx.Client, task_id: str) -> list[int]:
    """The status of every read the original client makes of a task and its map."""
    return [
        client.get(path).status_code
        for path in (
            f"/api/conversion/{task_id}",
            f"/api/conversion/{task_id}/files",
            f"/api/conversion/{task_id}/files/input_coffee.jpg",
            f"/api/conversion/{task_id}/download",
            f"/api/map/{task_id}/metadata.json",
            f"/api/map/{task_id}/blockdata.json",
            f"/api/map/{task_id}/thumbnail.png",
            f"/api/map/{task_id}/tiles/0/0/0.png",
        )
    ]


def listed(client: httpx.Client) -> set[str]:
    return {m["id"] for m in client.get("/api/maps.json").json()["maps"]}


@pytest.fixture(scope="module")
def private(tmp_path_factory):
    settings = fast_settings(tmp_path_factory.mktemp("private") / "data", admin_token=TOKEN, task_access="owner")
    settings.data_dir.mkdir(parents=True)
    with running_server(settings) as server:
        yield server


def test_a_private_server_shows_a_task_to_its_owner_only(private):
    owner = httpx.Client(base_url=private.url, timeout=30)  # a browser: keeps the owner cookie
    stranger = httpx.Client(base_url=private.url, timeout=30)
    answer = start(owner)
    task_id, key = answer["taskId"], answer["ownerKey"]
    assert owner.cookies.get("pixeletica_owner") == key
    wait_completed(owner, task_id)
    assert reads(owner, task_id) == [200] * 8
    assert listed(owner) == {task_id}
    # Someone who only knows (or guesses) the id learns nothing, cannot list it, and cannot delete it.
    assert reads(stranger, task_id) == [404] * 8
    assert stranger.get(f"/api/conversion/{task_id}").json()["detail"] == f"Task not found: {task_id}"
    assert task_id not in listed(stranger)
    assert stranger.delete(f"/api/conversion/{task_id}").status_code == 404
    assert (
        stranger.post(f"/api/conversion/{task_id}/download", json={"fileIds": ["input_coffee.jpg"]}).status_code == 404
    )
    events = stranger.get(f"/api/conversion/{task_id}/events")
    assert events.status_code == 404
    # A forged or malformed key is no key.
    assert stranger.get(f"/api/conversion/{task_id}", headers={"X-Pixeletica-Owner": "x" * 43}).status_code == 404
    odd = httpx.Client(base_url=private.url, timeout=30, cookies={"pixeletica_owner": "../" * 20})
    assert odd.get(f"/api/conversion/{task_id}").status_code == 404
    # A script without cookies proves ownership with the key from the start answer.
    script = httpx.Client(base_url=private.url, timeout=30, headers={"X-Pixeletica-Owner": key})
    assert reads(script, task_id) == [200] * 8
    # Operators see everything.
    assert reads(httpx.Client(base_url=private.url, timeout=30, headers=private.admin), task_id) == [200] * 8
    assert task_id in {m["id"] for m in private.client.get("/api/maps.json", headers=private.admin).json()["maps"]}
    # The owner deletes it.
    assert owner.delete(f"/api/conversion/{task_id}").status_code == 200
    assert owner.get(f"/api/conversion/{task_id}").status_code == 404


def test_one_browser_s_tasks_share_a_key_and_others_keep_theirs(private):
    alice, bob = httpx.Client(base_url=private.url, timeout=30), httpx.Client(base_url=private.url, timeout=30)
    first, second, other = start(alice), start(alice), start(bob)
    assert first["ownerKey"] == second["ownerKey"] != other["ownerKey"]
    for task in (first, second, other):
        wait_completed(alice if task is not other else bob, task["taskId"])
    assert {first["taskId"], second["taskId"]} <= listed(alice) and other["taskId"] not in listed(alice)
    assert other["taskId"] in listed(bob) and first["taskId"] not in listed(bob)
    assert bob.delete(f"/api/conversion/{first['taskId']}").status_code == 404
    assert alice.get(f"/api/conversion/{first['taskId']}").status_code == 200


def test_public_maps_are_listed_and_readable_but_only_their_owner_deletes_them(private):
    owner, visitor = httpx.Client(base_url=private.url, timeout=30), httpx.Client(base_url=private.url, timeout=30)
    task_id = start(owner, public=True)["taskId"]
    wait_completed(owner, task_id)
    assert task_id in listed(visitor)
    assert reads(visitor, task_id) == [404] * 4 + [200] * 4  # the map, not the upload or the other files
    assert visitor.delete(f"/api/conversion/{task_id}").status_code == 404
    assert owner.delete(f"/api/conversion/{task_id}").status_code == 200
    bad = visitor.post(
        "/api/conversion/start",
        files={"image_file": ("c.jpg", (SAMPLES / "coffee.jpg").read_bytes(), "image/jpeg")},
        data={"metadata": json.dumps({**META, "public": "yes"})},
    )
    assert bad.status_code == 400 and "public" in bad.json()["detail"]


def test_a_public_gallery_makes_maps_public_unless_asked_not_to(tmp_path):
    settings = fast_settings(tmp_path / "data", task_access="owner", public_gallery=True)
    settings.data_dir.mkdir(parents=True)
    with running_server(settings) as server:
        owner, visitor = httpx.Client(base_url=server.url, timeout=30), httpx.Client(base_url=server.url, timeout=30)
        shown, hidden = start(owner)["taskId"], start(owner, public=False)["taskId"]
        wait_completed(owner, shown)
        wait_completed(owner, hidden)
        assert shown in listed(visitor) and hidden not in listed(visitor)
        assert {shown, hidden} <= listed(owner)


def test_the_local_server_is_open_but_not_through_a_proxy(server):
    """`serve` on 127.0.0.1 (auto): one user on their own machine sees every task; a reverse proxy on the
    same machine makes the visitors it forwards strangers."""
    first = httpx.Client(base_url=server.url, timeout=30)
    task_id = start(first)["taskId"]
    wait_completed(first, task_id)
    other = httpx.Client(base_url=server.url, timeout=30)
    assert task_id in listed(other) and other.get(f"/api/conversion/{task_id}").status_code == 200
    proxied = httpx.Client(base_url=server.url, timeout=30, headers={"X-Forwarded-For": "203.0.113.9"})
    assert task_id not in listed(proxied)
    assert reads(proxied, task_id) == [404] * 8
    assert proxied.delete(f"/api/conversion/{task_id}").status_code == 404
    forwarded = httpx.Client(base_url=server.url, timeout=30, headers={"Forwarded": "for=203.0.113.9"})
    assert forwarded.get(f"/api/conversion/{task_id}").status_code == 404
    assert other.delete(f"/api/conversion/{task_id}").status_code == 200


def test_another_site_cannot_start_a_conversion_in_a_visitor_s_browser(private):
    """A form on another site would replace the visitor's owner key (their cookie is not sent): refused."""
    photo = {"image_file": ("coffee.jpg", (SAMPLES / "coffee.jpg").read_bytes(), "image/jpeg")}
    metadata = {"metadata": json.dumps(META)}
    client = httpx.Client(base_url=private.url, timeout=30)
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
        refused = client.post("/api/conversion/start", files=photo, data=metadata, headers=headers)
        assert refused.status_code == 403 and "another site" in refused.json()["detail"]
        assert "pixeletica_owner" not in refused.headers.get("set-cookie", "")
    for headers in ({"Sec-Fetch-Site": "same-origin"}, {"Origin": private.url}, {}):
        assert client.post("/api/conversion/start", files=photo, data=metadata, headers=headers).status_code == 202


def test_progress_streams_are_limited_per_client(tmp_path):
    settings = fast_settings(tmp_path / "data", task_access="owner", event_streams_per_client=2)
    settings.data_dir.mkdir(parents=True)
    with running_server(settings, 0) as server:  # no workers: the task stays queued, its stream open
        owner = httpx.Client(base_url=server.url, timeout=30)
        task_id = start(owner)["taskId"]
        with (
            owner.stream("GET", f"/api/conversion/{task_id}/events") as first,
            owner.stream("GET", f"/api/conversion/{task_id}/events") as second,
        ):
            assert first.status_code == second.status_code == 200
            third = owner.get(f"/api/conversion/{task_id}/events")
            assert third.status_code == 429 and third.headers["retry-after"]
        # the slots come back once the streams are closed
        with owner.stream("GET", f"/api/conversion/{task_id}/events") as again:
            assert again.status_code == 200
