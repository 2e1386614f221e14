"""Careless and hostile command lines: one `error:` line and exit code 2, never a traceback, a runaway
read, a half-made folder or a terminal taken over by escape sequences."""

from __future__ import annotations

import io
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from ..tasks.conftest import fast_settings, settings_env

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
COFFEE = ROOT / "samples" / "coffee.jpg"


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pixeletica", *args],
        capture_output=True, text=True, check=False, timeout=timeout, env=env,
    )  # fmt: skip


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_endless_inputs_are_refused_without_reading_them_all(tmp_path):
    line = one_error_line(run("convert", "/dev/zero", "--width", "8", "--out", str(tmp_path / "o"), timeout=60))
    assert "larger than" in line and "PIXELETICA_MAX_INPUT_FILE_SIZE" in line
    line = one_error_line(
        run("convert", str(COFFEE), "-w", "8", "--palette-file", "/dev/zero", "--out", str(tmp_path / "o"))
    )
    assert "palette file" in line and "larger than" in line
    assert not (tmp_path / "o").exists()


def test_a_palette_file_nested_too_deeply_is_one_line(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 50_000 + "]" * 50_000)
    for command in (["convert", str(COFFEE), "-w", "8", "--out", str(tmp_path / "o")], ["palette", "list"]):
        line = one_error_line(run(*command, "--palette-file", str(deep)))
        assert "too deeply" in line, line
    assert not (tmp_path / "o").exists()


def test_bad_input_leaves_no_output_folder(tmp_path):
    out = tmp_path / "new" / "deeper" / "out"
    one_error_line(run("convert", str(tmp_path / "missing.png"), "--out", str(out)))
    one_error_line(run("convert", str(COFFEE), "--width", "8", "--dither", "nope", "--out", str(out)))
    (tmp_path / "empty.png").write_bytes(b"")
    one_error_line(run("convert", str(tmp_path / "empty.png"), "--out", str(out)))
    assert not (tmp_path / "new").exists()
    ok = run("convert", str(COFFEE), "--width", "8", "--out", str(out))
    assert ok.returncode == 0 and (out / "coffee_dithered.png").is_file()


def test_coordinates_beyond_the_world_are_refused_before_converting(tmp_path):
    for args in (
        ["--origin-x", "2147483648", "--schematic"],
        ["--origin-z", "-40000000"],
        ["--origin-y", "400", "--schematic"],
        ["--orientation", "wall", "--origin-y", "0", "--schematic", "--width", "200"],
    ):
        line = one_error_line(run("convert", str(COFFEE), "--width", "16", *args, "--out", str(tmp_path / "o")))
        assert ("wall 133 blocks tall" if "wall" in args else "--origin-") in line, line  # 600x400 photo
    assert not (tmp_path / "o").exists()


def test_colours_with_a_trailing_newline_are_refused(tmp_path):
    line = one_error_line(
        run(
            "convert",
            str(COFFEE),
            "-w",
            "8",
            "--lines",
            "both",
            "--chunk-line-color",
            "#FF0000\n",
            "--out",
            str(tmp_path),
        )
    )
    assert "--chunk-line-color" in line


def test_a_render_too_big_at_the_chosen_scale_is_refused_before_converting(tmp_path):
    line = one_error_line(
        run("convert", str(COFFEE), "-w", "2000", "--lines", "no_lines", "--scale", "16", "--out", str(tmp_path / "o"))
    )
    assert "render would be" in line and not (tmp_path / "o").exists()


