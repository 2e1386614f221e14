#!/usr/bin/env bash
# Install Pixeletica into ./.venv (created with Python >= 3.11), with optional extras (pyproject.toml).
#   scripts/install.sh          # the engine and `pixeletica convert`/`palette`
#   scripts/install.sh all      # everything: also the server (API, task store, web), Celery and PostgreSQL
#   scripts/install.sh test     # everything and what the tests need
# Re-running is quick: pip is only called again when pyproject.toml or the extras changed.
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${1:-}"

find_python() {
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

if [ ! -x .venv/bin/python ]; then
    python=$(find_python) || { echo "error: Pixeletica needs Python 3.11 or newer (set PYTHON=...)" >&2; exit 2; }
    if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        # Debian ships venv/ensurepip separately.
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python${version}-venv" >/dev/null ||
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        else
            echo "error: $python cannot create virtual environments; install python3-venv" >&2
            exit 2
        fi
    fi
    "$python" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
fi

spec="."
[ -n "$extras" ] && spec=".[${extras}]"
stamp=".venv/.pixeletica-install"
want="$(sha256sum pyproject.toml | cut -d' ' -f1) ${extras}"
if [ ! -f "$stamp" ] || ! grep -qxF -- "$want" "$stamp"; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
    echo "$want" >>"$stamp"
fi
# Installed in place (-e): compile its modules now, as pip does for an installed package, so that no command
# compiles them from source at each start (where PYTHONDONTWRITEBYTECODE is set, Python never keeps them).
.venv/bin/python -m compileall -q src/pixeletica >/dev/null
