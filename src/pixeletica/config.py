"""Settings, read once from the environment (``PIXELETICA_*``) and passed down; the engine never reads them."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import AliasChoices, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pixeletica.engine import defaults
from pixeletica.errors import InvalidInput

#: Where each limit can be raised, for error messages.
SETTING_HINTS = {
    "max_input_pixels": "--max-input-pixels or PIXELETICA_MAX_INPUT_PIXELS",
    "max_size": "--max-size or PIXELETICA_MAX_SIZE",
    "max_input_file_size": "PIXELETICA_MAX_INPUT_FILE_SIZE",
}

#: The broker of a Celery app made from settings without ``broker_url``: Redis on this machine.
LOCAL_BROKER_URL = "redis://127.0.0.1:6379/0"
#: Most worker processes one command starts (each holds a conversion's memory: hundreds of MB at the limits).
MAX_WORKER_PROCESSES = 64
#: Where ``pixeletica serve`` (and ``cluster up``'s API) listens when not told.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: Celery worker processes ``pixeletica cluster up`` starts when not told.
DEFAULT_CLUSTER_WORKERS = 2


def default_worker_processes() -> int:
    """Local worker processes when not told: one per core, at most :data:`MAX_WORKER_PROCESSES`."""
    return min(os.cpu_count() or 1, MAX_WORKER_PROCESSES)


class Settings(BaseSettings):
    """Pixeletica's settings. Every field can be set as ``PIXELETICA_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="PIXELETICA_", extra="ignore", populate_by_name=True, allow_inf_nan=False
    )

    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("pixeletica")),
        description="where tasks, uploads and results are kept",
    )
    max_input_pixels: int = Field(
        default=defaults.DEFAULT_MAX_INPUT_PIXELS, gt=0, description="largest input image, in pixels"
    )
    max_size: int = Field(default=defaults.DEFAULT_MAX_SIZE, gt=0, description="largest block-grid width or height")
    max_input_file_size: int = Field(
        default=512 * 1024 * 1024, gt=0, description="largest image file the command line reads, in bytes"
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="how processes log: 'text' (key=value lines) or 'json' (one object per line)"
    )

    # --- the task system -----------------------------------------------------------------
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the task store (default: SQLite in the data directory)"
    )
    broker_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("PIXELETICA_BROKER_URL", "REDIS_URL"),
        description="Celery broker (redis://… or amqp://…); set, tasks run on Celery workers instead of local ones",
    )
    redispatch_seconds: float = Field(
        default=60.0,
        gt=0,
        description="a task still queued this long after its message was sent is sent again (the broker lost it?)",
    )
    lease_seconds: float = Field(
        default=15.0,
        gt=0,
        le=3600,
        description="how long a claimed task is a worker's without a heartbeat (a dead worker's task waits this long)",
    )
    heartbeat_seconds: float = Field(default=5.0, gt=0, description="how often a worker renews its lease")
    max_attempts: int = Field(default=3, ge=1, description="claims of a task before it fails for good")
    retry_base_seconds: float = Field(default=2.0, ge=0, description="first retry delay; doubles per attempt")
    retry_max_seconds: float = Field(default=300.0, ge=0, description="longest retry delay")
    worker_poll_seconds: float = Field(default=0.5, gt=0, description="how often an idle worker looks for work")
    shutdown_grace_seconds: float = Field(
        default=30.0, ge=0, description="how long a stopping worker may finish its task before handing it back"
    )
    lease_sweep_seconds: float = Field(
        default=3.0, gt=0, description="how often the monitor looks for tasks whose worker is gone"
    )
    preload_kernels: bool = Field(
        default=False,
        description="workers load every compiled kernel before taking a task, so that the first task is as fast as "
        "the next (seconds at start; on a machine that has not compiled them yet, about a minute); the container "
        "image, which compiles them when it is built, turns it on",
    )
    task_monitor_interval: float = Field(
        default=900.0,
        gt=0,
        validation_alias=AliasChoices("TASK_MONITOR_INTERVAL", "PIXELETICA_TASK_MONITOR_INTERVAL"),
        description="seconds between the monitor's stuck-task and retention sweeps",
    )
    task_max_processing_time: float = Field(
        default=3600.0,
        gt=0,
        validation_alias=AliasChoices("TASK_MAX_PROCESSING_TIME", "PIXELETICA_TASK_MAX_PROCESSING_TIME"),
        description="seconds a task may be processing before the monitor fails it",
    )
    task_retention_days: float = Field(
        default=7.0,
        ge=0,
        validation_alias=AliasChoices("TASK_RETENTION_DAYS", "PIXELETICA_TASK_RETENTION_DAYS"),
        description="completed tasks older than this are deleted with their files",
    )
    task_failed_retention_days: float = Field(
        default=30.0,
        ge=0,
        validation_alias=AliasChoices("TASK_FAILED_RETENTION_DAYS", "PIXELETICA_TASK_FAILED_RETENTION_DAYS"),
        description="failed tasks older than this are deleted with their files",
    )

    # --- the HTTP service ------------------------------------------------------------------
    store_timeout: float = Field(
        default=2.0,
        gt=0,
        description="seconds the API waits for the task store (connecting, or answering any request) before it "
        "answers 503",
    )
    admin_token: str | None = Field(
        default=None, description="bearer token for admin endpoints (default: created in the data directory)"
    )
    task_access: Literal["auto", "owner", "open"] = Field(
        default="auto",
        description="who may list, see and delete tasks: 'owner' (their owner, operators, public maps), 'open' "
        "(anyone), 'auto' (open for direct requests to a server on loopback only, owner otherwise)",
    )
    public_gallery: bool = Field(
        default=False,
        description="new tasks' maps are public (listed in /api/maps.json for everyone) unless the metadata says "
        '"public": false',
    )
    forwarded_allow_ips: str = Field(
        default="",
        description="addresses of reverse proxies whose X-Forwarded-For/-Proto headers are believed (comma-separated, "
        "'*' for any); none by default, so a client cannot pick its own address for the rate limits",
    )
    signin_rate_limit: str = Field(
        default="10/minute", description="dashboard sign-in attempts allowed per client address ('off' for none)"
    )
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30, description="how long a dashboard sign-in lasts")
    max_upload_size: int = Field(
        default=10 * 1024 * 1024,
        gt=0,
        validation_alias=AliasChoices("MAX_UPLOAD_SIZE", "PIXELETICA_MAX_UPLOAD_SIZE"),
        description="largest accepted upload in bytes",
    )
    header_timeout: float = Field(
        default=10.0,
        gt=0,
        description="seconds a client has to send a request's line and headers, counted from the connection "
        "opening or from the end of the previous response; else 408 and the connection is closed. Also the "
        "grace period of a request body",
    )
    body_min_rate: int = Field(
        default=8 * 1024,
        gt=0,
        description="bytes a second a request body must arrive at on average after its grace period (the header "
        "timeout), never pausing for longer than that; a slower body is answered 408 and the connection closed",
    )
    cors_origins: str = Field(
        default="",
        validation_alias=AliasChoices("CORS_ORIGINS", "PIXELETICA_CORS_ORIGINS"),
        description="comma-separated origins allowed to call the API from a browser ('*' for any)",
    )
    rate_limit: str = Field(
        default="5/minute",
        validation_alias=AliasChoices("RATE_LIMIT", "PIXELETICA_RATE_LIMIT"),
        description="starts and previews allowed per client address, like 5/minute ('off' for none)",
    )
    preview_rate_limit: str = Field(
        default="60/minute",
        validation_alias=AliasChoices("PREVIEW_RATE_LIMIT", "PIXELETICA_PREVIEW_RATE_LIMIT"),
        description="previews allowed per client address (the conversion page previews as options change)",
    )
    event_streams_per_client: int = Field(
        default=8, gt=0, description="progress streams (Server-Sent Events) one client address may hold open"
    )
    event_streams: int = Field(default=256, gt=0, description="progress streams open at once, for everyone")
    preview_timeout: float = Field(default=3.0, gt=0, description="seconds a preview may take")
    preview_max_pixels: int = Field(default=512 * 512, gt=0, description="largest preview, in blocks")
    preview_memory: int = Field(
        default=256 * 1024 * 1024,
        gt=0,
        description="bytes all previews being made at once may hold together (decoding and converting)",
    )
    preview_concurrency: int = Field(
        default_factory=lambda: os.cpu_count() or 1, gt=0, description="previews made at the same time"
    )

    @property
    def store_url(self) -> str:
        """The task store's SQLAlchemy URL."""
        return self.database_url or f"sqlite:///{self.data_dir / 'pixeletica.db'}"

    @property
    def allowed_origins(self) -> list[str]:
        """The origins of ``CORS_ORIGINS``, one by one."""
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def tasks_dir(self) -> Path:
        """Where each task's input and results are kept, one folder per task."""
        return self.data_dir / "tasks"

    @classmethod
    def variable(cls, name: str) -> str:
        """The environment variable of a setting (the seed's own name where it has one)."""
        alias = cls.model_fields[name].validation_alias
        return str(alias.choices[0]) if isinstance(alias, AliasChoices) else f"PIXELETICA_{name.upper()}"

    def as_environment(self) -> dict[str, str]:
        """These settings as the environment variables that give them to another process (unset ones left out)."""
        return {self.variable(name): str(value) for name, value in self.model_dump().items() if value is not None}

    @field_validator("heartbeat_seconds")
    @classmethod
    def _within_the_lease(cls, value: float, info: ValidationInfo) -> float:
        lease = info.data.get("lease_seconds")
        if lease is not None and value >= lease:
            raise ValueError(
                f"a heartbeat must come more often than the lease runs out (PIXELETICA_LEASE_SECONDS={lease:g}), "
                "or every task's lease expires while its worker is alive"
            )
        return value

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
        field = str(first["loc"][0])
        name = Settings.variable(field) if field in Settings.model_fields else field.upper()
        message = first["msg"].removeprefix("Value error, ")
        raise InvalidInput(f"{name}={first.get('input')!r} is not valid: {message}") from None


def hint(setting: str | None) -> str:
    """' (raise it with ...)' for a limit's setting name, or ''."""
    return f" (raise it with {SETTING_HINTS[setting]})" if setting in SETTING_HINTS else ""


def safe_url(url: str) -> str:
    """A database or broker URL with its password hidden, for logs and messages.

    Everything up to the last ``@`` counts as credentials: a password written into the URL without
    percent-encoding its ``@`` (or ``:`` or ``/``) is hidden whole all the same.
    """
    scheme, separator, rest = url.partition("://")
    if not separator:  # not even a URL: show what follows any credentials
        return url.rsplit("@", 1)[-1]
    credentials, at, place = rest.rpartition("@")
    if not at:
        return url
    user, colon, _ = credentials.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{place}"
