"""Every process logs one line per record: key=value by default, JSON with PIXELETICA_LOG_FORMAT=json."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys

import pytest

from pixeletica import logs

_LOG = """
import logging
from pixeletica import logs
logs.setup()
log = logging.getLogger("pixeletica.worker")
log.info("task_id=%s status=%s", "t1", "completed", extra={"attempt": 2, "path": "a b"})
logging.getLogger("alembic.runtime").info("left out: alembic logs warnings only")
try:
    {}["missing"]
except KeyError:
    log.exception('sweep="lost" failed')
"""


def _log_lines(log_format: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXELETICA_", "TASK_"))}
    if log_format is not None:
        env["PIXELETICA_LOG_FORMAT"] = log_format
    done = subprocess.run([sys.executable, "-c", _LOG], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stderr.splitlines()


def test_key_value_lines_by_default():
    info, failure = _log_lines(None)
    assert re.fullmatch(
        r"ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=info logger=pixeletica\.worker "
        r'msg="task_id=t1 status=completed" attempt=2 path="a b"',
        info,
    ), info
    assert ' level=error logger=pixeletica.worker msg="sweep=\\"lost\\" failed" exc="' in failure
    assert "Traceback (most recent call last):\\n" in failure and "KeyError: 'missing'" in failure


def test_json_lines_with_the_same_fields():
    info, failure = (json.loads(line) for line in _log_lines("json"))
    assert list(info) == ["ts", "level", "logger", "msg", "attempt", "path"]
    assert info["msg"] == "task_id=t1 status=completed" and info["attempt"] == 2 and info["level"] == "info"
    assert failure["msg"] == 'sweep="lost" failed' and failure["exc"].startswith("Traceback (most recent call last):")
    assert failure["exc"].rstrip().endswith("KeyError: 'missing'")


@pytest.mark.parametrize("log_format", [None, "json"])
def test_control_characters_never_break_a_line(log_format):
    record = logging.LogRecord("pixeletica.api", logging.WARNING, __file__, 1, "name %r\n\x1b[31m", ("x\ny",), None)
    formatter = logs.FORMATTERS[log_format or "text"]()
    line = formatter.format(record)
    assert "\n" not in line and "\x1b" not in line
    shown = json.loads(line)["msg"] if log_format else json.loads(line.split(" msg=", 1)[1])
    assert shown == "name 'x\\ny'\n\x1b[31m"


def test_a_monitor_with_json_logs_writes_nothing_but_json_lines(tmp_path):
    """Its start-up message too: every line of its stderr is one JSON object."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXELETICA_", "TASK_"))}
    env.update(PIXELETICA_DATA_DIR=str(tmp_path / "data"), PIXELETICA_LOG_FORMAT="json")
    monitor = subprocess.Popen(
        [sys.executable, "-m", "pixeletica", "monitor"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert monitor.stderr is not None
        first = json.loads(monitor.stderr.readline())  # the start-up message
        assert first["msg"].startswith("pixeletica monitor: lease sweep every"), first
    finally:
        monitor.send_signal(signal.SIGTERM)
        _, rest = monitor.communicate(timeout=60)
    records = [json.loads(line) for line in rest.splitlines()]  # each line parses
    assert all({"ts", "level", "logger", "msg"} <= set(r) for r in records), records


def test_a_warning_is_a_record_in_the_same_format():
    code = "import warnings; from pixeletica import logs; logs.setup(); warnings.warn('careful')"
    env = {**os.environ, "PIXELETICA_LOG_FORMAT": "json", "PYTHONWARNINGS": "always"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    (line,) = done.stderr.splitlines()
    assert "careful" in json.loads(line)["msg"]


@pytest.mark.parametrize("command", [["monitor", "--once"], ["worker"], ["serve", "--port", "0"]])
def test_an_unknown_log_format_is_one_line_and_exit_2(tmp_path, command):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXELETICA_", "TASK_"))}
    env.update(PIXELETICA_DATA_DIR=str(tmp_path / "data"), PIXELETICA_LOG_FORMAT="xml")
    done = subprocess.run(
        [sys.executable, "-m", "pixeletica", *command], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: PIXELETICA_LOG_FORMAT='xml' is not valid: Input should be 'text' or 'json'"
    ]
