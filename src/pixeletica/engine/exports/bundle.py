"""The files a conversion produces, as named bytes: what the CLI writes and a task records."""

from __future__ import annotations

from dataclasses import dataclass

from pixeletica.engine import image_io
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
