"""The one conversion function: an image and checked settings in, every output file and the summary out.

``pixeletica convert``, a task's run and a preview all call :func:`produce`; what differs
between them is the :class:`Plan` (which files, named how) they give it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pixeletica.engine import image_io, pipeline, textures
from pixeletica.engine.exports import bundle, schematic, tiles
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
    schematics: schematic.Placement | None = None
    schematic_formats: tuple[str, ...] = bundle.SCHEMATIC_FORMATS
    #: Safe file stem of the schematics; None: ``stem``.
    schematic_stem: str | None = None
    #: The input's name: with it, also a ZIP of every output whose README names it.
    zip_source: str | None = None

    def checked(self, width: int, height: int) -> Plan:
        """This plan for a build of ``width`` x ``height`` blocks: what cannot be made refused before converting,
        the renders' scale chosen."""
        plan = self
        if self.renders:
            plan = replace(self, rendering=self.rendering.resolved(width, height))
        else:
            self.rendering.parts(width, height)
        if self.schematics is not None:
            self.schematics.check_fits(width, height)
        return plan


@dataclass(frozen=True)
class Production:
    """A conversion with its output files and its summary (the numbers a task records)."""

    conversion: pipeline.Conversion
    outputs: list[bundle.Output] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    #: Ids of the blocks drawn in flat colour (no texture found).
    flat_colour_blocks: list[str] = field(default_factory=list)


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


def _web_map(result: pipeline.Conversion, rendering: bundle.RenderOptions, write: WebWriter) -> bundle.Output:
    """Tiles and the rest of the web map, written through ``write``; its ``metadata.json`` as an output."""
    kept: dict[str, bytes] = {}

    def keep(relative: str, data: bytes) -> None:
        write(relative, data)
        if relative == "metadata.json":
            kept[relative] = data

    grid = result.grid
    atlas, _ = textures.atlas(bundle.block_textures(grid), grid.colors, 16, textures.source(None))
    meta = {"origin_x": int(rendering.origin_x), "origin_z": int(rendering.origin_z)}
    tiles.build(grid, atlas, keep, metadata=meta)
    return bundle.Output(
        file_id="web_metadata",
        category="web",
        filename="web/metadata.json",
        media_type="application/json",
        data=kept["metadata.json"],
    )


def _rounded(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None
