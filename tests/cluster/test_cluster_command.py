"""``pixeletica cluster up|down``: refusals that must come before anything starts.

(Starting and stopping a whole cluster is run by test_operations.py.)
"""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from ..servers import free_port

pytestmark = pytest.mark.slow


def pixeletica(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pixeletica", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def one_error_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and not any("Traceback" in line for line in lines), done.stderr
    return lines[-1]


def test_a_busy_port_is_refused_before_anything_starts(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = pixeletica("cluster", "up", "--dir", str(tmp_path / "c"), "--port", str(port))
    assert f"port {port} is in use" in one_error_line(done)
    assert not (tmp_path / "c" / "postgres").exists()


def test_an_unreachable_broker_or_database_is_named(tmp_path):
    dead = free_port()
    done = pixeletica("cluster", "up", "--dir", str(tmp_path / "a"), "--port", str(free_port()),
                      "--redis-url", f"redis://127.0.0.1:{dead}/0")  # fmt: skip
    assert f"the broker at redis://127.0.0.1:{dead}/0 does not answer" in one_error_line(done)
    done = pixeletica("cluster", "up", "--dir", str(tmp_path / "b"), "--port", str(free_port()),
                      "--database-url", f"postgresql+psycopg://u:secret@127.0.0.1:{dead}/x")  # fmt: skip
    line = one_error_line(done)
    assert f"the database at postgresql+psycopg://u:***@127.0.0.1:{dead}/x does not answer" in line
    assert "secret" not in done.stderr


def test_down_without_a_running_cluster_says_so(tmp_path):
    done = pixeletica("cluster", "down", "--dir", str(tmp_path))
    assert one_error_line(done) == f"error: no cluster is running from {tmp_path}"
