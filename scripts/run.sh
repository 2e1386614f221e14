#!/usr/bin/env bash
# Install Pixeletica (first time only) and run it: scripts/run.sh convert photo.jpg --width 128
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/install.sh" all
exec "$here/.venv/bin/pixeletica" "$@"
