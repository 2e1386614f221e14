"""``pixeletica task ...`` (and ``python src/pixeletica/cli_task.py ...``): inspect and fix tasks.

Exit codes: 0 ok, 1 task not found (or changed meanwhile), 2 bad usage.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pixeletica import config, fsutil
from pixeletica.cli import common, quick, views
from pixeletica.engine import defaults
from pixeletica.errors import InvalidInput
from pixeletica.tasks import analytics, operations
from pixeletica.tasks.model import DEFAULT_PRIORITY, Priority, Status, Task
from pixeletica.tasks.monitor import Monitor
from pixeletica.tasks.store import Store

app = typer.Typer(help="Inspect and manage conversion tasks.", no_args_is_help=True)
ACTOR = "cli"

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
TaskId = Annotated[str, typer.Argument(help="Task id, or a unique prefix of it.", show_default=False)]
MaxTime = Annotated[
    float | None,
    typer.Option("--max-time", help="Seconds in processing that count as stuck (default: TASK_MAX_PROCESSING_TIME)."),
]


def open_store() -> tuple[Store, config.Settings]:
    settings = config.get_settings()
    store = Store.open(settings.store_url)
    return store, settings


def _report(task: Task, as_json: bool, sentence: str) -> None:
    """What a command did to a task: the task as JSON with --json, else one sentence."""
    if as_json:
        views.print_json(task.as_json())
    else:
        typer.echo(sentence)


@app.command("list")
@common.reports_errors
def list_tasks(
    status: Annotated[str | None, typer.Option("--status", "-s", help="Only tasks in this status.")] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=quick.LIST_MAX, help="How many, newest first.")
    ] = quick.LIST_DEFAULT,
    search: Annotated[str | None, typer.Option(help="Id prefix or part of the input file name.")] = None,
    as_json: Json = False,
) -> None:
    """List recent tasks."""
    quick.task_list(open_store()[0], status, limit, search, as_json)


@app.command("info")
@common.reports_errors
def info(task_id: TaskId, as_json: Json = False) -> None:
    """Every field of a task, its event history and its files."""
    quick.task_info(open_store()[0], task_id, as_json)


@app.command("find-stuck")
@common.reports_errors
def find_stuck_command(max_time: MaxTime = None, as_json: Json = False) -> None:
    """Tasks that have been processing for longer than --max-time seconds."""
    store, settings = open_store()
    quick.task_find_stuck(store, settings.task_max_processing_time if max_time is None else max_time, as_json)


@app.command("reset-stuck")
@common.reports_errors
def reset_stuck(max_time: MaxTime = None, as_json: Json = False) -> None:
    """Mark tasks processing for longer than --max-time seconds as failed."""
    store, settings = open_store()
    report = Monitor.from_settings(store, settings).fail_stuck(max_time, actor=ACTOR)
    if as_json:
        views.print_json({"failed": report.failed})
    else:
        typer.echo(f"marked {len(report.failed)} stuck task(s) as failed")
        for task_id in report.failed:
            typer.echo(f"  {task_id}")


@app.command("update")
@common.reports_errors
def update(
    task_id: TaskId,
    status: Annotated[str, typer.Option("--status", "-s", help="queued, processing, completed or failed.")],
    as_json: Json = False,
) -> None:
    """Set a task's status by hand (recorded in its history)."""
    store, settings = open_store()
    task = operations.update_status(
        store, store.resolve(task_id), Status.parse(status), actor=ACTOR, lease_seconds=settings.lease_seconds
    )
    _report(task, as_json, f"{task.id} is now {task.status.value}")


@app.command("retry")
@common.reports_errors
def retry(task_id: TaskId, as_json: Json = False) -> None:
    """Queue a failed (or completed) task again."""
    store, _ = open_store()
    task = operations.retry(store, store.resolve(task_id), actor=ACTOR)
    _report(task, as_json, f"{task.id} is queued again")


@app.command("cancel")
@common.reports_errors
def cancel(task_id: TaskId, as_json: Json = False) -> None:
    """Cancel a queued or processing task (it becomes failed with the error 'cancelled')."""
    store, _ = open_store()
    task = operations.cancel(store, store.resolve(task_id), actor=ACTOR)
    _report(task, as_json, f"{task.id} cancelled")


