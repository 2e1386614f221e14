"""Pixeletica's commands: each one's module and help line, the extras each needs, and the top-level help.

Read by the full command line (:mod:`pixeletica.cli.main`, which imports a command's module only to run
it) and by the quick answers (:mod:`pixeletica.cli.quick`); it imports nothing of either.
"""

from __future__ import annotations

import importlib.util

#: Every subcommand: where it lives ("module:attribute", a function or a Typer app) and its help line.
COMMANDS: dict[str, tuple[str, str]] = {
    "convert": (
        "pixeletica.cli.convert:convert",
        "Convert an image into Minecraft block art: dithered picture, block grid, materials list.",
    ),
    "worker": (
        "pixeletica.cli.processes:worker",
        "Run worker processes that take queued tasks from the store and convert them.",
    ),
    "monitor": (
        "pixeletica.cli.processes:monitor",
        "Watch over tasks: re-queue those whose worker is gone, fail stuck ones, apply retention.",
    ),
    "serve": (
        "pixeletica.cli.serve:serve",
        "Run Pixeletica: the HTTP API, local worker processes (or a broker dispatcher) and the monitor.",
    ),
    "palette": ("pixeletica.cli.palette:app", "Show the block palette."),
    "task": ("pixeletica.cli.task:app", "Inspect and manage conversion tasks."),
    "db": ("pixeletica.cli.processes:db", "The task store's database."),
    "cluster": (
        "pixeletica.cli.cluster:app",
        "Redis, PostgreSQL, the API, Celery workers and the monitor as local processes.",
    ),
}
SUMMARY = "Turn images into Minecraft block art."


def help_text() -> str:
    """``pixeletica --help``."""
    width = max(len(name) for name in COMMANDS)
    lines = [
        "Usage: pixeletica [OPTIONS] COMMAND [ARGS]...",
        "",
        f"  {SUMMARY}",
        "",
        "Options:",
        "  --version  Print the version and exit.",
        "  --help     Show this message and exit.",
        "",
        "Commands:",
        *(f"  {name:<{width}}  {help_line}" for name, (_, help_line) in COMMANDS.items()),
        "",
        "Run 'pixeletica COMMAND --help' for a command's options.",
    ]
    return "\n".join(lines) + "\n"


#: pyproject's extras, each with modules that are there only when it is installed.
EXTRAS: dict[str, tuple[str, ...]] = {
    "server": ("fastapi", "uvicorn", "sqlalchemy", "alembic", "multipart", "prometheus_client"),
    "celery": ("celery",),
    "postgres": ("psycopg",),
}
#: The extras a subcommand needs; the others (convert, palette) run on the bare package.
NEEDS: dict[str, tuple[str, ...]] = {
    "worker": ("server",),
    "monitor": ("server",),
    "serve": ("server",),
    "task": ("server",),
    "db": ("server",),
    "cluster": ("server", "celery", "postgres"),
}
#: The exit code of a command whose extra is not installed.
EXIT_MISSING_EXTRA = 2


def missing_extras_message(command: str, extras: list[str]) -> str:
    names = " and ".join(extras)
    return (
        f"{' '.join(('pixeletica', command)).strip()} needs the {names} extra{'s' if len(extras) > 1 else ''}: "
        f"pip install 'pixeletica[{','.join(extras)}]'"
    )


def missing_extras(command: str) -> str | None:
    """Why ``command`` cannot run on this installation (an extra it needs is not installed), or None."""
    missing = [
        extra
        for extra in NEEDS.get(command, ())
        if any(importlib.util.find_spec(module) is None for module in EXTRAS[extra])
    ]
    return missing_extras_message(command, missing) if missing else None


def extra_of(module: str | None) -> str | None:
    """The extra that provides ``module`` (a top-level name), if it is one of theirs."""
    top = (module or "").split(".")[0]
    return next((extra for extra, modules in EXTRAS.items() if top in modules), None)
