"""One table from Pixeletica's exceptions to HTTP answers (status + ``detail``)."""

from __future__ import annotations

import logging

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from pixeletica.errors import InvalidInput, LimitExceeded, NotFound, TransitionConflict, UnsupportedImage

log = logging.getLogger("pixeletica.api")

STATUS = (
    (NotFound, 404),
    (UnsupportedImage, 415),
    (LimitExceeded, 400),
    (InvalidInput, 400),
    (TransitionConflict, 409),
)


def install(app: FastAPI) -> None:
    for exc_type, code in STATUS:
        app.add_exception_handler(exc_type, _handler(code))
    app.add_exception_handler(sqlalchemy.exc.OperationalError, _store_down)
    app.add_exception_handler(sqlalchemy.exc.DBAPIError, _store_down)


def _handler(code: int):
    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=code)

    return handle


async def _store_down(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("store unavailable: %s", exc)
    return JSONResponse(
        {"detail": "the task store is unavailable; try again shortly"}, status_code=503, headers={"Retry-After": "5"}
    )
