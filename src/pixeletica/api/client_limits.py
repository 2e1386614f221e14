"""Per-client limits for the expensive endpoints: rates of starts, previews and sign-ins (a sliding window in
memory), and how many progress streams may be open at once."""

from __future__ import annotations

import contextlib
import math
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator

from fastapi import HTTPException, Request

from pixeletica.errors import InvalidInput

#: Past this many client addresses, those without a hit in the window are forgotten (memory stays bounded).
_FORGET_AFTER_CLIENTS = 10_000
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RULE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)s?\s*$")


def parse(rule: str) -> tuple[int, float] | None:
    """'5/minute' -> (5, 60.0); 'off' or '0' -> None (no limit)."""
    if rule.strip().lower() in ("off", "none", "0", ""):
        return None
    match = _RULE.match(rule.lower())
    if not match:
        raise InvalidInput(f"rate limit {rule!r} is not valid: write it like 5/minute, 100/hour or off")
    return int(match.group(1)), float(_UNITS[match.group(2)])


class RateLimiter:
    """At most ``count`` requests per ``period`` seconds for each client address."""

    def __init__(self, rule: str) -> None:
        self.rule = rule
        self.limit = parse(rule)
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, request: Request) -> None:
        if self.limit is None:
            return
        count, period = self.limit
        client = request.client.host if request.client else "unknown"
        now = time.monotonic()
        with self._lock:
            if len(self._hits) > _FORGET_AFTER_CLIENTS:  # many addresses (IPv6, spoofing): drop the idle ones
                for idle in [c for c, h in self._hits.items() if not h or now - h[-1] >= period]:
                    del self._hits[idle]
            hits = self._hits[client]
            while hits and now - hits[0] >= period:
                hits.popleft()
            if len(hits) >= count:
                retry = max(1, math.ceil(period - (now - hits[0])))
                raise HTTPException(
                    429,
                    f"Too many requests: the limit is {self.rule} per client; try again in {retry} s",
                    headers={"Retry-After": str(retry)},
                )
            hits.append(now)


class StreamSlots:
    """At most ``per_client`` open streams for each client address and ``total`` for everyone."""

    def __init__(self, per_client: int, total: int) -> None:
        self.per_client, self.total = per_client, total
        self._open: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def check(self, request: Request) -> None:
        """429 (this client) or 503 (everyone) when no slot is free: called before a stream's answer starts."""
        client = request.client.host if request.client else "unknown"
        with self._lock:
            if self._open[client] >= self.per_client:
                raise HTTPException(
                    429, f"too many open progress streams: at most {self.per_client} per client; close one first",
                    headers={"Retry-After": "5"},
                )  # fmt: skip
            if sum(self._open.values()) >= self.total:
                raise HTTPException(503, "the server has too many open progress streams; try again shortly",
                                    headers={"Retry-After": "5"})  # fmt: skip

    @contextlib.contextmanager
    def slot(self, request: Request) -> Iterator[None]:
        """Hold a slot while the stream runs (taken where the stream starts, so it is always given back)."""
        client = request.client.host if request.client else "unknown"
        with self._lock:
            self._open[client] += 1
        try:
            yield
        finally:
            with self._lock:
                self._open[client] -= 1
                if not self._open[client]:
                    del self._open[client]


def limited(request: Request) -> None:
    """Dependency: count this request against its client's limit (RATE_LIMIT)."""
    request.app.state.rate_limiter.check(request)


def limited_preview(request: Request) -> None:
    """Dependency for previews, which the conversion page asks for as options change (PREVIEW_RATE_LIMIT)."""
    request.app.state.preview_limiter.check(request)
