"""The engine's default limits and values, in one place that imports nothing (settings and commands read them)."""

from __future__ import annotations

#: Largest input image, in pixels (a decompression bomb is refused from its header beyond this).
DEFAULT_MAX_INPUT_PIXELS = 64_000_000
#: Largest block-grid width or height.
DEFAULT_MAX_SIZE = 4096
#: Pixels whose alpha is below this become air.
DEFAULT_ALPHA_THRESHOLD = 128

#: How a conversion dithers, compares colours and resizes when its settings do not say.
DEFAULT_ALGORITHM = "floyd_steinberg"
DEFAULT_METRIC = "oklab"
DEFAULT_STRENGTH = 1.0
DEFAULT_SEED = 0
DEFAULT_RESAMPLE = "lanczos"
#: The colour palette a request names when it names none (either of the reference's gives the same blocks).
DEFAULT_COLOR_PALETTE = "minecraft"
#: The side blocks are seen from when the settings do not say.
DEFAULT_FACE = "side"

#: Where a build stands when its settings do not say: world x, y and z, and how it lies and faces.
DEFAULT_ORIGIN_X = 0
DEFAULT_ORIGIN_Y = 100
DEFAULT_ORIGIN_Z = 0
DEFAULT_ORIENTATION = "floor"
DEFAULT_FACING = "south"
#: Line colours of the textured renders, #RRGGBBAA.
DEFAULT_BLOCK_LINE_COLOR = "#000000FF"
DEFAULT_CHUNK_LINE_COLOR = "#FF0000FF"
#: The author written into a task's schematics when its settings name none (the reference API's).
DEFAULT_SCHEMATIC_AUTHOR = "Pixeletica API"
#: The author of any other build whose placement names none (``pixeletica convert``'s schematics).
DEFAULT_AUTHOR = "Pixeletica"
#: The game version schematics are written for when none is named.
DEFAULT_GAME_VERSION = "1.21.1"
#: The textured renders a request gets when it names none (the reference's default).
DEFAULT_LINE_VISIBILITIES = ("chunk_lines_only",)
#: Largest textured render, in pixels (a render's scale halves until it fits).
DEFAULT_MAX_RENDER_PIXELS = 16384 * 16384
#: How many parts each render is split into along chunk lines (1: whole).
DEFAULT_IMAGE_DIVISION = 1

#: Map art when its settings do not say: one map, the picture cropped to the maps, support blocks
#: under blocks that would fall or float, the default blocks, map ids from 0, map files laid out as
#: the game version keeps them.
DEFAULT_MAPS = "1x1"
DEFAULT_FRAMING = "crop"
DEFAULT_SUPPORT = "needed"
DEFAULT_MAP_PRESET = "default"
DEFAULT_MAP_ID = 0
DEFAULT_MAP_LAYOUT = "auto"
