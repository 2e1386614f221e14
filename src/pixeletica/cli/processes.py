"""``pixeletica worker`` and ``pixeletica monitor``, the long-running processes of the task system, and
``pixeletica db upgrade``, which prepares the database they share."""

from __future__ import annotations

from typing import Annotated

import typer

from pixeletica import config, logs, signals
from pixeletica.cli import common
from pixeletica.errors import InvalidInput
from pixeletica.tasks.executors import local
from pixeletica.tasks.executors import worker as worker_process  # `worker` is the command below
from pixeletica.tasks.monitor import Monitor
from pixeletica.tasks.store import Store


@common.reports_errors
def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency", "-c", min=1, max=config.MAX_WORKER_PROCESSES, help="Worker processes (default: CPU count)."
        ),
    ] = None,
    use_celery: Annotated[
        bool,
        typer.Option("--celery", help="Run a Celery worker on PIXELETICA_BROKER_URL / REDIS_URL instead."),
    ] = False,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="Celery node name, e.g. worker1@%h (default: celery@host).")
    ] = None,
) -> None:
    """Run worker processes that take queued tasks from the store and convert them."""
    settings = config.get_settings()
    logs.setup(settings)
    Store.open(settings.store_url).dispose()
    count = concurrency or config.default_worker_processes()
    if use_celery:
        if not settings.broker_url:
            raise InvalidInput(
                "--celery needs a broker: set PIXELETICA_BROKER_URL (or REDIS_URL), e.g. redis://127.0.0.1:6379/0"
            )
        from pixeletica.tasks.executors import celery as celery_executor

        logs.announce(f"pixeletica worker: Celery, {count} process(es)", settings)
        worker_process.preload_kernels(settings)  # before the pool forks: every pool process has them
        celery_executor.make_app(settings).worker_main(argv=celery_executor.worker_argv(count, hostname=name))
        return
    logs.announce(f"pixeletica worker: {count} process(es), store {config.safe_url(settings.store_url)}", settings)
    local.run_workers(settings, count)


db = typer.Typer(help="The task store's database.", no_args_is_help=True)


@db.command("upgrade")
@common.reports_errors
def db_upgrade() -> None:
    """Create or migrate the task store's tables to the newest schema (safe to run again)."""
    settings = config.get_settings()
    store = Store(settings.store_url)
    before = store.revision()
    store.upgrade()
    after = store.revision()
    typer.echo(
        f"database at revision {after}" + (f" (was {before or 'empty'})" if before != after else " (up to date)")
    )


@common.reports_errors
def monitor(
    once: Annotated[bool, typer.Option("--once", help="Do every sweep once and exit.")] = False,
) -> None:
    """Watch over tasks: re-queue those whose worker is gone, fail stuck ones, apply retention."""
    settings = config.get_settings()
    logs.setup(settings)
    store = Store.open(settings.store_url)
    sweeper = Monitor.from_settings(store, settings)
    if once:
        lost, stuck, pruned = sweeper.recover_lost(), sweeper.fail_stuck(), sweeper.prune()
        failed = len(lost.failed) + len(stuck.failed)
        typer.echo(f"requeued {len(lost.requeued)}, failed {failed}, deleted {len(pruned.deleted)}")
        return
    stop = signals.stop_event()
    logs.announce(
        f"pixeletica monitor: lease sweep every {settings.lease_sweep_seconds:g} s, stuck/retention sweep every "
        f"{settings.task_monitor_interval:g} s (TASK_MONITOR_INTERVAL), max processing "
        f"{settings.task_max_processing_time:g} s (TASK_MAX_PROCESSING_TIME)",
        settings,
    )
    sweeper.run(stop)
