"""The task tool as the original documentation runs it: ``python src/pixeletica/cli_task.py list``.

The same commands as ``pixeletica task ...``; works from a checkout whether or not Pixeletica is
installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable, and not this folder's modules
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.path.insert(0, str(here.parent))


def _lacking(missing: ModuleNotFoundError) -> SystemExit:
    """Run by an interpreter without Pixeletica's dependencies: one line, exit code 2."""
    if (missing.name or "").startswith("pixeletica"):
        raise missing  # a broken checkout, not a missing dependency
    sys.stderr.write(
        f"error: {sys.executable} lacks Pixeletica's dependencies (no module {missing.name!r}); run this tool "
        "with the project's interpreter: ./scripts/install.sh all, then .venv/bin/python "
        "src/pixeletica/cli_task.py ... (or .venv/bin/pixeletica task ...)\n"
    )
    return SystemExit(2)


def _full() -> None:
    from pixeletica.cli import main as cli_main
    from pixeletica.cli.task import app

    cli_main.run(app, prog_name="cli_task.py")


def main() -> None:
    try:
        from pixeletica.cli import quick

        quick.run(["task", *sys.argv[1:]], _full)  # list, info and find-stuck are answered at once
    except ModuleNotFoundError as missing:  # (the full command line reports a missing extra itself)
        raise _lacking(missing) from None


if __name__ == "__main__":
    main()
