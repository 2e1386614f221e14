"""Redis and PostgreSQL as local processes on loopback ports, for machines without Docker.

PostgreSQL is a throwaway cluster made with ``initdb`` and run with ``pg_ctl``; as root it runs
as the ``postgres`` user, since PostgreSQL refuses to run as root. Redis is ``redis-server`` with
its append-only file on, as in the Compose file.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from pixeletica.errors import InvalidInput


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin(name: str) -> str:
    """The path of a PostgreSQL program (``initdb``, ``pg_ctl``), on PATH or in Debian's folders."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    raise InvalidInput(f"PostgreSQL's {name} is not installed (on Debian: apt-get install postgresql)")


def as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Postgres:
    """A PostgreSQL cluster in ``folder/data`` listening on ``127.0.0.1:port`` (user ``pixeletica``, no password)."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.data = folder / "data"
        self.log = folder / "postgres.log"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://pixeletica@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        """Create the cluster's files (once; a folder that has them is reused)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            reach = subprocess.run(as_postgres(["test", "-w", str(self.folder)]), check=False)
            if reach.returncode != 0:
                raise InvalidInput(
                    f"PostgreSQL runs as the postgres user, who cannot reach {self.folder}; "
                    "choose a folder under /tmp or /srv"
                )
        if (self.data / "PG_VERSION").exists():
            return
        subprocess.run(
            as_postgres([pg_bin("initdb"), "-D", str(self.data), "-U", "pixeletica", "--auth=trust", "-E", "UTF8"]),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip

    def start(self, *, durable: bool = True) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}"
        if not durable:  # tests: a crash loses the database anyway
            options += " -c fsync=off"
        done = subprocess.run(
            as_postgres([pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"]),
            check=False, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if done.returncode != 0:
            tail = self.log.read_text()[-800:] if self.log.exists() else done.stderr
            raise InvalidInput(f"PostgreSQL did not start on port {self.port}: {tail.strip()}")

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            as_postgres([pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]),
            check=False, capture_output=True, timeout=120,
        )  # fmt: skip

    def create_database(self, name: str) -> str:
        """Create database ``name`` unless it exists; returns its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=pixeletica dbname=postgres", autocommit=True) as c:
            if c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


class Redis:
    """``redis-server`` on ``127.0.0.1:port`` keeping its files in ``folder``."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, persistence: bool = True) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            raise InvalidInput("redis-server is not installed (on Debian: apt-get install redis-server)")
        self.folder.mkdir(parents=True, exist_ok=True)
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder), "--save", ""]
        args += ["--appendonly", "yes" if persistence else "no", "--logfile", str(self.folder / "redis.log")]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.ping():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise InvalidInput(f"redis-server did not start on port {self.port} (see {self.folder / 'redis.log'})")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None
