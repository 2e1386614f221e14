"""Edges of the running service: store failure, preview time limit, CORS, streamed uploads, admin token."""

from __future__ import annotations

import json
import stat
import time

import httpx
import pytest
import sqlalchemy as sa

from pixeletica.cli.serve import admin_token
from pixeletica.config import Settings

from ..tasks.conftest import fast_settings
from .conftest import running_server
from .test_conversion_api import PHOTO, start

pytestmark = pytest.mark.slow


def test_a_broken_store_answers_503_quickly_and_the_service_survives(tmp_path):
    settings = fast_settings(tmp_path / "data", preview_timeout=0.001, cors_origins="https://builder.example")
    settings.data_dir.mkdir(parents=True)
    with running_server(settings, workers=0) as server:
        task_id = start(server, PHOTO, {"width": 8}).json()["taskId"]
        # CORS: the configured origin may call the API from a browser, others get no CORS headers.
        allowed = server.client.options(
            f"/api/conversion/{task_id}/files",
            headers={"Origin": "https://builder.example", "Access-Control-Request-Method": "GET"},
        )
        assert allowed.headers.get("access-control-allow-origin") == "https://builder.example"
        other = server.client.get("/", headers={"Origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers
        # The preview's time limit.
        slow = server.client.post(
            "/api/conversion/preview", data={"width": "200", "height": "200"}, files={"image_file": ("c.jpg", PHOTO)}
        )
        assert slow.status_code == 408 and "timed out" in slow.json()["detail"]

        # An upload that announces no length is cut off as soon as it passes the limit.
        def body():
            yield b'--x\r\nContent-Disposition: form-data; name="image_file"; filename="a.jpg"\r\n\r\n'
            for _ in range(12):
                yield b"\0" * (1024 * 1024)

        streamed = server.client.post(
            "/api/conversion/start", content=body(), headers={"Content-Type": "multipart/form-data; boundary=x"}
        )
        assert streamed.status_code == 413
        # Break the store under the running service: its tables disappear.
        engine = sa.create_engine(settings.store_url)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE task_artifacts")
            connection.exec_driver_sql("DROP TABLE task_events")
            connection.exec_driver_sql("DROP TABLE tasks")
        engine.dispose()
        started = time.monotonic()
        status = server.client.get(f"/api/conversion/{task_id}")
        assert status.status_code == 503 and "task store is unavailable" in status.json()["detail"]
        assert status.headers["retry-after"]
        health = server.client.get("/api/health")
        assert health.status_code == 503 and health.json()["status"] == "unavailable"
        refused = server.client.post(
            "/api/conversion/start",
            files={"image_file": ("c.jpg", PHOTO)},
            data={"metadata": json.dumps({"width": 8})},
        )
        assert refused.status_code == 503
        assert time.monotonic() - started < 10
        assert server.client.get("/").status_code == 200  # the process itself is fine


def test_serve_creates_a_private_admin_token_once(tmp_path):
    settings = Settings(data_dir=tmp_path)
    token, source = admin_token(settings)
    path = tmp_path / "admin-token"
    assert source == str(path) and path.read_text().strip() == token and len(token) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert admin_token(settings) == (token, source)
    assert admin_token(Settings(data_dir=tmp_path, admin_token="mine")) == ("mine", "PIXELETICA_ADMIN_TOKEN")


def test_wrong_methods_and_paths(tmp_path):
    settings = fast_settings(tmp_path / "data")
    settings.data_dir.mkdir(parents=True)
    with running_server(settings, workers=0) as server:
        assert server.client.put("/api/conversion/start").status_code == 405
        assert server.client.get("/api/nothing-here").status_code == 404
        with httpx.Client(base_url=server.url) as raw:
            answer = raw.post("/api/conversion/start", content=b"not multipart", headers={"Content-Type": "text/plain"})
            assert answer.status_code == 422
