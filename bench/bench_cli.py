#!/usr/bin/env python3
"""How fast the task tool and `convert` answer, as whole commands in new processes: a Markdown table.

    .venv/bin/python bench/bench_cli.py [--tasks 1000000] [--runs 7]

A SQLite store of ``--tasks`` tasks (1 % processing, the rest completed or queued, one created every
half second from 2026-11-24 on, made directly in SQL) in a temporary folder; then each command is run
``--runs`` times and the median and best wall times printed: `pixeletica --help`, `task list --status
processing --limit 20`, `task info`, `task find-stuck`, and `convert` of a 64x64 picture (compile cache
filled by a first run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from pixeletica.tasks.store import Store  # noqa: E402


def fill(url: str, count: int) -> str:
    """A store of ``count`` tasks; returns the id of one processing task."""
    store = Store(url)
    store.upgrade()
    store.dispose()
    import sqlite3

    path = url.removeprefix("sqlite:///")
    connection = sqlite3.connect(path)
    first = dt.datetime(2026, 11, 24)
    rows = []
    some_id = ""
    for n in range(count):
        task_id = str(uuid.UUID(int=n + 1))
        status = "processing" if n % 100 == 0 else ("completed" if n % 3 else "queued")
        some_id = task_id if status == "processing" else some_id
        now = (first + dt.timedelta(seconds=n * 0.5)).isoformat(" ", "microseconds")  # one task every 0.5 s
        rows.append(
            (task_id, status, 1, 0, "{}", f"in{n}.png", 1000, "0" * 64, 1, 3, now, now, now, now, "{}",
             now if status == "processing" else None, now if status == "processing" else None)
        )  # fmt: skip
        if len(rows) == 50_000:
            _insert(connection, rows)
            rows = []
    _insert(connection, rows)
    connection.execute("ANALYZE")
    connection.commit()
    connection.close()
    return some_id


def _insert(connection, rows) -> None:
    connection.executemany(
        "INSERT INTO tasks (id, status, priority, progress, settings, input_name, input_size, input_sha256, attempt,"
        " max_attempts, created_at, queued_at, updated_at, finished_at, result, started_at, lease_expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def timed(command: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.decode())
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    cli = [str(Path(sys.executable).with_name("pixeletica"))]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        started = time.perf_counter()
        some_id = fill(f"sqlite:///{data / 'pixeletica.db'}", args.tasks)
        made = time.perf_counter() - started
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXELETICA_", "TASK_"))}
        env["PIXELETICA_DATA_DIR"] = str(data)
        picture = Path(tmp) / "small.png"
        buffer = io.BytesIO()
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buffer, "PNG")
        picture.write_bytes(buffer.getvalue())
        convert = [*cli, "convert", str(picture), "--out", str(Path(tmp) / "out")]
        subprocess.run(convert, env=env, capture_output=True, check=True)  # fills the compile cache
        rows = [
            ("pixeletica --help", [*cli, "--help"]),
            ("pixeletica task list --status processing --limit 20", [*cli, "task", "list", "--status", "processing",
                                                                      "--limit", "20"]),
            ("pixeletica task info <id>", [*cli, "task", "info", some_id]),
            ("pixeletica task find-stuck", [*cli, "task", "find-stuck", "--json"]),
            ("pixeletica convert (64x64 PNG)", convert),
        ]  # fmt: skip
        day, cores = time.strftime("%Y-%m-%d"), os.cpu_count()
        print(f"{day}, {cores} cores; store of {args.tasks:,} tasks (made in {made:.0f} s); {args.runs} runs each\n")
        print("| command | median | best |")
        print("|---|---|---|")
        for label, command in rows:
            median, best = timed(command, env, args.runs)
            print(f"| `{label}` | {median * 1000:.0f} ms | {best * 1000:.0f} ms |", flush=True)
        print("\n" + json.dumps({"python_startup_ms": round(timed([sys.executable, "-c", "pass"], env, 5)[0] * 1000)}))


if __name__ == "__main__":
    main()
