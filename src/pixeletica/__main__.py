"""``python -m pixeletica``."""

from pixeletica.cli.quick import run

run()
