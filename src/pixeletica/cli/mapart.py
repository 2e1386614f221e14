"""``pixeletica convert --map-art``: map art through the same settings and production as a task's.

The flags become the settings a task would store (:class:`~pixeletica.engine.conversion_settings.ConversionSettings`
with its ``map_art``), checked once; :func:`pixeletica.engine.production.produce` makes the files; this module
only reads the block choice file, lays the files out in folders and prints the summary.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path, PurePosixPath
from typing import Any

from rich.table import Table
from rich.text import Text

from pixeletica import fsutil, names
from pixeletica.cli import views
from pixeletica.engine import conversion_settings, mapart, production, quality
from pixeletica.errors import InvalidInput

#: Largest per-colour block choice file: 61 lines of a colour and a block id.
MAX_BLOCK_CHOICE_BYTES = 64 * 1024
#: Flags of a picture conversion that map art has no use for, and what to use instead.
UNUSED_FLAGS = {
    "width": "the size comes from --maps",
    "height": "the size comes from --maps",
    "lines": "map art has no textured renders",
}


def read_block_choices(path: Path) -> dict[str, str]:
    """A per-colour block choice: JSON ``{"GRASS": "minecraft:moss_block", ...}`` or CSV lines ``colour,block``."""
    raw = fsutil.read_capped(path, MAX_BLOCK_CHOICE_BYTES, "block choice file")
    shown = names.printable(path.name)
    try:
        text = raw.decode("utf-8-sig")  # a spreadsheet's CSV may start with a byte order mark
    except UnicodeDecodeError:
        raise InvalidInput(f"{shown} is not UTF-8 text: give CSV lines 'colour,block' or a JSON object") from None
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text, object_pairs_hook=_refuse_repeats)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{shown} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
        except (ValueError, RecursionError):  # a number too long to read, or objects nested thousands deep
            raise InvalidInput(f"{shown} is not a JSON object of colour names and block ids") from None
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in document.items()):
            raise InvalidInput(f"{shown}: every entry must be a colour name and a block id, both strings")
        return dict(document)
    choices = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not cells or not cells[0] or cells[0].startswith("#") or cells[0].lower() in ("colour", "color"):
            continue
        if len(cells) != 2 or not cells[1]:
            raise InvalidInput(f"{shown} line {number}: expected 'colour,block', got {names.shown(','.join(row))}")
        if cells[0] in choices:
            raise InvalidInput(f"{shown} line {number}: {names.shown(cells[0])} is chosen a second time")
        choices[cells[0]] = cells[1]
    return choices


def _refuse_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = next((key for key in keys if keys.count(key) > 1), None)
    if repeated is not None:
        raise InvalidInput(f"the block choice file names {names.shown(repeated)} twice; choose one block for it")
    return dict(pairs)


def settings_from_flags(
    options: dict[str, Any], map_art: dict[str, Any], exports: dict[str, Any]
) -> conversion_settings.ConversionSettings:
    """The task settings the flags ask for (``map_art`` in :class:`~pixeletica.engine.mapart_options.MapArtOptions`'
    field names), checked as a task's are; the size is the maps' whatever the image."""
    settings = conversion_settings.ConversionSettings.from_dict({**options, "map_art": map_art, "exports": exports})
    settings.check_size(1, 1)
    return settings


def relative_path(output_category: str, filename: str) -> PurePosixPath:
    """Where a map-art output goes under ``--out``: each map's files under ``maps/<map>/``, map item files
    under ``world/...`` as a save keeps them, the rest at the top."""
    if output_category.startswith("map_files/"):
        return PurePosixPath(output_category.removeprefix("map_files/")) / filename
    if output_category.startswith("maps/"):
        return PurePosixPath(output_category) / filename
    return PurePosixPath(filename)


def summary_table(source: Path, summary: dict[str, Any], count: int) -> Table:
    """What ``convert --map-art`` prints after writing its files."""
    title = Text(f"Pixeletica map art: {names.printable(source.name, one_line=True)}", style="italic")
    table = Table(title=title, show_header=False)
    table.add_column(style="bold")
    table.add_column()
    kind = str(summary["map_art"])
    table.add_row("Kind", kind)
    table.add_row("Maps", f"{summary['maps']} ({summary['blocks']} blocks), map ids {summary['map_ids']}")
    table.add_row("Shades", f"{len(mapart.KIND_SHADES[kind])} per colour")
    if "levels" in summary:
        table.add_row("Height", f"{summary['levels']} levels, support blocks and the north line included")
        table.add_row("Blocks placed", f"{summary['materials']:,}")
    blurred, per_pixel = summary["blurred_delta_e2000"], summary["per_pixel_delta_e2000"]
    fidelity = f"{blurred} ΔE2000 blurred, {per_pixel} per block"
    table.add_row("Fidelity", fidelity if blurred is not None else "nothing to measure: every pixel is transparent")
    table.add_row("", Text(f"({quality.EXPLANATION})", style="dim"))
    per_map = summary["per_map"]
    if len(per_map) > 1:
        table.add_row("Per map", ", ".join(f"{m['map']} {m['blurred_delta_e2000']}" for m in per_map))
    table.add_row("Files", str(count))
    table.add_row("Time", f"{summary['seconds']:.2f} s")
    return table


def write_summary(table: Table) -> None:
    views.stdout_console().print(table)


def made_files(out: Path, made: production.Production) -> dict[Path, bytes]:
    """The outputs by the paths they are written to."""
    return {out / relative_path(o.category, o.filename): o.data for o in made.outputs}
