#!/usr/bin/env python3
"""What one trivial task costs in one process, and what writing its block grid costs: a Markdown table.

    .venv/bin/python bench/bench_runner.py [--rounds 5] [--tasks 200]

1. CPU per task: ``--rounds`` x ``--tasks`` trivial 8x8 conversions submitted to a SQLite store in a
   temporary folder, each run by ``Runner.run_task`` (what a Celery worker calls for a delivered task:
   claim, convert, write the files, complete) in this process; the median over rounds of CPU and wall
   time per task. No broker, no other process: the task's own cost, steadier than a cluster run.
2. ``BlockGrid.to_npz`` for an 8x8 grid and for the astronaut photograph at 512 and 2048 blocks wide:
   best time and size.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402
from bench_tasks import tiny_png  # noqa: E402  (the same trivial image as the other task benches)

from pixeletica.config import Settings  # noqa: E402
from pixeletica.engine import palette, pipeline  # noqa: E402
from pixeletica.engine.blockgrid import BlockGrid  # noqa: E402
from pixeletica.engine.conversion_settings import ConversionSettings  # noqa: E402
from pixeletica.tasks import operations  # noqa: E402
from pixeletica.tasks.runner import Runner  # noqa: E402
from pixeletica.tasks.store import Store  # noqa: E402


def per_task(folder: Path, rounds: int, tasks: int) -> tuple[float, float]:
    """Median CPU and wall milliseconds per trivial task run by ``Runner.run_task``."""
    settings = Settings(data_dir=folder / "data", database_url=f"sqlite:///{folder / 'tasks.db'}")
    store = Store(settings.store_url)
    store.upgrade()
    runner = Runner.from_settings(store, settings, worker_id="bench:1")
    data, conversion = tiny_png(), ConversionSettings.from_dict({})

    def submitted(count: int) -> list[str]:
        return [
            operations.submit(
                store, settings.tasks_dir, data=data, filename="tiny.png", settings=conversion, actor="bench"
            ).id
            for _ in range(count)
        ]

    for task_id in submitted(30):  # warm: kernels loaded, palette chosen, statements compiled
        runner.run_task(task_id)
    cpu, wall = [], []
    for _ in range(rounds):
        ids = submitted(tasks)
        started_cpu, started = time.process_time(), time.perf_counter()
        for task_id in ids:
            runner.run_task(task_id)
        cpu.append((time.process_time() - started_cpu) / tasks * 1000)
        wall.append((time.perf_counter() - started) / tasks * 1000)
    store.dispose()
    return statistics.median(cpu), statistics.median(wall)


def npz_rows() -> list[str]:
    chosen = palette.select()
    photo = (ROOT / "samples" / "astronaut.jpg").read_bytes()
    grids = {"8x8": BlockGrid.from_palette(np.zeros((8, 8), dtype=np.int16), chosen)}
    for width in (512, 2048):
        grids[f"astronaut, {width} wide"] = pipeline.convert(photo, chosen, pipeline.ConvertOptions(width=width)).grid
    rows = []
    for name, grid in grids.items():
        number = 300 if grid.indices.size < 10_000 else 5
        best = min(timeit.repeat(grid.to_npz, number=number, repeat=3)) / number * 1000
        rows.append(f"| `BlockGrid.to_npz`, {name} | {best:.2f} ms | {len(grid.to_npz()):,} bytes |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        cpu, wall = per_task(Path(folder), args.rounds, args.tasks)
    print(f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, one process\n")
    print("| measure | time | size |\n|---|---|---|")
    print(f"| trivial task through `Runner.run_task`, SQLite (median of {args.rounds} x {args.tasks}) | "
          f"{cpu:.2f} ms CPU, {wall:.2f} ms wall | |")  # fmt: skip
    print("\n".join(npz_rows()))


if __name__ == "__main__":
    main()
