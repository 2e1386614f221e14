"""The Docker files, checked without a Docker engine: structure, settings, and commands that really parse."""

from __future__ import annotations

import dataclasses
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pixeletica.config import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _env_names() -> set[str]:
    """The environment variable of every setting (the seed's own names where it has them)."""
    names = set()
    for name in (field.name for field in dataclasses.fields(Settings)):
        choices = Settings.variables(name)
        names.add(next((c for c in choices if not c.startswith("PIXELETICA_")), choices[0]))
    return names


def test_services_volumes_and_healthchecks():
    services = COMPOSE["services"]
    assert set(services) == {"api", "worker", "monitor", "redis", "postgres"}
    for name, service in services.items():
        assert "healthcheck" in service and service["healthcheck"]["test"], name
    for name in ("api", "worker", "monitor"):
        assert "data:/data" in services[name]["volumes"], name  # one shared volume of task files
        assert {"postgres", "redis"} <= set(services[name]["depends_on"])
    assert set(COMPOSE["volumes"]) == {"data", "redis", "postgres"}
    worker = services["worker"]
    assert "container_name" not in worker and "ports" not in worker  # `--scale worker=3` works
    assert "--appendonly" in services["redis"]["command"] and "yes" in services["redis"]["command"]
    assert services["postgres"]["image"].startswith("postgres:15")


def test_every_setting_is_an_environment_variable_of_the_pixeletica_services():
    wanted = _env_names() | {"PIXELETICA_BROKER_URL", "PIXELETICA_DATABASE_URL"}
    assert {"TASK_MONITOR_INTERVAL", "TASK_MAX_PROCESSING_TIME"} <= wanted
    for name in ("api", "worker", "monitor"):
        env = COMPOSE["services"][name]["environment"]
        missing = wanted - set(env) - {"REDIS_URL"}  # the broker is given as PIXELETICA_BROKER_URL
        assert not missing, (name, missing)
    defaults = COMPOSE["services"]["api"]["environment"]
    assert defaults["TASK_MONITOR_INTERVAL"] == "${TASK_MONITOR_INTERVAL:-900}"
    assert defaults["TASK_MAX_PROCESSING_TIME"] == "${TASK_MAX_PROCESSING_TIME:-3600}"


def test_every_setting_is_in_the_readmes_configuration_table():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration") : readme.index("## Scale-out")]
    missing = {name for name in _env_names() if f"`{name}`" not in table}
    assert not missing, missing


def _expand(text: str) -> str:
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", text)


@pytest.mark.slow
def test_service_commands_are_real_pixeletica_commands():
    for name in ("api", "worker", "monitor"):
        command = [_expand(part) for part in COMPOSE["services"][name]["command"]]
        assert command[0] == "pixeletica"
        shown = subprocess.run(
            [sys.executable, "-m", "pixeletica", *command[1:2], "--help"], capture_output=True, text=True, check=False
        )
        assert shown.returncode == 0, shown.stderr
        for option in (part for part in command if part.startswith("--")):
            assert option in shown.stdout, (name, option)


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck():
    stages = re.findall(r"^FROM\s+(\S+)", DOCKERFILE, re.MULTILINE)
    assert len(stages) >= 2 and all(s.startswith("${BASE}") for s in stages)
    assert re.search(r"^ARG BASE=python:3\.11-slim$", DOCKERFILE, re.MULTILINE)
    user = re.findall(r"^USER\s+(\S+)", DOCKERFILE, re.MULTILINE)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*CMD", DOCKERFILE, re.MULTILINE | re.DOTALL)
    assert "COPY --from=build" in DOCKERFILE
    for copied in re.findall(r"^COPY\s+(?!--)(.+)\s+\S+$", DOCKERFILE, re.MULTILINE):
        for path in shlex.split(copied):
            assert (ROOT / path).exists(), path
    cmd = re.search(r"^CMD \[(.*)\]", DOCKERFILE, re.MULTILINE).group(1)
    assert '"pixeletica", "serve"' in cmd


def test_the_compose_files_kernel_preloading_is_the_images():
    image = re.search(r"PIXELETICA_PRELOAD_KERNELS=(\w+)", DOCKERFILE)
    compose = COMPOSE["x-settings"]["PIXELETICA_PRELOAD_KERNELS"]
    assert image and compose == f"${{PIXELETICA_PRELOAD_KERNELS:-{image.group(1)}}}"
