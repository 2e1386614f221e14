"""`serve`'s worker processes never outlive it, and a worker supervisor that dies is started again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..servers import free_port, wait_for
from ..tasks.conftest import fast_settings, settings_env

pytestmark = pytest.mark.slow


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":  # a zombie has gone already
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _describe(pids: set[int]) -> str:
    lines = []
    for pid in sorted(pids):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[:2]
        except OSError:
            continue
        lines.append(f"{pid} state={state[0]} parent={state[1]}: {command[:200]}")
    return "; ".join(lines)


def _serve(tmp_path: Path, workers: int) -> subprocess.Popen:
    settings = fast_settings(tmp_path / "data")
    log = (tmp_path / "serve.log").open("w")
    command = [sys.executable, "-m", "pixeletica", "serve", "--port", str(free_port()), "--workers", str(workers)]
    return subprocess.Popen(command, env=settings_env(settings), stdout=log, stderr=subprocess.STDOUT)


def test_workers_die_with_a_killed_serve(tmp_path):
    serve = _serve(tmp_path, 2)
    family: set[int] = set()
    try:
        wait_for(lambda: len(_descendants(serve.pid)) >= 4, 60, "the supervisor, its 2 workers and resource tracker")
        family = _descendants(serve.pid)
    finally:
        serve.send_signal(signal.SIGKILL)
        serve.wait()
    try:
        wait_for(lambda: not _alive(family), 30, "every worker process to stop")
    except AssertionError:
        log = (tmp_path / "serve.log").read_text()
        raise AssertionError(f"still running: {_describe(_alive(family))}\n{log}") from None
    finally:
        for pid in _alive(family):  # never leave one behind, even when the test fails
            os.kill(pid, signal.SIGKILL)


def test_a_killed_supervisor_is_started_again_and_serve_stops_cleanly(tmp_path):
    serve = _serve(tmp_path, 1)
    try:
        first = wait_for(lambda: _direct_children(serve.pid), 60, "the supervisor")
        supervisor = min(first)
        os.kill(supervisor, signal.SIGKILL)
        wait_for(lambda: (_direct_children(serve.pid) - {supervisor}) or None, 30, "a new supervisor")
        time.sleep(0.5)
    finally:
        family = _descendants(serve.pid)
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(60) == 0, (tmp_path / "serve.log").read_text()
    wait_for(lambda: not _alive(family), 30, "every process of serve to stop")
    assert "starting a new one" in (tmp_path / "serve.log").read_text()


def _direct_children(pid: int) -> set[int]:
    """Children of ``pid`` that are worker supervisors (multiprocessing's resource tracker left out)."""
    found = set()
    for child in _descendants(pid):
        try:
            status = Path(f"/proc/{child}/stat").read_text()
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        parent = int(status.rsplit(")", 1)[1].split()[1])
        if parent == pid and b"spawn_main" in command and status.rsplit(")", 1)[1].split()[0] != "Z":
            found.add(child)
    return found
