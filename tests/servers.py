"""Real servers for the tests, started on free loopback ports and stopped afterwards.

PostgreSQL: a throwaway cluster made with ``initdb`` and run with ``pg_ctl`` (as the ``postgres``
user when the tests run as root, since PostgreSQL refuses to run as root). Redis: ``redis-server``.
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str):
    """Poll ``predicate`` until it returns something true (returned), or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    raise AssertionError(f"PostgreSQL's {name} is not installed (scripts/test.sh installs it)")


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Postgres:
    """A running throwaway PostgreSQL cluster; ``database()`` makes a fresh, empty database."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.data = folder / "data"

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://pixeletica@127.0.0.1:{self.port}/postgres"

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://pixeletica@127.0.0.1:{self.port}/{name}"

    def database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=pixeletica dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def start(self) -> None:
        log = self.folder / "postgres.log"
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off"
        subprocess.run(
            _as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(log), "-o", options, "-w", "start"]),
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            _as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]),
            check=False, capture_output=True, timeout=60,
        )  # fmt: skip


@contextmanager
def postgres() -> Iterator[Postgres]:
    folder = Path(tempfile.mkdtemp(prefix="pixeletica-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = Postgres(folder, free_port())
    subprocess.run(
        _as_postgres([_pg_bin("initdb"), "-D", str(server.data), "-U", "pixeletica", "--auth=trust", "-E", "UTF8"]),
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    server.start()
    try:
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


class Redis:
    """A running ``redis-server`` on a loopback port (append-only file on, as in production)."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, persistence: bool = True) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (scripts/test.sh installs it)"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder), "--save", ""]
        args += ["--appendonly", "yes" if persistence else "no"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None


@contextmanager
def redis() -> Iterator[Redis]:
    folder = Path(tempfile.mkdtemp(prefix="pixeletica-redis-"))
    server = Redis(folder, free_port())
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
