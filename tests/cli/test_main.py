"""The top-level command lists every subcommand from ``cli/main.py`` without importing it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pixeletica.cli import commands, main


@pytest.mark.parametrize("name", list(commands.COMMANDS))
def test_the_listed_help_line_is_the_command_s_own(name):
    """The help line written in COMMANDS (for the top-level --help) is the command's first help line."""
    own = (main.load(name).help or "").strip().splitlines()[0]
    assert commands.COMMANDS[name][1] == own


def test_top_level_help_imports_no_command_module():
    code = (
        "import sys\n"
        "from pixeletica.cli.main import app\n"
        "try:\n"
        "    app(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('pixeletica.cli.', 'pixeletica.engine', 'sqlalchemy')\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(heavy))\n"
        "print('LOADED', loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "LOADED ['pixeletica.cli.commands', 'pixeletica.cli.main', 'pixeletica.cli.quick']" in done.stdout, (
        done.stdout
    )  # the help is quick's
    for name in commands.COMMANDS:
        assert name in done.stdout


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["convert", "--bogus"], "error: No such option: --bogus"),
        (["convert", "photo.png", "--width", "abc"], "error: Invalid value for '--width' / '-w'"),
        (["task", "list", "--limit", "many"], "error: Invalid value for '--limit'"),
        (["bogus"], "error: No such command 'bogus'."),
        (["serve", "--workers", "100000"], "error: Invalid value for '--workers' / '-w': Input should be less than"),
        (["worker", "--concurrency", "65"], "error: Invalid value for '--concurrency' / '-c': Input should be less"),
    ],
)
def test_a_command_line_that_does_not_parse_is_one_line_and_exit_2(arguments, said):
    done = subprocess.run([sys.executable, "-m", "pixeletica", *arguments], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith(said) and done.stderr.count("\n") == 1, done.stderr
    assert "--help'" in done.stderr  # where to read what it takes


def test_no_arguments_show_the_help_and_version_exits_0():
    bare = subprocess.run([sys.executable, "-m", "pixeletica"], capture_output=True, text=True, timeout=60)
    assert "Usage:" in bare.stdout + bare.stderr and "convert" in bare.stdout + bare.stderr
    version = subprocess.run([sys.executable, "-m", "pixeletica", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("pixeletica ")


def test_the_seeds_task_tool_says_a_bad_command_line_in_one_line_too():
    done = subprocess.run(
        [sys.executable, "src/pixeletica/cli_task.py", "list", "--bogus"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and done.stderr == "error: No such option: --bogus (see 'cli_task.py list --help')\n"


def test_output_that_cannot_be_written_is_one_line_and_output_that_is_closed_is_no_error():
    with open("/dev/full", "w") as full:  # every write: "No space left on device"
        done = subprocess.run(
            [sys.executable, "-m", "pixeletica", "palette", "list", "--format", "csv"],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 1 and done.stderr == "error: cannot write the output: No space left on device\n"
    closed = subprocess.run(  # standard output closed: `pixeletica palette list >&-`
        ["sh", "-c", 'exec "$0" "$@" >&-', sys.executable, "-m", "pixeletica", "palette", "list"],
        stderr=subprocess.PIPE, text=True, timeout=60,
    )  # fmt: skip
    assert closed.returncode == 0 and closed.stderr == ""
