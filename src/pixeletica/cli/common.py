"""What every command shares: error reporting, and the palette options of convert and palette list."""

from __future__ import annotations

import contextlib
import functools
import inspect
import signal
import sys
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pixeletica import config, names
from pixeletica.engine import defaults
from pixeletica.errors import LimitExceeded, NotFound, PixeleticaError, TransitionConflict

if TYPE_CHECKING:
    from pixeletica.engine.palette import Block, PaletteFilter

EXIT_NOT_FOUND = 1
EXIT_BAD_INPUT = 2


def fail(message: str) -> typer.Exit:
    """Print one 'error: ...' line on stderr; return the exit to raise (code 2)."""
    error_line(message)
    return typer.Exit(EXIT_BAD_INPUT)


def error_line(message: object) -> None:
    """'error: <message>' on stderr, on one line, with any control characters shown as escapes."""
    typer.echo(f"error: {names.printable(str(message).replace(chr(10), ' '))}", err=True)


class Stopped(BaseException):  # like KeyboardInterrupt: not an error, a request to unwind
    """SIGTERM or SIGHUP arrived while a command that writes files was running."""

    def __init__(self, number: int) -> None:
        super().__init__(signal.Signals(number).name)
        self.number = number


#: Said of a command stopped while it wrote files: the block that wrote them removes them as it unwinds.
NOTHING_WRITTEN = "no output was written"
#: What stops a command as Ctrl-C does: ``kill``, a service manager, a closed terminal.
STOPPING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def unwinding_when_stopped() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Stopped` as Ctrl-C raises KeyboardInterrupt, so
    that what it was writing is removed on the way out instead of being left half-written (the exception then
    carries the note :data:`NOTHING_WRITTEN`, which :func:`reports_errors` prints).

    A signal ignored when the block starts (``nohup``) stays ignored; once one of these or Ctrl-C has
    arrived, all of them are ignored, so that a second one cannot interrupt the clean-up of the first.
    """

    def ignore_the_next() -> None:
        for each in (*STOPPING_SIGNALS, signal.SIGINT):
            signal.signal(each, signal.SIG_IGN)

    def stop(number: int, frame: object) -> None:
        ignore_the_next()
        raise Stopped(number)

    def interrupt(number: int, frame: object) -> None:
        ignore_the_next()
        raise KeyboardInterrupt

    previous = {number: signal.getsignal(number) for number in (*STOPPING_SIGNALS, signal.SIGINT)}
    for number, handler in previous.items():
        if handler not in (signal.SIG_IGN, None):  # None: set outside Python, left alone
            signal.signal(number, interrupt if number == signal.SIGINT else stop)
    try:
        yield
    except (KeyboardInterrupt, Stopped) as stopped:  # what the block wrote is gone: say so when reporting it
        stopped.add_note(NOTHING_WRITTEN)
        raise
    finally:
        for number, handler in previous.items():
            if handler is not None:
                signal.signal(number, handler)


#: The flag of each conversion setting whose flag is not its name with dashes (``origin_x``: ``--origin-x``).
_FLAGS = {
    "algorithm": "dither", "include_categories": "category", "exclude_categories": "exclude-category",
    "include_blocks": "block", "exclude_blocks": "exclude-block", "line_visibilities": "lines",
    "image_division": "division", "schematic_formats": "schematic-format", "kind": "map-art",
    "blocks": "map-blocks", "exclude": "exclude-colour", "preset": "map-preset", "layout": "map-layout",
}  # fmt: skip


def flagged(exc: PixeleticaError) -> str:
    """The error's sentence, naming the setting at fault (if any) by its command-line flag, as typed."""
    message = str(exc)
    field = getattr(exc, "field", None)
    if field is None:
        return message
    flag = "--" + _FLAGS.get(field, field.replace("_", "-"))
    return flag + message[len(field) :] if message.startswith(f"{field} ") else f"{flag}: {message}"


def _store_failure(exc: Exception) -> str | None:
    """Why the task database failed under a command (damaged, out of reach), or None for any other error."""
    if "sqlalchemy" not in sys.modules:  # only the commands that use the store load it
        return None
    from pixeletica.tasks.store import database

    return database.unusable_reason(exc)


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn Pixeletica errors raised by a command into one line on stderr and exit code 2 (1: not found);
    Ctrl-C into exit code 130 and :class:`Stopped` into 128 + the signal's number, each with one line."""

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
            raise fail(f"{flagged(exc)}{config.hint(exc.setting)}") from None
        except PixeleticaError as exc:
            raise fail(flagged(exc)) from None
        except MemoryError:
            raise fail("not enough memory for this image; use a smaller --width/--height") from None
        except Exception as exc:
            reason = _store_failure(exc)
            if reason is None:
                raise
            raise fail(f"cannot use the task database: {reason}") from None
        except KeyboardInterrupt as exc:
            typer.echo("; ".join(["interrupted", *getattr(exc, "__notes__", ())]), err=True)
            sys.exit(130)
        except Stopped as exc:
            typer.echo("; ".join([f"stopped by {exc}", *getattr(exc, "__notes__", ())]), err=True)
            sys.exit(128 + exc.number)

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


@dataclass(frozen=True, kw_only=True)
class PaletteChoice:
    """The palette options of ``convert`` and ``palette list``: which blocks, seen from which face.

    A command takes them as one parameter annotated with this class, under :func:`palette_options`.
    """

    face: Face = defaults.DEFAULT_FACE
    palette_file: PaletteFile = None
    category: Category = None
    exclude_category: ExcludeCategory = None
    block: BlockId = None
    exclude_block: ExcludeBlock = None
    survival_only: SurvivalOnly = None
    stable_only: StableOnly = None
    no_gravity: NoGravity = False
    no_light: NoLight = False
    game_version: GameVersion = None

    def palette_filter(self) -> PaletteFilter:
        """The filter asked for, over the default list or a user's own file.

        A user's own file is taken as chosen: the survival and stability filters apply to it only
        when asked for explicitly.
        """
        from pixeletica.engine import palette  # the engine: only the commands that choose blocks need it

        default_list = self.palette_file is None
        return palette.PaletteFilter(
            include_categories=tuple(self.category or ()),
            exclude_categories=tuple(self.exclude_category or ()),
            include_blocks=tuple(self.block or ()),
            exclude_blocks=tuple(self.exclude_block or ()),
            survival_only=default_list if self.survival_only is None else self.survival_only,
            stable_only=default_list if self.stable_only is None else self.stable_only,
            no_gravity=self.no_gravity,
            no_light=self.no_light,
            game_version=self.game_version,
        )

    def own_blocks(self) -> tuple[Block, ...] | None:
        """The blocks of ``--palette-file``, read and checked; None without one (the default list)."""
        from pixeletica.engine import palette

        return palette.load_palette_file(self.palette_file) if self.palette_file is not None else None


def palette_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the palette options as flags, and pass them to it as one :class:`PaletteChoice`.

    Typer reads a command's flags from its signature: the signature it is shown has the
    choice's fields (each with its flag) in place of the parameter annotated ``PaletteChoice``.
    """
    signature = inspect.signature(command, eval_str=True)
    (name,) = (p.name for p in signature.parameters.values() if p.annotation is PaletteChoice)
    kind = signature.parameters[name].kind
    hints = typing.get_type_hints(PaletteChoice, include_extras=True)  # the Annotated flags, not strings
    options = [
        inspect.Parameter(f.name, kind, default=f.default, annotation=hints[f.name]) for f in fields(PaletteChoice)
    ]
    parameters: list[inspect.Parameter] = []
    for parameter in signature.parameters.values():
        parameters += options if parameter.name == name else [parameter]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        choice = PaletteChoice(**{o.name: kwargs.pop(o.name) for o in options if o.name in kwargs})
        return command(*args, **kwargs, **{name: choice})

    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper
