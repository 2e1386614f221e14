"""The dashboard's sign-in: the admin token is exchanged for a session cookie (never kept in the page or URL).

A session is a random id the server remembers (by its digest) with an expiry and the admin token
it was opened with: every sign-in gets a new one, signing out ends it at once, and a new admin
token ends them all. Sign-in attempts are rate-limited per client address.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel

from pixeletica.api import access
from pixeletica.api.deps import (
    SESSION_COOKIE,
    AppState,
    require_admin,
    same_secret,
    state,
    token_digest,
)

router = APIRouter(prefix="/admin", tags=["dashboard sign-in"])
State = Annotated[AppState, Depends(state)]


class SignIn(BaseModel):
    token: str


def _limited(request: Request) -> None:
    request.app.state.signin_limiter.check(request)


@router.post("/session", status_code=204, summary="Sign in to the dashboard", dependencies=[Depends(_limited)])
def sign_in(app: State, body: SignIn, request: Request, response: Response) -> None:
    """Check the admin token; on success open a session and set its cookie (HttpOnly, SameSite=Strict)."""
    if app.admin_token is None or not same_secret(body.token.strip(), app.admin_token):
        raise HTTPException(403, "the admin token is not valid")
    session = secrets.token_urlsafe(32)
    seconds = app.settings.session_hours * 3600
    app.store.open_session(access.digest(session), token_digest(app.admin_token), seconds)
    response.set_cookie(
        SESSION_COOKIE, session, max_age=int(seconds), httponly=True, samesite="strict",
        secure=access.over_https(request), path="/",
    )  # fmt: skip


@router.get("/session", status_code=204, summary="Is this browser signed in?", dependencies=[Depends(require_admin)])
def signed_in() -> None:
    """204 when the cookie (or bearer token) is valid; 401/403 otherwise."""


@router.delete("/session", status_code=204, summary="Sign out")
def sign_out(app: State, request: Request, response: Response) -> None:
    """End this browser's session on the server and remove its cookie."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        app.store.close_session(access.digest(cookie))
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