def test_a_jpeg_with_corrupt_exif_converts_without_library_warnings(tmp_path):
    buffer = io.BytesIO()
    Image.open(COFFEE).save(buffer, format="JPEG", exif=b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x05\xff\xff")
    source = tmp_path / "bad-exif.jpg"
    source.write_bytes(buffer.getvalue())
    result = run("convert", str(source), "--width", "8", "--out", str(tmp_path / "o"))
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_task_info_shows_control_characters_as_escapes(tmp_path):
    settings = fast_settings(tmp_path / "data")
    env = settings_env(settings)
    hostile = tmp_path / "x\x1b[2Jy\x07.png"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(hostile, format="PNG")
    submitted = run("task", "submit", str(hostile), "--width", "4", env=env)
    assert submitted.returncode == 0, submitted.stderr
    task_id = submitted.stdout.strip()
    from pixeletica.tasks.store import Store

    store = Store(settings.store_url)
    with store.engine.begin() as connection:  # a message written by another program: escapes and markup
        connection.exec_driver_sql(
            "UPDATE tasks SET error = ?, step = ? WHERE id = ?", ("\x1b]0;pwned\x07 [red]x[/red]", "\x9b2J", task_id)
        )
    store.dispose()
    for command in (["task", "info", task_id], ["task", "list"]):
        shown = run(*command, env=env)
        assert shown.returncode == 0, shown.stderr
        assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout and "\x9b" not in shown.stdout
    assert "[red]" in run("task", "info", task_id, env=env).stdout  # printed, not taken as markup
    line = one_error_line(run("convert", "\x1b[2J.png", env=env))  # error lines too
    assert "\x1b" not in line and "\\x1b" in line


def test_the_task_tool_without_its_dependencies_says_how_to_run_it():
    python = shutil.which("python3") or sys.executable
    result = subprocess.run(
        [python, "-S", "src/pixeletica/cli_task.py", "list"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    line = one_error_line(result)
    assert ".venv/bin/python src/pixeletica/cli_task.py" in line and "pixeletica task" in line


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PIXELETICA_DATABASE_URL", "not a database url", "not one Pixeletica can use"),
        ("PIXELETICA_DATABASE_URL", "postgresql+psycopg://u:secret@127.0.0.1:1/x", "cannot use the task database"),
        ("PIXELETICA_ADMIN_TOKEN", "   ", "PIXELETICA_ADMIN_TOKEN is empty"),
        ("PIXELETICA_DATABASE_URL", "sqlite://", "in memory"),
        ("PIXELETICA_DATABASE_URL", "mysql://u:secret@127.0.0.1/x", "needs the Python module"),
        ("PIXELETICA_HEADER_TIMEOUT", "inf", "PIXELETICA_HEADER_TIMEOUT='inf' is not valid"),
        ("PIXELETICA_WORKER_POLL_SECONDS", "nan", "PIXELETICA_WORKER_POLL_SECONDS='nan' is not valid"),
    ],
    ids=["malformed-url", "unreachable", "blank-token", "in-memory", "no-driver", "infinite", "nan"],
)
def test_serve_refuses_bad_settings_in_one_line(tmp_path, variable, value, expected):
    env = {**settings_env(fast_settings(tmp_path / "data")), variable: value}
    line = one_error_line(run("serve", "--port", "0", "--workers", "0", env=env, timeout=60))
    assert expected in line and "secret" not in line


def test_serve_refuses_an_unusable_data_folder_and_an_empty_token_file(tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, not a folder")
    env = settings_env(fast_settings(blocked / "data"))
    line = one_error_line(run("serve", "--port", "0", "--workers", "0", env=env, timeout=60))
    assert "the data directory" in line and "PIXELETICA_DATA_DIR" in line, line
    data = tmp_path / "data"
    (data / "tasks").mkdir(parents=True)
    (data / "admin-token").write_text("\n")
    env = {k: v for k, v in settings_env(fast_settings(data)).items() if k != "PIXELETICA_ADMIN_TOKEN"}
    line = one_error_line(run("serve", "--port", "0", "--workers", "0", env=env, timeout=60))
    assert "admin token file" in line and "empty" in line


def test_serve_on_an_address_it_cannot_have_says_so_before_starting_anything(tmp_path):
    env = settings_env(fast_settings(tmp_path / "data"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = run("serve", "--port", str(port), "--workers", "2", env=env, timeout=60)
    assert one_error_line(busy) == f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert busy.stdout == ""  # no banner: no worker, monitor or server was started
    line = one_error_line(run("serve", "--host", "192.0.2.1", "--port", "0", env=env, timeout=60))
    assert line == "error: cannot listen on 192.0.2.1:0: Cannot assign requested address"  # not this machine's


def test_settings_with_a_bad_value_name_the_variable(tmp_path):
    env = {**settings_env(fast_settings(tmp_path / "data")), "PIXELETICA_TASK_ACCESS": "everyone"}
    line = one_error_line(run("serve", "--port", "0", "--workers", "0", env=env, timeout=60))
    assert "PIXELETICA_TASK_ACCESS" in line


def _convert_writing_many_files(out: Path, *launcher: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*launcher, sys.executable, "-m", "pixeletica", "convert", str(COFFEE), "-w", "600", "--lines", "both",
         "--schematic", "--out", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_until_it_catches(process: subprocess.Popen[str], number: int) -> None:
    """Until the process has a handler of its own for signal ``number`` (Linux: SigCgt in /proc)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        status = Path(f"/proc/{process.pid}/status").read_text()
        caught = int(next(line for line in status.splitlines() if line.startswith("SigCgt:")).split()[1], 16)
        if caught >> (number - 1) & 1:
            return
        time.sleep(0.005)
    raise AssertionError(f"the process never caught signal {number}")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP])
def test_a_convert_stopped_by_kill_or_a_closed_terminal_leaves_nothing(tmp_path, stop):
    # Signalled as soon as it converts (its handler is in place): it must unwind, whatever it had made.
    process = _convert_writing_many_files(tmp_path / "made" / "here")
    _wait_until_it_catches(process, stop)
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + stop, stderr
    assert stderr.strip().splitlines()[-1] == f"stopped by {stop.name}; no output was written"
    assert list(tmp_path.iterdir()) == []


def test_a_convert_stopped_while_writing_leaves_all_its_files_or_none(tmp_path):
    whole = _convert_writing_many_files(tmp_path / "whole")
    whole.communicate(timeout=120)
    assert whole.returncode == 0
    out = tmp_path / "made" / "here"
    process = _convert_writing_many_files(out)
    while not (tmp_path / "made").exists() and process.poll() is None:
        time.sleep(0.001)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    if (tmp_path / "made").exists():  # the signal came after the last file (stopped or killed after writing)
        assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in (tmp_path / "whole").iterdir())
    else:
        assert process.returncode == 128 + signal.SIGTERM


def test_a_convert_started_with_nohup_ignores_a_closed_terminal(tmp_path):
    out = tmp_path / "made"
    process = _convert_writing_many_files(out, "nohup")
    _wait_until_it_catches(process, signal.SIGTERM)  # converting: SIGHUP stays ignored, as nohup set it
    process.send_signal(signal.SIGHUP)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert (out / "coffee_materials.txt").is_file()
