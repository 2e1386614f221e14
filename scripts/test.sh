#!/usr/bin/env bash
# Install what the tests need, then run the linters and the whole test suite.
# Extra arguments go to pytest: scripts/test.sh -k palette
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh test
# The tests start real servers: Debian's Chromium (browser tests), redis-server and RabbitMQ
# (Celery brokers), PostgreSQL (initdb/pg_ctl for throwaway clusters). Install what is missing.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-server ] || missing+=(rabbitmq-server)
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
# docs/operations.md's commands are run by a test
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# workers whose clocks disagree (tests/tasks/test_holes.py)
command -v faketime >/dev/null 2>&1 || missing+=(faketime)
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian starts the services it installs; the tests run their own on free ports.
    for service in redis-server rabbitmq-server postgresql; do
        service "$service" stop >/dev/null 2>&1 || true
    done
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
