"""Refusing oversized uploads, with an answer that every client gets to read.

A body over the limit is answered 413 with a JSON ``detail``, and the connection is closed. A server
that closes a connection while the client is still sending makes the client's system reset it, and
clients that send the whole body before they read the answer (Python's urllib, Node's fetch) then
see the reset, not the 413. So the 413 is sent first (clients that read as they send, like curl and
browsers, stop there), then the rest of the body is read and thrown away, then the connection is
closed. The discarding is bounded: in bytes, to :data:`DISCARD_FACTOR` times the body limit for the
whole body, and in time by the body's minimum rate (:mod:`pixeletica.api.timeouts`). A body
announced larger than that bound is answered at once, and so is one whose client waits for
``100 Continue`` (it then sends nothing); a client still sending beyond the bound may see its
connection reset instead of the answer.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Room for the multipart envelope and the metadata field around the image.
_ENVELOPE = 256 * 1024

#: A refused body is read to its end (and discarded) if it is at most this many times the body limit.
DISCARD_FACTOR = 4


class UploadLimit:
    """Answer 413 to request bodies over the limit: at once from Content-Length, or as they stream in."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.body_limit = limit + _ENVELOPE
        self.discard_limit = DISCARD_FACTOR * self.body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.body_limit:
            # Reading the body would send "100 Continue": a client waiting for it is better off without.
            expects_continue = headers.get(b"expect", b"").lower() == b"100-continue"
            discard = int(length) <= self.discard_limit and not expects_continue
            await self._refuse(receive, send, seen=0, discard=discard)
            return
        seen = 0
        refused = False
        finished = False
        started = False

        async def counted() -> Message:
            nonlocal seen, refused, finished
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] != "http.request":
                finished = True
                return message
            seen += len(message.get("body", b""))
            finished = not message.get("more_body", False)
            if seen > self.body_limit:
                refused = True  # the app sees the client go away and stops reading
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if not refused:
                started = started or message["type"] == "http.response.start"
                await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except Exception:
            if not refused:
                raise
        if refused and not started:
            await self._refuse(receive, send, seen=seen, discard=not finished)

    async def _refuse(self, receive: Receive, send: Send, *, seen: int, discard: bool) -> None:
        """Answer 413; with ``discard``, read the rest of the body (``seen`` bytes of it read) before closing."""
        body = json.dumps({"detail": f"Image size exceeds maximum limit of {self.limit / (1024 * 1024):g}MB"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body, "more_body": discard})
        if discard:
            await self._discard(receive, seen)
            await send({"type": "http.response.body", "body": b""})  # the server closes the connection now

    async def _discard(self, receive: Receive, seen: int) -> None:
        """Read and drop the body until it ends, the client leaves or is too slow, or the discard bound is passed."""
        while seen <= self.discard_limit:
            message = await receive()
            if message["type"] != "http.request":
                return
            seen += len(message.get("body", b""))
            if not message.get("more_body", False):
                return
