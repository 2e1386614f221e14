"""Per-client rate limits for the expensive endpoints (start, preview): a sliding window in memory."""

from __future__ import annotations

import math
import re
import threading
import time
from collections import defaultdict, deque

from fastapi import HTTPException, Request

from pixeletica.errors import InvalidInput

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


def limited(request: Request) -> None:
    """Dependency: count this request against its client's limit (RATE_LIMIT)."""
    request.app.state.rate_limiter.check(request)


def limited_preview(request: Request) -> None:
    """Dependency for previews, which the conversion page asks for as options change (PREVIEW_RATE_LIMIT)."""
    request.app.state.preview_limiter.check(request)
