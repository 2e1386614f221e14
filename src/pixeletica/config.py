"""Settings, read once from the environment (``PIXELETICA_*``) and passed down; the engine never reads them.

Plain dataclasses and the standard library: every command reads its settings, and ``pixeletica task
list`` must answer before a validation library would have loaded. A field's type says what it takes
(``Literal[...]``: one of those words); its :func:`setting` gives its bounds and the environment variables
that set it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Self

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


@dataclass(frozen=True)
class Rule:
    """What a setting accepts, and the environment variables that set it (the documented one first)."""

    description: str
    env: tuple[str, ...] = ()
    gt: float | None = None
    ge: float | None = None
    le: float | None = None


def setting(
    default: Any = dataclasses.MISSING,
    *,
    description: str,
    factory: Callable[[], Any] | None = None,
    env: tuple[str, ...] = (),
    gt: float | None = None,
    ge: float | None = None,
    le: float | None = None,
) -> Any:
    """A field of :class:`Settings`: its default (or ``factory``), and its :class:`Rule`."""
    rule = Rule(description, env, gt, ge, le)
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata={"rule": rule})
    return dataclasses.field(default=default, metadata={"rule": rule})


class InvalidSetting(InvalidInput):
    """A setting's value is refused: "<VARIABLE>=<value> is not valid: <why>"."""

    def __init__(self, name: str, value: object, why: str, variable: str | None = None) -> None:
        self.name, self.value, self.why = name, value, why
        self.variable = variable or Settings.variable(name)
        super().__init__(f"{self.variable}={value!r} is not valid: {why}")  # names its variable already


