"""The Docker Compose topology as plain processes on one machine: Redis, PostgreSQL, API, workers, monitor.

``Cluster.up()`` starts, in order: ``redis-server`` and a PostgreSQL cluster (unless their URLs
are given), the database's migrations, ``pixeletica serve --workers 0 --no-monitor`` (API and
dispatcher), ``pixeletica monitor`` and N ``pixeletica worker --celery`` — each in its own process
group, logging to ``<folder>/logs``. ``supervise()`` starts again any of them that exits (like
Compose's ``restart: unless-stopped``); ``down()`` stops them all, workers first.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pixeletica import config, fsutil
from pixeletica.cluster import servers
from pixeletica.errors import InvalidInput

#: Settings the cluster decides; everything else passes through from the environment.
_OWNED = ("PIXELETICA_DATABASE_URL", "PIXELETICA_BROKER_URL", "REDIS_URL", "PIXELETICA_DATA_DIR")


@dataclass
class Service:
    """One long-running ``pixeletica`` process of the cluster (and its children: one process group)."""

    name: str
    argv: list[str]
    env: Mapping[str, str]
    log: Path
    process: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> None:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                self.argv, env=dict(self.env), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.starts += 1

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group at once, as a container being killed."""
        if self.process is not None and self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def terminate(self) -> None:
        """Ask it to stop (SIGTERM), if it runs."""
        if self.process is not None and self.alive():
            self.process.send_signal(signal.SIGTERM)

    def stop(self, grace: float) -> None:
        if self.process is None or not self.alive():
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()
        with contextlib.suppress(ProcessLookupError):  # pool children the main process left behind
            os.killpg(self.process.pid, signal.SIGKILL)


@dataclass
class Cluster:
    """Pixeletica's scale-out topology on loopback ports, its state in ``folder``."""

    folder: Path
    workers: int = config.DEFAULT_CLUSTER_WORKERS
    concurrency: int = 1  # pool processes per worker
    port: int = config.DEFAULT_PORT
    redis_url: str | None = None
    database_url: str | None = None
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    durable: bool = True
    redis: servers.Redis | None = None
    postgres: servers.Postgres | None = None
    services: list[Service] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def worker_services(self) -> list[Service]:
        return [s for s in self.services if s.name.startswith("worker")]

    def settings_env(self) -> dict[str, str]:
        """The environment every process of the cluster gets (and ``cluster.env`` exports)."""
        return {
            "PIXELETICA_DATABASE_URL": self.database_url or "",
            "PIXELETICA_BROKER_URL": self.redis_url or "",
            "PIXELETICA_DATA_DIR": str(self.data_dir),
        }

    def up(self, *, timeout: float = 120) -> None:
        """Start everything and wait until the API reports the workers and the monitor alive."""
        if not _port_free(self.port):
            raise InvalidInput(f"port {self.port} is in use; choose another with --port")
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "logs").mkdir(exist_ok=True)
        try:
            self._start_servers()
            assert self.database_url is not None  # given, or made by _start_servers
            _migrate(self.database_url)
            self._start_services()
            self._wait_healthy(timeout)
        except BaseException:
            self.down()
            raise
        env_file = self.folder / "cluster.env"
        lines = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in self.settings_env().items())
        fsutil.atomic_write(env_file, lines.encode())  # a shell sourcing it meanwhile reads all of it or none

    def _start_servers(self) -> None:
        if self.redis_url:
            _check_broker(self.redis_url)
        else:
            self.redis = servers.Redis(self.folder / "redis", servers.free_port())
            self.redis.start()
            self.redis_url = self.redis.url
        if not self.database_url:
            self.postgres = servers.Postgres(self.folder / "postgres", servers.free_port())
            self.postgres.init()
            self.postgres.start(durable=self.durable)
            self.database_url = self.postgres.create_database("pixeletica")

    def _start_services(self) -> None:
        env = {k: v for k, v in self.env.items() if k not in _OWNED}
        env.update(self.settings_env(), PYTHONUNBUFFERED="1")
        command = [sys.executable, "-m", "pixeletica"]
        logs = self.folder / "logs"
        self.services = [
            Service("api", [*command, "serve", "--port", str(self.port), "--workers", "0", "--no-monitor"], env,
                    logs / "api.log"),
            Service("monitor", [*command, "monitor"], env, logs / "monitor.log"),
        ]  # fmt: skip
        for i in range(1, self.workers + 1):
            argv = [*command, "worker", "--celery", "--concurrency", str(self.concurrency), "--name", f"worker{i}@%h"]
            self.services.append(Service(f"worker{i}", argv, env, logs / f"worker{i}.log"))
        for service in self.services:
            service.start()

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            for service in self.services:
                if not service.alive():
                    lines = service.log.read_text().strip().splitlines() if service.log.exists() else []
                    last_line = lines[-1] if lines else "no output"
                    raise InvalidInput(f"{service.name} exited while starting ({last_line}); see {service.log}")
            health = self.health()
            if health is not None:
                last = json.dumps(health)
                if health.get("status") == "ok" and health["workers"]["alive"] >= self.workers * self.concurrency:
                    return
            time.sleep(0.3)
        raise InvalidInput(f"the cluster did not become healthy within {timeout:g} s; last health: {last}")

    def health(self) -> dict | None:
        """``GET /api/health`` of the API, or None when it does not answer."""
        try:
            with urllib.request.urlopen(f"{self.api_url}/api/health", timeout=5) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as exc:
            return json.load(exc)
        except (OSError, ValueError):
            return None

    def supervise(self, stop: threading.Event, every: float = 0.5) -> None:
        """Start again every service that exited, until ``stop`` is set."""
        while not stop.wait(every):
            with self._lock:
                for service in self.services:
                    if not service.alive() and not stop.is_set():
                        service.start()

    def kill_worker(self, index: int) -> int | None:
        """SIGKILL worker ``index`` (0-based) with its pool; returns the main process id, or None if it was down."""
        with self._lock:
            service = self.worker_services[index]
            pid = service.pid if service.alive() else None
            service.kill()
            return pid

    def down(self, grace: float = 40) -> None:
        """Stop workers, monitor and API (SIGTERM, then SIGKILL after ``grace``), then Redis and PostgreSQL."""
        with self._lock:
            ordered = self.worker_services + [s for s in self.services if not s.name.startswith("worker")]
            for service in ordered:
                service.terminate()
            for service in ordered:
                service.stop(grace)
            self.services = []
        if self.redis is not None:
            self.redis.stop()
        if self.postgres is not None:
            self.postgres.stop()


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _check_broker(url: str) -> None:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:
        raise InvalidInput(f"the broker at {config.safe_url(url)} does not answer ({exc}); is it running?") from None


def _migrate(url: str) -> None:
    """Bring the store's schema up to date (which also proves the database answers)."""
    from pixeletica.tasks.store import Store

    try:
        store = Store(url)
        store.upgrade()
        store.dispose()
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput(f"the database at {config.safe_url(url)} does not answer ({reason})") from None
