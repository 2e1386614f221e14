"""The one conversion function: an image and checked settings in, every output file and the summary out.

``pixeletica convert``, a task's run and a preview all call :func:`produce`; what differs
between them is the :class:`Plan` (which files, named how) they give it. A plan with map art
makes map art instead of a block picture (:mod:`pixeletica.engine.mapart`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pixeletica.engine import image_io, mapart, mapart_options, pipeline, textures
from pixeletica.engine.blockgrid import BlockGrid
from pixeletica.engine.exports import bundle, maps, tiles, world
from pixeletica.engine.palette import Palette

#: write(path relative to the web map's folder, bytes): where a web map's files go.
WebWriter = Callable[[str, bytes], None]


@dataclass(frozen=True, kw_only=True)
class Plan:
    """Which files a conversion writes besides the picture, the block grid and the materials, and their names."""

    #: Safe file stem of the outputs (see :func:`pixeletica.names.file_stem`).
    stem: str
    #: A preview: the block grid alone, its colour error not measured.
    grid_only: bool = False
    #: The textured renders, and the parts of a split build (its ``image_division``).
    rendering: bundle.RenderOptions = field(default_factory=lambda: bundle.RenderOptions(line_visibilities=()))
    renders: bool = False
    web_map: bool = False
    #: Where the schematics stand; None: no schematics.
    schematics: world.Placement | None = None
    schematic_formats: tuple[str, ...] = bundle.SCHEMATIC_FORMATS
    #: Safe file stem of the schematics; None: ``stem``.
    schematic_stem: str | None = None
    #: The input's name: with it, also a ZIP of every output whose README names it.
    zip_source: str | None = None
    #: Map art instead of a block picture; it stands where ``schematics`` says (which it needs).
    map_art: mapart_options.MapArtOptions | None = None

    def checked(self, width: int, height: int) -> Plan:
        """This plan for a build of ``width`` x ``height`` blocks: what cannot be made refused before converting,
        the renders' scale chosen. Map art's size is its maps', whatever the picture's."""
        if self.map_art is not None:
            self.map_art.check(self.map_placement)
            return self
        plan = self
        if self.renders:
            plan = replace(self, rendering=self.rendering.resolved(width, height))
        else:
            self.rendering.parts(width, height)
        if self.schematics is not None:
            self.schematics.check_fits(width, height)
        return plan

    @property
    def map_placement(self) -> world.Placement:
        """Where map art stands."""
        if self.schematics is None:
            raise ValueError("a map-art plan needs a placement")
        return self.schematics


@dataclass(frozen=True)
class Production:
    """A conversion with its output files and its summary (the numbers a task records)."""

    #: The block picture; None for map art.
    conversion: pipeline.Conversion | None
    outputs: list[bundle.Output] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    #: Ids of the blocks drawn in flat colour (no texture found).
    flat_colour_blocks: list[str] = field(default_factory=list)
    #: The planned map art, when the plan asked for map art.
    map_art: mapart.MapArt | None = None

    def picture(self) -> NDArray[np.uint8]:
        """(H, W, 4) RGBA of what was made: the blocks' colours, or exactly the colours the maps show."""
        if self.map_art is not None:
            return self.map_art.preview()
        if self.conversion is None:
            raise ValueError("nothing was converted")
        return self.conversion.grid.to_rgba()


