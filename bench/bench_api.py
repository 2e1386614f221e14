#!/usr/bin/env python3
"""HTTP API speed: prints Markdown tables for the README's Performance section.

    apt-get install wrk          # the load generator (Debian package)
    .venv/bin/python bench/bench_api.py

1. `GET /api/conversion/{taskId}` under wrk on loopback (one uvicorn process; `serve` with its
   default worker processes idle): requests per second and latency percentiles.
2. 50 concurrent submissions of a photograph converted to 128x128 blocks, from the first request
   to the last task completed, on `serve` defaults (rate limit off, else 5 per minute applies).
"""

from __future__ import annotations

import concurrent.futures
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
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PHOTO = (ROOT / "samples" / "coffee.jpg").read_bytes()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(data_dir: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXELETICA_", "TASK_"))}
    env.update({"PIXELETICA_DATA_DIR": str(data_dir), "RATE_LIMIT": "off", "PYTHONPATH": str(ROOT / "src")})
    proc = subprocess.Popen(
        [sys.executable, "-m", "pixeletica", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("serve did not start")


def submit(base: str, width: int, height: int) -> str:
    answer = httpx.post(
        f"{base}/api/conversion/start",
        files={"image_file": ("coffee.jpg", PHOTO, "image/jpeg")},
        data={"metadata": json.dumps({"width": width, "height": height})},
        timeout=60,
    )
    answer.raise_for_status()
    return answer.json()["taskId"]


def wait_all(base: str, ids: list[str], timeout: float = 600) -> None:
    pending = set(ids)
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base, timeout=30) as client:
        while pending and time.monotonic() < deadline:
            for task_id in list(pending):
                if client.get(f"/api/conversion/{task_id}").json()["status"] in ("completed", "failed"):
                    pending.discard(task_id)
            time.sleep(0.05)
    if pending:
        raise RuntimeError(f"{len(pending)} tasks did not finish")


def wrk(url: str, connections: int, seconds: int) -> tuple[float, dict[str, str]]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"wrk saw {errors.group(1)} error responses")
    return rps, latency


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, serve defaults (SQLite), rate limit off")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = serve(Path(tmp) / "data", port)
        try:
            task_id = submit(base, 16, 16)
            wait_all(base, [task_id])
            url = f"{base}/api/conversion/{task_id}"
            wrk(url, 16, 3)  # warm up
            print("\n`GET /api/conversion/{taskId}`, wrk -t1 on loopback, 10 s per run:\n")
            print("| connections | requests/s | p50 | p90 | p99 |")
            print("|---|---|---|---|---|")
            for connections in (16, 64):
                rps, lat = wrk(url, connections, 10)
                print(f"| {connections} | {rps:,.0f} | {lat.get('50')} | {lat.get('90')} | {lat.get('99')} |")
            print("\n50 concurrent submissions, 128x128 blocks each (photograph 600x400), to all completed:\n")
            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(50) as pool:
                ids = list(pool.map(lambda _: submit(base, 128, 128), range(50)))
            accepted = time.perf_counter() - started
            wait_all(base, ids)
            total = time.perf_counter() - started
            print("| submissions | all accepted after | all completed after | tasks/s |")
            print("|---|---|---|---|")
            print(f"| 50 | {accepted:.2f} s | {total:.2f} s | {50 / total:.1f} |")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)


if __name__ == "__main__":
    main()
