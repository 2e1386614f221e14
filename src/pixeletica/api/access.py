"""Who may see and delete a task: its owner, an operator, and — on a private machine — anyone.

Every task remembers the digest of its **owner key**: a random secret the server gives to the
client that starts it (as the ``pixeletica_owner`` cookie, and as ``ownerKey`` in the answer)
and that the client sends back (the cookie, or the ``X-Pixeletica-Owner`` header). Browsers
keep the cookie, so the original web client works unchanged for its own tasks, and all the
tasks of one browser share one key.

``PIXELETICA_TASK_ACCESS`` chooses the rule:

- ``owner``: a task, its files and its map are visible to its owner and to operators (admin
  token); a map made public (only the map: not the upload, not the other files) to everyone;
  only the owner or an operator may delete a task;
  ``/api/maps.json`` lists the visitor's own maps and the public ones. Anyone else is told the
  task does not exist, so ids can neither be confirmed nor enumerated.
- ``open``: anyone may list, see and delete every task (one user on their own machine).
- ``auto`` (default): ``open`` for requests made directly to a server that listens on loopback
  only, ``owner`` for everything else — a server listening on a network address, and any request
  that came through a reverse proxy (it carries ``Forwarded``/``X-Forwarded-For``/``X-Real-IP``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response

from pixeletica.tasks.model import Task

OWNER_COOKIE = "pixeletica_owner"
OWNER_HEADER = "x-pixeletica-owner"
_KEY = re.compile(r"[A-Za-z0-9_-]{32,64}")
_COOKIE_SECONDS = 180 * 86400
_PROXY_HEADERS = (b"forwarded", b"x-forwarded-for", b"x-real-ip")


def digest(secret: str) -> str:
    """What the store keeps of a secret a client holds (an owner key, a session cookie), never the secret."""
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def is_loopback(host: str) -> bool:
    """Whether a listening address only accepts connections from this machine."""
    return host in ("localhost", "::1") or host.startswith("127.")


@dataclass(frozen=True)
class Visitor:
    """The one asking: their owner key (if they sent a well-formed one), and what the rule lets them do.

    Whether they are an operator is asked (``is_admin``, which may read the store) only when
    nothing cheaper has decided.
    """

    key: str | None
    open: bool
    is_admin: Callable[[], bool] = field(default=lambda: False, compare=False)

    @cached_property
    def owner(self) -> str | None:
        return digest(self.key) if self.key else None

    @cached_property
    def admin(self) -> bool:
        return self.is_admin()

    @property
    def sees_everything(self) -> bool:
        return self.open or self.admin

    def owns(self, task: Task) -> bool:
        owner = self.owner
        return owner is not None and task.owner is not None and secrets.compare_digest(task.owner, owner)

    def may_see(self, task: Task) -> bool:
        """The task itself: its status, its files and the upload (public or not)."""
        return self.open or self.owns(task) or self.admin

    def may_see_map(self, task: Task) -> bool:
        """Its map (metadata, tiles, images, block data): also everyone's when it is public."""
        return task.public or self.may_see(task)


def presented_key(request: Request) -> str | None:
    """The owner key the request carries (header first, then cookie), if it is well formed."""
    key = request.headers.get(OWNER_HEADER) or request.cookies.get(OWNER_COOKIE)
    return key if key and _KEY.fullmatch(key) else None


def is_open(rule: str, listens_on_loopback: bool, request: Request) -> bool:
    """Whether this request falls under the open rule (see the module docstring)."""
    if rule == "open":
        return True
    if rule == "owner":
        return False
    if not listens_on_loopback:
        return False
    return not any(name in _PROXY_HEADERS for name, _ in request.scope["headers"])


def describe(rule: str, listens_on_loopback: bool) -> str:
    """Who may see tasks under this rule, in words (for the server's start-up lines)."""
    if rule == "open":
        return "to anyone (PIXELETICA_TASK_ACCESS=open)"
    if rule == "auto" and listens_on_loopback:
        return "to anyone on this machine; through a proxy, to their owner only (PIXELETICA_TASK_ACCESS=auto)"
    return f"to their owner and operators only (PIXELETICA_TASK_ACCESS={rule})"


def refuse_cross_site(request: Request, allowed_origins: list[str]) -> None:
    """403 for a browser's request sent by another site's page (unless CORS_ORIGINS allows that site).

    A form on another site could otherwise start a task in a visitor's browser and, since its
    SameSite=Lax cookie is not sent with it, replace their owner key: they would lose their tasks.
    Browsers say where a request comes from (``Sec-Fetch-Site``, ``Origin``); other clients send neither.
    """
    if "*" in allowed_origins:
        return
    origin = request.headers.get("origin")
    if origin is not None and origin in allowed_origins:
        return
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:  # the browser's own verdict, which a page cannot forge
        cross = fetch_site == "cross-site"
    else:  # older browsers: the Origin's host against ours (as the client or a proxy in front named it)
        hosts = {request.headers.get("host"), request.headers.get("x-forwarded-host")}
        cross = origin not in (None, "null") and urlsplit(origin).netloc not in hosts
    if cross:
        raise HTTPException(403, "conversions cannot be started from another site's page (see CORS_ORIGINS)")


def over_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS (directly, or through a proxy saying so): cookies are Secure then."""
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def owner_key_for(request: Request, response: Response) -> str:
    """The owner key of a task being started: the one the client sent, or a new one set as its cookie."""
    key = presented_key(request)
    if key is None:
        key = secrets.token_urlsafe(32)
    secure = over_https(request)
    response.set_cookie(
        OWNER_COOKIE, key, max_age=_COOKIE_SECONDS, httponly=True, samesite="lax", secure=secure, path="/"
    )
    return key