_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def _number(value: object, kind: type[int] | type[float]) -> int | float:
    """``value`` as an int or a finite float; text is parsed (surrounding spaces allowed)."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, str):
        try:
            if not value.isascii() or "_" in value:  # as written in any environment file: plain digits
                raise ValueError(value)
            value = kind(value.strip())
        except ValueError:
            noun = "an integer" if kind is int else "a number"
            raise ValueError(f"Input should be a valid {noun.split()[-1]}, unable to parse string as {noun}") from None
    if kind is int and isinstance(value, float) and value.is_integer():
        value = int(value)
    if kind is int and not isinstance(value, int):
        raise ValueError("Input should be a valid integer")
    if kind is float and isinstance(value, int | float):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError("Input should be a finite number")
    if not isinstance(value, int | float):
        raise ValueError("Input should be a valid number")
    return value


def _convert(kind: str, rule: Rule, value: object) -> object:
    """``value`` as a setting of type ``kind`` (its annotation) under ``rule``; ValueError says why not."""
    if value is None and kind.endswith("| None"):
        return None
    if kind == "Path":
        if not isinstance(value, str | os.PathLike) or not str(value).strip():
            raise ValueError("Input should be a folder's path")
        try:
            return Path(value).expanduser()
        except RuntimeError:  # ~someone who has no home here
            raise ValueError("Input names the home folder of a user this machine does not know") from None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower() if isinstance(value, str | int) else ""
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ValueError("Input should be a valid boolean, unable to interpret input")
    if kind in ("int", "float"):
        number = _number(value, int if kind == "int" else float)
        for bound, holds, words in (
            (rule.gt, lambda b: number > b, "greater than"),
            (rule.ge, lambda b: number >= b, "greater than or equal to"),
            (rule.le, lambda b: number <= b, "less than or equal to"),
        ):
            if bound is not None and not holds(bound):
                raise ValueError(f"Input should be {words} {bound:g}")
        return number
    if kind not in ("str", "str | None") and not kind.startswith("Literal["):
        raise TypeError(f"a setting cannot be a {kind}: give it a type that config._convert reads")
    if not isinstance(value, str):
        raise ValueError("Input should be a valid string")
    choices = re.findall(r"""['"]([^'"]*)['"]""", kind) if kind.startswith("Literal[") else []  # Literal['a', 'b']
    if choices and value not in choices:
        quoted = [repr(choice) for choice in choices]
        raise ValueError(f"Input should be {', '.join(quoted[:-1])} or {quoted[-1]}")
    return value


def _default_data_dir() -> Path:
    import platformdirs  # only when PIXELETICA_DATA_DIR is not set

    return Path(platformdirs.user_data_dir("pixeletica"))


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Pixeletica's settings. Every field can be set as ``PIXELETICA_<NAME>`` in the environment (or, where
    its rule names others, as those: the seed's ``TASK_*`` names first)."""

    data_dir: Path = setting(
        factory=_default_data_dir,
        description="where tasks, uploads and results are kept",
    )
    max_input_pixels: int = setting(
        defaults.DEFAULT_MAX_INPUT_PIXELS, gt=0, description="largest input image, in pixels"
    )
    max_size: int = setting(defaults.DEFAULT_MAX_SIZE, gt=0, description="largest block-grid width or height")
    max_input_file_size: int = setting(
        512 * 1024 * 1024, gt=0, description="largest image file the command line reads, in bytes"
    )
    log_format: Literal["text", "json"] = setting(
        "text",
        description="how processes log: 'text' (key=value lines) or 'json' (one object per line)",
    )

    # --- the task system -----------------------------------------------------------------
    database_url: str | None = setting(
        None, description="SQLAlchemy URL of the task store (default: SQLite in the data directory)"
    )
    broker_url: str | None = setting(
        None,
        env=("PIXELETICA_BROKER_URL", "REDIS_URL"),
        description="Celery broker (redis://… or amqp://…); set, tasks run on Celery workers instead of local ones",
    )
    redispatch_seconds: float = setting(
        60.0,
        gt=0,
        description="a task still queued this long after its message was sent is sent again (the broker lost it?)",
    )
    lease_seconds: float = setting(
        15.0,
        gt=0,
        le=3600,
        description="how long a claimed task is a worker's without a heartbeat (a dead worker's task waits this long)",
    )
    heartbeat_seconds: float = setting(5.0, gt=0, description="how often a worker renews its lease")
    max_attempts: int = setting(3, ge=1, description="claims of a task before it fails for good")
    retry_base_seconds: float = setting(2.0, ge=0, description="first retry delay; doubles per attempt")
    retry_max_seconds: float = setting(300.0, ge=0, description="longest retry delay")
    worker_poll_seconds: float = setting(0.5, gt=0, description="how often an idle worker looks for work")
    shutdown_grace_seconds: float = setting(
        30.0, ge=0, description="how long a stopping worker may finish its task before handing it back"
    )
    lease_sweep_seconds: float = setting(
        3.0, gt=0, description="how often the monitor looks for tasks whose worker is gone"
    )
    preload_kernels: bool = setting(
        False,
        description="workers load every compiled kernel before taking a task, so that the first task is as fast as "
        "the next (seconds at start; on a machine that has not compiled them yet, about a minute); the container "
        "image, which compiles them when it is built, turns it on",
    )
    task_monitor_interval: float = setting(
        900.0,
        gt=0,
        env=("TASK_MONITOR_INTERVAL", "PIXELETICA_TASK_MONITOR_INTERVAL"),
        description="seconds between the monitor's stuck-task and retention sweeps",
    )
    task_max_processing_time: float = setting(
        3600.0,
        gt=0,
        env=("TASK_MAX_PROCESSING_TIME", "PIXELETICA_TASK_MAX_PROCESSING_TIME"),
        description="seconds a task may be processing before the monitor fails it",
    )
    task_retention_days: float = setting(
        7.0,
        ge=0,
        env=("TASK_RETENTION_DAYS", "PIXELETICA_TASK_RETENTION_DAYS"),
        description="completed tasks older than this are deleted with their files",
    )
    task_failed_retention_days: float = setting(
        30.0,
        ge=0,
        env=("TASK_FAILED_RETENTION_DAYS", "PIXELETICA_TASK_FAILED_RETENTION_DAYS"),
        description="failed tasks older than this are deleted with their files",
    )

    # --- the HTTP service ------------------------------------------------------------------
    store_timeout: float = setting(
        2.0,
        gt=0,
        description="seconds the API waits for the task store (connecting, or answering any request) before it "
        "answers 503",
    )
    admin_token: str | None = setting(
        None, description="bearer token for admin endpoints (default: created in the data directory)"
    )
    task_access: Literal["auto", "owner", "open"] = setting(
        "auto",
        description="who may list, see and delete tasks: 'owner' (their owner, operators, public maps), 'open' "
        "(anyone), 'auto' (open for direct requests to a server on loopback only, owner otherwise)",
    )
    public_gallery: bool = setting(
        False,
        description="new tasks' maps are public (listed in /api/maps.json for everyone) unless the metadata says "
        '"public": false',
    )
    forwarded_allow_ips: str = setting(
        "",
        description="addresses of reverse proxies whose X-Forwarded-For/-Proto headers are believed (comma-separated, "
        "'*' for any); none by default, so a client cannot pick its own address for the rate limits",
    )
    signin_rate_limit: str = setting(
        "10/minute", description="dashboard sign-in attempts allowed per client address ('off' for none)"
    )
    session_hours: float = setting(12.0, gt=0, le=24 * 30, description="how long a dashboard sign-in lasts")
    max_upload_size: int = setting(
        10 * 1024 * 1024,
        gt=0,
        env=("MAX_UPLOAD_SIZE", "PIXELETICA_MAX_UPLOAD_SIZE"),
        description="largest accepted upload in bytes",
    )
    header_timeout: float = setting(
        10.0,
        gt=0,
        description="seconds a client has to send a request's line and headers, counted from the connection "
        "opening or from the end of the previous response; else 408 and the connection is closed. Also the "
        "grace period of a request body",
    )
    body_min_rate: int = setting(
        8 * 1024,
        gt=0,
        description="bytes a second a request body must arrive at on average after its grace period (the header "
        "timeout), never pausing for longer than that; a slower body is answered 408 and the connection closed",
    )
    cors_origins: str = setting(
        "",
        env=("CORS_ORIGINS", "PIXELETICA_CORS_ORIGINS"),
        description="comma-separated origins allowed to call the API from a browser ('*' for any)",
    )
    rate_limit: str = setting(
        "5/minute",
        env=("RATE_LIMIT", "PIXELETICA_RATE_LIMIT"),
        description="starts and previews allowed per client address, like 5/minute ('off' for none)",
    )
    preview_rate_limit: str = setting(
        "60/minute",
        env=("PREVIEW_RATE_LIMIT", "PIXELETICA_PREVIEW_RATE_LIMIT"),
        description="previews allowed per client address (the conversion page previews as options change)",
    )
    event_streams_per_client: int = setting(
        8, gt=0, description="progress streams (Server-Sent Events) one client address may hold open"
    )
    event_streams: int = setting(256, gt=0, description="progress streams open at once, for everyone")
    preview_timeout: float = setting(3.0, gt=0, description="seconds a preview may take")
    preview_max_pixels: int = setting(512 * 512, gt=0, description="largest preview, in blocks")
    preview_memory: int = setting(
        256 * 1024 * 1024,
        gt=0,
        description="bytes all previews being made at once may hold together (decoding and converting)",
    )
    preview_concurrency: int = setting(
        factory=lambda: os.cpu_count() or 1, gt=0, description="previews made at the same time"
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

    def __post_init__(self) -> None:
        given = dict(self.items())  # as given, for messages
        for field in dataclasses.fields(self):
            value = given[field.name]
            try:
                converted = _convert(str(field.type), field.metadata["rule"], value)
            except ValueError as why:
                raise InvalidSetting(field.name, value, str(why)) from None
            object.__setattr__(self, field.name, converted)
        if self.heartbeat_seconds >= self.lease_seconds:
            raise InvalidSetting(
                "heartbeat_seconds",
                given["heartbeat_seconds"],
                "a heartbeat must come more often than the lease runs out "
                f"(PIXELETICA_LEASE_SECONDS={self.lease_seconds:g}), or every task's lease expires while its "
                "worker is alive",
            )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Self:
        """The settings that ``environ`` (by default the process's environment) gives; names are case-insensitive,
        and of a setting's variables the first one set counts. A bad value names the variable it came from."""
        given = {key.upper(): value for key, value in (os.environ if environ is None else environ).items()}
        values: dict[str, str] = {}
        source: dict[str, str] = {}
        for field in dataclasses.fields(cls):
            found = next((name for name in cls.variables(field.name) if name in given), None)
            if found is not None:
                values[field.name], source[field.name] = given[found], found
        try:
            return cls(**values)  # type: ignore[arg-type]  # text, converted by __post_init__
        except InvalidSetting as bad:
            raise InvalidSetting(bad.name, bad.value, bad.why, source.get(bad.name)) from None

    @classmethod
    def from_json(cls, text: str) -> Self:
        """The settings :meth:`to_json` wrote (for worker processes)."""
        return cls(**json.loads(text))

    def to_json(self) -> str:
        return json.dumps({name: str(value) if isinstance(value, Path) else value for name, value in self.items()})

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` (checked like any other settings)."""
        return dataclasses.replace(self, **changes)

    def items(self) -> list[tuple[str, Any]]:
        """(name, value) of every setting, in the order they are declared."""
        return [(field.name, getattr(self, field.name)) for field in dataclasses.fields(self)]

    @classmethod
    def rule(cls, name: str) -> Rule:
        """What setting ``name`` accepts and its description."""
        rule: Rule = next(f.metadata["rule"] for f in dataclasses.fields(cls) if f.name == name)
        return rule

    @classmethod
    def default(cls, name: str) -> Any:
        """Setting ``name``'s default value."""
        field = next(f for f in dataclasses.fields(cls) if f.name == name)
        return field.default_factory() if field.default is dataclasses.MISSING else field.default  # type: ignore[operator]

    @classmethod
    def variables(cls, name: str) -> tuple[str, ...]:
        """The environment variables of a setting, the documented one (the seed's own name where it has one)
        first."""
        return cls.rule(name).env or (f"PIXELETICA_{name.upper()}",)

    @classmethod
    def variable(cls, name: str) -> str:
        """The environment variable of a setting (the seed's own name where it has one)."""
        return cls.variables(name)[0]

    def as_environment(self) -> dict[str, str]:
        """These settings as the environment variables that give them to another process (unset ones left out)."""
        return {self.variable(name): str(value) for name, value in self.items() if value is not None}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; a bad value is reported naming the variable and the value."""
    return Settings.from_environment()


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
