"""Task management over HTTP needs the admin token; with it, operators see and fix every task."""

from __future__ import annotations

import pytest

from .test_conversion_api import PHOTO, start, wait_done

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 403), ({"Authorization": "Basic abc"}, 401)],
)
def test_admin_endpoints_refuse_without_the_right_token(server, headers, status):
    answer = server.client.get("/api/tasks", headers=headers)
    assert answer.status_code == status and answer.json()["detail"]


def test_list_inspect_retry_cancel_override_and_stats(server):
    task_id = start(server, PHOTO, {"width": 8}).json()["taskId"]
    wait_done(server, task_id)
    admin = server.admin
    listed = server.client.get("/api/tasks", params={"status": "completed", "search": task_id[:8]}, headers=admin)
    assert [t["id"] for t in listed.json()["tasks"]] == [task_id]

    detail = server.client.get(f"/api/tasks/{task_id}", headers=admin).json()
    assert [e["to_status"] for e in detail["events"]] == ["queued", "processing", "completed"]
    assert {a["category"] for a in detail["artifacts"]} >= {"input", "dithered"}

    failed = server.client.patch(f"/api/tasks/{task_id}", json={"status": "failed"}, headers=admin).json()
    assert failed["status"] == "failed" and failed["error_code"] == "manual"
    retried = server.client.post(f"/api/tasks/{task_id}/retry", headers=admin).json()
    assert retried["status"] == "queued"
    assert wait_done(server, task_id)["status"] == "completed"

    queued = start(server, PHOTO, {"width": 8, "priority": "low"}).json()["taskId"]
    cancel = server.client.post(f"/api/tasks/{queued}/cancel", headers=admin)
    assert cancel.status_code in (200, 400)  # the worker may have finished it first
    again = server.client.post(f"/api/tasks/{task_id}/cancel", headers=admin)
    assert again.status_code == 400 and "already completed" in again.json()["detail"]

    stats = server.client.get("/api/tasks/stats", headers=admin).json()
    assert stats["counts"]["completed"] >= 1 and "processing_seconds" in stats
    reset = server.client.post("/api/tasks/reset-stuck", params={"max_time": 3600}, headers=admin).json()
    assert reset == {"failed": []}
    bad = server.client.get("/api/tasks", params={"status": "stuck"}, headers=admin)
    assert bad.status_code == 400
    missing = server.client.get("/api/tasks/00000000-0000-0000-0000-000000000000", headers=admin)
    assert missing.status_code == 404
