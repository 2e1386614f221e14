#!/usr/bin/env python3
"""Task-system speed: prints Markdown tables for the README's Performance section.

    .venv/bin/python bench/bench_tasks.py

1. Throughput: N trivial 8x8 conversions submitted to a SQLite store, then `pixeletica worker
   --concurrency 2` runs them all; tasks per second from the worker's start to the last completion,
   and what the task machinery adds per task beyond the conversion itself.
2. Recovery: with default settings (lease 15 s, monitor lease sweep 3 s), the time from SIGKILL
   of the worker process running a task to the task being queued again.
3. Listing: `task list --status processing --limit 20` on a store of 1,000,000 tasks: the query
   alone, and the whole command in a new process.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from PIL import Image  # noqa: E402

from pixeletica.config import Settings  # noqa: E402
from pixeletica.engine import palette, pipeline  # noqa: E402
from pixeletica.engine.conversion_settings import ConversionSettings  # noqa: E402
from pixeletica.engine.exports import bundle  # noqa: E402
from pixeletica.tasks import operations  # noqa: E402
from pixeletica.tasks.model import Status, utcnow  # noqa: E402
from pixeletica.tasks.schema import tasks  # noqa: E402
from pixeletica.tasks.store import Store  # noqa: E402


def env_for(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXELETICA_", "TASK_"))}
    return {**env, **settings.as_environment(), "PYTHONPATH": str(ROOT / "src")}


def tiny_png() -> bytes:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def throughput(tmp: Path, count: int, rounds: int = 3) -> str:
    rows = [_throughput_round(tmp / f"tp{i}", count) for i in range(rounds)]
    lines = [
        "| round | tasks | workers | wall time (first claim to last completion) | tasks/s "
        "| median claim-to-complete | conversion + encoding files | task machinery per task |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, (seconds, per_task, convert_ms) in enumerate(rows, 1):
        lines.append(
            f"| {i} | {count} | 2 | {seconds:.2f} s | {count / seconds:.0f} | {per_task:.1f} ms | {convert_ms:.1f} ms "
            f"| {per_task - convert_ms:.1f} ms |"
        )
    return "\n".join(lines)


def _throughput_round(folder: Path, count: int) -> tuple[float, float, float]:
    settings = Settings(data_dir=folder, worker_poll_seconds=0.05)
    store = Store(settings.store_url)
    store.upgrade()
    data = tiny_png()
    for i in range(count):
        operations.submit(
            store,
            settings.tasks_dir,
            data=data,
            filename=f"t{i}.png",
            settings=ConversionSettings.from_dict({"width": 8}),
        )
    # What the conversion and encoding its files cost, in this process, warmed up.
    pal = palette.select()

    def conversion_work() -> None:
        bundle.basic_outputs(pipeline.convert(data, pal, pipeline.ConvertOptions(width=8)), "t")

    conversion_work()
    start = time.perf_counter()
    for _ in range(50):
        conversion_work()
    convert_ms = (time.perf_counter() - start) / 50 * 1000
    worker = subprocess.Popen(
        [sys.executable, "-m", "pixeletica", "worker", "--concurrency", "2"],
        env=env_for(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while store.count(Status.COMPLETED) < count:
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)
    with store.engine.connect() as c:
        first, last = c.execute(sa.select(sa.func.min(tasks.c.started_at), sa.func.max(tasks.c.finished_at))).one()
        spans = [
            (f - s).total_seconds() * 1000 for s, f in c.execute(sa.select(tasks.c.started_at, tasks.c.finished_at))
        ]
    seconds = (last - first).total_seconds()
    store.dispose()
    return seconds, statistics.median(spans), convert_ms


def recovery(tmp: Path) -> str:
    settings = Settings(data_dir=tmp / "rec")  # default lease, heartbeat and sweep settings
    store = Store(settings.store_url)
    store.upgrade()
    photo = (ROOT / "samples" / "astronaut.jpg").read_bytes()
    task = operations.submit(
        store, settings.tasks_dir, data=photo, filename="a.jpg",
        settings=ConversionSettings.from_dict({"width": 512, "metric": "ciede2000", "algorithm": "stucki"}),
    )  # fmt: skip
    env = env_for(settings)
    worker = subprocess.Popen(
        [sys.executable, "-m", "pixeletica", "worker", "-c", "1"], env=env, stderr=subprocess.DEVNULL
    )
    monitor = subprocess.Popen([sys.executable, "-m", "pixeletica", "monitor"], env=env, stderr=subprocess.DEVNULL)
    try:
        while (t := store.get(task.id)).status != Status.PROCESSING or t.progress == 0:
            time.sleep(0.05)
        os.kill(int(t.worker_id.rsplit(":", 1)[1]), signal.SIGKILL)
        killed = time.perf_counter()
        while store.get(task.id).attempt < 2 and store.get(task.id).status != Status.QUEUED:
            time.sleep(0.05)
        requeue = time.perf_counter() - killed
    finally:
        for proc in (worker, monitor):
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
    return "\n".join(
        [
            "| lease | heartbeat | lease sweep | SIGKILL to re-queued |",
            "|---|---|---|---|",
            f"| {settings.lease_seconds:g} s | {settings.heartbeat_seconds:g} s | {settings.lease_sweep_seconds:g} s "
            f"| {requeue:.1f} s |",
        ]
    )


def listing(tmp: Path, total: int) -> str:
    settings = Settings(data_dir=tmp / "big")
    store = Store(settings.store_url)
    store.upgrade()
    now = utcnow()
    statuses = ["completed"] * 90 + ["failed"] * 8 + ["queued"] * 2
    with store.engine.begin() as c:
        batch = []
        for i in range(total):
            created = now - dt.timedelta(seconds=total - i)
            status = "processing" if i % 50_000 == 0 else statuses[i % 100]
            batch.append(
                {
                    "id": str(uuid.UUID(int=i)), "status": status, "priority": 1, "progress": 0, "step": None,
                    "settings": "{}", "input_name": f"img{i}.png", "input_size": 1, "input_sha256": "0" * 64,
                    "attempt": 1, "max_attempts": 3, "created_at": created, "queued_at": created,
                    "updated_at": created, "started_at": created, "result": "{}",
                }
            )  # fmt: skip
            if len(batch) == 20_000:
                c.execute(tasks.insert(), batch)
                batch = []
        if batch:
            c.execute(tasks.insert(), batch)
    store.engine.dispose()
    store = Store(settings.store_url)
    runs = []
    for _ in range(20):
        start = time.perf_counter()
        rows = store.list(status=Status.PROCESSING, limit=20)
        runs.append((time.perf_counter() - start) * 1000)
    env = env_for(settings)
    command = [sys.executable, "-m", "pixeletica", "task", "list", "--status", "processing", "--limit", "20"]
    subprocess.run(command, env=env, capture_output=True, check=True)
    walls = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        walls.append((time.perf_counter() - start) * 1000)
    bare = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import pixeletica.cli.main"], env=env, check=True)
        bare.append((time.perf_counter() - start) * 1000)
    return "\n".join(
        [
            "| store | query (`Store.list`, median of 20) | whole command, new process (median of 5) "
            "| of which starting Python and importing the CLI |",
            "|---|---|---|---|",
            f"| {total:,} tasks, {len(rows)} returned | {statistics.median(runs):.1f} ms | "
            f"{statistics.median(walls):.0f} ms | {statistics.median(bare):.0f} ms |",
        ]
    )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, SQLite store")
    with tempfile.TemporaryDirectory() as tmp:
        print("\nThroughput, trivial 8x8 conversions:\n")
        print(throughput(Path(tmp), count))
        print("\nRecovery of a task whose worker was killed (default settings):\n")
        print(recovery(Path(tmp)))
        print("\nListing on a large store:\n")
        print(listing(Path(tmp), 1_000_000))
    print(json.dumps({"done": True}))


if __name__ == "__main__":
    main()