def produce(
    image: bytes | image_io.LoadedImage,
    palette: Palette,
    options: pipeline.ConvertOptions,
    plan: Plan,
    *,
    progress: pipeline.ProgressCallback | None = None,
    web: WebWriter | None = None,
) -> Production:
    """Convert an image (its bytes, or decoded already) and make the files ``plan`` asks for.

    Progress: the conversion is the first 90 %, making the files up to 95 %. A web map's files go
    to ``web`` as they are made (there can be thousands); the returned outputs hold its
    ``metadata.json``. Raises :class:`~pixeletica.errors.InvalidInput` subclasses for bad input.
    """
    report = progress or (lambda fraction, step: None)
    if plan.map_art is not None:
        return _map_art(image, options, plan, report, web)

    def converting(fraction: float, step: str) -> None:
        report(0.9 * fraction, step)

    if isinstance(image, bytes):
        result = pipeline.convert(image, palette, options, converting)
    else:
        result = pipeline.convert_image(image, palette, options, converting, measure=not plan.grid_only)
    if plan.grid_only:
        return Production(result)
    report(0.92, "writing files")
    grid = result.grid
    rendering = plan.rendering.resolved(grid.width, grid.height) if plan.renders else plan.rendering
    outputs = bundle.basic_outputs(result, plan.stem, rendering.parts(grid.width, grid.height))
    flat: list[str] = []
    if plan.renders:
        report(0.93, "rendering")
        rendered, flat = bundle.rendered_outputs(grid, plan.stem, rendering)
        outputs += rendered
    if plan.web_map:
        if web is None:
            raise ValueError("a plan with a web map needs somewhere to write it")
        report(0.94, "map tiles")
        outputs.append(_web_map(result, rendering, web))
    if plan.schematics is not None:
        report(0.95, "schematics")
        stem = plan.schematic_stem or plan.stem
        outputs += bundle.schematic_outputs(grid, stem, plan.schematics, plan.schematic_formats)
    if plan.zip_source is not None:
        outputs.append(bundle.task_zip(outputs, plan.stem, plan.zip_source))
    summary: dict[str, Any] = {
        "width": grid.width,
        "height": grid.height,
        "air": grid.air_count,
        "block_types": int((grid.counts() > 0).sum()),
        # None where there is nothing to measure (a picture of air): JSON has no NaN.
        "mean_delta_e2000": _rounded(result.mean_delta_e2000),
        "blurred_delta_e2000": _rounded(result.blurred_delta_e2000),
        "seconds": round(result.seconds, 3),
    }
    if plan.renders:
        summary["render_scale"] = rendering.scale
    if flat:
        summary["flat_colour_blocks"] = flat  # no texture found: drawn in their colour
    return Production(result, outputs, summary, flat)


#: What the task ZIP's README says of map art, after its list of files.
_MAP_ART_NOTES = """Map art: {maps} map(s) of 128 x 128 blocks, map ids {map_ids}.
Build it from the schematic at its origin (the line of blocks north of the picture shades its top row),
or copy map_files/world/ into your world's save folder: each map item file shows its map locked,
e.g. /give @p minecraft:filled_map[map_id={first_id}] (Java 1.20.5 and later) or filled_map{{map:{first_id}}}
(before). Copying replaces the save's maps with the same ids and its map id counter: use ids above the ones
your world has made (leave the counter file out if the world's is higher), and back the save up first.
maps/rXcY/ holds each map's picture, build and materials (row X, column Y, from the north-west).
"""


def _map_art(
    image: bytes | image_io.LoadedImage,
    options: pipeline.ConvertOptions,
    plan: Plan,
    report: pipeline.ProgressCallback,
    web: WebWriter | None,
) -> Production:
    """Map art of an image as ``plan.map_art`` says: its outputs and summary (or only the art, for a preview)."""
    assert plan.map_art is not None
    if plan.web_map and web is None and not plan.grid_only:
        raise ValueError("a plan with a web map needs somewhere to write it")
    started = time.perf_counter()
    wanted, placement = plan.map_art, plan.map_placement
    if isinstance(image, bytes):
        report(0.01, "reading image")
        image = image_io.load_image(image, max_pixels=options.max_input_pixels)
    report(0.04, "framing")
    framed = maps.frame(image.rgba, wanted.map_counts, wanted.framing, wanted.kind, options.resample)
    rgb, opaque = image_io.split_alpha(framed, options.alpha_threshold)
    if wanted.kind != "map-file":
        rgb = maps.on_white(framed)

    def dithering(done: int, total: int) -> None:
        report(0.05 + 0.8 * min(1.0, done / max(1, total)), "dithering")

    room = mapart_options.room_above(placement, wanted.settings(placement.game_version))
    settings = wanted.settings(placement.game_version, room=room)  # an unlimited staircase stays inside the world
    art = mapart.plan(
        rgb, opaque, settings, algorithm=options.algorithm, metric=options.metric, strength=options.strength,
        progress=dithering,
    )  # fmt: skip
    if plan.grid_only:
        return Production(None, map_art=art)
    report(0.88, "writing files")
    made, found = maps.made_files(
        art, rgb, plan.stem, placement, start_id=wanted.map_id, layout=wanted.layout,
        formats=plan.schematic_formats, build_stem=plan.schematic_stem,
    )  # fmt: skip
    outputs = [_map_output(f) for f in made]
    if plan.web_map:
        assert web is not None
        report(0.92, "map tiles")
        outputs.append(_map_art_web(art, wanted, placement, web))
    if plan.zip_source is not None:
        report(0.95, "packing")
        notes = _MAP_ART_NOTES.format(maps=found["maps"], map_ids=found["map_ids"], first_id=wanted.map_id)
        outputs.append(bundle.task_zip(outputs, plan.stem, plan.zip_source, notes=notes))
    height, width = art.colour_ids.shape
    summary: dict[str, Any] = {
        "map_art": wanted.kind,
        "width": width,
        "height": height,
        **{k: v for k, v in found.items() if k != "kind"},
        # the same names as a picture's scores, so the task's quality reads them alike
        "mean_delta_e2000": found["per_pixel_delta_e2000"],
        "seconds": round(time.perf_counter() - started, 3),
    }
    return Production(None, outputs, summary, map_art=art)


