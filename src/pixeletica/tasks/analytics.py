"""Task analytics: how many, how long, how often they fail — the numbers of ``task stats``."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from typing import Any

from pixeletica.tasks.model import Status
from pixeletica.tasks.store import Store


def percentiles(values: list[float], points: tuple[int, ...] = (50, 95, 99)) -> dict[str, float]:
    """Nearest-rank percentiles, e.g. {'p50': ..., 'p95': ..., 'p99': ...}; empty for no values."""
    if not values:
        return {}
    ordered = sorted(values)
    return {f"p{p}": ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] for p in points}


def stats(store: Store, window: dt.timedelta) -> dict[str, Any]:
    """Statistics of the tasks created within ``window`` before now."""
    since = store.clock() - min(window, dt.timedelta(days=3650))
    rows = store.stats_rows(since)
    counts = Counter(r.status for r in rows)
    waits = [(r.started_at - r.created_at).total_seconds() for r in rows if r.started_at]
    runs = [
        (r.finished_at - r.started_at).total_seconds()
        for r in rows
        if r.status == Status.COMPLETED.value and r.finished_at and r.started_at
    ]
    finished = counts[Status.COMPLETED.value] + counts[Status.FAILED.value]
    errors = Counter(r.error_code or "unknown" for r in rows if r.status == Status.FAILED.value)
    hours = max(window.total_seconds() / 3600.0, 1e-9)
    return {
        "since": since.isoformat(timespec="seconds") + "Z",
        "counts": {s.value: counts[s.value] for s in Status},
        "total": len(rows),
        "wait_seconds": percentiles(waits),
        "processing_seconds": percentiles(runs),
        "failure_rate": counts[Status.FAILED.value] / finished if finished else 0.0,
        "top_errors": errors.most_common(5),
        "throughput_per_hour": counts[Status.COMPLETED.value] / hours,
    }


def timeline(store: Store, window: dt.timedelta, buckets: int) -> dict[str, Any]:
    """The window cut into ``buckets`` equal spans, for charts: per span, tasks created, completed
    and failed, the queue depth at its end and the processing-time percentiles of those completed.

    Counts tasks created within the window (a task created before it is not seen).
    """
    window = min(window, dt.timedelta(days=3650))
    end = store.clock()
    start = end - window
    step = window / buckets
    rows = store.stats_rows(start)
    spans = []
    for i in range(buckets):
        lo, hi = start + i * step, start + (i + 1) * step

        def ended(r: Any, status: str, lo: dt.datetime = lo, hi: dt.datetime = hi) -> bool:
            return r.status == status and r.finished_at is not None and lo <= r.finished_at < hi

        done = [r for r in rows if ended(r, Status.COMPLETED.value)]
        runs = [(r.finished_at - r.started_at).total_seconds() for r in done if r.started_at]
        waiting = sum(
            r.created_at <= hi
            and (r.started_at is None or r.started_at > hi)
            and not (r.finished_at and r.finished_at <= hi)
            for r in rows
        )
        spans.append(
            {
                "start": lo.isoformat(timespec="seconds") + "Z",
                "created": sum(lo <= r.created_at < hi for r in rows),
                "completed": len(done),
                "failed": sum(ended(r, Status.FAILED.value) for r in rows),
                "queue_depth": waiting,
                "processing_seconds": percentiles(runs),
            }
        )
    return {
        "since": start.isoformat(timespec="seconds") + "Z",
        "bucket_seconds": step.total_seconds(),
        "buckets": spans,
    }
