#!/usr/bin/env bash
# A long run of the task system's model-based test (tests/tasks/test_model_based.py) on SQLite and
# PostgreSQL: many more random sequences than CI tries. scripts/model_check.sh [examples, default 3000]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh test
PIXELETICA_MODEL_EXAMPLES="${1:-3000}" exec .venv/bin/python -m pytest -q tests/tasks/test_model_based.py