@app.command("submit")
@common.reports_errors
def submit(
    image: Annotated[Path, typer.Argument(help="Image to convert.", show_default=False)],
    width: Annotated[int | None, typer.Option("--width", "-w", help="Width in blocks.")] = None,
    height: Annotated[int | None, typer.Option("--height", "-h", help="Height in blocks.")] = None,
    dithering: Annotated[str, typer.Option("--dither", "-d", help="Dithering algorithm.")] = defaults.DEFAULT_ALGORITHM,
    metric: Annotated[str, typer.Option("--metric", "-m", help="Colour metric.")] = defaults.DEFAULT_METRIC,
    strength: Annotated[float, typer.Option(help="Dithering strength 0..1.")] = defaults.DEFAULT_STRENGTH,
    seed: Annotated[int, typer.Option(help="Seed for random dithering.")] = defaults.DEFAULT_SEED,
    resample: Annotated[str, typer.Option(help="lanczos or nearest.")] = defaults.DEFAULT_RESAMPLE,
    face: common.Face = defaults.DEFAULT_FACE,
    category: common.Category = None,
    exclude_category: common.ExcludeCategory = None,
    block: common.BlockId = None,
    exclude_block: common.ExcludeBlock = None,
    no_gravity: common.NoGravity = False,
    no_light: common.NoLight = False,
    game_version: common.GameVersion = None,
    priority: Annotated[
        str, typer.Option(help=", ".join(p.label for p in reversed(Priority)) + ".")
    ] = DEFAULT_PRIORITY.label,
    as_json: Json = False,
) -> None:
    """Queue a conversion without the API; a worker will run it."""
    from pixeletica.engine.conversion_settings import ConversionSettings  # the engine: only submit needs it

    store, settings = open_store()
    data = fsutil.read_capped(image, settings.max_input_file_size, "input file", "max_input_file_size")
    task = operations.submit(
        store,
        settings.tasks_dir,
        data=data,
        filename=image.name,
        settings=ConversionSettings.from_dict(
            {
                "width": width,
                "height": height,
                "algorithm": dithering,
                "metric": metric,
                "strength": strength,
                "seed": seed,
                "resample": resample,
                "face": face,
                "include_categories": category or [],
                "exclude_categories": exclude_category or [],
                "include_blocks": block or [],
                "exclude_blocks": exclude_block or [],
                "no_gravity": no_gravity,
                "no_light": no_light,
                "game_version": game_version,
                "max_size": settings.max_size,
                "max_input_pixels": settings.max_input_pixels,
            }
        ),
        priority=Priority.parse(priority),
        max_attempts=settings.max_attempts,
        actor=ACTOR,
    )
    _report(task, as_json, task.id)


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw]?)$")


def parse_duration(text: str) -> dt.timedelta:
    """'90s', '30m', '24h', '7d', '2w' (a bare number is seconds)."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise InvalidInput(f"{text!r} is not a duration like 30m, 24h or 7d")
    unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[match.group(2)]
    seconds = float(match.group(1)) * unit
    if seconds > 3650 * 86400:
        raise InvalidInput(f"{text!r} is longer than ten years")
    return dt.timedelta(seconds=seconds)


@app.command("stats")
@common.reports_errors
def stats(
    since: Annotated[str, typer.Option(help="Window: tasks created within this duration (30m, 24h, 7d).")] = "24h",
    as_json: Json = False,
) -> None:
    """Counts per status, wait and processing times, failure rate, top errors, throughput."""
    store, _ = open_store()
    report = analytics.stats(store, parse_duration(since))
    if as_json:
        views.print_json(report)
        return
    console = views.stdout_console()
    table = Table(title=f"Tasks created in the last {since}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for name, value in report["counts"].items():
        table.add_row(name, str(value))
    for name in ("wait_seconds", "processing_seconds"):
        p = report[name]
        table.add_row(name.replace("_", " "), "  ".join(f"{k} {v:.2f}" for k, v in p.items()) if p else "-")
    table.add_row("failure rate", f"{report['failure_rate'] * 100:.1f} %")
    table.add_row("throughput", f"{report['throughput_per_hour']:.1f} completed/hour")
    for code, count in report["top_errors"]:
        table.add_row(f"error {code}", str(count))
    console.print(table)


@app.command("prune")
@common.reports_errors
def prune(as_json: Json = False) -> None:
    """Apply retention now: delete old completed and failed tasks with their files."""
    store, settings = open_store()
    report = Monitor.from_settings(store, settings).prune()
    views.print_json({"deleted": report.deleted}) if as_json else typer.echo(f"deleted {len(report.deleted)} task(s)")
