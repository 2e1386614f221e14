#!/usr/bin/env bash
# Install what the tests need, then run the linters and the whole test suite.
# Extra arguments go to pytest: scripts/test.sh -k palette
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh test
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
