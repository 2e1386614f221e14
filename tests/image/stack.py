"""Pixeletica's container image run as docker-compose.yml runs it, without a Docker engine.

The image is built from the repository's Dockerfile (``scripts/image.sh build``). Each of the
Compose file's Pixeletica services (api, worker, monitor) becomes a buildah container of that image
running the service's command with its environment, as ``podman-compose config`` resolves them,
its ``/data`` one shared folder. They run in a network namespace of their own where, as on
Compose's network, ``postgres`` and ``redis`` name real servers on their usual ports: a throwaway
PostgreSQL cluster (user, password and database of the Compose file's ``postgres`` service) and
redis-server with its append-only file. Only those two images are not Docker Hub's.

Used by tests/image/ and bench/bench_image.py; needs root, podman and buildah.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import yaml
from psycopg import sql

from pixeletica.cluster import servers

from ..servers import wait_for

ROOT = Path(__file__).resolve().parents[2]


def _found(pattern: str, path: Path) -> str:
    found = re.search(pattern, path.read_text(), re.MULTILINE)
    if found is None:
        raise AssertionError(f"{path.name} no longer has {pattern!r}")
    return found.group(1)


#: The image's tag: scripts/image.sh's, unless PIXELETICA_IMAGE names another.
IMAGE = os.environ.get("PIXELETICA_IMAGE") or _found(r"PIXELETICA_IMAGE:-([^}]+)}", ROOT / "scripts" / "image.sh")
#: The uid the Dockerfile gives its user.
IMAGE_UID = int(_found(r"useradd .*--uid (\d+)", ROOT / "Dockerfile"))
#: The Dockerfile's base image, as podman names it.
BASE = _found(r"^ARG BASE=(\S+)", ROOT / "Dockerfile")
BASE = BASE if "/" in BASE else f"docker.io/library/{BASE}"
_CLONE_NEWNET = 0x40000000


def build(*options: str) -> float:
    """Build the image with scripts/image.sh (podman's layer cache makes a rebuild quick); seconds taken."""
    started = time.monotonic()
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "image.sh"), "build", *options],
        env={**os.environ, "PIXELETICA_IMAGE": IMAGE}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise AssertionError(f"the image did not build:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.monotonic() - started


def inspect() -> dict[str, Any]:
    """The image's configuration as Docker shows it (``podman image inspect --format docker``)."""
    shown = subprocess.run(["podman", "image", "inspect", IMAGE], capture_output=True, text=True, check=True).stdout
    return json.loads(shown)[0]


def compose_config(**variables: str) -> dict[str, Any]:
    """docker-compose.yml as ``podman-compose config`` resolves it, with these variables set."""
    shown = subprocess.run(
        [str(Path(sys.executable).with_name("podman-compose")), "-f", str(ROOT / "docker-compose.yml"), "config"],
        env={**os.environ, **variables}, capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    if shown.returncode != 0:
        raise AssertionError(f"podman-compose config refused docker-compose.yml: {shown.stderr}")
    config: dict[str, Any] = yaml.safe_load(shown.stdout)
    return config


def _setns(fd: int) -> None:
    if ctypes.CDLL(None, use_errno=True).setns(fd, _CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")


@contextlib.contextmanager
def own_network() -> Iterator[None]:
    """Run the calling thread, and every process it starts, in a new network namespace with loopback up:
    the Compose file's ports (8000, 5432, 6379) are free there whatever this machine runs."""
    name = f"pixeletica-image-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        target = os.open(f"/run/netns/{name}", os.O_RDONLY)
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(home)
        subprocess.run(["ip", "netns", "delete", name], check=False)


@dataclass
class Backing:
    """The servers the Compose file's pixeletica services need, on the names and ports it gives them."""

    folder: Path
    postgres: servers.Postgres
    redis: servers.Redis
    data: Path


@contextlib.contextmanager
def backing_services(config: dict[str, Any]) -> Iterator[Backing]:
    """PostgreSQL on 5432 and Redis on 6379 of this namespace's loopback (``postgres`` and ``redis`` in the
    containers' /etc/hosts), and the shared data folder, owned by the image's user."""
    folder = Path(tempfile.mkdtemp(prefix="pixeletica-image-"))
    folder.chmod(0o755)
    env = config["services"]["postgres"]["environment"]
    assert env["POSTGRES_USER"] == "pixeletica", "the throwaway cluster's user is pixeletica (servers.Postgres)"
    postgres = servers.Postgres(folder / "postgres", 5432)
    redis = servers.Redis(folder / "redis", 6379)
    try:
        postgres.init()
        postgres.start(durable=False)
        with contextlib.closing(_connect(postgres)) as connection:
            password = sql.Literal(env["POSTGRES_PASSWORD"])
            connection.execute(sql.SQL("ALTER ROLE pixeletica PASSWORD {}").format(password))
        postgres.create_database(env["POSTGRES_DB"])
        _ask_for_passwords(postgres)
        redis.start()
        data = folder / "data"
        data.mkdir()
        os.chown(data, IMAGE_UID, IMAGE_UID)
        yield Backing(folder, postgres, redis, data)
    finally:
        redis.stop()
        postgres.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


def _ask_for_passwords(postgres: servers.Postgres) -> None:
    """Connections over TCP must give the role's password (as the postgres image's), not be trusted."""
    rules = postgres.data / "pg_hba.conf"
    lines = [line.replace("trust", "scram-sha-256") if line.startswith("host") else line for line in
             rules.read_text().splitlines()]  # fmt: skip
    rules.write_text("\n".join(lines) + "\n")
    subprocess.run(
        servers.as_postgres([servers.pg_bin("pg_ctl"), "-D", str(postgres.data), "reload"]),
        check=True, capture_output=True,
    )  # fmt: skip

    def refused() -> bool:
        try:
            psycopg.connect(f"host=127.0.0.1 port={postgres.port} user=pixeletica password=wrong dbname=postgres")
        except psycopg.OperationalError as refusal:
            return "password authentication failed" in str(refusal)
        return False

    wait_for(refused, 10, "PostgreSQL asking for the password")  # it reads the file again a moment after


def _connect(postgres: servers.Postgres) -> Any:

    return psycopg.connect(f"host=127.0.0.1 port={postgres.port} user=pixeletica dbname=postgres", autocommit=True)


class Container:
    """A buildah container of the image, running one Compose service's command (and restarted as its
    ``restart: unless-stopped`` would)."""

    def __init__(
        self, service: str, spec: dict[str, Any], backing: Backing, log_folder: Path, user: str | None = None
    ) -> None:
        """``spec``: the service's ``command`` and ``environment`` (and the rest, unread) as Compose gives them;
        ``user``: ``uid:gid`` to run as instead of the image's user (``docker run --user``)."""
        self.service, self.user = service, user
        self.spec = spec
        self.backing = backing
        self.log = log_folder / f"{service}.log"
        self.id = subprocess.run(
            [
                "buildah", "from", "--pull-never", "--name", f"pixeletica-{service}-{uuid.uuid4().hex[:8]}",
                *(f"--add-host={name}:127.0.0.1" for name in ("postgres", "redis", "api")), IMAGE,
            ],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        # buildah run mounts an image's VOLUME over a -v of the same path; Docker and Compose mount the named
        # volume there. Dropping the declaration from this container's configuration lets -v mount it.
        subprocess.run(["buildah", "config", "--volume", "/data-", self.id], capture_output=True, check=True)
        self.process: subprocess.Popen[bytes] | None = None

    def _run_command(self, command: list[str]) -> list[str]:
        env = [f"{key}={value}" for key, value in self.spec.get("environment", {}).items()]
        return [
            # Docker's HOSTNAME is the container's host name; chroot isolation keeps this machine's
            "buildah", "run", "--isolation=chroot", "--network", "host", "--hostname", socket.gethostname(),
            *(["--user", self.user] if self.user else []), "-v", f"{self.backing.data}:/data",
            *(part for pair in env for part in ("-e", pair)), self.id, "--", *command,
        ]  # fmt: skip

    def start(self) -> None:
        """Run the service's command, as Compose does when the container starts."""
        assert self.process is None or self.process.poll() is not None
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self._run_command(self.spec["command"]), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def exec(self, command: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a command in the container beside its service (``docker exec``)."""
        return subprocess.run(self._run_command(command), capture_output=True, text=True, timeout=timeout, check=False)

    def healthcheck(self, test: list[str]) -> subprocess.CompletedProcess[str]:
        """Run a healthcheck in Compose's or Docker's form: ["CMD", ...] or ["CMD-SHELL", "..."]."""
        kind, *rest = test
        command = rest if kind == "CMD" else ["/bin/sh", "-c", rest[0]]
        return self.exec(command)

    def kill(self) -> None:
        """Kill every process of the service at once (SIGKILL), as an out-of-memory kill or a power cut would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def main_process(self) -> tuple[int, int]:
        """(pid, uid) of the service's own process, the container's PID 1 under Docker: the command that
        buildah's chroot runtime started (buildah run -> buildah-chroot-runtime -> -exec -> the command)."""
        assert self.process is not None
        shown = subprocess.run(
            ["ps", "-o", "pid=,ppid=,uid=,args=", "-g", str(self.process.pid)], capture_output=True, text=True
        ).stdout
        rows = [line.split(None, 3) for line in shown.splitlines()]
        runtime = {row[0] for row in rows if "buildah-chroot-exec" in row[3]}
        found = [row for row in rows if row[1] in runtime]
        if not found:
            raise AssertionError(f"the {self.service} container runs no command under buildah's runtime:\n{shown}")
        pid, _, uid, _ = found[0]
        return int(pid), int(uid)

    def stop(self, timeout: float = 10) -> int | None:
        """``docker stop``: SIGTERM to the service's process, SIGKILL to all after the grace period; the service's
        exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            os.kill(self.main_process()[0], signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    def root(self) -> Path:
        """The container's root file system (the image's files and what the container wrote), mounted on the host."""
        mounted = subprocess.run(["buildah", "mount", self.id], capture_output=True, text=True, check=True)
        return Path(mounted.stdout.strip())

    def remove(self) -> None:
        self.kill()
        subprocess.run(["buildah", "rm", self.id], capture_output=True, check=False)


def wait_healthy(client: httpx.Client, timeout: float = 120) -> float:
    """Seconds until ``/api/health`` answers 200."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with contextlib.suppress(httpx.HTTPError):
            if client.get("/api/health", timeout=2).status_code == 200:
                return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"/api/health did not answer 200 within {timeout} s")
