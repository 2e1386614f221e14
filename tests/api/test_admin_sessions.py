"""Dashboard sessions: a new random session per sign-in, ended by signing out or by expiry, sign-in rate-limited."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import httpx
import pytest

from ..tasks.conftest import fast_settings
from .conftest import TOKEN, running_server

pytestmark = pytest.mark.slow


def sign_in(url: str) -> str:
    with httpx.Client(base_url=url) as browser:
        answer = browser.post("/api/admin/session", json={"token": TOKEN})
        assert answer.status_code == 204, answer.text
        return browser.cookies["pixeletica_admin"]


def tasks_with(url: str, cookie: str) -> int:
    with httpx.Client(base_url=url, cookies={"pixeletica_admin": cookie}) as browser:
        return browser.get("/api/tasks").status_code


def test_every_sign_in_is_a_new_session_that_signing_out_ends(server):
    first, second = sign_in(server.url), sign_in(server.url)
    assert first != second  # not a value computable from the token
    for derived in (hmac.new(TOKEN.encode(), b"pixeletica dashboard session", "sha256").hexdigest(), TOKEN):
        assert derived not in (first, second)
        assert tasks_with(server.url, derived) == 401
    assert tasks_with(server.url, first) == 200 and tasks_with(server.url, second) == 200
    with httpx.Client(base_url=server.url, cookies={"pixeletica_admin": first}) as browser:
        assert browser.delete("/api/admin/session").status_code == 204
    assert tasks_with(server.url, first) == 401  # the old cookie, sent again, is worthless
    assert tasks_with(server.url, second) == 200  # another browser's session goes on
    stored = {row[0] for row in server.store.engine.connect().exec_driver_sql("SELECT id FROM admin_sessions")}
    assert hashlib.sha256(second.encode()).hexdigest() in stored and second not in stored  # kept as a digest


def test_sessions_expire_and_sign_in_attempts_are_limited(tmp_path):
    settings = fast_settings(tmp_path / "data", admin_token=TOKEN, signin_rate_limit="4/minute")
    settings.data_dir.mkdir(parents=True)
    with running_server(settings, 0) as server:
        cookie = sign_in(server.url)
        assert tasks_with(server.url, cookie) == 200
        with server.store.engine.begin() as connection:  # the session's 12 hours run out
            connection.exec_driver_sql(
                "UPDATE admin_sessions SET expires_at = ? WHERE id = ?",
                (dt.datetime(2000, 1, 1), hashlib.sha256(cookie.encode()).hexdigest()),
            )
        assert tasks_with(server.url, cookie) == 401  # expired on the server, whatever the browser keeps
        with httpx.Client(base_url=server.url) as guesser:
            tries = [guesser.post("/api/admin/session", json={"token": f"guess-{n}"}) for n in range(4)]
            assert [t.status_code for t in tries] == [403, 403, 403, 429]
            assert tries[-1].headers["retry-after"] and "4/minute" in tries[-1].json()["detail"]


def test_guessing_the_admin_token_is_limited_like_signing_in(tmp_path):
    settings = fast_settings(tmp_path / "data", admin_token=TOKEN, signin_rate_limit="3/minute")
    settings.data_dir.mkdir(parents=True)
    with running_server(settings, 0) as server:
        with httpx.Client(base_url=server.url) as guesser:
            codes = [
                guesser.get("/api/tasks", headers={"Authorization": f"Bearer guess-{n}"}).status_code for n in range(4)
            ]
            assert codes == [403, 403, 403, 429]
            spoofed = guesser.get("/api/tasks", headers={"Authorization": "Bearer x", "X-Forwarded-For": "192.0.2.7"})
            assert spoofed.status_code == 429  # a client cannot pick another address (no proxy is trusted)
        assert server.client.get("/api/tasks", headers=server.admin).status_code == 200  # the right token still works
