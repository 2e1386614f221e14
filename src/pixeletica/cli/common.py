"""What every command shares: error reporting, and the palette options of convert and palette list."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from pixeletica import config, names
from pixeletica.errors import LimitExceeded, NotFound, PixeleticaError, TransitionConflict

if TYPE_CHECKING:
    from pixeletica.engine.palette import Palette

EXIT_NOT_FOUND = 1
EXIT_BAD_INPUT = 2


def stdout_console() -> Console:
    """A console for results; when piped, wide enough that ids are never cut."""
    return Console() if sys.stdout.isatty() else Console(width=200)


def fail(message: str) -> typer.Exit:
    """Print one 'error: ...' line on stderr; return the exit to raise (code 2)."""
    error_line(message)
    return typer.Exit(EXIT_BAD_INPUT)


def error_line(message: object) -> None:
    """'error: <message>' on stderr, on one line, with any control characters shown as escapes."""
    typer.echo(f"error: {names.printable(str(message).replace(chr(10), ' '))}", err=True)


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn Pixeletica errors raised by a command into one line on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except NotFound as exc:
            error_line(exc)
            raise typer.Exit(EXIT_NOT_FOUND) from None
        except TransitionConflict as exc:
            error_line(f"{exc}; nothing was changed")
            raise typer.Exit(EXIT_NOT_FOUND) from None
        except LimitExceeded as exc:
            raise fail(f"{exc}{config.hint(exc.setting)}") from None
        except PixeleticaError as exc:
            raise fail(str(exc)) from None
        except MemoryError:
            raise fail("not enough memory for this image; use a smaller --width/--height") from None
        except KeyboardInterrupt:
            typer.echo("interrupted; no output was written", err=True)
            sys.exit(130)

    return wrapper


Face = Annotated[str, typer.Option("--face", help="Which face shows: 'side' for walls, 'top' for floors.")]
PaletteFile = Annotated[
    Path | None,
    typer.Option("--palette-file", help="Your own palette (CSV 'id,#rrggbb' or JSON); replaces the default list."),
]
Category = Annotated[
    list[str] | None, typer.Option("--category", "-c", help="Use only blocks of this category (repeatable).")
]
ExcludeCategory = Annotated[
    list[str] | None, typer.Option("--exclude-category", help="Leave out blocks of this category (repeatable).")
]
BlockId = Annotated[
    list[str] | None, typer.Option("--block", "-b", help="Use this block id (repeatable; with --category: added).")
]
ExcludeBlock = Annotated[
    list[str] | None, typer.Option("--exclude-block", help="Leave out this block id (repeatable).")
]
SurvivalOnly = Annotated[
    bool | None,
    typer.Option(
        "--survival-only/--any-source",
        help="Only blocks obtainable in survival play (default: on for the default list, off for --palette-file).",
        show_default=False,
    ),
]
StableOnly = Annotated[
    bool | None,
    typer.Option(
        "--stable-only/--allow-changing",
        help="Leave out blocks that change by themselves: unwaxed copper, live coral. "
        "(default: on for the default list, off for --palette-file).",
        show_default=False,
    ),
]
NoGravity = Annotated[bool, typer.Option("--no-gravity", help="Leave out blocks that fall (sand, gravel, powder).")]
NoLight = Annotated[bool, typer.Option("--no-light", help="Leave out blocks that emit light.")]
GameVersion = Annotated[
    str | None, typer.Option("--game-version", help="Only blocks that exist in this Minecraft version, e.g. 1.19.")
]


def build_palette(
    *,
    face: str,
    palette_file: Path | None,
    category: list[str] | None,
    exclude_category: list[str] | None,
    block: list[str] | None,
    exclude_block: list[str] | None,
    survival_only: bool | None,
    stable_only: bool | None,
    no_gravity: bool,
    no_light: bool,
    game_version: str | None,
) -> Palette:
    """Apply the palette options: a user file replaces the default list, filters apply to either.

    A user's own file is taken as chosen: the survival and stability filters apply to it only
    when asked for explicitly.
    """
    from pixeletica.engine import palette  # the engine: only the commands that choose blocks need it

    source = palette.load_palette_file(palette_file) if palette_file is not None else None
    if survival_only is None:
        survival_only = source is None
    if stable_only is None:
        stable_only = source is None
    spec = palette.PaletteFilter(
        include_categories=tuple(category or ()),
        exclude_categories=tuple(exclude_category or ()),
        include_blocks=tuple(block or ()),
        exclude_blocks=tuple(exclude_block or ()),
        survival_only=survival_only,
        stable_only=stable_only,
        no_gravity=no_gravity,
        no_light=no_light,
        game_version=game_version,
    )
    return palette.select(spec, face=face, blocks=source)
