"""The container image, built from the Dockerfile and run as docker-compose.yml runs it (tests/image/stack.py).

One stack for the module: the image's api, worker and monitor in containers, PostgreSQL and Redis
behind them. Conversions go in over HTTP; the worker is killed mid-task and the task recovers.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..servers import wait_for
from . import stack

pytestmark = [pytest.mark.image, pytest.mark.slow]

PHOTO = (stack.ROOT / "samples" / "coffee.jpg").read_bytes()
TOKEN = "image-test-admin-token"
#: The Compose file's services that run the image, in the order its depends_on starts them.
SERVICES = ("api", "worker", "monitor")
#: Variables given to the Compose file, as a user's .env would: a shorter lease, so that a killed worker's
#: task is recovered within seconds (the default, 15 s, works the same), and the admin API for checks.
VARIABLES = {"PIXELETICA_LEASE_SECONDS": "6", "PIXELETICA_ADMIN_TOKEN": TOKEN, "RATE_LIMIT": "100/minute"}
#: A conversion that runs for several seconds (the optimising search under CIEDE2000): killed mid-way.
SLOW = {"width": 300, "dithering_algorithm": "optimise", "metric": "ciede2000"}
#: A user the image does not know, without a home.
OTHER_UID = 12345
#: The reference client's metadata for every output.
EVERY_OUTPUT = {
    "width": 64,
    "line_visibilities": ["no_lines", "both"],
    "generate_web_files": True,
    "generate_schematic": True,
}


class Stack:
    def __init__(self, config: dict[str, Any], backing: stack.Backing, logs: Path) -> None:
        self.config, self.backing, self.logs_folder = config, backing, logs
        services = config["services"]
        self.containers = {name: stack.Container(name, services[name], backing, logs) for name in SERVICES}
        self.client = httpx.Client(base_url="http://127.0.0.1:8000", timeout=30)
        self.admin = {"Authorization": f"Bearer {TOKEN}"}

    def __getitem__(self, name: str) -> stack.Container:
        return self.containers[name]

    def logs(self) -> str:
        return "\n".join(f"--- {c.service}\n{c.log.read_text()[-3000:]}" for c in self.containers.values())

    def submit(self, metadata: dict[str, Any], data: bytes = PHOTO, name: str = "coffee.jpg") -> str:
        answer = self.client.post(
            "/api/conversion/start",
            files={"image_file": (name, data, "image/jpeg")},
            data={"metadata": json.dumps(metadata)},
        )
        assert answer.status_code == 202, answer.text
        return str(answer.json()["taskId"])

    def task(self, task_id: str) -> dict[str, Any]:
        answer = self.client.get(f"/api/tasks/{task_id}", headers=self.admin)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def finished(self, task_id: str, timeout: float = 180) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            task = self.task(task_id)
            return task if task["status"] in ("completed", "failed") else None

        try:
            return wait_for(done, timeout, f"task {task_id} to finish")
        except AssertionError:
            raise AssertionError(self.logs()) from None


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack.build()
    config = stack.compose_config(**VARIABLES)
    logs = tmp_path_factory.mktemp("image-logs")
    with stack.own_network(), stack.backing_services(config) as backing:
        running = Stack(config, backing, logs)
        try:
            for name in SERVICES:
                running[name].start()
            try:
                stack.wait_healthy(running.client)
            except AssertionError:
                raise AssertionError(running.logs()) from None
            wait_for(lambda: "ready." in running["worker"].log.read_text(), 120, "the Celery worker")
            assert "kernels loaded" in running["worker"].log.read_text()  # before the pool forked
            yield running
        finally:
            running.client.close()
            for container in running.containers.values():
                container.remove()


def test_the_image_is_labelled_runs_as_its_own_user_and_has_a_docker_healthcheck():
    stack.build()
    image = stack.inspect()
    config = image["Config"]
    labels = config["Labels"]
    version = tomllib.loads((stack.ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert labels["org.opencontainers.image.version"] == version
    assert labels["org.opencontainers.image.licenses"] == "MIT"
    assert labels["org.opencontainers.image.source"] and labels["org.opencontainers.image.revision"]
    assert config["User"] == "pixeletica"
    assert "docker" in image["ManifestType"]  # a Docker image: the OCI format has no HEALTHCHECK
    health = image["Healthcheck"]
    assert health["Test"][0] == "CMD" and "/api/health" in health["Test"][-1], health
    assert config["Cmd"][:2] == ["pixeletica", "serve"]


def test_the_compose_file_resolves_and_names_what_the_stack_runs():
    config = stack.compose_config(**VARIABLES)
    services = config["services"]
    for name in SERVICES:
        assert services[name]["image"] == "pixeletica:latest" and services[name]["command"][0] == "pixeletica"
        assert services[name]["environment"]["PIXELETICA_LEASE_SECONDS"] == "6"  # variables reach every service
    assert services["api"]["environment"]["PIXELETICA_DATABASE_URL"].endswith("@postgres:5432/pixeletica")


def test_services_are_healthy_by_their_own_healthchecks_and_not_root(running: Stack):
    checked = running["api"].healthcheck(stack.inspect()["Healthcheck"]["Test"])
    assert checked.returncode == 0, checked.stderr
    for name in SERVICES:
        checked = running[name].healthcheck(running.config["services"][name]["healthcheck"]["test"])
        assert checked.returncode == 0, (name, checked.stdout, checked.stderr)
        assert running[name].main_process()[1] == stack.IMAGE_UID  # the service runs as the image's user
    health = running.client.get("/api/health", headers=running.admin).json()
    assert any(worker.startswith("celery:") for worker in health["workers"]["names"]), health


def _compiled(folder: Path) -> dict[str, float]:
    """Every file of a kernel cache, by its name under the source digest's folder, with its time."""
    files = [path for path in folder.rglob("*") if path.is_file() and path.suffix in (".nbi", ".nbc")]
    return {"/".join(path.relative_to(folder).parts[1:]): path.stat().st_mtime for path in files}


