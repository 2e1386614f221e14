"""What routes need from the application: settings and the store, the admin check, who may see a task."""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from pixeletica.api import access
from pixeletica.api.bounded_store import BoundedStore, StoreSilent
from pixeletica.config import Settings
from pixeletica.errors import NotFound
from pixeletica.tasks.model import Task
from pixeletica.tasks.store import Store

log = logging.getLogger("pixeletica.api")
T = TypeVar("T")


@dataclass(frozen=True)
class AppState:
    """Everything the routes share, built once at start-up."""

    settings: Settings
    #: The task store, every call bounded by PIXELETICA_STORE_TIMEOUT.
    store: Store
    #: The same bound for operations of several steps (:meth:`BoundedStore.run`).
    store_calls: BoundedStore
    admin_token: str | None
    #: Set when a task was queued, so that a broker dispatcher (if one runs) sends it at once.
    queued: threading.Event = field(default_factory=threading.Event)
    #: The server accepts connections from this machine only (decides ``PIXELETICA_TASK_ACCESS=auto``).
    listens_on_loopback: bool = False


async def in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function`` (which reads the store) off the event loop.

    Its calls of the store are bounded in time (:mod:`pixeletica.api.bounded_store`): a database
    that stops answering without refusing means :class:`StoreSilent`, a 503 with Retry-After.
    """
    return await run_in_threadpool(function, *args, **kwargs)


async def submit_in_thread(app: AppState, operation: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``operation(store, ...)``, a submission, off the event loop and bounded as a whole; its 503 says
    the task may still be queued (the submission goes on in its thread to its end)."""
    try:
        return await run_in_threadpool(app.store_calls.run, operation, *args, **kwargs)
    except StoreSilent:
        raise StoreSilent(_SILENT_WRITE) from None


_SILENT_WRITE = (
    "the task store does not answer; the task may still be queued when it does, "
    "so look at your tasks before sending it again"
)


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


def token_digest(token: str) -> str:
    """What a dashboard session remembers of the admin token it was opened with: a new token ends it."""
    return hmac.new(token.encode(), b"pixeletica dashboard session", "sha256").hexdigest()


def _session_valid(app: AppState, cookie: str) -> bool:
    if app.admin_token is None:
        return False
    return app.store.session_valid(access.digest(cookie), token_digest(app.admin_token))


def require_admin(request: Request) -> None:
    """Admin endpoints: ``Authorization: Bearer <token>``, or the dashboard's cookie; none -> 401, wrong -> 403."""
    app = state(request)
    header = request.headers.get("authorization", "")
    cookie = request.cookies.get(SESSION_COOKIE)
    if not header and cookie:
        if not _session_valid(app, cookie):
            raise HTTPException(401, "the dashboard session has expired or was signed out: sign in again")
        if request.method not in ("GET", "HEAD") and request.headers.get(CSRF_HEADER) != "pixeletica":
            raise HTTPException(403, "requests signed in by cookie must send 'X-Requested-With: pixeletica'")
        return
    if not header:
        raise HTTPException(401, "admin token required: send 'Authorization: Bearer <token>'", headers=_CHALLENGE)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "the Authorization header must be 'Bearer <token>'", headers=_CHALLENGE)
    if not same_secret(token.strip(), app.admin_token):
        request.app.state.signin_limiter.check(request)  # wrong guesses count as sign-in attempts: 429 past them
        raise HTTPException(403, "the admin token is not valid")


def is_admin(request: Request) -> bool:
    """Whether the request carries valid admin credentials (as :func:`require_admin` would accept them)."""
    try:
        require_admin(request)
    except HTTPException:
        return False
    return True


def visitor(request: Request) -> access.Visitor:
    """Who is asking, under the server's access rule (admin credentials are checked only when they matter)."""
    app = state(request)
    carries_admin = bool(request.headers.get("authorization") or request.cookies.get(SESSION_COOKIE))
    return access.Visitor(
        key=access.presented_key(request),
        open=access.is_open(app.settings.task_access, app.listens_on_loopback, request),
        is_admin=(lambda: is_admin(request)) if carries_admin else (lambda: False),
    )


def visible_task(request: Request, task_id: str, *, for_map: bool = False) -> Task:
    """The task if this visitor may see it (``for_map``: its map); else 404, as for a task that does not exist."""
    try:
        task = state(request).store.get(task_id)
    except NotFound:
        raise HTTPException(404, f"Task not found: {task_id}") from None
    who = visitor(request)
    if who.may_see_map(task) if for_map else who.may_see(task):
        return task
    raise HTTPException(404, f"Task not found: {task_id}")
