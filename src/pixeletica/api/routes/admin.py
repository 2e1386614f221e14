"""The dashboard's sign-in: the admin token is exchanged for an HttpOnly cookie (never kept in the page or URL)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel

from pixeletica.api.deps import SESSION_COOKIE, AppState, require_admin, same_secret, session_value, state

router = APIRouter(prefix="/admin", tags=["dashboard sign-in"])
State = Annotated[AppState, Depends(state)]
SESSION_SECONDS = 12 * 3600


class SignIn(BaseModel):
    token: str


@router.post("/session", status_code=204, summary="Sign in to the dashboard")
def sign_in(app: State, body: SignIn, request: Request, response: Response) -> None:
    """Check the admin token; on success set the session cookie (HttpOnly, SameSite=Strict, 12 h)."""
    if not same_secret(body.token.strip(), app.admin_token):
        raise HTTPException(403, "the admin token is not valid")
    response.set_cookie(
        SESSION_COOKIE, session_value(app.admin_token), max_age=SESSION_SECONDS, httponly=True, samesite="strict",
        secure=request.url.scheme == "https", path="/",
    )  # fmt: skip


@router.get("/session", status_code=204, summary="Is this browser signed in?", dependencies=[Depends(require_admin)])
def signed_in() -> None:
    """204 when the cookie (or bearer token) is valid; 401/403 otherwise."""


@router.delete("/session", status_code=204, summary="Sign out")
def sign_out(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
