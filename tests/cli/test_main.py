"""The top-level command lists every subcommand from ``cli/main.py`` without importing it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pixeletica.cli import main


@pytest.mark.parametrize("name", list(main.COMMANDS))
def test_the_listed_help_line_is_the_command_s_own(name):
    """The help line written in COMMANDS (for the top-level --help) is the command's first help line."""
    own = (main.load(name).help or "").strip().splitlines()[0]
    assert main.COMMANDS[name][1] == own


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
    assert "LOADED ['pixeletica.cli.main']" in done.stdout, done.stdout
    for name in main.COMMANDS:
        assert name in done.stdout
