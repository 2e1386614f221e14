"""A real `pixeletica serve` on a free loopback port, with one worker, for the API tests."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pixeletica.config import Settings
from pixeletica.tasks.store import Store

from ..tasks.conftest import fast_settings, settings_env

TOKEN = "test-admin-token"


@dataclass
class Server:
    url: str
    settings: Settings
    store: Store
    client: httpx.Client
    admin: dict[str, str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    settings = fast_settings(tmp_path_factory.mktemp("serve") / "data", admin_token=TOKEN)
    port = free_port()
    log = (settings.data_dir.parent / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pixeletica", "serve", "--port", str(port), "--workers", "1"],
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
            raise RuntimeError(Path(log.name).read_text())
        time.sleep(0.1)
    store = Store(settings.store_url)
    yield Server(url=url, settings=settings, store=store, client=client, admin={"Authorization": f"Bearer {TOKEN}"})
    client.close()
    store.dispose()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, Path(log.name).read_text()
