"""Settings come from the environment, with the seed's names for the monitor."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pixeletica.config import InvalidSetting, Settings, safe_url

_SHOW = (
    "from pixeletica.config import get_settings as g; s = g(); "
    "print(s.task_monitor_interval, s.task_max_processing_time, s.store_url, s.lease_seconds)"
)


def run_with(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PIXELETICA_", "TASK_"))}
    return subprocess.run([sys.executable, "-c", _SHOW], env={**clean, **env}, capture_output=True, text=True)


def test_defaults_and_the_seeds_variable_names(tmp_path):
    out = run_with({"PIXELETICA_DATA_DIR": str(tmp_path)}).stdout.split()
    assert out == ["900.0", "3600.0", f"sqlite:///{tmp_path}/pixeletica.db", "15.0"]
    out = run_with(
        {
            "TASK_MONITOR_INTERVAL": "60",
            "TASK_MAX_PROCESSING_TIME": "120",
            "PIXELETICA_DATABASE_URL": f"sqlite:///{tmp_path}/other.db",
            "PIXELETICA_LEASE_SECONDS": "7.5",
        }
    ).stdout.split()
    assert out == ["60.0", "120.0", f"sqlite:///{tmp_path}/other.db", "7.5"]


def test_a_bad_value_names_the_variable():
    result = run_with({"TASK_MAX_PROCESSING_TIME": "an hour"})
    assert result.returncode != 0
    assert "TASK_MAX_PROCESSING_TIME='an hour' is not valid" in result.stderr


def test_leases_and_heartbeats_that_contradict_each_other_are_refused():
    """A heartbeat no more often than the lease would let every lease run out under a live worker; a lease
    of years would keep a dead worker's task for ever."""
    slow = run_with({"PIXELETICA_HEARTBEAT_SECONDS": "100", "PIXELETICA_LEASE_SECONDS": "2"})
    assert slow.returncode != 0
    assert "PIXELETICA_HEARTBEAT_SECONDS='100' is not valid: a heartbeat must come more often" in slow.stderr
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PIXELETICA_", "TASK_"))}
    env = {**clean, "PIXELETICA_HEARTBEAT_SECONDS": "100", "PIXELETICA_LEASE_SECONDS": "2"}
    told = subprocess.run([sys.executable, "-m", "pixeletica", "task", "list"], env=env, capture_output=True, text=True)
    assert told.returncode == 2 and told.stderr.count("\n") == 1, told.stderr  # one line, no "Value error, "
    assert told.stderr.startswith("error: PIXELETICA_HEARTBEAT_SECONDS='100' is not valid: a heartbeat must")
    endless = run_with({"PIXELETICA_LEASE_SECONDS": "1e12"})
    assert endless.returncode != 0 and "PIXELETICA_LEASE_SECONDS='1e12' is not valid" in endless.stderr


def test_settings_round_trip_for_worker_processes(tmp_path):
    settings = Settings(data_dir=tmp_path, task_monitor_interval=5, lease_seconds=2, heartbeat_seconds=0.5)
    again = Settings.from_json(settings.to_json())
    assert again == settings


def test_a_password_is_hidden_whole_even_when_it_was_not_percent_encoded():
    hidden = safe_url("postgresql+psycopg://pixeletica:p@ss:w/rd@postgres:5432/pixeletica")
    assert hidden == "postgresql+psycopg://pixeletica:***@postgres:5432/pixeletica"
    assert safe_url("redis://:secret@redis:6379/0") == "redis://:***@redis:6379/0"
    assert safe_url("redis://redis:6379/0") == "redis://redis:6379/0"


def test_values_from_the_environment_are_read_as_their_types_and_checked():
    read = Settings.from_environment(
        {"pixeletica_lease_seconds": "7", "PIXELETICA_PRELOAD_KERNELS": "Yes", "PIXELETICA_MAX_SIZE": " 64 ",
         "PIXELETICA_TASK_MAX_PROCESSING_TIME": "120", "PIXELETICA_DATA_DIR": "~/pixels"}
    )  # fmt: skip
    assert (read.lease_seconds, read.preload_kernels, read.max_size) == (7.0, True, 64)
    assert read.task_max_processing_time == 120.0  # the seed's TASK_MAX_PROCESSING_TIME, by its other name
    assert read.data_dir == Path("~/pixels").expanduser()
    assert Settings.from_environment({"PIXELETICA_PRELOAD_KERNELS": "off"}).preload_kernels is False
    refused = {
        "PIXELETICA_PRELOAD_KERNELS": ("maybe", "Input should be a valid boolean, unable to interpret input"),
        "PIXELETICA_MAX_SIZE": ("12.5", "Input should be a valid integer, unable to parse string as an integer"),
        "PIXELETICA_LEASE_SECONDS": ("0", "Input should be greater than 0"),
        "PIXELETICA_STORE_TIMEOUT": ("inf", "Input should be a finite number"),
        "PIXELETICA_TASK_ACCESS": ("everyone", "Input should be 'auto', 'owner' or 'open'"),
        "PIXELETICA_TASK_MAX_PROCESSING_TIME": ("-1", "Input should be greater than 0"),
        "TASK_MAX_PROCESSING_TIME": ("６０", "Input should be a valid number, unable to parse string as a number"),
        "PIXELETICA_MAX_ATTEMPTS": ("1_000", "Input should be a valid integer, unable to parse string as an integer"),
        "PIXELETICA_DATA_DIR": ("", "Input should be a folder's path"),
        "pixeletica_data_dir": (
            "~no-such-user-here/x",
            "Input names the home folder of a user this machine does not know",
        ),
    }
    for variable, (value, why) in refused.items():
        with pytest.raises(InvalidSetting) as caught:
            Settings.from_environment({variable: value})
        assert str(caught.value) == f"{variable.upper()}={value!r} is not valid: {why}"  # the variable as it was set


def test_settings_made_in_code_are_checked_as_the_environments_are(tmp_path):
    with pytest.raises(InvalidSetting, match=r"^PIXELETICA_MAX_ATTEMPTS=0 is not valid: Input should be greater"):
        Settings(data_dir=tmp_path, max_attempts=0)
    with pytest.raises(InvalidSetting, match=r"^PIXELETICA_LOG_FORMAT=None is not valid"):
        Settings(data_dir=tmp_path, log_format=None)  # type: ignore[arg-type]
    made = Settings(data_dir=str(tmp_path), max_size=64.0)  # type: ignore[arg-type]
    assert made.data_dir == tmp_path and made.max_size == 64 and isinstance(made.max_size, int)
    assert made.replace(max_size=32).max_size == 32 and made.max_size == 64
    with pytest.raises(InvalidSetting):
        made.replace(heartbeat_seconds=60.0)  # no more often than the lease
    assert Settings.default("max_attempts") == 3 and Settings.variables("task_monitor_interval")[0] == (
        "TASK_MONITOR_INTERVAL"
    )
