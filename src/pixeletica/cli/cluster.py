"""``pixeletica cluster up|down``: the scale-out topology as processes, for machines without Docker."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from pixeletica import config, fsutil, logs, signals
from pixeletica.cli import common
from pixeletica.errors import InvalidInput

app = typer.Typer(
    help="Redis, PostgreSQL, the API, Celery workers and the monitor as local processes.", no_args_is_help=True
)

DEFAULT_DIR = Path(tempfile.gettempdir()) / "pixeletica-cluster"
Folder = Annotated[
    Path, typer.Option("--dir", help="Where the cluster keeps its databases, task files, logs and cluster.env.")
]


def _running_pid(folder: Path) -> int | None:
    try:
        pid = int((folder / "cluster.pid").read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


@app.command("up")
@common.reports_errors
def up(
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, max=config.MAX_WORKER_PROCESSES, help="Celery worker processes.")
    ] = config.DEFAULT_CLUSTER_WORKERS,
    port: Annotated[int, typer.Option(min=1, max=65535, help="API port on 127.0.0.1.")] = config.DEFAULT_PORT,
    folder: Folder = DEFAULT_DIR,
    redis_url: Annotated[str | None, typer.Option(help="Use this Redis instead of starting redis-server.")] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Use this PostgreSQL database instead of starting a throwaway cluster.")
    ] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Delete what an earlier cluster left in --dir first.")] = False,
) -> None:
    """Start the cluster on loopback ports and keep it running until Ctrl-C or `pixeletica cluster down`.

    Workers or the monitor that exit are started again. Other commands reach the cluster after
    `. DIR/cluster.env` (it exports the database, broker and data directory).
    """
    from pixeletica.cluster.topology import Cluster

    logs.setup(level=logging.WARNING)
    folder = folder.resolve()
    if (pid := _running_pid(folder)) is not None:
        raise InvalidInput(
            f"a cluster is already running from {folder} (pid {pid}); stop it: pixeletica cluster down --dir {folder}"
        )
    if fresh:
        shutil.rmtree(folder, ignore_errors=True)
    cluster = Cluster(folder, workers=workers, port=port, redis_url=redis_url, database_url=database_url)
    stop = signals.stop_event()
    typer.echo(f"starting Redis, PostgreSQL, API, {workers} worker(s) and the monitor in {folder} ...", err=True)
    cluster.up()
    fsutil.atomic_write(folder / "cluster.pid", str(os.getpid()).encode())  # never read half-written
    typer.echo(
        f"Pixeletica cluster up\n"
        f"  API:        {cluster.api_url}  (admin token in {cluster.data_dir / 'admin-token'})\n"
        f"  Redis:      {cluster.redis_url}\n"
        f"  PostgreSQL: {cluster.database_url}\n"
        f"  workers:    {workers} (pixeletica worker --celery), monitor: pixeletica monitor\n"
        f"  logs:       {folder / 'logs'}\n"
        f"  use it:     . {folder / 'cluster.env'} && pixeletica task list\n"
        f"  stop:       Ctrl-C, or pixeletica cluster down --dir {folder}",
        err=True,
    )
    supervisor = threading.Thread(target=cluster.supervise, args=(stop,), daemon=True)
    supervisor.start()
    try:
        stop.wait()
    finally:
        typer.echo("stopping the cluster ...", err=True)
        supervisor.join(5)
        cluster.down()
        (folder / "cluster.pid").unlink(missing_ok=True)
        typer.echo("cluster stopped", err=True)


@app.command("down")
@common.reports_errors
def down(
    folder: Folder = DEFAULT_DIR,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for everything to stop.")] = 120,
) -> None:
    """Stop a cluster started by `pixeletica cluster up` (in another terminal or in the background)."""
    folder = folder.resolve()
    pid = _running_pid(folder)
    if pid is None:
        raise InvalidInput(f"no cluster is running from {folder}")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _running_pid(folder) is not None:
        if time.monotonic() > deadline:
            raise InvalidInput(f"the cluster (pid {pid}) did not stop within {timeout:g} s")
        time.sleep(0.2)
    typer.echo("cluster stopped")
