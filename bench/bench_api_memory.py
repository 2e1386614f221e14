#!/usr/bin/env python3
"""Memory of the API process under hostile-sized uploads: prints a Markdown table for the README.

    .venv/bin/python bench/bench_api_memory.py [--src OTHER_CHECKOUT/src]

An 8000x8000 PNG that compresses to a few hundred kilobytes (64 million pixels: 256 MB once
decoded as RGBA) is sent to a real `pixeletica serve --workers 0` (no local workers: only the
API process works) as 20 parallel previews, then as 20 parallel starts. The API process's peak
resident memory (VmHWM, reset after start-up with /proc/PID/clear_refs) is read after each load.
With ``--src`` the same load runs against another checkout's code (e.g. an older commit) for a
before/after comparison; the older code is given fewer requests at once (``--before-requests``),
since 20 full-size previews there would need tens of gigabytes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def big_png() -> bytes:
    """8000x8000 RGB: broad colour bands with a little texture, so it compresses well but is not blank."""
    rows = np.linspace(0, 255, 8000, dtype=np.float32)[:, None]
    columns = np.linspace(0, 255, 8000, dtype=np.float32)[None, :]
    rgb = np.empty((8000, 8000, 3), np.uint8)
    rgb[..., 0] = (rows // 32 * 32).astype(np.uint8)
    rgb[..., 1] = (columns // 32 * 32).astype(np.uint8)
    rgb[..., 2] = 90
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=9)
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(src: Path, data_dir: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXELETICA_", "TASK_"))}
    env.update(
        {
            "PIXELETICA_DATA_DIR": str(data_dir),
            "RATE_LIMIT": "off",
            "PREVIEW_RATE_LIMIT": "off",
            "PIXELETICA_PREVIEW_TIMEOUT": "60",
            "PYTHONPATH": str(src),
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "pixeletica", "serve", "--port", str(port), "--workers", "0", "--no-monitor"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("serve did not start")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def preview(base: str, data: bytes) -> int:
    answer = httpx.post(
        f"{base}/api/conversion/preview",
        files={"image_file": ("big.png", data, "image/png")},
        data={"width": "128", "height": "128", "algorithm": "floyd_steinberg"},
        timeout=300,
    )
    return answer.status_code


def start(base: str, data: bytes) -> int:
    answer = httpx.post(
        f"{base}/api/conversion/start",
        files={"image_file": ("big.png", data, "image/png")},
        data={"metadata": json.dumps({"width": 128, "height": 128})},
        timeout=300,
    )
    return answer.status_code


def load(kind: str, base: str, pid: int, data: bytes, count: int) -> str:
    call = preview if kind == "previews" else start
    reset_peak(pid)
    before = peak_rss_mb(pid)
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        codes = list(pool.map(lambda _: call(base, data), range(count)))
    seconds = time.perf_counter() - started
    answered = ", ".join(f"{codes.count(c)} x {c}" for c in sorted(set(codes)))
    return f"| {count} parallel {kind} | {before:.0f} MB | {peak_rss_mb(pid):.0f} MB | {answered} | {seconds:.1f} s |"


def run(src: Path, label: str, data: bytes, count: int) -> list[str]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = serve(src, Path(tmp) / "data", port)
        try:
            preview(base, _small_png())  # the compiled kernels are loaded before measuring
            for kind in ("previews", "starts"):
                rows.append(load(kind, base, proc.pid, data, count).replace("| ", f"| {label}: ", 1))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
    return rows


def _small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 200, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, help="another checkout's src/ folder to compare with")
    parser.add_argument("--before-requests", type=int, default=3, help="requests at once against --src")
    args = parser.parse_args()
    data = big_png()
    print(
        f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores; an 8000x8000 PNG of {len(data) / 1024:.0f} KB "
        "(256 MB as RGBA), preview at 128x128 blocks; API process only (`serve --workers 0`)\n"
    )
    print("| load | API peak RSS before | API peak RSS during | answers | wall time |")
    print("|---|---|---|---|---|")
    if args.src:
        for row in run(args.src.resolve(), "before", data, args.before_requests):
            print(row, flush=True)
    for row in run(ROOT / "src", "now", data, 20):
        print(row, flush=True)


if __name__ == "__main__":
    main()
