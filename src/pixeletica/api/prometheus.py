"""Prometheus metrics at ``/metrics``: tasks from the store at scrape time, HTTP requests as they happen."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pixeletica.tasks.model import Status, beat_recently
from pixeletica.tasks.store import Store

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600)
WINDOW = dt.timedelta(hours=1)


class TaskCollector(Collector):
    """Reads the store at each scrape: tasks by status, queue depth, failures by code, and the
    distribution of wait and processing times of tasks created in the last hour."""

    def __init__(self, store: Store, heartbeat_seconds: float) -> None:
        self.store, self.heartbeat_seconds = store, heartbeat_seconds

    def collect(self) -> Iterator[Metric]:
        counts = self.store.counts()
        by_status = GaugeMetricFamily("pixeletica_tasks", "Tasks in the store by status", labels=["status"])
        for status in Status:
            by_status.add_metric([status.value], counts[status])
        yield by_status
        yield GaugeMetricFamily("pixeletica_queue_depth", "Tasks waiting to be run", value=counts[Status.QUEUED])
        now = self.store.clock()
        alive = sum(beat_recently(seen, now, self.heartbeat_seconds) for _, seen, _ in self.store.heartbeats("worker"))
        yield GaugeMetricFamily("pixeletica_workers_alive", "Worker processes that beat recently", value=alive)
        failures = GaugeMetricFamily(
            "pixeletica_task_failures", "Failed tasks in the store by error code", labels=["error_code"]
        )
        for code, n in sorted(self.store.error_counts().items()):
            failures.add_metric([code], n)
        yield failures
        rows = self.store.stats_rows(now - WINDOW)
        waits = [(r.started_at - r.created_at).total_seconds() for r in rows if r.started_at]
        runs = [
            (r.finished_at - r.started_at).total_seconds()
            for r in rows
            if r.status == Status.COMPLETED.value and r.finished_at and r.started_at
        ]
        for name, text, values in (
            ("pixeletica_task_wait_seconds", "Queue wait of tasks created in the last hour", waits),
            ("pixeletica_task_processing_seconds", "Processing time of tasks completed in the last hour", runs),
        ):
            family = GaugeHistogramMetricFamily(name, text)
            buckets = [(str(b), sum(v <= b for v in values)) for b in _BUCKETS] + [("+Inf", len(values))]
            family.add_metric([], buckets, gsum_value=sum(values))
            yield family


class HttpMetrics:
    """ASGI middleware counting requests by method, route and status, with a latency histogram."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "pixeletica_http_requests", "HTTP requests", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "pixeletica_http_request_seconds", "HTTP request latency", ["method", "route"], registry=registry
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, sending)
        finally:
            route = _route(scope)
            self.requests.labels(scope["method"], route, str(status[0])).inc()
            self.latency.labels(scope["method"], route).observe(time.perf_counter() - started)


def _route(scope: Scope) -> str:
    """The route template that served the request (e.g. /api/conversion/{task_id}), so that ids do
    not explode the labels; the router records it in the scope."""
    route = scope.get("route")
    return str(getattr(route, "path_format", None) or getattr(route, "path", None) or "unmatched")


def endpoint(registry: CollectorRegistry):
    def metrics(_request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE)

    return metrics
