#!/usr/bin/env python3
"""The container image: build time, size and what takes it, start to healthy, first and second task.

    .venv/bin/python bench/bench_image.py [--starts 3] [--cached]

Needs root, podman and buildah (scripts/image.sh installs them). The image is built with
``scripts/image.sh build --no-cache`` (all layers but the base's; ``--cached``: podman's cache
allowed), then run as tests/image/stack.py runs it: the api, worker and monitor of
docker-compose.yml in containers, PostgreSQL and Redis behind them. ``--starts`` times: new
containers from the image, seconds from starting them to ``/api/health`` answering 200 and to
every kernel loaded (the API's for previews, the worker's all: ``PIXELETICA_PRELOAD_KERNELS``), then
one conversion after another (a photograph 128 blocks wide with the reference client's every
output: renders, web map, schematics), each timed from submission to completion over HTTP.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.image import stack
from tests.image.test_image import EVERY_OUTPUT, SERVICES, VARIABLES, Stack
from tests.servers import wait_for

TASK = {**EVERY_OUTPUT, "width": 128}


def _megabytes(size: float) -> str:
    return f"{size / 1e6:,.0f} MB"


def _sizes() -> list[tuple[str, int]]:
    """(part, bytes) of the image's biggest parts, from a container's files."""
    container = subprocess.run(["buildah", "from", "--pull-never", stack.IMAGE], capture_output=True, text=True)
    name = container.stdout.strip()
    try:
        root = Path(subprocess.run(["buildah", "mount", name], capture_output=True, text=True).stdout.strip())
        packages = next((root / "opt" / "pixeletica" / "lib").glob("python3*/site-packages"))

        def size(path: Path) -> int:
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())

        parts = [(f"site-packages/{p.name}", size(p)) for p in packages.iterdir() if p.is_dir()]
        parts.sort(key=lambda part: -part[1])
        caches = sum(size(p) for p in (root / "opt").rglob("__pycache__"))
        kernels = size(root / "opt" / "pixeletica" / "cache")
        return [*parts[:6], ("compiled Python (__pycache__, in the above)", caches), ("compiled kernels", kernels)]
    finally:
        subprocess.run(["buildah", "rm", name], capture_output=True)


def _run_stack(starts: int) -> list[tuple[float, float, float, float]]:
    """(seconds to healthy, to every kernel loaded, first task, second task) for each start of new containers."""
    config = stack.compose_config(**VARIABLES)
    photo = stack.ROOT / "samples" / "astronaut.jpg"
    results = []
    with stack.own_network():
        for _ in range(starts):
            with stack.backing_services(config) as backing:
                running = Stack(config, backing, Path(tempfile.mkdtemp(prefix="pixeletica-bench-image-")))
                try:
                    started = time.monotonic()
                    for name in SERVICES:
                        running[name].start()
                    healthy = stack.wait_healthy(running.client, timeout=300)
                    # the API's preview kernels loaded, the worker's every kernel: nothing else competes for the CPUs
                    api_log, worker_log = running["api"].log, running["worker"].log
                    wait_for(
                        lambda: "previews ready" in api_log.read_text() and "ready." in worker_log.read_text(),  # noqa: B023
                        300, "the API's previews and the worker ready",
                    )  # fmt: skip
                    ready = time.monotonic() - started
                    times = []
                    for _ in range(2):
                        submitted = time.monotonic()
                        task = running.finished(running.submit(TASK, photo.read_bytes(), photo.name))
                        assert task["status"] == "completed", task
                        times.append(time.monotonic() - submitted)
                    results.append((healthy, ready, times[0], times[1]))
                finally:
                    running.client.close()
                    for container in running.containers.values():
                        container.remove()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--cached", action="store_true", help="let podman reuse cached layers")
    args = parser.parse_args()
    podman = shutil.which("podman")
    base_present = bool(podman) and subprocess.run(["podman", "image", "exists", stack.BASE]).returncode == 0
    built = stack.build(*([] if args.cached else ["--no-cache"]))
    image = stack.inspect()
    cpu = platform.processor() or platform.machine()
    print(f"# Container image ({time.strftime('%Y-%m-%d')}, {cpu}, {os.cpu_count()} cores)\n")
    print("| what | measured |\n|---|---|")
    base_made = "base image present" if base_present else "base image made first"
    print(f"| build ({'cached layers' if args.cached else 'no cache'}, {base_made}) | {built:.0f} s |")
    base = json.loads(subprocess.run(
        ["podman", "image", "inspect", stack.BASE], capture_output=True, text=True
    ).stdout)[0]["Size"]  # fmt: skip
    print(f"| image size | {_megabytes(image['Size'])} (base {_megabytes(base)}, Pixeletica's layers "
          f"{_megabytes(image['Size'] - base)}) |")  # fmt: skip
    for part, size in _sizes():
        print(f"| {part} | {_megabytes(size)} |")
    results = _run_stack(args.starts)
    labels = (
        "new containers to /api/health 200",
        "new containers to every kernel loaded (API's previews, worker's all)",
        "first task, then",
        "second task",
    )
    for index, label in enumerate(labels):
        values = [result[index] for result in results]
        print(f"| {label} (median of {len(values)}; each) | {statistics.median(values):.1f} s "
              f"({', '.join(f'{v:.1f}' for v in values)}) |")  # fmt: skip


if __name__ == "__main__":
    main()
