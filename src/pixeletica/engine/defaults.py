"""The engine's default limits and values, in one place that imports nothing (settings and commands read them)."""

from __future__ import annotations

#: Largest input image, in pixels (a decompression bomb is refused from its header beyond this).
DEFAULT_MAX_INPUT_PIXELS = 64_000_000
#: Largest block-grid width or height.
DEFAULT_MAX_SIZE = 4096
#: Pixels whose alpha is below this become air.
DEFAULT_ALPHA_THRESHOLD = 128
