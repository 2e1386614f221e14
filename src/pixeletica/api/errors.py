"""One table from Pixeletica's exceptions to HTTP answers (status + ``detail``)."""

from __future__ import annotations

import logging

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pixeletica.errors import (
    InvalidInput,
    LimitExceeded,
    NotFound,
    TimedOut,
    TransientError,
    TransitionConflict,
    UnsupportedImage,
)

log = logging.getLogger("pixeletica.api")

STATUS = (
    (NotFound, 404),
    (UnsupportedImage, 415),
    (LimitExceeded, 400),
    (InvalidInput, 400),
    (TransitionConflict, 409),
    (TimedOut, 408),
)


def install(app: FastAPI) -> None:
    for exc_type, code in STATUS:
        app.add_exception_handler(exc_type, _handler(code))
    app.add_exception_handler(TransientError, _busy)
    app.add_exception_handler(RequestValidationError, _malformed)
    app.add_exception_handler(sqlalchemy.exc.OperationalError, _store_down)
    app.add_exception_handler(sqlalchemy.exc.DBAPIError, _store_down)
    app.add_middleware(InternalErrors)


def _handler(code: int):
    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=code)

    return handle


async def _store_down(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("store unavailable: %s", exc)
    return JSONResponse(
        {"detail": "the task store is unavailable; try again shortly"}, status_code=503, headers={"Retry-After": "5"}
    )


async def _malformed(_request: Request, exc: Exception) -> JSONResponse:
    """422 naming each field and what is wrong with it, never echoing what was sent (it may be huge, or NaN)."""
    assert isinstance(exc, RequestValidationError)
    problems = [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": error.get("type"),
        }
        for error in exc.errors()[:10]
    ]
    return JSONResponse({"detail": problems}, status_code=422)


async def _busy(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("temporarily unavailable: %s", exc)
    return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})


class InternalErrors:
    """Anything unforeseen: logged with its traceback; the client gets a 500 sentence, never the traceback.

    An ASGI middleware rather than an ``Exception`` handler: Starlette re-raises after such a
    handler, and the server then drops the connection, so a client's next request on it would
    meet a reset.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            log.exception("internal error on %s %s", scope.get("method"), scope.get("path"))
            if started:  # half a response is out: only closing the connection can say it failed
                raise
            answer = JSONResponse(
                {"detail": "an internal error occurred; the operators can find it in the server's log"}, 500
            )
            await answer(scope, receive, send)
