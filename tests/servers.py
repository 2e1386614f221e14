"""Real servers for the tests, started on free loopback ports and stopped afterwards.

PostgreSQL and Redis are Pixeletica's own process helpers (:mod:`pixeletica.cluster.servers`, as
``pixeletica cluster up`` runs them); RabbitMQ is a throwaway node.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pixeletica.cluster import servers
from pixeletica.cluster.servers import free_port


def wait_for(predicate, timeout: float, what: str):
    """Poll ``predicate`` until it returns something true (returned), or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Postgres(servers.Postgres):
    """A running throwaway PostgreSQL cluster; ``database()`` makes a fresh, empty database."""

    def database(self) -> str:
        return self.create_database(f"t_{uuid.uuid4().hex[:12]}")

    def start(self, *, durable: bool = False) -> None:
        super().start(durable=durable)


@contextmanager
def postgres() -> Iterator[Postgres]:
    folder = Path(tempfile.mkdtemp(prefix="pixeletica-pg-"))
    server = Postgres(folder, free_port())
    server.init()
    server.start()
    try:
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def redis() -> Iterator[servers.Redis]:
    folder = Path(tempfile.mkdtemp(prefix="pixeletica-redis-"))
    server = servers.Redis(folder, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def rabbitmq() -> Iterator[str]:
    """A throwaway RabbitMQ node on a free loopback port; yields its AMQP URL."""
    binary = shutil.which("rabbitmq-server") or "/usr/sbin/rabbitmq-server"
    assert Path(binary).exists(), "rabbitmq-server is not installed (scripts/test.sh installs it)"
    folder = Path(tempfile.mkdtemp(prefix="pixeletica-rabbitmq-"))
    port, dist = free_port(), free_port()
    node = f"pixeletica{port}@localhost"
    env = {
        **os.environ, "HOME": str(folder), "RABBITMQ_NODE_PORT": str(port), "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODENAME": node, "RABBITMQ_DIST_PORT": str(dist), "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
        "RABBITMQ_LOG_BASE": str(folder / "log"), "RABBITMQ_PID_FILE": str(folder / "pid"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "plugins"), "RABBITMQ_CONFIG_FILE": str(folder / "none"),
    }  # fmt: skip
    if os.geteuid() == 0:
        shutil.chown(folder, "rabbitmq", "rabbitmq")
    log = (folder.parent / f"{folder.name}.log").open("w")
    command = ["runuser", "-u", "rabbitmq", "--", binary] if os.geteuid() == 0 else [binary]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError("rabbitmq-server did not start") from None
                time.sleep(0.2)
        yield f"amqp://guest:guest@127.0.0.1:{port}//"
    finally:
        control = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
        stop = [control, "--node", node, "stop"]
        subprocess.run(
            ["runuser", "-u", "rabbitmq", "--", *stop] if os.geteuid() == 0 else stop,
            env=env, capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
