"""How every Pixeletica process logs: one line per record on stderr, ``key=value`` or JSON.

``key=value`` (the default, ``PIXELETICA_LOG_FORMAT=text``)::

    ts=2026-12-03T14:53:31.123Z level=info logger=pixeletica.tasks msg="completed" task_id=3f1c… attempt=1

JSON (``PIXELETICA_LOG_FORMAT=json``), one object per line with the same keys::

    {"ts": "2026-12-03T14:53:31.123Z", "level": "info", "logger": "pixeletica.tasks", "msg": "completed", ...}

Fields given with ``extra={...}`` follow ``msg``; a record's traceback is the ``exc`` field, its stack ``stack``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pixeletica.config import Settings

#: Attributes every LogRecord has; anything else on a record came from ``extra=``. (uvicorn adds
#: ``color_message``: its message again, with terminal colours.)
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
}
#: A value written bare in a key=value line; anything else is quoted.
_BARE = re.compile(r"[^\s\"=\\\x00-\x1f\x7f]+")
#: Libraries whose INFO records are noise in a process's log.
_QUIET = ("alembic",)


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """A record as ordered fields: ts, level, logger, msg, its ``extra`` fields, and exc (a traceback)."""
    seconds = time.gmtime(record.created)
    found: dict[str, Any] = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S", seconds) + f".{int(record.msecs):03d}Z",
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": record.getMessage(),
    }
    found.update((key, value) for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES)
    if record.exc_info:
        found["exc"] = logging.Formatter().formatException(record.exc_info)
    elif record.exc_text:
        found["exc"] = record.exc_text
    if record.stack_info:
        found["stack"] = record.stack_info
    return found


def _value(value: Any, *, quote: bool = False) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if not quote and _BARE.fullmatch(text):
        return text
    return json.dumps(text, ensure_ascii=False)


class KeyValueFormatter(logging.Formatter):
    """A record as one ``key=value`` line: ``msg`` always quoted, other values when they need it (as JSON strings)."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{key}={_value(value, quote=key == 'msg')}" for key, value in fields(record).items())


class JsonFormatter(logging.Formatter):
    """A record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(fields(record), default=str, ensure_ascii=False)


FORMATTERS: dict[str, type[logging.Formatter]] = {"text": KeyValueFormatter, "json": JsonFormatter}


def setup(settings: Settings | None = None, *, level: int = logging.INFO) -> None:
    """Log every record of ``level`` and above to stderr in the settings' ``log_format``.

    Like :func:`logging.basicConfig`, it leaves a process whose root logger already has a handler as it is.
    """
    if settings is None:
        from pixeletica import config

        settings = config.get_settings()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(FORMATTERS[settings.log_format]())
    logging.basicConfig(level=level, handlers=[handler])
    logging.captureWarnings(True)  # a library's warning is a record too, in the same format
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def announce(text: str, settings: Settings) -> None:
    """Tell whoever started the process ``text``: as it is on stderr, or one JSON record a line with ``json`` logs."""
    if settings.log_format == "json":
        for line in text.splitlines():
            logging.getLogger("pixeletica").info(line.strip())
    else:
        print(text, file=sys.stderr, flush=True)
