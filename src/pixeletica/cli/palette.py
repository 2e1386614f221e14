"""``pixeletica palette``: see which blocks a set of palette options gives."""

from __future__ import annotations

import csv
import json
import sys
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from pixeletica.cli import common, views
from pixeletica.engine import palette as palettes

app = typer.Typer(help="Show the block palette.", no_args_is_help=True)
#: What ``palette list`` can print the blocks as.
_FORMATS = ("table", "csv", "json")
_CHOICES = f"{', '.join(_FORMATS[:-1])} or {_FORMATS[-1]}"


def _flags(block: palettes.Block) -> str:
    names = [
        ("gravity", block.gravity),
        ("light", block.emits_light),
        ("support", block.needs_support),
        ("changes", block.changes),
        ("creative", not block.survival),
    ]
    return ", ".join(n for n, on in names if on)


@app.command("list")
@common.reports_errors
@common.palette_options
def list_blocks(
    *,
    choice: common.PaletteChoice,
    output: Annotated[str, typer.Option("--format", help=f"{_CHOICES}.")] = _FORMATS[0],
) -> None:
    """List the blocks the palette options select, with colour swatches."""
    if output not in _FORMATS:
        raise common.fail(f"unknown --format {output!r}; choose {_CHOICES}")
    face = choice.face
    chosen = palettes.select(choice.palette_filter(), face=face, blocks=choice.own_blocks())
    if output == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["id", "name", "color", "categories", "since"])
        for b in chosen.blocks:
            writer.writerow([b.id, b.name, b.colors[face], " ".join(b.categories), b.since])
        return
    if output == "json":
        rows = [
            {"id": b.id, "name": b.name, "color": b.colors[face], "categories": list(b.categories), "since": b.since}
            for b in chosen.blocks
        ]
        typer.echo(json.dumps(rows, indent=1))
        return
    table = Table(title=f"{len(chosen)} blocks ({face} face)", title_justify="left")
    for column in ("", "id", "name", "colour", "categories", "flags", "since"):
        table.add_column(column)
    for b in chosen.blocks:
        table.add_row(
            Text("    ", style=f"on {b.colors[face]}"),
            b.id,
            b.name,
            b.colors[face],
            ", ".join(b.categories),
            _flags(b),
            b.since,
        )
    views.stdout_console().print(table)


@app.command("categories")
@common.reports_errors
def list_categories() -> None:
    """List the block categories of the default palette, with how many blocks each has."""
    table = Table(show_header=True)
    table.add_column("category")
    table.add_column("blocks", justify="right")
    for name in palettes.categories():
        table.add_row(name, str(sum(name in b.categories for b in palettes.default_blocks())))
    views.stdout_console().print(table)
