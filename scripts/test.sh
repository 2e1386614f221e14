#!/usr/bin/env bash
# Install what the tests need, then run the linters and the whole test suite.
# Extra arguments go to pytest: scripts/test.sh -k palette
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh test
# The viewer test drives Debian's Chromium headless.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
