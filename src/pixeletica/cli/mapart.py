"""``pixeletica convert --map-art``: a picture for in-game maps, its build and its map files."""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table
from rich.text import Text

from pixeletica import fsutil, names
from pixeletica.cli import common
from pixeletica.engine import image_io, mapart, quality
from pixeletica.engine.exports import maps, schematic
from pixeletica.errors import InvalidInput

#: Largest per-colour block choice file: 61 lines of a colour and a block id.
MAX_BLOCK_CHOICE_BYTES = 64 * 1024


@dataclass(frozen=True, kw_only=True)
class MapArtRequest:
    """What ``convert`` was asked for, beyond the picture and the output folder."""

    kind: str
    maps: str
    framing: str
    max_height: int | None
    block_file: Path | None
    exclude: tuple[str, ...]
    preset: str
    support: str
    support_block: str
    map_id: int
    layout: str
    algorithm: str
    metric: str
    strength: float
    resample: str
    origin: tuple[int, int, int]
    game_version: str
    formats: tuple[str, ...]


def read_block_choices(path: Path) -> dict[str, str]:
    """A per-colour block choice: JSON ``{"GRASS": "minecraft:moss_block", ...}`` or CSV lines ``colour,block``."""
    text = fsutil.read_capped(path, MAX_BLOCK_CHOICE_BYTES, "block choice file").decode("utf-8", errors="replace")
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"{names.printable(path.name)} is not valid JSON: {exc.msg} (line {exc.lineno})"
            ) from None
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in document.items()):
            raise InvalidInput(f"{names.printable(path.name)}: every entry must be a colour name and a block id")
        return dict(document)
    choices = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not cells or not cells[0] or cells[0].startswith("#") or cells[0].lower() in ("colour", "color"):
            continue
        if len(cells) != 2 or not cells[1]:
            raise InvalidInput(f"{names.printable(path.name)} line {number}: expected 'colour,block', got {row!r}")
        choices[cells[0]] = cells[1]
    return choices


def run(source: Path, data: bytes, out: Path, request: MapArtRequest) -> tuple[dict[Path, bytes], Table]:
    """Plan the map art and make every file; returns them by path and the summary to print."""
    started = time.perf_counter()
    settings = mapart.MapArtSettings(
        kind=request.kind,
        max_height=request.max_height,
        game_version=request.game_version,
        blocks=read_block_choices(request.block_file) if request.block_file else {},
        exclude=request.exclude,
        preset=request.preset,
        support=request.support,
        support_block=request.support_block,
    )
    settings.validate()
    across, down = maps.parse_maps(request.maps)
    placement = schematic.Placement(
        origin_x=request.origin[0],
        origin_y=request.origin[1],
        origin_z=request.origin[2],
        game_version=request.game_version,
        name=names.file_stem(source.stem),
    )
    placement.check_fits(across * mapart.MAP_SIZE, down * mapart.MAP_SIZE + 1)
    maps.check_origin(request.origin[0], request.origin[2])
    maps.resolve_layout(request.layout, request.game_version)
    mapart.choose_blocks(settings)  # a bad block choice fails before the picture is read
    loaded = image_io.load_image(data)
    framed = maps.frame(loaded.rgba, (across, down), request.framing, request.kind, request.resample)
    rgb, opaque = image_io.split_alpha(framed)
    art = mapart.plan(
        rgb, opaque, settings, algorithm=request.algorithm, metric=request.metric, strength=request.strength
    )
    made, summary = maps.outputs(
        art, rgb, names.file_stem(source.stem), placement, start_id=request.map_id, layout=request.layout,
        formats=request.formats,
    )  # fmt: skip
    files = {out / path: content for path, content in made.items()}
    return files, _summary(source, summary, art, len(files), time.perf_counter() - started)


def _summary(source: Path, summary: dict[str, object], art: mapart.MapArt, count: int, seconds: float) -> Table:
    table = Table(title=Text(f"Pixeletica map art: {names.printable(source.name)}", style="italic"), show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Kind", str(summary["kind"]))
    table.add_row("Maps", f"{summary['maps']} ({summary['blocks']} blocks), map ids {summary['map_ids']}")
    table.add_row("Colours", f"{len(art.blocks)} base colours x {len(mapart.KIND_SHADES[art.settings.kind])} shades")
    if "levels" in summary:
        table.add_row("Height", f"{summary['levels']} levels, support blocks and the north line included")
        table.add_row("Blocks placed", f"{summary['materials']:,}")
    blurred = summary["blurred_delta_e2000"]
    table.add_row("Fidelity", f"{blurred} ΔE2000 blurred, {summary['per_pixel_delta_e2000']} per block")
    table.add_row("", Text(f"({quality.EXPLANATION})", style="dim"))
    per_map = summary["per_map"]
    assert isinstance(per_map, list)
    if len(per_map) > 1:
        table.add_row("Per map", ", ".join(f"{m['map']} {m['blurred_delta_e2000']}" for m in per_map))
    table.add_row("Files", f"{count} (map preview, height map, builds, materials, map files under world/)")
    table.add_row("Time", f"{seconds:.2f} s")
    return table


def print_summary(table: Table) -> None:
    common.stdout_console().print(table)
