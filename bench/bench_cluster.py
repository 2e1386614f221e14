#!/usr/bin/env python3
"""Scale-out reliability and speed: prints Markdown tables for the README's Reliability section.

    .venv/bin/python bench/bench_cluster.py [--tasks 300] [--kill-every 4] [--trivial 2000]

Both parts run the process topology of `pixeletica cluster up` (redis-server with its append-only
file, a PostgreSQL 15 cluster with fsync on, `pixeletica serve --workers 0 --no-monitor`, the
monitor, two `pixeletica worker --celery --concurrency 1`), default task settings.

1. Chaos: ``--tasks`` conversions (real photographs, 128 blocks wide, with the render, web map
   and schematics) are submitted over HTTP by a client that retries on 503 or a refused
   connection, while one worker (main process and pool, at once) is SIGKILLed every
   ``--kill-every`` seconds and started again, Redis is stopped and started once (a third of the
   way through the submissions) and PostgreSQL once (two thirds). It prints: submitted,
   completed, failed, duplicates (tasks that completed twice, or whose files from more than one
   attempt are on disk), stuck (still processing at the end), the time from each kill to its
   task's re-queue (the store's event), and the wall time.
2. Throughput: ``--trivial`` 8x8 conversions put in the store at once; tasks per second from the
   first claim to the last completion, on two workers with one pool process each, then two each
   (``--concurrency``); and the CPU time per task of each kind of process.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from bench_tasks import tiny_png  # noqa: E402  (same trivial 8x8 image as the SQLite bench)

from pixeletica.cluster.servers import free_port  # noqa: E402
from pixeletica.cluster.topology import Cluster  # noqa: E402
from pixeletica.engine.conversion_settings import ConversionSettings  # noqa: E402
from pixeletica.tasks import files, operations  # noqa: E402
from pixeletica.tasks.model import Status, utcnow  # noqa: E402
from pixeletica.tasks.schema import events, tasks  # noqa: E402
from pixeletica.tasks.store import Store  # noqa: E402

#: Each chaos task: a 128-block-wide build with its render (chunk lines), web map and schematics.
METADATA = '{"width": 128, "generate_schematic": true}'
PHOTOS = [(p.name, p.read_bytes()) for p in sorted((ROOT / "samples").glob("*.jpg"))]


def cluster_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXELETICA_", "TASK_", "REDIS_URL"))}
    env.update(PYTHONPATH=str(ROOT / "src"), RATE_LIMIT="off")
    return env


def start_cluster(name: str, concurrency: int = 1) -> tuple[Cluster, threading.Event]:
    folder = Path(tempfile.mkdtemp(prefix=f"pixeletica-bench-{name}-"))
    folder.chmod(0o755)  # PostgreSQL runs as its own user
    cluster = Cluster(folder, workers=2, concurrency=concurrency, port=free_port(), env=cluster_env())
    cluster.up()
    stop = threading.Event()
    threading.Thread(target=cluster.supervise, args=(stop,), daemon=True).start()
    return cluster, stop


def pool_pids(main_pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{main_pid}/task/{main_pid}/children").read_text().split()]
    except OSError:
        return []


class Chaos:
    """Kills workers on a schedule, restarts Redis and PostgreSQL once, records what it did."""

    def __init__(self, cluster: Cluster, store: Store, kill_every: float) -> None:
        self.cluster, self.store, self.kill_every = cluster, store, kill_every
        self.kills: list[tuple[object, str | None]] = []  # (time, task it was running)
        self.notes: list[str] = []
        self.done = threading.Event()

    def run(self, accepted: list[str], total: int) -> None:
        """Kill a worker every ``kill_every`` seconds; restart Redis once a third of the tasks are
        accepted and PostgreSQL at two thirds (while the client is still submitting)."""
        restarts = [(total / 3, self.restart_redis), (2 * total / 3, self.restart_postgres)]
        n = 0
        while not self.done.wait(self.kill_every):
            if restarts and len(accepted) >= restarts[0][0]:
                restarts.pop(0)[1]()
                continue
            self.kill(n % self.cluster.workers)
            n += 1

    def kill(self, index: int) -> None:
        service_ = self.cluster.worker_services[index]
        running = None
        if service_.alive():
            children = pool_pids(service_.pid)
            try:
                busy = self.store.list(status=Status.PROCESSING, limit=50)
            except Exception:  # the database may be restarting
                busy = []
            for task in busy:
                if task.worker_id and int(task.worker_id.rsplit(":", 1)[1]) in children:
                    running = task.id
        when = utcnow()
        if self.cluster.kill_worker(index) is not None:
            self.kills.append((when, running))

    def restart_redis(self) -> None:
        began = time.monotonic()
        self.cluster.redis.stop()
        time.sleep(2)
        self.cluster.redis.start()
        self.notes.append(f"Redis stopped and started again ({time.monotonic() - began:.1f} s down)")

    def restart_postgres(self) -> None:
        began = time.monotonic()
        self.cluster.postgres.stop("fast")
        time.sleep(3)
        self.cluster.postgres.start()
        self.notes.append(f"PostgreSQL stopped (fast) and started again ({time.monotonic() - began:.1f} s down)")


def submit_all(api: str, count: int, accepted: list[str], retries: list[int]) -> None:
    """Submit ``count`` conversions like a patient client: 503 or no connection -> wait, try again."""
    with httpx.Client(base_url=api, timeout=30) as client:
        for i in range(count):
            name, data = PHOTOS[i % len(PHOTOS)]
            while True:
                try:
                    answer = client.post(
                        "/api/conversion/start",
                        files={"image_file": (name, data, "image/jpeg")},
                        data={"metadata": METADATA},
                    )
                except httpx.TransportError:
                    answer = None
                if answer is not None and answer.status_code == 202:
                    accepted.append(answer.json()["taskId"])
                    break
                if answer is not None and answer.status_code not in (503, 429):
                    raise SystemExit(f"submission refused: {answer.status_code} {answer.text}")
                retries[0] += 1
                time.sleep(0.5)
            time.sleep(0.05)


def chaos(count: int, kill_every: float) -> str:
    cluster, stop = start_cluster("chaos")
    store = Store(cluster.database_url)
    accepted: list[str] = []
    retries = [0]
    agent = Chaos(cluster, store, kill_every)
    began = time.monotonic()
    first = utcnow()
    chaos_thread = threading.Thread(target=agent.run, args=(accepted, count), daemon=True)
    chaos_thread.start()
    try:
        submit_all(cluster.api_url, count, accepted, retries)
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            try:
                counts = store.counts()
            except Exception:
                time.sleep(1)
                continue
            if counts[Status.COMPLETED] + counts[Status.FAILED] >= len(accepted):
                break
            time.sleep(0.5)
        agent.done.set()
        chaos_thread.join(60)
        wall = time.monotonic() - began
        report = _chaos_report(store, cluster, accepted, agent, first, wall, retries[0])
    finally:
        stop.set()
        store.dispose()
        cluster.down()
    return report


def _chaos_report(store, cluster, accepted, agent, first, wall, retries) -> str:
    counts = store.counts()
    with store.engine.connect() as c:
        completions = dict(
            c.execute(
                sa.select(events.c.task_id, sa.func.count())
                .where(events.c.to_status == Status.COMPLETED.value)
                .group_by(events.c.task_id)
            ).all()
        )
        last = c.execute(sa.select(sa.func.max(tasks.c.finished_at))).scalar()
        attempts = [a for (a,) in c.execute(sa.select(tasks.c.attempt))]
        recoveries = []
        hit = 0
        for when, task_id in agent.kills:
            if task_id is None:
                continue
            finished = c.execute(
                sa.select(sa.func.min(events.c.at)).where(
                    events.c.task_id == task_id, events.c.to_status == Status.COMPLETED.value
                )
            ).scalar()
            if finished is not None and finished < when:  # it completed between our look and the kill
                continue
            hit += 1
            requeued = c.execute(
                sa.select(sa.func.min(events.c.at)).where(
                    events.c.task_id == task_id, events.c.to_status == Status.QUEUED.value, events.c.at >= when
                )
            ).scalar()
            if requeued is not None:
                recoveries.append((requeued - when).total_seconds())
    tasks_dir = cluster.data_dir / "tasks"
    with_two = 0
    for task_id in accepted:
        folders = [p for p in files.task_dir(tasks_dir, task_id).glob("attempt-*") if any(p.iterdir())]
        with_two += len(folders) > 1 or completions.get(task_id, 0) > 1
    lines = [
        "| submitted | completed | failed | duplicates | stuck | worker kills (of them mid-task) "
        "| kill to re-queue, median / max | wall time |",
        "|---|---|---|---|---|---|---|---|",
        f"| {len(accepted)} | {counts[Status.COMPLETED]} | {counts[Status.FAILED]} | {with_two} "
        f"| {counts[Status.PROCESSING]} processing, {counts[Status.QUEUED]} queued | {len(agent.kills)} ({hit}) "
        f"| {_median(recoveries)} / {max(recoveries, default=0):.1f} s ({len(recoveries)} re-queued) "
        f"| {wall:.0f} s (last completion {(last - first).total_seconds():.0f} s after the first submission) |",
        "",
        f"Also: {'; '.join(agent.notes)}; the client retried {retries} submission(s) on 503 or a refused "
        f"connection; tasks that needed more than one attempt: {sum(a > 1 for a in attempts)}.",
    ]
    return "\n".join(lines)


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} s" if values else "-"


def throughput(count: int, concurrency: int = 1) -> str:
    cluster, stop = start_cluster("throughput", concurrency)
    store = Store(cluster.database_url)
    data = tiny_png()
    try:
        for i in range(count):
            operations.submit(
                store,
                cluster.data_dir / "tasks",
                data=data,
                filename=f"t{i}.png",
                settings=ConversionSettings.from_dict({"width": 8}),
            )
        submitted = time.monotonic()
        done_before, cpu_before = store.count(Status.COMPLETED), _cpu()
        while store.count(Status.COMPLETED) + store.count(Status.FAILED) < count:
            time.sleep(0.1)
        cpu_after, done_in_window = _cpu(), count - done_before
        waited = time.monotonic() - submitted
        with store.engine.connect() as c:
            first, last = c.execute(sa.select(sa.func.min(tasks.c.started_at), sa.func.max(tasks.c.finished_at))).one()
            done = sa.select(tasks.c.worker_id, tasks.c.started_at, tasks.c.finished_at).where(
                tasks.c.finished_at.isnot(None)
            )
            rows = sorted(c.execute(done).all(), key=lambda r: (r.worker_id, r.started_at))
        spans = [(r.finished_at - r.started_at).total_seconds() * 1000 for r in rows]
        gaps = [  # from one task's completion to the next claim by the same worker process
            (b.started_at - a.finished_at).total_seconds() * 1000
            for a, b in itertools.pairwise(rows)
            if a.worker_id == b.worker_id
        ]
        seconds = (last - first).total_seconds()
        failed = store.count(Status.FAILED)
    finally:
        stop.set()
        store.dispose()
        cluster.down()
    return "\n".join(
        [
            "| tasks | workers | failed | first claim to last completion | tasks/s | median claim-to-complete "
            "| between tasks on one worker (median) | from the last submission to all done |",
            "|---|---|---|---|---|---|---|---|",
            f"| {count} | 2 Celery (concurrency {concurrency} each) | {failed} | {seconds:.2f} s "
            f"| {count / seconds:.0f} "
            f"| {statistics.median(spans):.1f} ms | {statistics.median(gaps):.1f} ms | {waited:.1f} s |",
            "",
            f"CPU time per task, from the last submission to the last completion ({done_in_window} tasks):",
            "",
            "| " + " | ".join(cpu_before) + " |",
            "|" + "---|" * len(cpu_before),
            "| "
            + " | ".join(f"{(cpu_after[k] - cpu_before[k]) / done_in_window * 1000:.1f} ms" for k in cpu_before)
            + " |",
        ]
    )


def _cpu() -> dict[str, float]:
    """CPU seconds used so far by each kind of process of the cluster, and by the whole machine."""
    tick = os.sysconf("SC_CLK_TCK")
    kinds = {"Celery workers (main + pool)": 0.0, "PostgreSQL": 0.0, "Redis": 0.0, "API + dispatcher": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        used = (int(fields[11]) + int(fields[12])) / tick
        if "worker --celery" in command:
            kinds["Celery workers (main + pool)"] += used
        elif command.startswith("postgres") or "/postgres " in command:
            kinds["PostgreSQL"] += used
        elif "redis-server" in command:
            kinds["Redis"] += used
        elif "pixeletica serve" in command:
            kinds["API + dispatcher"] += used
    busy = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    idle = int(busy[3]) + int(busy[4])
    kinds["whole machine (kernel included)"] = (sum(int(v) for v in busy[:8]) - idle) / tick
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=300, help="conversions in the chaos run")
    parser.add_argument("--kill-every", type=float, default=4.0, help="seconds between worker kills")
    parser.add_argument("--trivial", type=int, default=2000, help="trivial tasks in the throughput run (0: skip)")
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=[1, 2], help="pool processes per worker, one run each"
    )
    args = parser.parse_args()
    print(f"## Chaos: {args.tasks} conversions, a worker SIGKILLed every {args.kill_every:g} s\n")
    if args.tasks:
        print(chaos(args.tasks, args.kill_every), flush=True)
    if args.trivial:
        print(f"\n## Throughput: {args.trivial} trivial (8x8) conversions, Celery + Redis + PostgreSQL\n")
        for concurrency in args.concurrency:
            print(throughput(args.trivial, concurrency), flush=True)
            print()


if __name__ == "__main__":
    main()
