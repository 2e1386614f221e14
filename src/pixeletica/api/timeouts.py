"""Time limits on reading a request, so that a slow client cannot hold a connection of the server for ever.

Two limits, each where it can be seen:

- **Headers** (``PIXELETICA_HEADER_TIMEOUT``, seconds): the request line and all headers must have
  arrived this long after the connection opened or, on a kept-alive connection, after the previous
  response was sent. Else the server answers 408 (when part of a request had arrived; an idle
  connection is closed without a word) and closes the connection. uvicorn has no such limit:
  :func:`http_protocol` makes its HTTP/1.1 protocol class (httptools or h11) with one, for
  ``uvicorn.Config(http=...)``. Time the application spends on a request does not count: the clock
  stops when the headers are complete and starts again when the response has been sent.
- **Body** (``PIXELETICA_BODY_MIN_RATE``, bytes a second): once its headers are in, a request body
  has an allowance of time, at first the grace period (the header timeout). Every second the
  application waits for body bytes takes a second from it; every ``body_min_rate`` bytes that
  arrive give a second back, up to the grace period at most (:class:`BodyAllowance`). When it runs
  out the request is answered 408 and the connection closed (:class:`BodyRate`, an ASGI middleware).
  So a body must arrive at ``body_min_rate`` on average, and may never pause for longer than the
  grace period; time the application spends between reads is not the client's and does not count.

Nothing stays behind a timed-out request: its connection is closed, and the application is told
that the client has gone (``http.disconnect``), so its task ends and the form parser closes the
temporary files of the upload.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http import h11_impl, httptools_impl
from uvicorn.server import ServerState

log = logging.getLogger("pixeletica.api")


def _response_408(detail: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    return headers, body


def _peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "unknown"


def _seconds(value: float) -> str:
    return f"{value:g} second{'' if value == 1 else 's'}"


def _rate(bytes_per_second: float) -> str:
    if bytes_per_second >= 1024 * 1024:
        return f"{bytes_per_second / (1024 * 1024):.3g} MB a second"
    if bytes_per_second >= 1024:
        return f"{bytes_per_second / 1024:.3g} KB a second"
    return f"{bytes_per_second:g} bytes a second"


# --- headers: in the HTTP protocol --------------------------------------------------------------------


class _HeaderTimeout:
    """Mixin for uvicorn's HTTP protocols: close a connection whose next request's headers are late.

    The timer runs while the connection waits for a request's headers: from ``connection_made``, and
    from the end of each response that leaves the connection open with no request of its own. It
    stops as soon as the protocol has made a request of complete headers (a new ``cycle``).
    """

    #: Seconds a client has to send a request's line and headers; :func:`http_protocol` sets it.
    header_timeout: float = 10.0

    # What the uvicorn protocol this is mixed into provides.
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    client: tuple[str, int] | None
    cycle: Any
    server_state: ServerState

    _header_timer: asyncio.TimerHandle | None = None
    _request_begun = False  # bytes arrived while the timer ran: a request is on its way

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[misc]
        self._start_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)  # type: ignore[misc]

    def data_received(self, data: bytes) -> None:
        if self._header_timer is not None:
            self._request_begun = True
        super().data_received(data)  # type: ignore[misc]
        if self._header_timer is not None and not self._waiting_for_headers():
            self._stop_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if not self.transport.is_closing() and self._waiting_for_headers():
            self._start_header_timer()

    def handle_websocket_upgrade(self, *args: Any) -> None:
        self._stop_header_timer()  # the WebSocket protocol takes the connection over
        super().handle_websocket_upgrade(*args)  # type: ignore[misc]

    def _waiting_for_headers(self) -> bool:
        """No request is in progress: the next one's headers are awaited (pipelined ones are in progress)."""
        return self.cycle is None or self.cycle.response_complete

    def _start_header_timer(self) -> None:
        self._stop_header_timer()
        self._request_begun = False
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_late)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_late(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self._request_begun:
            log.info("request headers too slow client=%s timeout=%g", _peer(self.client), self.header_timeout)
            headers, body = _response_408(
                f"the request's headers did not arrive within {_seconds(self.header_timeout)}; "
                "send the whole request at once"
            )
            headers = self.server_state.default_headers + headers  # date and server, as uvicorn's own answers
            head = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\n" + head + b"\r\n" + body)
        self.transport.close()


# (uvicorn's protocols take an asyncio.Transport in connection_made, asyncio's base a BaseTransport.)
class HttpToolsProtocol(_HeaderTimeout, httptools_impl.HttpToolsProtocol):  # type: ignore[misc]
    """uvicorn's httptools protocol with the header timeout."""


class H11Protocol(_HeaderTimeout, h11_impl.H11Protocol):  # type: ignore[misc]
    """uvicorn's h11 protocol with the header timeout."""


_PROTOCOLS: dict[str, type[_HeaderTimeout]] = {"httptools": HttpToolsProtocol, "h11": H11Protocol}


def http_protocol(
    header_timeout: float, implementation: Literal["httptools", "h11"] = "httptools"
) -> type[asyncio.Protocol]:
    """The protocol class for ``uvicorn.Config(http=...)``: ``implementation`` with this header timeout."""
    if implementation not in _PROTOCOLS:
        raise ValueError(f"unknown HTTP implementation {implementation!r}; choose one of {', '.join(_PROTOCOLS)}")
    if header_timeout <= 0:
        raise ValueError(f"the header timeout must be positive, not {header_timeout!r}")
    base = _PROTOCOLS[implementation]
    return type(base.__name__, (base,), {"header_timeout": header_timeout, "__module__": __name__})


# --- body: in the ASGI application --------------------------------------------------------------------


@dataclasses.dataclass
class BodyAllowance:
    """The time a request body may still take: waiting spends it, received bytes earn it back, up to ``grace``."""

    grace: float
    min_rate: float
    seconds: float = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.seconds = self.grace

    def account(self, waited: float, received: int) -> None:
        """``received`` bytes came after ``waited`` seconds of waiting for them."""
        self.seconds = min(self.grace, self.seconds - waited + received / self.min_rate)

    @property
    def exhausted(self) -> bool:
        return self.seconds <= 0


class BodyRate:
    """Answer 408 and close when a request body arrives slower than ``min_rate`` bytes a second (after ``grace``).

    Only the time the application spends waiting for body bytes counts; once the body is complete
    (or the client gone) ``receive`` is the server's own again, so waiting for a disconnect during a
    long response is not timed. A response the application had started before the body ran late is
    left to finish; the application just sees the client leave.
    """

    def __init__(self, app: ASGIApp, grace: float, min_rate: float) -> None:
        if grace <= 0 or min_rate <= 0:
            raise ValueError(f"the body's grace period and minimum rate must be positive, not {grace!r}, {min_rate!r}")
        self.app = app
        self.grace = grace
        self.min_rate = min_rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        allowance = BodyAllowance(self.grace, self.min_rate)
        body_done = False
        late = False
        started = False

        async def timed_receive() -> Message:
            nonlocal body_done, late
            if late:
                return {"type": "http.disconnect"}
            if body_done:
                return await receive()
            began = loop.time()
            try:
                async with asyncio.timeout(allowance.seconds):
                    message = await receive()
            except TimeoutError:
                late = True
                log.info(
                    "request body too slow client=%s path=%s min_rate=%g",
                    _peer(scope.get("client")),
                    scope.get("path"),
                    self.min_rate,
                )
                return {"type": "http.disconnect"}
            allowance.account(loop.time() - began, len(message.get("body", b"")))
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if late and not started:
                return  # the 408 below answers instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, timed_receive, guarded_send)
        except Exception:
            if not late:
                raise  # else the application only failed because its client was too slow
        if late and not started:
            headers, body = _response_408(
                f"the request body arrived too slowly (under {_rate(self.min_rate)}, or a pause of over "
                f"{_seconds(self.grace)}); send it again on a faster connection"
            )
            await send({"type": "http.response.start", "status": 408, "headers": headers})
            await send({"type": "http.response.body", "body": body})
