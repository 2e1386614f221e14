"""Settings, read once from the environment (``PIXELETICA_*``) and passed down; the engine never reads them."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pixeletica.engine import image_io
from pixeletica.errors import InvalidInput

#: Where each limit can be raised, for error messages.
SETTING_HINTS = {
    "max_input_pixels": "--max-input-pixels or PIXELETICA_MAX_INPUT_PIXELS",
    "max_size": "--max-size or PIXELETICA_MAX_SIZE",
}


class Settings(BaseSettings):
    """Pixeletica's settings. Every field can be set as ``PIXELETICA_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="PIXELETICA_", extra="ignore")

    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("pixeletica")),
        description="where tasks, uploads and results are kept",
    )
    max_input_pixels: int = Field(
        default=image_io.DEFAULT_MAX_INPUT_PIXELS, gt=0, description="largest input image, in pixels"
    )
    max_size: int = Field(default=image_io.DEFAULT_MAX_SIZE, gt=0, description="largest block-grid width or height")

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; a bad value is reported naming the variable and the value."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "PIXELETICA_" + str(first["loc"][0]).upper()
        raise InvalidInput(f"{name}={first.get('input')!r} is not valid: {first['msg']}") from None


def hint(setting: str | None) -> str:
    """' (raise it with ...)' for a limit's setting name, or ''."""
    return f" (raise it with {SETTING_HINTS[setting]})" if setting in SETTING_HINTS else ""