def _image_kernels(container: stack.Container) -> dict[str, float]:
    """The kernels compiled when the image was built (XDG_CACHE_HOME, read-only)."""
    return _compiled(container.root() / "opt" / "pixeletica" / "cache" / "pixeletica" / "numba")


def _kernels_of(container: stack.Container, uid: int) -> dict[str, float]:
    """The kernel cache the container's processes of ``uid`` use: their copy of the image's (engine/_jit.py)."""
    return _compiled(container.root() / "tmp" / f"pixeletica-numba-{uid}")


def test_conversions_complete_without_compiling_and_their_files_are_served(running: Stack):
    image = _image_kernels(running["worker"])
    assert any(name.endswith(".nbc") for name in image), "the image carries no compiled kernels"
    before = _kernels_of(running["worker"], stack.IMAGE_UID)
    assert set(before) == set(image)  # loading every kernel at the worker's start compiled none
    first = running.finished(running.submit(EVERY_OUTPUT))
    assert first["status"] == "completed", (first["error"], first)
    assert _kernels_of(running["worker"], stack.IMAGE_UID) == before  # nothing was compiled on first use
    second = running.finished(running.submit(EVERY_OUTPUT))
    assert second["status"] == "completed", second
    categories = running.client.get(f"/api/conversion/{second['id']}/files").json()["categories"]
    assert {"schematic", "worldedit", "rendered"} <= set(categories), categories
    assert running.client.get(f"/api/map/{second['id']}/metadata.json").status_code == 200  # the web map
    archive = running.client.get(f"/api/conversion/{second['id']}/download")
    assert archive.status_code == 200 and archive.content[:2] == b"PK"  # written by the worker, served by the api


def test_a_task_whose_worker_is_killed_is_recovered(running: Stack):
    task_id = running.submit(SLOW)
    wait_for(lambda: running.task(task_id)["status"] == "processing", 120, "the worker to take the task")
    running["worker"].kill()
    running["worker"].start()  # restart: unless-stopped
    task = running.finished(task_id)
    assert task["status"] == "completed" and task["attempt"] == 2, task
    shown = running["monitor"].exec(["pixeletica", "task", "info", task_id])
    assert shown.returncode == 0 and "completed" in shown.stdout, shown.stdout + shown.stderr


def test_the_services_stop_cleanly(running: Stack):
    for name in ("worker", "monitor", "api"):
        grace = running.config["services"][name].get("stop_grace_period", "10s")  # Docker's default: 10 s
        container = running[name]
        status = container.stop(timeout=float(grace.removesuffix("s")))
        assert status == 0, (name, status, container.log.read_text()[-2000:])
        assert container.process is not None
        with pytest.raises(ProcessLookupError):  # nothing of the service is left running
            os.killpg(container.process.pid, 0)


def test_the_images_own_command_runs_everything_in_one_container_as_any_user(running: Stack):
    """`docker run --user 12345:0 -p 8000:8000 pixeletica`: the image's CMD alone (SQLite in /data, local
    workers, the monitor), run as a user the image does not know (as some platforms run every container)."""
    data = running.backing.data / "alone"
    data.mkdir()
    os.chown(data, OTHER_UID, 0)
    for name in SERVICES:  # port 8000 is the one container's alone
        running[name].stop()
    own = {"command": stack.inspect()["Config"]["Cmd"]}  # and only the image's environment
    backing = dataclasses.replace(running.backing, data=data)
    alone = stack.Container("alone", own, backing, running.logs_folder, user=f"{OTHER_UID}:0")
    try:
        alone.start()
        stack.wait_healthy(running.client)
        task_id = running.submit({"width": 48})
        wait_for(lambda: running.client.get(f"/api/conversion/{task_id}").json()["status"] == "completed", 120,
                 "the conversion in the one container")  # fmt: skip
        assert alone.stop() == 0, alone.log.read_text()[-2000:]
        assert _kernels_of(alone, OTHER_UID) == _image_kernels(alone)  # the image's kernels, none compiled
    finally:
        alone.remove()
    # It ran there: its store is SQLite in the container's /data, and its files are beside it.
    assert (data / "pixeletica.db").is_file()
    assert any((data / "tasks" / task_id).rglob("*.png"))
