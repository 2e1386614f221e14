"""A real `pixeletica serve` on a free loopback port, with one worker, for the API tests."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pixeletica.config import Settings
from pixeletica.tasks.store import Store

from ..servers import free_port
from ..tasks.conftest import fast_settings, settings_env

TOKEN = "test-admin-token"


@dataclass
class Server:
    url: str
    settings: Settings
    store: Store
    client: httpx.Client
    admin: dict[str, str]
    log: Path
    pid: int


@contextlib.contextmanager
def running_server(settings: Settings, workers: int = 1, *extra: str) -> Iterator[Server]:
    """`pixeletica serve` in a child process on a free port; stopped with SIGTERM (must exit 0)."""
    port = free_port()
    log_path = settings.data_dir.parent / f"serve-{port}.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pixeletica", "serve", "--port", str(port), "--workers", str(workers), *extra],
            env=settings_env(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=url, timeout=30)
    deadline = time.monotonic() + 60
    while True:
        try:
            if client.get("/").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(log_path.read_text())
        time.sleep(0.1)
    store = Store(settings.store_url)
    try:
        yield Server(
            url=url,
            settings=settings,
            store=store,
            client=client,
            admin={"Authorization": f"Bearer {TOKEN}"},
            log=log_path,
            pid=proc.pid,
        )
    finally:
        client.close()
        store.dispose()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    assert code == 0, log_path.read_text()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    settings = fast_settings(tmp_path_factory.mktemp("serve") / "data", admin_token=TOKEN)
    settings.data_dir.mkdir(parents=True)
    with running_server(settings) as running:
        yield running
