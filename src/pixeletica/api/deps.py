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


def require_admin(request: Request) -> None:
    """Admin endpoints: ``Authorization: Bearer <token>``; none -> 401, wrong -> 403."""
    expected = state(request).admin_token
    header = request.headers.get("authorization", "")
    if not header:
        raise HTTPException(401, "admin token required: send 'Authorization: Bearer <token>'", headers=_CHALLENGE)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "the Authorization header must be 'Bearer <token>'", headers=_CHALLENGE)
    if expected is None or not hmac.compare_digest(token.strip(), expected):
        raise HTTPException(403, "the admin token is not valid")
