"""``python -m pixeletica``."""

from pixeletica.cli.main import run

run()
