"""The FastAPI application: the compatible API under /api, admin task management, health."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from pixeletica import __version__
from pixeletica.api import bounded_store, errors, previews, prometheus, timeouts
from pixeletica.api.client_limits import RateLimiter, StreamSlots
from pixeletica.api.deps import AppState
from pixeletica.api.routes import admin, conversion, health, maps, options, pages, tasks
from pixeletica.api.upload_limit import UploadLimit
from pixeletica.config import Settings
from pixeletica.tasks.store import Store

STATIC = pages.STATIC


def create_app(
    settings: Settings,
    *,
    admin_token: str | None = None,
    store: Store | None = None,
    listens_on_loopback: bool = False,
) -> FastAPI:
    """Build the app for these settings (the store is opened and migrated here).

    ``listens_on_loopback``: the server accepts connections from this machine only, which
    ``PIXELETICA_TASK_ACCESS=auto`` takes as a private, single-user server.
    """
    if store is None:
        store = Store.open(settings.store_url, timeout=settings.store_timeout)
    pool = previews.PreviewPool(settings.preview_memory, settings.preview_concurrency, settings.preview_timeout)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        threading.Thread(target=pool.warm_up, name="preview-warm-up", daemon=True).start()
        yield

    app = FastAPI(
        title="Pixeletica API",
        description="API for converting images to Minecraft block art",
        version=__version__,
        lifespan=lifespan,
    )
    app.state.previews = pool
    bounded = bounded_store.BoundedStore(store, settings.store_timeout)  # what requests use: never a hung request
    app.state.pixeletica = AppState(
        settings=settings,
        store=bounded.as_store(),
        store_calls=bounded,
        admin_token=admin_token or settings.admin_token,
        listens_on_loopback=listens_on_loopback,
    )
    app.state.rate_limiter = RateLimiter(settings.rate_limit)
    app.state.preview_limiter = RateLimiter(settings.preview_rate_limit)
    app.state.signin_limiter = RateLimiter(settings.signin_rate_limit)
    app.state.event_streams = StreamSlots(settings.event_streams_per_client, settings.event_streams)
    errors.install(app)
    app.include_router(pages.router)
    app.include_router(health.router)
    app.include_router(conversion.router, prefix="/api")
    app.include_router(maps.router, prefix="/api")
    app.include_router(tasks.router, prefix="/api")
    app.include_router(admin.router, prefix="/api")
    app.include_router(options.router, prefix="/api")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    origins = settings.allowed_origins
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["*"], allow_headers=["*"])
    app.add_middleware(UploadLimit, limit=settings.max_upload_size)
    app.add_middleware(timeouts.BodyRate, grace=settings.header_timeout, min_rate=settings.body_min_rate)
    registry = CollectorRegistry()
    registry.register(prometheus.TaskCollector(bounded.as_store(), settings.heartbeat_seconds))
    app.add_middleware(prometheus.HttpMetrics, registry=registry)
    app.add_route("/metrics", prometheus.endpoint(registry), include_in_schema=False)
    return app