_MEDIA_TYPES = {".png": "image/png", ".csv": "text/csv", ".txt": "text/plain", ".mcfunction": "text/plain"}


def _map_output(made: maps.MapFile) -> bundle.Output:
    """A map-art file as a task's output: the whole picture's by what it is, each map's under ``maps/<map>``,
    map item files under ``map_files/<their folder in a save>``; file ids say what and, where any, which map."""
    path = PurePosixPath(made.path)
    per_map = f"_{made.map}" if made.map else ""
    if made.kind == "map_files":
        number = path.stem.removeprefix("map_")
        file_id = f"map_file_{number}" if number.isdigit() else f"map_{path.stem}"  # map_idcounts, map_last_id
        category = f"map_files/{path.parent}"
    else:
        category = f"maps/{made.map}" if made.map else made.kind
        if made.kind == "materials":
            file_id = f"materials_{path.suffix.lstrip('.')}{per_map}"
        elif made.kind == "structure":  # its name ends in its offset in the build, x<x>_y<y>_z<z>
            file_id = f"structure{per_map}_{'_'.join(path.stem.split('_')[-3:])}"
        else:
            file_id = f"{made.kind}{per_map}"
    media = _MEDIA_TYPES.get(path.suffix, "application/octet-stream")
    return bundle.Output(file_id=file_id, category=category, filename=path.name, media_type=media, data=made.data)


#: Pixels per block of a web map's deepest zoom.
_WEB_SCALE = 16


def _web_map(result: pipeline.Conversion, rendering: bundle.RenderOptions, write: WebWriter) -> bundle.Output:
    """Tiles and the rest of the web map, written through ``write``; its ``metadata.json`` as an output."""
    grid = result.grid
    atlas, _ = textures.atlas(bundle.block_textures(grid), grid.colors, _WEB_SCALE, textures.source(None))
    meta = {"origin_x": int(rendering.origin_x), "origin_z": int(rendering.origin_z)}
    return _write_web(grid, atlas, write, meta)


def _map_art_web(
    art: mapart.MapArt, wanted: mapart_options.MapArtOptions, placement: world.Placement, write: WebWriter
) -> bundle.Output:
    """The web map of a map art: its tiles in exactly the maps' colours, each block's level (``heights`` in
    ``blockdata.json``: the picture's rows, the line north of it left out) and what the maps are."""
    grid = maps.block_grid(art)
    meta: dict[str, Any] = {
        "origin_x": placement.origin_x,
        "origin_y": placement.origin_y,
        "origin_z": placement.origin_z,
        "map_art": {"kind": wanted.kind, "maps": wanted.maps, "map_size": mapart.MAP_SIZE},
    }
    layers = {"heights": art.heights[1:]} if art.heights is not None else {}
    return _write_web(grid, tiles.flat_atlas(grid.colors, _WEB_SCALE), write, meta, layers)


def _write_web(
    grid: BlockGrid,
    atlas: NDArray[np.uint8],
    write: WebWriter,
    meta: dict[str, Any],
    layers: dict[str, NDArray[np.int16]] | None = None,
) -> bundle.Output:
    """Write a web map through ``write``; its ``metadata.json`` as an output."""
    kept: dict[str, bytes] = {}

    def keep(relative: str, data: bytes) -> None:
        write(relative, data)
        if relative == "metadata.json":
            kept[relative] = data

    tiles.build(grid, atlas, keep, metadata=meta, layers=layers)
    return bundle.Output(
        file_id="web_metadata",
        category="web",
        filename="web/metadata.json",
        media_type="application/json",
        data=kept["metadata.json"],
    )


def _rounded(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None
