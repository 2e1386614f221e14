"""``pixeletica serve``: the whole service on one machine — API, workers and monitor, on SQLite."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import tempfile
import threading
from pathlib import Path
from typing import Annotated

import typer

from pixeletica import config, fsutil, logs
from pixeletica.cli import common
from pixeletica.errors import InvalidInput


def admin_token(settings: config.Settings) -> tuple[str, str]:
    """The admin token and where it comes from; created in the data directory on first start.

    An empty token (a blank variable or file) is refused: nobody could sign in to the dashboard.
    """
    if settings.admin_token is not None:
        if not settings.admin_token.strip():
            raise InvalidInput("PIXELETICA_ADMIN_TOKEN is empty; set a token, or unset it to have one made")
        return settings.admin_token.strip(), "PIXELETICA_ADMIN_TOKEN"
    path = Path(settings.data_dir) / "admin-token"
    try:
        if path.is_file():
            token = path.read_text(errors="replace").strip()
            if not token:
                raise InvalidInput(
                    f"the admin token file '{path}' is empty: write a token in it, or delete it to have a new "
                    "one made at the next start"
                )
            return token, str(path)
        token = secrets.token_urlsafe(32)
        old = os.umask(0o077)
        try:
            fsutil.atomic_write(path, token.encode() + b"\n")
        finally:
            os.umask(old)
    except OSError as exc:
        raise InvalidInput(f"cannot read or create the admin token file '{path}': {exc.strerror or exc}") from None
    return token, str(path)


def check_data_dir(settings: config.Settings) -> None:
    """Refuse to start on a data directory that cannot hold tasks (missing rights, a file in the way, full)."""
    try:
        settings.tasks_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=settings.tasks_dir):
            pass
    except OSError as exc:
        raise InvalidInput(
            f"the data directory '{settings.data_dir}' cannot be used: {exc.strerror or exc} "
            "(set PIXELETICA_DATA_DIR to a folder this user can write)"
        ) from None


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port``, as uvicorn would bind it (IPv6 for an address with a
    colon, else IPv4); an address that cannot be had (in use, not this machine's, no such name) is an
    :class:`InvalidInput` sentence."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    shown = f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: restart at once
        listener.bind((host, port))
    except (OSError, UnicodeError) as exc:
        listener.close()
        raise InvalidInput(f"cannot listen on {shown}: {getattr(exc, 'strerror', None) or exc}") from None
    return listener


@common.reports_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = config.DEFAULT_HOST,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = config.DEFAULT_PORT,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            min=0,
            max=config.MAX_WORKER_PROCESSES,
            help="Local worker processes (default: CPU count, or 0 with a broker: Celery workers do the work).",
        ),
    ] = None,
    with_monitor: Annotated[
        bool, typer.Option("--monitor/--no-monitor", help="Run the monitor in this process (off when it runs apart).")
    ] = True,
) -> None:
    """Run Pixeletica: the HTTP API, local worker processes (or a broker dispatcher) and the monitor."""
    import uvicorn

    from pixeletica.api import access, timeouts
    from pixeletica.api.app import create_app
    from pixeletica.tasks.executors import local
    from pixeletica.tasks.monitor import Monitor

    settings = config.get_settings()
    logs.setup(settings)
    check_data_dir(settings)
    token, token_source = admin_token(settings)
    listener = listening_socket(host, port)  # before anything starts: a port in use is one line, nothing to stop
    port = listener.getsockname()[1]  # the one the system chose, for --port 0
    app = create_app(settings, admin_token=token, listens_on_loopback=access.is_loopback(host))
    store = app.state.pixeletica.store
    default_workers = 0 if settings.broker_url else config.default_worker_processes()
    count = workers if workers is not None else default_workers
    supervisor = local.Supervisor(settings, count) if count > 0 else None
    stop = threading.Event()
    threads = []
    if with_monitor:
        monitor = Monitor.from_settings(store, settings)
        threads.append(threading.Thread(target=monitor.run, args=(stop,), name="monitor"))
    if settings.broker_url:
        from pixeletica.tasks.executors import celery as celery_executor

        dispatcher = celery_executor.Dispatcher(store, celery_executor.make_app(settings), settings.redispatch_seconds)
        dispatcher.wake = app.state.pixeletica.queued
        threads.append(threading.Thread(target=dispatcher.run, args=(stop,), name="dispatcher", daemon=True))
    for thread in threads:
        thread.start()

    class _Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):  # we handle signals ourselves, so that the shutdown below runs
            yield

    server = _Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="info",
            log_config=None,  # uvicorn's records go through logs.setup like every other
            access_log=False,
            http=timeouts.http_protocol(settings.header_timeout),
            proxy_headers=bool(settings.forwarded_allow_ips),
            forwarded_allow_ips=settings.forwarded_allow_ips or None,
        )
    )

    def _stop(*_: object) -> None:
        server.should_exit = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    celery = f", Celery on {config.safe_url(settings.broker_url)}" if settings.broker_url else ""
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else f"[{host}]" if ":" in host else host
    logs.announce(
        f"Pixeletica on http://{shown_host}:{port}  (API under /api, docs at /docs)\n"
        f"  data directory: {settings.data_dir}\n"
        f"  admin token:    {token_source}\n"
        f"  workers:        {count} local{celery}"
        f", store {config.safe_url(settings.store_url)}\n"
        f"  monitor:        {'in this process' if with_monitor else 'runs apart'}\n"
        f"  tasks visible:  {access.describe(settings.task_access, access.is_loopback(host))}",
        settings,
    )
    try:
        server.run(sockets=[listener])
    finally:
        stop.set()
        if supervisor is not None:
            supervisor.stop()
        for thread in threads:
            thread.join(5)
        logs.announce("Pixeletica stopped", settings)
