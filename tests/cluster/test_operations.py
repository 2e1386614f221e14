"""docs/operations.md, run: every command of its ``bash`` blocks, in order, against a real cluster.

``pixeletica cluster up`` starts redis-server, a throwaway PostgreSQL cluster, the API, two Celery
workers and the monitor; the guide's port and folder are replaced by free ones and ``<task_id>``
by a task submitted over HTTP. Every command must exit 0; some outputs are checked too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest
import yaml

from ..servers import free_port, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "operations.md"
PHOTO = (ROOT / "samples" / "coffee.jpg").read_bytes()


def guide_commands(text: str) -> list[str]:
    """The commands of the guide's ``bash`` blocks, one per line, in order."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        commands += [line.strip() for line in block.splitlines() if line.strip() and not line.startswith("#")]
    return commands


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXELETICA_", "TASK_", "REDIS_URL"))}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
    return env


def _celery_nodes(env: dict[str, str], folder: Path) -> str:
    shown = subprocess.run(
        ["bash", "-c", f". {folder}/cluster.env && celery -A pixeletica.api.services.task_queue.celery_app status"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return shown.stdout


def _status(port: int, task_id: str) -> str:
    return httpx.get(f"http://127.0.0.1:{port}/api/conversion/{task_id}").json()["status"]


def _cluster_up(line: str, env: dict[str, str], folder: Path) -> subprocess.Popen:
    log = folder.parent / f"{folder.name}-up.log"
    with log.open("w") as out:
        cluster = subprocess.Popen(line.rstrip("& ").split(), env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    wait_for(lambda: "Pixeletica cluster up" in log.read_text() or cluster.poll() is not None, 180, "cluster up")
    assert cluster.poll() is None, log.read_text()
    return cluster


def _completed_task(port: int) -> str:
    answer = httpx.post(
        f"http://127.0.0.1:{port}/api/conversion/start",
        files={"image_file": ("coffee.jpg", PHOTO, "image/jpeg")},
        data={"metadata": json.dumps({"width": 24})},
    )
    assert answer.status_code == 202, answer.text
    task_id = answer.json()["taskId"]
    wait_for(lambda: _status(port, task_id) == "completed", 120, "the task to complete on the cluster")
    return task_id


def _in_background(line: str, env: dict[str, str], folder: Path, n: int) -> subprocess.Popen:
    log = folder / f"background-{n}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", "-c", f". {folder}/cluster.env && exec {line.rstrip('& ')}"], env=env, cwd=ROOT,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    wait_for(lambda: "ready." in log.read_text() or proc.poll() is not None, 60, line)
    assert proc.poll() is None, log.read_text()
    return proc


def test_every_command_of_the_operations_guide_works():
    folder = Path(tempfile.mkdtemp(prefix="pixeletica-ops-"))
    folder.chmod(0o755)  # PostgreSQL runs as its own user and must reach its folder inside
    port = free_port()
    env = _environment()
    task_id = ""
    outputs: dict[str, str] = {}
    background: list[subprocess.Popen] = []
    cluster = None

    def concrete(command: str) -> str:
        command = command.replace("/tmp/pixeletica-cluster", str(folder)).replace("<task_id>", task_id)
        return command.replace("127.0.0.1:8000", f"127.0.0.1:{port}").replace("--port 8000", f"--port {port}")

    try:
        for command in guide_commands(GUIDE.read_text()):
            line = concrete(command)
            if line.startswith("pixeletica cluster up"):
                cluster = _cluster_up(line, env, folder)
                task_id = _completed_task(port)
                continue
            if line.endswith("&"):
                background.append(_in_background(line, env, folder, len(background)))
                continue
            # As typed in a shell that sourced cluster.env (a script file, so that `pkill -f` patterns
            # do not match the shell running them).
            script = folder.parent / f"{folder.name}-command.sh"
            env_file = folder / "cluster.env"
            script.write_text((f". {env_file}\n" if env_file.exists() else "") + line + "\n")
            done = subprocess.run(
                ["bash", "-e", str(script)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
                check=False,
            )  # fmt: skip
            assert done.returncode == 0, f"{command!r} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            outputs[command] = done.stdout
            _after(command, line, done.stdout, env, folder, port, task_id, background)
        seen = set(outputs)
        assert {c for c in guide_commands(GUIDE.read_text()) if "&" not in c} <= seen
        assert cluster is not None and cluster.wait(timeout=120) == 0
        assert not (folder / "cluster.pid").exists()
        leftovers = subprocess.run(["pgrep", "-f", str(folder)], capture_output=True, text=True, check=False)
        assert leftovers.stdout.strip() == "", "processes of the cluster still running"
    finally:
        (folder.parent / f"{folder.name}-command.sh").unlink(missing_ok=True)
        for proc in background:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        if cluster is not None and cluster.poll() is None:
            cluster.send_signal(signal.SIGTERM)
            cluster.wait(timeout=120)
        (folder.parent / f"{folder.name}-up.log").unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)


def _after(command, line, out, env, folder, port, task_id, background) -> None:
    """What the guide says a command shows, checked."""
    if command.startswith("curl -s http://127.0.0.1:8000/api/health"):
        health = json.loads(out)
        assert health["status"] == "ok" and health["workers"]["alive"] >= 2, health
    elif command.endswith("inspect active"):
        assert "worker1@" in out and "worker2@" in out and "OK" in out, out
    elif command.startswith("pixeletica task info") or command.startswith("python src/pixeletica/cli_task.py info"):
        assert task_id in out, out
    elif command.startswith("grep -h <task_id>"):
        assert "status=completed" in out, out
    elif command.startswith("redis-cli") and command.endswith("ping"):
        assert out.strip() == "PONG"
    elif "GROUP BY status" in command:
        assert "completed" in out, out
    elif command.startswith("pixeletica task update"):
        assert _status(port, task_id) == "failed"
    elif command.startswith("pixeletica task retry"):
        wait_for(lambda: _status(port, task_id) == "completed", 120, "the retried task to complete")
    elif command.startswith("pkill -TERM -f") and "worker1@" in command:
        wait_for(lambda: "worker1@" in _celery_nodes(env, folder), 120, "worker1 to be started again")
    elif command.startswith("pkill -TERM -f") and "extra@" in command:
        assert background[-1].wait(timeout=60) == 0
    elif command.endswith("status") and background and background[-1].poll() is None:
        assert "extra@" in out and "3 nodes online" in out, out
    elif command.startswith("curl -s http://127.0.0.1:8000/metrics"):
        assert "pixeletica_workers_alive" in out and "pixeletica_queue_depth" in out, out
    elif command.startswith("pixeletica task stats") and "--json" in command:
        assert json.loads(out)
    elif command.startswith("pixeletica cluster down"):
        assert "cluster stopped" in out


def test_the_compose_equivalents_name_real_services_and_commands_the_guide_runs():
    text = GUIDE.read_text()
    services = set(yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"])
    run = guide_commands(text)
    compose = re.findall(r"`(docker compose [^`]+)`", text)
    assert len(compose) >= 8
    for command in compose:
        words = command.split()
        verb = words[2]
        if verb in ("exec", "logs", "restart"):
            assert words[3] in services, command
        elif verb == "up":
            assert "--scale" in words and words[words.index("--scale") + 1].split("=")[0] in services, command
        else:
            assert verb == "down", command
        if verb == "exec" and words[4] in ("pixeletica", "celery"):
            inner = " ".join(words[4:7])  # e.g. "pixeletica task info", "celery -A pixeletica..."
            assert any(c.startswith(inner) or inner.replace("task ", "task ") in c for c in run) or (
                inner == "pixeletica task reset-stuck"
                and any(c.startswith("python src/pixeletica/cli_task.py reset-stuck") for c in run)
            ), command
