"""How commands show results: the console for tables (Rich), and tasks as tables or JSON (``--json``).

The task tables are shared by the commands (:mod:`pixeletica.cli.task`) and their quick answers
(:mod:`pixeletica.cli.quick`), so that both print the same thing; this module loads neither the
command-line library nor the store.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pixeletica import names
from pixeletica.tasks.model import Artifact, Event, Task, iso


def stdout_console() -> Console:
    """A console for results; when piped, wide enough that ids are never cut."""
    return Console() if sys.stdout is not None and sys.stdout.isatty() else Console(width=200)


def print_json(value: Any) -> None:
    """``value`` as JSON, indented; a list of objects has one object a line (quick to write and to grep)."""
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        sys.stdout.write("[\n" + ",\n".join(json.dumps(item) for item in value) + "\n]\n")
    else:
        sys.stdout.write(json.dumps(value, indent=2) + "\n")


def _cell(value: object) -> Text:
    """A table cell of stored text: shown as it is (no markup), control characters as escapes."""
    return Text(names.printable("" if value is None else value, one_line=True))


def show_tasks(rows: Sequence[Task], title: str, as_json: bool) -> None:
    """Tasks as JSON, or as a table under ``title``."""
    if as_json:
        print_json([task.as_json() for task in rows])
        return
    table = Table(title=title, title_justify="left")
    for column in ("id", "status", "priority", "progress", "step", "created", "updated", "input", "error"):
        table.add_column(column, overflow="fold")
    colours = {"queued": "cyan", "processing": "yellow", "completed": "green", "failed": "red"}
    for t in rows:
        table.add_row(
            _cell(t.id),
            Text(t.status.value, style=colours[t.status.value]),
            t.priority.label,
            f"{t.progress}%",
            _cell(t.step),
            iso(t.created_at),
            iso(t.updated_at),
            _cell(t.input_name),
            _cell((t.error or "")[:80]),
        )
    stdout_console().print(table)


def show_task(task: Task, events: Sequence[Event], files: Sequence[Artifact], as_json: bool) -> None:
    """Every field of a task, its event history and its files: as JSON, or as three tables."""
    if as_json:
        print_json(
            {
                **task.as_json(),
                "events": [{**e.__dict__, "at": iso(e.at)} for e in events],
                "artifacts": [a.__dict__ for a in files],
            }
        )
        return
    console = stdout_console()
    fields = Table(title=f"Task {task.id}", show_header=False, title_justify="left")
    fields.add_column(style="bold")
    fields.add_column(overflow="fold")
    for key, value in task.as_json().items():
        if key in ("settings", "result"):
            value = json.dumps(value, sort_keys=True)
        fields.add_row(key, _cell(value))
    console.print(fields)
    history = Table(title="Events", title_justify="left")
    for column in ("time", "from", "to", "attempt", "actor", "message"):
        history.add_column(column, overflow="fold")
    for e in events:
        history.add_row(iso(e.at), e.from_status or "", e.to_status, str(e.attempt), _cell(e.actor), _cell(e.message))
    console.print(history)
    if files:
        listing = Table(title="Files", title_justify="left")
        for column in ("file id", "category", "filename", "type", "size", "sha256"):
            listing.add_column(column, overflow="fold")
        for a in files:
            listing.add_row(
                _cell(a.file_id), _cell(a.category), _cell(a.filename), _cell(a.media_type), f"{a.size:,}",
                a.sha256[:16],
            )  # fmt: skip
        console.print(listing)
