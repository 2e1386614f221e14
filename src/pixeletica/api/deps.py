"""What routes need from the application: settings and the store, and the admin check."""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass, field

from fastapi import HTTPException, Request

from pixeletica.config import Settings
from pixeletica.tasks.store import Store


@dataclass(frozen=True)
class AppState:
    """Everything the routes share, built once at start-up."""

    settings: Settings
    store: Store
    admin_token: str | None
    #: Set when a task was queued, so that a broker dispatcher (if one runs) sends it at once.
    queued: threading.Event = field(default_factory=threading.Event)


def state(request: Request) -> AppState:
    return request.app.state.pixeletica


_CHALLENGE = {"WWW-Authenticate": "Bearer"}
#: The dashboard's sign-in cookie (HttpOnly): a digest of the admin token, never the token itself.
SESSION_COOKIE = "pixeletica_admin"
#: Requests authenticated by the cookie that change something must carry this header (a form on
#: another site cannot send it), on top of the cookie being SameSite=Strict.
CSRF_HEADER = "x-requested-with"


def same_secret(given: str, expected: str | None) -> bool:
    """Constant-time comparison of a secret a client sent with ours (any characters: compared as bytes)."""
    return expected is not None and hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def session_value(token: str) -> str:
    """The cookie value for an admin token; a new token makes old cookies worthless."""
    return hmac.new(token.encode(), b"pixeletica dashboard session", "sha256").hexdigest()


def require_admin(request: Request) -> None:
    """Admin endpoints: ``Authorization: Bearer <token>``, or the dashboard's cookie; none -> 401, wrong -> 403."""
    expected = state(request).admin_token
    header = request.headers.get("authorization", "")
    cookie = request.cookies.get(SESSION_COOKIE)
    if not header and cookie:
        if expected is None or not same_secret(cookie, session_value(expected)):
            raise HTTPException(401, "the dashboard session has expired: sign in again")
        if request.method not in ("GET", "HEAD") and request.headers.get(CSRF_HEADER) != "pixeletica":
            raise HTTPException(403, "requests signed in by cookie must send 'X-Requested-With: pixeletica'")
        return
    if not header:
        raise HTTPException(401, "admin token required: send 'Authorization: Bearer <token>'", headers=_CHALLENGE)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "the Authorization header must be 'Bearer <token>'", headers=_CHALLENGE)
    if not same_secret(token.strip(), expected):
        raise HTTPException(403, "the admin token is not valid")
