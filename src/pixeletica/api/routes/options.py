"""What the conversion page offers: every choice the start endpoint accepts, with its defaults and the limits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from pixeletica.api import metadata
from pixeletica.api.deps import AppState, state
from pixeletica.engine import conversion_settings, defaults, distance, dither, image_io, mapart, mapart_options, palette
from pixeletica.engine.exports import bundle, maps, world
from pixeletica.tasks.model import DEFAULT_PRIORITY, Priority

router = APIRouter(tags=["conversion"])
State = Annotated[AppState, Depends(state)]


@router.get("/options", summary="Choices and limits for a conversion")
def options(app: State) -> dict[str, Any]:
    """Dithering algorithms, colour metrics, resamplings, faces, block categories, line variants,
    schematic placements, game versions, priorities, the defaults of each, and the server's limits —
    what a form needs to offer."""
    settings = app.settings
    engine_defaults = conversion_settings.ConversionSettings().to_dict()
    return {
        "algorithms": [{"name": a.name, "description": a.description} for a in dither.ALGORITHMS.values()],
        "default_algorithm": defaults.DEFAULT_ALGORITHM,
        "metrics": [{"name": m.name, "description": m.description} for m in distance.METRICS.values()],
        "default_metric": defaults.DEFAULT_METRIC,
        "resamplings": list(image_io.RESAMPLING),
        "faces": list(palette.FACES),
        # the options beyond the reference's (metric, strength, seed, resample, face, palette filters...)
        "conversion_defaults": {key: engine_defaults[key] for key in metadata.EXTRA_OPTIONS},
        "categories": palette.categories(),
        "line_visibilities": list(conversion_settings.LINE_VISIBILITIES),
        "export_defaults": conversion_settings.REQUEST_EXPORT_DEFAULTS,
        "schematic_formats": list(bundle.SCHEMATIC_FORMATS),
        "orientations": list(world.ORIENTATIONS),
        "facings": list(world.FACINGS),
        "default_facing": defaults.DEFAULT_FACING,
        "game_versions": list(world.DATA_VERSIONS),
        "default_game_version": defaults.DEFAULT_GAME_VERSION,
        "priorities": [p.label for p in sorted(Priority, reverse=True)],
        "default_priority": DEFAULT_PRIORITY.label,
        "map_art": _map_art(),
        "limits": {
            "max_size": settings.max_size,
            "max_upload_bytes": settings.max_upload_size,
            "max_input_pixels": settings.max_input_pixels,
            "preview_max_pixels": settings.preview_max_pixels,
            "max_processing_seconds": settings.task_max_processing_time,
        },
    }


def _map_art() -> dict[str, Any]:
    """The map-art choices: kinds, framings, support modes, map file layouts, the defaults, and per base
    colour its normal shade and the blocks that show it (the default one for the default game version)."""
    defaults_ = mapart_options.MapArtOptions(kind="staircase")
    chosen = mapart.choose_blocks(mapart.MapArtSettings())
    offered: dict[int, list[dict[str, Any]]] = {}
    for block in mapart.map_blocks():
        offered.setdefault(block.colour_id, []).append(
            {
                "id": block.block,
                "name": block.name,
                "since": block.since,
                "needs_support": block.needs_support,
                "flammable": block.flammable,
            }
        )
    return {
        "kinds": list(mapart.KINDS),
        "framings": list(maps.FRAMINGS),
        "support_modes": list(mapart.SUPPORT_MODES),
        "layouts": list(maps.LAYOUTS),
        "presets": list(mapart.PRESETS),
        "default_preset": defaults_.preset,
        "default_maps": defaults_.maps,
        "max_maps_side": maps.MAX_MAPS_SIDE,
        "default_framing": defaults_.framing,
        "default_support": defaults_.support,
        "default_support_block": mapart.DEFAULT_SUPPORT_BLOCK,
        "default_layout": defaults_.layout,
        "default_map_id": defaults_.map_id,
        "default_origin": mapart_options.MAP_ORIGIN,
        "map_size": mapart.MAP_SIZE,
        "colours": [
            {
                "id": colour.id,
                "name": colour.name,
                "rgb": list(colour.shade(mapart.FLAT_SHADE)),
                "blocks": offered.get(colour.id, []),
                "default_block": chosen[colour.id].block if colour.id in chosen else None,
            }
            for colour in mapart.map_colours()
        ],
    }
