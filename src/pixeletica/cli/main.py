"""The ``pixeletica`` command: each subcommand is imported only when it runs.

``pixeletica task list`` should not wait for the image engine, the web server or Celery to load,
so the commands are named with their one-line help (in :data:`pixeletica.cli.commands.COMMANDS`) and
loaded by name; :mod:`pixeletica.cli.quick` answers the commonest command lines before this module
loads. A command that needs an extra which is not installed (:data:`pixeletica.cli.commands.NEEDS`) says
so in one line, with exit code 2.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer._click.exceptions import ClickException
from typer.core import TyperGroup

if TYPE_CHECKING:  # the click that Typer carries (its group's methods are typed with it)
    from typer._click import Command, Context, HelpFormatter

from pixeletica import __version__
from pixeletica.cli import commands, quick

_SETTINGS: dict[str, Any] = {"help_option_names": ["--help"]}  # -h is --height


def load(name: str) -> Command:
    """The click command of subcommand ``name``, importing its module now."""
    where, _ = commands.COMMANDS[name]
    module, attribute = where.split(":")
    found = getattr(importlib.import_module(module), attribute)
    if isinstance(found, typer.Typer):
        command: Command = typer.main.get_group(found)
    else:
        single = typer.Typer(add_completion=False, pretty_exceptions_enable=False, context_settings=_SETTINGS)
        single.command(name)(found)
        command = typer.main.get_command(single)
    command.name = name
    return command


class _Lazy(TyperGroup):
    """Lists the commands from :data:`commands.COMMANDS`; imports one only to run it (or to show its own help)."""

    def list_commands(self, ctx: Context) -> list[str]:
        return list(commands.COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in commands.COMMANDS:
            return None
        if (message := commands.missing_extras(cmd_name)) is not None:
            typer.echo(f"error: {message}", err=True)
            ctx.exit(commands.EXIT_MISSING_EXTRA)
        return load(cmd_name)

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The same help as ``pixeletica --help`` answered quickly (:func:`pixeletica.cli.quick.help_text`)."""
        formatter.write(commands.help_text())


app = typer.Typer(
    name="pixeletica",
    cls=_Lazy,
    help=commands.SUMMARY,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings=_SETTINGS,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pixeletica {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Turn images into Minecraft block art."""


def run(entry: typer.Typer | None = None, prog_name: str | None = None) -> None:
    """Console-script entry point (of ``entry``, by default ``pixeletica``). A command line that does not
    parse (an unknown option, a value of the wrong type) is one line and exit code 2, as is an extra found
    missing only while running (``worker --celery`` without Celery)."""
    try:
        code = (entry or app)(standalone_mode=False, prog_name=prog_name)
    except ClickException as problem:
        if type(problem).__name__ == "NoArgsIsHelpError":  # no arguments: the help, as asked for
            problem.show()
        else:
            context = getattr(problem, "ctx", None)
            hint = f" (see '{context.command_path} --help')" if context is not None else ""
            typer.echo(f"error: {problem.format_message()}{hint}", err=True)
        sys.exit(problem.exit_code)
    except typer.Abort:  # Ctrl-C or end of input at a prompt
        typer.echo("aborted", err=True)
        sys.exit(1)
    except OSError as problem:
        # The output cannot be written (a full disk behind `>`); a reader that went away (`| head`) is
        # the command line library's to handle (exit 1 quietly); any other error is not the output's.
        if problem.filename is not None or problem.errno not in quick.OUTPUT_FULL:
            raise
        quick.output_failed(problem)
    except ModuleNotFoundError as missing:
        extra = commands.extra_of(missing.name)
        if extra is None:
            raise
        command = next((argument for argument in sys.argv[1:] if argument in commands.COMMANDS), "")
        typer.echo(f"error: {commands.missing_extras_message(command, [extra])}", err=True)
        sys.exit(commands.EXIT_MISSING_EXTRA)
    sys.exit(code if isinstance(code, int) else 0)
