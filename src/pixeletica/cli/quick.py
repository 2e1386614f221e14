"""The ``pixeletica`` console script: the commands an operator types most, answered at once.

``pixeletica --help``, ``--version``, ``task list``, ``task info`` and ``task find-stuck`` are answered
here with the standard library's SQLite driver, without loading the command-line library, pydantic or
SQLAlchemy (each of which takes longer to load than the whole answer may). Everything else — and these
commands too whenever anything is out of the ordinary: an option written another way, a bad value, a
setting in error, a store that is not a plain SQLite file or needs migrating, a task not found — goes to
the full command line (:mod:`pixeletica.cli.main`), which gives the same answers and the errors. Nothing
is printed before a quick answer is complete, so handing over is always possible.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
import sqlite3
import sys
from collections.abc import Callable
from typing import NoReturn, Protocol

from pixeletica import __version__
from pixeletica.cli import commands
from pixeletica.errors import PixeleticaError
from pixeletica.tasks.model import Artifact, Event, Status, Task, find_stuck

#: How many tasks ``task list`` shows, and the most ``--limit`` may ask for.
LIST_DEFAULT, LIST_MAX = 20, 10_000


# --- the read commands, over the Store or the plain SQLite reader ---------------------------------


class Reads(Protocol):
    """What the read commands ask of a store (:class:`pixeletica.tasks.store.Store` has it all)."""

    def list(self, *, status: Status | None = None, limit: int = 50, search: str | None = None) -> list[Task]: ...
    def resolve(self, prefix: str) -> Task: ...
    def events(self, task_id: str) -> builtins.list[Event]: ...
    def artifacts(self, task_id: str) -> builtins.list[Artifact]: ...
    def processing_longer_than(self, seconds: float, limit: int = 1000) -> builtins.list[Task]: ...


def task_list(reads: Reads, status: str | None, limit: int, search: str | None, as_json: bool) -> None:
    """``task list``: recent tasks, newest first."""
    from pixeletica.cli import views  # (Rich: only once there is something to show; --help needs none)

    chosen = Status.parse(status) if status else None
    rows = reads.list(status=chosen, limit=limit, search=search)
    views.show_tasks(rows, f"{len(rows)} task(s)" + (f" {chosen.value}" if chosen else ""), as_json)


def task_info(reads: Reads, task_id: str, as_json: bool) -> None:
    """``task info``: a task's fields, history and files."""
    from pixeletica.cli import views

    task = reads.resolve(task_id)
    events, files = reads.events(task.id), reads.artifacts(task.id)
    views.show_task(task, events, files, as_json)


def task_find_stuck(reads: Reads, max_time: float, as_json: bool) -> None:
    """``task find-stuck``: tasks processing for longer than ``max_time`` seconds."""
    from pixeletica.cli import views

    rows = find_stuck(reads, max_time)
    views.show_tasks(rows, f"{len(rows)} task(s) processing for more than {max_time:g} s", as_json)


# --- the quick answers ------------------------------------------------------------------------------


class _Unusual(Exception):
    """The command line is not one of the plain shapes answered here: the full command line answers it."""


def _options(words: list[str], flags: dict[str, str], switches: set[str]) -> tuple[dict[str, str], list[str]]:
    """Options (``flags``: spelling -> name, each given at most once) and the other words, in order."""
    values: dict[str, str] = {}
    rest: list[str] = []
    words = list(words)
    while words:
        word = words.pop(0)
        if word in switches and word not in values:
            values[word] = ""
        elif word in flags and flags[word] not in values and words and not words[0].startswith("-"):
            values[flags[word]] = words.pop(0)
        elif word.startswith("-"):
            raise _Unusual(word)
        else:
            rest.append(word)
    return values, rest


def _number(text: str, *, whole: bool) -> float:
    """A number written plainly (digits, and a decimal point unless ``whole``); anything else is unusual."""
    digits = text if whole else text.replace(".", "", 1)
    if not (digits.isascii() and digits.isdigit()):
        raise _Unusual(text)
    return int(text) if whole else float(text)


def _task_command(words: list[str]) -> Callable[[Reads, float], None]:
    """The read command these words ask for, as a function of a reader and the stuck time's setting."""
    command, words = words[0], words[1:]
    if command == "list":
        given, rest = _options(
            words, {"--status": "status", "-s": "status", "--limit": "limit", "-n": "limit", "--search": "search"},
            {"--json"},
        )  # fmt: skip
        limit = int(_number(given.get("limit", str(LIST_DEFAULT)), whole=True))
        if rest or not 1 <= limit <= LIST_MAX:
            raise _Unusual(words)
        return lambda reads, _: task_list(reads, given.get("status"), limit, given.get("search"), "--json" in given)
    if command == "info":
        given, rest = _options(words, {}, {"--json"})
        if len(rest) != 1:
            raise _Unusual(words)
        return lambda reads, _: task_info(reads, rest[0], "--json" in given)
    if command == "find-stuck":
        given, rest = _options(words, {"--max-time": "max_time"}, {"--json"})
        if rest:
            raise _Unusual(words)
        chosen = _number(given["max_time"], whole=False) if "max_time" in given else None
        return lambda reads, setting: task_find_stuck(reads, setting if chosen is None else chosen, "--json" in given)
    raise _Unusual(command)


def answer(words: list[str]) -> bool:
    """Answer the command line ``words`` here if it is one of the plain shapes; False to hand it over."""
    if words == ["--help"]:
        sys.stdout.write(commands.help_text())
        return True
    if words == ["--version"]:
        sys.stdout.write(f"pixeletica {__version__}\n")
        return True
    if len(words) < 2 or words[0] != "task" or "--help" in words or commands.missing_extras("task"):
        return False  # (the full command line says which extra to install)
    try:
        command = _task_command(words[1:])
    except _Unusual:
        return False
    from pixeletica import config
    from pixeletica.tasks.sqlite_reads import SqliteReads

    try:
        settings = config.get_settings()
        reads = SqliteReads.open(settings.store_url)
        if reads is None:
            return False
        try:
            command(reads, settings.task_max_processing_time)
        finally:
            reads.close()
    except (PixeleticaError, sqlite3.Error):  # the full command line says it in its words (or can do it)
        return False
    return True


#: Why standard output could not take what a command printed.
OUTPUT_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)


def output_failed(problem: OSError) -> NoReturn:
    """Standard output could not take the answer: a full disk behind ``>`` is one line on stderr, a reader that
    went away (``| head``) nothing; exit code 1 either way. Output is then pointed at /dev/null, so that
    flushing it at exit cannot fail a second time."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, sys.stdout.fileno())
        finally:
            os.close(null)
    if problem.errno != errno.EPIPE:
        sys.stderr.write(f"error: cannot write the output: {problem.strerror or problem}\n")
    sys.exit(1)


def run(words: builtins.list[str] | None = None, full: Callable[[], None] | None = None) -> None:
    """Console-script entry point: a quick answer to ``words`` (by default the command line's), or the full
    command line (``full``, by default ``pixeletica``'s)."""
    try:
        answered = answer(sys.argv[1:] if words is None else words)
    except OSError as problem:  # writing the answer failed (a file's error names its file)
        if problem.filename is not None or (problem.errno != errno.EPIPE and problem.errno not in OUTPUT_FULL):
            raise
        output_failed(problem)
    if answered:
        return
    if full is not None:
        full()
        return
    from pixeletica.cli.main import run as full_command_line

    full_command_line()
