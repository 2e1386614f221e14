"""The ``pixeletica`` command."""

from __future__ import annotations

from typing import Annotated

import typer

from pixeletica import __version__
from pixeletica.cli import cluster, convert, palette, serve, service, task

app = typer.Typer(
    name="pixeletica",
    help="Turn images into Minecraft block art.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["--help"]},
)
app.command("convert")(convert.convert)
app.add_typer(palette.app, name="palette")
app.add_typer(task.app, name="task")
app.command("worker")(service.worker)
app.command("monitor")(service.monitor)
app.command("serve")(serve.serve)
db = typer.Typer(help="The task store's database.", no_args_is_help=True)
db.command("upgrade")(service.db_upgrade)
app.add_typer(db, name="db")
app.add_typer(cluster.app, name="cluster")


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


def run() -> None:
    """Console-script entry point."""
    app()
